"""Writes for consultations: propose times, propose new ones, book one, ask for
other times, cancel, decline (the patient), record what happened; the day-before
reminders and the cancelling of consultations whose request has closed.

Every service loads the case through the access rule with the case row and then
the consultation row locked, checks its own preconditions, writes the
consultation's event and the audit row, moves the case where the workflow says
(booked: in review -> consultation; held, missed or cancelled: back to review),
and writes the notifications with their calendar file, all in one transaction.
A repeat of what was just done (a double click) changes nothing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.access import Relation, case_for_viewer, case_relation
from requests_app.models import CLOSED_STATES, Case, CaseStatus
from requests_app.times import format_span, patient_zone_name
from requests_app.workflow import (
    NOTICE_CONSULTATION_BOOKED,
    NOTICE_CONSULTATION_CANCELLED,
    NOTICE_CONSULTATION_DECLINED,
    NOTICE_CONSULTATION_MISSED,
    NOTICE_CONSULTATION_NEW_TIMES,
    NOTICE_CONSULTATION_OTHER_TIMES,
    NOTICE_CONSULTATION_PROPOSED,
    NOTICE_CONSULTATION_REMINDER,
    case_transition,
    send_notices,
)
from secondop.accounts.models import User
from secondop.audit.services import audited_update, log_event
from secondop.languages import speaking_to
from secondop.notifications.services import CalendarInvite, EmailText, notify
from secondop.refusals import Refusal

from . import ics
from .models import OPEN_STATUSES, Action, Consultation, ConsultationEvent, Mode, Slot, Status
from .notices import CONSULTATION
from .selectors import (
    case_consultations,
    consultation_for_viewer,
    sees_consultations,
    specialist_bookings_overlapping,
)

S = CaseStatus

MIN_SLOTS = 2
MAX_SLOTS = 6
SHORTEST = timedelta(minutes=10)
LONGEST = timedelta(hours=3)
NOTE_MAX = 500
EXAM_NOTES_MAX = 5000
# The reminder goes this long before the booked time, once per booked time.
REMINDER_LEAD = timedelta(hours=24)
# Where the case must be for a consultation to be arranged or booked: with the
# specialist (records asked for during the review included).
ARRANGING = frozenset({S.IN_REVIEW, S.CONSULTATION, S.AWAITING_RECORDS})


class ConsultationError(Refusal):
    """A refusal fit to show a person. `errors` maps what was typed to messages:
    "place", "reason", "note", "notes", "outcome", "slot" (the time chosen),
    "slots" (the proposal as a whole) and "slots.<i>.<date|start|end>" (the i-th
    time proposed). `status`: 400 for what was typed, 409 when the consultation
    is no longer where the form thought."""


# --- Checks ---------------------------------------------------------------------------
def slot_errors(slots: list[tuple[datetime, datetime]], *, now: datetime) -> dict[str, list[str]]:
    """What is wrong with a proposal, before anyone else's diary is looked at:
    too few times, a time in the past, an end before its start, a length no
    consultation has, or two times that overlap."""
    errors: dict[str, list[str]] = {}
    if len(slots) < MIN_SLOTS:
        errors["slots"] = [_("Propose at least two times, so that the patient can choose.")]
    elif len(slots) > MAX_SLOTS:
        errors["slots"] = [_("Propose at most %(n)s times.") % {"n": MAX_SLOTS}]
    for i, (start, end) in enumerate(slots):
        if end <= start:
            errors[f"slots.{i}.end"] = [_("The end time must be after the start time.")]
        elif end - start < SHORTEST:
            errors[f"slots.{i}.end"] = [
                _("A consultation lasts at least 10 minutes: check the end time.")
            ]
        elif end - start > LONGEST:
            errors[f"slots.{i}.end"] = [
                _("A consultation lasts at most 3 hours: check the end time.")
            ]
        if start <= now:
            errors[f"slots.{i}.start"] = [
                _("This time has already passed: choose a time in the future.")
            ]
    # Sorted by start, a time overlaps an earlier one if it starts before the
    # latest end so far.
    latest_end = None
    for start, end, i in sorted((s, e, i) for i, (s, e) in enumerate(slots) if e > s):
        if latest_end is not None and start < latest_end:
            errors.setdefault(f"slots.{i}.start", []).append(
                _("This time overlaps another time you proposed.")
            )
        latest_end = end if latest_end is None else max(latest_end, end)
    return errors


def _taken_errors(
    slots: list[tuple[datetime, datetime]],
    *,
    specialist: User,
    zone: ZoneInfo,
    exclude: Consultation | None,
) -> dict[str, list[str]]:
    """Times that overlap a consultation the specialist has booked (any case)."""
    errors: dict[str, list[str]] = {}
    for i, (start, end) in enumerate(slots):
        clash = specialist_bookings_overlapping(
            specialist=specialist, starts_at=start, ends_at=end, exclude=exclude
        ).first()
        if clash is not None:
            errors[f"slots.{i}.start"] = [
                _("You already have a consultation booked then (%(when)s). Choose another time.")
                % {"when": format_span(*_booked_time(clash), zone)}
            ]
    return errors


def _booked_time(consultation: Consultation) -> tuple[datetime, datetime]:
    """The time of a booked (held, missed) consultation: the database holds every
    one of these to having its start and end (consultation_booked_has_time)."""
    starts_at, ends_at = consultation.starts_at, consultation.ends_at
    assert starts_at is not None and ends_at is not None, "a booked consultation has its time"
    return starts_at, ends_at


def _specialist_case(actor: User, case: Case) -> None:
    """The assigned specialist acts; others who see the consultation get a 403."""
    if not sees_consultations(viewer=actor, case=case):
        raise Http404
    if case_relation(actor, case) != Relation.ASSIGNED_SPECIALIST:
        raise PermissionDenied


def _owner(actor: User, case: Case) -> None:
    """The patient acts; others get a 403 (the care team's relation costs no query)."""
    if not sees_consultations(viewer=actor, case=case):
        raise PermissionDenied
    if case_relation(actor, case) != Relation.OWNER:
        raise PermissionDenied


def _mode(case: Case) -> str:
    if case.consultation_type not in Mode.values:
        raise ConsultationError(
            _(
                "The patient asked for a written opinion only, so there is no "
                "consultation to arrange."
            ),
            status=409,
        )
    return case.consultation_type


def _clean_note(text: str) -> str:
    return (text or "").strip()


def _too_long(text: str, limit: int) -> str:
    too_many = len(text.replace("\r\n", "\n")) - limit
    return (
        (_("You have %(n)s characters too many.") % {"n": f"{too_many:,}"}) if too_many > 0 else ""
    )


def _case_arranging(case: Case) -> None:
    if case.status not in ARRANGING:
        raise ConsultationError(
            _(
                "This request has moved on from the specialist's review, so "
                "the consultation cannot be changed."
            ),
            status=409,
        )


# --- Telling people ---------------------------------------------------------------------
def _page_for(consultation: Consultation) -> Callable[[Case, User], str]:
    """Every consultation notification leads to the consultation's page."""
    url = reverse("consultations:detail", args=[consultation.uuid])
    return lambda case, user: url


def _calendar(
    consultation: Consultation, method: str | None
) -> Callable[[User], CalendarInvite] | None:
    """With `method`, each notification carries the calendar file made out to its
    reader, and the person who made the change gets theirs too (their calendar
    needs it); without, as for every move, staff are not told of their own doing."""
    if method is None:
        return None
    return lambda user: CalendarInvite(
        ics=ics.consultation_ics(consultation, method=method, attendee=user), method=method
    )


def _move_case(
    consultation: Consultation, *, actor: User, frm: str, to: str, reason: str = ""
) -> None:
    """Move the case if it is where the move starts (a booking made while records
    are awaited leaves the case waiting for them)."""
    if consultation.case.status == frm:
        result = case_transition(
            actor=actor, ref=consultation.case.uuid, to_status=to, reason=reason
        )
        consultation.case = result.case


# --- The specialist proposes times ------------------------------------------------------
def consultation_propose(
    *,
    actor: User,
    case_ref: UUID | str,
    slots: list[tuple[datetime, datetime]],
    place: str = "",
) -> Consultation:
    """The assigned specialist proposes two or more times (aware datetimes; the
    form reads them in the patient's zone) for a video or in-person consultation."""
    place = _clean_note(place)
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        _specialist_case(actor, case)
        mode = _mode(case)
        _case_arranging(case)
        if Consultation.objects.filter(case=case, status__in=OPEN_STATUSES).exists():
            raise ConsultationError(
                _(
                    "A consultation is already being arranged for this case: "
                    "change its times instead."
                ),
                status=409,
            )
        zone_name = patient_zone_name(case)
        errors = _proposal_errors(
            slots, place=place, mode=mode, specialist=actor, zone=ZoneInfo(zone_name), exclude=None
        )
        if errors:
            raise ConsultationError(_("Please correct the problems below."), errors)
        consultation = Consultation.objects.create(
            case=case,
            specialist=actor,
            mode=mode,
            patient_time_zone=zone_name,
            video_room=secrets.token_urlsafe(24) if mode == Mode.VIDEO else "",
            place=place if mode == Mode.IN_PERSON else "",
            interpreter_language=case.preferred_language if case.interpreter_needed else "",
        )
        consultation.case = case
        _add_slots(consultation, slots)
        ConsultationEvent.objects.create(
            consultation=consultation, actor=actor, action=Action.PROPOSED
        )
        log_event(
            actor=actor,
            action="consultations.consultation.proposed",
            obj=consultation,
            new={"case": case.reference, "mode": mode, "times": len(slots)},
        )
        send_notices(
            consultation.case,
            NOTICE_CONSULTATION_PROPOSED,
            actor=actor,
            url_for=_page_for(consultation),
        )
    return consultation


def _proposal_errors(
    slots: list[tuple[datetime, datetime]],
    *,
    place: str,
    mode: str,
    specialist: User,
    zone: ZoneInfo,
    exclude: Consultation | None,
    reason: str | None = None,
    reason_required: bool = False,
) -> dict[str, list[str]]:
    errors = slot_errors(slots, now=timezone.now())
    for key, problems in _taken_errors(
        slots, specialist=specialist, zone=zone, exclude=exclude
    ).items():
        errors.setdefault(key, []).extend(problems)
    if mode == Mode.IN_PERSON:
        if not place:
            errors["place"] = [
                _("Say where the visit will be: the address, and how to find you there.")
            ]
        elif message := _too_long(place, NOTE_MAX):
            errors["place"] = [message]
    if reason is not None:
        if reason_required and not reason:
            errors["reason"] = [_("Say why the time is changing: the patient reads it.")]
        elif message := _too_long(reason, NOTE_MAX):
            errors["reason"] = [message]
    return errors


def _add_slots(consultation: Consultation, slots: list[tuple[datetime, datetime]]) -> None:
    Slot.objects.bulk_create(
        Slot(consultation=consultation, round=consultation.round, starts_at=start, ends_at=end)
        for start, end in sorted(slots)
    )


def consultation_reschedule(
    *,
    actor: User,
    ref: UUID | str,
    slots: list[tuple[datetime, datetime]],
    place: str = "",
    reason: str = "",
) -> Consultation:
    """The specialist proposes new times: the patient asked for others, the times
    offered no longer suit, or the booked time must change (then with a reason,
    and the booked time is taken out of both calendars until a new one is picked)."""
    place, reason = _clean_note(place), _clean_note(reason)
    with transaction.atomic():
        consultation = consultation_for_viewer(viewer=actor, ref=ref, for_update=True)
        case = consultation.case
        _specialist_case(actor, case)
        _case_arranging(case)
        if not consultation.is_open:
            raise ConsultationError(
                _("This consultation is over: propose a new one from the case page."), status=409
            )
        was_booked = consultation.status == Status.BOOKED
        errors = _proposal_errors(
            slots,
            place=place if consultation.mode == Mode.IN_PERSON else "",
            mode=consultation.mode,
            specialist=actor,
            zone=ZoneInfo(consultation.patient_time_zone),
            exclude=consultation,
            reason=reason,
            reason_required=was_booked,
        )
        if errors:
            raise ConsultationError(_("Please correct the problems below."), errors)
        old_status = consultation.status
        consultation.status = Status.PROPOSED
        consultation.round += 1
        consultation.sequence += 1
        fields = ["status", "round", "sequence", "updated_at"]
        if consultation.mode == Mode.IN_PERSON and place != consultation.place:
            consultation.place = place
            fields.append("place")
        consultation.save(update_fields=fields)
        _add_slots(consultation, slots)
        ConsultationEvent.objects.create(
            consultation=consultation, actor=actor, action=Action.PROPOSED, note=reason
        )
        log_event(
            actor=actor,
            action="consultations.consultation.rescheduled",
            obj=consultation,
            old={"status": old_status},
            new={
                "status": consultation.status,
                "round": consultation.round,
                "times": len(slots),
                "sequence": consultation.sequence,
            },
        )
        send_notices(
            consultation.case,
            NOTICE_CONSULTATION_NEW_TIMES,
            actor=actor,
            url_for=_page_for(consultation),
            calendar=_calendar(consultation, ics.CANCEL if was_booked else None),
        )
    return consultation


# --- The patient chooses, or asks for other times ----------------------------------------
def consultation_book(*, actor: User, ref: UUID | str, slot_ref: UUID | str) -> Consultation:
    """The patient picks one of the times offered: the consultation is booked, the
    case moves to "consultation", and both get the calendar invitation."""
    with transaction.atomic():
        consultation = consultation_for_viewer(viewer=actor, ref=ref, for_update=True)
        case = consultation.case
        _owner(actor, case)
        try:
            slot_uuid = UUID(str(slot_ref)) if slot_ref else None
        except ValueError:  # not one of ours: the same answer as a time no longer offered
            slot_uuid = None
        slot = consultation.slots.filter(uuid=slot_uuid).first() if slot_uuid else None
        if slot is None:
            raise ConsultationError(
                _("Choose one of the times below."),
                {"slot": [_("Choose one of the times, or ask for other times.")]},
            )
        zone = ZoneInfo(consultation.patient_time_zone)
        if (
            consultation.status == Status.BOOKED
            and slot.round == consultation.round
            and slot.starts_at == consultation.starts_at
        ):
            return consultation  # already booked for this very time: a double click
        refusals: dict[str, str] = {
            Status.CANCELLED: _(
                "This consultation was cancelled, so a time can no longer be chosen."
            ),
            Status.HELD: _("This consultation has already taken place."),
            Status.MISSED: _("This consultation's time has passed."),
            Status.OTHER_TIMES: _(
                "You asked for other times: your specialist will propose new "
                "ones, and we will tell you."
            ),
        }
        refusal = refusals.get(consultation.status)
        if consultation.status == Status.BOOKED:
            refusal = _(
                "Your consultation is already booked for %(when)s. To change it, ask for "
                "another time."
            ) % {"when": format_span(*_booked_time(consultation), zone)}
        if refusal:
            raise ConsultationError(refusal, {"slot": [refusal]}, status=409)
        if slot.round != consultation.round:
            raise ConsultationError(
                _("These times have changed."),
                {"slot": [_("The times offered have changed. Choose one of the new times below.")]},
                status=409,
            )
        _case_arranging(case)
        now = timezone.now()
        if slot.starts_at <= now:
            raise ConsultationError(
                _("That time has passed."),
                {"slot": [_("That time has passed. Choose another, or ask for other times.")]},
            )
        # One booking at a time per specialist: two patients offered the same hour
        # cannot both have it.
        User.objects.select_for_update().filter(pk=consultation.specialist_id).first()
        if specialist_bookings_overlapping(
            specialist=consultation.specialist_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            exclude=consultation,
        ).exists():
            raise ConsultationError(
                _("That time has just been taken."),
                {
                    "slot": [
                        _("That time has just been taken. Choose another, or ask for other times.")
                    ]
                },
                status=409,
            )
        consultation.status = Status.BOOKED
        consultation.starts_at, consultation.ends_at = slot.starts_at, slot.ends_at
        consultation.booked_at = now
        consultation.sequence += 1
        consultation.save(
            update_fields=["status", "starts_at", "ends_at", "booked_at", "sequence", "updated_at"]
        )
        ConsultationEvent.objects.create(
            consultation=consultation,
            actor=actor,
            action=Action.BOOKED,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
        )
        log_event(
            actor=actor,
            action="consultations.consultation.booked",
            obj=consultation,
            old={"status": Status.PROPOSED},
            new={
                "status": Status.BOOKED,
                "starts_at": slot.starts_at.isoformat(),
                "ends_at": slot.ends_at.isoformat(),
                "sequence": consultation.sequence,
            },
        )
        _move_case(consultation, actor=actor, frm=S.IN_REVIEW, to=S.CONSULTATION)
        send_notices(
            consultation.case,
            NOTICE_CONSULTATION_BOOKED,
            actor=actor,
            url_for=_page_for(consultation),
            calendar=_calendar(consultation, ics.REQUEST),
        )
    return consultation


def consultation_ask_other_times(*, actor: User, ref: UUID | str, note: str) -> Consultation:
    """None of the times suit the patient, or the booked one no longer does: they
    say what would, and the specialist proposes again. A booked time is taken
    out of both calendars."""
    note = _clean_note(note)
    if not note:
        raise ConsultationError(
            _("Please correct the problems below."),
            {
                "note": [
                    _(
                        "Say which days or times suit you, so that your specialist can propose others."
                    )
                ]
            },
        )
    if message := _too_long(note, NOTE_MAX):
        raise ConsultationError(_("Please correct the problems below."), {"note": [message]})
    with transaction.atomic():
        consultation = consultation_for_viewer(viewer=actor, ref=ref, for_update=True)
        case = consultation.case
        _owner(actor, case)
        if consultation.status == Status.OTHER_TIMES:
            return consultation  # asked already: a double click
        if consultation.status not in (Status.PROPOSED, Status.BOOKED):
            raise ConsultationError(
                _(
                    "This consultation was cancelled or has taken place, so "
                    "its times cannot change."
                ),
                status=409,
            )
        was_booked = consultation.status == Status.BOOKED
        if was_booked and _booked_time(consultation)[0] <= timezone.now():
            raise ConsultationError(
                _("This consultation's time has come: your specialist will record what happened."),
                status=409,
            )
        _case_arranging(case)
        old_status = consultation.status
        consultation.status = Status.OTHER_TIMES
        consultation.sequence += 1
        consultation.save(update_fields=["status", "sequence", "updated_at"])
        ConsultationEvent.objects.create(
            consultation=consultation, actor=actor, action=Action.OTHER_TIMES, note=note
        )
        log_event(
            actor=actor,
            action="consultations.consultation.other_times",
            obj=consultation,
            old={"status": old_status},
            new={"status": consultation.status, "sequence": consultation.sequence},
        )
        send_notices(
            consultation.case,
            NOTICE_CONSULTATION_OTHER_TIMES,
            actor=actor,
            url_for=_page_for(consultation),
            calendar=_calendar(consultation, ics.CANCEL if was_booked else None),
        )
    return consultation


# --- Either side cancels; the specialist records what happened ---------------------------
def consultation_cancel(*, actor: User, ref: UUID | str, reason: str) -> Consultation:
    """The patient or the specialist calls the consultation off, saying why (or
    closes one that was missed). A booked case goes back to review and the time
    leaves both calendars."""
    reason = _clean_note(reason)
    if not reason:
        raise ConsultationError(
            _("Please correct the problems below."),
            {"reason": [_("Say why the consultation is cancelled: the other side reads it.")]},
        )
    if message := _too_long(reason, NOTE_MAX):
        raise ConsultationError(_("Please correct the problems below."), {"reason": [message]})
    with transaction.atomic():
        consultation = consultation_for_viewer(viewer=actor, ref=ref, for_update=True)
        case = consultation.case
        if case_relation(actor, case) != Relation.OWNER:
            _specialist_case(actor, case)
        if consultation.status == Status.CANCELLED:
            return consultation  # a double click
        # A missed one may be closed too, saying why: the patient then knows there
        # will be no other, and the report can be signed.
        if not consultation.is_open and consultation.status != Status.MISSED:
            raise ConsultationError(
                _(
                    "This consultation has already taken place or been "
                    "declined, so it cannot be cancelled."
                ),
                status=409,
            )
        if consultation.status == Status.MISSED:
            _case_arranging(case)
        _close(consultation, actor=actor, reason=reason)
        _move_case(
            consultation,
            actor=actor,
            frm=S.CONSULTATION,
            to=S.IN_REVIEW,
            reason=_("The consultation was cancelled."),
        )
    return consultation


def _close(consultation: Consultation, *, actor: User | None, reason: str) -> None:
    was_booked = consultation.status == Status.BOOKED
    old_status = consultation.status
    consultation.status = Status.CANCELLED
    consultation.sequence += 1
    consultation.save(update_fields=["status", "sequence", "updated_at"])
    ConsultationEvent.objects.create(
        consultation=consultation, actor=actor, action=Action.CANCELLED, note=reason
    )
    log_event(
        actor=actor,
        action="consultations.consultation.cancelled",
        obj=consultation,
        old={"status": old_status},
        new={"status": consultation.status, "sequence": consultation.sequence},
    )
    send_notices(
        consultation.case,
        NOTICE_CONSULTATION_CANCELLED,
        actor=actor,
        url_for=_page_for(consultation),
        calendar=_calendar(consultation, ics.CANCEL if was_booked else None),
    )


def can_decline(*, case: Case) -> bool:
    """Whether the patient may decline now: they asked for a consultation, a
    specialist has the case, and none has taken place or been declined (an open
    one may be, until its booked time comes)."""
    if case.consultation_type not in Mode.values or case.specialist_id is None:
        return False
    if case.status not in ARRANGING:
        return False
    consultations = case_consultations(case=case)
    latest = consultations[0] if consultations else None
    if latest is not None and latest.status == Status.DECLINED:
        return False
    if latest is not None and latest.is_open:
        return latest.status != Status.BOOKED or _booked_time(latest)[0] > timezone.now()
    return not any(c.status == Status.HELD for c in consultations)


def consultation_decline(*, actor: User, case_ref: UUID | str, note: str = "") -> Consultation:
    """The patient no longer wants the consultation they asked for. An open one is
    declined (a booked time leaves both calendars and the case goes back to
    review); with none open, one is recorded as declined. It shows on the case's
    timeline, the specialist is told, and the report can be signed without one.
    `note`: what the patient wants the specialist to know (optional)."""
    note = _clean_note(note)
    if message := _too_long(note, NOTE_MAX):
        raise ConsultationError(_("Please correct the problems below."), {"note": [message]})
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        _owner(actor, case)
        mode = _mode(case)
        consultations = list(Consultation.objects.select_for_update().filter(case=case))
        latest = consultations[0] if consultations else None
        if latest is not None and latest.status == Status.DECLINED:
            return latest  # declined already: a double click
        if any(c.status == Status.HELD for c in consultations) and (
            latest is None or not latest.is_open
        ):
            raise ConsultationError(_("Your consultation has already taken place."), status=409)
        if case.specialist_id is None or case.status not in ARRANGING:
            raise ConsultationError(
                _(
                    "A consultation can be declined while your specialist is "
                    "reviewing your request."
                ),
                status=409,
            )
        if latest is not None and latest.is_open:
            consultation = latest
            was_booked = consultation.status == Status.BOOKED
            if was_booked and _booked_time(consultation)[0] <= timezone.now():
                raise ConsultationError(
                    _(
                        "This consultation's time has come: your specialist "
                        "will record what happened."
                    ),
                    status=409,
                )
            old_status = consultation.status
            consultation.status = Status.DECLINED
            consultation.sequence += 1
            consultation.save(update_fields=["status", "sequence", "updated_at"])
        else:
            was_booked, old_status = False, ""
            consultation = Consultation.objects.create(
                case=case,
                specialist_id=case.specialist_id,
                mode=mode,
                patient_time_zone=patient_zone_name(case),
                status=Status.DECLINED,
            )
        consultation.case = case
        ConsultationEvent.objects.create(
            consultation=consultation, actor=actor, action=Action.DECLINED, note=note
        )
        log_event(
            actor=actor,
            action="consultations.consultation.declined",
            obj=consultation,
            old={"status": old_status},
            new={"status": Status.DECLINED, "sequence": consultation.sequence},
        )
        _move_case(
            consultation,
            actor=actor,
            frm=S.CONSULTATION,
            to=S.IN_REVIEW,
            reason=_("The patient declined the consultation."),
        )
        send_notices(
            consultation.case,
            NOTICE_CONSULTATION_DECLINED,
            actor=actor,
            url_for=_page_for(consultation),
            calendar=_calendar(consultation, ics.CANCEL if was_booked else None),
        )
    return consultation


OUTCOMES = (Status.HELD, Status.MISSED)


def consultation_record_outcome(
    *, actor: User, ref: UUID | str, outcome: str, notes: str = ""
) -> Consultation:
    """The specialist records the consultation as held (with the exam notes, for
    the care team only) or missed, once its time has come; the case goes back to
    review."""
    notes = _clean_note(notes)
    errors = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = [_("Say whether the consultation took place.")]
    elif outcome == Status.HELD and not notes:
        errors["notes"] = [_("Write your exam notes: what you examined and found.")]
    if message := _too_long(notes, EXAM_NOTES_MAX):
        errors["notes"] = [message]
    if errors:
        raise ConsultationError(_("Please correct the problems below."), errors)
    with transaction.atomic():
        consultation = consultation_for_viewer(viewer=actor, ref=ref, for_update=True)
        case = consultation.case
        _specialist_case(actor, case)
        if consultation.status == outcome:
            return consultation  # a double click
        if consultation.status != Status.BOOKED:
            raise ConsultationError(_("Only a booked consultation can be recorded."), status=409)
        if _booked_time(consultation)[0] > timezone.now():
            raise ConsultationError(
                _(
                    "This consultation has not started yet (it starts %(when)s). Record it once "
                    "it has taken place, or change its time."
                )
                % {
                    "when": format_span(
                        *_booked_time(consultation), ZoneInfo(consultation.patient_time_zone)
                    )
                },
                status=409,
            )
        consultation.status = outcome
        consultation.exam_notes = notes
        consultation.outcome_at = timezone.now()
        consultation.sequence += 1
        consultation.save(
            update_fields=["status", "exam_notes", "outcome_at", "sequence", "updated_at"]
        )
        ConsultationEvent.objects.create(
            consultation=consultation,
            actor=actor,
            action=Action.HELD if outcome == Status.HELD else Action.MISSED,
        )
        # The notes are PHI: the audit row says that there are some, not what.
        log_event(
            actor=actor,
            action=f"consultations.consultation.{outcome}",
            obj=consultation,
            old={"status": Status.BOOKED},
            new={"status": outcome, "exam_notes": bool(notes)},
        )
        _move_case(
            consultation,
            actor=actor,
            frm=S.CONSULTATION,
            to=S.IN_REVIEW,
            reason=_("The consultation took place.")
            if outcome == Status.HELD
            else _("The consultation did not take place."),
        )
        if outcome == Status.MISSED:
            send_notices(
                consultation.case,
                NOTICE_CONSULTATION_MISSED,
                actor=actor,
                url_for=_page_for(consultation),
            )
    return consultation


# --- What SecondOp does itself (consultations.tasks) --------------------------------------
def consultation_reminders_send(*, now: datetime | None = None) -> int:
    """Remind the patient and the specialist the day before: once per booked time
    (a new time gets its own reminder). A booking made less than a day ahead gets
    none: its invitation has just gone out. Safe to run at once in two workers:
    each reminder is claimed by a conditional update."""
    now = now or timezone.now()
    due = (
        Consultation.objects.filter(
            status=Status.BOOKED,
            starts_at__gt=now,
            starts_at__lte=now + REMINDER_LEAD,
            booked_at__lte=F("starts_at") - REMINDER_LEAD,
        )
        .exclude(reminder_sent_for=F("starts_at"))
        .values_list("pk", "starts_at")[:500]
    )
    sent = 0
    for pk, starts_at in due:
        assert starts_at is not None  # due ones start after now
        with transaction.atomic():
            claimed = (
                Consultation.objects.filter(pk=pk, status=Status.BOOKED, starts_at=starts_at)
                .exclude(reminder_sent_for=starts_at)
                .update(reminder_sent_for=starts_at)
            )
            if not claimed:
                continue  # another worker got there first, or the time changed
            consultation = Consultation.objects.select_related("case").get(pk=pk)
            ConsultationEvent.objects.create(
                consultation=consultation,
                action=Action.REMINDED,
                starts_at=starts_at,
                ends_at=consultation.ends_at,
            )
            log_event(
                actor=None,
                action="consultations.consultation.reminded",
                obj=consultation,
                new={"starts_at": starts_at.isoformat()},
            )
            send_notices(
                consultation.case,
                NOTICE_CONSULTATION_REMINDER,
                actor=None,
                url_for=_page_for(consultation),
            )
            sent += 1
    return sent


def consultations_cancel_for_closed_cases() -> int:
    """A request withdrawn, cancelled or closed takes its open consultation with it:
    cancelled by SecondOp, and a booked time taken out of both calendars."""
    ids = list(
        Consultation.objects.filter(
            status__in=OPEN_STATUSES, case__status__in=CLOSED_STATES
        ).values_list("pk", flat=True)[:200]
    )
    count = 0
    for pk in ids:
        with transaction.atomic():
            consultation = (
                Consultation.objects.select_for_update(of=("self",))
                .select_related("case")
                .filter(pk=pk, status__in=OPEN_STATUSES)
                .first()
            )
            if consultation is None or consultation.case.status not in CLOSED_STATES:
                continue
            _close(
                consultation,
                actor=None,
                reason=_("The request is %(status)s.")
                % {"status": str(CaseStatus(consultation.case.status).label).lower()},
            )
            count += 1
    return count


# --- An interpreter -----------------------------------------------------------------------
def consultation_interpreter_set(
    *, actor: User, ref: UUID | str, language: str, booked: bool, name: str = ""
) -> Consultation:
    """The case manager records the interpreter: the language, and that one is
    booked (with their name). The patient is told when one is booked; the calendar
    file says so from then on."""
    language, name = _clean_note(language)[:60], _clean_note(name)[:150]
    if booked and not (language and name):
        raise ConsultationError(
            _("Please correct the problems below."),
            {
                **(
                    {"language": [_("Enter the language the interpreter speaks.")]}
                    if not language
                    else {}
                ),
                **({"name": [_("Enter the interpreter's name.")]} if not name else {}),
            },
        )
    with transaction.atomic():
        consultation = (
            Consultation.objects.select_for_update()
            .select_related("case__owner")
            .get(pk=consultation_for_viewer(viewer=actor, ref=ref).pk)
        )
        case = consultation.case
        if case_relation(actor, case) != Relation.CASE_MANAGER:
            raise PermissionDenied
        if not consultation.is_open:
            raise ConsultationError(
                _("This consultation is over: its interpreter can no longer change."), status=409
            )
        was_booked = consultation.interpreter_booked
        _old, new = audited_update(
            consultation,
            actor=actor,
            action="consultations.consultation.interpreter_changed",
            changes={
                "interpreter_language": language,
                "interpreter_booked": booked,
                "interpreter_name": name if booked else "",
            },
        )
        if not new:
            return consultation
        if booked:
            ConsultationEvent.objects.create(
                consultation=consultation,
                actor=actor,
                action=Action.INTERPRETER,
                note=_("%(language)s interpreter: %(name)s") % {"language": language, "name": name},
            )
        if booked and not was_booked:
            owner = case.owner
            with speaking_to(owner):
                notify(
                    recipient=owner,
                    kind=CONSULTATION,
                    title=_("An interpreter will join your consultation for %(ref)s")
                    % {"ref": case.reference},
                    url=reverse("consultations:detail", args=[consultation.uuid]),
                    reference=case.reference or "",
                    email=EmailText(
                        subject=_("An interpreter will join your consultation for %(ref)s")
                        % {"ref": case.reference},
                        sentence=_(
                            "You asked for an interpreter: a %(language)s interpreter is "
                            "booked for your consultation. You do not need to do anything."
                        )
                        % {"language": language},
                        action=_("See your consultation"),
                    ),
                )
    return consultation
