"""scripts/clamd, which scripts/run uses to give the embedded default a malware scan:
with no internet and no signatures on the machine, it starts a clamd of its own with
the EICAR test signature, which then refuses the test file and passes a clean one."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from records import clamav
from tests.records import samples

BASE_DIR = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("SECONDOP_REQUIRE_SERVICES")
)


def run(action: str, folder: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SECONDOP_CLAMD_DIR": str(folder),
        "SECONDOP_CLAMD_OFFLINE": "1",
        "SECONDOP_CLAMD_PACKAGE_DB": str(folder / "no-package-database"),
    }
    return subprocess.run(
        [str(BASE_DIR / "scripts/clamd"), action],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=360,
        check=False,
    )


@pytest.fixture
def folder():
    if not (shutil.which("clamd") or Path("/usr/sbin/clamd").exists()):
        if REQUIRED:
            pytest.fail("clamd is required (apt-get install clamav-daemon)", pytrace=False)
        pytest.skip("clamd is not installed")
    path = Path(tempfile.mkdtemp(prefix="clamd-run-"))  # short: a unix socket lives there
    yield path
    run("stop", path)
    shutil.rmtree(path, ignore_errors=True)


def test_offline_with_no_signatures_it_scans_with_the_eicar_signature(folder):
    started = run("start", folder)
    assert started.returncode == 0, started.stderr
    assert "only the EICAR test signature" in started.stderr
    name, address = started.stdout.strip().split("=", 1)
    assert name == "CLAMD_ADDRESS" and address == f"unix://{folder}/clamd.sock"
    assert clamav.scan(address, [samples.EICAR]).status == "infected"
    assert clamav.scan(address, [samples.pdf()]).clean

    again = run("start", folder)  # a second start finds it running
    assert again.returncode == 0 and again.stdout.strip() == started.stdout.strip()
    assert "already running" in again.stderr

    assert run("stop", folder).returncode == 0
    assert not clamav.ping(address, timeout=1)
