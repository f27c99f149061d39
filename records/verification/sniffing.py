"""What a file really is: its true type from its first MiB (libmagic, plus our own
look at a DICOM's preamble), against the allow-list and what its name promises."""

from __future__ import annotations

import functools
import io
import re

from .base import _Job, _Pass, _Sniff
from .dicom import _dcmread_quietly

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
    ".xml": "ccda",
    ".json": "fhir",
    ".ndjson": "fhir",
}
# Health record files from a patient portal (records.verification.health): XML that
# may be a C-CDA, JSON that may be FHIR. What they really are is for the check to say.
_XML_MIMES = frozenset({"text/xml", "application/xml"})
_JSON_MIMES = frozenset({"application/json", "application/x-ndjson"})
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
    if mime in _XML_MIMES:
        return _Sniff(mime, "ccda")
    if mime == "text/html" and _extension_kind(name) == "ccda":
        # A C-CDA without its XML declaration looks like a web page to libmagic (it
        # has a <title>). The check reads it as XML and accepts only a C-CDA: a real
        # web page is refused there, and is never shown as one.
        return _Sniff("text/xml", "ccda")
    if mime in _JSON_MIMES:
        return _Sniff(mime, "fhir")
    if mime in _TEXT_MIMES:
        # libmagic calls XML without its declaration, and some JSON, plain text: the
        # name and the first character tell a portal's file from a note.
        claimed = _extension_kind(name)
        first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if claimed == "ccda" and first == b"<":
            return _Sniff(mime, "ccda")
        if claimed == "fhir" and first in (b"{", b"["):
            return _Sniff(mime, "fhir")
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


def _check_text(fileobj, job: _Job, sniff: _Sniff, found: _Pass) -> dict:
    # libmagic saw the first MiB; a NUL further on means it is not text after all.
    if found.has_nul:
        return {"reason": "mismatch" if _extension_kind(job.name) else "type_not_allowed"}
    return {}
