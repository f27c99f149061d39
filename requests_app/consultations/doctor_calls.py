"""A call between the doctors (issue 21, item 3): when the specialist's opinion
differs from the first doctor's, the patient (from their report) or their doctor
(through their link, with the patient's consent on the share) asks for a
telephone call between the specialist and the patient's doctor.

    requested -> proposed (a round of times; a new round replaces it) -> booked
              -> held | missed (with a note the patient reads)

The specialist proposes times as for a consultation (the same checks: at least
two, in the future, no overlap, not when they are booked elsewhere). The doctor
has no account: a link of their own, emailed by a task when times are proposed
(its token made in the worker, only its hash kept, as for the report's link),
opens a page where they pick a time and leave the number to ring. The link obeys
the share: withdrawn, expired, the request withdrawn, or the patient's consent
taken back, and it shows nothing of the case.

Every write locks the case and the call, checks its own preconditions, and
writes the audit row and the notifications in the same transaction. The
doctor's writes are audited with no actor and the path without the token."""

from __future__ import annotations

import datetime
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from requests_app.access import Relation, for_viewer
from requests_app.aftercare import consent
from requests_app.aftercare.models import Share
from requests_app.aftercare.selectors import released_version, token_hash
from requests_app.aftercare.services import (
    ConsentWithdrawn,
    Refusal,
    ShareRefused,
    count_bad_token,
    participating_share,
    path_without_token,
    too_many_bad_tokens,
)
from requests_app.aftercare.services.common import patient_case
from requests_app.models import Case, CaseStatus
from requests_app.times import patient_zone_name
from requests_app.workflow import OWNER, SPECIALIST_ASSIGNED, Notice, send_notices
from secondop import mailing
from secondop.audit.context import Source, audit_source, current_source
from secondop.audit.services import log_access, log_event
from secondop.notifications.services import CalendarInvite
from secondop.queueing import queue_now, queue_on_commit
from secondop.refusals import Refusal as BaseRefusal

from . import ics
from .models import DOCTOR_CALL_OPEN, DoctorCall, DoctorCallSlot
from .models import DoctorCallStatus as Status
from .notices import DOCTOR_CALL
from .services import NOTE_MAX, _taken_errors, slot_errors

if TYPE_CHECKING:
    from secondop.accounts.models import User

logger = logging.getLogger(__name__)

# Queued by name: the tasks module imports this one, never the other way round.
INVITE_TASK = "requests_app.consultations.tasks.doctor_call_invite_task"
# How long a worker owns an invitation it is sending (above the task's time limit).
INVITE_LEASE = timedelta(seconds=60)
# The report is with the patient and the case open: the doctors may still talk.
ASKING_STATES = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP})
PHONE_MAX = 40
SPECIALIST = frozenset({Relation.ASSIGNED_SPECIALIST})
STAFF = frozenset({Relation.CASE_MANAGER, Relation.ASSIGNED_SPECIALIST})
_TEAM = frozenset({Relation.OWNER, Relation.CASE_MANAGER, Relation.ASSIGNED_SPECIALIST})


class DoctorCallError(BaseRefusal):
    """A refusal fit to show the person. `errors` maps fields ("share", "topic",
    "slot", "phone", "outcome", "note", "slots", "slots.<i>.<date|start|end>") to
    messages."""


# --- Telling people (the emails say what happened, never anything medical) -------------
_SEE = gettext_lazy("See your request")
NOTICE_ASKED_BY_PATIENT = (
    Notice(
        DOCTOR_CALL,
        SPECIALIST_ASSIGNED,
        gettext_lazy("The patient asked for a call between you and their doctor on %(ref)s"),
        gettext_lazy("A call with the patient's doctor is asked for (%(ref)s)"),
        gettext_lazy(
            "The patient asked for a telephone call between you and their own doctor on "
            "%(ref)s. Please propose times on the call's page."
        ),
        gettext_lazy("Propose times"),
    ),
    Notice(
        DOCTOR_CALL,
        OWNER,
        gettext_lazy("You asked for a call between the specialist and your doctor on %(ref)s"),
        gettext_lazy("You asked for a call between your doctors (%(ref)s)"),
        gettext_lazy(
            "You asked for a call between the specialist and your doctor. The specialist "
            "will propose times, and your doctor chooses one. We will tell you when it is "
            "booked."
        ),
        _SEE,
    ),
)
NOTICE_ASKED_BY_PHYSICIAN = (
    Notice(
        DOCTOR_CALL,
        SPECIALIST_ASSIGNED,
        gettext_lazy("The patient's doctor asked for a call with you on %(ref)s"),
        gettext_lazy("A call with the patient's doctor is asked for (%(ref)s)"),
        gettext_lazy(
            "The doctor the patient shared the report with asked for a telephone call with "
            "you on %(ref)s. Please propose times on the call's page."
        ),
        gettext_lazy("Propose times"),
    ),
    Notice(
        DOCTOR_CALL,
        OWNER,
        gettext_lazy("Your doctor asked for a call with the specialist on %(ref)s"),
        gettext_lazy("Your doctor asked for a call with the specialist (%(ref)s)"),
        gettext_lazy(
            "The doctor you shared your report with asked for a call with the specialist. "
            "We will tell you when it is booked."
        ),
        _SEE,
    ),
)
NOTICE_BOOKED = (
    Notice(
        DOCTOR_CALL,
        SPECIALIST_ASSIGNED,
        gettext_lazy("The call with the patient's doctor on %(ref)s is booked"),
        gettext_lazy("A call with the patient's doctor is booked (%(ref)s)"),
        gettext_lazy(
            "The patient's doctor chose a time for your call on %(ref)s. The time and the "
            "number to ring are on the call's page."
        ),
        gettext_lazy("See the call"),
    ),
    Notice(
        DOCTOR_CALL,
        OWNER,
        gettext_lazy("The call between your doctors on %(ref)s is booked"),
        gettext_lazy("The call between your doctors is booked (%(ref)s)"),
        gettext_lazy(
            "Your doctor chose a time for their call with the specialist. The time is on "
            "your request's page."
        ),
        _SEE,
    ),
)
NOTICE_RECORDED = (
    Notice(
        DOCTOR_CALL,
        OWNER,
        gettext_lazy("The specialist recorded the call with your doctor on %(ref)s"),
        gettext_lazy("The call between your doctors is recorded (%(ref)s)"),
        gettext_lazy(
            "The specialist recorded whether the call with your doctor took place, with a "
            "short note for you. It is on your request's page."
        ),
        gettext_lazy("Read the note"),
    ),
)


def _call_page(call: DoctorCall):
    """The specialist's notifications lead to the call's page; the patient's to theirs."""
    url = reverse("consultations:doctor_call", args=[call.uuid])

    def url_for(case: Case, user: User) -> str:
        if user.pk == case.owner_id:
            return reverse("requests_app:case_detail", args=[case.uuid])
        return url

    return url_for


def _audit_as_physician(**event) -> None:
    """The doctor's write: no actor, the share as the object, the path without the
    token (a log has more readers than the link was for)."""
    source = current_source() or Source(via="web")
    with audit_source(source.via, ip=source.ip, path=path_without_token(source.path)):
        log_event(actor=None, **event)


# --- Who may ask ---------------------------------------------------------------------
def offered(*, case: Case) -> bool:
    """The call is offered when the specialist's opinion differs from the first
    doctor's (the report's side-by-side view: another diagnosis, none without more
    tests, changed or other treatment) and the report is with the patient."""
    if case.status not in ASKING_STATES or case.specialist_id is None:
        return False
    version = released_version(case=case)
    return version is not None and version.differs


def call_shares(*, case: Case) -> list[Share]:
    """The links through which a doctor may be called: sent, in force, with the
    patient's consent that the doctor takes part (a call included)."""
    now = timezone.now()
    shares = Share.objects.filter(
        report__case=case,
        sent_at__isnull=False,
        revoked_at__isnull=True,
        expires_at__gt=now,
        participation_withdrawn_at__isnull=True,
    ).exclude(participation_consent_version="")
    return [s for s in shares if s.may(consent.CALL)]


def open_call(*, case: Case) -> DoctorCall | None:
    return DoctorCall.objects.filter(case=case, status__in=DOCTOR_CALL_OPEN).first()


def refusal(*, case: Case) -> str:
    """Why no call can be asked for now, or ""."""
    if not offered(case=case):
        return _(
            "A call between the doctors can be asked for once the report is with the "
            "patient, when the specialist's opinion differs from the first doctor's."
        )
    if open_call(case=case) is not None:
        return _("A call between the doctors is already being arranged.")
    return ""


def _clean(text: str) -> str:
    return (text or "").strip()


def _too_long(text: str, limit: int) -> str:
    extra = len(text.replace("\r\n", "\n")) - limit
    return _("You have %(n)s characters too many.") % {"n": f"{extra:,}"} if extra > 0 else ""


def _new_call(*, case: Case, share: Share, asked_by: str, topic: str) -> DoctorCall:
    assert case.specialist_id is not None  # offered() checked it
    return DoctorCall.objects.create(
        case=case,
        share=share,
        specialist_id=case.specialist_id,
        asked_by=asked_by,
        topic=topic,
        time_zone=patient_zone_name(case),
    )


# --- Asking for the call -------------------------------------------------------------
@transaction.atomic
def doctor_call_request(
    *, actor: User, case_ref: UUID | str, share_ref: UUID | str, topic: str = ""
) -> DoctorCall:
    """The patient asks for a call between the specialist and the doctor they sent
    their report to (`share_ref`). A double submit returns the call it made."""
    case = patient_case(actor=actor, case_ref=case_ref)
    topic = _clean(topic)
    existing = open_call(case=case)
    if existing is not None and existing.share.uuid == _uuid_or_none(share_ref):
        return existing
    if why := refusal(case=case):
        raise DoctorCallError(why, status=409)
    share = next((s for s in call_shares(case=case) if str(s.uuid) == str(share_ref)), None)
    if share is None:
        raise DoctorCallError(
            _("Please correct the problems below."),
            {"share": [_("Choose the doctor the specialist should call.")]},
        )
    if message := _too_long(topic, NOTE_MAX):
        raise DoctorCallError(_("Please correct the problems below."), {"topic": [message]})
    call = _new_call(case=case, share=share, asked_by=DoctorCall.AskedBy.PATIENT, topic=topic)
    log_event(
        actor=actor,
        action="consultations.doctor_call.requested",
        obj=call,
        new={"case": case.reference, "share": str(share.uuid), "asked_by": call.asked_by},
    )
    send_notices(case, NOTICE_ASKED_BY_PATIENT, actor=actor, url_for=_call_page(call))
    return call


def _physician_share(token: str, what: str) -> Share:
    """The share of a physician's token, locked, usable, with the patient's consent
    covering `what`; ShareRefused (ConsentWithdrawn) otherwise."""
    share = participating_share(token=token, lock=True)
    if not share.may(what):
        raise ConsentWithdrawn(share)
    return share


@transaction.atomic
def doctor_call_request_by_physician(*, token: str, topic: str = "") -> DoctorCall:
    """The doctor asks, through their link, for a call with the specialist."""
    share = _physician_share(token, consent.CALL)
    case = share.report.case
    topic = _clean(topic)
    existing = open_call(case=case)
    if existing is not None and existing.share_id == share.pk:
        return existing
    if why := refusal(case=case):
        raise DoctorCallError(why, status=409)
    if message := _too_long(topic, NOTE_MAX):
        raise DoctorCallError(_("Please correct the problems below."), {"topic": [message]})
    call = _new_call(case=case, share=share, asked_by=DoctorCall.AskedBy.PHYSICIAN, topic=topic)
    _audit_as_physician(
        action="consultations.doctor_call.requested",
        obj=share,
        new={"case": case.reference, "call": str(call.uuid), "asked_by": call.asked_by},
    )
    send_notices(case, NOTICE_ASKED_BY_PHYSICIAN, actor=None, url_for=_call_page(call))
    return call


# --- The specialist proposes times --------------------------------------------------------
def call_for_viewer(
    *, viewer: User, ref: UUID | str, needs=STAFF, for_update: bool = False
) -> DoctorCall:
    """The call for the care team: a 404 for anyone outside it, a 403 for those in it
    whose relation is not in `needs` (the patient follows the call on their case
    page; the case manager reads this one; the assigned specialist acts)."""
    return for_viewer(
        DoctorCall,
        ref,
        viewer,
        sees=_TEAM,
        needs=needs,
        for_update=for_update,
        queryset=DoctorCall.objects.select_related("share", "specialist"),
    )


def _specialist_call(actor: User, ref: UUID | str) -> DoctorCall:
    return for_viewer(
        DoctorCall,
        ref,
        actor,
        sees=_TEAM,
        needs=SPECIALIST,
        for_update=True,
        queryset=DoctorCall.objects.select_related("share"),
    )


def doctor_call_propose(
    *, actor: User, ref: UUID | str, slots: list[tuple[datetime.datetime, datetime.datetime]]
) -> DoctorCall:
    """The assigned specialist proposes two or more times (aware datetimes). A new
    round replaces the times before it, and the doctor is emailed a new link."""
    with transaction.atomic():
        call = _specialist_call(actor, ref)
        case = call.case
        if call.status not in (Status.REQUESTED, Status.PROPOSED):
            raise DoctorCallError(
                _("This call is booked or over: its times can no longer change."), status=409
            )
        if case.status not in ASKING_STATES:
            raise DoctorCallError(_("This request is closed."), status=409)
        zone = ZoneInfo(call.time_zone)
        errors = slot_errors(slots, now=timezone.now())
        for key, problems in _taken_errors(
            slots, specialist=actor, zone=zone, exclude=None
        ).items():
            errors.setdefault(key, []).extend(problems)
        for i, (start, end) in enumerate(slots):
            if calls_overlapping(specialist=actor, starts_at=start, ends_at=end).exists():
                errors.setdefault(f"slots.{i}.start", []).append(
                    _("You already have a call with a doctor booked then. Choose another time.")
                )
        if errors:
            raise DoctorCallError(_("Please correct the problems below."), errors)
        call.status = Status.PROPOSED
        call.round += 1
        call.sequence += 1
        call.save(update_fields=["status", "round", "sequence", "updated_at"])
        DoctorCallSlot.objects.bulk_create(
            DoctorCallSlot(call=call, round=call.round, starts_at=start, ends_at=end)
            for start, end in sorted(slots)
        )
        log_event(
            actor=actor,
            action="consultations.doctor_call.proposed",
            obj=call,
            new={"case": case.reference, "round": call.round, "times": len(slots)},
        )
        queue_on_commit(INVITE_TASK, call.pk)
    return call


def calls_overlapping(*, specialist: User, starts_at, ends_at, exclude=None):
    rows = DoctorCall.objects.filter(
        specialist=specialist,
        status=Status.BOOKED,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    return rows.exclude(pk=exclude.pk) if exclude is not None else rows


def offered_slots(call: DoctorCall) -> list[DoctorCallSlot]:
    """The times the doctor may choose now: this round's, still in the future."""
    if call.status != Status.PROPOSED:
        return []
    return list(call.slots.filter(round=call.round, starts_at__gt=timezone.now()))


# --- The doctor's link -------------------------------------------------------------------
def invite_url(token: str) -> str:
    return settings.SITE_URL + reverse("doctor_call:physician", args=[token])


def invite_enqueue(*, call_id: int) -> None:
    queue_now(INVITE_TASK, call_id)


class InviteFailed(Exception):
    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.transient = transient


def doctor_call_invite_send(*, call_id: int) -> str:
    """Email the doctor the link to choose a time, once per round of times. Safe to
    run any number of times, even at once: a conditional update claims the round
    (and gives the call a new token, so only the newest email's link opens). The
    token is made here and leaves the worker only in the email."""
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    claimed = DoctorCall.objects.filter(
        Q(invite_claimed_until__isnull=True) | Q(invite_claimed_until__lte=now),
        pk=call_id,
        status=Status.PROPOSED,
        invite_sent_round__lt=F("round"),
        share__revoked_at__isnull=True,
        share__participation_withdrawn_at__isnull=True,
    ).update(token_hash=token_hash(token), invite_claimed_until=now + INVITE_LEASE)
    if not claimed:
        return "nothing to send"
    call = DoctorCall.objects.select_related("share").get(pk=call_id)
    try:
        accepted = _send_invite(call, token)
    except Exception as exc:
        DoctorCall.objects.filter(pk=call_id).update(invite_claimed_until=None)
        transient = mailing.is_transient(exc)
        logger.warning("Doctor call invitation %s failed: %s", call_id, mailing.failure_code(exc))
        raise InviteFailed(mailing.failure_code(exc), transient=transient) from exc
    if not accepted:
        DoctorCall.objects.filter(pk=call_id).update(invite_claimed_until=None)
        raise InviteFailed("No recipient accepted", transient=False)
    DoctorCall.objects.filter(pk=call_id).update(
        invite_sent_round=call.round, invite_claimed_until=None
    )
    return "sent"


def _send_invite(call: DoctorCall, token: str) -> int:
    with translation.override(call.share.language):  # as the patient chose for their doctor
        return _send_invite_now(call, token)


def _send_invite_now(call: DoctorCall, token: str) -> int:
    # No medical detail, no patient's name: that a patient's specialist would like
    # to talk with them, and where to choose a time.
    context = {"url": invite_url(token), "support_email": settings.SECONDOP_SUPPORT_EMAIL}
    subject = " ".join(
        render_to_string("consultations/email/doctor_call_subject.txt", context).split()
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("consultations/email/doctor_call_message.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[call.share.recipient_email],
        headers={"Message-ID": mailing.message_id(f"doctor-call-{call.uuid}-{call.round}")},
    )
    message.attach_alternative(
        render_to_string("consultations/email/doctor_call_message.html", context), "text/html"
    )
    return message.send()


def invites_due(*, older_than: timedelta = timedelta(seconds=60)) -> list[int]:
    """Rounds of times whose email a lost task never sent."""
    now = timezone.now()
    return list(
        DoctorCall.objects.filter(
            Q(invite_claimed_until__isnull=True) | Q(invite_claimed_until__lte=now),
            status=Status.PROPOSED,
            invite_sent_round__lt=F("round"),
            updated_at__lte=now - older_than,
        ).values_list("pk", flat=True)[:200]
    )


@dataclass(frozen=True)
class Opened:
    call: DoctorCall
    share: Share
    case: Case


def doctor_call_open(*, token: str, lock: bool = False) -> Opened:
    """The call the doctor's token opens, or ShareRefused: the share's own refusals
    (withdrawn, expired, the request withdrawn) and the patient's consent taken
    back (ConsentWithdrawn), so nothing of the case shows."""
    call = None
    if token and len(token) <= 100:
        call = (
            DoctorCall.objects.select_related("share__report__case", "specialist")
            .filter(token_hash=token_hash(token))
            .first()
        )
    if call is None:
        if too_many_bad_tokens():
            raise ShareRefused(Refusal.TOO_MANY)
        count_bad_token()
        raise ShareRefused(Refusal.UNKNOWN)
    if lock:
        Case.objects.select_for_update().filter(pk=call.case_id).first()
        call = (
            DoctorCall.objects.select_for_update(of=("self",))
            .select_related("share__report__case", "specialist")
            .get(pk=call.pk)
        )
    share = call.share
    if share.revoked_at is not None or share.report.case.status == CaseStatus.WITHDRAWN:
        raise ShareRefused(Refusal.REVOKED, share)
    if share.is_expired:
        raise ShareRefused(Refusal.EXPIRED, share)
    if not share.may(consent.CALL):
        raise ConsentWithdrawn(share)
    return Opened(call=call, share=share, case=share.report.case)


def doctor_call_view(*, token: str) -> Opened:
    """The doctor's page opened: in the access log (no account, the share as the
    object, the path without the token)."""
    opened = doctor_call_open(token=token)
    source = current_source() or Source(via="web")
    with audit_source(source.via, ip=source.ip, path=path_without_token(source.path)):
        log_access(viewer=None, obj=opened.share)
    return opened


def doctor_call_book(*, token: str, slot_ref: UUID | str, phone: str) -> DoctorCall:
    """The doctor picks one of the times offered and leaves the number to ring. The
    specialist gets the calendar file; the patient is told. Choosing the same time
    again changes nothing."""
    phone = " ".join((phone or "").split())
    errors: dict[str, list[str]] = {}
    if not phone:
        errors["phone"] = [_("Enter the number the specialist should ring.")]
    elif len(phone) > PHONE_MAX or sum(ch.isdigit() for ch in phone) < 6:
        errors["phone"] = [_("Enter a telephone number, like 617 555 0100.")]
    with transaction.atomic():
        opened = doctor_call_open(token=token, lock=True)
        call = opened.call
        slot = DoctorCallSlot.objects.filter(call=call, uuid=_uuid_or_none(slot_ref)).first()
        if call.status == Status.BOOKED and slot is not None and call.starts_at == slot.starts_at:
            return call  # a double click
        if call.status != Status.PROPOSED:
            raise DoctorCallError(
                _("This call is already booked or over: see its time below."), status=409
            )
        if slot is None or slot.round != call.round:
            errors["slot"] = [_("Choose one of the times offered.")]
        elif slot.starts_at <= timezone.now():
            errors["slot"] = [_("This time has passed: choose another.")]
        if errors:
            raise DoctorCallError(_("Please correct the problems below."), errors)
        assert slot is not None
        if calls_overlapping(
            specialist=call.specialist, starts_at=slot.starts_at, ends_at=slot.ends_at
        ).exists() or _taken_errors(
            [(slot.starts_at, slot.ends_at)],
            specialist=call.specialist,
            zone=ZoneInfo(call.time_zone),
            exclude=None,
        ):
            raise DoctorCallError(
                _("Please correct the problems below."),
                {"slot": [_("This time has just been taken. Choose another.")]},
            )
        call.status = Status.BOOKED
        call.starts_at, call.ends_at = slot.starts_at, slot.ends_at
        call.booked_at = timezone.now()
        call.physician_phone = phone
        call.sequence += 1
        call.save(
            update_fields=[
                "status",
                "starts_at",
                "ends_at",
                "booked_at",
                "physician_phone",
                "sequence",
                "updated_at",
            ]
        )
        _audit_as_physician(
            action="consultations.doctor_call.booked",
            obj=opened.share,
            new={"call": str(call.uuid), "starts_at": slot.starts_at.isoformat()},
        )
        send_notices(
            opened.case,
            NOTICE_BOOKED,
            actor=None,
            url_for=_call_page(call),
            calendar=lambda user: _invite_for(call, user),
        )
    return call


def _invite_for(call: DoctorCall, user: User) -> CalendarInvite | None:
    # The calendar file is the specialist's: the patient is not on the call.
    if user.pk != call.specialist_id:
        return None
    return CalendarInvite(
        ics=ics.doctor_call_ics(
            call,
            method=ics.REQUEST,
            page=settings.SITE_URL + reverse("consultations:doctor_call", args=[call.uuid]),
            attendee_email=user.email,
            attendee_name=user.full_name,
        ),
        method=ics.REQUEST,
    )


def _uuid_or_none(value) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


# --- The specialist records what happened ------------------------------------------------
OUTCOMES = (Status.HELD, Status.MISSED)


def doctor_call_record_outcome(
    *, actor: User, ref: UUID | str, outcome: str, note: str
) -> DoctorCall:
    """Held or missed, once its time has come, with a short note the patient reads."""
    note = _clean(note)
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = [_("Say whether the call took place.")]
    if not note:
        errors["note"] = [_("Write a short note for the patient: they read it.")]
    elif message := _too_long(note, NOTE_MAX):
        errors["note"] = [message]
    if errors:
        raise DoctorCallError(_("Please correct the problems below."), errors)
    with transaction.atomic():
        call = _specialist_call(actor, ref)
        if call.status == outcome:
            return call  # a double click
        if call.status != Status.BOOKED:
            raise DoctorCallError(_("Only a booked call can be recorded."), status=409)
        assert call.starts_at is not None  # doctor_call_booked_has_time
        if call.starts_at > timezone.now():
            raise DoctorCallError(
                _("This call has not started yet. Record it once it has taken place."),
                status=409,
            )
        call.status = outcome
        call.outcome_note = note
        call.outcome_at = timezone.now()
        call.save(update_fields=["status", "outcome_note", "outcome_at", "updated_at"])
        # The note is for the patient and may be medical: the audit row says there is one.
        log_event(
            actor=actor,
            action=f"consultations.doctor_call.{outcome}",
            obj=call,
            old={"status": Status.BOOKED},
            new={"status": outcome, "note": True},
        )
        send_notices(call.case, NOTICE_RECORDED, actor=actor, url_for=_call_page(call))
    return call


# --- Reads ----------------------------------------------------------------------------
def calls_for_case(*, case: Case) -> list[DoctorCall]:
    """The case's calls between the doctors, newest first (for the care team's and
    the patient's panels: the case came through the access rule)."""
    return list(DoctorCall.objects.filter(case=case).select_related("share", "specialist").all())
