"""The embedded default (SQLite, no Redis) serves concurrent signed-in requests:
a threaded server, 20 people's first page views at once, each of which writes
its session. Before the busy timeout and IMMEDIATE transactions, two at once
could fail with "database is locked" (a 500)."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import free_port

BASE_DIR = Path(__file__).resolve().parents[2]
PEOPLE = 20

MAKE_SESSIONS = f"""
import json
import django
django.setup()
from django.test import Client
from tests.accounts.factories import UserFactory
cookies = []
for i in range({PEOPLE}):
    client = Client()
    client.force_login(UserFactory(email=f"person{{i}}@example.com", full_name=f"Person {{i}}"))
    cookies.append(client.cookies["sessionid"].value)
print(json.dumps(cookies))
"""


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("embedded")
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "REDIS_URL",
            "CACHE_REDIS_URL",
            "CELERY_BROKER_URL",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
        )
    }
    env.update(
        DJANGO_DEBUG="true",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        MEDIA_ROOT=str(workdir / "media"),
    )
    run = {"cwd": BASE_DIR, "env": env, "capture_output": True, "text": True, "timeout": 300}
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    assert migrate.returncode == 0, migrate.stderr
    made = subprocess.run(
        [sys.executable, "-c", MAKE_SESSIONS],
        **{**run, "env": {**env, "DJANGO_SETTINGS_MODULE": "tests.settings"}},
    )
    assert made.returncode == 0, made.stderr
    cookies = json.loads(made.stdout.strip().splitlines()[-1])
    port = free_port()
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield url, cookies, workdir / "server.log"
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def _get(url: str, cookie: str) -> int:
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_twenty_signed_in_first_page_views_at_once_all_succeed(embedded_server):
    url, cookies, log = embedded_server
    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        statuses = list(pool.map(lambda c: _get(f"{url}/requests/", c), cookies))
    assert statuses == [200] * PEOPLE, log.read_text()[-3000:]
    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:  # and again, all at once
        statuses = list(pool.map(lambda c: _get(f"{url}/notifications/", c), cookies))
    assert statuses == [200] * PEOPLE, log.read_text()[-3000:]
    assert "database is locked" not in log.read_text()
