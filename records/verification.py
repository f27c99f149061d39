"""Checking an uploaded file before anyone opens it: pure functions over a stored
object, no models. records.checking calls them from a Celery task.

Every file is read as a stream, so memory stays bounded whatever its size:

1. one pass for the SHA-256, sent to clamd's INSTREAM on the way when a scanner
   is configured (records.clamav); the first MiB also tells the true type
   (libmagic, plus our own look at a DICOM's preamble);
2. the allow-list: PDF, JPEG, PNG, TIFF, HEIC (when Pillow reads it), DICOM,
   plain text, and ZIPs of these;
3. the file is opened by the library that reads its kind (pypdfium2, Pillow,
   pydicom without pixel data), which finds damaged and password-protected files
   and makes the thumbnail;
4. a ZIP is inspected in place, never unpacked to disk: its directory first
   (entry count, sizes, ratios, names, links), then each entry streamed through
   the same checks, and scanned on its own.

A rejection carries a REASONS code; its text is what the patient reads.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import re
import stat
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# File names are the platform's (the report's PDF is downloaded with them too).
from secondop.filenames import clean_filename, clean_path, content_disposition

from . import clamav
from .storage import StorageUnavailable
from .storage_io import iter_chunks, open_object

log = logging.getLogger(__name__)

# --- Limits ------------------------------------------------------------------------------
ZIP_MAX_ENTRIES = 5_000
ZIP_MAX_TOTAL_BYTES = 20 * 1024**3  # uncompressed, all entries together
ZIP_MAX_RATIO = 100  # uncompressed : compressed, per entry ...
ZIP_RATIO_MIN_BYTES = 1024**2  # ... for entries above this size (small text packs tightly)
ZIP_MAX_NAME = 1024  # characters in an entry's path
# What clamd is sent at most in one INSTREAM; clamd's StreamMaxLength must be at least
# this. settings.CLAMD_STREAM_MAX_BYTES overrides it.
CLAMD_STREAM_MAX = 1000**3

HEAD_BYTES = 1024 * 1024  # what libmagic sees
CHUNK = 1024 * 1024
THUMBNAIL_WIDTH = 480
THUMBNAIL_MAX_HEIGHT = 1440
# Pillow decodes a whole image to make a thumbnail; past this (after JPEG's reduced
# decoding) the image is checked without one. Past IMAGE_MAX_PIXELS it is refused.
IMAGE_DECODE_MAX_BYTES = 48 * 1024**2
IMAGE_MAX_PIXELS = 180_000_000
# A PDF inside a ZIP is read into memory up to this size: a compressed ZIP entry can
# only seek backwards by decompressing again from its start.
PDF_IN_MEMORY_MAX = 32 * 1024**2
# A ZIP's central directory is read whole by zipfile (and each entry becomes an object),
# so its size is checked first, from the end-of-central-directory record. A CD's entries
# take 60 to 200 bytes each; 4 KiB an entry leaves room for long names and extra fields.
ZIP_MAX_DIRECTORY_BYTES = ZIP_MAX_ENTRIES * 4096

# DICOM: what a file declares is checked before anything decodes it.
# rows x columns x samples of one frame. No modality comes near it (a mammogram is
# 4,096 x 5,120; whole-slide pathology is stored as tiles); the format allows 65,535².
DICOM_MAX_FRAME_PIXELS = 16384 * 16384
DICOM_MAX_FRAMES = 100_000
DICOM_BITS_ALLOCATED = frozenset({1, 8, 16, 32, 64})
# A compressed frame is decoded whole by its codec: past this size (decoded) no picture
# is drawn. An uncompressed frame of any size is sampled row by row instead.
DICOM_DECODE_MAX_BYTES = 64 * 1024**2
# Header reads skip (pydicom's defer_size) any element bigger than this, such as a
# vendor's private blob, and stop once the elements they did read pass the second.
DICOM_DEFER_BYTES = 1024**2
DICOM_HEADER_MAX_BYTES = 16 * 1024**2
# A DICOM thumbnail is made from at most this many pixels along the longer side.
DICOM_SAMPLE_SIDE = 1024

ACCEPTED = _(
    "Please upload a PDF, a photo (JPEG, PNG, TIFF or HEIC), a DICOM image, "
    "a plain text file, or a ZIP of these."
)

REASONS: dict[str, str] = {
    "empty": _("This file is empty. Please check it and upload it again."),
    "too_large": _(
        "This file is bigger than the size limit. Please upload a smaller file, "
        "or split it into parts."
    ),
    "type_not_allowed": _(
        "This kind of file can't be accepted. Please upload a PDF, a photo "
        "(JPEG, PNG, TIFF or HEIC), a DICOM image, a plain text file, or a "
        "ZIP of these."
    ),
    "mismatch": _(
        "This file's name says it is a document or an image, but it is really "
        "another kind of file (such as a program or a web page), so it can't be "
        "accepted. Please upload the original file."
    ),
    "cannot_open": _(
        "This file is damaged or password-protected, so it can't be opened. "
        "Please remove the password (or save a fresh copy) and upload it again."
    ),
    "malware": _(
        "Our virus check found something harmful in this file, so it was not kept. "
        "Please ask whoever gave you the file for a clean copy."
    ),
    "zip_unsafe": _(
        "This ZIP file contains links or file names that point outside the ZIP, "
        "so it can't be accepted. Please put the files in a new ZIP and upload "
        "that."
    ),
    "zip_too_big": _(
        "This ZIP file unpacks to far more data than it holds, or more than we "
        "can accept, so it can't be opened. Please upload the files in smaller "
        "ZIPs."
    ),
    "zip_too_many": _(
        "This ZIP file holds too many files. Please split it into smaller ZIPs "
        "(up to 5,000 files each)."
    ),
    "zip_nested": _(
        "This ZIP file has another ZIP (or other archive) inside it. Please "
        "unpack the inner one and upload its files instead."
    ),
    "zip_nothing": _(
        "This ZIP file has nothing in it we can accept: no PDFs, photos, DICOM "
        "images or text files."
    ),
    "dicom_invalid": _(
        "This imaging (DICOM) file is damaged or incomplete, so it can't be "
        "read. Please copy it from the disc again and upload it."
    ),
    "dicom_unsafe": _(
        "This imaging (DICOM) file has hidden content that is not part of the "
        "image, so it can't be accepted for safety reasons. Please ask the "
        "imaging centre for a new copy."
    ),
    "heic_unreadable": _(
        "Photos in HEIC format can't be read here yet. Please save the photo "
        "as a JPEG (most phones can share it as one) and upload that."
    ),
    "image_too_large": _(
        "This picture is too large to process. Please upload a smaller copy of it."
    ),
    "scan_too_large": _(
        "This file is too large for our virus check. Please split it into "
        "smaller files (for example, one ZIP per disc) and upload those."
    ),
    "scan_failed": _("We couldn't check this file for viruses. Please upload it again later."),
    "duplicate": _("You have already uploaded this file."),
    "dicom_too_large": _(
        "This imaging (DICOM) file says its picture is far larger than any "
        "scan, so it can't be opened safely. Please ask the imaging centre "
        "for a new copy."
    ),
    "dicom_unsupported": _(
        "This imaging (DICOM) file is packed in a way we can't open "
        "safely. Please ask the imaging centre for a copy in the usual "
        "format for a disc."
    ),
    "too_complex": _(
        "This file needs more memory to check than we allow for one file, so "
        "it can't be accepted. Please upload a smaller copy, or split it into "
        "parts."
    ),
    "folder_nothing": _(
        "This folder has nothing in it we can accept: no PDFs, photos, DICOM images or text files."
    ),
}


class ScannerUnavailable(Exception):
    """clamd is configured but did not give a verdict: the file is neither clean nor
    rejected. The caller keeps the record scanning and retries later."""


@dataclass(frozen=True)
class FileReport:
    ok: bool
    reason: str | None  # a REASONS key when not ok
    sha256: str
    size: int
    mime: str  # the true type: "application/pdf", "image/png", "application/dicom", ...
    kind: str  # "pdf" | "image" | "dicom" | "zip" | "text" | "skipped" ("" when unknown)
    dicom: dict | None = None  # see _dicom_fields
    thumbnail: bytes | None = None  # PNG, at most THUMBNAIL_WIDTH wide
    members: list[FileReport] | None = None  # a ZIP's entries, in order, up to the first bad one
    name: str = ""  # the cleaned relative path (a ZIP entry's, or the uploaded name)
    # Where the bytes are: the storage key of an uploaded file, or a ZIP entry's name
    # exactly as written in the archive (for ZipFile.open).
    source: str = ""


# --- CD viewer software --------------------------------------------------------------------
VIEWER_NAMES = frozenset(
    {
        "autorun.inf",
        "autorun.exe",
        "desktop.ini",
        "thumbs.db",
        ".ds_store",
        "index.htm",
        "index.html",
        "setup.exe",
        "start.exe",
        "launch.exe",
        "run.exe",
    }
)
VIEWER_PREFIXES = ("readme", "read_me", "read me", "license", "licence", "eula", "copying", "._")
VIEWER_EXTENSIONS = frozenset(
    {
        ".exe",
        ".dll",
        ".inf",
        ".ini",
        ".bat",
        ".cmd",
        ".com",
        ".msi",
        ".sys",
        ".ocx",
        ".cab",
        ".jar",
        ".class",
        ".jnlp",
        ".js",
        ".css",
        ".htm",
        ".html",
        ".xml",
        ".xsl",
        ".json",
        ".chm",
        ".hlp",
        ".lnk",
        ".ico",
        ".icns",
        ".cur",
        ".cfg",
        ".conf",
        ".config",
        ".manifest",
        ".so",
        ".dylib",
        ".sh",
        ".command",
        ".vbs",
        ".ps1",
        ".lic",
        ".pak",
        ".swf",
        ".ttf",
        ".otf",
        ".woff",
        ".woff2",
        ".map",
        ".plist",
        ".dmg",
        ".pkg",
        ".app",
        ".rtf",
        ".url",
    }
)
VIEWER_FOLDERS = frozenset(
    {
        "viewer",
        "viewers",
        "dicomviewer",
        "dicom viewer",
        "cdviewer",
        "cd viewer",
        "webviewer",
        "imageviewer",
        "program",
        "programs",
        "program files",
        "bin",
        "lib",
        "jre",
        "java",
        "plugins",
        "runtime",
        "autorun",
        "help",
        "html",
        "web",
        "__macosx",
        ".fseventsd",
        ".spotlight-v100",
        ".trashes",
        "efilm",
        "radiant",
        "microdicom",
        "osirix",
        "horos",
        "weasis",
        "ezdicom",
        "kpacs",
        "k-pacs",
        "iqview",
        "onis",
        "synedra",
        "sante",
        "vepro",
        "irfanview",
    }
)


def _base_name(path: str) -> str:
    parts = [p.strip().lower() for p in re.split(r"[/\\]+", str(path or "")) if p.strip()]
    return parts[-1] if parts else ""


def is_viewer_file(path: str) -> bool:
    """True for the viewer software, scripts, web pages and autorun files an imaging
    CD carries beside its images: a study skips them instead of rejecting, and never
    keeps them (records.checking drops them from a folder and rewrites a ZIP without
    them). The DICOMDIR is not one of them: it indexes the images and is kept."""
    parts = [p.strip().lower() for p in re.split(r"[/\\]+", str(path or "")) if p.strip()]
    if not parts:
        return False
    base = parts[-1]
    if base in VIEWER_NAMES or base.startswith(VIEWER_PREFIXES):
        return True
    dot = base.rfind(".")
    if dot > 0 and base[dot:] in VIEWER_EXTENSIONS:
        return True
    return any(part in VIEWER_FOLDERS for part in parts[:-1])


# --- What a file really is -----------------------------------------------------------------
_TEXT_MIMES = frozenset({"text/plain", "text/csv"})
_IMAGE_MIMES = frozenset({"image/jpeg", "image/png", "image/tiff"})
_HEIC_MIMES = frozenset({"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"})
_ARCHIVE_MIMES = frozenset(
    {
        "application/zip",
        "application/x-zip-compressed",
        "application/java-archive",
        "application/x-7z-compressed",
        "application/x-rar",
        "application/vnd.rar",
        "application/x-rar-compressed",
        "application/gzip",
        "application/x-gzip",
        "application/x-bzip2",
        "application/x-xz",
        "application/x-tar",
        "application/zstd",
        "application/x-lzip",
        "application/x-lzma",
        "application/x-compress",
        "application/x-cpio",
        "application/x-iso9660-image",
        "application/vnd.ms-cab-compressed",
        "application/x-arj",
        "application/x-lzh-compressed",
        "application/x-archive",
    }
)
# What a file's extension promises, for telling "not allowed" from "not what it says".
_EXTENSION_KINDS = {
    ".pdf": "pdf",
    ".jpg": "image",
    ".jpeg": "image",
    ".jpe": "image",
    ".jfif": "image",
    ".png": "image",
    ".tif": "image",
    ".tiff": "image",
    ".heic": "image",
    ".heif": "image",
    ".dcm": "dicom",
    ".dicom": "dicom",
    ".dic": "dicom",
    ".zip": "zip",
    ".txt": "text",
    ".text": "text",
    ".csv": "text",
}
# A DICOM's 128-byte preamble is free for applications, and is the classic place to
# make a file that is both a DICOM and a program or a web page.
_UNSAFE_PREAMBLE_STARTS = (
    b"MZ",
    b"ZM",
    b"\x7fELF",
    b"#!",
    b"PK\x03\x04",
    b"%PDF",
    b"\xca\xfe\xba\xbe",
    b"\xfe\xed\xfa",
    b"\xcf\xfa\xed\xfe",
    b"\xce\xfa\xed\xfe",
    b"{\\rtf",
)
_UNSAFE_PREAMBLE_MARKUP = re.compile(
    rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta|a\s|img\s|"
    rb"style|link|form|base|xml|xsl)",
    re.IGNORECASE,
)
_SAFE_PREAMBLE_MIMES = frozenset(
    {"application/octet-stream", "image/tiff", "text/plain", "application/x-empty"}
)


@dataclass(frozen=True)
class _Sniff:
    mime: str
    kind: str  # "" when the type is not allowed
    reason: str | None = None
    raw_dicom: bool = False  # DICOM without the DICM marker (old discs)


@functools.cache
def _pillow_reads_heic() -> bool:
    from PIL import Image

    Image.init()
    return ".heic" in Image.registered_extensions()


def _magic(data: bytes) -> str:
    import magic

    return magic.from_buffer(data, mime=True) or "application/octet-stream"


def _preamble_is_safe(preamble: bytes) -> bool:
    if preamble.lstrip(b"\0 \t\r\n").startswith(_UNSAFE_PREAMBLE_STARTS):
        return False
    if _UNSAFE_PREAMBLE_MARKUP.search(preamble):
        return False
    return not preamble.strip(b"\0") or _magic(preamble) in _SAFE_PREAMBLE_MIMES


def _extension_kind(name: str) -> str:
    dot = name.rfind(".")
    return _EXTENSION_KINDS.get(name[dot:].lower(), "") if dot >= 0 else ""


def _sniff(head: bytes, name: str) -> _Sniff:
    if len(head) >= 132 and head[128:132] == b"DICM":
        if not _preamble_is_safe(head[:128]):
            return _Sniff("application/dicom", "", "dicom_unsafe")
        return _Sniff("application/dicom", "dicom")
    mime = _magic(head)
    if mime == "application/pdf":
        return _Sniff(mime, "pdf")
    if mime in _IMAGE_MIMES:
        return _Sniff(mime, "image")
    if mime in _HEIC_MIMES:
        return (
            _Sniff(mime, "image") if _pillow_reads_heic() else _Sniff(mime, "", "heic_unreadable")
        )
    if mime == "application/zip":
        return _Sniff(mime, "zip")
    if mime in _TEXT_MIMES:
        return _Sniff(mime, "text")
    if mime == "application/octet-stream" and _looks_like_raw_dicom(head):
        return _Sniff("application/dicom", "dicom", raw_dicom=True)
    claimed = _extension_kind(name)
    return _Sniff(mime, "", "mismatch" if claimed else "type_not_allowed")


def _looks_like_raw_dicom(head: bytes) -> bool:
    """DICOM written without the preamble and DICM marker (still found on old
    discs): the first element is a group 0008 tag, and the header holds the three
    identifiers every instance has."""
    if len(head) < 8 or head[:2] != b"\x08\x00":
        return False
    ds = _dcmread_quietly(io.BytesIO(head), force=True)
    return ds is not None and all(
        ds.get(k) for k in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
    )


# --- The report -------------------------------------------------------------------------------
def _settings_stream_max() -> int:
    try:
        from django.conf import settings

        return int(getattr(settings, "CLAMD_STREAM_MAX_BYTES", CLAMD_STREAM_MAX))
    except Exception:  # settings not configured: a plain library call
        return CLAMD_STREAM_MAX


@dataclass
class _Scanner:
    address: str
    max_stream: int
    timeout: float

    def scan(self, chunks: Iterable[bytes]) -> clamav.ScanResult:
        try:
            return clamav.scan(
                self.address, chunks, max_bytes=self.max_stream, timeout=self.timeout
            )
        except clamav.ClamdUnavailable as error:
            raise ScannerUnavailable(str(error)) from error


@dataclass
class _Job:
    """One file being checked: where it is, what it is called, and the rules."""

    name: str
    source: str
    size: int
    max_size: int
    scanner: _Scanner | None
    skip_viewer_files: bool
    in_zip: bool = False
    thumbnails: bool = True


@dataclass
class _Pass:
    """What the streaming pass found."""

    sha256: str = ""
    size: int = 0
    head: bytes = b""  # the first HEAD_BYTES
    has_nul: bool = False
    scan: clamav.ScanResult | None = None
    over_limit: bool = False
    failure: Exception | None = None  # reading failed (a damaged ZIP entry)


def _reject(job: _Job, reason: str, **values) -> FileReport:
    fields = {
        "sha256": "",
        "size": job.size,
        "mime": "",
        "kind": "",
        "name": job.name,
        "source": job.source,
        **values,
    }
    return FileReport(ok=False, reason=reason, **fields)


def _accept(job: _Job, **values) -> FileReport:
    fields = {"name": job.name, "source": job.source, **values}
    return FileReport(ok=True, reason=None, **fields)


def _storage_failure(fileobj) -> Exception | None:
    """A storage error a library swallowed (pypdfium2 reads through a callback)."""
    seen = getattr(fileobj, "error", None)
    if seen is None:
        seen = getattr(getattr(fileobj, "file", None), "error", None)
    return seen if isinstance(seen, StorageUnavailable) else None


_READ_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    struct.error,
)


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


def _zlib_error() -> tuple[type[Exception], ...]:
    import zlib

    return (zlib.error,)


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
        "zip": _check_zip,
        "text": _check_text,
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


# --- Kinds ----------------------------------------------------------------------------------
def _check_text(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    # libmagic saw the first MiB; a NUL further on means it is not text after all.
    if found.has_nul:
        return {"reason": "mismatch" if _extension_kind(job.name) else "type_not_allowed"}
    return {}


class _CallbackReader:
    """What PDFium reads through: its read callback cannot raise, so a failing read
    returns nothing and the error is kept, for the caller to tell a storage failure
    from a damaged file."""

    def __init__(self, fileobj):
        self._file = fileobj
        self.error: Exception | None = None

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def read(self, size: int = -1) -> bytes:
        return self._file.read(size)

    def readinto(self, buffer) -> int:
        try:
            data = self._file.read(len(buffer))
        except Exception as error:
            self.error = error
            return 0
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)


def _check_pdf(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    import pypdfium2 as pdfium

    fileobj.seek(0)
    source = fileobj
    if job.in_zip and found.size <= PDF_IN_MEMORY_MAX:
        # pypdfium2 jumps about, and a compressed entry can only rewind by
        # decompressing again from its start.
        source = io.BytesIO(fileobj.read())
    reader = _CallbackReader(source)
    try:
        document = pdfium.PdfDocument(reader)
    except pdfium.PdfiumError:
        if isinstance(reader.error, StorageUnavailable):
            raise reader.error from None
        return {"reason": "cannot_open"}
    try:
        if len(document) < 1:
            return {"reason": "cannot_open"}
        thumbnail = _pdf_thumbnail(document) if job.thumbnails else None
        if isinstance(reader.error, StorageUnavailable):
            raise reader.error
        return {"thumbnail": thumbnail}
    finally:
        document.close()


def _pdf_thumbnail(document) -> bytes | None:
    page = document[0]
    try:
        width, height = page.get_size()
        if width <= 0 or height <= 0:
            return None
        scale = min(THUMBNAIL_WIDTH / width, THUMBNAIL_MAX_HEIGHT / height, 2.0)
        bitmap = page.render(scale=scale)
        try:
            return _png(bitmap.to_pil())
        finally:
            bitmap.close()
    except Exception:  # a page PDFium cannot draw still leaves a readable document
        return None
    finally:
        page.close()


def _png(image) -> bytes:
    from PIL import Image

    if image.width > THUMBNAIL_WIDTH or image.height > THUMBNAIL_MAX_HEIGHT:
        image.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT), Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


_PILLOW_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",), "image/tiff": ("TIFF",)}


def _check_image(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    from PIL import Image, ImageOps

    formats = _PILLOW_FORMATS.get(sniff.mime, ("HEIF", "HEIC"))
    fileobj.seek(0)
    try:
        image = Image.open(fileobj, formats=list(formats))
    except Image.DecompressionBombError:
        return {"reason": "image_too_large"}
    except (OSError, ValueError, SyntaxError, struct.error, EOFError):
        return {"reason": "cannot_open"}
    with image:
        width, height = image.size
        if width < 1 or height < 1:
            return {"reason": "cannot_open"}
        if width * height > IMAGE_MAX_PIXELS:
            return {"reason": "image_too_large"}
        if image.format in ("JPEG", "MPO"):
            image.draft("RGB", (THUMBNAIL_WIDTH * 2, THUMBNAIL_WIDTH * 2))
        decoded = image.size[0] * image.size[1] * _bytes_per_pixel(image.mode)
        with _strict_decoding():
            if decoded > IMAGE_DECODE_MAX_BYTES:
                # Too big to decode here in one go: check its structure, no thumbnail.
                image.verify()
                return {}
            image.load()
        if not job.thumbnails:
            return {}
        try:
            # Shrink first, in place: every step after works on a small image.
            picture = image.convert("I") if image.mode.startswith("I;16") else image
            picture.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_MAX_HEIGHT), Image.Resampling.LANCZOS)
            picture = ImageOps.exif_transpose(_eight_bit(picture))
            return {"thumbnail": _png(picture)}
        except Exception:  # a picture we cannot draw is still a readable picture
            return {}


def _bytes_per_pixel(mode: str) -> int:
    """What Pillow holds per pixel once decoded (RGB is stored as four bytes), plus
    the 32-bit copy a 16-bit greyscale needs for its thumbnail."""
    if mode in ("1", "L", "P"):
        return 1
    if mode in ("LA", "PA", "La"):
        return 4
    if mode.startswith("I;16"):
        return 6
    return 4


@contextlib.contextmanager
def _strict_decoding():
    """A cut-off image must fail to decode. Pillow's switch for tolerating them is
    process-wide, and WeasyPrint (the report PDFs) turns it on when imported, so it
    is turned off around our own decoding. Verification runs one file at a time per
    process (Celery prefork), so nothing else is decoding meanwhile."""
    from PIL import ImageFile

    tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant


def _eight_bit(image):
    """16-bit and float greyscale (scanners' TIFFs) stretched to 8 bits for a PNG."""
    if image.mode not in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        return image
    import numpy as np
    from PIL import Image

    values = np.asarray(image, dtype=np.float32)
    return Image.fromarray(_to_uint8(values))


def _to_uint8(values, low=None, high=None):
    import numpy as np

    # 32-bit floats, on a thumbnail-sized array: the frame itself is never copied.
    values = np.nan_to_num(values.astype(np.float32, copy=False))
    if low is None or high is None:
        low, high = np.percentile(values, (0.5, 99.5)) if values.size else (0.0, 0.0)
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (np.clip(values, low, high) - low) * (255.0 / (high - low))
    return scaled.astype(np.uint8)


# --- DICOM ----------------------------------------------------------------------------------
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = {b"\xe0\x7f\x10\x00": "<", b"\x7f\xe0\x00\x10": ">"}
_LONG_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC", b"UR"}


def _dicom_fields(ds) -> dict:
    def text(keyword: str) -> str:
        value = ds.get(keyword)
        return str(value).strip() if value not in (None, "") else ""

    def number(keyword: str) -> int | None:
        value = ds.get(keyword)
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    raw_date = re.sub(r"\D", "", text("StudyDate"))
    date = f"{raw_date[:4]}-{raw_date[4:6]}-{raw_date[6:8]}" if len(raw_date) >= 8 else ""
    return {
        "study_uid": text("StudyInstanceUID"),
        "series_uid": text("SeriesInstanceUID"),
        "sop_uid": text("SOPInstanceUID"),
        "modality": text("Modality").upper(),
        "study_date": date,
        "body_part": text("BodyPartExamined"),
        "study_description": text("StudyDescription"),
        "series_description": text("SeriesDescription"),
        "series_number": number("SeriesNumber"),
        "instance_number": number("InstanceNumber"),
        "frames": number("NumberOfFrames") or 1,
        "has_pixels": False,
    }


class _HeaderTooBig(Exception):
    """A DICOM header whose elements, read one by one, pass DICOM_HEADER_MAX_BYTES."""


class _ReadBudget:
    """A file object that refuses to hand out more than `budget` bytes in all: what
    pydicom reads of a header (skipped elements are seeked over, and cost nothing)."""

    def __init__(self, fileobj, budget: int):
        self._file = fileobj
        self._left = budget

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        data = self._file.read(wanted)
        self._left -= len(data)
        if self._left < 0:
            raise _HeaderTooBig
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def __getattr__(self, name):
        return getattr(self._file, name)


def _drop_deferred(ds) -> None:
    """Remove the elements defer_size left unread (and those inside sequences), so
    that nothing touched later reads them after all."""
    for tag in list(ds.keys()):
        element = ds.get_item(tag, keep_deferred=True)
        if getattr(element, "value", b"") is None and getattr(element, "length", 0):
            del ds[tag]
        elif getattr(element, "VR", "") == "SQ":
            for item in ds[tag].value or []:
                _drop_deferred(item)


def _read_header(source, *, force: bool):
    """A DICOM header, read without its pixel data, skipping large elements, with a
    bound on what is read. The source is left where reading stopped."""
    import pydicom

    ds = pydicom.dcmread(
        _ReadBudget(source, DICOM_HEADER_MAX_BYTES),
        stop_before_pixels=True,
        defer_size=DICOM_DEFER_BYTES,
        force=force,
    )
    _drop_deferred(ds)
    return ds


def _dcmread_quietly(fileobj, *, force: bool):
    try:
        return _read_header(fileobj, force=force)
    except Exception:
        return None


@dataclass(frozen=True)
class _PixelData:
    present: bool = False
    complete: bool = True
    offset: int = 0  # where its value starts in the file
    length: int = 0  # 0xFFFFFFFF when encapsulated (compressed frames as items)


def _pixel_data_at(fileobj, ds, size: int) -> _PixelData:
    """Whether the element where reading stopped is Pixel Data, where its value is,
    and whether its declared length fits in what is left of the file. A cut-off
    copy from a disc fails here although its header reads."""
    start = fileobj.tell()
    header = fileobj.read(12)
    if len(header) < 8 or header[:4] not in _PIXEL_TAGS:
        return _PixelData()
    order = _PIXEL_TAGS[header[:4]]
    implicit, _little = _encoding(ds)
    if implicit:
        (length,), used = struct.unpack(f"{order}L", header[4:8]), 8
    elif header[4:6] in _LONG_VRS:
        if len(header) < 12:
            return _PixelData(present=True, complete=False)
        (length,), used = struct.unpack(f"{order}L", header[8:12]), 12
    else:
        (length,), used = struct.unpack(f"{order}H", header[6:8]), 8
    if length == 0xFFFFFFFF:  # encapsulated (compressed) frames follow as items
        fileobj.seek(start + used)
        item = fileobj.read(4)
        return _PixelData(
            True, item in (b"\xfe\xff\x00\xe0", b"\xff\xfe\xe0\x00"), start + used, length
        )
    return _PixelData(True, start + used + length <= size, start + used, length)


def _encoding(ds) -> tuple[bool, bool]:
    """(implicit VR, little endian): the file meta's transfer syntax, or what pydicom
    found reading a file without one (old discs)."""
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax:
        with contextlib.suppress(Exception):
            return bool(syntax.is_implicit_VR), bool(syntax.is_little_endian)
    implicit, little = getattr(ds, "original_encoding", (None, None))
    return bool(implicit), little is not False


def _dicom_header(source, sniff: _Sniff, size: int):
    source.seek(0)
    ds = _read_header(source, force=sniff.raw_dicom)
    return ds, _pixel_data_at(source, ds, size)


@dataclass(frozen=True)
class _Geometry:
    """What a DICOM declares about its pixels."""

    rows: int
    columns: int
    samples: int
    frames: int
    bits: int
    signed: bool
    planar: bool
    native: bool  # uncompressed: frames lie one after another
    little_endian: bool
    subsampled: bool = False  # YBR_FULL_422: not laid out pixel by pixel

    @property
    def frame_pixels(self) -> int:
        return self.rows * self.columns * self.samples

    @property
    def frame_bytes(self) -> int:
        return (self.frame_pixels * self.bits + 7) // 8

    @property
    def decoded_bytes(self) -> int:  # one frame as the decoder holds it
        return self.frame_pixels * max(self.bits, 8) // 8


def _int(ds, keyword: str, default: int | None = None) -> int | None:
    value = ds.get(keyword, default)
    try:
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return None


def _dicom_geometry(ds, pixels: _PixelData) -> _Geometry | str:
    """The declared geometry of the pixel data, or the REASONS key refusing it. Only
    numbers are read: nothing is decoded, whatever the file claims."""
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    samples, bits = _int(ds, "SamplesPerPixel", 1), _int(ds, "BitsAllocated")
    frames = _int(ds, "NumberOfFrames", 1)
    if not all(isinstance(v, int) and v > 0 for v in (rows, columns, samples, bits, frames)):
        return "dicom_invalid"
    if bits not in DICOM_BITS_ALLOCATED or samples > 4:
        return "dicom_invalid"
    if frames > DICOM_MAX_FRAMES or rows * columns * samples > DICOM_MAX_FRAME_PIXELS:
        return "dicom_too_large"
    native = pixels.length != 0xFFFFFFFF
    _implicit, little = _encoding(ds)
    photometric = str(ds.get("PhotometricInterpretation", "") or "").upper()
    geometry = _Geometry(
        rows,
        columns,
        samples,
        frames,
        bits,
        bool(_int(ds, "PixelRepresentation", 0)),
        bool(_int(ds, "PlanarConfiguration", 0)),
        native,
        little,
        subsampled=native and photometric == "YBR_FULL_422",
    )
    expected = (geometry.frame_pixels * bits * frames + 7) // 8
    if geometry.subsampled:
        expected = expected * 2 // 3  # YBR_FULL_422 stores two chroma values per two pixels
    if native and expected > pixels.length:
        return "dicom_invalid"  # declares more pixels than it holds
    return geometry


def _transfer_syntax(head: bytes) -> str:
    """The transfer syntax named in the file meta of a file starting with `head`."""
    match = re.search(rb"\x02\x00\x10\x00(?:UI..)?([0-9.]{3,64})", head[:4096], re.DOTALL)
    return match.group(1).decode("ascii").rstrip(".") if match else ""


# Deflated datasets are inflated whole by pydicom before it reads a single element:
# a few megabytes can unpack to gigabytes. Discs never use it.
_DEFLATED_SYNTAX = "1.2.840.10008.1.2.1.99"


def _check_dicom(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    if _transfer_syntax(found.head) == _DEFLATED_SYNTAX:
        return {"reason": "dicom_unsupported"}
    header = None
    head = found.head
    # A header nearly always fits in the first MiB, already in memory: reading it
    # from there spares a ZIP entry decompressing again and S3 another request.
    with contextlib.suppress(Exception):
        in_head = io.BytesIO(head)
        ds, pixels = _dicom_header(in_head, sniff, found.size)
        if len(head) == found.size or (pixels.present and in_head.tell() + 4 <= len(head)):
            header = ds, pixels
    try:
        ds, pixels = header or _dicom_header(fileobj, sniff, found.size)
        media_class = str(getattr(ds.get("file_meta"), "MediaStorageSOPClassUID", "") or "")
        if media_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
            # A disc's index of its own files: kept beside the images, not one of them.
            return {"kind": "dicomdir"}
        fields = _dicom_fields(ds)
    except StorageUnavailable:
        raise
    except Exception:
        if _storage_failure(fileobj):
            raise
        return {"reason": "dicom_invalid"}
    if not (fields["study_uid"] and fields["series_uid"] and fields["sop_uid"]):
        return {"reason": "dicom_invalid"}
    if not pixels.complete:
        return {"reason": "dicom_invalid"}
    if pixels.present:
        geometry = _dicom_geometry(ds, pixels)
        if isinstance(geometry, str):
            return {"reason": geometry}
    fields["has_pixels"] = pixels.present
    return {"dicom": fields}


def dicom_thumbnail(fileobj) -> bytes:
    """A PNG of one instance (the middle frame of a multi-frame one), greyscale
    through its modality and VOI LUTs (window), MONOCHROME1 inverted, at most
    THUMBNAIL_WIDTH wide.

    Memory stays bounded whatever the file declares: the geometry is checked before
    anything is decoded; an uncompressed frame is sampled row by row (every n-th row
    and column, at most DICOM_SAMPLE_SIDE on the longer side), a compressed one is
    decoded only up to DICOM_DECODE_MAX_BYTES and sampled the same way; the windowing
    then works on the sample, in 32-bit floats. Raises ValueError for a file it will
    not draw."""
    import numpy as np
    from PIL import Image
    from pydicom.pixels import apply_modality_lut, apply_voi_lut, pixel_array

    fileobj.seek(0)
    ds = _read_header(fileobj, force=True)
    size = _size_of_stream(fileobj)
    pixels = _pixel_data_at(fileobj, ds, size)
    if not pixels.present:
        raise ValueError("no pixel data")
    geometry = _dicom_geometry(ds, pixels)
    if isinstance(geometry, str):
        raise ValueError(f"pixel data refused: {geometry}")
    index = geometry.frames // 2 if geometry.frames > 1 else 0
    step = max(1, -(-max(geometry.rows, geometry.columns) // DICOM_SAMPLE_SIDE))
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if (
        geometry.native
        and geometry.bits >= 8
        and not geometry.subsampled
        and (step > 1 or geometry.frame_bytes > DICOM_DECODE_MAX_BYTES)
    ):
        array = _sample_native_frame(fileobj, pixels, geometry, index, step)
    else:
        if geometry.decoded_bytes > DICOM_DECODE_MAX_BYTES:
            raise ValueError("frame too large to decode for a picture")
        fileobj.seek(0)
        array = pixel_array(fileobj, index=index)
        if step > 1:
            array = np.ascontiguousarray(array[::step, ::step])
    if geometry.samples == 1:
        array = apply_modality_lut(array, ds)
        windowed = "WindowCenter" in ds or "VOILUTSequence" in ds
        if windowed:
            array = apply_voi_lut(array, ds, index=0)
            low, high = float(np.min(array)), float(np.max(array))
            pixels_8 = _to_uint8(array, low, high)
        else:
            pixels_8 = _to_uint8(array)
        if photometric == "MONOCHROME1":
            pixels_8 = 255 - pixels_8
        image = Image.fromarray(pixels_8)
    else:
        if photometric.startswith("YBR") and geometry.native:
            from pydicom.pixels import convert_color_space

            array = convert_color_space(array, photometric, "RGB")
        if array.dtype != np.uint8:
            array = _to_uint8(array, 0.0, float(np.max(array)) or 1.0)
        image = Image.fromarray(np.ascontiguousarray(array[..., :3]))
    return _png(image)


def _size_of_stream(fileobj) -> int:
    size = getattr(fileobj, "size", None)
    if size is None:
        here = fileobj.tell()
        size = fileobj.seek(0, io.SEEK_END)
        fileobj.seek(here)
    return int(size)


def _sample_native_frame(fileobj, pixels: _PixelData, geometry: _Geometry, index: int, step: int):
    """Every `step`-th row and column of uncompressed frame `index`, read one row at
    a time: memory holds one row and the sample, never the frame."""
    import numpy as np

    unit = geometry.bits // 8
    kind = "i" if geometry.signed else "u"
    if geometry.bits == 64:
        kind = "f"  # Float Pixel Data is the only 64-bit kind
    dtype = np.dtype(f"{'<' if geometry.little_endian else '>'}{kind}{unit}")
    rows, columns, samples = geometry.rows, geometry.columns, geometry.samples
    frame_start = pixels.offset + index * geometry.frame_bytes
    planes = samples if geometry.planar and samples > 1 else 1
    per_row = columns * (1 if planes > 1 else samples) * unit
    picked = range(0, rows, step)
    out = np.empty((len(picked), -(-columns // step), samples), dtype=dtype.newbyteorder("="))
    for plane in range(planes):
        plane_start = frame_start + plane * rows * columns * unit
        for n, row in enumerate(picked):
            fileobj.seek(plane_start + row * per_row)
            data = fileobj.read(per_row)
            if len(data) != per_row:
                raise ValueError("pixel data cut off")
            line = np.frombuffer(data, dtype=dtype)
            if planes > 1:
                out[n, :, plane] = line[::step]
            else:
                out[n] = line.reshape(columns, samples)[::step]
    return out[..., 0] if samples == 1 else out


# --- ZIP ------------------------------------------------------------------------------------
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


def _check_zip(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
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
                    report = _verify(member, member_job)
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


# --- Studies --------------------------------------------------------------------------------
def summarise_study(reports: Iterable[FileReport]) -> dict:
    """One imaging study (or several, when a disc holds more) from DICOM reports: a
    folder's files, or a ZIP's members. Instances are grouped by StudyInstanceUID
    and series; each series names the middle instance (by InstanceNumber) as the
    source of its thumbnail: a storage key, or a ZIP entry's name."""
    studies: dict[str, dict] = {}
    skipped: list[str] = []
    seen_sops: set[str] = set()
    for report in reports:
        if report.kind == "skipped":
            skipped.append(report.name)
            continue
        info = report.dicom
        if report.kind != "dicom" or not info:
            continue
        if info["sop_uid"] in seen_sops:
            continue
        seen_sops.add(info["sop_uid"])
        study = studies.setdefault(
            info["study_uid"],
            {"study_uid": info["study_uid"], "date": "", "description": "", "series": {}},
        )
        study["date"] = study["date"] or info.get("study_date", "")
        study["description"] = study["description"] or info.get("study_description", "")
        series = study["series"].setdefault(
            info["series_uid"],
            {
                "series_uid": info["series_uid"],
                "modality": "",
                "body_part": "",
                "description": "",
                "number": None,
                "instances": [],
            },
        )
        for key, value in (
            ("modality", info.get("modality")),
            ("body_part", info.get("body_part")),
            ("description", info.get("series_description")),
            ("number", info.get("series_number")),
        ):
            if series[key] in ("", None) and value not in ("", None):
                series[key] = value
        series["instances"].append(
            (
                info.get("instance_number"),
                report.name,
                report.source or report.name,
                info.get("has_pixels", True),
            )
        )

    result_studies = []
    all_modalities: set[str] = set()
    series_count = instance_count = 0
    for study in sorted(studies.values(), key=lambda s: (s["date"] or "9999", s["study_uid"])):
        series_list = []
        for series in sorted(
            study["series"].values(),
            key=lambda s: (s["number"] is None, s["number"] or 0, s["series_uid"]),
        ):
            instances = sorted(series["instances"], key=lambda i: (i[0] is None, i[0] or 0, i[1]))
            drawable = [i for i in instances if i[3]]
            middle = drawable[len(drawable) // 2][2] if drawable else ""
            series_list.append(
                {
                    "series_uid": series["series_uid"],
                    "modality": series["modality"],
                    "body_part": series["body_part"],
                    "description": series["description"],
                    "number": series["number"],
                    "instances": len(instances),
                    "thumbnail_source": middle,
                }
            )
            series_count += 1
            instance_count += len(instances)
        modalities = sorted({s["modality"] for s in series_list if s["modality"]})
        all_modalities.update(modalities)
        result_studies.append(
            {
                "study_uid": study["study_uid"],
                "date": study["date"],
                "description": study["description"],
                "modalities": modalities,
                "series": series_list,
            }
        )
    return {
        "studies": result_studies,
        "series_count": series_count,
        "instance_count": instance_count,
        "modalities": sorted(all_modalities),
        "skipped": sorted(skipped),
    }


__all__ = [
    "CLAMD_STREAM_MAX",
    "REASONS",
    "ZIP_MAX_ENTRIES",
    "ZIP_MAX_RATIO",
    "ZIP_MAX_TOTAL_BYTES",
    "FileReport",
    "ScannerUnavailable",
    "clean_filename",
    "clean_path",
    "content_disposition",
    "dicom_thumbnail",
    "is_viewer_file",
    "summarise_study",
    "verify_file",
]
