"""Reading a stored object as a seekable file without downloading it whole.

zipfile, pypdfium2 and pydicom all seek: a ZIP's directory is at its end, a PDF's
cross-reference table too. On S3 each read becomes a ranged GET through a small
read-ahead window, so memory stays at a few MiB whatever the object's size. Other
storages (local files) are opened as they are."""

from __future__ import annotations

import io

from .storage import StorageUnavailable

MIN_READAHEAD = 256 * 1024
MAX_READAHEAD = 8 * 1024 * 1024


def _is_s3(storage) -> bool:
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is a dependency
        return False
    return isinstance(storage, S3Storage)


def s3_location(storage, key: str) -> tuple[object, str, str]:
    """(boto3 client, bucket, object key) for a name in an S3Storage, with the
    storage's `location` prefix applied as S3Storage itself does."""
    from storages.utils import clean_name

    return (
        storage.connection.meta.client,
        storage.bucket_name,
        storage._normalize_name(clean_name(key)),
    )


def _transient(error: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return status >= 500 or status == 429
    return isinstance(error, BotoCoreError | OSError)


def _missing(error: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return False
    code = str(error.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}


class S3ObjectReader(io.RawIOBase):
    """A read-only, seekable view of one S3 object made of ranged GETs.

    One window of the object is kept in memory. It starts at MIN_READAHEAD and
    doubles, up to MAX_READAHEAD, while reads go forward in order (hashing, a ZIP
    entry), and drops back after a jump (a PDF's scattered objects). Reads are
    pinned to the ETag seen when opened, so an object replaced meanwhile fails
    instead of mixing two versions.

    A storage failure raises StorageUnavailable and is kept in `error`: a library
    that swallows read errors (and would call the file damaged) can be second-
    guessed by the caller."""

    def __init__(self, client, bucket: str, key: str, *, name: str = ""):
        super().__init__()
        self._client, self._bucket, self._key = client, bucket, key
        self.name = name or key
        self.error: Exception | None = None
        head = self._call(client.head_object, Bucket=bucket, Key=key)
        self.size: int = int(head["ContentLength"])
        self._etag: str = head.get("ETag", "")
        self._pos = 0
        self._window_start = 0
        self._window = b""
        self._readahead = MIN_READAHEAD
        self._last_end = -1
        self.requests = 0  # ranged GETs made and bytes fetched, for tests and the benchmark
        self.fetched = 0

    def _call(self, method, **params):
        try:
            return method(**params)
        except Exception as error:
            if _missing(error):
                raise FileNotFoundError(self.name) from error
            if _transient(error):
                self.error = StorageUnavailable(f"storage did not answer reading {self.name}")
                raise self.error from error
            raise

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError("negative seek position")
        self._pos = pos
        return pos

    def _get(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the object."""
        self.requests += 1
        params = {"Bucket": self._bucket, "Key": self._key, "Range": f"bytes={start}-{end - 1}"}
        if self._etag:
            params["IfMatch"] = self._etag
        response = self._call(self._client.get_object, **params)
        try:
            data = response["Body"].read()
        except Exception as error:
            self.error = StorageUnavailable(f"storage stopped answering reading {self.name}")
            raise self.error from error
        finally:
            response["Body"].close()
        self.fetched += len(data)
        if len(data) != end - start:
            self.error = StorageUnavailable(f"short read from storage for {self.name}")
            raise self.error
        return data

    def read(self, size: int = -1) -> bytes:
        self._check_closed()
        if size is None or size < 0:
            size = self.size - self._pos
        size = min(size, max(self.size - self._pos, 0))
        if size == 0:
            return b""
        start = self._pos
        offset = start - self._window_start
        if 0 <= offset < len(self._window):
            data = self._window[offset : offset + size]
            if len(data) < size:  # the rest runs past the window: continue from there
                self._pos = start + len(data)
                return data + self.read(size - len(data))
            self._pos = start + size
            return data
        # Forward reads in order (hashing, a ZIP entry) earn a bigger window; a jump
        # (a PDF's scattered objects) starts small again.
        sequential = start == self._last_end
        self._readahead = min(self._readahead * 2, MAX_READAHEAD) if sequential else MIN_READAHEAD
        if size > MAX_READAHEAD:
            # A big read gets exactly what it asked for; nothing is kept.
            self._window, self._window_start = b"", 0
            data = self._get(start, start + size)
            self._pos = self._last_end = start + size
            return data
        end = min(start + max(size, self._readahead), self.size)
        self._window, self._window_start = b"", 0  # let the old window go first
        self._window = self._get(start, end)
        self._window_start, self._last_end = start, end
        data = self._window[:size]
        self._pos = start + len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        memoryview(buffer).cast("B")[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        self._window = b""
        super().close()

    def _check_closed(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")


def open_object(storage, key: str):
    """A read-only, seekable file object for `key` in `storage`, with a `size`.

    S3Storage: ranged GETs through boto3 with a bounded read-ahead window. Other
    storages: ``storage.open(key, "rb")``. Use it as a context manager. A missing
    object raises FileNotFoundError; S3 not answering raises StorageUnavailable."""
    if _is_s3(storage):
        client, bucket, name = s3_location(storage, key)
        return S3ObjectReader(client, bucket, name, name=key)
    if not storage.exists(key):
        raise FileNotFoundError(key)
    return storage.open(key, "rb")


def iter_chunks(fileobj, chunk_size: int = 1024 * 1024):
    """The rest of `fileobj` in chunks of at most `chunk_size` bytes."""
    while True:
        chunk = fileobj.read(chunk_size)
        if not chunk:
            return
        yield chunk
