import pytest
from django.core import mail
from django.db import transaction

from secondop.notifications.models import EmailPreference, EmailStatus, Kind, Notification
from secondop.notifications.services import notification_deliver, notify

pytestmark = pytest.mark.django_db


def test_notify_delivers_in_app_and_by_email_after_commit(patient, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(recipient=patient, kind=Kind.CASE_UPDATE, title="Your report is ready",
                   reference="SO-2026-000001", url="/home/")
    n.refresh_from_db()
    assert n.delivered_at is not None
    assert n.email_status == EmailStatus.SENT
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [patient.email]
    assert "SO-2026-000001" in message.subject
    assert "sign in" in message.body.lower()
    # No medical detail in the email: the in-app title never goes out.
    assert "report is ready" not in message.body.lower()
    assert message.alternatives and message.alternatives[0][1] == "text/html"


def test_a_rolled_back_transaction_sends_nothing(patient, django_capture_on_commit_callbacks):
    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Boom), transaction.atomic():
        notify(recipient=patient, kind=Kind.CASE_UPDATE, title="x")
        raise Boom
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_a_task_that_runs_twice_sends_once(patient):
    with transaction.atomic():
        n = notify(recipient=patient, kind=Kind.CASE_UPDATE, title="x", reference="SO-1")
    notification_deliver(notification_id=n.pk)
    notification_deliver(notification_id=n.pk)
    assert len(mail.outbox) == 1


def test_an_email_preference_off_skips_the_email_but_not_the_notification(
    patient, django_capture_on_commit_callbacks
):
    EmailPreference.objects.create(user=patient, kind=Kind.CASE_UPDATE, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        n = notify(recipient=patient, kind=Kind.CASE_UPDATE, title="x")
    n.refresh_from_db()
    assert n.delivered_at is not None
    assert n.email_status == EmailStatus.SKIPPED
    assert mail.outbox == []


def test_security_emails_cannot_be_switched_off(patient, django_capture_on_commit_callbacks):
    EmailPreference.objects.create(user=patient, kind=Kind.SECURITY, enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        notify(recipient=patient, kind=Kind.SECURITY, title="Password changed")
    assert len(mail.outbox) == 1


def test_an_smtp_failure_is_retried_and_then_sends_once(patient, monkeypatch):
    import smtplib

    from secondop.notifications import services

    calls = {"n": 0}
    real = services._send_email

    def flaky(n):
        calls["n"] += 1
        if calls["n"] == 1:
            raise smtplib.SMTPServerDisconnected("gone")
        real(n)

    monkeypatch.setattr(services, "_send_email", flaky)
    with transaction.atomic():
        n = notify(recipient=patient, kind=Kind.CASE_UPDATE, title="x")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert n.email_status == EmailStatus.PENDING
    assert n.delivered_at is not None  # in-app does not wait for the SMTP server
    notification_deliver(notification_id=n.pk)
    n.refresh_from_db()
    assert n.email_status == EmailStatus.SENT
    assert n.email_attempts == 2
    assert len(mail.outbox) == 1
