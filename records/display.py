"""How a record is described to people: its true type in words, and what its name
claims when that is something else ("named .pdf, but it is really a Windows
program"). Read-only helpers for the records pages and their JSON."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

_WINDOWS = (
    "application/x-dosexec",
    "application/vnd.microsoft.portable-executable",
    "application/x-msdownload",
    "application/x-ms-ne-executable",
    "application/x-msdos-program",
    "application/x-msi",
)
_PROGRAMS = (
    "application/x-executable",
    "application/x-pie-executable",
    "application/x-sharedlib",
    "application/x-elf",
    "application/x-mach-binary",
    "application/java-archive",
    "application/x-java-applet",
)
_SCRIPTS = (
    "text/x-shellscript",
    "application/x-sh",
    "text/x-python",
    "text/x-script.python",
    "application/javascript",
    "text/javascript",
    "text/x-msdos-batch",
    "application/x-bat",
    "text/x-perl",
    "text/x-php",
    "application/x-powershell",
)
_ARCHIVES = (
    "application/x-7z-compressed",
    "application/x-rar",
    "application/vnd.rar",
    "application/x-rar-compressed",
    "application/gzip",
    "application/x-gzip",
    "application/x-bzip2",
    "application/x-xz",
    "application/x-tar",
    "application/x-iso9660-image",
    "application/vnd.ms-cab-compressed",
)
_ZIP = ("application/zip", "application/x-zip-compressed")
_HEIC = ("image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence")
_WORD = (
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
_EXCEL = (
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

TYPE_WORDS = {
    "application/pdf": _lazy("a PDF document"),
    "image/jpeg": _lazy("a JPEG photo"),
    "image/png": _lazy("a PNG picture"),
    "image/tiff": _lazy("a TIFF picture"),
    "image/gif": _lazy("a GIF picture"),
    "image/svg+xml": _lazy("an SVG drawing (which can hold a program)"),
    "application/dicom": _lazy("a medical scan image"),
    "text/plain": _lazy("a plain text file"),
    "text/csv": _lazy("a plain text file"),
    "text/html": _lazy("a web page"),
    "application/xhtml+xml": _lazy("a web page"),
    "application/x-empty": _lazy("an empty file"),
    "application/xml": _lazy("an XML file"),
    "text/xml": _lazy("an XML file"),
    "application/json": _lazy("a JSON data file"),
    "application/x-ndjson": _lazy("a JSON data file"),
    "application/fhir+json": _lazy("a health record file (FHIR)"),
    "application/fhir+ndjson": _lazy("a health record file (FHIR)"),
    "application/octet-stream": _lazy("a file of a kind we could not tell"),
    **dict.fromkeys(_WINDOWS, _lazy("a Windows program")),
    **dict.fromkeys(_PROGRAMS, _lazy("a program")),
    **dict.fromkeys(_SCRIPTS, _lazy("a script (a small program)")),
    **dict.fromkeys(_ZIP, _lazy("a ZIP archive")),
    **dict.fromkeys(_ARCHIVES, _lazy("a compressed archive")),
    **dict.fromkeys(_HEIC, _lazy("an HEIC photo")),
    **dict.fromkeys(_WORD, _lazy("a Word document")),
    **dict.fromkeys(_EXCEL, _lazy("an Excel spreadsheet")),
}

# What a name's extension promises: the true types that keep that promise.
EXTENSION_TYPES = {
    ".pdf": ("application/pdf",),
    ".jpg": ("image/jpeg",),
    ".jpeg": ("image/jpeg",),
    ".jpe": ("image/jpeg",),
    ".jfif": ("image/jpeg",),
    ".png": ("image/png",),
    ".tif": ("image/tiff",),
    ".tiff": ("image/tiff",),
    ".heic": _HEIC,
    ".heif": _HEIC,
    ".dcm": ("application/dicom",),
    ".dicom": ("application/dicom",),
    ".dic": ("application/dicom",),
    ".zip": _ZIP,
    ".txt": ("text/plain", "text/csv"),
    ".text": ("text/plain", "text/csv"),
    ".csv": ("text/plain", "text/csv"),
    ".xml": ("application/xml", "text/xml"),
    ".json": ("application/fhir+json", "application/fhir+ndjson", "application/json"),
    ".ndjson": ("application/fhir+ndjson", "application/x-ndjson"),
    ".gif": ("image/gif",),
    ".doc": _WORD,
    ".docx": _WORD,
    ".xls": _EXCEL,
    ".xlsx": _EXCEL,
    ".htm": ("text/html", "application/xhtml+xml"),
    ".html": ("text/html", "application/xhtml+xml"),
    ".exe": _WINDOWS,
    ".msi": _WINDOWS,
    ".dll": _WINDOWS,
}


# A portal's health record file, by its summary's format: what the records list and the
# record's page call it.
HEALTH_FORMATS = {
    "ccda": _lazy("Health record summary (C-CDA)"),
    "fhir": _lazy("Health record summary (FHIR)"),
}


def health_label(record) -> str:
    """ "Health record summary (C-CDA)" for a record read at verification, else ""."""
    file_format = (record.health or {}).get("format", "") if record.health else ""
    return str(HEALTH_FORMATS.get(file_format, ""))


def type_in_words(mime: str) -> str:
    """ "a PDF document", "a Windows program": what a file really is, for anyone."""
    mime = (mime or "").split(";")[0].strip().lower()
    if not mime:
        return ""
    words = TYPE_WORDS.get(mime)
    if words is None:
        words = _lazy("a picture") if mime.startswith("image/") else _lazy("another kind of file")
    return str(words)


def extension_of(name: str) -> str:
    base = (name or "").rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def name_and_type(name: str, mime: str) -> str:
    """When a file's visible extension promises something it is not, both in words:
    "Named “.pdf”, but it is really a Windows program." Otherwise empty."""
    extension = extension_of(name)
    kept = EXTENSION_TYPES.get(extension)
    true = (mime or "").split(";")[0].strip().lower()
    if not kept or not true or true in kept:
        return ""
    return _("Named “%(extension)s”, but it is really %(kind)s.") % {
        "extension": extension,
        "kind": type_in_words(true),
    }
