"""Calendar files on notification emails (consultation invitations), and the
consultation kinds."""

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from requests_app.consultations.notices import CONSULTATION, REMINDER
from requests_app.notices import CASE_UPDATE
from secondop.notifications.models import CalendarMethod, Notification
from secondop.notifications.registry import kinds_for_role
from secondop.notifications.selectors import email_preferences
from secondop.notifications.services import CalendarInvite, EmailText, notify

pytestmark = pytest.mark.django_db

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:{method}\r\n"
    "BEGIN:VEVENT\r\nUID:u-1@test\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:0\r\n"
    "DTSTART:20260102T150000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _calendar_part(message):
    parts = [
        part for part in message.message().walk() if part.get_content_type() == "text/calendar"
    ]
    assert len(parts) == 1
    return parts[0]


def test_it_attaches_the_invitation_as_text_calendar_with_its_method(
    patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(
            recipient=patient,
            kind=CONSULTATION,
            title="Your consultation is booked",
            reference="SO-2026-000001",
            url="/consultations/x/",
            calendar=CalendarInvite(ics=ICS.format(method="REQUEST"), method="REQUEST"),
        )
    n.refresh_from_db()
    assert (n.calendar_method, n.calendar_ics.startswith("BEGIN:VCALENDAR")) == ("REQUEST", True)
    message = mail.outbox[0]
    part = _calendar_part(message)
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "invitation.ics"
    assert "UID:u-1@test" in part.get_content()
    assert "calendar invitation" in message.body
    # Still no in-app title in the email.
    assert "booked" not in message.body.lower()
    assert "calendar invitation" in message.alternatives[0][0]


def test_a_cancellation_goes_as_method_cancel(patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipient=patient,
            kind=CONSULTATION,
            title="Cancelled",
            reference="SO-1",
            calendar=CalendarInvite(ics=ICS.format(method="CANCEL"), method="CANCEL"),
        )
    message = mail.outbox[0]
    part = _calendar_part(message)
    assert part.get_param("method") == "CANCEL"
    assert part.get_filename() == "cancellation.ics"
    assert "takes the time out of your calendar" in message.body


def test_an_email_without_a_calendar_has_no_attachment(patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=patient, kind=CASE_UPDATE, title="x", reference="SO-1")
    message = mail.outbox[0]
    assert message.attachments == []
    assert "calendar" not in message.body


def test_a_reminder_says_what_its_words_say_and_never_its_title(
    patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipient=patient,
            kind=REMINDER,
            title="Reminder: tomorrow at 10:00",
            reference="SO-2026-000007",
            url="/consultations/x/",
            email=EmailText(
                subject="A reminder: your consultation is tomorrow (SO-2026-000007)",
                sentence="This is a reminder: you have a consultation tomorrow.",
                action="See the consultation",
            ),
        )
    message = mail.outbox[0]
    assert message.subject == "A reminder: your consultation is tomorrow (SO-2026-000007)"
    assert "This is a reminder: you have a consultation tomorrow." in message.body
    assert "10:00" not in message.body


def test_an_invite_must_say_what_it_is():
    with pytest.raises(ValueError):
        CalendarInvite(ics=ICS, method="PUBLISH")
    with pytest.raises(ValueError):
        CalendarInvite(ics="", method="REQUEST")


def test_the_database_refuses_a_method_without_a_file_and_a_file_without_a_method(patient):
    for ics, method in (("", CalendarMethod.REQUEST), (ICS, "")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Notification.objects.create(
                recipient=patient,
                kind=CONSULTATION,
                title="x",
                calendar_ics=ics,
                calendar_method=method,
            )


def test_patients_and_specialists_can_switch_consultation_emails_coordinators_do_not_get_them(
    patient, specialist, coordinator
):
    for role in ("patient", "specialist"):
        assert {CONSULTATION, REMINDER} <= kinds_for_role(role)
    assert not {CONSULTATION, REMINDER} & kinds_for_role("coordinator")
    assert {"consultation", "reminder"} <= set(email_preferences(user=patient))
    assert {"consultation", "reminder"} <= set(email_preferences(user=specialist))
    assert not {"consultation", "reminder"} & set(email_preferences(user=coordinator))
