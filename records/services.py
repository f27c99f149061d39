"""Writes for medical records: upload slots, signing, the local upload, confirm,
verification's outcome, deletion, record requests and bundles.

Every service loads the case through the access rule (`case_for_viewer`), so an
outsider gets the same 404 as for a case that does not exist."""

from __future__ import annotations

import datetime
import logging
import secrets
import uuid as uuid_module
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from requests_app.models import CLOSED_STATES, CaseStatus
from requests_app.notices import CASE_UPDATE, RECORDS_RECEIVED, RECORDS_REQUESTED
from requests_app.selectors import case_for_viewer
from requests_app.workflow import case_transition, case_url_for
from secondop.accounts.models import Role
from secondop.audit.services import log_event
from secondop.filenames import clean_text
from secondop.notifications.services import EmailText, notify

from . import storage
from .models import HOLDS_BYTES, Bundle, Category, Record, RecordFile, RecordRequest, State
from .verification import REASONS, clean_filename

# A record's title, once cleaned; past TITLE_MAX_TYPED characters it is not even cleaned.
TITLE_MAX = 200
TITLE_MAX_TYPED = 10_000

S = CaseStatus
log = logging.getLogger(__name__)

# Until a specialist has the case, the patient may take back a record sent by mistake.
DELETABLE_STATUSES = frozenset({S.DRAFT, S.SUBMITTED, S.TRIAGE, S.AWAITING_RECORDS, S.MATCHING})
# Where a record request can be made, and where the case goes back to afterwards.
REQUESTABLE_STATUSES = frozenset({S.TRIAGE, S.IN_REVIEW, S.AWAITING_RECORDS})


class RecordError(Exception):
    """A refusal fit to show a person; `errors` maps form fields to messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.status = status


def _remove_later(prefix: str) -> None:
    """After commit, delete everything under a record's prefix. Storage not answering
    must not turn a done change into an error page: the failure is logged with the
    prefix (no PHI in it) for the operator to remove."""

    def remove():
        try:
            storage.delete_under(prefix)
        except Exception:
            log.warning("could not delete %s now; the sweep will", prefix, exc_info=True)

    transaction.on_commit(remove)


def _queue_later(task, *args) -> None:
    """Queue a task after commit; a broker that is down is logged, and the sweep
    re-queues (records_sweep finds the record or bundle still waiting)."""

    def send():
        try:
            task.delay(*args)
        except Exception:
            log.warning("could not queue %s%s; the sweep will", task.name, args, exc_info=True)

    transaction.on_commit(send)


def _escaped(text: str) -> str:
    """A name as given, every non-ASCII character written as its escape (U+202E as
    \\u202e), for the audit log."""
    return text[:1000].encode("unicode_escape").decode("ascii")


def case_name(case) -> str:
    """How a notification names the case: its reference, or "your draft request"."""
    return case.reference or _("your draft request")


def human_size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1000
    return ""


# --- Who may upload ---------------------------------------------------------------------
def can_upload(*, user, case) -> bool:
    """The patient, the case manager and the assigned specialist, while the case is open."""
    if case.status in CLOSED_STATES:
        return False
    if user.pk == case.owner_id:
        return True
    if user.role == Role.COORDINATOR:
        return case.case_manager_id == user.pk
    return user.role == Role.SPECIALIST and case.specialist_id == user.pk


def case_bytes_used(case) -> int:
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


def _upload_case(actor, case_ref, *, for_update: bool = False):
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=for_update)
    if not can_upload(user=actor, case=case):
        if case.status in CLOSED_STATES and (
            actor.pk == case.owner_id
            or case.case_manager_id == actor.pk
            or case.specialist_id == actor.pk
        ):
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
    actor,
    case_ref: UUID | str,
    category: str,
    title: str,
    service_date: datetime.date | None,
    answers: UUID | str | None,
    files: list[dict],
    request=None,
) -> Slots:
    """Open upload slots for one record (a file, or a study's files): check the
    person, the limits and the answers; create the pending record and fix each
    object's key. Nothing is uploaded yet."""
    _upload_case(actor, case_ref)  # outsiders: 404 before anything else is said
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
        case = _upload_case(actor, case_ref, for_update=True)
        if category == Category.SPECIALIST_REPORT and case.specialist_id != actor.pk:
            raise RecordError(
                _("Please correct the problems below."),
                {"category": [_("Only the case's specialist files a specialist's report.")]},
            )
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
        originals = {}
        if typed.strip() != title:
            originals["original_title"] = _escaped(typed)
        renamed = [
            {
                "name": row.name,
                "original": _escaped(str(entry.get("relative_path") or entry.get("name") or "")),
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
            request=request,
            new={
                "case": case.reference or str(case.uuid),
                "category": category,
                "files": len(rows),
                "bytes": total,
                **originals,
            },
        )
    return Slots(record=record, files=slots)


# --- Signing ------------------------------------------------------------------------
def _slot_for(*, actor, file_ref: UUID | str) -> RecordFile:
    """The upload slot `file_ref`, if `actor` opened it, it is still open and its
    case still takes uploads; otherwise the same 404 as for a slot that never was."""
    try:
        slot = RecordFile.objects.select_related("record__case").get(
            uuid=file_ref, record__uploaded_by=actor
        )
    except (RecordFile.DoesNotExist, ValueError):
        raise Http404 from None
    record = slot.record
    # The case's access rule still applies (a withdrawn case, a specialist taken off it).
    case_for_viewer(viewer=actor, ref=record.case.uuid)
    if record.state != State.PENDING or not can_upload(user=actor, case=record.case):
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
    actor,
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
    elif operation == "upload_part":
        content_length = storage.part_length(slot.size, part_number)
        if content_length is None:
            raise RecordError(_("This storage request is not allowed."), status=403)
    if not storage.s3_mode():
        if operation != "put_object":
            raise RecordError(_("This storage request is not allowed."), status=403)
        nonce = secrets.token_hex(16)
        RecordFile.objects.filter(pk=slot.pk).update(upload_nonce=nonce)
        from django.urls import reverse

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


def record_file_receive(*, token: str, body, length: int | None) -> RecordFile:
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
    from django.core.files.storage import default_storage

    from .local_upload import LimitedBody

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
def record_confirm(*, actor, record_ref: UUID | str, request=None) -> Record:
    """The browser says every file is up. Check each object (HEAD): it must exist,
    and its real size must keep within the limits, whatever the browser declared.
    Then queue verification. A repeat confirm changes nothing."""
    with transaction.atomic():
        try:
            record = (
                Record.objects.select_for_update()
                .select_related("case")
                .get(uuid=record_ref, uploaded_by=actor)
            )
        except (Record.DoesNotExist, ValueError):
            raise Http404 from None
        case_for_viewer(viewer=actor, ref=record.case.uuid)
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
            _remove_later(record.prefix)
            log_event(
                actor=actor,
                action="records.record.rejected",
                obj=record,
                request=request,
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
            request=request,
            new={"files": len(files), "bytes": total},
        )
        from .tasks import record_verify

        _queue_later(record_verify, record.pk)
    return record


# --- Cancelling an upload ----------------------------------------------------------------
def record_cancel(*, actor, record_ref: UUID | str, request=None) -> None:
    """The uploader lets an unfinished upload go: the pending record, whatever bytes
    reached storage and any unfinished multipart upload are removed. A record already
    confirmed is not touched (a late cancel changes nothing)."""
    with transaction.atomic():
        try:
            record = (
                Record.objects.select_for_update()
                .select_related("case")
                .get(uuid=record_ref, uploaded_by=actor)
            )
        except (Record.DoesNotExist, ValueError):
            raise Http404 from None
        case_for_viewer(viewer=actor, ref=record.case.uuid)
        if record.state != State.PENDING:
            return
        prefix = record.prefix
        log_event(
            actor=actor,
            action="records.record.cancelled",
            obj=record,
            request=request,
            old={"files": record.files.count(), "bytes": record.size},
        )
        record.delete()
        _remove_later(prefix)


# --- Deleting -------------------------------------------------------------------------
def record_delete(*, actor, record_ref: UUID | str, request=None) -> None:
    """The patient takes back a record sent by mistake, until a specialist has the
    case. The objects go with it; the audit log keeps that it happened."""
    with transaction.atomic():
        try:
            record = Record.objects.select_for_update().select_related("case").get(uuid=record_ref)
        except (Record.DoesNotExist, ValueError):
            raise Http404 from None
        case = case_for_viewer(viewer=actor, ref=record.case.uuid, for_update=True)
        if actor.pk != case.owner_id:
            raise Http404
        if case.status not in DELETABLE_STATUSES:
            raise RecordError(
                _(
                    "A specialist is already working with these records, so they "
                    "cannot be deleted now. Send your coordinator a message if "
                    "something is wrong."
                ),
                status=409,
            )
        prefix = record.prefix  # its files, every thumbnail, anything a late upload left
        log_event(
            actor=actor,
            action="records.record.deleted",
            obj=record,
            request=request,
            old={"category": record.category, "state": record.state, "bytes": record.size},
        )
        _record_remove(record, actor=actor, request=request)
        _remove_later(prefix)


# --- Dismissing a refusal -------------------------------------------------------------------
def can_dismiss(*, user, record: Record) -> bool:
    """A refused record can be taken off the list by the patient or by whoever sent it."""
    return record.state == State.REJECTED and user.pk in (
        record.case.owner_id,
        record.uploaded_by_id,
    )


def record_dismiss(*, actor, record_ref: UUID | str, request=None) -> Record:
    """Take a refused record off the list once its reason has been read: gone from
    every view, kept in the database and the audit log. A second dismissal changes
    nothing."""
    from .selectors import sees_records

    with transaction.atomic():
        try:
            record = Record.objects.select_for_update().select_related("case").get(uuid=record_ref)
        except (Record.DoesNotExist, ValueError):
            raise Http404 from None
        case = case_for_viewer(viewer=actor, ref=record.case.uuid, for_update=True)
        record.case = case
        if not sees_records(viewer=actor, case=case) or actor.pk not in (
            case.owner_id,
            record.uploaded_by_id,
        ):
            raise Http404
        if record.dismissed_at is not None:
            return record
        if record.state != State.REJECTED:
            raise RecordError(
                _("Only a file that was not accepted can be removed from the list."), status=409
            )
        record.dismissed_at = timezone.now()
        record.save(update_fields=["dismissed_at"])
        log_event(
            actor=actor,
            action="records.record.dismissed",
            obj=record,
            request=request,
            old={"state": record.state, "reason": record.reason},
        )
    return record


def _record_remove(record: Record, *, actor, request=None) -> None:
    """Delete a record's row and every bundle holding it (the ZIP too: a deleted
    record must not go on being served inside one). The caller has audited the
    record's deletion and removes its objects."""
    bundles_delete(
        bundles=Bundle.objects.filter(records=record),
        actor=actor,
        reason="record_deleted",
        request=request,
    )
    Record.objects.filter(duplicate_of=record).update(duplicate_of=None)
    record.delete()


def bundles_delete(*, bundles, actor, reason: str, request=None) -> int:
    """Delete bundles, row and ZIP, each audited with `reason`; one still being
    built is cancelled (its task finds no row and removes anything it wrote)."""
    count = 0
    keys = []
    for bundle in bundles.select_related("case").select_for_update(of=("self",)):
        cancelled = bundle.status == Bundle.Status.BUILDING
        log_event(
            actor=actor,
            action="records.bundle.cancelled" if cancelled else "records.bundle.deleted",
            obj=bundle,
            request=request,
            old={
                "case": bundle.case.reference,
                "status": bundle.status,
                "records": bundle.records_total,
            },
            new={"reason": reason},
        )
        keys.append(bundle.storage_key)
        bundle.delete()
        count += 1
    if keys:

        def remove():
            try:
                storage.delete(keys)
            except Exception:
                log.warning("could not delete %s bundle objects now", len(keys), exc_info=True)

        transaction.on_commit(remove)
    return count


# --- Verification's outcome ------------------------------------------------------------
def record_verified(
    *,
    record_id: int,
    reports,
    summary: dict | None,
    thumbnails: dict,
    replaced: dict | None = None,
    scanned: bool = True,
) -> Record:
    """Write what verification found, in one transaction: per file, then the
    record: verified, or rejected with a reason (and its objects deleted); a file
    already in the case is a duplicate and is not kept twice. A request it
    answers is then fulfilled.

    A verified study keeps its clinical files only: the files verification skipped
    (a disc's viewer software, autorun, web pages) are deleted, rows and objects, and
    `replaced` maps a ZIP's file to the copy written without them ((key, size)); the
    upload is deleted. `scanned` is False when no malware scan ran (DEBUG only)."""
    replaced = replaced or {}
    with transaction.atomic():
        record = Record.objects.select_for_update().select_related("case").get(pk=record_id)
        if record.state in (State.VERIFIED, State.REJECTED):
            return record
        files = {f.uuid: f for f in record.files.all()}
        now = timezone.now()
        for file_uuid, report in reports.items():
            file = files[file_uuid]
            file.checked_at = now
            file.kind = report.kind
            file.mime = report.mime[:100]
            file.sha256 = report.sha256
            file.reason = report.reason or ""
            file.dicom = report.dicom or {}
            file.thumbnail_key = thumbnails.get(file_uuid, "")
        RecordFile.objects.bulk_update(
            files.values(),
            ["checked_at", "kind", "mime", "sha256", "reason", "dicom", "thumbnail_key"],
            batch_size=1000,
        )
        failed = next((r for r in reports.values() if not r.ok), None)
        record.checked_at = now
        fields = [
            "state",
            "reason",
            "checked_at",
            "mime",
            "sha256",
            "study",
            "thumbnail_key",
            "duplicate_of",
            "size",
        ]
        if not record.is_study:
            only = next(iter(reports.values()))
            record.mime, record.sha256 = only.mime[:100], only.sha256
            record.thumbnail_key = thumbnails.get(next(iter(reports)), "")
        record.study = summary or {}
        if not record.thumbnail_key:  # a study: its first series' picture
            series = [s for st in record.study.get("studies", []) for s in st.get("series", [])]
            record.thumbnail_key = next(
                (s["thumbnail"] for s in series if s.get("thumbnail")),
                next((k for k in thumbnails.values() if k), ""),
            )
        duplicate = None
        if failed is None and record.sha256:
            duplicate = (
                Record.objects.filter(
                    case=record.case,
                    sha256=record.sha256,
                    state=State.VERIFIED,
                )
                .exclude(pk=record.pk)
                .first()
            )
        if failed is not None or duplicate is not None:
            record.state = State.REJECTED
            record.reason = failed.reason if failed is not None else "duplicate"
            record.duplicate_of = duplicate
            record.size = 0
            _remove_later(record.prefix)
            record.thumbnail_key = ""
            record.study = {}
        else:
            record.state, record.reason = State.VERIFIED, ""
            record.virus_scan_skipped = not scanned
            fields.append("virus_scan_skipped")
            _keep_clinical_files_only(record, files, reports, replaced)
        record.save(update_fields=fields)
        log_event(
            actor=None,
            action=f"records.record.{record.state}",
            obj=record,
            new={"reason": record.reason, "mime": record.mime},
        )
        if record.state == State.REJECTED:
            notify(
                recipient=record.uploaded_by,
                kind=CASE_UPDATE,
                title=_("A file you sent for %(ref)s could not be accepted")
                % {"ref": case_name(record.case)},
                url=_records_url(record.case),
                reference=record.case.reference or "",
                email=_email(
                    record.case,
                    _("A file you sent could not be accepted (%(ref)s)"),
                    _(
                        "A file you sent for your request %(ref)s could not be "
                        "accepted. See why on your records page, and send it again."
                    ),
                    _("See your records"),
                ),
            )
        elif record.answers_id:
            _fulfil(record)
    return record


def _keep_clinical_files_only(record: Record, files: dict, reports, replaced: dict) -> None:
    """Part of record_verified: delete what a verified record does not keep (see there)."""
    dropped = [files[u] for u, report in reports.items() if report.kind == "skipped"]
    gone = [f.key for f in dropped]
    for file_uuid, (key, size) in replaced.items():
        file = files[file_uuid]
        gone.append(file.key)
        file.key, file.stored_size = key, size
        file.save(update_fields=["key", "stored_size"])
    if not gone:
        return
    RecordFile.objects.filter(pk__in=[f.pk for f in dropped]).delete()
    kept = [f for f in files.values() if f not in dropped]
    record.size = sum(f.stored_size if f.stored_size is not None else f.size for f in kept)
    log_event(
        actor=None,
        action="records.record.viewer_files_removed",
        obj=record,
        new={"files_removed": len(dropped), "zips_rewritten": len(replaced), "bytes": record.size},
    )

    def remove():
        try:
            storage.delete(gone)
        except Exception:
            log.warning("could not delete %s objects of %s now", len(gone), record, exc_info=True)

    transaction.on_commit(remove)


def record_check_failed(*, record_id: int, reason: str) -> Record:
    """Give up on a record that could not be checked (the scanner failed it every
    time): rejected with the reason, its objects deleted, the uploader told."""
    with transaction.atomic():
        record = Record.objects.select_for_update().select_related("case").get(pk=record_id)
        if record.state in (State.VERIFIED, State.REJECTED):
            return record
        record.state, record.reason, record.size, record.checked_at = (
            State.REJECTED,
            reason,
            0,
            timezone.now(),
        )
        record.thumbnail_key, record.study = "", {}
        record.save(
            update_fields=["state", "reason", "size", "checked_at", "thumbnail_key", "study"]
        )
        log_event(
            actor=None,
            action="records.record.rejected",
            obj=record,
            new={"reason": reason, "attempts": record.check_attempts},
        )
        _remove_later(record.prefix)
        notify(
            recipient=record.uploaded_by,
            kind=CASE_UPDATE,
            title=_("A file you sent for %(ref)s could not be checked")
            % {"ref": case_name(record.case)},
            url=_records_url(record.case),
            reference=record.case.reference or "",
            email=_email(
                record.case,
                _("A file you sent could not be checked (%(ref)s)"),
                _(
                    "A file you sent for your request %(ref)s could not be checked. "
                    "See why on your records page, and send it again."
                ),
                _("See your records"),
            ),
        )
    return record


def _email(case, subject: str, sentence: str, action: str) -> EmailText:
    """The email's words (no medical detail: never a record's title or a note)."""
    ref = {"ref": case.reference or ""}
    return EmailText(subject=subject % ref, sentence=sentence % ref, action=action)


def _records_url(case) -> str:
    from django.urls import reverse

    return reverse("records:case_records", args=[case.uuid])


def _fulfil(record: Record) -> None:
    """A verified record answers its request; when nothing asked for is still
    missing, the case goes back to where it was."""
    asked = RecordRequest.objects.select_for_update().get(pk=record.answers_id)
    if not asked.is_open:
        return
    asked.fulfilled_at = timezone.now()
    asked.save(update_fields=["fulfilled_at"])
    case = record.case
    log_event(
        actor=None,
        action="records.request.fulfilled",
        obj=asked,
        new={"case": case.reference, "record": str(record.uuid)},
    )
    still_open = RecordRequest.objects.filter(
        case=case, fulfilled_at__isnull=True, cancelled_at__isnull=True
    ).exists()
    if not still_open and case.status == S.AWAITING_RECORDS:
        case_transition(actor=None, ref=case.uuid, to_status=asked.return_to)
    elif asked.requested_by.is_active:
        notify(
            recipient=asked.requested_by,
            kind=RECORDS_RECEIVED,
            title=_("A record you asked for on %(ref)s has arrived") % {"ref": case.reference},
            url=case_url_for(case, asked.requested_by),
            reference=case.reference or "",
            email=_email(
                case,
                _("A record you asked for on %(ref)s has arrived"),
                _("A record you asked for on %(ref)s has arrived and passed its checks."),
                _("Open the case"),
            ),
        )


# --- Record requests ---------------------------------------------------------------------
def can_request(user, case) -> bool:
    """The case manager, or the assigned specialist."""
    if user.role == Role.COORDINATOR:
        return case.case_manager_id == user.pk
    return user.role == Role.SPECIALIST and case.specialist_id == user.pk


def record_request_create(
    *, actor, case_ref: UUID | str, note: str, category: str = "", request=None
) -> RecordRequest:
    """Ask the patient for a missing record. It becomes their next step, and the
    case waits for records until everything asked for has arrived."""
    note = (note or "").strip()
    errors = {}
    if not note:
        errors["note"] = [
            _("Say what is needed, for example “Your biopsy pathology report from March”.")
        ]
    elif len(note) > 500:
        errors["note"] = [_("Keep it to 500 characters or fewer.")]
    if category and category not in Category.values:
        errors["category"] = [_("Choose a kind of record from the list.")]
    if errors:
        raise RecordError(_("Please correct the problems below."), errors)
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if not can_request(actor, case):
            raise Http404
        if case.status not in REQUESTABLE_STATUSES:
            raise RecordError(
                _("Records can be asked for during triage or review only."), status=409
            )
        if case.status == S.AWAITING_RECORDS:
            # Back to where the case was when it started waiting (triage or review).
            came_from = (
                case.events.filter(new_status=S.AWAITING_RECORDS)
                .order_by("-created_at", "-id")
                .values_list("old_status", flat=True)
                .first()
            )
            return_to = came_from if came_from in (S.TRIAGE, S.IN_REVIEW) else S.TRIAGE
        else:
            return_to = case.status
        asked = RecordRequest.objects.create(
            case=case, requested_by=actor, note=note, category=category, return_to=return_to
        )
        log_event(
            actor=actor,
            action="records.request.created",
            obj=asked,
            request=request,
            new={"case": case.reference, "category": category},
        )
        if case.status != S.AWAITING_RECORDS:
            case_transition(
                actor=actor,
                ref=case.uuid,
                to_status=S.AWAITING_RECORDS,
                reason=note,
                request=request,
            )
        else:
            notify(
                recipient=case.owner,
                kind=RECORDS_REQUESTED,
                title=_("Records are needed for your request %(ref)s") % {"ref": case.reference},
                url=_records_url(case),
                reference=case.reference or "",
                email=_email(
                    case,
                    _("Your care team needs a record for %(ref)s"),
                    _(
                        "Your care team asked you for another medical record for your "
                        "request %(ref)s. Please send it: your request waits for it."
                    ),
                    _("See what is needed"),
                ),
            )
    return asked


def record_request_cancel(*, actor, request_ref: UUID | str, request=None) -> RecordRequest:
    """Take back a request (found elsewhere, asked by mistake). If it was the last
    one open, the case goes back to where it was."""
    with transaction.atomic():
        try:
            asked = (
                RecordRequest.objects.select_for_update()
                .select_related("case")
                .get(uuid=request_ref)
            )
        except (RecordRequest.DoesNotExist, ValueError):
            raise Http404 from None
        case = case_for_viewer(viewer=actor, ref=asked.case.uuid, for_update=True)
        if not can_request(actor, case):
            raise Http404
        if not asked.is_open:
            return asked
        asked.cancelled_at = timezone.now()
        asked.save(update_fields=["cancelled_at"])
        log_event(actor=actor, action="records.request.cancelled", obj=asked, request=request)
        still_open = RecordRequest.objects.filter(
            case=case, fulfilled_at__isnull=True, cancelled_at__isnull=True
        ).exists()
        if not still_open and case.status == S.AWAITING_RECORDS:
            case_transition(actor=actor, ref=case.uuid, to_status=asked.return_to, request=request)
    return asked


# --- Bundles --------------------------------------------------------------------------
def bundle_create(
    *, actor, case_ref: UUID | str, record_ref: UUID | str | None = None, request=None
) -> Bundle:
    """A ZIP of every verified record of the case (or of one study), built by a
    task; for the assigned specialist and the case manager."""
    from .selectors import records_for_viewer, sees_records

    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref)
        if actor.pk == case.owner_id or not sees_records(viewer=actor, case=case):
            raise Http404
        records = records_for_viewer(viewer=actor, case=case).filter(state=State.VERIFIED)
        record = None
        if record_ref:
            try:
                record_ref = uuid_module.UUID(str(record_ref))
            except ValueError:
                raise Http404 from None
            record = records.filter(uuid=record_ref).first()
            if record is None:
                raise Http404
            records = records.filter(pk=record.pk)
        if case.status in CLOSED_STATES:
            raise RecordError(
                _(
                    "This request is closed: its records can still be opened one "
                    "by one here, but no download of them all is prepared."
                ),
                status=409,
            )
        count = RecordFile.objects.filter(record__in=records).exclude(kind="skipped").count()
        if not count:
            raise RecordError(_("There are no checked records to download yet."), status=409)
        members = list(records.values_list("pk", flat=True))
        bundle = Bundle.objects.create(
            case=case,
            record=record,
            requested_by=actor,
            files_total=count,
            records_total=len(members),
            expires_at=timezone.now() + datetime.timedelta(hours=settings.RECORDS_BUNDLE_HOURS),
        )
        bundle.records.set(members)
        log_event(
            actor=actor,
            action="records.bundle.created",
            obj=bundle,
            request=request,
            new={"case": case.reference, "files": count},
        )
        from .tasks import bundle_build

        _queue_later(bundle_build, bundle.pk)
    return bundle


def case_ended(case, status: str) -> None:
    """A request closed, cancelled or withdrawn: its bundles go at once, built or
    not (a withdrawal revokes the patient's authorisation; after closing, the care
    team reads records one by one in its read-only window)."""
    bundles_delete(bundles=Bundle.objects.filter(case=case), actor=None, reason=f"case_{status}")


# --- Retention --------------------------------------------------------------------------
# Kept whatever the age: the specialist's own signed report (their record of care, like
# SecondOp's report and the audit, which live elsewhere and are never swept).
RETAINED_CATEGORIES = frozenset({Category.SPECIALIST_REPORT})


def records_delete_after(case):
    """When the copies uploaded for an ended request are (or were) deleted."""
    if case.status not in CLOSED_STATES or case.closed_at is None:
        return None
    return case.closed_at + datetime.timedelta(days=settings.RECORDS_KEEP_DAYS_AFTER_END)


@dataclass(frozen=True)
class Retention:
    keep_days: int
    staff_days: int
    delete_after: datetime.datetime | None  # the request has ended: when copies go
    deleted: bool  # that time has passed


def retention_for(case) -> Retention:
    """What the records page says about keeping the files, for this request."""
    after = records_delete_after(case)
    return Retention(
        keep_days=settings.RECORDS_KEEP_DAYS_AFTER_END,
        staff_days=settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE,
        delete_after=after,
        deleted=after is not None and after <= timezone.now(),
    )


def records_retention_sweep(*, limit: int = 500) -> int:
    """Delete the uploaded copies of records of requests that ended (closed,
    cancelled, withdrawn) more than RECORDS_KEEP_DAYS_AFTER_END days ago: the
    objects first (storage not answering leaves the row for the next run), then
    the row and every bundle holding it, each deletion audited."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.RECORDS_KEEP_DAYS_AFTER_END)
    due = (
        Record.objects.filter(case__status__in=sorted(CLOSED_STATES), case__closed_at__lt=cutoff)
        .exclude(category__in=RETAINED_CATEGORIES)
        .values_list("pk", flat=True)[:limit]
    )
    count = 0
    for pk in list(due):
        record = Record.objects.select_related("case").filter(pk=pk).first()
        if record is None:
            continue
        try:
            storage.delete_under(record.prefix)
        except Exception:
            log.warning("retention: could not delete %s now; next run", record, exc_info=True)
            continue
        with transaction.atomic():
            record = Record.objects.select_for_update().select_related("case").filter(pk=pk).first()
            if record is None:
                continue
            log_event(
                actor=None,
                action="records.record.retention_deleted",
                obj=record,
                old={
                    "case": record.case.reference,
                    "category": record.category,
                    "state": record.state,
                    "bytes": record.size,
                },
                new={"days_after_end": settings.RECORDS_KEEP_DAYS_AFTER_END},
            )
            _record_remove(record, actor=None)
        count += 1
    return count


def records_sweep_expired() -> int:
    """Pending slots past their time and bundles past theirs: their objects are
    deleted (an abandoned upload must not keep PHI), the rows closed."""
    now = timezone.now()
    count = 0
    for record in Record.objects.filter(state=State.PENDING, slot_expires_at__lt=now)[:200]:
        storage.delete_under(record.prefix)
        Record.objects.filter(pk=record.pk, state=State.PENDING).update(
            state=State.REJECTED, reason="expired", size=0, checked_at=now
        )
        count += 1
    for bundle in Bundle.objects.filter(expires_at__lt=now).exclude(key="")[:200]:
        storage.delete([bundle.key])
        Bundle.objects.filter(pk=bundle.pk).update(key="")
        count += 1
    return count


# Reasons the records app gives itself, beside verification's own.
OWN_REASONS = {
    "too_large": _lazy(
        "This file is bigger than it said it was, and over the size limit, so "
        "it was not kept. Please check the file and upload it again."
    ),
    "expired": _lazy(
        "The upload was not finished in time, so it was not kept. Please upload it again."
    ),
    "duplicate": _lazy(
        "You have already sent this exact file for this request, so it was not kept twice."
    ),
}


def describe_reason(code: str) -> str:
    """The plain-words reason a patient reads for a rejected record."""
    text = OWN_REASONS.get(code) or REASONS.get(code) or REASONS.get("cannot_open", "")
    return str(text)
