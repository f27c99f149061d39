import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parents[2]
# Everything production needs (secondop/production.py), pointing at nothing real.
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-like-secret-" + "x" * 30,
    "DJANGO_ALLOWED_HOSTS": "secondop.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/secondop",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "SMTP_URL": "smtp://mail.example.org:587?tls=True",
    "AWS_STORAGE_BUCKET_NAME": "records",
    "CLAMD_ADDRESS": "tcp://127.0.0.1:3310",
    "STATIC_MANIFEST": "false",
    "DJANGO_SETTINGS_MODULE": "secondop.settings",
}

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["home", "account_login", "account_signup"])
def test_pages_carry_a_strict_csp(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self' 'nonce-" in csp


def test_no_template_has_inline_script_or_style():
    comments = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
    offenders = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        text = comments.sub("", path.read_text())
        if re.search(r"\sstyle=|<style", text):
            offenders.append(f"{path}: inline style")
        for attrs in re.findall(r"<script\b([^>]*)>", text):
            if "src=" not in attrs and "application/json" not in attrs:
                offenders.append(f"{path}: inline script")
    assert offenders == []


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {"PATH": os.environ["PATH"], **PRODUCTION_ENV, "TRUSTED_PROXY_COUNT": "1"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_docker_compose_file_validates():
    result = subprocess.run(
        ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")},
    )
    assert result.returncode == 0, result.stderr


def test_healthz_answers(client):
    response = client.get("/healthz")
    assert response.json() == {"status": "ok"}


def test_the_friendly_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_home_page_explains_the_service(client):
    html = client.get("/").content.decode()
    for phrase in ["second opinion", "How it works", "What to gather", "What it asks of your time"]:
        assert phrase in html


def test_the_error_pages_render_without_the_database(rf):
    from secondop.views import error_400, error_500

    for view, status, text in [
        (error_400, 400, "wrong with that request"),
        (error_500, 500, "problem with the service"),
    ]:
        response = view(rf.get("/"))
        assert response.status_code == status
        assert text in response.content.decode()
