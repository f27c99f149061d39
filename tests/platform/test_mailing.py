"""The mailing kit: one rule for what is worth another try, one Message-ID, one
description that never carries the server's message (it echoes the address)."""

import smtplib

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from secondop import mailing


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.example": (450, b"greylisted")}), True),
        (smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"no such user a@x.example")}), False),
        (
            smtplib.SMTPRecipientsRefused({"a@x": (450, b"later"), "b@x": (550, b"never")}),
            False,
        ),
        (smtplib.SMTPDataError(451, b"try later"), True),
        (smtplib.SMTPDataError(554, b"rejected"), False),
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPConnectError(421, b"busy"), True),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),  # ours to fix
        (smtplib.SMTPNotSupportedError("no"), False),
        (ConnectionRefusedError(), True),
        (SoftTimeLimitExceeded(), True),
        (ValueError("a template error"), False),
    ],
)
def test_what_is_worth_another_try(error, transient):
    assert mailing.is_transient(error) is transient


def test_the_description_has_the_codes_never_the_servers_words():
    refused = smtplib.SMTPRecipientsRefused(
        {"a@x.example": (550, b"no such user a@x.example"), "b@x.example": (452, b"full")}
    )
    assert mailing.failure_code(refused) == "SMTPRecipientsRefused (SMTP 452, 550)"
    assert mailing.failure_code(smtplib.SMTPDataError(554, b"spam a@x")) == (
        "SMTPDataError (SMTP 554)"
    )
    assert mailing.failure_code(ConnectionRefusedError("to 10.0.0.1")) == "ConnectionRefusedError"


def test_the_message_id_is_on_our_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "SecondOp <care@secondop.example>"
    assert mailing.message_id("share-1") == "<share-1@secondop.example>"
    settings.DEFAULT_FROM_EMAIL = "care"
    settings.SITE_URL = "https://app.secondop.example"
    assert mailing.message_id("share-1") == "<share-1@app.secondop.example>"


# --- Returned mail ------------------------------------------------------------------------
def dsn(message_id: str, *, status: str = "5.1.1", action: str = "failed") -> bytes:
    """A delivery status notification as Postfix writes one (RFC 3464): the human
    part, the per-recipient status, and the returned message's headers."""
    return (
        "From: MAILER-DAEMON@mx.mercy.example\r\n"
        "To: care@secondop.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "<records@mercy.example>: host mx.mercy.example said: 550 5.1.1 no such user\r\n"
        "\r\n--B\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.secondop.example\r\n"
        "\r\n"
        "Final-Recipient: rfc822; records@mercy.example\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <records@mercy.example>: no such user\r\n"
        "\r\n--B\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        "From: SecondOp <care@secondop.example>\r\n"
        "To: records@mercy.example\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: Request for medical records\r\n"
        "\r\n--B--\r\n"
    ).encode()


REF = "3f2b8a9c-1d4e-4f5a-9b6c-7d8e9f0a1b2c"


def test_a_returned_message_names_what_failed_and_how():
    [bounce] = mailing.read_bounce(dsn(f"<records-request-{REF}@secondop.example>"))
    assert (bounce.kind, bounce.ref, bounce.status) == ("records-request", REF, "5.1.1")
    assert bounce.description == "SMTP 5.1.1"  # never the server's words (the address)
    assert "mercy" not in repr(bounce)


def test_a_delay_a_success_or_something_else_is_no_bounce():
    message_id = f"<share-{REF}@secondop.example>"
    assert mailing.read_bounce(dsn(message_id, status="4.2.2", action="delayed")) == []
    assert mailing.read_bounce(dsn(message_id, status="2.0.0", action="delivered")) == []
    assert mailing.read_bounce(dsn("<someone-elses@gmail.com>")) == []
    assert mailing.read_bounce(b"Subject: hello\r\n\r\nnot a report") == []
    assert mailing.read_bounce(b"\x00\xff garbage") == []


@pytest.fixture
def hook(settings, client):
    settings.MAIL_BOUNCE_TOKEN = "hook-secret-123"
    seen = []
    mailing.on_bounce("test-kind", lambda bounce: seen.append(bounce) or True)

    def post(body, token="hook-secret-123", **headers):
        return client.post(
            "/hooks/mail/bounces",
            body,
            content_type="message/rfc822",
            headers={"Authorization": f"Bearer {token}", **headers},
        )

    yield post, seen
    mailing._handlers.pop("test-kind", None)


def test_the_hook_hands_each_bounce_to_its_app(hook):
    post, seen = hook
    response = post(dsn(f"<test-kind-{REF}@secondop.example>"))
    assert response.status_code == 200 and response.json() == {"changed": 1}
    assert [b.ref for b in seen] == [REF]
    assert post(dsn(f"<unknown-kind-{REF}@secondop.example>")).json() == {"changed": 0}


def test_the_hook_is_closed_without_its_token(hook, client, settings):
    post, seen = hook
    body = dsn(f"<test-kind-{REF}@secondop.example>")
    assert post(body, token="wrong").status_code == 404
    assert client.get("/hooks/mail/bounces").status_code == 405
    assert post(bytes(mailing.BOUNCE_MAX_BYTES + 1)).status_code == 413
    settings.MAIL_BOUNCE_TOKEN = ""
    assert post(body, token="").status_code == 404
    assert seen == []
