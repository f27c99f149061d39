"""records.clamav: the INSTREAM client, against a real clamd and against ones that
misbehave."""

import socket
import struct
import threading

import pytest

from records import clamav
from records.clamav import ClamdUnavailable, ScanResult, parse_address, parse_reply, scan
from tests.helpers import free_port
from tests.records import samples


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("tcp://127.0.0.1:3310", (socket.AF_INET, ("127.0.0.1", 3310))),
        ("tcp://clamav:3310", (socket.AF_INET, ("clamav", 3310))),
        ("tcp://[::1]:3310", (socket.AF_INET6, ("::1", 3310))),
        ("127.0.0.1:3310", (socket.AF_INET, ("127.0.0.1", 3310))),
        ("unix:///run/clamav/clamd.ctl", (socket.AF_UNIX, "/run/clamav/clamd.ctl")),
        ("/run/clamav/clamd.ctl", (socket.AF_UNIX, "/run/clamav/clamd.ctl")),
    ],
)
def test_it_reads_addresses(address, expected):
    assert parse_address(address) == expected


@pytest.mark.parametrize("address", ["http://x:1", "tcp://host", "unix://relative.sock", ""])
def test_it_refuses_addresses_it_cannot_use(address):
    with pytest.raises(ValueError, match="CLAMD_ADDRESS"):
        parse_address(address)


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("stream: OK", ScanResult("clean")),
        ("stream: Eicar-Test-Signature FOUND", ScanResult("infected", "Eicar-Test-Signature")),
        ("stream: Win.Test.EICAR_HDB-1 FOUND", ScanResult("infected", "Win.Test.EICAR_HDB-1")),
        ("INSTREAM size limit exceeded. ERROR", ScanResult("too_large")),
    ],
)
def test_it_reads_verdicts(reply, expected):
    assert parse_reply(reply) == expected


@pytest.mark.parametrize(
    "reply", ["", "stream: Can't allocate memory ERROR", "UNKNOWN COMMAND", "stream: "]
)
def test_anything_but_a_verdict_is_unavailable_never_clean(reply):
    with pytest.raises(ClamdUnavailable):
        parse_reply(reply)


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_clamd_finds_the_eicar_file(clamd, transport):
    result = scan(clamd[transport], [samples.EICAR])
    assert result.status == "infected" and not result.clean
    assert result.signature.startswith("Eicar-Test-Signature")


def test_clamd_passes_a_clean_stream_sent_in_pieces(clamd):
    pieces = [samples.pdf(), b"x" * 200_000, samples.ct()]
    assert scan(clamd["tcp"], iter(pieces)).clean


def test_clamd_finds_the_eicar_file_across_chunk_boundaries(clamd):
    data = b"padding " * 10_000 + samples.EICAR
    cut = len(data) - 30
    assert scan(clamd["unix"], [data[:cut], data[cut:]]).status == "infected"


def test_past_clamds_stream_limit_is_too_large(clamd):
    result = scan(clamd["unix"], [b"\0" * (clamd["stream_max"] + 1024 * 1024)])
    assert result == ScanResult("too_large")


def test_past_our_own_limit_nothing_more_is_sent(clamd):
    sent = []

    def chunks():
        for _ in range(100):
            sent.append(1)
            yield b"y" * 65536

    assert scan(clamd["tcp"], chunks(), max_bytes=200_000) == ScanResult("too_large")
    assert len(sent) == 4  # the fourth chunk would have passed the limit


def test_ping(clamd):
    assert clamav.ping(clamd["tcp"]) and clamav.ping(clamd["unix"])
    assert not clamav.ping(f"tcp://127.0.0.1:{free_port()}", timeout=1)


# --- A clamd that is not there, or misbehaves -----------------------------------------------
def test_clamd_not_listening_is_unavailable():
    with pytest.raises(ClamdUnavailable, match="cannot connect"):
        scan(f"tcp://127.0.0.1:{free_port()}", [b"data"])
    with pytest.raises(ClamdUnavailable):
        scan("unix:///nonexistent/clamd.sock", [b"data"])


class FakeClamd:
    """Listens on a loopback port, records what it receives and answers with `answer`
    (bytes, or None to hang up, or "silent" to never answer)."""

    def __init__(self, answer):
        self.answer = answer
        self.received = b""
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            while not self.received.endswith(b"\0\0\0\0"):
                try:
                    data = conn.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                self.received += data
            if isinstance(self.answer, bytes):
                conn.sendall(self.answer)
            elif self.answer == "silent":
                self.done.wait(10)

    def close(self):
        self.done.set()
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake_clamd(request):
    servers = []

    def make(answer):
        server = FakeClamd(answer)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def test_it_speaks_instream(fake_clamd):
    server = fake_clamd(b"stream: OK\0")
    assert scan(server.address, [b"abc", b"", b"d" * 70_000]).clean
    received = server.received
    assert received.startswith(b"zINSTREAM\0")
    body, chunks = received[len(b"zINSTREAM\0") :], []
    while True:
        (length,) = struct.unpack("!L", body[:4])
        if length == 0:
            break
        chunks.append(body[4 : 4 + length])
        body = body[4 + length :]
    assert body == b"\0\0\0\0"
    assert b"".join(chunks) == b"abc" + b"d" * 70_000
    assert max(len(c) for c in chunks) <= clamav.CHUNK


def test_clamd_hanging_up_without_a_verdict_is_unavailable(fake_clamd):
    server = fake_clamd(None)
    with pytest.raises(ClamdUnavailable):
        scan(server.address, [b"data"])


def test_clamd_never_answering_times_out_as_unavailable(fake_clamd):
    server = fake_clamd("silent")
    with pytest.raises(ClamdUnavailable, match="no answer"):
        scan(server.address, [b"data"], timeout=1, reply_timeout=0.5)


def test_an_error_from_clamd_is_unavailable(fake_clamd):
    server = fake_clamd(b"stream: Can't allocate memory ERROR\0")
    with pytest.raises(ClamdUnavailable, match="allocate"):
        scan(server.address, [b"data"])


def test_reading_the_source_failing_is_not_blamed_on_clamd(fake_clamd):
    server = fake_clamd(b"stream: OK\0")

    def chunks():
        yield b"data"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        scan(server.address, chunks())
