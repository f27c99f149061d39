"""Sending the report to the patient's physician: the share and its consent, the
email (a task, with a lease), revoking the link, and the physician opening it."""

from __future__ import annotations

import datetime
import logging
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from requests_app.access import get_or_404
from requests_app.models import Case, CaseStatus
from requests_app.reports.models import ReportVersion
from secondop import mailing, refusals
from secondop.audit.context import Source, audit_source, current_ip, current_source
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access, log_event
from secondop.languages import offered
from secondop.queueing import queue_now, queue_on_commit

from .. import consent, selectors
from ..models import Share, ShareOpening, SmartLink
from .common import DOUBLE_SUBMIT_WINDOW, AftercareError, patient_case

if TYPE_CHECKING:
    from secondop.accounts.models import User

logger = logging.getLogger(__name__)

# Queued by name: the tasks module imports this one, never the other way round.
SEND_TASK = "requests_app.aftercare.tasks.share_send_task"


# --- Sending the report to the physician ----------------------------------------------
@transaction.atomic
def share_create(
    *,
    actor: User,
    case_ref: UUID | str,
    email: str,
    name: str = "",
    consented: bool,
    participation: bool = False,
    language: str = "en",
) -> Share:
    """Send the released report to a physician, with the patient's consent.

    The share is written now; the email (with the only copy of the token) goes
    out from a task queued on commit."""
    case = patient_case(actor=actor, case_ref=case_ref)
    if not consented:
        raise AftercareError(_("Tick the box to agree to send your report."))
    version = selectors.released_version(case=case)
    if version is None:
        raise AftercareError(
            _("Your report is not ready yet. You can send it to your doctor once it is.")
        )
    if case.status == CaseStatus.WITHDRAWN:
        raise AftercareError(_("This request is withdrawn: its report can no longer be sent."))
    now = timezone.now()
    # Under the case's lock, so two submits at once make one link.
    earlier = Share.objects.filter(
        report_id=version.report_id,
        created_by=actor,
        recipient_email__iexact=email.strip(),
        revoked_at__isnull=True,
        created_at__gte=now - DOUBLE_SUBMIT_WINDOW,
    ).first()
    if earlier is not None:
        return earlier
    share = Share.objects.create(
        report_id=version.report_id,
        created_by=actor,
        recipient_email=email.strip(),
        recipient_name=name.strip(),
        language=language if offered(language) else settings.LANGUAGE_CODE,
        expires_at=now + datetime.timedelta(days=settings.SHARE_LINK_DAYS),
        consent_version=consent.VERSION,
        consented_at=now,
        consent_ip=current_ip(),
        participation_consent_version=consent.PARTICIPATION_VERSION if participation else "",
        participation_consented_at=now if participation else None,
    )
    # The address is the disclosure's recipient (an accounting of disclosures).
    log_event(
        actor=actor,
        action="aftercare.share.created",
        obj=share,
        new={
            "case": case.reference,
            "recipient_email": share.recipient_email,
            "expires_at": share.expires_at.isoformat(),
            "consent_version": share.consent_version,
            "participation_consent_version": share.participation_consent_version,
        },
    )
    queue_on_commit(SEND_TASK, share.pk)
    return share


def share_enqueue(*, share_id: int) -> None:
    """Queue the physician's email now (the broker down: shares_sweep queues it
    again)."""
    queue_now(SEND_TASK, share_id)


class SendFailed(Exception):
    """Sending did not work this time; `transient` says whether to try again."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


# How long a worker owns a share it is sending: longer than the task's time limit
# (45 s), short enough that a dead worker's email goes again within 2 minutes (the
# lease, then the next minute's sweep).
SEND_LEASE = datetime.timedelta(seconds=60)
MAX_SEND_ATTEMPTS = 8


def share_send(*, share_id: int) -> str:
    """Email the physician their link. Safe to run any number of times, even at
    once: a conditional update claims the share (and gives it a new token) only
    when it is unsent, not revoked, not expired and not claimed by a live worker.

    The token is made here, in the worker, and leaves it only in the email: no
    task argument, database row or log holds it. Raises SendFailed when the
    email did not go; `transient` failures are for the task to retry."""
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    claimable = Q(
        pk=share_id,
        sent_at__isnull=True,
        revoked_at__isnull=True,
        failed_at__isnull=True,
        expires_at__gt=now,
    ) & (Q(send_claimed_until__isnull=True) | Q(send_claimed_until__lte=now))
    claimed = Share.objects.filter(claimable).update(
        token_hash=selectors.token_hash(token),
        send_claimed_until=now + SEND_LEASE,
        send_attempts=F("send_attempts") + 1,
    )
    if not claimed:
        return "nothing to send"
    share = Share.objects.get(pk=share_id)
    try:
        accepted = _send_share_email(share, token)
    except Exception as exc:
        transient = mailing.is_transient(exc)
        reason = mailing.failure_code(exc)
        logger.log(
            logging.WARNING if transient else logging.ERROR,
            "Email for share %s failed: %s",
            share_id,
            reason,
        )
        _send_failed(share, reason=reason, transient=transient)
        raise SendFailed(reason, transient=transient) from exc
    if not accepted:
        _send_failed(share, reason="No recipient accepted", transient=False)
        raise SendFailed("No recipient accepted", transient=False)
    Share.objects.filter(pk=share_id).update(sent_at=timezone.now(), send_claimed_until=None)
    return "sent"


def _send_failed(share: Share, *, reason: str, transient: bool) -> None:
    if transient and share.send_attempts < MAX_SEND_ATTEMPTS:
        # Free the claim at once: the retry (or the sweep) takes it again.
        Share.objects.filter(pk=share.pk, sent_at__isnull=True).update(send_claimed_until=None)
        return
    Share.objects.filter(pk=share.pk, sent_at__isnull=True).update(
        send_claimed_until=None, failed_at=timezone.now(), failure_reason=reason[:200]
    )


def share_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('aftercare:shared_report', args=[token])}"


def _send_share_email(share: Share, token: str) -> int:
    with translation.override(share.language):  # the language the patient chose for it
        return _send_share_email_now(share, token)


def _send_share_email_now(share: Share, token: str) -> int:
    # No medical detail, no patient's name, not even the physician's name: the
    # email says that a patient shared a report, where, and until when.
    context = {
        "url": share_url(token),
        "expires_at": share.expires_at,
        "support_email": settings.SECONDOP_SUPPORT_EMAIL,
    }
    subject = " ".join(render_to_string("aftercare/email/share_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("aftercare/email/share_message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[share.recipient_email],
        headers={"Message-ID": mailing.message_id(f"share-{share.uuid}")},
    )
    message.attach_alternative(
        render_to_string("aftercare/email/share_message.html", context), "text/html"
    )
    return message.send()


@transaction.atomic
def share_bounced(bounce: mailing.Bounce) -> bool:
    """The physician's mail server returned the link's email after accepting it
    (secondop.mailing): the patient's share page says it was not delivered, so
    they can check the address and send it again. Nobody received the token."""
    share = (
        Share.objects.select_for_update()
        .filter(uuid=bounce.ref, sent_at__isnull=False, failed_at__isnull=True)
        .first()
    )
    if share is None or share.openings.exists():  # opened: it plainly arrived
        return False
    share.failed_at = timezone.now()
    share.failure_reason = f"Returned ({bounce.description})"
    share.save(update_fields=["failed_at", "failure_reason"])
    log_event(
        actor=None, action="aftercare.share.bounced", obj=share, new={"status": bounce.status}
    )
    return True


def shares_due_for_sweep(
    *, older_than: datetime.timedelta = datetime.timedelta(seconds=60), limit: int = 500
) -> list[int]:
    """Shares whose email a lost task never sent: unsent, not failed, not
    revoked, not expired, and not claimed by a live worker."""
    now = timezone.now()
    return list(
        Share.objects.filter(
            Q(send_claimed_until__isnull=True) | Q(send_claimed_until__lte=now),
            sent_at__isnull=True,
            failed_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
            created_at__lte=now - older_than,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def share_revoke(*, actor: User, share_ref: UUID | str) -> Share:
    """The patient withdraws a link: from now on it shows "withdrawn", never the
    report. Revoking twice changes nothing."""
    found = get_or_404(Share.objects.select_related("report__case"), uuid=share_ref)
    patient_case(actor=actor, case_ref=found.report.case.uuid)
    share = Share.objects.select_for_update().get(pk=found.pk)
    if share.revoked_at is not None:
        return share
    share.revoked_at = timezone.now()
    share.revoked_by = actor
    share.save(update_fields=["revoked_at", "revoked_by"])
    log_event(
        actor=actor,
        action="aftercare.share.revoked",
        obj=share,
        new={"revoked_at": share.revoked_at.isoformat()},
    )
    smart_link_id = SmartLink.objects.filter(share=share).values_list("pk", flat=True).first()
    if smart_link_id is not None:
        # Its encrypted files go once this commits (the sweep catches a lost task).
        queue_on_commit("requests_app.aftercare.tasks.smart_link_files_delete", smart_link_id)
    return share


# --- The physician opens the link ---------------------------------------------------------
class Refusal:
    UNKNOWN = "unknown"  # no such token: 404
    TOO_MANY = "too_many"  # this address guessed too often: 429
    REVOKED = "revoked"  # 410
    EXPIRED = "expired"  # 410
    UNAVAILABLE = "unavailable"  # no released version any more: 410


class ShareRefused(refusals.Refusal):
    """The physician's link does not open: `reason` (a Refusal code) says why, and
    sets the page's status; `share` is the link when the token named one."""

    STATUS = {
        Refusal.UNKNOWN: 404,
        Refusal.TOO_MANY: 429,
        Refusal.REVOKED: 410,
        Refusal.EXPIRED: 410,
        Refusal.UNAVAILABLE: 410,
    }

    def __init__(self, reason: str, share: Share | None = None) -> None:
        words = {
            Refusal.TOO_MANY: _("Too many attempts"),
            Refusal.REVOKED: _("This link was withdrawn"),
            Refusal.EXPIRED: _("This link has expired"),
            Refusal.UNAVAILABLE: _("This report is no longer available"),
        }
        message = words.get(reason, _("This link is not valid"))
        super().__init__(message, status=self.STATUS[reason])
        self.reason = reason
        self.share = share


@dataclass(frozen=True)
class Opened:
    share: Share
    case: Case
    version: ReportVersion


_TOKEN_SEGMENT = re.compile(r"(/shared/|/shl/|/doctor-call/)[^/]+")


def path_without_token(path: str) -> str:
    """A physician's link (its SMART Health Link's manifest, their call's page) as
    logs may show it: the token replaced."""
    return _TOKEN_SEGMENT.sub(r"\1[token]", path)


def _bad_token_key() -> str:
    return f"aftercare:bad-token:{current_ip() or 'unknown'}"


def too_many_bad_tokens() -> bool:
    """Whether the address of the request in progress has tried too many wrong tokens."""
    return (cache.get(_bad_token_key()) or 0) >= settings.SHARE_BAD_TOKEN_LIMIT


def count_bad_token() -> None:
    """Count a wrong token against the address of the request in progress."""
    key = _bad_token_key()
    cache.add(key, 0, settings.SHARE_BAD_TOKEN_WINDOW)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, settings.SHARE_BAD_TOKEN_WINDOW)


def share_open(*, token: str, kind: str = ShareOpening.Kind.VIEW) -> Opened:
    """The physician's link: the report it was made for, or ShareRefused.

    An address that has tried SHARE_BAD_TOKEN_LIMIT wrong tokens is answered 429
    for every further wrong one until the window passes. A right token always
    opens: a hospital's physicians share one address, and one of them mistyping
    must not lock the others out (a 256-bit token is not found by guessing; the
    limit only keeps guessers from loading the server). Every opening is recorded for the patient to see
    (ShareOpening) and in the access log (no account: actor None, the share as
    the object, the path without the token)."""
    share = selectors.share_for_token(token=token)
    if share is None:
        if too_many_bad_tokens():
            raise ShareRefused(Refusal.TOO_MANY)
        count_bad_token()
        raise ShareRefused(Refusal.UNKNOWN)
    # Withdrawing the request withdraws the authorisation to disclose it
    # (requests_app.authorisation): its links stop as if each were revoked.
    if share.revoked_at is not None or share.report.case.status == CaseStatus.WITHDRAWN:
        raise ShareRefused(Refusal.REVOKED, share)
    if share.is_expired:
        raise ShareRefused(Refusal.EXPIRED, share)
    version = selectors.released_version(case=share.report.case)
    if version is None:
        raise ShareRefused(Refusal.UNAVAILABLE, share)
    # The access log sees the same client address and the path without the token
    # (a log is read by more people than the link was for).
    source = current_source() or Source(via="web")
    with (
        transaction.atomic(),
        audit_source(source.via, ip=source.ip, path=path_without_token(source.path)),
    ):
        ShareOpening.objects.create(share=share, kind=kind, version=version)
        log_access(
            viewer=None,
            obj=share,
            kind=AccessLog.Kind.DOWNLOAD
            if kind == ShareOpening.Kind.DOWNLOAD
            else AccessLog.Kind.VIEW,
        )
    return Opened(share=share, case=share.report.case, version=version)
