"""PDFs: opened by PDFium, which finds damaged and password-protected ones, and
the first page drawn as the thumbnail."""

from __future__ import annotations

import io

from ..storage import StorageUnavailable
from .base import THUMBNAIL_MAX_HEIGHT, THUMBNAIL_WIDTH, _Job, _Pass, _Sniff
from .images import _png

# A PDF inside a ZIP is read into memory up to this size: a compressed ZIP entry can
# only seek backwards by decompressing again from its start.
PDF_IN_MEMORY_MAX = 32 * 1024**2


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
