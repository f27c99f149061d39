"""Reads of consultations. Who sees a case's consultations:

- the patient (the account holder);
- the case manager (the coordinator who claimed the case);
- the assigned specialist;
- nobody else, other coordinators and specialists included (a 404).

The case is loaded through requests_app's rule first (case_for_viewer); a staff
read of a consultation writes an access-log row here."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from requests_app.models import Case
from requests_app.selectors import case_for_viewer, is_care_team
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access

from .models import OPEN_STATUSES, Consultation, ConsultationEvent, Slot, Status


def sees_consultations(*, viewer, case: Case) -> bool:
    return is_care_team(viewer=viewer, case=case)


def consultation_for_viewer(*, viewer, ref: UUID | str, for_update: bool = False, request=None,
                            kind: str = AccessLog.Kind.VIEW) -> Consultation:
    """One consultation `viewer` may see, or 404 (the same 404 whether it does not
    exist or is someone else's). With for_update the case row and then the
    consultation row are locked, in that order (as every writer takes them)."""
    try:
        case_ref = Consultation.objects.filter(uuid=ref).values_list("case__uuid", flat=True).get()
    except (Consultation.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    case = case_for_viewer(viewer=viewer, ref=case_ref, for_update=for_update, request=request)
    if not sees_consultations(viewer=viewer, case=case):
        raise Http404
    consultations = Consultation.objects.select_related("specialist")
    if for_update:
        consultations = consultations.select_for_update(of=("self",))
    consultation = consultations.get(uuid=ref)
    consultation.case = case
    if not for_update and viewer.pk != case.owner_id:
        log_access(viewer=viewer, obj=consultation, kind=kind, request=request)
    return consultation


def case_consultations(*, case: Case) -> list[Consultation]:
    """The case's consultations, newest first, each with the case set (cached on
    the case object: the case page's panel and next step ask twice)."""
    cached = getattr(case, "_consultations", None)
    if cached is None:
        cached = list(Consultation.objects.filter(case=case).select_related("specialist"))
        for consultation in cached:
            consultation.case = case
        case._consultations = cached
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


def specialist_bookings_overlapping(*, specialist, starts_at, ends_at,
                                    exclude: Consultation | None = None) -> QuerySet[Consultation]:
    """The specialist's booked consultations (any case) that overlap [starts_at, ends_at)."""
    booked = Consultation.objects.filter(specialist=specialist, status=Status.BOOKED,
                                         starts_at__lt=ends_at, ends_at__gt=starts_at)
    return booked.exclude(pk=exclude.pk) if exclude is not None else booked
