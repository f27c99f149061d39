from __future__ import annotations

import logging
import random
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from secondop import mailing
from secondop.languages import speaking_to
from secondop.queueing import queue_now

from . import registry
from .models import CalendarMethod, EmailPreference, EmailStatus, Notification
from .selectors import email_wanted, unread_cache_key

if TYPE_CHECKING:
    from secondop.accounts.models import User

logger = logging.getLogger(__name__)

# Queued by name: the tasks module imports this one, never the other way round.
DELIVER_TASK = "secondop.notifications.tasks.notification_deliver_task"

# Other kinds give up after this many attempts (or NOTIFICATIONS_EMAIL_GIVE_UP_AFTER).
MAX_EMAIL_ATTEMPTS = 10
# The notices that protect an account keep trying at least this long, however many
# attempts that takes: an SMTP outage must not swallow "your password was changed".
ALWAYS_EMAILED_RETRY_FOR = timedelta(hours=24)
# Exponential backoff between attempts: 30 s, 1 min, 2 min ... capped at 30 min (below
# Redis' one-hour visibility timeout, so a countdown task is never redelivered early).
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 30 * 60
# The most notifications one digest email lists; the rest go in the next one.
DIGEST_MAX = 20


@dataclass(frozen=True)
class CalendarInvite:
    """An iCalendar file for the email to carry: `ics` is the file's text, `method`
    its iTIP method (REQUEST: an invitation or its update; CANCEL). The caller
    vouches that it holds no medical detail, as the email itself holds none."""

    ics: str
    method: str

    def __post_init__(self) -> None:
        if self.method not in CalendarMethod.values:
            raise ValueError(f"Unknown calendar method {self.method!r}")
        if not self.ics:
            raise ValueError("A calendar invite needs its file")


@dataclass(frozen=True)
class EmailText:
    """The email's own words, from the app that raises the notification: a subject
    and a sentence that say what happened and what to do ("A case is offered to
    you. Please answer by ..."), and the words of the link to the page to act on.
    The caller vouches that none holds a medical detail."""

    subject: str
    sentence: str
    action: str = ""


def notify(
    *,
    recipient: User,
    kind: str,
    title: str,
    url: str = "",
    reference: str = "",
    email: EmailText | None = None,
    calendar: CalendarInvite | None = None,
) -> Notification:
    """Write the notification in the caller's transaction; deliver it after commit.

    If the transaction rolls back, nothing is sent. If the broker is unreachable
    at commit, the row stays undelivered and notifications_sweep re-queues it.
    `url`: the page to act on (a path); the email links to it through sign-in.
    `email`: the email's words (without them it says there is news).
    `calendar`: an iCalendar file the email carries as an attachment.

    It shows in the app at once. Its email waits NOTIFICATIONS_DIGEST_WINDOW, so
    that what else happens to the same person meanwhile goes out with it as one
    email; a security notice and a calendar file go at once, on their own.
    """
    registry.notice_kind(kind)  # a kind no app registered is a bug: refuse it here
    wanted = email_wanted(user=recipient, kind=kind)
    now = timezone.now()
    wait = (
        settings.NOTIFICATIONS_DIGEST_WINDOW
        if kind not in registry.always_emailed() and not calendar
        else timedelta(0)
    )
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        title=title[:200],
        url=url,
        reference=reference,
        email_subject=email.subject[:200] if email else "",
        email_sentence=email.sentence[:500] if email else "",
        email_action=email.action[:100] if email else "",
        email_status=EmailStatus.PENDING if wanted else EmailStatus.SKIPPED,
        next_attempt_at=now + wait if wanted else None,
        calendar_ics=calendar.ics if calendar else "",
        calendar_method=calendar.method if calendar else "",
    )
    transaction.on_commit(lambda: notification_enqueue(notification_id=notification.pk))
    if wanted and wait:
        # In-app at once (above); the email when the window ends, with whatever else
        # for this person is waiting by then. Lost, the sweep sends it a little later.
        transaction.on_commit(
            lambda: notification_enqueue(
                notification_id=notification.pk, countdown=wait.total_seconds() + 1
            )
        )
    return notification


def _digestible(n: Notification) -> bool:
    """Goes out with others: not a security notice (it goes at once, alone), nor
    a calendar file (a mail client reads one invitation per email)."""
    return n.kind not in registry.always_emailed() and not n.calendar_ics


def notification_enqueue(*, notification_id: int, countdown: float | None = None) -> None:
    """Queue the delivery now (the broker down: notifications_sweep picks the row
    up)."""
    queue_now(DELIVER_TASK, notification_id, countdown=countdown)


def notification_deliver(*, notification_id: int) -> datetime | None:
    """Make the notification visible in the app, then email it if wanted and due.

    Safe to run any number of times, even at once: only the worker that claims
    the email sends it, and a sent email is never claimed again. Returns when the
    email should be tried again if this attempt failed for now, else None.
    """
    if Notification.objects.filter(pk=notification_id, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    ):
        recipient = (
            Notification.objects.filter(pk=notification_id)
            .values_list("recipient_id", flat=True)
            .first()
        )
        unread_count_changed(user_id=recipient)
    n = notification_claim_email(notification_id=notification_id)
    if n is None:
        return None
    return _attempt_email(n)


def notification_claim_email(*, notification_id: int) -> Notification | None:
    """Take the email for sending: state `sending`, owned until `lease_until`.

    Returns None when there is nothing to send now: sent, skipped or given up;
    waiting out a backoff or its digest window; or claimed by another worker
    whose lease still holds. A lease that has run out means that worker died,
    and the email is taken over.

    A digest: the other emails to the same person raised from a window before it
    on, that are waiting (gathering, due, or left by a dead worker), are claimed
    with it, under the same lease, and go out in the same email; `n.digest` lists them all, `n` first. Rows another
    worker is claiming at this moment are skipped, never waited for.
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
            _give_up_lost(n)
            return None
        others = []
        window = settings.NOTIFICATIONS_DIGEST_WINDOW
        if window and _digestible(n):
            # Its neighbours in time: an older email still pending is a retry, on its own
            # clock (a digest that failed comes back together, led by its oldest).
            waiting = Q(email_status=EmailStatus.PENDING) | lease_over
            others = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(waiting, recipient_id=n.recipient_id, created_at__gte=n.created_at - window)
                .exclude(pk=n.pk)
                .exclude(kind__in=registry.always_emailed())
                .filter(calendar_ics="")
                .order_by("created_at", "pk")[: DIGEST_MAX - 1]
            )
        lease = now + settings.NOTIFICATIONS_EMAIL_LEASE
        claimed = []
        for row in [n, *others]:
            if row.email_status == EmailStatus.SENDING and _out_of_retries(row, now):
                _give_up_lost(row)
                continue
            row.email_status = EmailStatus.SENDING
            row.lease_until = lease
            row.next_attempt_at = None
            row.email_attempts += 1
            row.save(
                update_fields=["email_status", "lease_until", "next_attempt_at", "email_attempts"]
            )
            row.recipient = n.recipient
            claimed.append(row)
    n.digest = claimed
    return n


def _give_up_lost(n: Notification) -> None:
    # A message that keeps killing its worker must not be retried forever.
    n.email_status = EmailStatus.FAILED
    n.lease_until = None
    n.failure_reason = f"Gave up after {n.email_attempts} attempts: worker lost"
    n.save(update_fields=["email_status", "lease_until", "failure_reason"])


def notification_message_id(n: Notification) -> str:
    """The same on every attempt: a resend (docs/architecture.md) can be recognised as one.
    A digest takes the id of its oldest notification."""
    first = min(row.pk for row in getattr(n, "digest", None) or [n])
    return mailing.message_id(f"notification-{first}")


def _attempt_email(n: Notification) -> datetime | None:
    # Sent outside any transaction or row lock: the claim is what keeps other
    # workers away, and the lease is what frees the rows if this process dies.
    rows = getattr(n, "digest", None) or [n]
    if not n.recipient.email:
        return _batch_failed(rows, reason="The recipient has no email address", transient=False)
    try:
        accepted = _send_email(n, rows)
    except Exception as exc:
        reason, transient = mailing.failure_code(exc), mailing.is_transient(exc)
        # No traceback for SMTP errors: their text often carries the address.
        logger.log(
            logging.WARNING if transient else logging.ERROR,
            "Email for notification %s failed: %s",
            n.pk,
            reason,
            exc_info=not isinstance(exc, smtplib.SMTPException),
        )
        return _batch_failed(rows, reason=reason, transient=transient)
    if not accepted:
        return _batch_failed(rows, reason="No recipient accepted", transient=False)
    # The email is out, so it is recorded as sent even if our lease ran out meanwhile
    # and another worker has the rows: this is the window in which a resend happens.
    Notification.objects.filter(pk__in=[row.pk for row in rows]).exclude(
        email_status=EmailStatus.SENT
    ).update(
        email_status=EmailStatus.SENT,
        emailed_at=timezone.now(),
        lease_until=None,
        next_attempt_at=None,
        failure_reason="",
        emailed_with=rows[0].pk,
    )
    return None


def _batch_failed(rows: list[Notification], *, reason: str, transient: bool) -> datetime | None:
    """Each notification of a failed email decides on its own whether to try again
    (its own attempts and age); the first retry time is when to come back. One
    jitter for the whole email: its rows come back together, as one email again."""
    jitter = random.uniform(0.5, 1)
    retries = [
        _email_failed(row, reason=reason, transient=transient, jitter=jitter) for row in rows
    ]
    return min((at for at in retries if at is not None), default=None)


def _email_failed(
    n: Notification, *, reason: str, transient: bool, jitter: float
) -> datetime | None:
    now = timezone.now()
    retry_at = None
    if transient and not _out_of_retries(n, now):
        retry_at = min(now + _backoff(n.email_attempts, jitter), _give_up_at(n))
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
    if n.kind in registry.always_emailed():
        window = max(window, ALWAYS_EMAILED_RETRY_FOR)
    return n.created_at + window


def _out_of_retries(n: Notification, now: datetime) -> bool:
    if now >= _give_up_at(n):
        return True
    return n.kind not in registry.always_emailed() and n.email_attempts >= MAX_EMAIL_ATTEMPTS


def _backoff(attempts: int, jitter: float) -> timedelta:
    """`jitter` (0.5 to 1) spreads out the retries of the emails that failed in the
    same outage."""
    delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 20))
    return timedelta(seconds=delay * jitter)


def notification_link(url: str) -> str:
    """The page to act on, through sign-in and back: the sign-in page with the
    page as `next` (a signed-in reader goes straight on). Only a path of ours."""
    login = f"{settings.SITE_URL}{reverse('account_login')}"
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return login
    return f"{login}?{urlencode({'next': url})}"


def _email_lines(n: Notification) -> dict[str, str]:
    """What one notification says in an email: a subject, a sentence, the link's words."""
    if n.email_subject and n.email_sentence:
        return {
            "subject": n.email_subject,
            "sentence": n.email_sentence,
            "action": n.email_action or gettext("Sign in to see it"),
        }
    if n.reference:
        news = gettext("There is news on %(ref)s") % {"ref": n.reference}
        sentence = gettext("There is news on %(ref)s.") % {"ref": n.reference}
    else:
        news = gettext("There is news for you in SecondOp")
        sentence = gettext("There is news for you in SecondOp.")
    return {"subject": news, "sentence": sentence, "action": gettext("Sign in to see it")}


def email_subject_for(rows: list[Notification]) -> str:
    if len(rows) == 1:
        return _email_lines(rows[0])["subject"]
    references = {row.reference for row in rows}
    if len(references) == 1 and rows[0].reference:
        return gettext("%(n)s updates on %(ref)s") % {"n": len(rows), "ref": rows[0].reference}
    return gettext("%(n)s updates from SecondOp") % {"n": len(rows)}


def _send_email(n: Notification, rows: list[Notification] | None = None) -> int:
    # In the recipient's language: the words the app stored (made in it, see
    # secondop.languages.speaking_to) and the email's own around them.
    with speaking_to(n.recipient):
        return _send_email_now(n, rows)


def _send_email_now(n: Notification, rows: list[Notification] | None = None) -> int:
    # No medical detail in email: what happened, in the words of the app that said
    # it (checked by the privacy test), the reference and a link through sign-in.
    rows = rows or [n]
    items = [
        {**_email_lines(row), "link": notification_link(row.url), "notification": row}
        for row in rows
    ]
    name = n.recipient.greeting_name()
    context = {
        "notification": n,
        "kind": registry.label(n.kind),
        "items": items,
        "digest": len(items) > 1,
        "recipient_name": name,
        "sign_in_url": f"{settings.SITE_URL}{reverse('account_login')}",
        "preferences_url": notification_link(reverse("notifications:preferences")),
        "support_email": settings.SECONDOP_SUPPORT_EMAIL,
    }
    subject = " ".join(email_subject_for(rows).split())
    text = render_to_string("notifications/email/notification_message.txt", context)
    html = render_to_string("notifications/email/notification_message.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[n.recipient.email],
        headers={"Message-ID": notification_message_id(n)},
    )
    message.attach_alternative(html, "text/html")
    if n.calendar_ics:
        # The method is a parameter of the part's type as well as inside the file:
        # mail clients read it there to offer "add to calendar" (RFC 6047).
        name = (
            "cancellation.ics" if n.calendar_method == CalendarMethod.CANCEL else "invitation.ics"
        )
        message.attach(name, n.calendar_ics, f"text/calendar; method={n.calendar_method}")
    return message.send()


def unread_count_changed(*, user_id: int | None) -> None:
    """Drop the cached unread count once the change is committed (so a page in
    between cannot cache the old number again)."""
    if user_id is not None:
        key = unread_cache_key(user_id)
        transaction.on_commit(lambda: cache.delete(key))


def notification_mark_read(*, actor: User, notification_id: int) -> int:
    changed = Notification.objects.filter(
        pk=notification_id, recipient=actor, delivered_at__isnull=False, read_at__isnull=True
    ).update(read_at=timezone.now())
    if changed:
        unread_count_changed(user_id=actor.pk)
    return changed


def notifications_mark_all_read(*, actor: User) -> int:
    changed = Notification.objects.filter(
        recipient=actor, delivered_at__isnull=False, read_at__isnull=True
    ).update(read_at=timezone.now())
    if changed:
        unread_count_changed(user_id=actor.pk)
    return changed


@transaction.atomic
def email_preferences_update(*, actor: User, enabled: dict[str, bool]) -> None:
    from secondop.audit.services import log_event

    from .selectors import email_preferences

    before = email_preferences(user=actor)
    for kind, on in enabled.items():
        if kind not in before or before[kind] == on:
            continue
        EmailPreference.objects.update_or_create(user=actor, kind=kind, defaults={"enabled": on})
    after = email_preferences(user=actor)
    if after != before:
        log_event(
            actor=actor,
            action="notifications.preferences.changed",
            obj=actor,
            old=before,
            new=after,
        )
