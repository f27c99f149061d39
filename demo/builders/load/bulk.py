"""Writing in bulk: batches, verified email addresses, and the past's timestamps."""

from contextlib import contextmanager
from itertools import islice

from allauth.account.models import EmailAddress

from secondop.accounts.models import User

BATCH = 5000


@contextmanager
def explicit_timestamps(*models):
    """bulk_create stamps auto_now/auto_now_add fields with the current time; a
    load has a past. Switch them off while it runs, and back on after."""
    fields = [
        f
        for m in models
        for f in m._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def bulk_insert(model, objects, batch: int = BATCH) -> int:
    """bulk_create an iterable in batches (never the whole load in memory)."""
    objects, made = iter(objects), 0
    while chunk := list(islice(objects, batch)):
        model.objects.bulk_create(chunk, batch_size=batch)
        made += len(chunk)
    return made


def with_emails(users: list[User]) -> None:
    User.objects.bulk_create(users, batch_size=BATCH)
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        batch_size=BATCH,
    )
