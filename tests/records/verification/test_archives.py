"""records.verification.archives: ZIPs inspected in place, each entry checked and
scanned on its own."""

import hashlib
import time

import pytest

from records import verification
from records.verification import ScannerUnavailable, archives, verify_file
from tests.records import samples
from tests.records.verification.helpers import MAX, assert_rejected, closed_port, run_capped, verify


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


def test_a_damaged_zip_entry_is_cannot_open(local_storage):
    data = bytearray(samples.zip_of({"notes.txt": samples.text() * 200}))
    start = data.find(b"notes.txt") + len(b"notes.txt")
    data[start + 10 : start + 30] = bytes(20)  # inside the deflated data
    assert_rejected(verify(local_storage, bytes(data), "records.zip"), "cannot_open")


def test_it_scans_each_entry_of_a_zip(any_storage, clamd):
    data = samples.zip_of({"report.pdf": samples.pdf(), "docs/readme-first.txt": samples.EICAR})
    report = verify(any_storage, data, "records.zip", clamd_address=clamd["tcp"])
    assert_rejected(report, "malware")
    assert report.members[-1].name == "docs/readme-first.txt"


def test_a_scanner_down_inside_a_zip_is_try_again_later(local_storage):
    closed = f"tcp://127.0.0.1:{closed_port()}"
    data = samples.zip_of({"a.pdf": samples.pdf()})
    with pytest.raises(ScannerUnavailable):
        verify(local_storage, data, "records.zip", clamd_address=closed)


def test_a_zip_listing_a_million_entries_is_refused_before_its_directory_is_read(tmp_path):
    path = tmp_path / "disc.zip"
    samples.write_zip_listing(path, entries=1_000_000)
    result = run_capped(path)
    assert (result.get("ok"), result.get("reason")) == (False, "zip_too_many"), result
    assert result["growth_mb"] < 64, result


def test_a_zip_whose_end_record_understates_its_entries_is_still_counted(local_storage, tmp_path):
    path = tmp_path / "disc.zip"
    samples.write_zip_listing(path, entries=verification.ZIP_MAX_ENTRIES + 1, stated=10)
    assert_rejected(verify(local_storage, path.read_bytes(), "disc.zip"), "zip_too_many")


def test_a_zip_whose_directory_is_too_big_is_refused(local_storage, monkeypatch):
    monkeypatch.setattr(archives, "ZIP_MAX_DIRECTORY_BYTES", 100)
    data = samples.zip_of(samples.study_files(series=1, instances=3))
    assert_rejected(verify(local_storage, data, "disc.zip"), "zip_too_many")
