"""A records office's own upload link: one source, one case, no account.

The token is random (256 bits) and only its SHA-256 is stored, as for a physician's
link (requests_app.aftercare): the letter that carries it is its only copy. A link
opens for 30 days (OFFICE_LINK_DAYS); the case manager can add 30 days or revoke
every live link of a source. A wrong token counts against the address that tried it
(429 past OFFICE_BAD_TOKEN_LIMIT in the window) but a right token always opens: a
hospital's records staff share one address.

Uploads through a link go through the patient's own upload services (records.services
.uploads: the same slots, limits, signing and verification), with the source as the
sender: no account, the source's name on the record, an OfficeUpload row tying it to
the link. Each slot, sign, confirm and cancel checks the link again, and only the
records opened through that very link are reachable through it."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from records.models import Category, Record, RecordFile
from records.services import RecordError, uploads
from requests_app import access
from requests_app.access import Relation
from requests_app.models import CLOSED_STATES, Case, CaseStatus
from secondop.audit.context import current_ip
from secondop.audit.services import log_access, log_event
from secondop.refusals import Refusal

from . import selectors
from .models import OfficeLink, OfficeUpload, Received, RecordSource, Wanted

if TYPE_CHECKING:
    from secondop.accounts.models import User

_CASE_MANAGER = frozenset({Relation.CASE_MANAGER})

# What each thing asked for is filed as; anything else is "records".
CATEGORY_FOR: dict[str, str] = {
    Wanted.PATHOLOGY_REPORT: Category.PATHOLOGY,
    Wanted.IMAGING_DICOM: Category.IMAGING,
    Wanted.IMAGING_REPORT: Category.IMAGING,
    Wanted.OPERATIVE_NOTES: Category.OPERATIVE,
    Wanted.RECENT_LABS: Category.LABS,
    Wanted.VISIT_NOTES: Category.RECORDS,
}


def token_hash(token: str) -> str:
    """The SHA-256 of a 256-bit random token: no salt or stretching is needed."""
    return hashlib.sha256(token.encode()).hexdigest()


def office_url(token: str) -> str:
    return settings.SITE_URL + reverse("retrieval:office", args=[token])


def link_days() -> datetime.timedelta:
    return datetime.timedelta(days=settings.OFFICE_LINK_DAYS)


def categories_for(source: RecordSource) -> list[str]:
    """The kinds of record the office may file, from what was asked for."""
    kinds = [CATEGORY_FOR[w] for w in source.wanted if w in CATEGORY_FOR]
    return list(dict.fromkeys([*kinds, Category.RECORDS]))


# --- The case manager's side -----------------------------------------------------------
def link_issue(*, source: RecordSource, actor: User | None) -> str:
    """A new link for `source`; returns its token (never stored, never logged). Made
    for each letter that leaves: the email task's every attempt, each letter the case
    manager prints to fax or post."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = OfficeLink.objects.create(
            source=source,
            token_hash=token_hash(token),
            created_by=actor,
            expires_at=timezone.now() + link_days(),
        )
        log_event(
            actor=actor,
            action="retrieval.link.issued",
            obj=link,
            new={"case": source.case.reference, "source": str(source.uuid)},
        )
    return token


def _live_links(source: RecordSource):
    return OfficeLink.objects.select_for_update().filter(source=source, revoked_at__isnull=True)


@transaction.atomic
def links_extend(*, actor: User, source_ref: UUID | str) -> int:
    """30 more days for every link of the source not revoked (an expired one opens
    again, for 30 days from now). Returns how many links."""
    source = selectors.source_for_viewer(
        viewer=actor, ref=source_ref, needs=_CASE_MANAGER, for_update=True
    )
    _open_case(source.case)
    links = list(_live_links(source))
    if not links:
        raise OfficeError(_("This source has no upload link to extend."), status=409)
    now = timezone.now()
    for link in links:
        link.expires_at = max(link.expires_at, now) + link_days()
        link.extended_at = now
    OfficeLink.objects.bulk_update(links, ["expires_at", "extended_at"])
    log_event(
        actor=actor,
        action="retrieval.link.extended",
        obj=source,
        new={"links": len(links), "until": max(link.expires_at for link in links).isoformat()},
    )
    return len(links)


@transaction.atomic
def links_revoke(*, actor: User, source_ref: UUID | str) -> int:
    """Stop every link of the source at once. Returns how many were live."""
    source = selectors.source_for_viewer(
        viewer=actor, ref=source_ref, needs=_CASE_MANAGER, for_update=True
    )
    count = _live_links(source).update(revoked_at=timezone.now())
    if not count:
        raise OfficeError(_("This source has no upload link to revoke."), status=409)
    log_event(actor=actor, action="retrieval.link.revoked", obj=source, new={"links": count})
    return count


def _open_case(case: Case) -> None:
    if case.status in CLOSED_STATES:
        raise OfficeError(_("This request is closed."), status=409)


# --- The records office's side ---------------------------------------------------------------
class OfficeError(Refusal):
    """A refusal of the case manager's link actions, or of an upload through a link."""


class OfficeRefused(Refusal):
    """The link does not open: why, with the page's status."""

    UNKNOWN = "unknown"
    TOO_MANY = "too_many"
    REVOKED = "revoked"
    EXPIRED = "expired"
    STATUS = {UNKNOWN: 404, TOO_MANY: 429, REVOKED: 410, EXPIRED: 410}

    def __init__(self, reason: str) -> None:
        words = {
            self.TOO_MANY: _("Too many attempts. Please wait a few minutes and try again."),
            self.REVOKED: _("This upload link was withdrawn."),
            self.EXPIRED: _("This upload link has expired."),
        }
        super().__init__(
            words.get(reason, _("This upload link is not valid.")), status=self.STATUS[reason]
        )
        self.reason = reason


def _bad_token_key() -> str:
    return f"retrieval:bad-token:{current_ip() or 'unknown'}"


def _count_bad_token() -> None:
    key = _bad_token_key()
    cache.add(key, 0, settings.OFFICE_BAD_TOKEN_WINDOW)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, settings.OFFICE_BAD_TOKEN_WINDOW)


@dataclass(frozen=True)
class Opened:
    link: OfficeLink
    source: RecordSource
    case: Case


def office_open(*, token: str, for_update: bool = False) -> Opened:
    """The link `token` opens, or OfficeRefused. A wrong token is counted against
    the address; past the limit, every further wrong one is a 429 (a right one
    still opens)."""
    link = None
    if token and len(token) <= 100:
        links = OfficeLink.objects.select_related("source__case__owner")
        if for_update:
            links = links.select_for_update(of=("self",))
        link = links.filter(token_hash=token_hash(token)).first()
    if link is None:
        if (cache.get(_bad_token_key()) or 0) >= settings.OFFICE_BAD_TOKEN_LIMIT:
            raise OfficeRefused(OfficeRefused.TOO_MANY)
        _count_bad_token()
        raise OfficeRefused(OfficeRefused.UNKNOWN)
    case = link.source.case
    if link.revoked_at is not None or case.status == CaseStatus.WITHDRAWN:
        raise OfficeRefused(OfficeRefused.REVOKED)
    if link.expires_at <= timezone.now() or case.status in CLOSED_STATES:
        raise OfficeRefused(OfficeRefused.EXPIRED)
    return Opened(link=link, source=link.source, case=case)


def office_view(*, token: str) -> Opened:
    """The page opened: recorded in the access log (no account; the audit source's
    path is the caller's, without the token)."""
    opened = office_open(token=token)
    log_access(viewer=None, obj=opened.source)
    return opened


def office_slots(
    *,
    token: str,
    category: str,
    title: str,
    service_date: datetime.date | None,
    files: list[dict[str, Any]],
) -> uploads.Slots:
    """Upload slots for one record sent through the link: the patient's rules, the
    source as the sender, the kinds asked for."""
    opened = office_open(token=token)
    if category and category not in categories_for(opened.source):
        raise RecordError(
            _("Please correct the problems below."),
            {"category": [_("Choose what kind of record this is from the list.")]},
        )

    def lock_case() -> Case:
        again = office_open(token=token, for_update=True)
        return Case.objects.select_for_update().get(pk=again.case.pk)

    with transaction.atomic():
        slots = uploads.open_slots(
            lock_case=lock_case,
            actor=None,
            sender_name=opened.source.name,
            category=category,
            title=title,
            service_date=service_date,
            answers=None,
            files=files,
        )
        OfficeUpload.objects.create(record=slots.record, source=opened.source, link=opened.link)
    return slots


def _slot(opened: Opened, file_ref: UUID | str) -> RecordFile:
    return access.get_or_404(
        RecordFile.objects.select_related("record__case").filter(
            record__office_upload__link=opened.link
        ),
        uuid=file_ref,
    )


def office_sign(
    *,
    token: str,
    file_ref: UUID | str,
    method: str,
    key: str,
    upload_id: str = "",
    part_number: int | None = None,
) -> str:
    """Sign one storage request for a slot opened through this very link."""
    opened = office_open(token=token)
    slot = uploads.check_slot(_slot(opened, file_ref), may_upload=True)
    return uploads.sign_slot(
        slot, method=method, key=key, upload_id=upload_id, part_number=part_number
    )


def _record(opened: Opened, record_ref: UUID | str) -> Record:
    return access.get_or_404(
        Record.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(office_upload__link=opened.link),
        uuid=record_ref,
    )


def office_confirm(*, token: str, record_ref: UUID | str) -> Record:
    """Every file is up: check and queue verification as for the patient's own, and
    mark the source as received in part (unless already received in full)."""
    with transaction.atomic():
        opened = office_open(token=token)
        record = _record(opened, record_ref)
        was_pending = record.state == "pending"
        record = uploads.confirm_locked(record, actor=None)
        if was_pending and record.state == "uploaded":
            source = RecordSource.objects.select_for_update().get(pk=opened.source.pk)
            if source.received != Received.FULLY:
                source.received = Received.PARTLY
                source.received_at = source.received_at or timezone.now()
                source.save(update_fields=["received", "received_at", "updated_at"])
            log_event(
                actor=None,
                action="retrieval.source.uploaded",
                obj=source,
                new={
                    "case": opened.case.reference,
                    "record": str(record.uuid),
                    "files": record.files.count(),
                    "link": str(opened.link.uuid),
                },
            )
    return record


def office_cancel(*, token: str, record_ref: UUID | str) -> None:
    with transaction.atomic():
        opened = office_open(token=token)
        uploads.cancel_locked(_record(opened, record_ref), actor=None)
