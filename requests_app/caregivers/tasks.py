from celery import shared_task

from secondop.accounts.services import TRANSIENT_EMAIL_ERRORS


@shared_task(
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=48,
)
def invitation_email_task(caregiver_id: int) -> None:
    from .services import invitation_email_send

    invitation_email_send(caregiver_id=caregiver_id)
