import os
import resource

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")

app = Celery("secondop")
# Every CELERY_* setting in secondop/settings.py configures the app: JSON only,
# time limits, acks_late with reject_on_worker_lost, and the beat schedule.
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def limit_memory(**_kwargs) -> None:
    """The per-task memory guard (settings.WORKER_MEMORY_LIMIT_MB): each prefork
    child may map at most that much address space, so one task cannot take the
    machine's memory; an allocation past it raises MemoryError in that task."""
    from django.conf import settings

    limit_mb = getattr(settings, "WORKER_MEMORY_LIMIT_MB", 0)
    if limit_mb:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# Each task's audit rows say which task wrote them (secondop.audit.context); a task
# run eagerly inside a request gives the request's source back when it ends.
_audit_tokens: dict[str, object] = {}


@task_prerun.connect
def set_audit_source(task_id=None, task=None, **_kwargs) -> None:
    from secondop.audit.context import Source, _current

    _audit_tokens[task_id] = _current.set(Source(via=f"task:{task.name}"))


@task_postrun.connect
def reset_audit_source(task_id=None, **_kwargs) -> None:
    from secondop.audit.context import _current

    token = _audit_tokens.pop(task_id, None)
    if token is not None:
        _current.reset(token)
