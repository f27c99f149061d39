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
