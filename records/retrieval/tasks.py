"""Records retrieval's background work: the records office's email (with a lease,
retried on a transient failure), and the sweep (CELERY_BEAT_SCHEDULE
"retrieval-sweep") that queues again the emails a lost task never sent and sends
the case manager's reminders on day 10, 20 and 28. Tasks take ids (never an
address) and are idempotent: the services claim each row before acting."""

from celery import shared_task

from secondop.queueing import SweptTask

from . import services


@shared_task(
    base=SweptTask,
    bind=True,
    max_retries=services.MAX_SEND_ATTEMPTS,
    acks_late=True,
    time_limit=45,
    soft_time_limit=40,
)  # under services.SEND_LEASE
def source_email_send_task(self, source_id: int) -> str:
    try:
        return services.source_email_send(source_id=source_id)
    except services.SendFailed as error:
        if not error.transient:
            return "failed"
        return self.later(error)


@shared_task
def retrieval_sweep() -> dict[str, int]:
    ids = services.source_emails_due_for_sweep()
    for source_id in ids:
        services.source_enqueue(source_id=source_id)
    return {"requeued": len(ids), "reminded": services.source_reminders_send()}
