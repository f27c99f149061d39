"""A private Redis and a real `celery worker` process, for the delivery tests."""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import free_port

BASE_DIR = Path(__file__).resolve().parents[2]


class RedisServer:
    def __init__(self, port: int, workdir: Path):
        self.port = port
        self.workdir = workdir
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture(scope="session")
def broker(tmp_path_factory):
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


class Workers:
    """Starts `celery worker` processes on the test database and the private
    Redis, each with the environment given (plus `extra_env`); all email lands
    in one folder (file-based backend), so that every message sent is counted."""

    def __init__(self, broker, tmp_path: Path):
        from django.db import connection

        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.procs: list[subprocess.Popen] = []
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "REDIS_URL": broker.url,
            "CELERY_BROKER_URL": broker.url,
            "MAIL_FILE_DIR": str(self.mail_dir),
            "SITE_URL": "http://testserver",
        }

    def start(
        self, extra_env: dict[str, str] | None = None, extra_args: tuple[str, ...] = ()
    ) -> subprocess.Popen:
        """`extra_args`: more `celery worker` options (e.g. `-B` to run beat inside it)."""
        log_path = self.tmp_path / f"worker-{len(self.procs)}.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [
                    str(BASE_DIR / ".venv/bin/celery"),
                    "-A",
                    "secondop",
                    "worker",
                    "--pool",
                    "solo",
                    "--loglevel",
                    "info",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    *extra_args,
                ],
                cwd=BASE_DIR,
                env={**self.env, **(extra_env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        _wait_for_worker(proc, log_path)
        return proc

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()


@pytest.fixture
def celery_workers(transactional_db, broker, tmp_path):
    """Start real worker processes with `celery_workers.start(extra_env)`."""
    from secondop.celery import app

    workers = Workers(broker, tmp_path)
    # The test process publishes to the same private Redis. Drop any producer
    # pool made earlier for another URL (kombu keeps one per broker URL).
    app.conf.broker_url = broker.url
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield workers
    finally:
        workers.stop_all()
        app.conf.task_always_eager = True


@pytest.fixture
def celery_worker_process(celery_workers):
    """One real worker process. Yields the folder its email lands in."""
    celery_workers.start()
    return celery_workers.mail_dir


def _wait_for_worker(proc, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited:\n" + log_path.read_text())
        if "ready." in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError("celery worker did not become ready:\n" + log_path.read_text())
