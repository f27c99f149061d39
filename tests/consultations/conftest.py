"""A case in review, assigned, with a case manager, for a patient in California
(Pacific Time: three hours behind the care team's New York), who asked for a
video consultation; and helpers to write times in the patient's zone."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from requests_app.consultations import services
from requests_app.models import CaseStatus
from tests.accounts.factories import UserFactory, enrol_totp
from tests.requests_app.factories import CaseFactory

PACIFIC = ZoneInfo("America/Los_Angeles")
DIAGNOSIS = "Early-stage breast cancer"


def at(days: int, hour: int, minute: int = 0, *, zone=PACIFIC) -> datetime.datetime:
    """`days` from today, at hour:minute in `zone`."""
    day = timezone.localtime(timezone.now(), zone).date() + datetime.timedelta(days=days)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=zone)


def span(days: int, hour: int, minutes: int = 30, **kwargs):
    start = at(days, hour, **kwargs)
    return start, start + datetime.timedelta(minutes=minutes)


@pytest.fixture
def case(patient, coordinator, specialist):
    return CaseFactory(
        owner=patient,
        submitted=True,
        status=CaseStatus.IN_REVIEW,
        case_manager=coordinator,
        specialist=specialist,
        consultation_type="video",
        patient_state="CA",
    )


@pytest.fixture
def other_specialist(db):
    user = UserFactory(role="specialist", full_name="Dr. Other")
    enrol_totp(user)
    return user


@pytest.fixture
def other_coordinator(db):
    user = UserFactory(role="coordinator", full_name="Other Coordinator")
    enrol_totp(user)
    return user


@pytest.fixture
def proposed(case, specialist):
    return services.consultation_propose(
        actor=specialist, case_ref=case.uuid, slots=[span(3, 10), span(4, 15)]
    )


@pytest.fixture
def booked(proposed, patient):
    slot = proposed.slots.order_by("starts_at").first()
    return services.consultation_book(actor=patient, ref=proposed.uuid, slot_ref=slot.uuid)


def to_the_past(consultation, hours: int = 1):
    """Time passes: the booked time has come (and gone)."""
    from requests_app.consultations.models import Consultation

    start = timezone.now() - datetime.timedelta(hours=hours)
    Consultation.objects.filter(pk=consultation.pk).update(
        starts_at=start,
        ends_at=start + datetime.timedelta(minutes=30),
        booked_at=start - datetime.timedelta(days=2),
    )
    consultation.refresh_from_db()
    return consultation
