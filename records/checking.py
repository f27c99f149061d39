"""Runs verification for one record and writes what it found (records.services),
and builds download bundles. The checks themselves are records.verification:
streamed, bounded memory; this module only walks a record's files."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import re
import stat
import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from . import clamav, services, storage
from .models import Bundle, Category, Record, RecordFile, State
from .storage_io import open_object
from .verification import ScannerUnavailable, dicom_thumbnail, summarise_study, verify_file

log = logging.getLogger(__name__)

STALLED_AFTER = datetime.timedelta(minutes=15)
# A check in progress owns its record: its worker renews the lease every
# LEASE_RENEW_SECONDS while it runs, and the sweep (every minute) re-queues a scanning
# record whose lease is older than CHECK_LEASE, never one still being checked. A dead
# worker renews nothing, so its record is checked again within 2 minutes of a worker
# being there. A retry waiting out its backoff holds the lease until it is due.
CHECK_LEASE = datetime.timedelta(seconds=60)
LEASE_RENEW_SECONDS = 15


def _scanner_up() -> bool:
    """clamd answers (or none is configured): a failure is then the file's, not an
    outage's. An outage never counts against a file."""
    address = settings.CLAMD_ADDRESS
    return not address or clamav.ping(address, timeout=5)


def check_record(record_id: int) -> str:
    moved = Record.objects.filter(pk=record_id, state__in=[State.UPLOADED, State.SCANNING]).update(
        state=State.SCANNING,
        check_attempts=F("check_attempts") + 1,
        check_started_at=timezone.now(),
    )
    if not moved:
        return "done already"
    record = Record.objects.select_related("case").get(pk=record_id)
    # A file that has failed every check (a worker killed on it, clamd erroring on it)
    # is given up on, whatever went wrong, once clamd is known to be up.
    if record.check_attempts > settings.RECORDS_CHECK_MAX_ATTEMPTS and _scanner_up():
        services.record_check_failed(record_id=record.pk, reason="scan_failed")
        return "gave up"
    try:
        with _lease_renewed(record_id):
            _settle(record)
            return _check(record)
    except ScannerUnavailable:
        if record.check_attempts >= settings.RECORDS_CHECK_MAX_ATTEMPTS and _scanner_up():
            services.record_check_failed(record_id=record.pk, reason="scan_failed")
            return "gave up"
        raise
    except Record.DoesNotExist:
        # Deleted while it was being checked: remove what the check wrote meanwhile.
        storage.delete_under(record.prefix)
        return "deleted"


@contextmanager
def _lease_renewed(record_id: int):
    """Renew the check's lease from a thread while the check runs (a single file may
    stream for many minutes). The thread has its own database connection, closed
    when the check ends."""
    done = threading.Event()

    def renew():
        try:
            while not done.wait(LEASE_RENEW_SECONDS):
                Record.objects.filter(pk=record_id, state=State.SCANNING).update(
                    check_started_at=timezone.now()
                )
        finally:
            connection.close()

    thread = threading.Thread(target=renew, name=f"lease-{record_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def _settle(record: Record) -> None:
    """S3 mode: move each uploaded object to a key no upload link ever named, before
    it is checked. Links signed for the upload key may still work for a few minutes
    after confirm; what they write now lands beside the record, never in what is
    checked, downloaded or bundled. (Local mode's upload tokens are single-use.)"""
    if not storage.s3_mode():
        return
    checked = f"{record.prefix}files/"
    for file in record.files.exclude(key__startswith=checked):
        target = f"{checked}{file.uuid}"
        storage.copy(file.key, target)
        RecordFile.objects.filter(pk=file.pk).update(key=target)
        storage.delete([file.key])


def _scanner() -> str | None:
    """The clamd to scan with, or None when the check runs without one. Outside
    DEBUG one is always configured (the settings require it), and while it does not
    answer the check waits (ScannerUnavailable). On a developer's machine (DEBUG) a
    scanner that does not answer is no scanner: the record is checked without it and
    says so ("not checked for viruses") instead of waiting for ever."""
    address = settings.CLAMD_ADDRESS or None
    if address and settings.DEBUG and not clamav.ping(address, timeout=2):
        log.warning(
            "clamd at %s does not answer: records are checked without a virus scan", address
        )
        return None
    return address


def _check(record: Record) -> str:
    files = list(record.files.all())
    clamd = _scanner()
    reports = {}
    thumbnails: dict = {}
    for file in files:
        report = verify_file(
            storage=default_storage,
            key=file.key,
            name=file.name,
            max_size=settings.RECORDS_MAX_FILE_BYTES,
            clamd_address=clamd,
            skip_viewer_files=record.is_study,
        )
        reports[file.uuid] = report
        if report.ok and report.thumbnail:
            key = f"{record.prefix}thumbs/{file.uuid}.png"
            storage.save_bytes(key, report.thumbnail, "image/png")
            thumbnails[file.uuid] = key
        if not report.ok and report.kind != "skipped":
            break  # one bad file rejects the record: no need to read the rest
    failed = any(not r.ok for r in reports.values())
    if not failed and record.is_study and all(r.kind == "skipped" for r in reports.values()):
        # A folder of nothing but viewer software: nothing clinical to keep.
        first = next(iter(reports))
        reports[first] = dataclasses.replace(reports[first], ok=False, reason="folder_nothing")
        failed = True
    summary = None
    replaced: dict = {}
    if not failed:
        summary = _study_summary(record, files, reports)
        # A ZIP keeps only what was checked as clinical: the viewer software, scripts,
        # web pages and autorun files of a disc are not stored, nor ever served.
        for file in files:
            report = reports.get(file.uuid)
            if (
                report is not None
                and report.kind == "zip"
                and any(m.kind == "skipped" for m in report.members or [])
            ):
                key, size, sha256 = _zip_without_viewer_files(record, file, report)
                replaced[file.uuid] = (key, size)
                reports[file.uuid] = dataclasses.replace(
                    report,
                    sha256=sha256,
                    size=size,
                    members=[m for m in report.members if m.kind != "skipped"],
                )
    services.record_verified(
        record_id=record.pk,
        reports=reports,
        summary=summary,
        thumbnails=thumbnails,
        replaced=replaced,
        scanned=clamd is not None,
    )
    return "checked"


def _zip_without_viewer_files(record: Record, file: RecordFile, report) -> tuple[str, int, str]:
    """Write the ZIP again beside the upload, with only the entries verification
    accepted as clinical (DICOM, its DICOMDIR, reports, pictures, text), each with its
    own name and date, so the same upload always gives the same bytes (and the same
    fingerprint, for duplicates). Streamed, like a bundle. Returns (key, size, SHA-256)."""
    from stream_zip import ZIP_64, stream_zip

    from .bundles import DEFLATE_LEVEL, READ_CHUNK, write_chunks

    keep = {m.source for m in report.members or [] if m.kind != "skipped"}
    target = f"{record.prefix}files/{file.uuid}-clinical.zip"
    digest = hashlib.sha256()
    size = 0
    with open_object(default_storage, file.key) as handle, zipfile.ZipFile(handle) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir() and i.filename in keep]

        def contents(info) -> Iterator[bytes]:
            with archive.open(info) as member:
                while chunk := member.read(READ_CHUNK):
                    yield chunk

        def members():
            for info in infos:
                try:
                    modified = datetime.datetime(*info.date_time)
                except ValueError:
                    modified = datetime.datetime(1980, 1, 1)
                yield info.filename, modified, stat.S_IFREG | 0o600, ZIP_64, contents(info)

        def chunks() -> Iterator[bytes]:
            nonlocal size
            for chunk in stream_zip(
                members(),
                chunk_size=256 * 1024,
                get_compressobj=lambda: zlib.compressobj(
                    level=DEFLATE_LEVEL, wbits=-zlib.MAX_WBITS
                ),
            ):
                digest.update(chunk)
                size += len(chunk)
                yield chunk

        write_chunks(storage=default_storage, key=target, chunks=chunks())
    return target, size, digest.hexdigest()


def _study_summary(record: Record, files: list[RecordFile], reports: dict) -> dict | None:
    """For DICOM (a folder's files, or a ZIP's entries): the study summary, with one
    rendered thumbnail per series."""
    by_name = {f.name: f for f in files}
    members = []
    zip_file = None
    for file in files:
        report = reports.get(file.uuid)
        if report is None:
            continue
        if report.kind == "zip" and report.members:
            members.extend(report.members)
            zip_file = file
        else:
            members.append(report)
    if not any(m.kind == "dicom" for m in members):
        return None
    summary = summarise_study(members)
    number = 0
    for study in summary.get("studies", []):
        for series in study.get("series", []):
            number += 1
            source = series.get("thumbnail_source") or ""
            series.pop("thumbnail_source", None)
            try:
                png = _render(source, by_name, zip_file)
            except Exception:  # a series we cannot draw still has its metadata
                png = None
            if png:
                key = f"{record.prefix}thumbs/series-{number}.png"
                storage.save_bytes(key, png, "image/png")
                series["thumbnail"] = key
    return summary


def _render(source: str, by_name: dict, zip_file: RecordFile | None) -> bytes | None:
    if not source:
        return None
    if zip_file is not None:
        with (
            open_object(default_storage, zip_file.key) as handle,
            zipfile.ZipFile(handle) as archive,
            archive.open(source) as member,
        ):
            return dicom_thumbnail(member)
    file = by_name.get(source)
    key = file.key if file else source
    if not key.startswith("cases/"):
        return None
    with open_object(default_storage, key) as handle:
        return dicom_thumbnail(handle)


def lease_until(record_id: int, *, seconds: float) -> None:
    """Hold a scanning record's lease `seconds` from now (a retry's backoff)."""
    Record.objects.filter(pk=record_id, state=State.SCANNING).update(
        check_started_at=timezone.now() + datetime.timedelta(seconds=seconds)
    )


def stalled_records() -> list[int]:
    """Uploaded records whose check never started (the queue lost it), and checks
    whose lease ran out (the worker died, or its retries were used up)."""
    now = timezone.now()
    never_started = Q(state=State.UPLOADED, uploaded_at__lt=now - STALLED_AFTER)
    lease_over = Q(state=State.SCANNING, check_started_at__lt=now - CHECK_LEASE)
    return list(
        Record.objects.filter(never_started | lease_over).values_list("pk", flat=True)[:500]
    )


def stalled_bundles() -> list[int]:
    """Bundles still being prepared long after they were asked for (their task was
    lost): queued again; building is idempotent (the object is replaced)."""
    return list(
        Bundle.objects.filter(
            status=Bundle.Status.BUILDING,
            created_at__lt=timezone.now() - STALLED_AFTER,
            expires_at__gt=timezone.now(),
        ).values_list("pk", flat=True)[:100]
    )


# --- Bundles --------------------------------------------------------------------------
_UNSAFE = re.compile(r"[^\w .()+,-]+", re.UNICODE)


def _folder(text: str) -> str:
    return (_UNSAFE.sub("_", text).strip(" ._") or "record")[:80]


def build_bundle(bundle_id: int) -> str:
    bundle = Bundle.objects.select_related("case").filter(pk=bundle_id).first()
    if bundle is None:
        return "cancelled"  # deleted before its turn (a record deleted, the case ended)
    if bundle.status != Bundle.Status.BUILDING:
        return "done already"
    records = bundle.records.filter(state=State.VERIFIED)
    entries = []
    seen: set[str] = set()
    for record in records.order_by("category", "created_at"):
        folder = f"{_folder(str(Category(record.category).label))}/{_folder(record.title)}"
        for file in record.files.exclude(kind="skipped").order_by("name"):
            name = f"{folder}/{file.name}"
            while name in seen:
                name = f"{folder}/{file.uuid.hex[:8]}-{file.name}"
            seen.add(name)
            entries.append((name, _opener(file.key)))

    def progress(done: int) -> None:
        Bundle.objects.filter(pk=bundle.pk).update(files_done=done)

    from .bundles import bundle_write

    key = bundle.storage_key
    try:
        size = bundle_write(storage=default_storage, key=key, entries=entries, on_progress=progress)
    except storage.StorageUnavailable:
        raise
    except Exception:
        Bundle.objects.filter(pk=bundle.pk).update(status=Bundle.Status.FAILED)
        storage.delete([key])
        raise
    built = Bundle.objects.filter(pk=bundle.pk).update(
        status=Bundle.Status.READY, key=key, size=size, files_done=F("files_total")
    )
    if not built:  # deleted while it was being written: nothing may keep its ZIP
        storage.delete([key])
        return "cancelled"
    return "built"


def _opener(key: str):
    return lambda: open_object(default_storage, key)
