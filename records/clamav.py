"""A small client for clamd's INSTREAM command, so a file is scanned straight from
the object stream and never written to the scanner's disk.

The protocol (clamd(8)): send ``zINSTREAM\\0``, then chunks each prefixed with
their length as 4 bytes big-endian, then a zero-length chunk. clamd answers one
NUL-terminated line: ``stream: OK``, ``stream: <signature> FOUND``, or an error
such as ``INSTREAM size limit exceeded. ERROR`` (more than its StreamMaxLength).

clamd's own limits decide what it really reads: set StreamMaxLength at least as
high as the largest stream sent here, MaxFileSize and MaxScanSize as high, and
AlertExceedsMax so that a file past a limit is reported rather than passed as
OK without being read.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

CHUNK = 64 * 1024


class ClamdUnavailable(Exception):
    """clamd did not answer, or answered something other than a verdict. The file
    was not scanned: the caller must not treat it as clean, and should retry."""


@dataclass(frozen=True)
class ScanResult:
    status: str  # "clean" | "infected" | "too_large"
    signature: str = ""

    @property
    def clean(self) -> bool:
        return self.status == "clean"


def parse_address(address: str) -> tuple[int, str | tuple[str, int]]:
    """``tcp://host:port`` or ``unix:///path/to/clamd.sock`` (a bare ``host:port``
    or an absolute path is taken too) -> (socket family, address)."""
    address = address.strip()
    if address.startswith("unix://"):
        path = address[len("unix://") :]
        if not path.startswith("/"):
            raise ValueError(f"CLAMD_ADDRESS: a unix socket needs an absolute path: {address!r}")
        return socket.AF_UNIX, path
    if address.startswith("/"):
        return socket.AF_UNIX, address
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme != "tcp" or not parts.hostname or not parts.port:
        raise ValueError(f"CLAMD_ADDRESS must be tcp://host:port or unix:///path: {address!r}")
    family = socket.AF_INET6 if ":" in parts.hostname else socket.AF_INET
    return family, (parts.hostname, parts.port)


def _connect(address: str, timeout: float) -> socket.socket:
    family, target = parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(target)
    except OSError as error:
        sock.close()
        raise ClamdUnavailable(f"cannot connect to clamd at {address}: {error}") from error
    return sock


def _read_reply(sock: socket.socket, limit: int = 4096) -> str:
    data = b""
    while b"\0" not in data and len(data) < limit:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.split(b"\0", 1)[0].decode("utf-8", "replace").strip()


def ping(address: str, *, timeout: float = 5.0) -> bool:
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zPING\0")
            return _read_reply(sock) == "PONG"
    except (ClamdUnavailable, OSError):
        return False


def parse_reply(reply: str) -> ScanResult:
    """clamd's answer to INSTREAM -> a verdict; anything else is ClamdUnavailable."""
    if reply.startswith("stream: "):
        verdict = reply[len("stream: ") :]
        if verdict == "OK":
            return ScanResult("clean")
        if verdict.endswith(" FOUND"):
            return ScanResult("infected", verdict[: -len(" FOUND")].strip())
    if "size limit exceeded" in reply.lower():
        return ScanResult("too_large")
    raise ClamdUnavailable(
        f"clamd answered {reply[:200]!r}" if reply else "clamd closed without answering"
    )


def scan(
    address: str,
    chunks: Iterable[bytes],
    *,
    max_bytes: int | None = None,
    timeout: float = 30.0,
    reply_timeout: float = 600.0,
) -> ScanResult:
    """Stream `chunks` to clamd and return its verdict.

    `max_bytes` is our own limit (keep it at or below clamd's StreamMaxLength):
    past it nothing more is sent and the result is "too_large", never "clean".
    `timeout` bounds connecting and each send; `reply_timeout` the wait for the
    verdict once everything is sent (clamd scans at the end). Any failure to get a
    verdict raises ClamdUnavailable. Errors raised by `chunks` itself (reading
    the object) pass through unchanged."""
    sent = 0
    with _connect(address, timeout) as sock:
        try:
            sock.sendall(b"zINSTREAM\0")
            for chunk in chunks:  # the source's own errors are not clamd's
                view = memoryview(chunk)
                while view:
                    piece, view = view[:CHUNK], view[CHUNK:]
                    if max_bytes is not None and sent + len(piece) > max_bytes:
                        return ScanResult("too_large")
                    sock.sendall(struct.pack("!L", len(piece)) + piece)
                    sent += len(piece)
            sock.sendall(struct.pack("!L", 0))
        except (ConnectionError, TimeoutError) as error:
            # clamd stops reading and answers as soon as the stream passes its own
            # StreamMaxLength; read that answer before calling it a failure.
            return parse_reply(_late_reply(sock, timeout, error))
        try:
            sock.settimeout(reply_timeout)
            reply = _read_reply(sock)
        except OSError as error:
            raise ClamdUnavailable(f"no answer from clamd: {error}") from error
    return parse_reply(reply)


def _late_reply(sock: socket.socket, timeout: float, error: Exception) -> str:
    try:
        sock.settimeout(min(timeout, 5.0))
        reply = _read_reply(sock)
    except OSError:
        reply = ""
    if not reply:
        raise ClamdUnavailable(f"clamd stopped reading: {error}") from error
    return reply
