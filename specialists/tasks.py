from celery import shared_task

from . import credentialing, services


@shared_task
def offers_expire() -> int:
    """Every few minutes: open offers past their deadline go back to matching,
    and the case manager is told (declared on the move)."""
    return services.offers_expire_due()


@shared_task
def licences_expiry_notify() -> int:
    """Daily: verified licences expiring within 60 days are announced once, to the
    specialist and the administrators (specialists.credentialing)."""
    return credentialing.licences_expiry_notify()
