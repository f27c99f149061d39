"""verify_file: one stored object read once as a stream (hash, virus scan, true
type), then handed to the check for its kind."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import logging
from collections.abc import Iterator
from functools import partial

from secondop.filenames import clean_path

from ..storage import StorageUnavailable
from ..storage_io import iter_chunks, open_object
from .archives import _check_zip
from .base import (
    _READ_ERRORS,
    CHUNK,
    HEAD_BYTES,
    FileReport,
    ScannerUnavailable,
    _accept,
    _Job,
    _Pass,
    _reject,
    _Scanner,
    _settings_stream_max,
    _storage_failure,
    _zlib_error,
)
from .dicom import _check_dicom
from .health import _check_health
from .images import _check_image
from .pdf import _check_pdf
from .sniffing import _ARCHIVE_MIMES, _TEXT_MIMES, _check_text, _sniff
from .viewers import _base_name, is_viewer_file

log = logging.getLogger(__name__)


def _stream(fileobj, head: bytes, job: _Job, *, scan: bool) -> _Pass:
    """Read the whole object once: hash it, and send it to clamd on the way."""
    found = _Pass(head=head)
    digest = hashlib.sha256()
    zlib_errors = _zlib_error()

    def chunks() -> Iterator[bytes]:
        for chunk in _chain(head, fileobj):
            digest.update(chunk)
            found.size += len(chunk)
            if not found.has_nul and b"\0" in chunk:
                found.has_nul = True
            if found.size > job.max_size:
                found.over_limit = True
                return
            yield chunk

    stream = chunks()
    try:
        if scan:
            found.scan = job.scanner.scan(stream)
        for _chunk in stream:  # the rest, if clamd stopped early or there is no scan
            pass
    except StorageUnavailable:
        raise
    except (*_READ_ERRORS, *zlib_errors) as error:
        # A ZIP entry that fails to unpack is damaged; the object itself failing to
        # read is storage's trouble, for the task to retry, not the patient's.
        if not job.in_zip or _storage_failure(fileobj):
            raise
        found.failure = error
    found.sha256 = digest.hexdigest()
    return found


def _chain(head: bytes, fileobj) -> Iterator[bytes]:
    if head:
        yield head
    yield from iter_chunks(fileobj, CHUNK)


def verify_file(
    *,
    storage,
    key: str,
    name: str,
    max_size: int,
    clamd_address: str | None,
    skip_viewer_files: bool = False,
    clamd_max_stream: int | None = None,
    clamd_timeout: float = 30.0,
) -> FileReport:
    """Check one stored object and say what it is, or why it can't be accepted.

    `name` is what the patient called it (a relative path for a folder's files);
    `max_size` the upload limit. With `clamd_address`, the file (each entry, for a
    ZIP) is scanned, and ScannerUnavailable is raised when clamd gives no verdict:
    the file is never reported clean without one. `skip_viewer_files` (a study's
    files) turns CD viewer software into ``kind="skipped"`` reports, ok but not
    part of the study. Idempotent: it only reads."""
    scanner = None
    if clamd_address:
        scanner = _Scanner(clamd_address, clamd_max_stream or _settings_stream_max(), clamd_timeout)
    with open_object(storage, key) as fileobj:
        size = _size_of(fileobj)
        job = _Job(
            name=clean_path(name),
            source=key,
            size=size,
            max_size=max_size,
            scanner=scanner,
            skip_viewer_files=skip_viewer_files,
        )
        return _verify(fileobj, job)


def _size_of(fileobj) -> int:
    size = getattr(fileobj, "size", None)
    if size is None:
        size = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(0)
    return int(size)


def _verify(fileobj, job: _Job) -> FileReport:
    if job.size == 0:
        return _reject(job, "empty", size=0)
    if job.size > job.max_size:
        return _reject(job, "too_large")
    head = fileobj.read(HEAD_BYTES)
    if not head:
        return _reject(job, "empty", size=0)
    sniff = _sniff(head, job.name)
    skipped = job.skip_viewer_files and is_viewer_file(job.name)
    # A disc's DICOMDIR is kept when it is one; a file of that name that is not is
    # left out like the viewer software, rather than failing the study.
    dicomdir_name = job.skip_viewer_files and _base_name(job.name) == "dicomdir"
    skipped = skipped or (dicomdir_name and sniff.kind != "dicom")
    if job.in_zip and not skipped and (sniff.kind == "zip" or sniff.mime in _ARCHIVE_MIMES):
        return _reject(job, "zip_nested", mime=sniff.mime)
    if (job.in_zip or job.skip_viewer_files) and sniff.kind in ("ccda", "fhir"):
        # A portal's file is a record of its own, uploaded as one file: inside a ZIP
        # or a folder it is not read, as before.
        if sniff.mime in _TEXT_MIMES:
            sniff = dataclasses.replace(sniff, kind="text")
        else:
            sniff = dataclasses.replace(sniff, kind="", reason="type_not_allowed")
    # A ZIP's entries are scanned one by one (_check_zip); anything skipped is scanned
    # whole, archives included (clamd unpacks them), since it stays in the upload.
    scan = job.scanner is not None and (skipped or (not sniff.reason and sniff.kind != "zip"))
    if scan and job.size > job.scanner.max_stream:
        return _reject(job, "scan_too_large", mime=sniff.mime, kind=sniff.kind)

    found = _stream(fileobj, head, job, scan=scan)
    common = {"sha256": found.sha256, "size": found.size, "mime": sniff.mime}
    if found.failure is not None:
        return _reject(job, "cannot_open", **common, kind=sniff.kind)
    if found.over_limit:
        return _reject(job, "too_large", **common, kind=sniff.kind)
    if found.scan is not None and found.scan.status == "infected":
        return _reject(job, "malware", **common, kind=sniff.kind)
    if found.scan is not None and found.scan.status == "too_large":
        return _reject(job, "scan_too_large", **common, kind=sniff.kind)
    if skipped:
        return _accept(job, **common, kind="skipped")
    if sniff.reason:
        return _reject(job, sniff.reason, **common, kind=sniff.kind)
    if found.size == 0:
        return _reject(job, "empty", **common, kind=sniff.kind)

    check = {
        "pdf": _check_pdf,
        "image": _check_image,
        "dicom": _check_dicom,
        "zip": partial(_check_zip, verify=_verify),
        "text": _check_text,
        "ccda": _check_health,
        "fhir": _check_health,
    }[sniff.kind]
    try:
        outcome = check(fileobj, job, sniff, found)
    except StorageUnavailable:
        raise
    except ScannerUnavailable:
        raise
    except MemoryError:
        # The worker's memory guard (secondop.celery) stopped a file that would take
        # more than a worker may use: refused, and the worker lives on.
        log.warning("%s check ran out of memory", sniff.kind)
        return _reject(job, "too_complex", **common, kind=sniff.kind)
    except Exception as error:  # a library choking on a hostile file is a damaged file
        if _storage_failure(fileobj):
            raise _storage_failure(fileobj) from error
        # The type only: a message could quote the file's contents.
        log.info("%s check failed: %s", sniff.kind, type(error).__name__)
        return _reject(
            job,
            "dicom_invalid" if sniff.kind == "dicom" else "cannot_open",
            **common,
            kind=sniff.kind,
        )
    if outcome.get("reason") and _storage_failure(fileobj):
        raise _storage_failure(fileobj)
    reason = outcome.pop("reason", None)
    if reason and dicomdir_name:
        reason, outcome = "skipped", {}
    values = {**common, "kind": sniff.kind, **outcome}
    if reason and reason != "skipped":
        return _reject(job, reason, **values)
    if reason == "skipped":
        values["kind"] = "skipped"
    return _accept(job, **values)
