"""Logging filters: what a log line may not carry.

A physician's link (/shared/<token>/, its SMART Health Link /shl/<token>) and a local upload's address
(/records/upload/<token>/) hold a credential in the path. Django's own loggers
write paths (django.request: "Not Found: /shared/…/pdf/"; django.server: the
request line), and logs are read by more people than the link was for, so the
token is replaced by its place, as gunicorn's access log does
(docker/gunicorn.conf.py)."""

import logging
import re

SECRET_PATHS = re.compile(
    r"(/shared/|/shl/|/records/upload/|/records-requests/from/|/doctor-call/)[^/\s?#\"']+"
)


def redact(value):
    if isinstance(value, str):
        return SECRET_PATHS.sub(r"\1[token]", value)
    return value


class RedactTokens(logging.Filter):
    """Replace the token in /shared/<token> and /records/upload/<token> in the
    record's message and arguments. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: redact(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(value) for value in record.args)
        return True
