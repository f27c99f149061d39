import logging
import random
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import (
    ALWAYS_EMAILED,
    CalendarMethod,
    EmailPreference,
    EmailStatus,
    Kind,
    Notification,
)
from .selectors import email_wanted, unread_cache_key

logger = logging.getLogger(__name__)

# Other kinds give up after this many attempts (or NOTIFICATIONS_EMAIL_GIVE_UP_AFTER).
MAX_EMAIL_ATTEMPTS = 10
# The notices that protect an account keep trying at least this long, however many
# attempts that takes: an SMTP outage must not swallow "your password was changed".
ALWAYS_EMAILED_RETRY_FOR = timedelta(hours=24)
# Exponential backoff between attempts: 30 s, 1 min, 2 min ... capped at 30 min (below
# Redis' one-hour visibility timeout, so a countdown task is never redelivered early).
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 30 * 60


@dataclass(frozen=True)
class CalendarInvite:
    """An iCalendar file for the email to carry: `ics` is the file's text, `method`
    its iTIP method (REQUEST: an invitation or its update; CANCEL). The caller
    vouches that it holds no medical detail, as the email itself holds none."""

    ics: str
    method: str

    def __post_init__(self):
        if self.method not in CalendarMethod.values:
            raise ValueError(f"Unknown calendar method {self.method!r}")
        if not self.ics:
            raise ValueError("A calendar invite needs its file")


def notify(*, recipient, kind: str, title: str, url: str = "", reference: str = "",
           calendar: CalendarInvite | None = None) -> Notification:
    """Write the notification in the caller's transaction; deliver it after commit.

    If the transaction rolls back, nothing is sent. If the broker is unreachable
    at commit, the row stays undelivered and notifications_sweep re-queues it.
    `calendar`: an iCalendar file the email carries as an attachment.
    """
    wanted = email_wanted(user=recipient, kind=kind)
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        title=title[:200],
        url=url,
        reference=reference,
        email_status=EmailStatus.PENDING if wanted else EmailStatus.SKIPPED,
        next_attempt_at=timezone.now() if wanted else None,
        calendar_ics=calendar.ics if calendar else "",
        calendar_method=calendar.method if calendar else "",
    )
    transaction.on_commit(lambda: notification_enqueue(notification_id=notification.pk))
    return notification


def notification_enqueue(*, notification_id: int, countdown: float | None = None) -> None:
    from .tasks import notification_deliver_task

    try:
        notification_deliver_task.apply_async((notification_id,), countdown=countdown)
    except Exception:  # the broker is down: the sweep will pick the row up
        logger.warning("Could not queue notification %s; the sweep will retry it.",
                       notification_id, exc_info=True)


def notification_deliver(*, notification_id: int) -> datetime | None:
    """Make the notification visible in the app, then email it if wanted and due.

    Safe to run any number of times, even at once: only the worker that claims
    the email sends it, and a sent email is never claimed again. Returns when the
    email should be tried again if this attempt failed for now, else None.
    """
    if Notification.objects.filter(pk=notification_id, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    ):
        recipient = Notification.objects.filter(pk=notification_id).values_list(
            "recipient_id", flat=True).first()
        unread_count_changed(user_id=recipient)
    n = notification_claim_email(notification_id=notification_id)
    if n is None:
        return None
    return _attempt_email(n)


def notification_claim_email(*, notification_id: int) -> Notification | None:
    """Take the email for sending: state `sending`, owned until `lease_until`.

    Returns None when there is nothing to send now: sent, skipped or given up;
    waiting out a backoff; or claimed by another worker whose lease still holds.
    A lease that has run out means that worker died, and the email is taken over.
    """
    now = timezone.now()
    due = Q(email_status=EmailStatus.PENDING, next_attempt_at__lte=now)
    lease_over = Q(email_status=EmailStatus.SENDING, lease_until__lte=now)
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(due | lease_over, pk=notification_id)
            .first()
        )
        if n is None:
            return None  # another process got there first, or nothing is due
        if n.email_status == EmailStatus.SENDING and _out_of_retries(n, now):
            # A message that keeps killing its worker must not be retried forever.
            n.email_status = EmailStatus.FAILED
            n.lease_until = None
            n.failure_reason = f"Gave up after {n.email_attempts} attempts: worker lost"
            n.save(update_fields=["email_status", "lease_until", "failure_reason"])
            return None
        n.email_status = EmailStatus.SENDING
        n.lease_until = now + settings.NOTIFICATIONS_EMAIL_LEASE
        n.next_attempt_at = None
        n.email_attempts += 1
        n.save(update_fields=["email_status", "lease_until", "next_attempt_at", "email_attempts"])
    return n


def notification_message_id(n: Notification) -> str:
    """The same on every attempt: a resend (see README) can be recognised as one."""
    domain = (parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
              or urlsplit(settings.SITE_URL).hostname or "secondop.local")
    return f"<notification-{n.pk}@{domain}>"


def _attempt_email(n: Notification) -> datetime | None:
    # Sent outside any transaction or row lock: the claim is what keeps other
    # workers away, and the lease is what frees the row if this process dies.
    if not n.recipient.email:
        return _email_failed(n, reason="The recipient has no email address", transient=False)
    try:
        accepted = _send_email(n)
    except Exception as exc:
        reason, transient = _describe(exc), _is_transient(exc)
        # No traceback for SMTP errors: their text often carries the address.
        logger.log(logging.WARNING if transient else logging.ERROR,
                   "Email for notification %s failed: %s", n.pk, reason,
                   exc_info=not isinstance(exc, smtplib.SMTPException))
        return _email_failed(n, reason=reason, transient=transient)
    if not accepted:
        return _email_failed(n, reason="No recipient accepted", transient=False)
    # The email is out, so it is recorded as sent even if our lease ran out meanwhile
    # and another worker has the row: this is the window in which a resend happens.
    Notification.objects.filter(pk=n.pk).exclude(email_status=EmailStatus.SENT).update(
        email_status=EmailStatus.SENT, emailed_at=timezone.now(), lease_until=None,
        next_attempt_at=None, failure_reason="",
    )
    return None


def _email_failed(n: Notification, *, reason: str, transient: bool) -> datetime | None:
    now = timezone.now()
    retry_at = None
    if transient and not _out_of_retries(n, now):
        retry_at = min(now + _backoff(n.email_attempts), _give_up_at(n))
        changes = {"email_status": EmailStatus.PENDING, "next_attempt_at": retry_at}
    else:
        if transient:
            reason = f"Gave up after {n.email_attempts} attempts: {reason}"
        changes = {"email_status": EmailStatus.FAILED, "next_attempt_at": None}
    # Only while we still own the claim; if it was taken over, the new owner decides.
    updated = Notification.objects.filter(
        pk=n.pk, email_status=EmailStatus.SENDING, lease_until=n.lease_until
    ).update(lease_until=None, failure_reason=reason[:200], **changes)
    return retry_at if updated else None


def _give_up_at(n: Notification) -> datetime:
    window = settings.NOTIFICATIONS_EMAIL_GIVE_UP_AFTER
    if n.kind in ALWAYS_EMAILED:
        window = max(window, ALWAYS_EMAILED_RETRY_FOR)
    return n.created_at + window


def _out_of_retries(n: Notification, now: datetime) -> bool:
    if now >= _give_up_at(n):
        return True
    return n.kind not in ALWAYS_EMAILED and n.email_attempts >= MAX_EMAIL_ATTEMPTS


def _backoff(attempts: int) -> timedelta:
    delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 20))
    # Jitter spreads out the retries of everything that failed in the same outage.
    return timedelta(seconds=random.uniform(delay / 2, delay))


def _is_transient(exc: BaseException) -> bool:
    """Worth trying again later: the network, the SMTP server being unwell (4xx), our
    credentials. Anything else (5xx, a bad address, a template error) will not heal.
    smtplib's errors are OSErrors, so they are sorted out first."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError
                  | smtplib.SMTPAuthenticationError):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPException):
        return False
    return isinstance(exc, OSError | SoftTimeLimitExceeded)


def _describe(exc: BaseException) -> str:
    # The error's class and SMTP code only: servers echo addresses in their messages.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _msg in exc.recipients.values()})
        return f"SMTPRecipientsRefused (SMTP {', '.join(map(str, codes))})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} (SMTP {exc.smtp_code})"
    return type(exc).__name__


def _send_email(n: Notification) -> int:
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
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL,
        to=[n.recipient.email], headers={"Message-ID": notification_message_id(n)},
    )
    message.attach_alternative(html, "text/html")
    if n.calendar_ics:
        # The method is a parameter of the part's type as well as inside the file:
        # mail clients read it there to offer "add to calendar" (RFC 6047).
        name = "cancellation.ics" if n.calendar_method == CalendarMethod.CANCEL else "invitation.ics"
        message.attach(name, n.calendar_ics, f"text/calendar; method={n.calendar_method}")
    return message.send()


def unread_count_changed(*, user_id: int | None) -> None:
    """Drop the cached unread count once the change is committed (so a page in
    between cannot cache the old number again)."""
    if user_id is not None:
        key = unread_cache_key(user_id)
        transaction.on_commit(lambda: cache.delete(key))


def notification_mark_read(*, actor, notification_id: int) -> int:
    changed = Notification.objects.filter(
        pk=notification_id, recipient=actor, delivered_at__isnull=False, read_at__isnull=True
    ).update(read_at=timezone.now())
    if changed:
        unread_count_changed(user_id=actor.pk)
    return changed


def notifications_mark_all_read(*, actor) -> int:
    changed = Notification.objects.filter(
        recipient=actor, delivered_at__isnull=False, read_at__isnull=True
    ).update(read_at=timezone.now())
    if changed:
        unread_count_changed(user_id=actor.pk)
    return changed


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
