"""Records' background work: verification per record, ZIP bundles, and the sweep
that re-queues lost work and removes abandoned uploads. Tasks take ids and are
idempotent: a record already verified or rejected is left alone."""

from celery import shared_task

from secondop.queueing import SweptTask

from . import checking, services
from .storage import StorageUnavailable
from .verification import ScannerUnavailable


@shared_task(
    base=SweptTask,
    bind=True,
    max_retries=10,
    acks_late=True,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
)
def record_verify(self, record_id: int) -> str:
    """Check every file of a record (streamed; see records.checking). While clamd
    or storage is not answering, the record stays as it is and the task retries
    with backoff; the sweep re-queues anything a lost worker left behind."""
    try:
        return checking.check_record(record_id)
    except (ScannerUnavailable, StorageUnavailable) as error:
        # The lease covers the backoff: the sweep leaves the record to this retry.
        return self.later(
            error,
            before_retry=lambda countdown: checking.lease_until(record_id, seconds=countdown),
        )


@shared_task(
    base=SweptTask,
    bind=True,
    backoff_cap=900,
    max_retries=5,
    acks_late=True,
    time_limit=4 * 3600,
    soft_time_limit=4 * 3600 - 60,
)
def bundle_build(self, bundle_id: int) -> str:
    try:
        return checking.build_bundle(bundle_id)
    except StorageUnavailable as error:
        return self.later(error)


@shared_task
def records_sweep() -> int:
    """Every few minutes: re-queue records whose check was lost (a worker died,
    clamd was down), close upload slots past their time and delete their objects,
    and delete bundles past theirs."""
    for record_id in checking.stalled_records():
        record_verify.delay(record_id)
    for bundle_id in checking.stalled_bundles():
        bundle_build.delay(bundle_id)
    return services.records_sweep_expired()


@shared_task
def records_retention_sweep() -> int:
    """Hourly: delete the uploaded copies of records of requests that ended more
    than RECORDS_KEEP_DAYS_AFTER_END days ago (each deletion audited)."""
    return services.records_retention_sweep()
