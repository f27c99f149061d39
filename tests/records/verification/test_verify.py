"""records.verification.verify: one pass over the stored object (hash, size limit,
virus scan), and what a failing scanner, storage or memory makes of a file."""

import hashlib

import pytest

from records.storage import StorageUnavailable
from records.storage_io import S3ObjectReader
from records.verification import ScannerUnavailable, verify_file
from tests.records import samples
from tests.records.conftest import put
from tests.records.verification.helpers import (
    MAX,
    assert_rejected,
    closed_port,
    one_connection_server,
    verify,
)


def test_it_refuses_an_empty_file(local_storage):
    message = assert_rejected(verify(local_storage, b"", "scan.pdf"), "empty")
    assert "empty" in message


def test_it_refuses_a_file_over_the_limit_without_reading_it(local_storage):
    report = verify(local_storage, samples.pdf(), "big.pdf", max_size=100)
    assert_rejected(report, "too_large")
    assert report.sha256 == ""


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_it_refuses_the_eicar_test_file(local_storage, clamd, transport):
    report = verify(local_storage, samples.EICAR, "notes.txt", clamd_address=clamd[transport])
    message = assert_rejected(report, "malware")
    assert "virus" in message
    assert report.sha256 == hashlib.sha256(samples.EICAR).hexdigest()


def test_without_a_scanner_the_eicar_file_is_just_text(local_storage):
    # The reason the scanner exists: nothing else would notice.
    assert verify(local_storage, samples.EICAR, "notes.txt").ok


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
    closed = f"tcp://127.0.0.1:{closed_port()}"
    with pytest.raises(ScannerUnavailable):
        verify(local_storage, samples.pdf(), "report.pdf", clamd_address=closed)


def test_clamd_hanging_up_mid_scan_is_try_again_later(local_storage):
    with (
        one_connection_server(lambda conn: (conn.recv(100), conn.close())) as address,
        pytest.raises(ScannerUnavailable),
    ):
        verify(local_storage, samples.pdf(), "report.pdf", clamd_address=address)


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


def test_running_out_of_memory_refuses_the_file_and_the_worker_goes_on(local_storage, monkeypatch):
    def greedy(*args):
        raise MemoryError

    # verify dispatches to the check of each kind by the name it imported.
    monkeypatch.setattr("records.verification.verify._check_pdf", greedy)
    assert_rejected(verify(local_storage, samples.pdf(), "report.pdf"), "too_complex")
    assert verify(local_storage, samples.text(), "notes.txt").ok
