"""Reads of consultations. Who sees a case's consultations:

- the patient (the account holder);
- the case manager (the coordinator who claimed the case);
- the assigned specialist;
- nobody else, other coordinators and specialists included (a 404).

A consultation is loaded through requests_app's access module (access.for_viewer:
the case first, then the consultation), which writes a staff read's access-log
row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from requests_app.access import CARE_TEAM, CaregiverRight, for_viewer, is_care_team
from requests_app.models import Case
from requests_app.times import care_team_zone, format_moment
from secondop.audit.models import AccessLog

from .models import OPEN_STATUSES, Action, Consultation, ConsultationEvent, Mode, Slot, Status

if TYPE_CHECKING:
    from secondop.accounts.models import User


def sees_consultations(*, viewer: User, case: Case) -> bool:
    return is_care_team(viewer=viewer, case=case)


def consultation_for_viewer(
    *,
    viewer: User,
    ref: UUID | str,
    for_update: bool = False,
    kind: str = AccessLog.Kind.VIEW,
    caregiving: CaregiverRight | None = None,
) -> Consultation:
    """One consultation `viewer` may see, or 404 (the same 404 whether it does not
    exist or is someone else's). With for_update the case row and then the
    consultation row are locked, in that order (as every writer takes them).
    `caregiving`: a caregiver the patient let join consultations sees it too."""
    return for_viewer(
        Consultation,
        ref,
        viewer,
        needs=CARE_TEAM,
        sees=CARE_TEAM,
        for_update=for_update,
        kind=kind,
        caregiving=caregiving,
        queryset=Consultation.objects.select_related("specialist"),
    )


# Where case_consultations keeps a case's consultations on the case object.
_CACHED = "_consultations"


def case_consultations(*, case: Case) -> list[Consultation]:
    """The case's consultations, newest first, each with the case set (cached on
    the case object: the case page's panel and next step ask twice)."""
    cached = getattr(case, _CACHED, None)
    if cached is None:
        cached = list(Consultation.objects.filter(case=case).select_related("specialist"))
        for consultation in cached:
            consultation.case = case
        setattr(case, _CACHED, cached)
    return cached


def open_consultation(*, case: Case) -> Consultation | None:
    return next((c for c in case_consultations(case=case) if c.status in OPEN_STATUSES), None)


def offered_slots(consultation: Consultation) -> QuerySet[Slot]:
    """The times the patient may choose from now (none unless it is "proposed")."""
    if consultation.status != Status.PROPOSED:
        return Slot.objects.none()
    return consultation.slots.filter(round=consultation.round)


def current_round_slots(consultation: Consultation) -> QuerySet[Slot]:
    return consultation.slots.filter(round=consultation.round)


def consultation_history(consultation: Consultation) -> list[ConsultationEvent]:
    return list(consultation.events.select_related("actor"))


def last_event(consultation: Consultation, action: str) -> ConsultationEvent | None:
    return consultation.events.filter(action=action).select_related("actor").last()


def specialist_bookings_overlapping(
    *,
    specialist: User | int,
    starts_at: datetime,
    ends_at: datetime,
    exclude: Consultation | None = None,
) -> QuerySet[Consultation]:
    """The specialist's booked consultations (any case) that overlap [starts_at, ends_at)."""
    booked = Consultation.objects.filter(
        specialist=specialist, status=Status.BOOKED, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    return booked.exclude(pk=exclude.pk) if exclude is not None else booked


@dataclass(frozen=True)
class Standing:
    """Where the consultation a patient asked for stands, for signing the report.

    `settled`: it was held, the patient declined it, or it was cancelled with a
    reason the patient reads; until then the report waits. `text` says which (or
    what is still to do), in the specialist's words on the signing page;
    `consultation` is the one it is about (None when none was ever proposed)."""

    settled: bool
    text: str
    consultation: Consultation | None


def consultation_standing(*, case: Case) -> Standing | None:
    """None when the patient asked for a written opinion only. One held
    consultation settles it, unless another is being arranged after it; otherwise
    the newest decides."""
    if case.consultation_type not in Mode.values:
        return None
    consultations = case_consultations(case=case)
    zone = care_team_zone()
    current = next((c for c in consultations if c.status in OPEN_STATUSES), None)
    if current is not None:
        return Standing(
            False,
            _(
                "The patient asked for a consultation, and it is still being arranged: it takes "
                "place (record it as held), or is cancelled with a reason the patient reads, "
                "before you sign."
            ),
            current,
        )
    held = next((c for c in consultations if c.status == Status.HELD), None)
    if held is not None:
        assert held.starts_at is not None  # a held one was booked: it has its time
        return Standing(
            True,
            _("The consultation took place on %(when)s.")
            % {"when": format_moment(held.starts_at, zone)},
            held,
        )
    latest = consultations[0] if consultations else None
    if latest is None:
        return Standing(
            False,
            _(
                "The patient asked for a consultation and none has been proposed. Propose times; "
                "or, if it cannot happen, the patient can decline it."
            ),
            None,
        )
    if latest.status == Status.DECLINED:
        return Standing(
            True,
            _("The patient declined the consultation on %(when)s.")
            % {"when": format_moment(latest.updated_at, zone)},
            latest,
        )
    if latest.status == Status.CANCELLED:
        cancelled = last_event(latest, Action.CANCELLED)
        assert cancelled is not None  # cancelling writes its event
        return Standing(
            True,
            _(
                "The consultation was cancelled on %(when)s. The reason the "
                "patient reads: “%(reason)s”"
            )
            % {"when": format_moment(cancelled.created_at, zone), "reason": cancelled.note},
            latest,
        )
    # Missed: it did not take place, and nothing has been said about it since.
    return Standing(
        False,
        _(
            "The consultation did not take place. Propose new times, or cancel it with a reason "
            "the patient reads, before you sign."
        ),
        latest,
    )
