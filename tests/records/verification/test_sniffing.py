"""records.verification.sniffing: what a file really is, whatever it is called."""

import io

import pytest

from records import verification
from records.verification import sniffing
from tests.records import samples
from tests.records.verification.helpers import assert_rejected, verify


def test_it_goes_by_what_a_file_is_not_what_it_is_called(local_storage):
    report = verify(local_storage, samples.image("PNG"), "photo.jpg")
    assert report.ok and report.mime == "image/png"


def test_it_accepts_plain_text(local_storage):
    report = verify(local_storage, samples.text(), "notes.txt")
    assert report.ok and (report.kind, report.mime) == ("text", "text/plain")


def test_it_accepts_dicom_without_a_preamble_from_old_discs(local_storage):
    import pydicom
    from pydicom.dataset import FileMetaDataset

    ds = pydicom.dcmread(io.BytesIO(samples.mr()))
    ds.preamble, ds.file_meta = None, FileMetaDataset()
    out = io.BytesIO()
    pydicom.dcmwrite(out, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    raw = out.getvalue()
    assert raw[128:132] != b"DICM"
    report = verify(local_storage, raw, "IM000001")
    assert report.ok and report.kind == "dicom" and report.dicom["modality"] == "MR"


@pytest.mark.parametrize(
    "data", [samples.executable(), samples.html_named_pdf()], ids=["executable", "html"]
)
def test_it_refuses_a_pdf_that_is_really_a_program_or_a_web_page(local_storage, data):
    report = verify(local_storage, data, "lab results.pdf")
    message = assert_rejected(report, "mismatch")
    assert report.mime in {
        "text/html",
        "application/x-dosexec",
        "application/vnd.microsoft.portable-executable",
    }
    assert "program" in message


def test_it_refuses_kinds_not_on_the_list(local_storage):
    message = assert_rejected(
        verify(local_storage, samples.executable(), "setup.exe"), "type_not_allowed"
    )
    assert "PDF" in message and "ZIP" in message


def test_it_refuses_text_that_turns_binary_past_what_was_sniffed(local_storage):
    data = b"plain words\n" * 100_000 + b"\0\1\2binary"
    assert len(data) > verification.HEAD_BYTES
    assert_rejected(verify(local_storage, data, "notes.txt"), "mismatch")


def test_it_refuses_heic_while_pillow_cannot_read_it(local_storage, monkeypatch):
    # Whatever this machine's Pillow can do: the refusal is what a Pillow without a
    # HEIC plugin leads to.
    monkeypatch.setattr(sniffing, "_pillow_reads_heic", lambda: False)
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64
    message = assert_rejected(verify(local_storage, heic, "IMG_0001.HEIC"), "heic_unreadable")
    assert "JPEG" in message


@pytest.mark.parametrize(
    "data",
    [samples.dicom_exe_preamble(), samples.dicom_html_preamble()],
    ids=["exe-preamble", "html-preamble"],
)
def test_it_refuses_a_dicom_that_is_also_a_program_or_a_web_page(local_storage, data):
    assert data[128:132] == b"DICM"
    message = assert_rejected(verify(local_storage, data, "IM0001.dcm"), "dicom_unsafe")
    assert "safety" in message


def test_a_tiff_preamble_is_a_dicom_like_any_other(local_storage):
    # pydicom's CT_small.dcm carries a TIFF header in its preamble (dual-format files).
    assert samples.ct()[:4] == b"II*\0"
    assert verify(local_storage, samples.ct(), "ct.dcm").ok
