"""Delivery by a real Celery worker process consuming from Redis (not eager)."""

import pytest
from django.db import transaction

from secondop.notifications.models import EmailStatus, Kind, Notification
from secondop.notifications.services import notify
from secondop.notifications.tasks import notifications_sweep
from tests.helpers import wait_until

pytestmark = [pytest.mark.services]


def _mails(mail_dir):
    return [p.read_text() for p in sorted(mail_dir.glob("*.log"))]


def test_a_worker_process_delivers_in_app_and_email(celery_worker_process, patient):
    mail_dir = celery_worker_process
    with transaction.atomic():
        n = notify(recipient=patient, kind=Kind.CASE_UPDATE, title="Test event",
                   reference="SO-2026-000042", url="/home/")
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
    from datetime import timedelta

    mail_dir = celery_worker_process
    settings.NOTIFICATIONS_SWEEP_AFTER = timedelta(seconds=0)
    broker.stop()
    try:
        with transaction.atomic():
            n = notify(recipient=patient, kind=Kind.CASE_UPDATE, title="While down",
                       reference="SO-2026-000043")
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
