"""secondop.logging_filters: no token from a physician's link or a local upload's
address reaches a log line written by Django's request and runserver loggers."""

import logging

import pytest

from secondop.logging_filters import RedactTokens

TOKEN = "q3L0bxW8h0t9Yb3d0Zr1v7pS2JkQmN4cXe5uAaFgHiI"


def _record(msg, args):
    return logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, None)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/shared/{TOKEN}/pdf/", "/shared/[token]/pdf/"),
        (f"/shared/{TOKEN}/", "/shared/[token]/"),
        (f"/shl/{TOKEN}", "/shl/[token]"),
        (f"/records/upload/{TOKEN}/", "/records/upload/[token]/"),
        ("/cases/", "/cases/"),
    ],
)
def test_it_replaces_the_token_in_the_message_and_its_arguments(path, shown):
    record = _record("%s: %s", ("Not Found", path))
    assert RedactTokens().filter(record) is True
    assert record.getMessage() == f"Not Found: {shown}"
    record = _record(f'"GET {path} HTTP/1.1" 404 179', ())
    RedactTokens().filter(record)
    assert record.getMessage() == f'"GET {shown} HTTP/1.1" 404 179'
    record = _record("%(path)s", ({"path": path},))
    RedactTokens().filter(record)
    assert record.getMessage() == shown


@pytest.mark.parametrize("name", ["django.request", "django.server"])
def test_it_is_on_djangos_request_and_server_loggers(name):
    assert any(isinstance(f, RedactTokens) for f in logging.getLogger(name).filters)


@pytest.mark.django_db
def test_a_404_under_a_token_path_is_logged_without_it(client, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    assert client.get(f"/records/upload/{TOKEN}/nothing-here/").status_code == 404
    assert "/records/upload/[token]/" in caplog.text and TOKEN not in caplog.text
