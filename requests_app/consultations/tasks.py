"""Consultations' background work. The periodic sweep (CELERY_BEAT_SCHEDULE
"consultations-sweep"): the day-before reminders, open consultations of requests
that have closed, and calls between the doctors whose invitation a lost task never
sent. The services are idempotent (each row is claimed before it is acted on), so
a sweep that runs twice, or in two workers at once, sends nothing twice."""

from celery import shared_task

from secondop.queueing import SweptTask

from . import doctor_calls, services


@shared_task
def consultations_sweep() -> dict[str, int]:
    invites = doctor_calls.invites_due()
    for call_id in invites:
        doctor_calls.invite_enqueue(call_id=call_id)
    return {
        "reminded": services.consultation_reminders_send(),
        "cancelled": services.consultations_cancel_for_closed_cases(),
        "doctor_call_invites": len(invites),
    }


@shared_task(
    base=SweptTask, bind=True, max_retries=8, acks_late=True, time_limit=45, soft_time_limit=40
)  # under doctor_calls.INVITE_LEASE
def doctor_call_invite_task(self, call_id: int) -> str:
    """Email the patient's doctor the link to choose a time (queued on commit by
    doctor_call_propose). A transient failure retries with backoff."""
    try:
        return doctor_calls.doctor_call_invite_send(call_id=call_id)
    except doctor_calls.InviteFailed as error:
        if not error.transient:
            return "failed"
        return self.later(error)
