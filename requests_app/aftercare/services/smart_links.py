"""The physician's share as a SMART Health Link: issuing it with the share (the
files encrypted at once, the key only in the link shown to the patient once),
and an app resolving it (the manifest), under the share's rules: revoked,
expired or withdrawn with the request, it answers nothing.

The passcode is checked here and never logged: no audit row, access row or log
line holds it (the views mark it sensitive for error reports too)."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from requests_app.models import CaseStatus
from requests_app.reports import fhir
from requests_app.reports.models import ReportVersion
from secondop import refusals, shlink, storage
from secondop.audit.context import Source, audit_source, current_source
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access, log_event

from .. import selectors
from ..cover import CoverUnavailable, cover_filename, render_cover
from ..models import Share, ShareOpening, SmartLink
from .common import AftercareError, patient_case
from .sharing import count_bad_token, path_without_token, share_create, too_many_bad_tokens

if TYPE_CHECKING:
    from secondop.accounts.models import User

PASSCODE_MIN = 6
PASSCODE_MAX = 40
PDF_TYPE = "application/pdf"


@dataclass(frozen=True)
class Shared:
    """A share just made, and its SMART Health Link when one was asked for and
    made now ("" otherwise: a double submit cannot show a link made before)."""

    share: Share
    link: str = ""
    link_made_before: bool = False


def smart_link_url(token: str) -> str:
    return f"{settings.SITE_URL}{reverse('aftercare:smart_link_manifest', args=[token])}"


@sensitive_variables("passcode")
@transaction.atomic
def share_create_with_smart_link(
    *,
    actor: User,
    case_ref: UUID | str,
    email: str,
    name: str = "",
    consented: bool,
    passcode: str = "",
    participation: bool = False,
    language: str = "en",
) -> Shared:
    """share_create, and the same share as a SMART Health Link with an optional
    passcode. The link (with its key) is returned to be shown once; the server
    keeps the token's hash, the passcode's hash and the encrypted files."""
    if passcode and not PASSCODE_MIN <= len(passcode) <= PASSCODE_MAX:
        raise AftercareError(
            _("A passcode has %(min)s to %(max)s characters.")
            % {"min": PASSCODE_MIN, "max": PASSCODE_MAX},
            {
                "passcode": [
                    _("Use %(min)s to %(max)s characters.")
                    % {"min": PASSCODE_MIN, "max": PASSCODE_MAX}
                ]
            },
        )
    share = share_create(
        actor=actor,
        case_ref=case_ref,
        email=email,
        name=name,
        consented=consented,
        participation=participation,
        language=language,
    )
    if SmartLink.objects.filter(share=share).exists():
        return Shared(share=share, link_made_before=True)
    version = selectors.released_version(case=share.report.case)
    assert version is not None  # share_create refused otherwise, under the same lock
    return Shared(
        share=share, link=_issue(actor=actor, share=share, version=version, passcode=passcode)
    )


@sensitive_variables("passcode", "key")
def _issue(*, actor: User, share: Share, version: ReportVersion, passcode: str) -> str:
    try:
        pdf = fhir.stored_pdf(version)
        bundle = fhir.report_bundle(version, pdf=pdf).model_dump_json().encode()
    except fhir.PdfUnavailable as error:
        raise AftercareError(
            _(
                "Your report's PDF cannot be read right now, so no QR code was made. Try again later."
            )
        ) from error
    token = shlink.new_key()  # 256 random bits, base64url: also a fine URL token
    key = shlink.new_key()
    link = SmartLink(share=share, version=version, token_hash=selectors.token_hash(token))
    prefix = f"cases/{share.report.case.uuid}/smart-links/{link.uuid}/"
    link.bundle_key, link.pdf_key = f"{prefix}bundle.jwe", f"{prefix}report.jwe"
    link.passcode_hash = make_password(passcode) if passcode else ""
    storage.save_bytes(
        link.bundle_key,
        shlink.encrypt(bundle, key=key, content_type=fhir.CONTENT_TYPE).encode(),
        "application/jose",
    )
    storage.save_bytes(
        link.pdf_key,
        shlink.encrypt(pdf, key=key, content_type=PDF_TYPE).encode(),
        "application/jose",
    )
    link.save()
    log_event(
        actor=actor,
        action="aftercare.smart_link.issued",
        obj=share,
        new={"smart_link": str(link.uuid), "version": version.number, "passcode": bool(passcode)},
    )
    return shlink.link(
        url=smart_link_url(token), key=key, expires_at=share.expires_at, passcode=bool(passcode)
    )


# --- An app resolves the link --------------------------------------------------------------
class Refusal:
    UNKNOWN = "unknown"  # no such link, or no longer active: 404 (the spec's answer)
    TOO_MANY = "too_many"  # this address guessed too many tokens: 429
    PASSCODE = "passcode"  # wrong or missing passcode: 401 with remainingAttempts
    BAD_REQUEST = "bad_request"  # no recipient, not JSON: 400


class SmartLinkRefused(refusals.Refusal):
    STATUS = {
        Refusal.UNKNOWN: 404,
        Refusal.TOO_MANY: 429,
        Refusal.PASSCODE: 401,
        Refusal.BAD_REQUEST: 400,
    }

    def __init__(self, reason: str, message: str, *, remaining: int | None = None) -> None:
        super().__init__(message, status=self.STATUS[reason])
        self.reason = reason
        self.remaining = remaining


def _link_for_token(token: str) -> SmartLink | None:
    if not token or len(token) > 100:
        return None
    digest = hashlib.sha256(token.encode()).hexdigest()
    return (
        SmartLink.objects.select_related("share__report__case", "version")
        .filter(token_hash=digest)
        .first()
    )


def _inactive_reason(link: SmartLink, now: datetime.datetime) -> str:
    share = link.share
    if link.files_deleted_at is not None:
        return "revoked"
    if share.revoked_at is not None or share.report.case.status == CaseStatus.WITHDRAWN:
        return "revoked"
    if share.expires_at <= now:
        return "expired"
    if link.disabled_at is not None:
        return "disabled"
    released = selectors.released_version(case=share.report.case)
    if released is None or released.pk != link.version_id:
        return "superseded"
    return ""


@dataclass(frozen=True)
class ManifestFile:
    content_type: str
    embedded: str


@sensitive_variables("passcode")
def smart_link_manifest(*, token: str, recipient: str, passcode: str = "") -> list[ManifestFile]:
    """The files of the link `token` names, for the app that says it is
    `recipient`; or SmartLinkRefused. A wrong passcode counts against the link
    (committed before the refusal); at SMART_LINK_PASSCODE_ATTEMPTS it stops.
    Each answer is an opening the patient sees and an access-log row (no
    account, the path without the token)."""
    recipient = " ".join(recipient.split())[:200]
    if not recipient:
        raise SmartLinkRefused(Refusal.BAD_REQUEST, "The request must name its recipient.")
    found = _link_for_token(token)
    if found is None:
        if too_many_bad_tokens():
            raise SmartLinkRefused(Refusal.TOO_MANY, "Too many attempts.")
        count_bad_token()
        raise SmartLinkRefused(Refusal.UNKNOWN, "This link is not valid or no longer active.")
    now = timezone.now()
    remaining: int | None = None
    with transaction.atomic():
        link = SmartLink.objects.select_for_update().get(pk=found.pk)
        link.share = found.share
        reason = _inactive_reason(link, now)
        if not reason and link.has_passcode and not check_password(passcode, link.passcode_hash):
            link.failed_attempts += 1
            remaining = max(settings.SMART_LINK_PASSCODE_ATTEMPTS - link.failed_attempts, 0)
            fields = ["failed_attempts"]
            if remaining == 0:
                link.disabled_at = now
                fields.append("disabled_at")
            link.save(update_fields=fields)
            log_event(
                actor=None,
                action="aftercare.smart_link.wrong_passcode",
                obj=link.share,
                new={"smart_link": str(link.uuid), "remaining": remaining},
            )
    if reason:
        raise SmartLinkRefused(Refusal.UNKNOWN, "This link is not valid or no longer active.")
    if remaining is not None:
        raise SmartLinkRefused(Refusal.PASSCODE, "The passcode is not right.", remaining=remaining)
    try:
        files = [
            ManifestFile(fhir.CONTENT_TYPE, storage.read_bytes(link.bundle_key).decode()),
            ManifestFile(PDF_TYPE, storage.read_bytes(link.pdf_key).decode()),
        ]
    except (FileNotFoundError, OSError) as error:
        raise SmartLinkRefused(Refusal.UNKNOWN, "This link's files are not available.") from error
    source = current_source() or Source(via="web")
    with (
        transaction.atomic(),
        audit_source(source.via, ip=source.ip, path=path_without_token(source.path)),
    ):
        ShareOpening.objects.create(
            share=link.share,
            kind=ShareOpening.Kind.SMART_LINK,
            version=link.version,
            recipient=recipient,
        )
        log_access(viewer=None, obj=link.share, kind=AccessLog.Kind.DOWNLOAD)
    return files


# --- The link on paper ---------------------------------------------------------------------
@dataclass(frozen=True)
class Cover:
    pdf: bytes
    filename: str


@sensitive_variables("text", "payload")
@transaction.atomic
def smart_link_cover(*, actor: User, case_ref: UUID | str, text: str) -> Cover:
    """The patient's SMART Health Link as a PDF to print or fax: a cover page with
    its QR code, then the signed report (aftercare.cover). `text` is the link the
    patient was shown (the server never kept its key); it must be a live link of
    this case's report. Recorded in the audit log; nothing else is kept."""
    case = patient_case(actor=actor, case_ref=case_ref)
    try:
        payload = shlink.parse(text)
    except ValueError:
        payload = None
    token = payload.url.rsplit("/", 1)[-1] if payload is not None else ""
    link = _link_for_token(token) if token else None
    if (
        link is None
        or payload is None
        or payload.url != smart_link_url(token)
        or link.share.report.case_id != case.pk
    ):
        raise AftercareError(
            _("This is not a SMART Health Link of this report. Make a new one below.")
        )
    if _inactive_reason(link, timezone.now()):
        raise AftercareError(
            _(
                "This SMART Health Link no longer works (it was withdrawn, expired or "
                "replaced by a newer report). Make a new one below."
            )
        )
    try:
        pdf = fhir.stored_pdf(link.version)
    except fhir.PdfUnavailable as error:
        raise AftercareError(
            _("Your report's PDF cannot be read right now. Try again later.")
        ) from error
    try:
        data = render_cover(link=link, version=link.version, text=text, report_pdf=pdf)
    except CoverUnavailable as error:
        raise AftercareError(
            _("Your report's PDF cannot be read right now. Try again later.")
        ) from error
    log_event(
        actor=actor,
        action="aftercare.smart_link.printed",
        obj=link.share,
        new={"smart_link": str(link.uuid), "version": link.version.number},
    )
    return Cover(pdf=data, filename=cover_filename(case.reference or "draft", link.version))


# --- When the link stops for good: its encrypted files go ---------------------------------
def smart_links_stopped(*, limit: int = 200) -> list[int]:
    """Links whose files are still stored though the link can no longer open:
    withdrawn, expired, its request withdrawn, stopped by wrong passcodes, or
    replaced by a newer released report."""
    now = timezone.now()
    links = (
        SmartLink.objects.filter(files_deleted_at__isnull=True)
        .select_related("share__report__case", "version")
        .order_by("pk")
    )
    stopped = []
    for link in links.iterator(chunk_size=200):
        if _inactive_reason(link, now):
            stopped.append(link.pk)
            if len(stopped) >= limit:
                break
    return stopped


@transaction.atomic
def smart_link_files_delete(*, link_id: int) -> bool:
    """Delete a stopped link's encrypted files (they open with nothing the server
    keeps, but nothing is kept that has no use). Idempotent; a link still live is
    left alone. Storage errors propagate: the task retries, the sweep comes back."""
    link = (
        SmartLink.objects.select_for_update(of=("self",))
        .select_related("share__report__case", "version")
        .filter(pk=link_id, files_deleted_at__isnull=True)
        .first()
    )
    if link is None or not _inactive_reason(link, timezone.now()):
        return False
    storage.delete([link.bundle_key, link.pdf_key])
    link.files_deleted_at = timezone.now()
    link.save(update_fields=["files_deleted_at"])
    log_event(
        actor=None,
        action="aftercare.smart_link.files_deleted",
        obj=link.share,
        new={"smart_link": str(link.uuid)},
    )
    return True
