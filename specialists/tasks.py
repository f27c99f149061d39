from celery import shared_task

from . import services


@shared_task
def offers_expire() -> int:
    """Every few minutes: open offers past their deadline go back to matching,
    and the case manager is told (declared on the move)."""
    return services.offers_expire_due()
