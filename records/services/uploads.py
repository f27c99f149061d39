"""Uploading a record: the upload slots, signing each storage request, the local
upload, confirm, and cancelling an unfinished upload. Outsiders get the case's 404
before anything else is said."""

from __future__ import annotations

import datetime
import secrets
import uuid as uuid_module
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO
from uuid import UUID

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app import access
from requests_app.access import case_for_viewer
from requests_app.models import CLOSED_STATES, Case
from secondop.audit.services import log_event
from secondop.filenames import clean_text
from secondop.queueing import queue_on_commit

from .. import storage
from ..local_upload import LimitedBody
from ..models import HOLDS_BYTES, Category, Record, RecordFile, RecordRequest, State
from ..verification import clean_filename
from .common import RecordError, escaped, human_size, remove_later

if TYPE_CHECKING:
    from secondop.accounts.models import User


# A record's title, once cleaned; past TITLE_MAX_TYPED characters it is not even cleaned.
TITLE_MAX = 200
TITLE_MAX_TYPED = 10_000


# --- Who may upload ---------------------------------------------------------------------
def can_upload(*, user: User, case: Case) -> bool:
    """The patient, the case manager and the assigned specialist, while the case is open."""
    return case.status not in CLOSED_STATES and access.is_care_team(viewer=user, case=case)


def case_bytes_used(case: Case) -> int:
    return (
        Record.objects.filter(case=case, state__in=HOLDS_BYTES).aggregate(total=Sum("size"))[
            "total"
        ]
        or 0
    )


def _clean_relative_path(path: str, fallback: str) -> str:
    parts = [
        clean_filename(part)
        for part in path.replace("\\", "/").split("/")
        if part.strip() and part not in {".", ".."}
    ]
    return "/".join(parts)[-255:] if parts else clean_filename(fallback)


def _upload_case(actor: User, case_ref: UUID | str, *, for_update: bool = False) -> Case:
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=for_update)
    if not can_upload(user=actor, case=case):
        if case.status in CLOSED_STATES and access.is_care_team(viewer=actor, case=case):
            raise RecordError(
                _("This request is closed, so no more records can be added."), status=409
            )
        raise Http404
    return case


@dataclass(frozen=True)
class FileSlot:
    client_id: str
    file: RecordFile


@dataclass(frozen=True)
class Slots:
    record: Record
    files: list[FileSlot]


def record_slots_create(
    *,
    actor: User,
    case_ref: UUID | str,
    category: str,
    title: str,
    service_date: datetime.date | None,
    answers: UUID | str | None,
    files: list[dict[str, Any]],
) -> Slots:
    """Open upload slots for one record (a file, or a study's files): check the
    person, the limits and the answers; create the pending record and fix each
    object's key. Nothing is uploaded yet."""
    _upload_case(actor, case_ref)  # outsiders: 404 before anything else is said

    def lock_case() -> Case:
        case = _upload_case(actor, case_ref, for_update=True)
        if category == Category.SPECIALIST_REPORT and not access.is_assigned_specialist(
            actor, case
        ):
            raise RecordError(
                _("Please correct the problems below."),
                {"category": [_("Only the case's specialist files a specialist's report.")]},
            )
        return case

    return open_slots(
        lock_case=lock_case,
        actor=actor,
        category=category,
        title=title,
        service_date=service_date,
        answers=answers,
        files=files,
    )


def open_slots(
    *,
    lock_case: Callable[[], Case],
    actor: User | None,
    sender_name: str = "",
    category: str,
    title: str,
    service_date: datetime.date | None,
    answers: UUID | str | None,
    files: list[dict[str, Any]],
) -> Slots:
    """The slots of one record, for whoever the caller has let in: a person
    (`actor`), or a records office through its link (no actor, `sender_name`).
    `lock_case` loads and locks the case, refusing what the uploader may not do."""
    errors: dict[str, list[str]] = {}
    typed = str(title or "")
    # A pasted essay is refused before any work is done on it; what was typed stays in
    # the browser's field.
    title = clean_text(typed) if len(typed) <= TITLE_MAX_TYPED else typed
    if category not in Category.values:
        errors["category"] = [_("Choose what kind of record this is.")]
    if not typed.strip():
        errors["title"] = [_("Give this record a title, for example “Biopsy report”.")]
    elif not title:
        errors["title"] = [
            _(
                "The title is made only of hidden characters that cannot be "
                "shown. Please type it again in letters and numbers."
            )
        ]
    elif len(title) > TITLE_MAX:
        errors["title"] = [
            _(
                "The title must be %(max)s characters or fewer. This one has "
                "%(n)s: please shorten it."
            )
            % {"max": TITLE_MAX, "n": f"{len(title):,}"}
        ]
    if service_date and service_date > timezone.localdate():
        errors["service_date"] = [_("The date of service must be today or in the past.")]
    if not files:
        errors["files"] = [_("Choose at least one file.")]
    elif len(files) > settings.RECORDS_MAX_FILES_PER_RECORD:
        errors["files"] = [
            _("A record can hold at most %(n)s files. Split the folder, or upload it as a ZIP.")
            % {"n": f"{settings.RECORDS_MAX_FILES_PER_RECORD:,}"}
        ]
    limit = settings.RECORDS_MAX_FILE_BYTES
    for entry in files:
        size = entry.get("size")
        name = clean_filename(str(entry.get("name") or ""))
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            errors.setdefault("files", []).append(
                _("We could not read the size of “%(name)s”.") % {"name": name}
            )
        elif size == 0:
            errors.setdefault("files", []).append(
                _("“%(name)s” is empty. Choose the file again: it may not have copied properly.")
                % {"name": name}
            )
        elif size > limit:
            errors.setdefault("files", []).append(
                _("“%(name)s” is %(size)s. Each file can be at most %(limit)s.")
                % {"name": name, "size": human_size(size), "limit": human_size(limit)}
            )
    if errors:
        raise RecordError(_("Please correct the problems below."), errors)

    with transaction.atomic():
        case = lock_case()
        total = sum(entry["size"] for entry in files)
        used = case_bytes_used(case)
        if used + total > settings.RECORDS_MAX_CASE_BYTES:
            left = max(settings.RECORDS_MAX_CASE_BYTES - used, 0)
            raise RecordError(
                _(
                    "This would take the request over its limit of %(limit)s of records "
                    "(%(left)s left). Leave out what the specialist does not need, or ask your "
                    "coordinator for help."
                )
                % {"limit": human_size(settings.RECORDS_MAX_CASE_BYTES), "left": human_size(left)},
                {"files": [_("Too much for this request.")]},
            )
        record_request = None
        if answers:
            try:
                answers = uuid_module.UUID(str(answers))
            except ValueError:
                raise RecordError(
                    _("Choose a request from the list."),
                    {"request": [_("Choose a request from the list.")]},
                ) from None
            record_request = RecordRequest.objects.filter(
                case=case,
                uuid=answers,
                fulfilled_at__isnull=True,
                cancelled_at__isnull=True,
            ).first()
            if record_request is None:
                raise RecordError(
                    _("That request for records is already answered or was withdrawn."),
                    {"request": [_("Choose another request.")]},
                )
        is_study = len(files) > 1 or any("/" in str(f.get("relative_path") or "") for f in files)
        record = Record.objects.create(
            case=case,
            uploaded_by=actor,
            sender_name=sender_name if actor is None else "",
            category=category,
            title=title,
            service_date=service_date,
            is_study=is_study,
            size=total,
            answers=record_request,
            slot_expires_at=timezone.now() + settings.RECORDS_SLOT_TTL,
        )
        slots = []
        rows = []
        for entry in files:
            file_uuid = uuid_module.uuid4()
            name = str(entry.get("name") or "")
            display = (
                _clean_relative_path(str(entry.get("relative_path") or ""), name)
                if is_study
                else clean_filename(name)
            )
            rows.append(
                RecordFile(
                    uuid=file_uuid,
                    record=record,
                    key=f"{record.prefix}{file_uuid}",
                    name=display,
                    size=entry["size"],
                    declared_type=str(entry.get("type") or "").replace("\x00", "")[:100],
                )
            )
        RecordFile.objects.bulk_create(rows, batch_size=1000)
        slots = [
            FileSlot(client_id=str(entry.get("client_id") or ""), file=row)
            for entry, row in zip(files, rows, strict=True)
        ]
        # What was cleaned away is kept here only (escaped, so an auditor sees every
        # hidden character): never shown, never in a download's name.
        originals: dict[str, Any] = {}
        if typed.strip() != title:
            originals["original_title"] = escaped(typed)
        renamed = [
            {
                "name": row.name,
                "original": escaped(str(entry.get("relative_path") or entry.get("name") or "")),
            }
            for entry, row in zip(files, rows, strict=True)
            if row.name
            != str((entry.get("relative_path") if is_study else None) or entry.get("name") or "")
        ]
        if renamed:
            originals["original_names"] = renamed[:100]
        log_event(
            actor=actor,
            action="records.record.slots_created",
            obj=record,
            new={
                "case": case.reference or str(case.uuid),
                "category": category,
                "files": len(rows),
                "bytes": total,
                **({"sender": sender_name} if actor is None else {}),
                **originals,
            },
        )
    return Slots(record=record, files=slots)


# --- Signing ------------------------------------------------------------------------
def _slot_for(*, actor: User, file_ref: UUID | str) -> RecordFile:
    """The upload slot `file_ref`, if `actor` opened it, it is still open and its
    case still takes uploads; otherwise the same 404 as for a slot that never was."""
    slot = access.get_or_404(
        RecordFile.objects.select_related("record__case").filter(record__uploaded_by=actor),
        uuid=file_ref,
    )
    # The case's access rule still applies (a withdrawn case, a specialist taken off it).
    case_for_viewer(viewer=actor, ref=slot.record.case.uuid)
    return check_slot(slot, may_upload=can_upload(user=actor, case=slot.record.case))


def check_slot(slot: RecordFile, *, may_upload: bool) -> RecordFile:
    """A slot its uploader may still send to: its record pending, not expired."""
    record = slot.record
    if record.state != State.PENDING or not may_upload:
        raise RecordError(
            _(
                "This upload is finished or no longer possible. Refresh the page "
                "and add the file again."
            ),
            status=410,
        )
    if record.slot_expires_at <= timezone.now():
        raise RecordError(
            _(
                "This upload took too long and has expired. Refresh the page and "
                "add the file again."
            ),
            status=410,
        )
    return slot


def record_file_sign(
    *,
    actor: User,
    file_ref: UUID | str,
    method: str,
    key: str,
    upload_id: str = "",
    part_number: int | None = None,
) -> str:
    """A URL for one storage request of one slot: only its exact key, only the
    upload operations (a PUT, or the multipart steps). In local mode, the URL of
    our own upload endpoint with a signed, expiring, single-use token."""
    slot = _slot_for(actor=actor, file_ref=file_ref)
    return sign_slot(slot, method=method, key=key, upload_id=upload_id, part_number=part_number)


def sign_slot(
    slot: RecordFile,
    *,
    method: str,
    key: str,
    upload_id: str = "",
    part_number: int | None = None,
) -> str:
    """Sign one storage request for a slot the caller has checked (check_slot)."""
    if key != slot.key:
        raise RecordError(_("This upload can only be sent to its own place."), status=403)
    operation = storage.OPERATIONS.get((method.upper(), bool(upload_id), bool(part_number)))
    if operation is None or (part_number is not None and not 1 <= part_number <= 10000):
        raise RecordError(_("This storage request is not allowed."), status=403)
    # The body's length is signed: exactly the declared size for a PUT, exactly its
    # share for a part; a slot has only the parts its declared size needs.
    content_length = None
    if operation == "put_object":
        content_length = slot.size
    elif operation == "upload_part" and part_number is not None:
        content_length = storage.part_length(slot.size, part_number)
        if content_length is None:
            raise RecordError(_("This storage request is not allowed."), status=403)
    if not storage.s3_mode():
        if operation != "put_object":
            raise RecordError(_("This storage request is not allowed."), status=403)
        nonce = secrets.token_hex(16)
        RecordFile.objects.filter(pk=slot.pk).update(upload_nonce=nonce)
        return reverse(
            "records:file_upload",
            args=[storage.upload_token(file_uuid=str(slot.uuid), nonce=nonce)],
        )
    return storage.presign_upload(
        operation=operation,
        key=slot.key,
        upload_id=upload_id,
        part_number=part_number or 0,
        content_length=content_length,
    )


def record_file_receive(*, token: str, body: BinaryIO, length: int | None) -> RecordFile:
    """Local mode: store the body of an upload whose token is valid, unexpired and
    unused. The token is spent before the first byte is written."""
    parsed = storage.read_upload_token(token)
    if parsed is None:
        raise RecordError(
            _("This upload link has expired. Refresh the page and try again."), status=410
        )
    file_uuid, nonce = parsed
    claimed = (
        RecordFile.objects.filter(
            uuid=file_uuid,
            upload_nonce=nonce,
            record__state=State.PENDING,
            record__slot_expires_at__gt=timezone.now(),
        )
        .exclude(upload_nonce="")
        .update(upload_nonce="")
    )
    if not claimed:
        raise RecordError(_("This upload link was already used or has expired."), status=410)
    slot = RecordFile.objects.select_related("record").get(uuid=file_uuid)
    limit = settings.RECORDS_MAX_FILE_BYTES
    if length is not None and length > limit:
        raise RecordError(
            _("This file is over the limit of %(limit)s.") % {"limit": human_size(limit)},
            status=413,
        )
    # As a signed S3 PUT: exactly the size declared for the slot, never more.
    if length is not None and length != slot.size:
        raise RecordError(
            _(
                "This file is not the size it had when it was chosen. Remove it, "
                "choose it again and upload it."
            ),
            status=400,
        )
    limit = min(limit, slot.size)
    if default_storage.exists(slot.key):
        default_storage.delete(slot.key)
    limited = LimitedBody(body, length=length, limit=limit)
    try:
        default_storage.save(slot.key, limited)
    except limited.TooLarge:
        default_storage.delete(slot.key)
        raise RecordError(
            _(
                "This file is bigger than it was when it was chosen. Remove it, "
                "choose it again and upload it."
            ),
            status=413,
        ) from None
    RecordFile.objects.filter(pk=slot.pk).update(received_at=timezone.now())
    return slot


# --- Confirm ---------------------------------------------------------------------------
def record_confirm(*, actor: User, record_ref: UUID | str) -> Record:
    """The browser says every file is up. Check each object (HEAD): it must exist,
    and its real size must keep within the limits, whatever the browser declared.
    Then queue verification. A repeat confirm changes nothing."""
    with transaction.atomic():
        record = access.get_or_404(
            Record.objects.select_for_update().select_related("case").filter(uploaded_by=actor),
            uuid=record_ref,
        )
        case_for_viewer(viewer=actor, ref=record.case.uuid)
        return confirm_locked(record, actor=actor)


def confirm_locked(record: Record, *, actor: User | None) -> Record:
    """Confirm a record its uploader's caller has loaded and locked (in a transaction)."""
    if record.state != State.PENDING:
        return record
    files = list(record.files.all())
    sizes: dict[int, int] = {}
    missing = []
    for file in files:
        size = storage.stored_size(file.key)  # StorageUnavailable: nothing changes
        if size is None:
            missing.append(file.name)
        else:
            sizes[file.pk] = size
    if missing:
        shown = ", ".join(f"“{name}”" for name in missing[:3])
        more = len(missing) - 3
        raise RecordError(
            _("We have not received %(names)s%(more)s. Please upload it again.")
            % {"names": shown, "more": _(" and %(n)s more") % {"n": more} if more > 0 else ""},
            {"files": [_("Not received.")]},
        )
    total = sum(sizes.values())
    used = case_bytes_used(record.case) - record.size
    oversize = any(size > settings.RECORDS_MAX_FILE_BYTES for size in sizes.values())
    now = timezone.now()
    if oversize or used + total > settings.RECORDS_MAX_CASE_BYTES:
        record.state, record.reason, record.size = State.REJECTED, "too_large", 0
        record.checked_at = now
        record.save(update_fields=["state", "reason", "size", "checked_at"])
        remove_later(record.prefix)
        log_event(
            actor=actor,
            action="records.record.rejected",
            obj=record,
            new={"reason": "too_large", "bytes": total},
        )
        return record
    for file in files:
        file.stored_size = sizes[file.pk]
        file.received_at = file.received_at or now
    RecordFile.objects.bulk_update(files, ["stored_size", "received_at"], batch_size=1000)
    record.state, record.size, record.uploaded_at = State.UPLOADED, total, now
    record.save(update_fields=["state", "size", "uploaded_at"])
    log_event(
        actor=actor,
        action="records.record.uploaded",
        obj=record,
        new={"files": len(files), "bytes": total},
    )
    # A broker that is down is logged; records_sweep finds the record still waiting.
    queue_on_commit("records.tasks.record_verify", record.pk)
    return record


# --- Cancelling an upload ----------------------------------------------------------------
def record_cancel(*, actor: User, record_ref: UUID | str) -> None:
    """The uploader lets an unfinished upload go: the pending record, whatever bytes
    reached storage and any unfinished multipart upload are removed. A record already
    confirmed is not touched (a late cancel changes nothing)."""
    with transaction.atomic():
        record = access.get_or_404(
            Record.objects.select_for_update().select_related("case").filter(uploaded_by=actor),
            uuid=record_ref,
        )
        case_for_viewer(viewer=actor, ref=record.case.uuid)
        cancel_locked(record, actor=actor)


def cancel_locked(record: Record, *, actor: User | None) -> None:
    """Cancel a pending record its uploader's caller has loaded and locked."""
    if record.state != State.PENDING:
        return
    prefix = record.prefix
    log_event(
        actor=actor,
        action="records.record.cancelled",
        obj=record,
        old={"files": record.files.count(), "bytes": record.size},
    )
    record.delete()
    remove_later(prefix)
