"""Imaging's background work, on its own queue ("imaging", a worker with a memory
limit): a verified study's series made and their frames rendered, and the sweep that
queues again what a lost worker or a lost message left."""

from celery import shared_task

from records.models import Record
from records.storage import StorageUnavailable
from secondop.queueing import SweptTask

from . import services


@shared_task(base=SweptTask, bind=True, max_retries=8, backoff_cap=900, acks_late=True)
def imaging_start(self, record_id: int) -> str:
    """A study record was verified: make its series and queue their frames."""
    record = Record.objects.select_related("case").filter(pk=record_id).first()
    if record is None:
        return "gone"
    try:
        made = services.start_rendering(record)
    except StorageUnavailable as error:
        return self.later(error)
    return f"{len(made)} frame sets"


@shared_task(
    base=SweptTask,
    bind=True,
    max_retries=8,
    backoff_cap=900,
    acks_late=True,
    time_limit=3600,
    soft_time_limit=3600 - 60,
)
def frames_render(self, frame_set_id: int) -> str:
    """Render one frame set (a series, one preset, one size), frame by frame. While
    storage is not answering it retries with backoff, its lease held that long; the
    frames already stored are kept and it goes on from there."""
    try:
        return services.render_frame_set(frame_set_id)
    except StorageUnavailable as error:
        return self.later(
            error,
            before_retry=lambda countdown: services.hold_lease(frame_set_id, seconds=countdown),
        )


@shared_task
def imaging_sweep() -> int:
    """Every minute: frame sets whose lease lapsed or that nobody picked up, and
    verified studies whose series were never made, queued again."""
    for record_id in services.records_without_series():
        imaging_start.delay(record_id)
    return services.requeue(services.lapsed_frame_sets())
