import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from secondop.storage import s3_storage_config
from tests.accounts.factories import UserFactory, enrol_totp

REQUIRE_SERVICES = os.environ.get("CI", "").lower() == "true" or bool(
    os.environ.get("SECONDOP_REQUIRE_SERVICES")
)
BASE_DIR = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    from django.conf import settings

    if REQUIRE_SERVICES:
        engine = settings.DATABASES["default"]["ENGINE"]
        if engine != "django.db.backends.postgresql":
            raise pytest.UsageError(
                f"The test suite runs on PostgreSQL (DATABASE_URL), not {engine}. Use scripts/test."
            )
        if not settings.REDIS_URL:
            raise pytest.UsageError("REDIS_URL must point at a Redis server. Use scripts/test.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def _isolation(settings):
    """Each test starts with an empty cache (rate limits, TOTP replay marks) and
    eager tasks; the worker tests switch to the real broker themselves."""
    from django.core.cache import cache

    from secondop.celery import app

    cache.clear()
    app.conf.task_always_eager = True
    settings.SITE_URL = "http://testserver"
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def patient(db):
    return UserFactory(role="patient", email="pat@example.com", full_name="Pat Patient")


@pytest.fixture
def outsider(db):
    return UserFactory(role="patient", email="olly@example.com", full_name="Olly Outsider")


@pytest.fixture
def coordinator(db):
    user = UserFactory(role="coordinator", email="cora@example.com", full_name="Cora Coordinator")
    enrol_totp(user)
    return user


@pytest.fixture
def specialist(db):
    user = UserFactory(role="specialist", email="spec@example.com", full_name="Dr. Spec")
    enrol_totp(user)
    return user


@pytest.fixture
def admin_user(db):
    user = UserFactory(role="admin", email="ada@example.com", full_name="Ada Admin",
                       is_staff=True, is_superuser=True)
    enrol_totp(user)
    return user


# --- S3: moto in server mode on a free loopback port --------------------------------
@pytest.fixture(scope="session")
def s3_server():
    """An S3-compatible HTTP server with a private bucket, CORS open to the live server."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials)
    bucket = "secondop-test-records"
    client.create_bucket(Bucket=bucket)
    client.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
        },
    )
    client.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": ["http://localhost:*", "http://127.0.0.1:*"],
            "AllowedMethods": ["GET", "POST", "PUT", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        }]},
    )
    yield {"endpoint": endpoint, "bucket": bucket, "client": client, **credentials}
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_server):
    """Point Django's default storage at the moto server for one test."""
    settings.AWS_STORAGE_BUCKET_NAME = s3_server["bucket"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": s3_storage_config(
            bucket=s3_server["bucket"],
            endpoint_url=s3_server["endpoint"],
            region="us-east-1",
            access_key=s3_server["aws_access_key_id"],
            secret_key=s3_server["aws_secret_access_key"],
        ),
    }
    from django.core.files.storage import default_storage

    return default_storage


# --- A private Redis and a real Celery worker process --------------------------------
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


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
