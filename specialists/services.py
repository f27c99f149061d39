import json
import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from requests_app.access import case_for_viewer
from requests_app.fees import offer_blocker
from requests_app.models import Case, CaseEvent, CaseStatus
from requests_app.workflow import case_transition
from secondop.accounts.models import Role, User
from secondop.audit.services import log_event
from secondop.refusals import Refusal

from .matching import RELAXABLE, rank_specialists, specialists_for_matching, still_qualifies
from .models import (
    Board,
    Certification,
    DeclineReason,
    Offer,
    OfferStatus,
    SpecialistProfile,
    Specialty,
)
from .specialties import ALL_SPECIALTIES

logger = logging.getLogger(__name__)
CERTIFICATIONS_FILE = Path(__file__).resolve().parent / "data" / "abms_certifications.json"


def specialties_load(
    model: type[Specialty] | None = None,
    *,
    entries: Sequence[tuple[str, str, str]] = ALL_SPECIALTIES,
) -> int:
    """Create or update the specialties list. The migration passes its historical
    model (the same fields)."""
    if model is None:
        model = Specialty
    for slug, name, description in entries:
        model.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )
    return len(entries)


def specialty_links_load(
    *,
    specialty_model: type[Specialty] | None = None,
    certification_model: type[Certification] | None = None,
) -> int:
    """Link each specialty that has no certification yet to the ones the data
    file says it means (a new specialty); links the admin made are left alone.
    The migration passes its historical models (both, or neither)."""
    if specialty_model is None or certification_model is None:
        specialty_model, certification_model = Specialty, Certification
    mapping = certifications_data()["specialties"]
    linked = 0
    for specialty in specialty_model.objects.filter(slug__in=mapping, certifications=None):
        specialty.certifications.add(
            *certification_model.objects.filter(slug__in=mapping[specialty.slug])
        )
        linked += 1
    return linked


def certifications_data() -> dict[str, Any]:
    with CERTIFICATIONS_FILE.open(encoding="utf-8") as file:
        return json.load(file)


@transaction.atomic
def certifications_load(
    *,
    board_model: type[Board] | None = None,
    certification_model: type[Certification] | None = None,
    specialty_model: type[Specialty] | None = None,
) -> int:
    """Create or update the boards and certifications from the data file, and
    link the specialties that exist to the certifications they mean. Migration
    0004 passes its historical models; tests that flush the tables call it bare.

    Running it again adds what is new and updates only what the file owns: a
    board's name, and a certification's board, name, kind and parent. A
    certification's ICD-10-CM ranges, whether it is offered and which
    specialties it is linked to are set when it is created and are the admin's
    after that, so a reload never undoes an edit made there."""
    if board_model is None or certification_model is None or specialty_model is None:
        board_model, certification_model, specialty_model = Board, Certification, Specialty
    data = certifications_data()
    by_slug: dict[str, Certification] = {}
    created: set[str] = set()
    for board_row in data["boards"]:
        board, _ = board_model.objects.update_or_create(
            slug=board_row["slug"], defaults={"name": board_row["name"]}
        )
        # Primary specialties first, so that a subspecialty's parent exists when it is saved.
        rows = sorted(board_row["certifications"], key=lambda row: row["kind"] != "specialty")
        for row in rows:
            owned = {
                "board": board,
                "name": row["name"],
                "kind": row["kind"],
                "parent": by_slug[row["parent"]] if row.get("parent") else None,
            }
            certification, is_new = certification_model.objects.update_or_create(
                slug=row["slug"],
                defaults=owned,
                create_defaults={
                    **owned,
                    "icd10_ranges": ", ".join(row["icd10"]),
                    "active": row.get("active", True),
                },
            )
            by_slug[row["slug"]] = certification
            if is_new:
                created.add(row["slug"])
    for specialty in specialty_model.objects.filter(slug__in=data["specialties"]):
        new_links = [
            by_slug[slug] for slug in data["specialties"][specialty.slug] if slug in created
        ]
        specialty.certifications.add(*new_links)
    return len(by_slug)


# --- Offers -----------------------------------------------------------------------------
class OfferError(Refusal):
    """An offer that cannot be made or answered, or a triage step (specialty, hold)
    refused; the message is fit to show a person (a 400: what was asked for)."""


def _deadline(case: Case) -> datetime:
    hours = (
        settings.OFFER_DEADLINE_HOURS_URGENT
        if case.urgency == "urgent"
        else settings.OFFER_DEADLINE_HOURS
    )
    return timezone.now() + timedelta(hours=hours)


def offer_make(
    *,
    actor: User,
    case_ref: UUID | str,
    specialist_id: int,
    relax: Iterable[str] = (),
    relax_reason: str = "",
) -> Offer:
    """Offer the case to one specialist from the ranked list.

    The case row is locked first (case_for_viewer), so two coordinators offering
    at the same moment queue: the second finds the case already offered. The
    specialist must pass every hard filter, with only language and mode
    relaxable, and only with a reason."""
    relaxed = frozenset(relax)
    if relaxed - RELAXABLE:
        raise OfferError(_("Licensure and the other checks can never be relaxed."))
    if relaxed and not relax_reason.strip():
        raise OfferError(_("Say why the language or consultation check is relaxed."))
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if actor.role != Role.COORDINATOR:
            raise OfferError(_("Only coordinators offer cases."))
        if case.status != CaseStatus.MATCHING:
            raise OfferError(
                _("This case is not waiting for a specialist any more (it is “%(status)s”).")
                % {"status": case.get_status_display()}
            )
        if blocker := offer_blocker(case):
            raise OfferError(blocker)
        # The specialist's profile next (always case, then profile): two offers of
        # different cases to one specialist queue here, and the second counts the
        # first against their capacity.
        SpecialistProfile.objects.select_for_update().filter(user_id=specialist_id).first()
        profiles = specialists_for_matching().filter(user_id=specialist_id)
        ranking = rank_specialists(case=case, relax=relaxed, profiles=profiles)
        if not ranking.candidates:
            raise OfferError(
                _("This specialist cannot take the case: %(why)s.")
                % {"why": ", ".join(ranking.why_no_one()) or _("not found")}
            )
        offer = Offer.objects.create(
            case=case,
            specialist_id=specialist_id,
            offered_by=actor,
            deadline=_deadline(case),
            relaxed=sorted(relaxed),
            relax_reason=relax_reason.strip(),
        )
        case_hold_release(case=case, actor=actor)
        log_event(
            actor=actor,
            action="specialists.offer.made",
            obj=case,
            new={
                "specialist": specialist_id,
                "deadline": offer.deadline.isoformat(),
                "relaxed": sorted(relaxed),
                "relax_reason": offer.relax_reason,
            },
        )
        case_transition(actor=actor, ref=case.uuid, to_status=CaseStatus.OFFERED)
        return offer


def _offer_for_update(*, actor: User, case_ref: UUID | str) -> tuple[Case, Offer]:
    """The case and the actor's latest offer of it, both locked (the case row
    first, as offer_make and offer_expire lock them). The offer itself is the
    specialist's tie to the case, so a closed offer is refused in words, not
    with a 404."""
    offer = (
        Offer.objects.filter(case__uuid=case_ref, specialist=actor)
        .order_by("-created_at")
        .values_list("pk", "case_id")
        .first()
    )
    if offer is None or actor.role != Role.SPECIALIST:
        raise OfferError(_("There is no offer of this case to you."))
    case = Case.objects.select_for_update().get(pk=offer[1])
    return case, Offer.objects.select_for_update().get(pk=offer[0])


def offer_accept(*, actor: User, case_ref: UUID | str, conflict_attested: bool) -> Offer:
    """The specialist takes the case: it is assigned to them and moves to review.
    An expired or withdrawn offer, or a case no longer offered, is refused: the
    case row and the offer are locked, so one case is never assigned twice."""
    with transaction.atomic():
        case, offer = _offer_for_update(actor=actor, case_ref=case_ref)
        if offer.status == OfferStatus.ACCEPTED:
            return offer
        if offer.status != OfferStatus.OPEN or case.status != CaseStatus.OFFERED:
            raise OfferError(
                _("This offer is closed (%(status)s): the case has gone back to the coordinators.")
                % {"status": offer.get_status_display()}
            )
        if offer.deadline <= timezone.now():
            raise OfferError(_("The time to answer this offer has passed."))
        if not conflict_attested:
            raise OfferError(_("Confirm that you have no conflict of interest with this case."))

        def assign(case: Case, event: CaseEvent) -> list[str]:
            case.specialist = actor
            return ["specialist"]

        # The move first: it loads the case through the access rule, which lets
        # the specialist in through this open offer.
        case_transition(
            actor=actor,
            ref=case.uuid,
            to_status=CaseStatus.IN_REVIEW,
            on_change=assign,
        )
        offer.status = OfferStatus.ACCEPTED
        offer.conflict_attested = True
        offer.answered_at = timezone.now()
        offer.save(update_fields=["status", "conflict_attested", "answered_at"])
        log_event(
            actor=actor,
            action="specialists.offer.accepted",
            obj=case,
            new={"conflict_attested": True},
        )
        return offer


def offer_decline(*, actor: User, case_ref: UUID | str, reason: str, note: str = "") -> Offer:
    with transaction.atomic():
        case, offer = _offer_for_update(actor=actor, case_ref=case_ref)
        if offer.status != OfferStatus.OPEN:
            raise OfferError(
                _("This offer is already closed (%(status)s).")
                % {"status": offer.get_status_display()}
            )
        if reason not in DeclineReason.values:
            raise OfferError(_("Choose why you are declining."))
        if case.status != CaseStatus.OFFERED:
            raise OfferError(_("This case is no longer offered to you."))
        # The patient reads the timeline: the specialist's reason stays on the
        # offer and in the audit log.
        case_transition(
            actor=actor,
            ref=case.uuid,
            to_status=CaseStatus.MATCHING,
            reason=str(_("We are finding another specialist.")),
        )
        offer.status = OfferStatus.DECLINED
        offer.decline_reason = reason
        offer.decline_note = note.strip()
        offer.answered_at = timezone.now()
        offer.save(update_fields=["status", "decline_reason", "decline_note", "answered_at"])
        log_event(
            actor=actor,
            action="specialists.offer.declined",
            obj=case,
            new={"reason": reason},
        )
        return offer


def offer_expire(*, offer_id: int) -> bool:
    """Close an open offer whose deadline has passed and give the case back to
    matching (the case manager is told). Idempotent: True if it expired it."""
    with transaction.atomic():
        # The case row first, then the offer: the order offer_accept locks them in,
        # so the two can never deadlock, and one waits for the other.
        case_id = Offer.objects.filter(pk=offer_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return False
        Case.objects.select_for_update().filter(pk=case_id).first()
        offer = (
            Offer.objects.select_for_update()
            .select_related("case")
            .filter(pk=offer_id, status=OfferStatus.OPEN, deadline__lte=timezone.now())
            .first()
        )
        if offer is None:
            return False
        offer.status = OfferStatus.EXPIRED
        offer.answered_at = timezone.now()
        offer.save(update_fields=["status", "answered_at"])
        if offer.case.status == CaseStatus.OFFERED:
            case_transition(
                actor=None,
                ref=offer.case.uuid,
                to_status=CaseStatus.MATCHING,
                reason=str(_("The specialist did not answer in time.")),
            )
        log_event(
            actor=None,
            action="specialists.offer.expired",
            obj=offer.case,
            new={"specialist": offer.specialist_id},
        )
        return True


def offers_expire_due() -> int:
    """Expire every offer past its deadline; one that fails is logged and left
    for the next run, and does not stop the others."""
    due = Offer.objects.filter(status=OfferStatus.OPEN, deadline__lte=timezone.now())
    expired = 0
    for pk in due.values_list("pk", flat=True)[:500]:
        try:
            expired += offer_expire(offer_id=pk)
        except Exception:
            logger.exception("Could not expire offer %s; the next run tries again.", pk)
    return expired


# --- Triage: the specialty the case needs, and holding a case no one can take -----------------
def case_specialty_change(
    *, actor: User, case_ref: UUID | str, specialty_id: int, reason: str
) -> Case:
    """The coordinator sets the specialty the case needs (a patient who was not
    sure, or who chose "Pediatrics" for a heart defect). Recorded on the timeline
    with the reason, which the patient reads; a double submit changes nothing.
    An open offer to a specialist who no longer fits is withdrawn, and they and
    the case manager are told."""
    from requests_app.models import CaseAmendment

    from . import credentialing

    reason = (reason or "").strip()
    if not reason:
        raise OfferError(_("Say why the case needs this specialty: the patient reads it."))
    if len(reason) > 1000:
        raise OfferError(_("Keep the reason under 1,000 characters."))
    specialty = Specialty.objects.filter(pk=specialty_id).first()
    if specialty is None:
        raise OfferError(_("Choose a specialty from the list."))
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if actor.role != Role.COORDINATOR:
            raise OfferError(_("Only coordinators choose the specialty."))
        if case.status not in SPECIALTY_CHANGE_STATES:
            raise OfferError(_("The specialty can be changed until a specialist accepts the case."))
        if case.specialty_id == specialty.pk and not case.specialty_unsure:
            return case
        old = {
            "specialty": case.specialty.name if case.specialty else "",
            "specialty_unsure": case.specialty_unsure,
        }
        case.specialty, case.specialty_unsure = specialty, False
        case.save(update_fields=["specialty", "specialty_unsure", "updated_at"])
        new = {"specialty": specialty.name}
        CaseAmendment.objects.create(
            case=case,
            actor=actor,
            section="specialist",
            old_values={"specialty": old["specialty"]},
            new_values=new,
            reason=reason,
        )
        log_event(
            actor=actor,
            action="specialists.case.specialty_changed",
            obj=case,
            old=old,
            new={**new, "reason": reason},
        )
        offer = case.offers.filter(status=OfferStatus.OPEN).first()
        if offer is not None and not still_qualifies(case=case, specialist_id=offer.specialist_id):
            credentialing.offer_withdraw(
                offer_id=offer.pk,
                reason=_("the case now needs %(specialty)s") % {"specialty": str(specialty)},
            )
        return case


SPECIALTY_CHANGE_STATES = frozenset(
    {
        CaseStatus.SUBMITTED,
        CaseStatus.TRIAGE,
        CaseStatus.AWAITING_RECORDS,
        CaseStatus.MATCHING,
        CaseStatus.OFFERED,
    }
)


def case_hold(
    *, actor: User, case_ref: UUID | str, reason: str, until: date | None, note: str = ""
) -> Case:
    """No one qualifies: the coordinator holds the case with a reason the patient
    reads ("We are looking for a specialist licensed in your state") and a date
    to look again. The queue shows held cases; an offer ends the hold."""
    from requests_app.models import CaseEvent, HoldReason

    if reason not in HoldReason.values:
        raise OfferError(_("Choose why the case is on hold."))
    today = timezone.localdate()
    if until is None or until <= today:
        raise OfferError(_("Choose a day after today to look again."))
    if until > today + timedelta(days=90):
        raise OfferError(_("Look again within 90 days: the patient is waiting."))
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if actor.role != Role.COORDINATOR:
            raise OfferError(_("Only coordinators hold cases."))
        if case.status != CaseStatus.MATCHING:
            raise OfferError(_("Only a case waiting for a specialist can be put on hold."))
        if (case.hold_reason, case.hold_until, case.hold_note) == (reason, until, note.strip()):
            return case  # a double submit
        old = {
            "hold_reason": case.hold_reason,
            "hold_until": case.hold_until.isoformat() if case.hold_until else None,
        }
        case.hold_reason, case.hold_until, case.hold_note = reason, until, note.strip()
        case.save(update_fields=["hold_reason", "hold_until", "hold_note", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            actor=actor,
            old_status=case.status,
            new_status=case.status,
            reason=_("%(why)s We will look again by %(date)s.")
            % {"why": HoldReason(reason).label, "date": date_format(until, "DATE_FORMAT")},
        )
        log_event(
            actor=actor,
            action="specialists.case.held",
            obj=case,
            old=old,
            new={"hold_reason": reason, "hold_until": until.isoformat(), "note": case.hold_note},
        )
        return case


def case_hold_release(*, case: Case, actor: User | None = None) -> bool:
    """End a hold (an offer was made, or the coordinator looks again now). Call it
    with the case row locked; returns whether there was a hold."""
    if not case.hold_reason:
        return False
    old = {
        "hold_reason": case.hold_reason,
        "hold_until": case.hold_until.isoformat() if case.hold_until else None,
    }
    case.hold_reason, case.hold_until, case.hold_note = "", None, ""
    case.save(update_fields=["hold_reason", "hold_until", "hold_note", "updated_at"])
    log_event(
        actor=actor,
        action="specialists.case.hold_released",
        obj=case,
        old=old,
        new={"hold_reason": ""},
    )
    return True


def case_hold_end(*, actor: User, case_ref: UUID | str) -> Case:
    """The coordinator looks again now: the hold ends, on the patient's timeline too."""
    from requests_app.models import CaseEvent

    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if actor.role != Role.COORDINATOR:
            raise OfferError(_("Only coordinators hold cases."))
        if case_hold_release(case=case, actor=actor):
            CaseEvent.objects.create(
                case=case,
                actor=actor,
                old_status=case.status,
                new_status=case.status,
                reason=_("We are looking for your specialist again."),
            )
        return case


def patient_hold_message(case: Case) -> str:
    """The ready message the coordinator can edit and send to the patient's thread."""
    from requests_app.models import HoldReason

    reason = HoldReason(case.hold_reason or HoldReason.OTHER).label
    return _(
        "Hello,\n\n%(why)s Finding the right specialist for you matters more than "
        "finding one quickly, and we are working on it. You do not need to do anything "
        "now. We will write to you again by %(date)s at the latest.\n\nYour care team"
    ) % {
        "why": reason,
        "date": date_format(case.hold_until, "DATE_FORMAT")
        if case.hold_until
        else _("the end of next week"),
    }
