"""records.verification: what an uploaded file really is, and the reason a patient
reads when it can't be accepted."""

import hashlib
import io
import socket
import threading
import time
import zipfile

import pytest
from PIL import Image

from records import verification
from records.storage import StorageUnavailable
from records.storage_io import S3ObjectReader
from records.verification import (
    REASONS,
    FileReport,
    ScannerUnavailable,
    clean_filename,
    content_disposition,
    dicom_thumbnail,
    is_viewer_file,
    summarise_study,
    verify_file,
)
from tests.records import samples
from tests.records.conftest import put

MAX = 50 * 1024 * 1024


def verify(storage, data: bytes, name: str, **options) -> FileReport:
    key = put(storage, data, name.rsplit("/", 1)[-1])
    options.setdefault("max_size", MAX)
    options.setdefault("clamd_address", None)
    return verify_file(storage=storage, key=key, name=name, **options)


def assert_rejected(report: FileReport, reason: str) -> str:
    assert not report.ok, report
    assert report.reason == reason, report.reason
    message = str(REASONS[reason])
    # A sentence for a person: no codes, no jargon a patient would not know.
    assert message[0].isupper() and message.endswith("."), message
    assert "_" not in message
    assert not any(word in message.lower() for word in ("mime", "exception", "errno", "null"))
    assert report.thumbnail is None
    return message


def png_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "PNG"
        return picture.size


# --- Accepted ---------------------------------------------------------------------------
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
    ("format", "mime", "name"),
    [
        ("PNG", "image/png", "scan.png"),
        ("JPEG", "image/jpeg", "photo.jpg"),
        ("TIFF", "image/tiff", "fax.tiff"),
    ],
)
def test_it_accepts_photos_with_a_thumbnail(local_storage, format, mime, name):
    report = verify(local_storage, samples.image(format, (1200, 800)), name)
    assert report.ok
    assert (report.kind, report.mime) == ("image", mime)
    assert png_size(report.thumbnail) == (480, 320)


def test_it_goes_by_what_a_file_is_not_what_it_is_called(local_storage):
    report = verify(local_storage, samples.image("PNG"), "photo.jpg")
    assert report.ok and report.mime == "image/png"


def test_it_accepts_plain_text(local_storage):
    report = verify(local_storage, samples.text(), "notes.txt")
    assert report.ok and (report.kind, report.mime) == ("text", "text/plain")


def test_it_reads_a_dicom_header_and_not_its_pixels(local_storage):
    report = verify(local_storage, samples.ct(), "CT_small.dcm")
    assert report.ok
    assert (report.kind, report.mime) == ("dicom", "application/dicom")
    assert report.dicom["modality"] == "CT"
    assert report.dicom["study_date"] == "2004-01-19"
    assert report.dicom["study_uid"].startswith("1.3.6.1.4.1.5962")
    assert report.dicom["series_number"] == 1 and report.dicom["has_pixels"]
    assert set(report.dicom) >= {
        "study_uid",
        "series_uid",
        "sop_uid",
        "modality",
        "study_date",
        "body_part",
        "study_description",
        "series_description",
        "series_number",
        "instance_number",
    }


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


def test_it_accepts_a_zip_of_documents_and_reports_each_entry(any_storage):
    data = samples.zip_of(
        {
            "letters/referral.pdf": samples.pdf(),
            "photo.jpg": samples.image("JPEG"),
            "notes.txt": samples.text(),
            "CT_small.dcm": samples.ct(),
        }
    )
    report = verify(any_storage, data, "records.zip")
    assert report.ok, report.reason
    assert (report.kind, report.mime) == ("zip", "application/zip")
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert [(m.name, m.kind) for m in report.members] == [
        ("letters/referral.pdf", "pdf"),
        ("photo.jpg", "image"),
        ("notes.txt", "text"),
        ("CT_small.dcm", "dicom"),
    ]
    assert all(m.ok and m.sha256 for m in report.members)


# --- Refused: each with a reason a patient understands ------------------------------------
def test_it_refuses_an_empty_file(local_storage):
    message = assert_rejected(verify(local_storage, b"", "scan.pdf"), "empty")
    assert "empty" in message


def test_it_refuses_a_file_over_the_limit_without_reading_it(local_storage):
    report = verify(local_storage, samples.pdf(), "big.pdf", max_size=100)
    assert_rejected(report, "too_large")
    assert report.sha256 == ""


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


def test_it_refuses_a_damaged_photo(local_storage):
    assert_rejected(verify(local_storage, samples.truncated_jpeg(), "photo.jpg"), "cannot_open")


def test_it_refuses_a_damaged_photo_even_when_pillow_is_told_to_tolerate_them(
    local_storage, monkeypatch
):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # as WeasyPrint sets it
    assert_rejected(verify(local_storage, samples.truncated_jpeg(), "photo.jpg"), "cannot_open")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_it_refuses_heic_while_pillow_cannot_read_it(local_storage, monkeypatch):
    # Whatever this machine's Pillow can do: the refusal is what a Pillow without a
    # HEIC plugin leads to.
    monkeypatch.setattr(verification, "_pillow_reads_heic", lambda: False)
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


@pytest.mark.parametrize(
    "data", [samples.dicom_cut_off(), samples.dicom_garbage()], ids=["cut-off", "garbage"]
)
def test_it_refuses_a_corrupt_dicom(local_storage, data):
    message = assert_rejected(verify(local_storage, data, "IM0001.dcm"), "dicom_invalid")
    assert "damaged" in message


def test_it_refuses_a_zip_bomb_from_its_directory_alone(local_storage, tmp_path):
    bomb = tmp_path / "media" / "bomb.zip"
    bomb.parent.mkdir(parents=True, exist_ok=True)
    size = samples.write_zip_bomb(bomb)
    assert size < 1.1 * 1024**2
    started = time.monotonic()
    report = verify_file(
        storage=local_storage, key="bomb.zip", name="scans.zip", max_size=MAX, clamd_address=None
    )
    assert time.monotonic() - started < 5  # 1 GiB was never unpacked
    assert_rejected(report, "zip_too_big")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (samples.zip_traversal(), "zip_unsafe"),
        (samples.zip_absolute(), "zip_unsafe"),
        (samples.zip_symlink(), "zip_unsafe"),
        (samples.zip_nested(), "zip_nested"),
        (samples.zip_encrypted_flag(), "cannot_open"),
    ],
    ids=["traversal", "absolute", "symlink", "nested", "password"],
)
def test_it_refuses_unsafe_zips(any_storage, data, reason):
    assert_rejected(verify(any_storage, data, "records.zip"), reason)


def test_it_refuses_a_zip_with_too_many_entries(local_storage):
    data = samples.zip_many(verification.ZIP_MAX_ENTRIES + 1)
    message = assert_rejected(verify(local_storage, data, "records.zip"), "zip_too_many")
    assert "5,000" in message
    assert verify(local_storage, samples.zip_many(10), "ten.zip").ok


def test_a_bad_entry_rejects_its_zip_and_names_itself(local_storage):
    data = samples.zip_of(
        {"a.pdf": samples.pdf(), "b.pdf": samples.encrypted_pdf(), "c.pdf": samples.pdf()}
    )
    report = verify(local_storage, data, "records.zip")
    assert_rejected(report, "cannot_open")
    assert [(m.name, m.ok) for m in report.members] == [("a.pdf", True), ("b.pdf", False)]


def test_a_zip_of_only_viewer_software_has_nothing_to_keep(local_storage):
    report = verify(local_storage, samples.zip_of(samples.cd_extras()), "disc.zip")
    assert_rejected(report, "zip_nothing")


# --- Malware: a real clamd ----------------------------------------------------------------
@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_it_refuses_the_eicar_test_file(local_storage, clamd, transport):
    report = verify(local_storage, samples.EICAR, "notes.txt", clamd_address=clamd[transport])
    message = assert_rejected(report, "malware")
    assert "virus" in message
    assert report.sha256 == hashlib.sha256(samples.EICAR).hexdigest()


def test_without_a_scanner_the_eicar_file_is_just_text(local_storage):
    # The reason the scanner exists: nothing else would notice.
    assert verify(local_storage, samples.EICAR, "notes.txt").ok


def test_it_scans_each_entry_of_a_zip(any_storage, clamd):
    data = samples.zip_of({"report.pdf": samples.pdf(), "docs/readme-first.txt": samples.EICAR})
    report = verify(any_storage, data, "records.zip", clamd_address=clamd["tcp"])
    assert_rejected(report, "malware")
    assert report.members[-1].name == "docs/readme-first.txt"


def test_it_scans_viewer_files_it_skips(local_storage, clamd):
    data = samples.zip_of(
        {**samples.study_files(series=1, instances=1), "VIEWER/viewer.exe": samples.EICAR}
    )
    assert_rejected(verify(local_storage, data, "disc.zip", clamd_address=clamd["unix"]), "malware")


def test_it_scans_archives_inside_viewer_folders_whole(local_storage, clamd):
    data = samples.zip_of(
        {
            **samples.study_files(series=1, instances=1),
            "VIEWER/plugins.zip": samples.zip_of({"x.com": samples.EICAR}),
        }
    )
    assert_rejected(verify(local_storage, data, "disc.zip", clamd_address=clamd["unix"]), "malware")


def test_a_damaged_zip_entry_is_cannot_open(local_storage):
    data = bytearray(samples.zip_of({"notes.txt": samples.text() * 200}))
    start = data.find(b"notes.txt") + len(b"notes.txt")
    data[start + 10 : start + 30] = bytes(20)  # inside the deflated data
    assert_rejected(verify(local_storage, bytes(data), "records.zip"), "cannot_open")


def test_a_clean_file_passes_the_scanner(any_storage, clamd):
    report = verify(any_storage, samples.pdf(), "report.pdf", clamd_address=clamd["tcp"])
    assert report.ok and report.thumbnail


def test_a_file_past_our_scan_limit_is_not_sent(local_storage, clamd):
    report = verify(
        local_storage,
        samples.text() * 1000,
        "notes.txt",
        clamd_address=clamd["tcp"],
        clamd_max_stream=1024,
    )
    assert_rejected(report, "scan_too_large")


def test_a_file_past_clamds_own_limit_is_never_clean(local_storage, clamd):
    data = b"a line of notes\n" * (clamd["stream_max"] // 16 + 4096)
    report = verify(
        local_storage,
        data,
        "notes.txt",
        clamd_address=clamd["unix"],
        clamd_max_stream=len(data) * 2,
    )
    assert_rejected(report, "scan_too_large")


def test_clamd_down_is_try_again_later_never_clean(local_storage):
    closed = f"tcp://127.0.0.1:{_closed_port()}"
    with pytest.raises(ScannerUnavailable):
        verify(local_storage, samples.pdf(), "report.pdf", clamd_address=closed)


def test_clamd_hanging_up_mid_scan_is_try_again_later(local_storage):
    with (
        _server(lambda conn: (conn.recv(100), conn.close())) as address,
        pytest.raises(ScannerUnavailable),
    ):
        verify(local_storage, samples.pdf(), "report.pdf", clamd_address=address)


def test_a_scanner_down_inside_a_zip_is_try_again_later(local_storage):
    closed = f"tcp://127.0.0.1:{_closed_port()}"
    data = samples.zip_of({"a.pdf": samples.pdf()})
    with pytest.raises(ScannerUnavailable):
        verify(local_storage, data, "records.zip", clamd_address=closed)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _server:
    """A one-connection TCP server that does `handle(conn)`: a clamd that misbehaves."""

    def __init__(self, handle):
        self.handle = handle
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)

    def __enter__(self):
        def run():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.handle(conn)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        return f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc):
        self.sock.close()
        self.thread.join(timeout=5)


# --- Storage failing is not the file's fault -------------------------------------------------
def test_storage_failing_mid_check_is_try_again_later_not_a_rejection(s3_storage, monkeypatch):
    from records import storage_io

    key = put(s3_storage, samples.pdf(), "report.pdf")
    monkeypatch.setattr(storage_io, "MIN_READAHEAD", 64)  # every read after the first: a GET
    monkeypatch.setattr(storage_io, "MAX_READAHEAD", 64)
    real_get = S3ObjectReader._get
    calls = {"n": 0}

    def flaky_get(self, start, end):
        calls["n"] += 1
        if calls["n"] > 1:  # the hashing pass works; PDFium's reads then fail
            self.error = StorageUnavailable("down")
            raise self.error
        return real_get(self, start, end)

    monkeypatch.setattr(S3ObjectReader, "_get", flaky_get)
    with pytest.raises(StorageUnavailable):
        verify_file(
            storage=s3_storage, key=key, name="report.pdf", max_size=MAX, clamd_address=None
        )


# --- Imaging studies ------------------------------------------------------------------------
def test_a_cd_zip_becomes_one_study_with_its_viewer_skipped(any_storage):
    data = samples.zip_of(
        {
            **samples.study_files(series=2, instances=3),
            **samples.cd_extras(),
            "DICOMDIR": _dicomdir(),
        }
    )
    report = verify(any_storage, data, "CD.zip")
    assert report.ok, report.reason
    skipped = sorted(m.name for m in report.members if m.kind == "skipped")
    assert skipped == [
        "AUTORUN.INF",
        "README.TXT",
        "VIEWER/lib/dicom.dll",
        "VIEWER/viewer.exe",
        "index.html",
    ]
    # The disc's index is kept with the images (records.checking drops the skipped).
    assert [m.name for m in report.members if m.kind == "dicomdir"] == ["DICOMDIR"]

    summary = summarise_study(report.members)
    assert summary["series_count"] == 2 and summary["instance_count"] == 6
    assert summary["modalities"] == ["CT", "MR"]
    assert summary["skipped"] == skipped
    (study,) = summary["studies"]
    assert (study["date"], study["description"]) == ("2024-01-31", "CT CHEST WITH CONTRAST")
    assert [
        (s["number"], s["modality"], s["instances"], s["body_part"]) for s in study["series"]
    ] == [(1, "CT", 3, "CHEST"), (2, "MR", 3, "CHEST")]
    # The middle instance by number, named as the ZIP names it, so it can be drawn.
    assert study["series"][0]["thumbnail_source"] == "DICOM/S0001/I0002"
    from records.storage_io import open_object

    with (
        open_object(any_storage, report.source) as handle,
        zipfile.ZipFile(handle) as archive,
        archive.open(study["series"][1]["thumbnail_source"]) as member,
    ):
        assert png_size(dicom_thumbnail(member))[0] > 0


def _dicomdir() -> bytes:
    import pydicom
    from pydicom.dataset import FileMetaDataset

    ds = pydicom.Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = verification.DICOMDIR_SOP_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.FileSetID = "DISC"
    ds.DirectoryRecordSequence = []
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def test_a_folders_files_become_one_study(local_storage):
    files = {
        **samples.study_files(series=1, instances=4),
        "AUTORUN.INF": b"[autorun]\r\n",
        "VIEWER/viewer.exe": samples.executable(),
    }
    reports = [
        verify(local_storage, data, f"MY CD/{name}", skip_viewer_files=True)
        for name, data in files.items()
    ]
    assert all(r.ok for r in reports)
    assert [r.kind for r in reports[-2:]] == ["skipped", "skipped"]
    summary = summarise_study(reports)
    (series,) = summary["studies"][0]["series"]
    assert series["instances"] == 4
    middle = next(r for r in reports if r.dicom and r.dicom["instance_number"] == 3)
    assert series["thumbnail_source"] == middle.source  # the storage key
    assert summary["skipped"] == ["MY CD/AUTORUN.INF", "MY CD/VIEWER/viewer.exe"]


def test_without_the_study_flag_a_program_is_refused(local_storage):
    assert_rejected(verify(local_storage, samples.executable(), "viewer.exe"), "type_not_allowed")


def test_a_study_counts_an_instance_sent_twice_once(local_storage):
    files = samples.study_files(series=1, instances=2)
    reports = [verify(local_storage, data, name) for name, data in [*files.items(), *files.items()]]
    summary = summarise_study(reports)
    assert (summary["series_count"], summary["instance_count"]) == (1, 2)


def test_dicom_thumbnails_window_and_invert_monochrome1():
    import numpy as np

    common = {
        "study": "1.2.3",
        "series": "1.2.3.1",
        "sop": "1.2.3.1.1",
        "instance": 1,
        "series_number": 1,
    }
    plain = dicom_thumbnail(io.BytesIO(samples.dicom_instance(**common)))
    inverted = dicom_thumbnail(
        io.BytesIO(samples.dicom_instance(**common, photometric="MONOCHROME1"))
    )
    a = np.asarray(Image.open(io.BytesIO(plain)), dtype=np.int16)
    b = np.asarray(Image.open(io.BytesIO(inverted)), dtype=np.int16)
    assert a.shape == b.shape == (128, 128)
    assert np.abs((255 - a) - b).max() <= 1
    assert a.std() > 10  # not a flat grey square


def test_dicom_thumbnails_apply_the_window():
    import numpy as np
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    ds.WindowCenter, ds.WindowWidth = 40, 80  # soft tissue: bone and air saturate
    out = io.BytesIO()
    ds.save_as(out)
    pixels = np.asarray(Image.open(io.BytesIO(dicom_thumbnail(io.BytesIO(out.getvalue())))))
    saturated = np.mean((pixels == 0) | (pixels == 255))
    assert saturated > 0.3


# --- Names ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("C:\\Users\\pat\\scan.pdf", "scan.pdf"),
        ("../../etc/passwd", "passwd"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("a\u2066b\u2069c\u200f.pdf", "abc.pdf"),
        ("tab\there\x00\x1b.pdf", "tabhere.pdf"),
        ('what"is<this>?.pdf', "what_is_this__.pdf"),
        ("  ..hidden.pdf. ", "hidden.pdf"),
        ("", "file"),
        ("\u202e", "file"),
        ("CON.txt", "_CON.txt"),
        ("Résumé médical.pdf", "Résumé médical.pdf"),
    ],
)
def test_it_cleans_file_names(given, expected):
    assert clean_filename(given) == expected


def test_it_trims_long_names_keeping_the_extension():
    name = clean_filename("x" * 400 + ".pdf")
    assert len(name) == 255 and name.endswith("x.pdf")


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    header = content_disposition('Résumé "final"\u202e.pdf', inline=False)
    assert header == (
        'attachment; filename="Resume _final_.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20_final_.pdf"
    )
    assert content_disposition("scan.png", inline=True) == (
        "inline; filename=\"scan.png\"; filename*=UTF-8''scan.png"
    )
    assert content_disposition("检查报告.pdf", inline=False).startswith(
        "attachment; filename=\"file.pdf\"; filename*=UTF-8''%E6%A3%80"
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("AUTORUN.INF", True),
        ("disc/Autorun.inf", True),
        ("VIEWER/viewer.exe", True),
        ("Viewer/lib/qt.dll", True),
        ("DICOMDIR", False),
        ("README.TXT", True),
        ("index.html", True),
        ("__MACOSX/._IM0001", True),
        ("jre/bin/java", True),
        ("DICOM/S0001/I0001", False),
        ("IM000001.dcm", False),
        ("report.pdf", False),
        ("notes.txt", False),
        ("photos/scan.jpg", False),
    ],
)
def test_it_knows_cd_viewer_files(path, expected):
    assert is_viewer_file(path) is expected


def test_every_reason_reads_as_a_sentence():
    for code, message in REASONS.items():
        text = str(message)
        assert text[0].isupper() and text.endswith("."), code
        assert "_" not in text and len(text) < 300, code


# --- Hostile files cannot exhaust the worker ----------------------------------------------
# Each runs in a fresh process with its address space capped (RLIMIT_AS) a little above
# what the libraries take, as the records worker's memory guard does; it reports the
# outcome and its peak resident memory. PEAK_MB is the target for a worker.
PEAK_MB = 300
_CHILD = r"""
import json, os, resource, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
os.environ["DJANGO_DEBUG"] = "true"
import django
django.setup()
import magic, numpy, pydicom.pixels, PIL.Image
from django.core.files.storage import FileSystemStorage
from records import verification
magic.from_buffer(b"%PDF-1.4", mime=True)

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

# The cap: what is mapped now, plus 400 MiB. Past it an allocation fails.
cap = status("VmSize") + 400 * 1024**2
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
open("/proc/self/clear_refs", "w").write("5")
baseline = status("VmRSS")
folder, name, what = sys.argv[1:4]
outcome = {}
try:
    if what == "verify":
        report = verification.verify_file(
            storage=FileSystemStorage(location=folder), key=name, name=name,
            max_size=5 * 1024**3, clamd_address=None)
        outcome = {"ok": report.ok, "reason": report.reason, "dicom": report.dicom}
    else:
        with open(os.path.join(folder, name), "rb") as handle:
            outcome = {"png": len(verification.dicom_thumbnail(handle))}
except Exception as error:
    outcome = {"error": type(error).__name__, "message": str(error)[:200]}
print(json.dumps({**outcome, "peak_mb": status("VmHWM") / 1024**2,
                  "growth_mb": (status("VmHWM") - baseline) / 1024**2}))
"""


def run_capped(path, what: str = "verify") -> dict:
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path.parent), path.name, what],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["peak_mb"] < PEAK_MB, result
    return result


def test_a_dicom_declaring_65535_squared_is_refused_before_anything_decodes(tmp_path):
    path = tmp_path / "IM0001.dcm"
    path.write_bytes(samples.dicom_declaring(65535, 65535))
    result = run_capped(path)
    assert (result.get("ok"), result.get("reason")) == (False, "dicom_too_large"), result
    assert "can't be opened safely" in str(REASONS["dicom_too_large"])
    drawn = run_capped(path, "thumbnail")
    assert drawn.get("error") == "ValueError" and "dicom_too_large" in drawn["message"]


def test_a_dicom_whose_rle_frame_decodes_to_gigabytes_is_never_decoded(tmp_path):
    path = tmp_path / "IM0002.dcm"
    samples.write_dicom_rle_declaring(path, rows=65535, columns=16384)  # 1 GiB decoded
    assert path.stat().st_size < 20 * 1024**2
    result = run_capped(path, "thumbnail")
    assert result.get("error") == "ValueError" and result["growth_mb"] < 50, result


def test_a_huge_private_element_is_skipped_not_read(tmp_path):
    path = tmp_path / "IM0003.dcm"
    samples.write_dicom_private_blob(path, blob=200 * 1024**2)
    result = run_capped(path)
    assert result.get("ok") is True, result
    assert result["dicom"]["modality"] == "CT" and result["dicom"]["has_pixels"] is True
    assert result["growth_mb"] < 64, result


def test_a_zip_listing_a_million_entries_is_refused_before_its_directory_is_read(tmp_path):
    path = tmp_path / "disc.zip"
    samples.write_zip_listing(path, entries=1_000_000)
    result = run_capped(path)
    assert (result.get("ok"), result.get("reason")) == (False, "zip_too_many"), result
    assert result["growth_mb"] < 64, result


def test_a_large_uncompressed_frame_is_drawn_from_a_sample_of_its_rows(tmp_path):
    path = tmp_path / "IM0004.dcm"
    samples.write_dicom_native(path, rows=8192, columns=8192)  # 128 MiB of pixels
    result = run_capped(path, "thumbnail")
    assert result.get("png"), result
    assert result["growth_mb"] < 100, result


def test_the_sampled_picture_is_the_picture(local_storage, tmp_path):
    """Sampling every n-th row and column draws what decoding the whole frame draws."""
    path = tmp_path / "IM0005.dcm"
    samples.write_dicom_native(path, rows=2048, columns=1536)
    with path.open("rb") as handle:
        sampled = Image.open(io.BytesIO(dicom_thumbnail(handle))).convert("L")
    assert sampled.size == (480, 640)
    # A gradient along the columns (mod 4096, offset by the row): left dark, right light.
    left, right = sampled.getpixel((10, 320)), sampled.getpixel((470, 320))
    assert right > left


def test_a_zip_whose_end_record_understates_its_entries_is_still_counted(local_storage, tmp_path):
    path = tmp_path / "disc.zip"
    samples.write_zip_listing(path, entries=verification.ZIP_MAX_ENTRIES + 1, stated=10)
    assert_rejected(verify(local_storage, path.read_bytes(), "disc.zip"), "zip_too_many")


def test_a_zip_whose_directory_is_too_big_is_refused(local_storage, monkeypatch):
    monkeypatch.setattr(verification, "ZIP_MAX_DIRECTORY_BYTES", 100)
    data = samples.zip_of(samples.study_files(series=1, instances=3))
    assert_rejected(verify(local_storage, data, "disc.zip"), "zip_too_many")


def test_a_compressed_frame_too_large_to_decode_is_kept_without_a_picture(local_storage):
    data = samples.dicom_declaring(9000, 9000)  # 81 megapixels, over the decode limit
    report = verify(local_storage, data, "IM0006.dcm")
    assert report.ok and report.dicom["has_pixels"]
    with pytest.raises(ValueError, match="too large to decode"):
        dicom_thumbnail(io.BytesIO(data))


def test_a_deflated_dicom_is_refused_unread(local_storage):
    import pydicom
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    assert_rejected(verify(local_storage, out.getvalue(), "IM0007.dcm"), "dicom_unsupported")


def test_a_header_of_many_large_elements_stops_being_read(local_storage):
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    ds.add_new(0x00090010, "LO", "ACME 1.0")
    for n in range(20):  # each under the defer size, 18 MiB together
        ds.add_new(0x00091000 + n, "OB", bytes(900 * 1024))
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    assert_rejected(verify(local_storage, out.getvalue(), "IM0008.dcm"), "dicom_invalid")


def test_running_out_of_memory_refuses_the_file_and_the_worker_goes_on(local_storage, monkeypatch):
    def greedy(*args):
        raise MemoryError

    monkeypatch.setattr(verification, "_check_pdf", greedy)
    assert_rejected(verify(local_storage, samples.pdf(), "report.pdf"), "too_complex")
    assert verify(local_storage, samples.text(), "notes.txt").ok


@pytest.mark.parametrize("planar", [0, 1])
@pytest.mark.parametrize("bits", [8, 16])
def test_sampling_rows_reads_the_same_pixels_as_decoding_the_frame(planar, bits):
    import numpy as np
    import pydicom

    ds = pydicom.dcmread(io.BytesIO(samples.ct()))
    rows, columns = 300, 200
    rgb = (np.arange(rows * columns * 3) % (2**bits - 7)).astype(f"<u{bits // 8}")
    rgb = rgb.reshape(rows, columns, 3)
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, 3
    ds.PhotometricInterpretation, ds.PlanarConfiguration = "RGB", planar
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit, ds.PixelRepresentation = bits - 1, 0
    del ds.RescaleIntercept, ds.RescaleSlope
    ds.PixelData = (rgb.transpose(2, 0, 1) if planar else rgb).tobytes()
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    data = out.getvalue()
    handle = io.BytesIO(data)
    header = verification._read_header(handle, force=True)
    pixels = verification._pixel_data_at(handle, header, len(data))
    geometry = verification._dicom_geometry(header, pixels)
    sampled = verification._sample_native_frame(io.BytesIO(data), pixels, geometry, 0, 3)
    assert np.array_equal(sampled, pydicom.dcmread(io.BytesIO(data)).pixel_array[::3, ::3])
