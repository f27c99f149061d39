"""Times in the reader's zone, labelled.

Each page is rendered in its reader's time zone, activated for the request by
TimeZoneMiddleware: a staff member's own (their account's setting, first taken
from their browser), a patient's from their state of residence (the domain app
sets the account's zone when the state is given, and a request's own pages use
that request's state). Django's `date` filter and `timezone.localtime()` then
give the local date, so nothing derived from a time shows the UTC date (a day
late for an evening in America). Every time shown carries its zone's
abbreviation ("7 December 2026, 9:40 PM EST"): `format_local` here, the
`local_time` template filter in templates."""

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from secondop.us_states import STATE_TIME_ZONES

# Old aliases and POSIX-style names ("US/Eastern", "EST5EDT", "Etc/GMT+5") are
# left out: a person picks a place.
_LEGACY_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")


@cache
def iana_zones() -> tuple[str, ...]:
    """The IANA zone names a person may choose, sorted ("America/New_York", ...)."""
    places = sorted(
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(_LEGACY_PREFIXES)
    )
    return (*places, "UTC")


def is_known_zone(name: str) -> bool:
    return name in iana_zones()


def zone(name: str | None) -> ZoneInfo:
    """`name` as a zone; SecondOp's own zone (settings.TIME_ZONE) when it is empty or unknown."""
    if name and is_known_zone(name):
        try:
            return ZoneInfo(name)
        except ZoneInfoNotFoundError:  # listed by the system but unreadable: never seen
            pass
    return ZoneInfo(settings.TIME_ZONE)


def state_zone_name(state: str) -> str:
    """The IANA zone of a US state ("NY" -> "America/New_York"); "" when unknown."""
    return STATE_TIME_ZONES.get(state or "", "")


def user_zone(user) -> ZoneInfo:
    return zone(getattr(user, "time_zone", "") if user is not None else "")


def abbreviation(local: datetime) -> str:
    """ "EST", "PDT"; "UTC-03" for a zone whose abbreviation is only an offset."""
    name = local.tzname() or ""
    if name and name[0].isalpha():
        return name
    return f"UTC{name}" if name else "UTC"


def format_local(
    moment: datetime | None, date_fmt: str = "DATE_FORMAT", *, tz: ZoneInfo | None = None
) -> str:
    """ "7 December 2026, 9:40 PM EST": `moment` in `tz` (the active zone by default),
    its date in `date_fmt` (Django's date format), the clock and the zone's
    abbreviation. "" for None."""
    if moment is None:
        return ""
    local = timezone.localtime(moment, tz) if timezone.is_aware(moment) else moment
    clock = date_format(local, "TIME_FORMAT")
    if not date_fmt:
        return f"{clock} {abbreviation(local)}"
    return f"{date_format(local, date_fmt)}, {clock} {abbreviation(local)}"


class TimeZoneMiddleware:
    """Activates the signed-in reader's zone for the request (SecondOp's own
    zone for everyone else). Comes after AuthenticationMiddleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user_zone(user))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
