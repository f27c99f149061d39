"""records.bundles: a ZIP of stored files, streamed back into storage."""

import io
import os
import zipfile

import pytest

from records import bundles
from records.bundles import bundle_write, safe_archive_name
from records.storage_io import open_object
from tests.records import samples
from tests.records.conftest import put


def entries_for(storage, files: dict[str, bytes]):
    keys = {name: put(storage, data) for name, data in files.items()}
    return [(name, lambda key=key: open_object(storage, key)) for name, key in keys.items()]


def read_zip(storage, key: str) -> dict[str, bytes]:
    with open_object(storage, key) as handle, zipfile.ZipFile(handle) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_it_writes_a_zip_of_stored_files(any_storage):
    files = {
        "Imaging/CT chest/IM0001.dcm": samples.ct(),
        "Reports/Biopsy/biopsy.pdf": samples.pdf(),
        "Reports/Notes/notes.txt": samples.text(),
    }
    progress = []
    key = "cases/c/bundles/b.zip"
    size = bundle_write(
        storage=any_storage,
        key=key,
        entries=entries_for(any_storage, files),
        on_progress=progress.append,
    )
    assert size == any_storage.size(key)
    assert read_zip(any_storage, key) == files
    assert progress == [1, 2, 3]


def test_files_are_opened_only_when_their_turn_comes(local_storage):
    opened = []

    def opener(name):
        def open_it():
            opened.append(name)
            return io.BytesIO(name.encode())

        return open_it

    def entries():
        for name in ("a.txt", "b.txt"):
            yield name, opener(name)
            assert opened[-1] == name  # consumed before the next one is asked for

    bundle_write(storage=local_storage, key="b.zip", entries=entries())
    assert opened == ["a.txt", "b.txt"]


def test_an_s3_bundle_is_a_multipart_upload_in_bounded_parts(s3_storage, s3_server, monkeypatch):
    monkeypatch.setattr(bundles, "PART_SIZE", 5 * 1024 * 1024)  # S3's smallest part
    big = os.urandom(12 * 1024 * 1024)  # random: deflate cannot shrink it
    key = "cases/c/bundles/big.zip"
    entries = entries_for(s3_storage, {"big.bin": big, "small.txt": b"x"})
    calls = []
    client = s3_storage.connection.meta.client
    real_upload_part = client.upload_part

    def upload_part(**kwargs):
        calls.append(len(kwargs["Body"]))
        return real_upload_part(**kwargs)

    monkeypatch.setattr(client, "upload_part", upload_part)
    size = bundle_write(storage=s3_storage, key=key, entries=entries)
    assert len(calls) == 3 and max(calls) < 5 * 1024 * 1024 + 512 * 1024
    head = s3_server["client"].head_object(Bucket=s3_server["bucket"], Key=key)
    assert head["ContentLength"] == size
    assert head["ContentType"] == "application/zip"
    assert head["ServerSideEncryption"] == "AES256"
    assert read_zip(s3_storage, key) == {"big.bin": big, "small.txt": b"x"}


def test_a_failure_leaves_nothing_behind(any_storage, s3_server):
    def broken():
        raise OSError("storage went away")

    key = "cases/c/bundles/failed.zip"
    entries = [*entries_for(any_storage, {"a.pdf": samples.pdf()}), ("b.pdf", broken)]
    with pytest.raises(OSError, match="went away"):
        bundle_write(storage=any_storage, key=key, entries=entries)
    assert not any_storage.exists(key)
    uploads = s3_server["client"].list_multipart_uploads(Bucket=s3_server["bucket"], Prefix=key)
    assert not uploads.get("Uploads")


def test_it_replaces_an_earlier_bundle_at_the_same_key(any_storage):
    key = "cases/c/bundles/same.zip"
    bundle_write(storage=any_storage, key=key, entries=entries_for(any_storage, {"a.txt": b"1"}))
    bundle_write(storage=any_storage, key=key, entries=entries_for(any_storage, {"b.txt": b"2"}))
    assert read_zip(any_storage, key) == {"b.txt": b"2"}


@pytest.mark.parametrize(
    "name",
    [
        "../escape.pdf",
        "/etc/passwd",
        "a/../../b.pdf",
        "C:\\x.pdf",
        "",
        "bad\x00name.pdf",
        "..",
        "./",
    ],
)
def test_it_refuses_unsafe_names(local_storage, name):
    with pytest.raises(ValueError, match="unsafe archive name"):
        bundle_write(storage=local_storage, key="b.zip", entries=[(name, lambda: io.BytesIO(b"x"))])
    assert not local_storage.exists("b.zip")


def test_it_tidies_names_and_keeps_them_unique(local_storage):
    assert safe_archive_name("Reports\\Biopsy\\./report.pdf") == "Reports/Biopsy/report.pdf"
    entries = [
        (name, lambda: io.BytesIO(b"x"))
        for name in ("a/report.pdf", "a/report.pdf", "a/REPORT.pdf", "a/noext", "a/noext")
    ]
    bundle_write(storage=local_storage, key="b.zip", entries=entries)
    assert sorted(read_zip(local_storage, "b.zip")) == [
        "a/REPORT (3).pdf",
        "a/noext",
        "a/noext (2)",
        "a/report (2).pdf",
        "a/report.pdf",
    ]


def test_a_bundle_verifies_as_a_zip_of_its_files(local_storage):
    from records.verification import verify_file

    files = {"Imaging/IM0001.dcm": samples.ct(), "Reports/biopsy.pdf": samples.pdf()}
    bundle_write(storage=local_storage, key="b.zip", entries=entries_for(local_storage, files))
    report = verify_file(
        storage=local_storage, key="b.zip", name="bundle.zip", max_size=10**9, clamd_address=None
    )
    assert report.ok and [m.name for m in report.members] == list(files)
