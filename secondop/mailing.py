"""What every email SecondOp sends has in common, in one place: a Message-ID that is
the same on every attempt (a resend can be recognised as one), whether a failure is
worth another try, and its description without the address (mail servers echo the
address in their messages, so never the message itself).

Used by the notifications, the physician's link (aftercare) and the records
request to a records office (records.retrieval)."""

from __future__ import annotations

import email
import email.message
import email.policy
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
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


# --- Bounces: delivery status notifications that come back later -------------------------
# A mail server may accept a message and return it hours later (RFC 3464): the inbound
# hook (secondop.views.mail_bounce) receives the returned message as raw MIME from the
# mail provider; the Message-ID of what we sent names the app and the row it is about.
BOUNCE_MAX_BYTES = 1024 * 1024
_MESSAGE_ID = re.compile(r"<([a-z-]+)-([0-9a-f-]{36}|\d+)@[^>]+>", re.IGNORECASE)


@dataclass(frozen=True)
class Bounce:
    """One recipient's permanent failure: the Message-ID's kind and id (as we made
    them: `records-request`, a UUID), and the status with its diagnostic code."""

    kind: str
    ref: str
    status: str  # "5.1.1"
    description: str  # "SMTP 550 5.1.1" at most, never the server's words


BounceHandler = Callable[[Bounce], bool]
_handlers: dict[str, BounceHandler] = {}


def on_bounce(kind: str, handler: BounceHandler) -> None:
    """An app's handler for the bounces of the emails whose Message-ID starts with
    `kind` (registered in its AppConfig.ready); it returns whether anything changed."""
    _handlers[kind] = handler


def read_bounce(raw: bytes) -> list[Bounce]:
    """The permanent failures a delivery status notification reports, with the
    Message-ID of the message that failed (from its returned headers). A report
    that is not one, a delay (4.x.x) or a success: nothing."""
    message = email.message_from_bytes(raw[:BOUNCE_MAX_BYTES], policy=email.policy.default)
    original: str = ""
    statuses: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            statuses.extend(_failed_statuses(part))
        elif kind in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            original = original or _returned_message_id(part)
    found = _MESSAGE_ID.fullmatch(original.strip()) if original else None
    if found is None or not statuses:
        return []
    kind, ref = found.group(1).lower(), found.group(2).lower()
    return [Bounce(kind, ref, status, f"SMTP {status}") for status in dict.fromkeys(statuses)]


def _failed_statuses(part: email.message.Message) -> list[str]:
    payload = part.get_payload()
    blocks: list[email.message.Message] = [
        b for b in (payload if isinstance(payload, list) else []) if not isinstance(b, str)
    ]
    if not blocks:  # some parsers leave the fields as text
        text = part.get_payload(decode=True) or b""
        blocks = [
            email.message_from_bytes(chunk)
            for chunk in re.split(rb"\r?\n\r?\n", bytes(text))
            if chunk.strip()
        ]
    statuses = []
    for block in blocks:
        action = str(block.get("Action", "")).strip().lower()
        status = str(block.get("Status", "")).strip().split(" ")[0]
        if action == "failed" and re.fullmatch(r"5\.\d{1,3}\.\d{1,3}", status):
            statuses.append(status)
    return statuses


def _returned_message_id(part: email.message.Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and not isinstance(payload[0], str):
        return str(payload[0].get("Message-ID", ""))  # message/rfc822: the returned message
    text = part.get_payload(decode=True) or b""
    headers = email.message_from_bytes(bytes(text), policy=email.policy.default)
    return str(headers.get("Message-ID", ""))


def handle_bounce(raw: bytes) -> int:
    """Hand each permanent failure to the app that sent the email; how many changed."""
    changed = 0
    for bounce in read_bounce(raw):
        handler = _handlers.get(bounce.kind)
        if handler is not None and handler(bounce):
            changed += 1
    return changed
