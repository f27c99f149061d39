"""The settings fail closed: each test starts the real settings module in a fresh
process, as a deployment would."""

import json
import os
import subprocess
import sys

import pytest

from tests.platform.test_security import BASE_DIR, PRODUCTION_ENV


def _start(env: dict, code: str = "import django; django.setup()") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "secondop.settings", **env},
    )


def test_nothing_set_means_no_debug_and_a_message_saying_how_to_develop():
    result = subprocess.run(
        [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:0"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"]},
    )
    assert result.returncode != 0
    assert "DEBUG is off" in result.stderr
    assert "set DJANGO_DEBUG=true" in result.stderr
    for variable in (
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "SMTP_URL",
        "AWS_STORAGE_BUCKET_NAME",
        "CLAMD_ADDRESS",
    ):
        assert variable in result.stderr


def test_all_of_production_set_starts():
    result = _start(
        PRODUCTION_ENV,
        "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


UNSAFE = {
    "a short secret key": ({"DJANGO_SECRET_KEY": "too-short"}, "DJANGO_SECRET_KEY"),
    "SQLite": ({"DATABASE_URL": "sqlite:///db.sqlite3"}, "DATABASE_URL: SQLite"),
    "no database at all": ({"DATABASE_URL": None}, "DATABASE_URL"),
    "the per-process cache": (
        {"REDIS_URL": None, "CELERY_BROKER_URL": "redis://r:6379/1"},
        "REDIS_URL (or CACHE_REDIS_URL)",
    ),
    "eager Celery": (
        {"REDIS_URL": None, "CACHE_REDIS_URL": "redis://r:6379/1"},
        "REDIS_URL (or CELERY_BROKER_URL)",
    ),
    "console email": ({"SMTP_URL": None}, "SMTP_URL: email would be printed"),
    "file email": ({"MAIL_FILE_DIR": "/tmp/mail"}, "MAIL_FILE_DIR"),
    "SMTP without TLS": ({"SMTP_URL": "smtp://mail.example.org:25"}, "SMTP_URL: use TLS"),
    "local file storage": ({"AWS_STORAGE_BUCKET_NAME": None}, "AWS_STORAGE_BUCKET_NAME"),
    "no malware scan": ({"CLAMD_ADDRESS": None}, "CLAMD_ADDRESS"),
}


@pytest.mark.parametrize("case", UNSAFE, ids=list(UNSAFE))
def test_with_debug_off_it_refuses_to_start_naming_what_is_missing(case):
    change, named = UNSAFE[case]
    env = {k: v for k, v in {**PRODUCTION_ENV, **change}.items() if v is not None}
    result = _start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and named in result.stderr
    # It names only what is wrong.
    assert result.stderr.count("\n  - ") == 1, result.stderr


@pytest.mark.parametrize(
    "url",
    ["smtp://m:587?tls=True", "smtps://m:465", "smtp+ssl://m:465", "smtp://u:p@m:587?tls=true"],
)
def test_smtp_with_tls_is_accepted(url):
    from secondop.production import _smtp_uses_tls

    assert _smtp_uses_tls(url)


@pytest.mark.parametrize(
    ("count", "header"), [("0", None), ("1", ["HTTP_X_FORWARDED_PROTO", "https"])]
)
def test_the_forwarded_proto_header_is_believed_only_behind_a_configured_proxy(count, header):
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps([getattr(settings, 'SECURE_PROXY_SSL_HEADER', None), "
        "settings.ALLAUTH_TRUSTED_PROXY_COUNT]))"
    )
    result = _start({**PRODUCTION_ENV, "TRUSTED_PROXY_COUNT": count}, code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [header, int(count)]


def test_plaintext_smtp_only_when_named_for_a_private_mail_catcher():
    env = {**PRODUCTION_ENV, "SMTP_URL": "smtp://mailpit:1025", "SMTP_ALLOW_UNENCRYPTED": "true"}
    assert _start(env).returncode == 0


def test_the_access_log_format_has_no_query_string_or_referer():
    import runpy

    config = runpy.run_path(str(BASE_DIR / "docker" / "gunicorn.conf.py"))
    log_format = config["access_log_format"]
    assert "%(U)s" in log_format  # the path alone
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "%({query_string}e)s"):
        assert leaky not in log_format
    script = (BASE_DIR / "docker" / "web-start.sh").read_text()
    assert "--config docker/gunicorn.conf.py" in script


def test_the_access_log_hides_the_tokens_in_paths():
    import runpy
    from types import SimpleNamespace

    config = runpy.run_path(str(BASE_DIR / "docker" / "gunicorn.conf.py"))
    logger = config["logger_class"](
        SimpleNamespace(
            errorlog="-",
            loglevel="info",
            accesslog=None,
            access_log_format="%(U)s",
            syslog=False,
            logconfig=None,
            logconfig_dict={},
            logconfig_json=None,
            capture_output=False,
            user=0,
            group=0,
            umask=0,
            env={},
            statsd_host=None,
            dogstatsd_tags="",
            syslog_addr=None,
            syslog_prefix=None,
            syslog_facility="user",
            disable_redirect_access_to_syslog=False,
        )
    )
    for path, shown in (
        ("/shared/Zx9-secret_token/", "/shared/[token]/"),
        ("/shared/Zx9-secret_token/pdf/", "/shared/[token]/pdf/"),
        ("/records/upload/abc.def:ghi/", "/records/upload/[token]/"),
        ("/requests/coordinator/", "/requests/coordinator/"),
    ):
        request = SimpleNamespace(
            path=path, method="GET", query="", version=(1, 1), headers=[], uri=path
        )
        response = SimpleNamespace(status="200 OK", sent=0, headers=[], response_length=0)
        atoms = logger.atoms(
            response,
            request,
            {
                "REMOTE_ADDR": "10.0.0.1",
                "REQUEST_METHOD": "GET",
                "RAW_URI": path,
                "PATH_INFO": path,
                "SERVER_PROTOCOL": "HTTP/1.1",
            },
            SimpleNamespace(seconds=0, microseconds=0),
        )
        assert atoms["U"] == shown
