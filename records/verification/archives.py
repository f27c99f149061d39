"""ZIPs, inspected in place and never unpacked to disk: the directory first (entry
count, sizes, ratios, names, links), then each entry streamed through the same
checks as an uploaded file, and scanned on its own."""

from __future__ import annotations

import re
import stat
import struct
import zipfile
from collections.abc import Callable

from secondop.filenames import clean_path

from .base import (
    _READ_ERRORS,
    FileReport,
    _Job,
    _Pass,
    _reject,
    _Sniff,
    _storage_failure,
    _zlib_error,
)

ZIP_MAX_ENTRIES = 5_000
ZIP_MAX_TOTAL_BYTES = 20 * 1024**3  # uncompressed, all entries together
ZIP_MAX_RATIO = 100  # uncompressed : compressed, per entry ...
ZIP_RATIO_MIN_BYTES = 1024**2  # ... for entries above this size (small text packs tightly)
ZIP_MAX_NAME = 1024  # characters in an entry's path

# A ZIP's central directory is read whole by zipfile (and each entry becomes an object),
# so its size is checked first, from the end-of-central-directory record. A CD's entries
# take 60 to 200 bytes each; 4 KiB an entry leaves room for long names and extra fields.
ZIP_MAX_DIRECTORY_BYTES = ZIP_MAX_ENTRIES * 4096


_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_name(name: str) -> bool:
    if not name or len(name) > ZIP_MAX_NAME:
        return True
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        return True
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        return True
    return any(part == ".." for part in path.split("/"))


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


_EOCD = b"PK\x05\x06"
_EOCD64 = b"PK\x06\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_CD_ENTRY = b"PK\x01\x02"


def _zip_directory_precheck(fileobj, size: int) -> str | None:
    """What zipfile would read before anything else, checked first without it:
    zipfile reads the whole central directory into memory and makes an object of
    every entry in it, whatever the count (55 MB listing a million entries took half
    a GiB). The end-of-central-directory record (ZIP64's when there is one) gives the
    directory's size and entry count; then the directory itself is walked, counting
    entries, since the record's count can lie. Returns a REASONS key, or None."""
    tail_length = min(size, 22 + 0xFFFF)
    fileobj.seek(size - tail_length)
    tail = fileobj.read(tail_length)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return "cannot_open"
    _, _, _, _, entries, directory_size, _, _ = struct.unpack("<4s4H2LH", tail[at : at + 22])
    end = size - tail_length + at  # where the directory ends (ZIP64 records aside)
    if end >= 20:
        fileobj.seek(end - 20)
        locator = fileobj.read(20)
        if locator[:4] == _EOCD64_LOCATOR and end >= 76:
            fileobj.seek(end - 76)
            record = fileobj.read(56)
            if record[:4] != _EOCD64:
                return "cannot_open"
            entries, directory_size = struct.unpack("<QQ", record[32:48])
            end -= 76
    if entries > ZIP_MAX_ENTRIES or directory_size > ZIP_MAX_DIRECTORY_BYTES:
        return "zip_too_many"
    start = end - directory_size
    if start < 0:
        return "cannot_open"
    fileobj.seek(start)
    directory = fileobj.read(directory_size)
    if len(directory) != directory_size:
        return "cannot_open"
    count = position = 0
    while position < directory_size:
        if directory[position : position + 4] != _CD_ENTRY or position + 46 > directory_size:
            return "cannot_open"
        name, extra, comment = struct.unpack_from("<3H", directory, position + 28)
        position += 46 + name + extra + comment
        count += 1
        if count > ZIP_MAX_ENTRIES:
            return "zip_too_many"
    return None


def _check_zip(
    fileobj, job: _Job, sniff: _Sniff, found: _Pass, *, verify: Callable[..., FileReport]
) -> dict:
    # Each entry goes through `verify`, the whole check an uploaded file does (given by
    # records.verification.verify, which dispatches here: no import back).
    try:
        problem = _zip_directory_precheck(fileobj, found.size)
    except _READ_ERRORS:
        if _storage_failure(fileobj):
            raise
        problem = "cannot_open"
    if problem:
        return {"reason": problem}
    fileobj.seek(0)
    try:
        archive = zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, *_READ_ERRORS):
        return {"reason": "cannot_open"}
    with archive:
        infos = archive.infolist()
        reason = _zip_directory_problem(infos, found.size)
        if reason:
            return {"reason": reason}
        members: list[FileReport] = []
        for info in infos:
            if info.is_dir():
                continue
            member_job = _Job(
                name=clean_path(info.filename),
                source=info.filename,
                size=info.file_size,
                max_size=ZIP_MAX_TOTAL_BYTES,
                scanner=job.scanner,
                skip_viewer_files=True,
                in_zip=True,
                thumbnails=False,
            )
            try:
                with archive.open(info) as member:
                    report = verify(member, member_job)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, *_zlib_error()):
                if _storage_failure(fileobj):
                    raise _storage_failure(fileobj) from None
                report = _reject(member_job, "cannot_open")
            members.append(report)
            if not report.ok and _storage_failure(fileobj):
                raise _storage_failure(fileobj)
            if not report.ok:
                return {"reason": report.reason, "members": members}
        if not any(m.kind != "skipped" for m in members):
            return {"reason": "zip_nothing" if members else "empty", "members": members}
        return {"members": members}


def _zip_directory_problem(infos: list[zipfile.ZipInfo], archive_size: int) -> str | None:
    """What the ZIP's own directory gives away, before any entry is unpacked."""
    if len(infos) > ZIP_MAX_ENTRIES:
        return "zip_too_many"
    total = 0
    seen: set[str] = set()
    for info in infos:
        if _unsafe_name(info.filename) or _is_link(info):
            return "zip_unsafe"
        key = info.filename.replace("\\", "/").rstrip("/")
        if key in seen:
            return "zip_unsafe"  # two entries, one name: what is read is not what is shown
        seen.add(key)
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            return "cannot_open"  # password-protected
        total += info.file_size
        if info.file_size > ZIP_RATIO_MIN_BYTES and (
            info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1)
        ):
            return "zip_too_big"
    if total > ZIP_MAX_TOTAL_BYTES:
        return "zip_too_big"
    if total > ZIP_RATIO_MIN_BYTES and total > ZIP_MAX_RATIO * max(archive_size, 1):
        return "zip_too_big"
    return None
