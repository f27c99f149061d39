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
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


@pytest.fixture
def celery_worker_process(transactional_db, broker, tmp_path, settings):
    """A real `celery worker` process consuming from Redis, on the test database.

    Yields the folder its email lands in (file-based backend)."""
    from django.db import connection

    from secondop.celery import app

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": broker.url,
        "CELERY_BROKER_URL": broker.url,
        "MAIL_FILE_DIR": str(mail_dir),
        "SITE_URL": "http://testserver",
    }
    log = (tmp_path / "worker.log").open("w")
    proc = subprocess.Popen(
        [str(BASE_DIR / ".venv/bin/celery"), "-A", "secondop", "worker", "--pool", "solo",
         "--loglevel", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    # The test process publishes to the same private Redis. Drop any producer
    # pool made earlier for another URL (kombu keeps one per broker URL).
    app.conf.broker_url = broker.url
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    try:
        _wait_for_worker(app, proc, tmp_path / "worker.log")
        yield mail_dir
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        app.conf.task_always_eager = True


def _wait_for_worker(app, proc, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited:\n" + log_path.read_text())
        if "ready." in log_path.read_text():
            return
        time.sleep(0.2)
    raise RuntimeError("celery worker did not become ready:\n" + log_path.read_text())
