"""A ZIP of many stored files, written back to storage as it is made.

stream-zip produces the archive as a stream of chunks (ZIP64, entries deflated at
a fast level); on S3 the chunks are gathered into parts of a multipart upload, on
other storages handed to ``storage.save`` as a file-like stream. Memory holds one
part (8 MiB, growing for very large bundles to stay within S3's 10,000 parts)
whatever the bundle's size."""

from __future__ import annotations

import contextlib
import io
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from .storage_io import _is_s3, s3_location

PART_SIZE = 8 * 1024 * 1024
S3_MAX_PARTS = 10_000
READ_CHUNK = 1024 * 1024
DEFLATE_LEVEL = 1  # DICOM still halves; JPEG and PDF barely shrink at any level

Entry = tuple[str, Callable[[], object]]


def safe_archive_name(name: str) -> str:
    """An entry name as a relative path with forward slashes. Anything that could
    land outside the folder it is unpacked into (``..``, an absolute path, a drive
    letter) or hide from view (control characters) raises ValueError."""
    path = str(name or "").replace("\\", "/")
    if not path or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in path):
        raise ValueError(f"unsafe archive name: {name!r}")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        raise ValueError(f"unsafe archive name: {name!r}")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        raise ValueError(f"unsafe archive name: {name!r}")
    return "/".join(parts)


def _unique(name: str, seen: set[str]) -> str:
    if name.lower() not in seen:
        seen.add(name.lower())
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or "/" in ext:
        stem, ext = name, ""
    number = 2
    while True:
        candidate = f"{stem} ({number}).{ext}" if ext else f"{stem} ({number})"
        if candidate.lower() not in seen:
            seen.add(candidate.lower())
            return candidate
        number += 1


def _zip_chunks(
    entries: Iterable[Entry], on_progress: Callable[[int], None] | None
) -> Iterator[bytes]:
    from stream_zip import ZIP_64, stream_zip

    modified = datetime.now(UTC).replace(tzinfo=None)
    mode = stat.S_IFREG | 0o600
    seen: set[str] = set()
    done = 0

    def contents(opener) -> Iterator[bytes]:
        nonlocal done
        with opener() as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk
        done += 1
        if on_progress is not None:
            on_progress(done)

    def members():
        for name, opener in entries:
            yield _unique(safe_archive_name(name), seen), modified, mode, ZIP_64, contents(opener)

    yield from stream_zip(
        members(),
        chunk_size=256 * 1024,
        get_compressobj=lambda: zlib.compressobj(level=DEFLATE_LEVEL, wbits=-zlib.MAX_WBITS),
    )


class _ChunkStream(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (for ``storage.save``)."""

    def __init__(self, chunks: Iterator[bytes]):
        super().__init__()
        self._chunks = chunks
        self._pending = b""
        self.size = None
        self.written = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        count = min(len(buffer), len(self._pending))
        memoryview(buffer).cast("B")[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self.written += count
        return count


def bundle_write(
    *, storage, key: str, entries: Iterable[Entry], on_progress: Callable[[int], None] | None = None
) -> int:
    """Write a ZIP of `entries` to `storage` at `key` and return its size in bytes.

    `entries` is an iterable of ``(archive name, opener)``; ``opener()`` returns a
    readable file object used as a context manager (e.g. ``lambda:
    open_object(storage, key)``), opened only when its turn comes. Names are
    checked with safe_archive_name (ValueError) and made unique. `on_progress`
    is called with the number of files written so far. An existing object at
    `key` is replaced; on failure nothing is left at `key` (S3: the multipart
    upload is aborted)."""
    chunks = _zip_chunks(entries, on_progress)
    if _is_s3(storage):
        return _write_s3(storage, key, chunks)
    return _write_local(storage, key, chunks)


def write_chunks(*, storage, key: str, chunks: Iterator[bytes]) -> int:
    """Write an archive made elsewhere (records.checking's ZIP without a disc's viewer
    software) as bundle_write writes its own: streamed, one part in memory."""
    if _is_s3(storage):
        return _write_s3(storage, key, chunks)
    return _write_local(storage, key, chunks)


def _write_local(storage, key: str, chunks: Iterator[bytes]) -> int:
    from django.core.files import File

    stream = _ChunkStream(chunks)
    if storage.exists(key):
        storage.delete(key)
    try:
        saved = storage.save(key, File(io.BufferedReader(stream, READ_CHUNK), name=key))
    except BaseException:
        if storage.exists(key):
            storage.delete(key)
        raise
    if saved != key:  # written meanwhile by someone else: ours went elsewhere
        storage.delete(saved)
        raise FileExistsError(key)
    return stream.written


def _write_s3(storage, key: str, chunks: Iterator[bytes]) -> int:
    client, bucket, name = s3_location(storage, key)
    params = {
        k: v
        for k, v in storage.get_object_parameters(name).items()
        if k
        in {
            "ServerSideEncryption",
            "SSEKMSKeyId",
            "StorageClass",
            "CacheControl",
            "Metadata",
            "ACL",
        }
    }
    if getattr(storage, "default_acl", None) and "ACL" not in params:
        params["ACL"] = storage.default_acl
    upload = client.create_multipart_upload(
        Bucket=bucket, Key=name, ContentType="application/zip", **params
    )
    upload_id = upload["UploadId"]
    parts: list[dict] = []
    total = 0
    part_size = PART_SIZE
    buffer = bytearray()
    try:

        def send(data: bytes) -> None:
            number = len(parts) + 1
            answer = client.upload_part(
                Bucket=bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=data
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})

        for chunk in chunks:
            buffer += chunk
            total += len(chunk)
            if len(buffer) >= part_size:
                send(bytes(buffer))
                buffer.clear()
                # Grow the parts as the bundle grows: 10,000 parts of 8 MiB is 78 GiB.
                if len(parts) % 1000 == 0:
                    part_size *= 2
        if buffer or not parts:
            send(bytes(buffer))
            buffer.clear()
        if len(parts) > S3_MAX_PARTS:
            raise ValueError("bundle too large for one S3 object")
        client.complete_multipart_upload(
            Bucket=bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        # The original error matters more; records' sweep aborts what is left.
        with contextlib.suppress(Exception):
            client.abort_multipart_upload(Bucket=bucket, Key=name, UploadId=upload_id)
        raise
    return total
