"""No UTC date shown anywhere: every page the tests reach, rendered for a case
whose every moment is 23:30 in its readers' zone (already the next day in UTC,
and in New York for a reader in Los Angeles), shows that evening's date and
never the next day's. Each time shown carries its zone."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from records.models import Record
from requests_app.messaging.models import Message
from requests_app.models import CaseEvent, CaseStatus
from requests_app.notices import CASE_UPDATE
from secondop.notifications.models import Notification
from tests.accounts.factories import UserFactory, enrol_totp
from tests.records.factories import RecordFactory, RecordRequestFactory
from tests.requests_app.factories import CaseFactory

pytestmark = pytest.mark.django_db

# Monday 14 January 2030 (far from any day the suite runs on, so that "now"
# printed by a page can never be mistaken for the dates tested here).
NEXT_DAY = re.compile(r"\b(15|22) Jan(uary)? 2030|Tuesday (15|22) January")
ZONES = {"NY": "America/New_York", "CA": "America/Los_Angeles"}
ABBREVIATIONS = {"NY": "EST", "CA": "PST"}


def _evening(state: str) -> datetime.datetime:
    return datetime.datetime(2030, 1, 14, 23, 30, tzinfo=ZoneInfo(ZONES[state]))


def _world(state: str):
    evening = _evening(state)
    zone = "" if state == "NY" else ZONES[state]  # NY: SecondOp's own zone, never set
    patient = UserFactory(
        role="patient", email="late@example.com", full_name="Late Patient", time_zone=ZONES[state]
    )
    coordinator = UserFactory(role="coordinator", email="c@example.com", time_zone=zone)
    specialist = UserFactory(role="specialist", email="s@example.com", time_zone=zone)
    enrol_totp(coordinator)
    enrol_totp(specialist)
    case = CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        patient_state=state,
        case_manager=coordinator,
        specialist=specialist,
        submitted_at=evening,
        authorisation_signed_at=evening,
        due_at=evening + datetime.timedelta(days=7),
    )
    CaseEvent.objects.create(case=case, old_status="", new_status=CaseStatus.SUBMITTED)
    CaseEvent.objects.filter(case=case).update(created_at=evening)
    record = RecordFactory(case=case)
    Record.objects.filter(pk=record.pk).update(
        created_at=evening, uploaded_at=evening, checked_at=evening
    )
    asked = RecordRequestFactory(
        case=case, requested_by=coordinator, note="Your scan", return_to="in_review"
    )
    type(asked).objects.filter(pk=asked.pk).update(created_at=evening)
    Message.objects.create(
        case=case, author=specialist, body="How are you?", is_question=True, created_at=evening
    )
    for user in (patient, coordinator, specialist):
        note = Notification.objects.create(
            recipient=user, kind=CASE_UPDATE, title="News", reference=case.reference
        )
        Notification.objects.filter(pk=note.pk).update(created_at=evening)
    return case, patient, coordinator, specialist, record


def _pages(case, record):
    return {
        "patient": [
            reverse("requests_app:dashboard"),
            reverse("requests_app:case_detail", args=[case.uuid]),
            reverse("requests_app:case_sent", args=[case.uuid]),
            reverse("requests_app:case_section", args=[case.uuid, "authorisation"]),
            reverse("records:case_records", args=[case.uuid]),
            reverse("records:detail", args=[record.uuid]),
            reverse("messaging:thread", args=[case.uuid]),
            reverse("notifications:list"),
        ],
        "coordinator": [
            reverse("requests_app:coordinator_home"),
            reverse("requests_app:staff_case", args=[case.uuid]),
            reverse("records:case_records", args=[case.uuid]),
            reverse("records:detail", args=[record.uuid]),
            reverse("messaging:thread", args=[case.uuid]),
            reverse("notifications:list"),
        ],
        "specialist": [
            reverse("specialists:home"),
            reverse("requests_app:staff_case", args=[case.uuid]),
            reverse("records:case_records", args=[case.uuid]),
            reverse("messaging:thread", args=[case.uuid]),
            reverse("notifications:list"),
        ],
    }


@pytest.mark.parametrize("state", ["NY", "CA"])
def test_no_page_shows_the_next_days_date_for_an_evening(client, state):
    case, patient, coordinator, specialist, record = _world(state)
    people = {"patient": patient, "coordinator": coordinator, "specialist": specialist}
    for who, urls in _pages(case, record).items():
        client.force_login(people[who])
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (who, url)
            html = response.content.decode()
            assert not NEXT_DAY.search(html), (who, url, NEXT_DAY.search(html).group(0))
            if "notifications" not in url:  # notifications say "2 hours ago"
                assert re.search(r"\b14 Jan(uary)?\b|\b21 Jan(uary)? 2030", html), (who, url)


@pytest.mark.parametrize("state", ["NY", "CA"])
def test_times_carry_their_zone_and_the_authorisation_its_local_date(client, state):
    case, patient, coordinator, _specialist, _record = _world(state)
    abbreviation = ABBREVIATIONS[state]
    client.force_login(patient)
    html = client.get(reverse("requests_app:case_detail", args=[case.uuid])).content.decode()
    assert f"14 January 2030, 11:30 PM {abbreviation}" in html  # "Sent"
    assert "Signed on" in html
    signed = re.search(r"Signed on</dt>\s*<dd[^>]*>([^<]+)<", html)
    assert signed and signed.group(1).strip() == f"14 January 2030, 11:30 PM {abbreviation}"
    section = reverse("requests_app:case_section", args=[case.uuid, "authorisation"])
    assert f"on 14 January 2030, 11:30 PM {abbreviation}" in client.get(section).content.decode()
    client.force_login(coordinator)
    html = client.get(reverse("requests_app:staff_case", args=[case.uuid])).content.decode()
    assert f"14 January 2030, 11:30 PM {abbreviation}" in html
    assert not re.search(r"\d:\d\d(?! [AP]M [A-Z])", _visible_times(html))


def _visible_times(html: str) -> str:
    """The text of the page outside tags and machine-readable attributes."""
    return re.sub(r"<[^>]+>", " ", html)
