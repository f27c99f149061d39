"""Queueing a Celery task after commit, without turning a broker outage into an
error page.

The change the task follows from is committed already when the task is queued, so
a broker that does not answer must not fail the request: the failure is logged and
the work stays in the database for the app's sweeps to queue again (each task's
sweep finds what it left behind: records_sweep, reports_sweep, notifications_sweep,
shares_sweep). Where no sweep would find it, `if_unqueued` does the work itself.
"""

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_now(task, *args, if_unqueued: Callable[[], None] | None = None, **options) -> bool:
    """Queue `task(*args)`; False (logged) when the broker is unreachable."""
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
