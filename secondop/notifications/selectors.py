from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import registry
from .models import EmailPreference, EmailStatus, Notification

if TYPE_CHECKING:
    from secondop.accounts.models import User


def notification_list(*, viewer: User) -> QuerySet[Notification]:
    """What a person sees in their list: their own delivered notifications."""
    return Notification.objects.filter(recipient=viewer, delivered_at__isnull=False)


# The header shows the unread count on every page: it is kept in the cache and
# dropped whenever it changes (services.unread_count_changed); the timeout is
# only a safety net.
UNREAD_CACHE_SECONDS = 300


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def notification_unread_count(*, viewer: User) -> int:
    key = unread_cache_key(viewer.pk)
    count = cache.get(key)
    if count is None:
        count = notification_list(viewer=viewer).filter(read_at__isnull=True).count()
        cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def email_wanted(*, user: User, kind: str) -> bool:
    if kind in registry.always_emailed():
        return True
    if not user.is_active or not user.email:
        return False
    pref = EmailPreference.objects.filter(user=user, kind=kind).values_list("enabled", flat=True)
    return next(iter(pref), True)


def email_preferences(*, user: User) -> dict[str, bool]:
    """Every kind a person can receive and switch, with its current setting."""
    saved = dict(EmailPreference.objects.filter(user=user).values_list("kind", "enabled"))
    mine = registry.kinds_for_role(user.role)
    return {
        k.name: saved.get(k.name, True)
        for k in registry.registered()
        if k.name in mine and not k.always_emailed
    }


def notifications_due_for_sweep(*, older_than: timedelta, limit: int = 500) -> list[int]:
    """Outbox rows whose own task was lost and must be queued again:

    - never made visible in-app, created more than `older_than` ago;
    - email pending whose next attempt was due more than `older_than` ago: its own
      task (queued on commit, or with a countdown after a failure) had its chance,
      and a row still waiting out its backoff is left alone;
    - email claimed by a worker whose lease has run out (the worker died).
    """
    now = timezone.now()
    cutoff = now - older_than
    lost_task = Q(delivered_at__isnull=True, created_at__lt=cutoff)
    email_overdue = Q(email_status=EmailStatus.PENDING, next_attempt_at__lt=cutoff)
    lease_over = Q(email_status=EmailStatus.SENDING, lease_until__lt=now)
    return list(
        Notification.objects.filter(lost_task | email_overdue | lease_over)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
