"""A report PDF, a record's check or an email whose worker died is done again within
2 minutes of a worker being there: each has a lease (or a row lock) its worker holds,
and a sweep every minute or less queues again what no live worker holds."""

import datetime
import time
from unittest import mock

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from records import checking
from records.models import Record, State
from requests_app.aftercare import services as aftercare
from requests_app.reports import services as reports
from requests_app.reports.models import ReportVersion
from secondop.notifications.tasks import notification_deliver_task
from tests.records.test_checking import make_record, pdf_bytes
from tests.reports.factories import assigned_case, sign
from tests.requests_app.factories import CaseFactory

TWO_MINUTES = datetime.timedelta(minutes=2)


def _every(name: str) -> datetime.timedelta:
    return settings.CELERY_BEAT_SCHEDULE[name]["schedule"]


def test_each_lease_and_its_sweep_bring_lost_work_back_within_two_minutes():
    assert settings.NOTIFICATIONS_EMAIL_LEASE + _every("notifications-sweep") <= TWO_MINUTES
    assert settings.NOTIFICATIONS_SWEEP_AFTER + _every("notifications-sweep") <= TWO_MINUTES
    assert aftercare.SEND_LEASE + _every("aftercare-shares-sweep") <= TWO_MINUTES
    assert reports.PDF_LOST_AFTER + _every("reports-sweep") <= TWO_MINUTES
    assert checking.CHECK_LEASE + _every("records-sweep") <= TWO_MINUTES


def test_no_worker_outlives_its_lease_and_no_delayed_message_is_delivered_twice():
    from requests_app.aftercare.tasks import share_send_task

    lease = settings.NOTIFICATIONS_EMAIL_LEASE.total_seconds()
    assert notification_deliver_task.time_limit < lease
    assert share_send_task.time_limit < aftercare.SEND_LEASE.total_seconds()
    assert checking.CHECK_LEASE.total_seconds() > checking.LEASE_RENEW_SECONDS * 3
    # Retries back off up to 30 minutes: the broker must not hand such a delayed
    # message to a second worker meanwhile.
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > 30 * 60


@pytest.fixture
def report_case(transactional_db, patient, coordinator, specialist):
    return assigned_case(patient, coordinator, specialist)


def test_a_pdf_being_rendered_is_left_alone_and_a_dead_workers_is_swept(report_case, specialist):
    with mock.patch("requests_app.reports.tasks.report_render.apply_async"):  # task lost
        version = sign(report_case, specialist, render=False)
    assert not ReportVersion.objects.get(pk=version.pk).pdf_ready
    assert reports.versions_waiting_for_pdf() == []  # just signed: its task has its chance
    ReportVersion.objects.filter(pk=version.pk).update(
        signed_at=timezone.now() - reports.PDF_LOST_AFTER - datetime.timedelta(seconds=1)
    )
    # A live worker rendering it holds the row lock (report_pdf_store).
    worker = connections.create_connection("default")
    try:
        worker.set_autocommit(False)
        with worker.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM reports_reportversion WHERE id = %s FOR UPDATE", [version.pk]
            )
        assert reports.versions_waiting_for_pdf() == []
        worker.rollback()  # the worker died: its lock went with its connection
    finally:
        worker.close()
    assert reports.versions_waiting_for_pdf() == [version.pk]


def test_a_check_in_progress_renews_its_lease_and_a_dead_one_is_swept(transactional_db, patient):
    case = CaseFactory(owner=patient, submitted=True)
    record = make_record(case, {"report.pdf": pdf_bytes()})
    seen = {}

    def slow_check(record_obj):
        start = Record.objects.get(pk=record_obj.pk).check_started_at
        time.sleep(0.8)
        seen["renewed"] = Record.objects.get(pk=record_obj.pk).check_started_at > start
        # Long past the first lease: still its worker's, not the sweep's.
        with mock.patch.object(checking.timezone, "now", return_value=start + checking.CHECK_LEASE):
            seen["stalled"] = checking.stalled_records()
        return "checked"

    with (
        mock.patch.object(checking, "LEASE_RENEW_SECONDS", 0.1),
        mock.patch.object(checking, "_check", slow_check),
    ):
        assert checking.check_record(record.pk) == "checked"
    assert seen == {"renewed": True, "stalled": []}
    # The worker died mid-check: nobody renews the lease, and the sweep takes it.
    Record.objects.filter(pk=record.pk).update(
        state=State.SCANNING,
        check_started_at=timezone.now() - checking.CHECK_LEASE - datetime.timedelta(seconds=1),
    )
    assert checking.stalled_records() == [record.pk]


def test_a_retry_waiting_out_its_backoff_keeps_the_lease(transactional_db, patient, settings):
    from celery.exceptions import Retry

    from records.tasks import record_verify

    settings.CLAMD_ADDRESS = "tcp://127.0.0.1:9"  # clamd down
    case = CaseFactory(owner=patient, submitted=True)
    record = make_record(case, {"report.pdf": pdf_bytes()})
    with (
        mock.patch.object(record_verify, "retry", side_effect=Retry) as retry,
        mock.patch.object(record_verify.request, "is_eager", False, create=True),
        pytest.raises(Retry),
    ):
        record_verify.run(record.pk)
    countdown = retry.call_args.kwargs["countdown"]
    record.refresh_from_db()
    assert record.check_started_at > timezone.now() + datetime.timedelta(seconds=countdown - 5)
    assert checking.stalled_records() == []
