"""What every check shares: the reasons a patient reads, the report a check
returns, and one file's job and streaming pass as it goes through them."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .. import clamav
from ..storage import StorageUnavailable

# What clamd is sent at most in one INSTREAM; clamd's StreamMaxLength must be at least
# this. settings.CLAMD_STREAM_MAX_BYTES overrides it.
CLAMD_STREAM_MAX = 1000**3

HEAD_BYTES = 1024 * 1024  # what libmagic sees
CHUNK = 1024 * 1024
THUMBNAIL_WIDTH = 480
THUMBNAIL_MAX_HEIGHT = 1440


ACCEPTED = _(
    "Please upload a PDF, a photo (JPEG, PNG, TIFF or HEIC), a DICOM image, "
    "a plain text file, or a ZIP of these; or the health record file your patient "
    "portal gives you (C-CDA or FHIR)."
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
        "ZIP of these; or the health record file your patient portal gives you "
        "(C-CDA or FHIR)."
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
    "health_too_large": _(
        "This health record file is bigger than we can read (20 MB for C-CDA and "
        "FHIR files). Please download a shorter period from your patient portal, "
        "or send the records as PDFs."
    ),
    "health_too_complex": _(
        "This health record file is nested too deeply or holds too many entries "
        "to read safely. Please download a shorter period from your patient "
        "portal, or send the records as PDFs."
    ),
    "health_unsafe": _(
        "This XML file contains instructions to fetch or expand other content "
        "(a DOCTYPE or entities), which a health record file never needs, so it "
        "can't be accepted for safety reasons. Please download the file from "
        "your patient portal again."
    ),
    "ccda_invalid": _(
        "This XML file is damaged or incomplete, so it can't be read. Please "
        "download it from your patient portal again."
    ),
    "not_ccda": _(
        "This XML file is not a health record summary (C-CDA), so it can't be "
        "accepted. Please upload the C-CDA file your patient portal gives you, "
        "or send the records as PDFs."
    ),
    "not_fhir": _(
        "This file is not a FHIR health record, so it can't be accepted. Please "
        "upload the FHIR file your patient portal gives you, or send the "
        "records as PDFs."
    ),
    "fhir_invalid": _(
        "This FHIR file does not follow the FHIR R4 standard (something in it is "
        "incomplete or malformed), so it can't be read. Please download it from "
        "your patient portal again."
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
    # "pdf" | "image" | "dicom" | "zip" | "text" | "ccda" | "fhir" | "skipped" ("" when
    # unknown)
    kind: str
    dicom: dict | None = None  # see _dicom_fields
    health: dict | None = None  # a C-CDA's or FHIR file's summary (verification.health)
    thumbnail: bytes | None = None  # PNG, at most THUMBNAIL_WIDTH wide
    members: list[FileReport] | None = None  # a ZIP's entries, in order, up to the first bad one
    name: str = ""  # the cleaned relative path (a ZIP entry's, or the uploaded name)
    # Where the bytes are: the storage key of an uploaded file, or a ZIP entry's name
    # exactly as written in the archive (for ZipFile.open).
    source: str = ""


@dataclass(frozen=True)
class _Sniff:
    mime: str
    kind: str  # "" when the type is not allowed
    reason: str | None = None
    raw_dicom: bool = False  # DICOM without the DICM marker (old discs)


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


def _zlib_error() -> tuple[type[Exception], ...]:
    import zlib

    return (zlib.error,)
