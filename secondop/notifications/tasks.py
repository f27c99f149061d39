from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services
from .selectors import notifications_due_for_sweep


# Well under NOTIFICATIONS_EMAIL_LEASE: a worker stuck sending is killed before its
# lease runs out and another takes the email over.
@shared_task(time_limit=60, soft_time_limit=50)
def notification_deliver_task(notification_id: int) -> None:
    # The service claims the email, records any failure and decides the backoff
    # (and when to give up); this task only comes back when the backoff is over.
    retry_at = services.notification_deliver(notification_id=notification_id)
    if retry_at is not None:
        countdown = max(0.0, (retry_at - timezone.now()).total_seconds())
        # If this is lost (broker down, worker restarted), the sweep queues it later.
        services.notification_enqueue(notification_id=notification_id, countdown=countdown)


@shared_task
def notifications_sweep() -> int:
    """Re-queue outbox rows whose own task was lost: never delivered in-app, an
    email whose next attempt is overdue, or an email whose worker died mid-send."""
    ids = notifications_due_for_sweep(older_than=settings.NOTIFICATIONS_SWEEP_AFTER)
    for notification_id in ids:
        services.notification_enqueue(notification_id=notification_id)
    return len(ids)
