"""The records tests' own services: a real clamd (Debian's clamav-daemon) with a
signature database this fixture writes, and storages to verify from: local files
in a temporary folder and the moto S3 server (tests/s3.py)."""

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from records import clamav
from tests.helpers import free_port
from tests.records import samples

REQUIRE_SERVICES = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("SECONDOP_REQUIRE_SERVICES")
)
# Small on purpose: the tests check what happens past it.
CLAMD_STREAM_MAX = 2 * 1024 * 1024


def _clamd_binary() -> str | None:
    return shutil.which("clamd") or next(
        (p for p in ("/usr/sbin/clamd", "/usr/bin/clamd") if Path(p).exists()), None
    )


def _unavailable(message: str):
    if REQUIRE_SERVICES:
        pytest.fail(
            f"{message} (CI or SECONDOP_REQUIRE_SERVICES is set: clamd is required; "
            f"apt-get install clamav-daemon)",
            pytrace=False,
        )
    pytest.skip(message)


@pytest.fixture(scope="session")
def clamd():
    """A clamd of our own, answering on a loopback TCP port and a unix socket, with
    one signature (the EICAR test file) and a 2 MiB StreamMaxLength. No internet is
    needed: the database is the .ndb file written here, not freshclam's."""
    binary = _clamd_binary()
    if not binary:
        _unavailable("clamd is not installed")
    # A short path: unix socket paths are limited to 107 bytes.
    home = Path(tempfile.mkdtemp(prefix="clamd-"))
    database = home / "db"
    database.mkdir()
    (database / "secondop-test.ndb").write_text(f"Eicar-Test-Signature:0:*:{samples.EICAR.hex()}\n")
    port = free_port()
    socket_path = home / "clamd.sock"
    config = home / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"LogFile {home / 'clamd.log'}",
                f"DatabaseDirectory {database}",
                f"LocalSocket {socket_path}",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"StreamMaxLength {CLAMD_STREAM_MAX}",
                f"MaxFileSize {CLAMD_STREAM_MAX}",
                f"MaxScanSize {CLAMD_STREAM_MAX * 2}",
                "AlertExceedsMax yes",
                "SelfCheck 3600",
                "ReadTimeout 30",
                "CommandReadTimeout 30",
                "MaxThreads 4",
                "Bytecode no",
                "",
            ]
        )
    )
    process = subprocess.Popen(
        [binary, "--config-file", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    addresses = {"tcp": f"tcp://127.0.0.1:{port}", "unix": f"unix://{socket_path}"}
    deadline = time.monotonic() + 60
    while not (
        clamav.ping(addresses["unix"], timeout=1) and clamav.ping(addresses["tcp"], timeout=1)
    ):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = (
                (home / "clamd.log").read_text(errors="replace")
                if (home / "clamd.log").exists()
                else ""
            )
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            shutil.rmtree(home, ignore_errors=True)
            _unavailable(f"clamd did not start: {stderr[-2000:]} {log[-2000:]}")
        time.sleep(0.2)
    yield {**addresses, "stream_max": CLAMD_STREAM_MAX, "process": process}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def local_storage(tmp_path):
    return FileSystemStorage(location=tmp_path / "media")


@pytest.fixture(params=["local", "s3"])
def any_storage(request, tmp_path):
    """Each test using it runs twice: local files, then the moto S3 server."""
    if request.param == "local":
        return FileSystemStorage(location=tmp_path / "media")
    return request.getfixturevalue("s3_storage")


def put(storage, data: bytes, name: str = "file.bin") -> str:
    """Store `data` under a fresh key shaped like the app's, and return the key."""
    key = f"cases/{uuid.uuid4()}/records/{uuid.uuid4()}/{name}"
    saved = storage.save(key, ContentFile(data))
    assert saved == key
    return key
