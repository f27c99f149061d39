"""Verification's outcome, written in one transaction: a record verified or
rejected (the uploader told), a request for records it answers fulfilled, a record
given up on; and the plain-words reasons a patient reads."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from requests_app.notices import CASE_UPDATE, RECORDS_RECEIVED
from requests_app.workflow import case_transition, case_url_for
from secondop.audit.services import log_event
from secondop.languages import speaking_to
from secondop.notifications.services import notify
from secondop.queueing import queue_on_commit

from .. import storage
from ..models import Record, RecordFile, RecordRequest, State
from ..verification import REASONS
from .common import S, case_name, email_text, log, records_url, remove_later
from .identity import duplicate_words, identity_check, sent_before

if TYPE_CHECKING:
    from ..verification import FileReport

# Queued by name: records.imaging sits above records (tests/platform/test_layers.py).
IMAGING_START = "records.imaging.tasks.imaging_start"


def record_verified(
    *,
    record_id: int,
    reports: dict[UUID, FileReport],
    summary: dict | None,
    thumbnails: dict[UUID, str],
    replaced: dict[UUID, tuple[str, int]] | None = None,
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
            "health",
            "thumbnail_key",
            "duplicate_of",
            "size",
            "identity",
            "labelled_as",
        ]
        if not record.is_study:
            only = next(iter(reports.values()))
            record.mime, record.sha256 = only.mime[:100], only.sha256
            record.thumbnail_key = thumbnails.get(next(iter(reports)), "")
            record.health = only.health or {}
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
        same_study = None
        if failed is None and duplicate is None and record.study.get("studies"):
            # The same study sent again (a folder, then its ZIP): not kept twice.
            same_study = duplicate = sent_before(record)
        if failed is not None or duplicate is not None:
            record.state = State.REJECTED
            record.reason = (
                (failed.reason or "")
                if failed is not None
                else "duplicate_study"
                if same_study is not None
                else "duplicate"
            )
            record.duplicate_of = duplicate
            record.size = 0
            remove_later(record.prefix)
            record.thumbnail_key = ""
            record.study = {}
            record.health = {}
        else:
            record.state, record.reason = State.VERIFIED, ""
            record.virus_scan_skipped = not scanned
            fields.append("virus_scan_skipped")
            _keep_clinical_files_only(record, files, reports, replaced)
            identity_check(record)  # another person's name on it: the patient is asked
            if record.study.get("series_count"):  # frames for the viewer (records.imaging)
                queue_on_commit(IMAGING_START, record.pk)
        record.save(update_fields=fields)
        log_event(
            actor=None,
            action=f"records.record.{record.state}",
            obj=record,
            new={"reason": record.reason, "mime": record.mime},
        )
        if record.reason == "duplicate_study" and record.uploaded_by is not None:
            with speaking_to(record.uploaded_by):
                notify(
                    recipient=record.uploaded_by,
                    kind=CASE_UPDATE,
                    title=_("You already sent this for %(ref)s: we kept the first copy")
                    % {"ref": case_name(record.case)},
                    url=records_url(record.case),
                    reference=record.case.reference or "",
                    email=email_text(
                        record.case,
                        _("You already sent this (%(ref)s)"),
                        _(
                            "Something you sent for your request %(ref)s was already there, "
                            "so we kept the first copy and did not store it twice. You have "
                            "nothing to do."
                        ),
                        _("See your records"),
                    ),
                )
        elif record.state == State.REJECTED and record.uploaded_by is not None:
            with speaking_to(record.uploaded_by):
                notify(
                    recipient=record.uploaded_by,
                    kind=CASE_UPDATE,
                    title=_("A file you sent for %(ref)s could not be accepted")
                    % {"ref": case_name(record.case)},
                    url=records_url(record.case),
                    reference=record.case.reference or "",
                    email=email_text(
                        record.case,
                        _("A file you sent could not be accepted (%(ref)s)"),
                        _(
                            "A file you sent for your request %(ref)s could not be "
                            "accepted. See why on your records page, and send it again."
                        ),
                        _("See your records"),
                    ),
                )
        elif record.answers_id and not record.awaits_patient:
            _fulfil(record)  # a study waiting for the patient's answer fulfils nothing yet
    return record


def _keep_clinical_files_only(
    record: Record,
    files: dict[UUID, RecordFile],
    reports: dict[UUID, FileReport],
    replaced: dict[UUID, tuple[str, int]],
) -> None:
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

    def remove() -> None:
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
        remove_later(record.prefix)
        if record.uploaded_by is None:  # a records office: the tracker shows it
            return record
        with speaking_to(record.uploaded_by):
            notify(
                recipient=record.uploaded_by,
                kind=CASE_UPDATE,
                title=_("A file you sent for %(ref)s could not be checked")
                % {"ref": case_name(record.case)},
                url=records_url(record.case),
                reference=record.case.reference or "",
                email=email_text(
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


def _fulfil(record: Record) -> None:
    """A verified record answers its request; when nothing asked for is still
    missing, the case goes back to where it was."""
    assert record.answers_id is not None  # only an answer is fulfilled
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
        with speaking_to(asked.requested_by):
            notify(
                recipient=asked.requested_by,
                kind=RECORDS_RECEIVED,
                title=_("A record you asked for on %(ref)s has arrived") % {"ref": case.reference},
                url=case_url_for(case, asked.requested_by),
                reference=case.reference or "",
                email=email_text(
                    case,
                    _("A record you asked for on %(ref)s has arrived"),
                    _("A record you asked for on %(ref)s has arrived and passed its checks."),
                    _("Open the case"),
                ),
            )


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
    "duplicate_study": _lazy("You already sent this study: we kept the first copy."),
    "other_person": _lazy("You told us these images are another person's, so they were removed."),
}


def describe_reason(code: str) -> str:
    """The plain-words reason a patient reads for a rejected record."""
    text = OWN_REASONS.get(code) or REASONS.get(code) or REASONS.get("cannot_open", "")
    return str(text)


def describe_record_reason(record: Record) -> str:
    """describe_reason for one record: a study sent twice says when it was first sent."""
    if record.reason == "duplicate_study":
        return duplicate_words(record)
    return describe_reason(record.reason)
