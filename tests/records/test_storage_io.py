"""records.storage_io: a stored object read as a seekable file, in small pieces."""

import hashlib
import io
import os
import zipfile

import pytest

from records import storage_io
from records.storage import StorageUnavailable
from records.storage_io import MAX_READAHEAD, MIN_READAHEAD, S3ObjectReader, open_object
from tests.records import samples
from tests.records.conftest import put


def test_it_reads_and_seeks_like_a_file(any_storage):
    data = os.urandom(3 * 1024 * 1024 + 17)
    key = put(any_storage, data)
    with open_object(any_storage, key) as handle:
        assert handle.size == len(data)
        assert handle.read(10) == data[:10]
        assert handle.seek(-5, io.SEEK_END) == len(data) - 5
        assert handle.read() == data[-5:]
        assert handle.read(10) == b""
        handle.seek(1_000_000)
        assert handle.tell() == 1_000_000
        assert handle.read(100) == data[1_000_000:1_000_100]
        handle.seek(123)
        assert (
            hashlib.sha256(b"".join(storage_io.iter_chunks(handle, 65536))).digest()
            == hashlib.sha256(data[123:]).digest()
        )


def test_libraries_that_seek_read_through_it(any_storage):
    data = samples.zip_of({"a.pdf": samples.pdf(), "b/c.dcm": samples.ct()})
    key = put(any_storage, data, "records.zip")
    with open_object(any_storage, key) as handle, zipfile.ZipFile(handle) as archive:
        assert archive.namelist() == ["a.pdf", "b/c.dcm"]
        assert archive.read("b/c.dcm") == samples.ct()


def test_a_missing_object_is_file_not_found(any_storage):
    with pytest.raises(FileNotFoundError):
        open_object(any_storage, "cases/nothing/here.pdf")


def test_s3_reads_are_ranged_and_never_the_whole_object(s3_storage):
    data = os.urandom(20 * 1024 * 1024)
    key = put(s3_storage, data)
    with open_object(s3_storage, key) as handle:
        assert isinstance(handle, S3ObjectReader)
        handle.seek(-22, io.SEEK_END)  # where a ZIP's directory ends
        assert handle.read(22) == data[-22:]
        assert (handle.requests, handle.fetched) == (1, 22)
        handle.seek(5_000_000)
        assert handle.read(1000) == data[5_000_000:5_001_000]
        assert handle.fetched == 22 + MIN_READAHEAD  # a jump starts with a small window
        assert handle.read(1000) == data[5_001_000:5_002_000]  # served from the window
        assert handle.requests == 2


def test_s3_reads_in_order_grow_the_window_up_to_its_limit(s3_storage):
    data = os.urandom(40 * 1024 * 1024)
    key = put(s3_storage, data)
    digest = hashlib.sha256()
    largest = 0
    with open_object(s3_storage, key) as handle:
        while chunk := handle.read(64 * 1024):
            digest.update(chunk)
            largest = max(largest, len(handle._window))
        assert digest.digest() == hashlib.sha256(data).digest()
        assert largest == MAX_READAHEAD
        # 256 KiB, 512 KiB, ... 8 MiB, then 8 MiB at a time: few requests, bounded memory.
        assert handle.requests < 12
        assert handle.fetched == len(data)


def test_a_big_read_is_fetched_as_asked_and_not_kept(s3_storage):
    data = os.urandom(MAX_READAHEAD + 1024)
    key = put(s3_storage, data)
    with open_object(s3_storage, key) as handle:
        assert handle.read() == data
        assert handle._window == b""


def test_s3_reads_stay_with_the_version_first_opened(s3_storage, s3_server):
    key = put(s3_storage, os.urandom(2 * 1024 * 1024))
    with open_object(s3_storage, key) as handle:
        handle.read(10)
        s3_server["client"].put_object(Bucket=s3_server["bucket"], Key=key, Body=b"replaced")
        handle.seek(1_500_000)
        with pytest.raises(Exception, match=r"PreconditionFailed|412"):
            handle.read(10)


def test_s3_not_answering_is_storage_unavailable():
    from botocore.config import Config
    from storages.backends.s3 import S3Storage

    from tests.helpers import free_port

    storage = S3Storage(
        bucket_name="secondop-test-records",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        access_key="testing",
        secret_key="testing",
        client_config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )
    with pytest.raises(StorageUnavailable):
        open_object(storage, "cases/x/records/y/file.pdf")


def test_a_local_file_is_opened_read_only(local_storage):
    key = put(local_storage, b"hello")
    with open_object(local_storage, key) as handle:
        assert handle.read() == b"hello"
        with pytest.raises(io.UnsupportedOperation):
            handle.write(b"x")
