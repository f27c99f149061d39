"""What every email SecondOp sends has in common, in one place: a Message-ID that is
the same on every attempt (a resend can be recognised as one), whether a failure is
worth another try, and its description without the address (mail servers echo the
address in their messages, so never the message itself).

Used by the notifications, the physician's link (aftercare) and the records
request to a records office (records.retrieval)."""

from __future__ import annotations

import smtplib
from email.utils import parseaddr
from urllib.parse import urlsplit

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings


def message_id(local: str) -> str:
    """`<local@domain>`, the domain our From address's (or the site's)."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    domain = (
        (address.rpartition("@")[2] if "@" in address else "")
        or urlsplit(settings.SITE_URL).hostname
        or "secondop.local"
    )
    return f"<{local}@{domain}>"


def is_transient(exc: BaseException) -> bool:
    """Worth trying again later: the network, the mail server being unwell (4xx), our
    own credentials, a task's soft time limit. Anything else (a 5xx, an address the
    server refuses, a template error) will not heal. smtplib's errors are OSErrors,
    so they are sorted out first."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(
        exc,
        smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | smtplib.SMTPAuthenticationError,
    ):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPException):
        return False
    return isinstance(exc, OSError | SoftTimeLimitExceeded)


def refused_codes(exc: BaseException) -> list[int]:
    """The SMTP codes of a refusal, sorted (none for a failure that has no code)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return sorted({code for code, _msg in exc.recipients.values()})
    if isinstance(exc, smtplib.SMTPResponseException):
        return [exc.smtp_code]
    return []


def failure_code(exc: BaseException) -> str:
    """The failure's class and SMTP codes, for a log line or a row: never the
    server's message."""
    codes = refused_codes(exc)
    if codes:
        return f"{type(exc).__name__} (SMTP {', '.join(map(str, codes))})"
    return type(exc).__name__
