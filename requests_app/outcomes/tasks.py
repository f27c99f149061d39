"""The outcomes' background work: the daily sweep that asks the 90-day question.
Idempotent: a case is asked once (a unique row), however often this runs."""

from celery import shared_task

from . import services


@shared_task
def outcomes_ask_due() -> int:
    """Every hour: ask the 90-day question of the cases that are due."""
    return services.outcomes_ask_due()
