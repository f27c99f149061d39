from django.db.models import QuerySet
from django.utils import timezone

from .models import ALWAYS_EMAILED, KINDS_FOR_ROLE, EmailPreference, EmailStatus, Kind, Notification


def notification_list(*, viewer) -> QuerySet[Notification]:
    """What a person sees in their list: their own delivered notifications."""
    return Notification.objects.filter(recipient=viewer, delivered_at__isnull=False)


def notification_unread_count(*, viewer) -> int:
    return notification_list(viewer=viewer).filter(read_at__isnull=True).count()


def email_wanted(*, user, kind: str) -> bool:
    if kind in ALWAYS_EMAILED:
        return True
    if not user.is_active or not user.email:
        return False
    pref = EmailPreference.objects.filter(user=user, kind=kind).values_list("enabled", flat=True)
    return next(iter(pref), True)


def email_preferences(*, user) -> dict[str, bool]:
    """Every kind a person can receive and switch, with its current setting."""
    saved = dict(EmailPreference.objects.filter(user=user).values_list("kind", "enabled"))
    mine = KINDS_FOR_ROLE.get(user.role, frozenset())
    return {k.value: saved.get(k.value, True) for k in Kind
            if k in mine and k not in ALWAYS_EMAILED}


def notifications_due_for_sweep(*, older_than, max_attempts: int, limit: int = 500) -> list[int]:
    """Outbox rows whose task never ran (broker down, worker lost) or whose email is
    still owed, created long enough ago that their own task should have finished."""
    cutoff = timezone.now() - older_than
    undelivered = Notification.objects.filter(created_at__lt=cutoff, delivered_at__isnull=True)
    owed_email = Notification.objects.filter(
        created_at__lt=cutoff, email_status=EmailStatus.PENDING, email_attempts__lt=max_attempts
    )
    return list(
        (undelivered | owed_email).order_by("created_at").values_list("pk", flat=True)[:limit]
    )
