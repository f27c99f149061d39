"""The HIPAA right-of-access request a patient signs for one source: the patient
asks the source to send a copy of their records to SecondOp, the third party they
designate (45 CFR 164.524(c)(3)(ii)). Versioned: the version signed is stored, and a
change of wording is a new version (earlier signatures stay with their own)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from requests_app.models import Case

from .models import BY_POST, RecordSource, Wanted

VERSION = "2026-12-07"  # the records office's own upload link

TITLE = _("Request for access to health information, directed to a third party")


@dataclass(frozen=True)
class Recipient:
    """Where the source sends the copy: SecondOp's records office."""

    name: str
    email: str
    address: str


def recipient() -> Recipient:
    return Recipient(
        name=settings.SECONDOP_RECORDS_NAME,
        email=settings.SECONDOP_RECORDS_EMAIL,
        address=settings.SECONDOP_RECORDS_ADDRESS,
    )


def letter_context(source: RecordSource, case: Case, *, upload_url: str = "") -> dict:
    """What the letter says, for the sign page and the PDF alike; `upload_url` is the
    records office's own link, in the letter that leaves (never the patient's copy)."""
    wanted = [w for w in Wanted if w.value in source.wanted]
    return {
        "source": source,
        "case": case,
        "title": TITLE,
        "version": VERSION,
        "wanted": [str(w.label) for w in wanted],
        "by_post": [str(w.label) for w in wanted if w in BY_POST],
        "electronic": [str(w.label) for w in wanted if w not in BY_POST],
        "recipient": recipient(),
        "upload_url": upload_url,
    }
