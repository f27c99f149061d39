"""The report's background work: rendering a signed version's PDF and storing
it, and the sweep that queues again what a lost task or a long storage outage
left behind. Tasks take ids and are idempotent: a version whose PDF is stored is
left alone."""

from celery import shared_task

from secondop.queueing import SweptTask, queue_now
from secondop.storage import StorageUnavailable

from . import services


@shared_task(
    base=SweptTask, bind=True, max_retries=8, acks_late=True, time_limit=300, soft_time_limit=240
)
def report_render(self, version_id: int) -> str:
    """Render and store the PDF of a signed version. Until it is stored the version
    reads "Preparing the PDF…" and cannot be released; while storage is not
    answering the task retries with backoff (30 s, 1 min, 2 min ... 30 min)."""
    try:
        return services.report_pdf_store(version_id=version_id)
    except StorageUnavailable as error:
        return self.later(error)


@shared_task
def reports_sweep() -> int:
    """Every minute: queue again the signed versions still without a PDF and not
    being rendered. What it queues expires before the next sweep, so that no
    backlog of copies builds up while no worker is there."""
    waiting = services.versions_waiting_for_pdf()
    for version_id in waiting:
        queue_now(report_render, version_id, expires=55)
    return len(waiting)
