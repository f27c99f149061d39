"""records.verification.pdf: PDFs opened by PDFium, and their first page drawn."""

import hashlib

import pytest

from records import verification
from tests.records import samples
from tests.records.verification.helpers import assert_rejected, png_size, verify


def test_it_accepts_a_pdf_with_its_hash_and_a_first_page_thumbnail(any_storage):
    data = samples.pdf(pages=3)
    report = verify(any_storage, data, "Biopsy report.pdf")
    assert report.ok and report.reason is None
    assert (report.kind, report.mime) == ("pdf", "application/pdf")
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.size == len(data)
    assert report.name == "Biopsy report.pdf"
    width, height = png_size(report.thumbnail)
    assert width <= verification.THUMBNAIL_WIDTH and height > width  # A4, portrait


@pytest.mark.parametrize(
    "data", [samples.encrypted_pdf(), samples.corrupt_pdf()], ids=["password", "corrupt"]
)
def test_it_refuses_a_pdf_that_cannot_be_opened(local_storage, data):
    message = assert_rejected(verify(local_storage, data, "report.pdf"), "cannot_open")
    assert "password" in message


def test_the_password_protected_sample_is_a_real_pdf():
    import pypdfium2 as pdfium

    with pytest.raises(pdfium.PdfiumError, match="password"):
        pdfium.PdfDocument(samples.encrypted_pdf())
    assert len(pdfium.PdfDocument(samples.encrypted_pdf(), password="secret")) == 1
