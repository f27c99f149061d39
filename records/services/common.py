"""What the records services share: the refusal, the statuses, deleting a record's
objects after commit, and the words of the emails."""

from __future__ import annotations

import logging

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from requests_app.models import Case, CaseStatus
from secondop.notifications.services import EmailText
from secondop.refusals import Refusal

from .. import storage

S = CaseStatus
log = logging.getLogger(__name__)


class RecordError(Refusal):
    """A records refusal fit to show a person (message, field errors, status)."""


def remove_later(prefix: str) -> None:
    """After commit, delete everything under a record's prefix. Storage not answering
    must not turn a done change into an error page: the failure is logged with the
    prefix (no PHI in it) for the operator to remove."""

    def remove() -> None:
        try:
            storage.delete_under(prefix)
        except Exception:
            log.warning("could not delete %s now; the sweep will", prefix, exc_info=True)

    transaction.on_commit(remove)


def escaped(text: str) -> str:
    """A name as given, every non-ASCII character written as its escape (U+202E as
    \\u202e), for the audit log."""
    return text[:1000].encode("unicode_escape").decode("ascii")


def case_name(case: Case) -> str:
    """How a notification names the case: its reference, or "your draft request"."""
    return case.reference or _("your draft request")


def human_size(size: int) -> str:
    value: float = size
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return ""


def email_text(case: Case, subject: str, sentence: str, action: str) -> EmailText:
    """The email's words (no medical detail: never a record's title or a note)."""
    ref = {"ref": case.reference or ""}
    return EmailText(subject=subject % ref, sentence=sentence % ref, action=action)


def records_url(case: Case) -> str:
    return reverse("records:case_records", args=[case.uuid])
