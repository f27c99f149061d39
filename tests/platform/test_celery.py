"""secondop.celery and the Celery settings: records work (verification, bundles,
report PDFs) has its own queue and worker, and each worker child can be given a
memory guard."""

import os
import re
import subprocess
import sys
from pathlib import Path

from secondop.celery import app

BASE_DIR = Path(__file__).resolve().parents[2]


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_reading_and_rendering_uploads_run_on_the_records_queue():
    assert queue_of("records.tasks.record_verify") == "records"
    assert queue_of("records.tasks.bundle_build") == "records"
    assert queue_of("requests_app.reports.tasks.report_render") == "records"


def test_everything_else_stays_on_the_default_queue():
    for name in (
        "secondop.notifications.tasks.notifications_sweep",
        "specialists.tasks.offers_expire",
        "records.tasks.records_sweep",
    ):
        assert queue_of(name) == "celery", name


def test_rendering_a_studys_frames_runs_on_the_imaging_queue():
    assert queue_of("records.imaging.tasks.imaging_start") == "imaging"
    assert queue_of("records.imaging.tasks.frames_render") == "imaging"
    assert queue_of("records.imaging.tasks.imaging_sweep") == "celery"


def test_a_worker_started_without_q_serves_every_queue():
    assert set(app.amqp.queues) == {"celery", "records", "imaging"}


def _service(name: str) -> str:
    """One service's block of docker-compose.yml (validated as a whole by
    tests/platform/test_security.py)."""
    text = (BASE_DIR / "docker-compose.yml").read_text()
    start = text.index(f"\n  {name}:\n")
    end = re.search(r"\n  [a-z][a-z-]*:\n|\nvolumes:", text[start + 1 :])
    return text[start : start + 1 + end.start()]


def test_compose_gives_records_a_worker_of_its_own_with_memory_limits():
    assert '"-Q", "celery"' in _service("worker")
    records = _service("records-worker")
    assert '"-Q", "records"' in records
    limit = re.search(r'"--max-memory-per-child", "(\d+)"', records)
    assert limit and int(limit.group(1)) <= 500_000  # KiB
    assert "WORKER_MEMORY_LIMIT_MB:" in records and "mem_limit:" in records


def test_compose_gives_imaging_a_worker_of_its_own_with_memory_limits():
    imaging = _service("imaging-worker")
    assert '"-Q", "imaging"' in imaging
    limit = re.search(r'"--max-memory-per-child", "(\d+)"', imaging)
    assert limit and int(limit.group(1)) <= 300_000  # KiB
    assert "WORKER_MEMORY_LIMIT_MB:" in imaging and "mem_limit:" in imaging


GUARD = """
import os, resource
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondop.settings")
import django
django.setup()
from secondop.celery import limit_memory
limit_memory()
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
try:
    hog = bytearray(1024 * 1024**2)
    print(soft, "allocated")
except MemoryError:
    print(soft, "refused")
"""


def run_guard(limit_mb: str) -> str:
    env = {**os.environ, "DJANGO_DEBUG": "true", "WORKER_MEMORY_LIMIT_MB": limit_mb}
    done = subprocess.run(
        [sys.executable, "-c", GUARD],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_memory_guard_refuses_an_allocation_past_the_limit():
    assert run_guard("768") == f"{768 * 1024**2} refused"


def test_without_a_limit_nothing_is_limited():
    assert run_guard("0").endswith("allocated")
