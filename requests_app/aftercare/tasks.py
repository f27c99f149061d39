"""Aftercare's background work: the physician's email, the sweep that re-queues
emails a lost task never sent, and the periodic close after follow-up. Tasks
take ids (never an address or a token) and are idempotent: the services check
the state first."""

from celery import shared_task

from secondop.queueing import SweptTask
from secondop.storage import StorageUnavailable

from . import services


@shared_task(
    base=SweptTask,
    bind=True,
    max_retries=services.MAX_SEND_ATTEMPTS,
    acks_late=True,
    time_limit=45,
    soft_time_limit=40,
)  # under services.SEND_LEASE
def share_send_task(self, share_id: int) -> str:
    """Email the physician their link (queued on commit by share_create). A
    transient failure (the mail server away, a 4xx) retries with backoff; the
    sweep picks up anything this loses."""
    try:
        return services.share_send(share_id=share_id)
    except services.SendFailed as error:
        if not error.transient:
            return "failed"
        return self.later(error)


@shared_task
def shares_sweep() -> int:
    """Every few minutes: queue again the physicians' emails nobody sent."""
    ids = services.shares_due_for_sweep()
    for share_id in ids:
        services.share_enqueue(share_id=share_id)
    return len(ids)


@shared_task
def cases_close_after_follow_up() -> int:
    """Every hour: close delivered cases whose follow-up window is over and
    that have no question open (SYSTEM_MOVES)."""
    return services.cases_close_after_follow_up()


@shared_task(bind=True, max_retries=5, acks_late=True)
def smart_link_files_delete(self, link_id: int) -> bool:
    """Delete a stopped SMART Health Link's encrypted files (queued on commit when
    the patient withdraws it). Storage away: retried; the sweep below also finds it."""
    try:
        return services.smart_link_files_delete(link_id=link_id)
    except StorageUnavailable as error:
        raise self.retry(exc=error, countdown=60 * (self.request.retries + 1)) from error


@shared_task
def smart_links_sweep() -> int:
    """Every hour: delete the encrypted files of links that stopped (expired, the
    request withdrawn, replaced, stopped by wrong passcodes, a lost task)."""
    deleted = 0
    for link_id in services.smart_links_stopped():
        try:
            deleted += services.smart_link_files_delete(link_id=link_id)
        except StorageUnavailable:
            break  # storage away: the next run
    return deleted
