"""The consultations sweep: the day-before reminder (once per booked time) and the
consultations of requests that have closed."""

import datetime

import pytest
from django.conf import settings
from django.core import mail

from requests_app.consultations import services, tasks
from requests_app.consultations.models import Consultation, Status
from requests_app.consultations.notices import REMINDER
from requests_app.models import CaseStatus
from requests_app.workflow import case_transition
from secondop.notifications.models import Notification
from tests.consultations.conftest import span

pytestmark = pytest.mark.django_db
HOUR = datetime.timedelta(hours=1)


def reminders():
    return Notification.objects.filter(kind=REMINDER)


def test_the_sweep_is_on_the_beat_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["consultations-sweep"]
    assert entry["task"] == "requests_app.consultations.tasks.consultations_sweep"
    assert entry["schedule"] <= datetime.timedelta(minutes=15)


def test_a_reminder_goes_once_a_day_before(
    booked, patient, specialist, django_capture_on_commit_callbacks
):
    start = booked.starts_at
    assert services.consultation_reminders_send(now=start - 26 * HOUR) == 0  # too early
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            services.consultation_reminders_send(
                now=start - 24 * HOUR + datetime.timedelta(minutes=5)
            )
            == 1
        )
    sent = list(reminders().order_by("recipient__email"))
    assert {n.recipient for n in sent} == {patient, specialist}
    assert all("is tomorrow" in n.title for n in sent)
    emails = [m for m in mail.outbox if "reminder" in m.subject]
    assert len(emails) == 2 and all(booked.video_room not in m.body for m in emails)
    # Later sweeps, and two at once, send nothing more.
    assert services.consultation_reminders_send(now=start - 20 * HOUR) == 0
    assert services.consultation_reminders_send(now=start - HOUR) == 0
    assert reminders().count() == 2
    booked.refresh_from_db()
    assert booked.reminder_sent_for == start


def test_a_new_time_gets_its_own_reminder(booked, patient, specialist):
    services.consultation_reminders_send(now=booked.starts_at - 23 * HOUR)
    assert reminders().count() == 2
    services.consultation_reschedule(
        actor=specialist,
        ref=booked.uuid,
        slots=[span(9, 10), span(10, 10)],
        reason="Away that week",
    )
    booked.refresh_from_db()
    slot = booked.slots.filter(round=booked.round).order_by("starts_at").first()
    services.consultation_book(actor=patient, ref=booked.uuid, slot_ref=slot.uuid)
    booked.refresh_from_db()
    assert services.consultation_reminders_send(now=booked.starts_at - 23 * HOUR) == 1
    assert reminders().count() == 4


def test_no_reminder_for_a_booking_made_within_the_day(booked):
    # Booked 20 hours ahead: its invitation has just gone; no reminder on top.
    Consultation.objects.filter(pk=booked.pk).update(booked_at=booked.starts_at - 20 * HOUR)
    assert services.consultation_reminders_send(now=booked.starts_at - 19 * HOUR) == 0


def test_no_reminder_for_a_cancelled_or_past_consultation(booked, patient):
    services.consultation_cancel(actor=patient, ref=booked.uuid, reason="Not needed")
    assert services.consultation_reminders_send(now=booked.starts_at - 23 * HOUR) == 0
    assert services.consultation_reminders_send(now=booked.starts_at + HOUR) == 0
    assert not reminders().exists()


def test_the_task_reminds_and_cancels_for_closed_requests(booked, case, patient, monkeypatch):
    monkeypatch.setattr(services.timezone, "now", lambda: booked.starts_at - 23 * HOUR)
    assert tasks.consultations_sweep() == {"reminded": 1, "cancelled": 0, "doctor_call_invites": 0}
    assert tasks.consultations_sweep() == {"reminded": 0, "cancelled": 0, "doctor_call_invites": 0}
    monkeypatch.undo()
    case_transition(
        actor=patient, ref=case.uuid, to_status=CaseStatus.WITHDRAWN, reason="Changed my mind"
    )
    assert tasks.consultations_sweep.delay().get() == {
        "reminded": 0,
        "cancelled": 1,
        "doctor_call_invites": 0,
    }
    booked.refresh_from_db()
    assert booked.status == Status.CANCELLED
