"""Delivery by a real Celery worker process consuming from Redis (not eager)."""

import signal
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from requests_app.notices import CASE_UPDATE
from secondop.accounts.notices import SECURITY
from secondop.notifications.models import EmailStatus, Notification
from secondop.notifications.services import notify
from secondop.notifications.tasks import notifications_sweep
from tests.helpers import wait_until
from tests.notifications.crash_backend import CRASH_AT_ENV

pytestmark = [pytest.mark.services]


def _mails(mail_dir):
    return [p.read_text() for p in sorted(mail_dir.glob("*.log"))]


def test_a_worker_process_delivers_in_app_and_email(celery_worker_process, patient):
    mail_dir = celery_worker_process
    with transaction.atomic():
        n = notify(
            recipient=patient,
            kind=CASE_UPDATE,
            title="Test event",
            reference="SO-2026-000042",
            url="/home/",
        )
    wait_until(lambda: Notification.objects.get(pk=n.pk).email_status == EmailStatus.SENT)
    n.refresh_from_db()
    assert n.delivered_at is not None
    mails = _mails(mail_dir)
    assert len(mails) == 1
    assert "SO-2026-000042" in mails[0]
    assert patient.email in mails[0]


def test_an_event_raised_while_the_broker_is_down_is_delivered_by_the_sweep_once(
    celery_worker_process, broker, patient, settings
):
    mail_dir = celery_worker_process
    settings.NOTIFICATIONS_SWEEP_AFTER = timedelta(seconds=0)
    broker.stop()
    try:
        with transaction.atomic():
            n = notify(
                recipient=patient,
                kind=CASE_UPDATE,
                title="While down",
                reference="SO-2026-000043",
            )
        # The event committed even though nothing could be queued.
        n.refresh_from_db()
        assert n.delivered_at is None
        assert n.email_status == EmailStatus.PENDING
    finally:
        broker.start()
    assert notifications_sweep() == 1
    wait_until(lambda: Notification.objects.get(pk=n.pk).email_status == EmailStatus.SENT, 60)
    # A second sweep finds nothing more to do, and nothing is sent twice.
    assert notifications_sweep() == 0
    assert len(_mails(mail_dir)) == 1


# --- A worker killed while emailing ------------------------------------------------------
# The first worker's email backend kills its own process (SIGKILL) at one point of the
# send (tests/notifications/crash_backend.py). Then a normal worker starts, the dead
# worker's lease runs out, the sweep runs, and we count what the mail server received.
CRASHING = {
    "MAIL_FILE_BACKEND": "tests.notifications.crash_backend.CrashingEmailBackend",
    "NOTIFICATIONS_EMAIL_LEASE": "4",
}


def _received(mail_dir) -> tuple[list[str], int]:
    """The Message-IDs of the complete messages in the mail folder, and how many
    half-written ones there are (a message is complete once its separator is written)."""
    from email import message_from_bytes

    from tests.notifications.crash_backend import SEPARATOR

    message_ids, partial = [], 0
    for path in sorted(mail_dir.glob("*.log")):
        *complete, rest = path.read_bytes().split(SEPARATOR + b"\n")
        message_ids += [message_from_bytes(raw.strip(b"\n"))["Message-ID"] for raw in complete]
        partial += bool(rest.strip())
    return message_ids, partial


def _crash_then_recover(celery_workers, patient, settings, crash_at: str):
    from secondop.notifications.services import notification_message_id

    settings.NOTIFICATIONS_SWEEP_AFTER = timedelta(0)
    crashing = celery_workers.start({**CRASHING, CRASH_AT_ENV: crash_at})
    with transaction.atomic():
        n = notify(
            recipient=patient,
            kind=SECURITY,
            title="Password changed",
            reference="SO-2026-000044",
        )
    assert crashing.wait(30) == -signal.SIGKILL
    n.refresh_from_db()
    # Claimed, then the worker died: the row is still being sent, under a lease.
    assert n.email_status == EmailStatus.SENDING
    assert n.delivered_at is not None
    after_crash = _received(celery_workers.mail_dir)
    # While the dead worker's lease holds, nobody takes the email over.
    assert timezone.now() < n.lease_until
    assert notifications_sweep() == 0

    celery_workers.start()
    wait_until(lambda: timezone.now() > n.lease_until, 10, 0.1)
    assert notifications_sweep() == 1
    wait_until(lambda: Notification.objects.get(pk=n.pk).email_status == EmailStatus.SENT)
    n.refresh_from_db()
    assert n.email_attempts == 2
    assert notifications_sweep() == 0
    return after_crash, _received(celery_workers.mail_dir), notification_message_id(n)


def test_a_worker_killed_before_sending_leads_to_exactly_one_email(
    celery_workers, patient, settings
):
    after_crash, (message_ids, partial), message_id = _crash_then_recover(
        celery_workers, patient, settings, "before_send"
    )
    assert after_crash == ([], 0)
    assert message_ids == [message_id]
    assert partial == 0


def test_a_worker_killed_while_sending_leads_to_one_complete_email(
    celery_workers, patient, settings
):
    after_crash, (message_ids, partial), message_id = _crash_then_recover(
        celery_workers, patient, settings, "during_send"
    )
    # The server got half a message, which it does not deliver; then one whole one.
    assert after_crash == ([], 1)
    assert message_ids == [message_id]
    assert partial == 1


def test_a_worker_killed_after_sending_before_marking_sends_it_twice_with_one_message_id(
    celery_workers, patient, settings
):
    # The documented duplicate window: the server accepted it, the row was not marked.
    after_crash, (message_ids, partial), message_id = _crash_then_recover(
        celery_workers, patient, settings, "after_send"
    )
    assert after_crash == ([message_id], 0)
    assert message_ids == [message_id, message_id]
    assert partial == 0
