from celery import shared_task

from .services import TRANSIENT_EMAIL_ERRORS


@shared_task(
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=48,
)
def email_changed_notice_task(user_id: int, old_email: str) -> None:
    from .services import email_changed_notice_send

    email_changed_notice_send(user_id=user_id, old_email=old_email)
