"""secondop.timezones: times in the reader's zone, labelled."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from secondop.timezones import format_local, iana_zones, is_known_zone, zone
from tests.accounts.factories import UserFactory

# 23:30 in New York on Monday 7 December 2026 is already 8 December in UTC.
EVENING_ET = datetime.datetime(2026, 12, 7, 23, 30, tzinfo=ZoneInfo("America/New_York"))


def test_it_writes_the_local_date_the_clock_and_the_zone():
    assert format_local(EVENING_ET, tz=ZoneInfo("America/New_York")) == (
        "7 December 2026, 11:30 PM EST"
    )
    assert format_local(EVENING_ET, tz=ZoneInfo("America/Los_Angeles")) == (
        "7 December 2026, 8:30 PM PST"
    )
    assert format_local(EVENING_ET, "j M Y", tz=ZoneInfo("UTC")) == "8 Dec 2026, 4:30 AM UTC"
    assert format_local(EVENING_ET, "", tz=ZoneInfo("America/Chicago")) == "10:30 PM CST"
    summer = datetime.datetime(2026, 7, 14, 12, 0, tzinfo=datetime.UTC)
    assert format_local(summer, tz=ZoneInfo("America/New_York")).endswith("8:00 AM EDT")
    # A zone whose abbreviation is only an offset is written as one.
    assert format_local(summer, tz=ZoneInfo("America/Sao_Paulo")).endswith("9:00 AM UTC-03")
    assert format_local(None) == ""


def test_it_uses_the_active_zone_by_default_as_does_the_template_filter():
    timezone.activate("America/Denver")
    try:
        assert format_local(EVENING_ET) == "7 December 2026, 9:30 PM MST"
        html = Template(
            '{{ when|local_time }} / {{ when|local_time:"j M" }} / {{ when|date:"j F" }}'
        ).render(Context({"when": EVENING_ET}))
    finally:
        timezone.deactivate()
    assert html == "7 December 2026, 9:30 PM MST / 7 Dec, 9:30 PM MST / 7 December"


def test_only_iana_place_names_are_known():
    assert is_known_zone("America/New_York") and is_known_zone("Europe/Lisbon")
    assert is_known_zone("UTC")
    for name in ("US/Eastern", "EST5EDT", "Etc/GMT+5", "Mars/Olympus_Mons", "", "america/new_york"):
        assert not is_known_zone(name), name
    assert list(iana_zones()) == [*sorted(iana_zones()[:-1]), "UTC"]
    assert zone("Mars/Olympus_Mons") == ZoneInfo("America/New_York")  # SecondOp's own


@pytest.mark.django_db
def test_the_middleware_activates_the_readers_zone(client, settings):
    seen = {}

    def view(request):
        from django.http import HttpResponse

        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse("ok")

    from secondop.timezones import TimeZoneMiddleware

    user = UserFactory(role="coordinator", time_zone="America/Los_Angeles")
    request = type("R", (), {"user": user})()
    TimeZoneMiddleware(view)(request)
    assert seen["zone"] == "America/Los_Angeles"
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE  # and let go after
    request.user = UserFactory(role="coordinator", email="nozone@example.com")
    TimeZoneMiddleware(view)(request)
    assert seen["zone"] == settings.TIME_ZONE


def test_the_template_filter_writes_the_date_in_the_readers_language():
    template = Template("{{ when|local_time }}")
    with translation.override("es"), timezone.override("America/New_York"):
        spanish = template.render(Context({"when": EVENING_ET}))
    assert spanish.startswith("7 de diciembre de 2026, 11:30"), spanish
    with translation.override("en"), timezone.override("America/New_York"):
        english = template.render(Context({"when": EVENING_ET}))
    assert english == "7 December 2026, 11:30 PM EST"
