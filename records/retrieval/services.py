"""Writes for records retrieval: list a source (the patient or the case manager),
change or remove it before it is asked, the patient's signature on the access
request, sending it (by email: a task with a lease; by fax or post: recorded), the
records office's extension, what arrived, and the case manager's reminders.

Every service loads the case through the access module (a 404 to outsiders) with
the case and source rows locked, checks its own preconditions, and writes the audit
row (and any notification) in the same transaction."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import re
import smtplib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from requests_app.access import Relation, case_for_viewer
from requests_app.models import CLOSED_STATES, Case, CaseStatus
from requests_app.workflow import send_notices
from secondop import mailing
from secondop.audit.context import current_ip
from secondop.audit.services import log_event
from secondop.queueing import queue_now, queue_on_commit
from secondop.refusals import Refusal

from . import letter, selectors
from .models import Kind, Received, RecordSource, SentBy, Wanted
from .notices import NOTICE_REMINDER, NOTICE_SIGNED
from .office_services import link_issue, office_url
from .pdf import letter_filename, render_letter

if TYPE_CHECKING:
    from secondop.accounts.models import User

logger = logging.getLogger(__name__)

# Queued by name: the tasks module imports this one, never the other way round.
SEND_TASK = "records.retrieval.tasks.source_email_send_task"

NAME_MAX = 150
ADDRESS_MAX = 400
NOTE_MAX = 500
# A fax number as people write it: digits, spaces, +, -, dots, brackets.
FAX = re.compile(r"^\+?[0-9 ().-]{7,30}$")
# How long a worker owns a source whose email it is sending: longer than the task's
# time limit (45 s), short enough that a dead worker's email goes again soon.
SEND_LEASE = datetime.timedelta(seconds=60)
MAX_SEND_ATTEMPTS = 8


CONTACT_MISSING = gettext_lazy(
    "Give at least one way to reach its records office: an email address, a fax number or a "
    "postal address."
)


class RetrievalError(Refusal):
    """A refusal fit to show a person. `errors` maps form fields to messages;
    `status` 409 when the source is no longer where the form thought."""


# --- Checks -----------------------------------------------------------------------------
def _open_case(case: Case) -> None:
    if case.status in CLOSED_STATES:
        raise RetrievalError(
            _("This request has ended, so its records requests can no longer be changed."),
            status=409,
        )


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def _details_errors(
    *, name: str, kind: str, email: str, fax: str, postal_address: str, wanted: list[str]
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Enter the name of the hospital, clinic or lab.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("Keep the name to %(n)s characters.") % {"n": NAME_MAX}]
    if kind not in Kind.values:
        errors["kind"] = [_("Choose what kind of place it is.")]
    if email:
        try:
            validate_email(email)
        except Exception:
            errors["email"] = [_("Enter the email address like name@hospital.org.")]
    if fax and not FAX.match(fax):
        errors["fax"] = [_("Enter the fax number with its area code, like 617 555 0100.")]
    if len(postal_address) > ADDRESS_MAX:
        errors["postal_address"] = [_("Keep the address to %(n)s characters.") % {"n": ADDRESS_MAX}]
    if not (email or fax or postal_address):
        errors["__all__"] = [str(CONTACT_MISSING)]
    if not wanted:
        errors["wanted"] = [_("Tick at least one kind of record to ask for.")]
    elif set(wanted) - set(Wanted.values):
        errors["wanted"] = [_("Choose the records from the list.")]
    return errors


def _details(
    *, name: str, kind: str, email: str, fax: str, postal_address: str, wanted: list[str]
) -> dict:
    data: dict[str, Any] = {
        "name": _clean(name),
        "kind": kind,
        "email": (email or "").strip(),
        "fax": _clean(fax),
        "postal_address": "\n".join(
            line.strip() for line in (postal_address or "").strip().splitlines() if line.strip()
        ),
        # In the letter's order, each once.
        "wanted": [w.value for w in Wanted if w.value in set(wanted or [])],
    }
    errors = _details_errors(**{**data, "wanted": list(wanted or [])})
    if errors:
        raise RetrievalError(_("Please correct the problems below."), errors)
    return data


def _source(
    actor: User, ref: UUID | str, needs: frozenset[Relation] = selectors.SEES
) -> RecordSource:
    """The source and its case, both locked; the case's 404 to outsiders."""
    source = selectors.source_for_viewer(viewer=actor, ref=ref, needs=needs, for_update=True)
    _open_case(source.case)
    return source


_CASE_MANAGER = frozenset({Relation.CASE_MANAGER})
_OWNER = frozenset({Relation.OWNER})


# --- Listing sources ----------------------------------------------------------------------
@transaction.atomic
def source_add(
    *,
    actor: User,
    case_ref: UUID | str,
    name: str,
    kind: str,
    email: str = "",
    fax: str = "",
    postal_address: str = "",
    wanted: list[str],
) -> RecordSource:
    """The patient, or their case manager from what the patient says, lists a place
    that holds records and what to ask it for."""
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
    if not selectors.sees_sources(viewer=actor, case=case):
        raise PermissionDenied
    _open_case(case)
    data = _details(
        name=name, kind=kind, email=email, fax=fax, postal_address=postal_address, wanted=wanted
    )
    source = RecordSource.objects.create(case=case, added_by=actor, **data)
    source.case = case
    log_event(
        actor=actor,
        action="retrieval.source.added",
        obj=source,
        new={"case": case.reference, "kind": source.kind, "wanted": source.wanted},
    )
    return source


# What the letter names: changing it after signing needs a new signature.
_IN_THE_LETTER = ("name", "wanted")
_SIGNATURE = {"letter_version": "", "signed_name": "", "signed_at": None, "signed_ip": None}


@transaction.atomic
def source_update(
    *,
    actor: User,
    source_ref: UUID | str,
    name: str,
    kind: str,
    email: str = "",
    fax: str = "",
    postal_address: str = "",
    wanted: list[str],
) -> RecordSource:
    """Change a source before it is asked. A change to what the letter says (the
    source's name, the records wanted) takes the patient's signature off: they sign
    the new letter."""
    source = _source(actor, source_ref)
    if not source.is_editable:
        raise RetrievalError(
            _("This request has been sent, so the source can no longer be changed."), status=409
        )
    data = _details(
        name=name, kind=kind, email=email, fax=fax, postal_address=postal_address, wanted=wanted
    )
    old = {field: getattr(source, field) for field in data}
    changed = [field for field, value in data.items() if old[field] != value]
    if not changed:
        return source
    if source.is_signed and any(field in _IN_THE_LETTER for field in changed):
        data.update(_SIGNATURE)
        changed += list(_SIGNATURE)
    for field, value in data.items():
        setattr(source, field, value)
    source.save(update_fields=[*changed, "updated_at"])
    log_event(
        actor=actor,
        action="retrieval.source.changed",
        obj=source,
        old={f: old[f] for f in changed if f in old and f not in ("email", "fax")},
        new={
            "changed": changed,
            **{f: data[f] for f in changed if f in ("kind", "wanted")},
        },
    )
    return source


@transaction.atomic
def source_remove(*, actor: User, source_ref: UUID | str) -> None:
    """Remove a source nobody has asked yet (a mistake, a duplicate)."""
    source = _source(actor, source_ref)
    if not source.is_editable:
        raise RetrievalError(
            _("This request has been sent, so the source can no longer be removed."), status=409
        )
    log_event(
        actor=actor,
        action="retrieval.source.removed",
        obj=source,
        old={"case": source.case.reference, "kind": source.kind, "signed": source.is_signed},
    )
    source.delete()


# --- The patient signs ----------------------------------------------------------------------
def patient_name(case: Case) -> str:
    """The name the letter carries and the signature must match."""
    return case.patient_name or case.owner.full_name


def signature_mismatch(name: str) -> str:
    return _("Type the patient's full name exactly as the request gives it: %(name)s") % {
        "name": name
    }


def names_match(typed: str, name: str) -> bool:
    return _clean(typed).casefold() == _clean(name).casefold()


@transaction.atomic
def source_sign(
    *, actor: User, source_ref: UUID | str, signature: str, agreed: bool
) -> RecordSource:
    """The patient signs the request to one source: the letter's version, the name
    typed (the patient's, as the request names them), when, and from where."""
    source = _source(actor, source_ref, needs=_OWNER)
    case = source.case
    if not source.is_editable:
        raise RetrievalError(_("This request has already been sent."), status=409)
    if not case.patient_dob:
        raise RetrievalError(
            _(
                "The letter needs the patient's date of birth. Add it under “About the "
                "patient” first."
            ),
            status=409,
        )
    errors: dict[str, list[str]] = {}
    name = patient_name(case)
    if not agreed:
        errors["agree"] = [_("Tick the box to show you agree to the request.")]
    if not _clean(signature):
        errors["signature"] = [_("Type the patient's full name to sign.")]
    elif not names_match(signature, name):
        errors["signature"] = [signature_mismatch(name)]
    if errors:
        raise RetrievalError(_("Please correct the problems below."), errors)
    if source.is_signed and source.letter_version == letter.VERSION:
        return source  # a double submit
    source.letter_version = letter.VERSION
    source.signed_name = _clean(signature)
    source.signed_at = timezone.now()
    source.signed_ip = current_ip()
    source.save(update_fields=[*_SIGNATURE, "updated_at"])
    log_event(
        actor=actor,
        action="retrieval.source.signed",
        obj=source,
        new={"case": case.reference, "letter_version": source.letter_version},
    )
    if case.status != CaseStatus.DRAFT:
        send_notices(case, NOTICE_SIGNED, actor=actor)
    return source


# --- The case manager sends it ---------------------------------------------------------------
def _ready_to_send(source: RecordSource) -> None:
    if source.case.status == CaseStatus.DRAFT:
        raise RetrievalError(_("The request is not sent to SecondOp yet."), status=409)
    if not source.is_signed:
        raise RetrievalError(
            _("The patient has not signed this request yet: it cannot be sent."), status=409
        )
    if source.is_sent:
        raise RetrievalError(_("This request has already been sent."), status=409)
    if source.is_sending:
        raise RetrievalError(_("This request is being emailed already."), status=409)


@transaction.atomic
def source_send_email(*, actor: User, source_ref: UUID | str) -> RecordSource:
    """Email the signed letter to the records office. The email goes from a task
    queued on commit; a failure (a refused address) shows on the tracker."""
    source = _source(actor, source_ref, needs=_CASE_MANAGER)
    _ready_to_send(source)
    if not source.email:
        raise RetrievalError(
            _("This source has no email address: fax or post the letter instead."), status=409
        )
    source.email_queued_at = timezone.now()
    source.email_claimed_until = None
    source.email_attempts = 0
    source.email_failed_at = None
    source.email_failure_reason = ""
    source.save(
        update_fields=[
            "email_queued_at",
            "email_claimed_until",
            "email_attempts",
            "email_failed_at",
            "email_failure_reason",
            "updated_at",
        ]
    )
    # The address is the disclosure's recipient: the audit keeps it.
    log_event(
        actor=actor,
        action="retrieval.source.email_queued",
        obj=source,
        new={"case": source.case.reference, "email": source.email},
    )
    queue_on_commit(SEND_TASK, source.pk)
    return source


def _start_clock(source: RecordSource, *, sent_on: datetime.date) -> dict:
    return {
        "sent_on": sent_on,
        "due_on": sent_on + datetime.timedelta(days=selectors.ANSWER_DAYS),
    }


@transaction.atomic
def source_record_sent(
    *, actor: User, source_ref: UUID | str, how: str, sent_on: datetime.date
) -> RecordSource:
    """The case manager faxed or posted the letter themselves: how and on which day.
    The legal clock starts that day."""
    source = _source(actor, source_ref, needs=_CASE_MANAGER)
    _ready_to_send(source)
    today = selectors.today_for(source.case)
    errors: dict[str, list[str]] = {}
    if how not in (SentBy.FAX, SentBy.POST):
        errors["how"] = [_("Choose whether it was faxed or posted.")]
    if sent_on > today:
        errors["sent_on"] = [_("The day it was sent cannot be in the future.")]
    else:
        assert source.signed_at is not None  # _ready_to_send
        signed_on = timezone.localdate(source.signed_at, selectors._zone(source.case))
        if sent_on < signed_on:
            errors["sent_on"] = [
                _("The day it was sent cannot be before the patient signed it (%(day)s).")
                % {"day": date_format(signed_on, "DATE_FORMAT")}
            ]
    if errors:
        raise RetrievalError(_("Please correct the problems below."), errors)
    now = timezone.now()
    fields = {
        "sent_by": how,
        "sent_at": now,
        "sent_recorded_by": actor,
        "email_claimed_until": None,
        **_start_clock(source, sent_on=sent_on),
    }
    for field, value in fields.items():
        setattr(source, field, value)
    source.save(update_fields=[*fields, "updated_at"])
    log_event(
        actor=actor,
        action="retrieval.source.sent",
        obj=source,
        new={
            "case": source.case.reference,
            "by": how,
            "sent_on": sent_on.isoformat(),
            "due_on": fields["due_on"].isoformat(),
        },
    )
    return source


def source_enqueue(*, source_id: int) -> None:
    """Queue the records office's email now (the broker down: the sweep again)."""
    queue_now(SEND_TASK, source_id)


class SendFailed(Exception):
    """The email did not go this time; `transient` says whether to try again."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def source_email_send(*, source_id: int) -> str:
    """Email the letter to the records office. Safe to run any number of times, even
    at once: a conditional update claims the source only while its email is queued,
    unsent, not failed and not claimed by a live worker. Raises SendFailed when the
    email did not go; `transient` failures are for the task to retry."""
    now = timezone.now()
    claimable = Q(
        pk=source_id,
        email_queued_at__isnull=False,
        sent_at__isnull=True,
        email_failed_at__isnull=True,
    ) & (Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lte=now))
    claimed = RecordSource.objects.filter(claimable).update(
        email_claimed_until=now + SEND_LEASE, email_attempts=F("email_attempts") + 1
    )
    if not claimed:
        return "nothing to send"
    source = RecordSource.objects.select_related("case", "case__owner").get(pk=source_id)
    try:
        accepted = _send_letter(source)
    except Exception as exc:
        transient = mailing.is_transient(exc)
        reason = _describe(exc)
        logger.log(
            logging.WARNING if transient else logging.ERROR,
            "Records request email for source %s failed: %s",
            source_id,
            reason,
        )
        _send_failed(source, reason=reason, transient=transient)
        raise SendFailed(reason, transient=transient) from exc
    if not accepted:
        _send_failed(source, reason="No recipient accepted", transient=False)
        raise SendFailed("No recipient accepted", transient=False)
    with transaction.atomic():
        sent_at = timezone.now()
        clock = _start_clock(source, sent_on=selectors.today_for(source.case))
        done = RecordSource.objects.filter(pk=source_id, sent_at__isnull=True).update(
            sent_at=sent_at, sent_by=SentBy.EMAIL, email_claimed_until=None, **clock
        )
        if done:
            log_event(
                actor=None,
                action="retrieval.source.sent",
                obj=source,
                new={
                    "case": source.case.reference,
                    "by": SentBy.EMAIL,
                    "sent_on": clock["sent_on"].isoformat(),
                    "due_on": clock["due_on"].isoformat(),
                },
            )
    return "sent"


def _send_failed(source: RecordSource, *, reason: str, transient: bool) -> None:
    if transient and source.email_attempts < MAX_SEND_ATTEMPTS:
        # Free the claim at once: the retry (or the sweep) takes it again.
        RecordSource.objects.filter(pk=source.pk, sent_at__isnull=True).update(
            email_claimed_until=None
        )
        return
    with transaction.atomic():
        RecordSource.objects.filter(pk=source.pk, sent_at__isnull=True).update(
            email_claimed_until=None, email_failed_at=timezone.now(), email_failure_reason=reason
        )
        log_event(
            actor=None,
            action="retrieval.source.email_failed",
            obj=source,
            new={"case": source.case.reference, "reason": reason},
        )


def _describe(exc: BaseException) -> str:
    """The kind of failure and its SMTP code, for staff: servers echo the address
    in their messages, so never the message itself."""
    codes = ", ".join(map(str, mailing.refused_codes(exc)))
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _("the mail server refused the address (SMTP %(codes)s)") % {"codes": codes}
    if codes:
        return _("the mail server refused it (SMTP %(code)s)") % {"code": codes}
    return _("the mail server could not be reached (%(kind)s)") % {"kind": type(exc).__name__}


def _send_letter(source: RecordSource) -> int:
    # In English whoever sends it: it goes to a US records office, as its letter does.
    with translation.override(settings.LANGUAGE_CODE):
        return _send_letter_now(source)


def _send_letter_now(source: RecordSource) -> int:
    # The body says who asks and under which rule, and where to send: no patient's
    # name, no medical detail. Those are in the attached letter only.
    # Each attempt has its own link: only the one in the email that went out is known.
    upload_url = office_url(link_issue(source=source, actor=None))
    context = {
        "source": source,
        "upload_url": upload_url,
        "reference": source.case.reference,
        "recipient": letter.recipient(),
        "support_email": settings.SECONDOP_SUPPORT_EMAIL,
    }
    subject = " ".join(render_to_string("retrieval/email/letter_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("retrieval/email/letter_message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[source.email],
        reply_to=[settings.SECONDOP_RECORDS_EMAIL],
        headers={"Message-ID": mailing.message_id(f"records-request-{source.uuid}")},
    )
    message.attach(
        letter_filename(source), render_letter(source, upload_url=upload_url), "application/pdf"
    )
    return message.send()


@transaction.atomic
def source_email_bounced(bounce: mailing.Bounce) -> bool:
    """The records office's mail server returned the letter after accepting it (a
    delivery status notification, secondop.mailing): the request never reached
    them, so its clock had not started. The source goes back to "email not
    delivered" on the tracker, with the returned status, for the case manager to
    correct the address and send again, or fax or post it. A source that answered
    already (something arrived through its link, an extension recorded) is left
    alone: the letter plainly reached it."""
    source = (
        RecordSource.objects.select_for_update()
        .select_related("case")
        .filter(uuid=bounce.ref, sent_by=SentBy.EMAIL, sent_at__isnull=False)
        .first()
    )
    if source is None or source.received != Received.NOTHING or source.extended_at is not None:
        return False
    reason = _("the records office's mail server returned it (%(status)s)") % {
        "status": bounce.description
    }
    old = {"sent_on": source.sent_on.isoformat() if source.sent_on else "", "sent_by": "email"}
    source.sent_at = source.sent_on = source.due_on = None
    source.sent_by = ""
    source.reminders_sent = 0
    source.email_failed_at = timezone.now()
    source.email_failure_reason = reason[:200]
    source.save(
        update_fields=[
            "sent_at",
            "sent_on",
            "due_on",
            "sent_by",
            "reminders_sent",
            "email_failed_at",
            "email_failure_reason",
            "updated_at",
        ]
    )
    log_event(
        actor=None,
        action="retrieval.source.email_bounced",
        obj=source,
        old=old,
        new={"case": source.case.reference, "status": bounce.status},
    )
    return True


def source_emails_due_for_sweep(
    *, older_than: datetime.timedelta = datetime.timedelta(seconds=60), limit: int = 200
) -> list[int]:
    """Sources whose email a lost task never sent: queued, unsent, not failed, not
    claimed by a live worker."""
    now = timezone.now()
    return list(
        RecordSource.objects.filter(
            Q(email_claimed_until__isnull=True) | Q(email_claimed_until__lte=now),
            email_queued_at__isnull=False,
            email_queued_at__lte=now - older_than,
            sent_at__isnull=True,
            email_failed_at__isnull=True,
        )
        .exclude(case__status__in=CLOSED_STATES)
        .order_by("email_queued_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- The clock: an extension, what arrived ---------------------------------------------------
def _sent(source: RecordSource) -> None:
    if not source.is_sent:
        raise RetrievalError(_("This request has not been sent yet."), status=409)


@transaction.atomic
def source_extend(*, actor: User, source_ref: UUID | str, reason: str) -> RecordSource:
    """The records office told us it needs 30 more days (once, with its reason, as
    45 CFR 164.524(b)(2)(iii) allows): the due date moves by 30 days."""
    source = _source(actor, source_ref, needs=_CASE_MANAGER)
    _sent(source)
    reason = _clean(reason)
    if source.extended_at is not None:
        raise RetrievalError(
            _("The records office has had its one 30-day extension already."), status=409
        )
    if source.received == Received.FULLY:
        raise RetrievalError(_("Everything asked for has arrived."), status=409)
    if not reason:
        raise RetrievalError(
            _("Please correct the problems below."),
            {"reason": [_("Enter the reason the records office gave.")]},
        )
    if len(reason) > NOTE_MAX:
        raise RetrievalError(
            _("Please correct the problems below."),
            {"reason": [_("Keep the reason to %(n)s characters.") % {"n": NOTE_MAX}]},
        )
    assert source.due_on is not None  # sent
    old_due = source.due_on
    source.due_on = old_due + datetime.timedelta(days=selectors.EXTENSION_DAYS)
    source.extended_at = timezone.now()
    source.extension_reason = reason
    source.save(update_fields=["due_on", "extended_at", "extension_reason", "updated_at"])
    log_event(
        actor=actor,
        action="retrieval.source.extended",
        obj=source,
        old={"due_on": old_due.isoformat()},
        new={"due_on": source.due_on.isoformat()},
    )
    return source


@transaction.atomic
def source_mark_received(
    *, actor: User, source_ref: UUID | str, received: str, note: str = ""
) -> RecordSource:
    """The case manager says what arrived from this source: part of it, or all."""
    source = _source(actor, source_ref, needs=_CASE_MANAGER)
    _sent(source)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if received not in (Received.PARTLY, Received.FULLY):
        errors["received"] = [_("Choose whether part or all of it arrived.")]
    if len(note) > NOTE_MAX:
        errors["note"] = [_("Keep the note to %(n)s characters.") % {"n": NOTE_MAX}]
    if errors:
        raise RetrievalError(_("Please correct the problems below."), errors)
    if source.received == received and source.received_note == note:
        return source
    old = source.received
    source.received = received
    source.received_note = note
    source.received_at = timezone.now()
    source.save(update_fields=["received", "received_note", "received_at", "updated_at"])
    log_event(
        actor=actor,
        action="retrieval.source.received",
        obj=source,
        old={"received": old},
        new={"received": received},
    )
    return source


# --- What SecondOp does itself (records.retrieval.tasks) ----------------------------------------
def _stage(days: int) -> int:
    """How many of the reminder days (10, 20, 28) have come after `days` days."""
    return sum(1 for day in selectors.REMINDER_DAYS if days >= day)


def _fixed(values: dict) -> Callable[[Case, User], dict]:
    """A notice's details that are the same for every reader."""
    return lambda case, user: values


def source_reminders_send(*, today: datetime.date | None = None) -> int:
    """Remind the case manager of each request still not fully answered, on day 10,
    20 and 28 of its clock: one notification per reminder day reached (a sweep that
    missed day 10 and runs on day 21 sends one, for day 20). Safe to run at once in
    two workers: each reminder is claimed by a conditional update."""
    candidates = (
        RecordSource.objects.filter(
            sent_on__isnull=False, reminders_sent__lt=len(selectors.REMINDER_DAYS)
        )
        .exclude(received=Received.FULLY)
        .exclude(case__status__in=CLOSED_STATES)
        .values_list("pk", "sent_on", "reminders_sent")[:500]
    )
    sent = 0
    for pk, sent_on, done in candidates:
        source = RecordSource.objects.select_related("case").get(pk=pk)
        day_today = today or selectors.today_for(source.case)
        assert sent_on is not None  # filtered
        stage = _stage((day_today - sent_on).days)
        if stage <= done:
            continue
        with transaction.atomic():
            claimed = (
                RecordSource.objects.filter(pk=pk, reminders_sent=done)
                .exclude(received=Received.FULLY)
                .update(reminders_sent=stage)
            )
            if not claimed:
                continue  # another worker got there first, or it all arrived
            day = selectors.REMINDER_DAYS[stage - 1]
            assert source.due_on is not None
            due = date_format(source.due_on, "DATE_FORMAT")
            notices = tuple(
                dataclasses.replace(n, details=_fixed({"day": day, "due": due}))
                for n in NOTICE_REMINDER
            )
            log_event(
                actor=None,
                action="retrieval.source.reminded",
                obj=source,
                new={"case": source.case.reference, "day": day},
            )
            send_notices(source.case, notices, actor=None)
            sent += 1
    return sent


def can_change(*, case: Case) -> bool:
    """Sources are listed, changed and asked while the request is open."""
    return case.status not in CLOSED_STATES
