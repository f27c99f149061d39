"""Consultations' periodic work (CELERY_BEAT_SCHEDULE "consultations-sweep"): the
day-before reminders, and open consultations of requests that have closed. Both
services are idempotent (each row is claimed before it is acted on), so a sweep
that runs twice, or in two workers at once, sends nothing twice."""

from celery import shared_task

from . import services


@shared_task
def consultations_sweep() -> dict[str, int]:
    return {
        "reminded": services.consultation_reminders_send(),
        "cancelled": services.consultations_cancel_for_closed_cases(),
    }
