import smtplib

from celery import shared_task
from django.conf import settings

from . import services
from .selectors import notifications_due_for_sweep

# Transient faults worth retrying: the SMTP server or the network.
TRANSIENT_EMAIL_ERRORS = (smtplib.SMTPException, ConnectionError, TimeoutError, OSError)


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=services.MAX_EMAIL_ATTEMPTS,
)
def notification_deliver_task(self, notification_id: int) -> None:
    try:
        services.notification_deliver(notification_id=notification_id)
    except TRANSIENT_EMAIL_ERRORS:
        if self.request.retries >= self.max_retries:
            services.notification_give_up_email(notification_id=notification_id)
            return
        raise


@shared_task
def notifications_sweep() -> int:
    """Re-queue outbox rows whose delivery never happened (e.g. Redis was down)."""
    ids = notifications_due_for_sweep(
        older_than=settings.NOTIFICATIONS_SWEEP_AFTER, max_attempts=services.MAX_EMAIL_ATTEMPTS
    )
    for notification_id in ids:
        services.notification_enqueue(notification_id=notification_id)
    return len(ids)
