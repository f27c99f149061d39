import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from .models import EmailPreference, EmailStatus, Kind, Notification
from .selectors import email_wanted

logger = logging.getLogger(__name__)

MAX_EMAIL_ATTEMPTS = 10


def notify(*, recipient, kind: str, title: str, url: str = "", reference: str = "") -> Notification:
    """Write the notification in the caller's transaction; deliver it after commit.

    If the transaction rolls back, nothing is sent. If the broker is unreachable
    at commit, the row stays undelivered and notifications_sweep re-queues it.
    """
    wanted = email_wanted(user=recipient, kind=kind)
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        title=title[:200],
        url=url,
        reference=reference,
        email_status=EmailStatus.PENDING if wanted else EmailStatus.SKIPPED,
    )
    transaction.on_commit(lambda: notification_enqueue(notification_id=notification.pk))
    return notification


def notification_enqueue(*, notification_id: int) -> None:
    from .tasks import notification_deliver_task

    try:
        notification_deliver_task.delay(notification_id)
    except Exception:  # the broker is down: the sweep will pick the row up
        logger.warning("Could not queue notification %s; the sweep will retry it.",
                       notification_id, exc_info=True)


def notification_deliver(*, notification_id: int) -> None:
    """Make the notification visible in the app, then email it if wanted.

    Safe to run any number of times, even at once: each step locks the row and
    checks whether it was already done, so the email goes out once.
    """
    with transaction.atomic():
        n = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if n is None:
            return
        if n.delivered_at is None:
            n.delivered_at = timezone.now()
            n.save(update_fields=["delivered_at"])
    if n.email_status != EmailStatus.PENDING:
        return

    Notification.objects.filter(pk=notification_id).update(email_attempts=F("email_attempts") + 1)
    with transaction.atomic():
        n = Notification.objects.select_for_update().select_related("recipient").get(
            pk=notification_id
        )
        if n.email_status != EmailStatus.PENDING:
            return
        # An SMTP error raises here, rolls back, and the task retries with backoff.
        _send_email(n)
        n.email_status = EmailStatus.SENT
        n.emailed_at = timezone.now()
        n.save(update_fields=["email_status", "emailed_at"])


def notification_give_up_email(*, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id, email_status=EmailStatus.PENDING).update(
        email_status=EmailStatus.FAILED
    )


def _send_email(n: Notification) -> None:
    # No medical detail in email: the kind, the reference and a link to sign in.
    context = {
        "notification": n,
        "kind": Kind(n.kind),
        "recipient_name": n.recipient.get_short_name(),
        "sign_in_url": f"{settings.SITE_URL}/accounts/login/",
        "preferences_url": f"{settings.SITE_URL}/notifications/preferences/",
        "support_email": settings.SECONDOP_SUPPORT_EMAIL,
    }
    subject = " ".join(
        render_to_string("notifications/email/notification_subject.txt", context).split()
    )
    text = render_to_string("notifications/email/notification_message.txt", context)
    html = render_to_string("notifications/email/notification_message.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[n.recipient.email]
    )
    message.attach_alternative(html, "text/html")
    message.send()


def notification_mark_read(*, actor, notification_id: int) -> int:
    return Notification.objects.filter(
        pk=notification_id, recipient=actor, delivered_at__isnull=False, read_at__isnull=True
    ).update(read_at=timezone.now())


def notifications_mark_all_read(*, actor) -> int:
    return Notification.objects.filter(
        recipient=actor, delivered_at__isnull=False, read_at__isnull=True
    ).update(read_at=timezone.now())


@transaction.atomic
def email_preferences_update(*, actor, enabled: dict[str, bool]) -> None:
    from secondop.audit.services import log_event

    from .selectors import email_preferences

    before = email_preferences(user=actor)
    for kind, on in enabled.items():
        if kind not in before or before[kind] == on:
            continue
        EmailPreference.objects.update_or_create(user=actor, kind=kind, defaults={"enabled": on})
    after = email_preferences(user=actor)
    if after != before:
        log_event(actor=actor, action="notifications.preferences.changed", obj=actor,
                  old=before, new=after)
