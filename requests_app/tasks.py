from celery import shared_task

from . import services


@shared_task
def cases_flag_overdue() -> int:
    """Every few minutes: open cases past their due date are flagged once, and
    their case manager and specialist are told."""
    return services.cases_flag_overdue()
