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

The package, by concern: base (reasons, the report, a file's job), verify (the
streaming pass and the dispatch by kind), sniffing, viewers, pdf, images, dicom,
archives (ZIP) and studies. Callers import from here.
"""

# File names are the platform's (the report's PDF is downloaded with them too).
from secondop.filenames import clean_filename, clean_path, content_disposition

from .archives import (
    ZIP_MAX_DIRECTORY_BYTES,
    ZIP_MAX_ENTRIES,
    ZIP_MAX_NAME,
    ZIP_MAX_RATIO,
    ZIP_MAX_TOTAL_BYTES,
    ZIP_RATIO_MIN_BYTES,
)
from .base import (
    ACCEPTED,
    CHUNK,
    CLAMD_STREAM_MAX,
    HEAD_BYTES,
    REASONS,
    THUMBNAIL_MAX_HEIGHT,
    THUMBNAIL_WIDTH,
    FileReport,
    ScannerUnavailable,
)
from .dicom import (
    DICOM_BITS_ALLOCATED,
    DICOM_DECODE_MAX_BYTES,
    DICOM_DEFER_BYTES,
    DICOM_HEADER_MAX_BYTES,
    DICOM_MAX_FRAME_PIXELS,
    DICOM_MAX_FRAMES,
    DICOM_SAMPLE_SIDE,
    DICOMDIR_SOP_CLASS,
    dicom_thumbnail,
)
from .images import IMAGE_DECODE_MAX_BYTES, IMAGE_MAX_PIXELS
from .pdf import PDF_IN_MEMORY_MAX
from .studies import summarise_study
from .verify import verify_file
from .viewers import (
    VIEWER_EXTENSIONS,
    VIEWER_FOLDERS,
    VIEWER_NAMES,
    VIEWER_PREFIXES,
    is_viewer_file,
)

__all__ = [
    "ACCEPTED",
    "CHUNK",
    "CLAMD_STREAM_MAX",
    "DICOMDIR_SOP_CLASS",
    "DICOM_BITS_ALLOCATED",
    "DICOM_DECODE_MAX_BYTES",
    "DICOM_DEFER_BYTES",
    "DICOM_HEADER_MAX_BYTES",
    "DICOM_MAX_FRAMES",
    "DICOM_MAX_FRAME_PIXELS",
    "DICOM_SAMPLE_SIDE",
    "HEAD_BYTES",
    "IMAGE_DECODE_MAX_BYTES",
    "IMAGE_MAX_PIXELS",
    "PDF_IN_MEMORY_MAX",
    "REASONS",
    "THUMBNAIL_MAX_HEIGHT",
    "THUMBNAIL_WIDTH",
    "VIEWER_EXTENSIONS",
    "VIEWER_FOLDERS",
    "VIEWER_NAMES",
    "VIEWER_PREFIXES",
    "ZIP_MAX_DIRECTORY_BYTES",
    "ZIP_MAX_ENTRIES",
    "ZIP_MAX_NAME",
    "ZIP_MAX_RATIO",
    "ZIP_MAX_TOTAL_BYTES",
    "ZIP_RATIO_MIN_BYTES",
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
