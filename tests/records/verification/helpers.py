"""What the verification tests share: checking bytes stored under a name, the
rejection a patient reads, a misbehaving clamd, and a run in a memory-capped process."""

import io
import socket
import threading

from PIL import Image

from records.verification import REASONS, FileReport, verify_file
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


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class one_connection_server:
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

    root = Path(__file__).resolve().parents[3]
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
