"""Queueing a Celery task after commit, without turning a broker outage into an
error page.

The change the task follows from is committed already when the task is queued, so
a broker that does not answer must not fail the request: the failure is logged and
the work stays in the database for the app's sweeps to queue again (each task's
sweep finds what it left behind: records_sweep, reports_sweep, notifications_sweep,
shares_sweep). Where no sweep would find it, `if_unqueued` does the work itself.
"""

import contextlib
import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)


# One thread at a time loads the tasks modules: two requests queueing their first task
# at the same moment in a fresh threaded process must not see a module half-imported.
_loading = threading.Lock()


def _task(task: Task | str) -> Task:
    """A task, or its registered name: a service queues its app's tasks by name, so
    services never import their tasks module (which imports them)."""
    if not isinstance(task, str):
        return task
    if task not in current_app.tasks:
        with _loading:
            if task not in current_app.tasks:
                # Celery discovers the apps' tasks modules lazily (at a worker's start);
                # a web process loads them the first time it queues one by name: the
                # task's own module (its default name is module.function), then the rest.
                module = task.rpartition(".")[0]
                if module:
                    with contextlib.suppress(ImportError):
                        importlib.import_module(module)
                current_app.loader.import_default_modules()
    return current_app.tasks[task]


def queue_now(
    task: Task | str, *args: Any, if_unqueued: Callable[[], None] | None = None, **options: Any
) -> bool:
    """Queue `task(*args)`; False (logged) when the broker is unreachable."""
    task = _task(task)
    try:
        task.apply_async(args, **options)
        return True
    except Exception:
        # The arguments are not logged: some carry an email address.
        logger.warning("Could not queue %s; left for the sweep.", task.name, exc_info=True)
    if if_unqueued is not None:
        try:
            if_unqueued()
        except Exception:
            logger.exception("%s could neither be queued nor done now.", task.name)
    return False


def queue_on_commit(task, *args, if_unqueued: Callable[[], None] | None = None, **options) -> None:
    """Queue `task(*args)` once the current transaction commits (never if it rolls
    back); see queue_now for a broker that is down."""
    transaction.on_commit(lambda: queue_now(task, *args, if_unqueued=if_unqueued, **options))


class SweptTask(Task):
    """A task whose work the database keeps, so a sweep finds what it left behind
    (as pretix's tasks do): `task.on_commit(*args)` queues it once the transaction
    commits; `self.later(error)` retries with capped exponential backoff (30 s,
    1 min, 2 min ... `backoff_cap`), and when the task runs eagerly (the embedded
    default has no broker to retry through) returns "later" for the sweep.

        @shared_task(base=SweptTask, bind=True, max_retries=8, name="reports.render")
        def report_render(self, version_id):
            try:
                return services.report_pdf_store(version_id=version_id)
            except StorageUnavailable as error:
                return self.later(error)
    """

    abstract = True
    backoff_base = 30
    backoff_cap = 1800

    def on_commit(self, *args: Any, if_unqueued: Callable[[], None] | None = None, **options: Any):
        queue_on_commit(self, *args, if_unqueued=if_unqueued, **options)

    def backoff(self) -> int:
        """The countdown before the next try."""
        return min(self.backoff_base * 2**self.request.retries, self.backoff_cap)

    def later(self, error: Exception, *, before_retry: Callable[[int], None] | None = None) -> str:
        """Try again after the backoff (`before_retry(countdown)` first, e.g. to hold a
        lease that long); eagerly, leave the work for the sweep."""
        if self.request.is_eager:
            logger.warning("%s: %s; left for the sweep", self.name, type(error).__name__)
            return "later"
        countdown = self.backoff()
        if before_retry is not None:
            before_retry(countdown)
        raise self.retry(exc=error, countdown=countdown) from error
