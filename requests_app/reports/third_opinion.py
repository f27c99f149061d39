"""A blinded third opinion (issue 21, item 5).

When the second opinion differs from the first doctor's (`ReportVersion.differs`:
another diagnosis, none without more tests, a changed or another treatment), the
patient may ask for a third. It is a request of its own (`Case.parent` names the
request it is on), so it goes through the same workflow as any other: the
coordinators triage and match it (matching leaves out the specialist who gave the
second opinion, and anyone at the diagnosing institution), a specialist accepts,
reviews, writes, signs; the case manager releases it.

Blinded: the third specialist works on their own request. They read the records
of the request it is on (requests_app.access.RECORD_READERS) and the patient's
questions (copied onto it), but that request's report is never theirs to open
(its report pages are the care team's, and they are not in it). Once they have
signed their own, `opinions_for_viewer` sets the opinions side by side for them,
the case manager and, once released, the patient, with the case manager's short
reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from requests_app.access import Relation, case_for_viewer, case_relation, get_or_404
from requests_app.models import (
    Case,
    CaseEvent,
    CaseQuestion,
    CaseStatus,
    ConsultationType,
    Price,
    PriceItem,
)
from requests_app.notices import CASE_UPDATE
from requests_app.sections import due_at_for, urgency_for
from requests_app.services import _next_reference
from requests_app.workflow import OWNER, Notice, case_transition, send_notices
from secondop.accounts.models import Role
from secondop.audit.services import log_access, log_event
from secondop.refusals import Refusal

from .models import ReportVersion, VersionStatus
from .selectors import released_version

if TYPE_CHECKING:
    from secondop.accounts.models import User

# The second opinion is out (released) and the request still open.
ASKABLE_STATES = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP})

# What the third opinion copies of the request it is on: who the patient is, the
# first doctor's diagnosis and plan, why they asked, their background. Not the
# fee, the hold, the care team or anything the second specialist wrote.
COPIED_FIELDS = (
    "urgency",
    "relationship",
    "patient_name",
    "authority_attested",
    "patient_dob",
    "patient_sex",
    "patient_phone",
    "patient_state",
    "preferred_language",
    "interpreter_needed",
    "accessibility_needs",
    "diagnosis",
    "icd10",
    "diagnosed_on",
    "diagnosing_physician",
    "diagnosing_institution",
    "proposed_treatment",
    "treatment_started",
    "treatment_date",
    "reasons",
    "concerns",
    "symptoms",
    "medications",
    "allergies",
    "other_conditions",
    "previous_treatments",
    "specialty",
    "specialist_language",
    "pcp_name",
    "pcp_practice",
    "pcp_email",
    "pcp_phone",
    "pcp_referred",
    "payment",
    "insurance_carrier",
    "insurance_plan",
    "insurance_member_id",
    "insurance_group_number",
    "insurance_policyholder",
    "insurance_status",
    "authorisation_version",
    "authorisation_signed_name",
    "authorisation_signed_at",
)

RECONCILED = Notice(
    CASE_UPDATE,
    OWNER,
    gettext_lazy("Your three opinions on %(ref)s are side by side"),
    gettext_lazy("Your opinions are ready to compare (%(ref)s)"),
    gettext_lazy(
        "Your case manager wrote a short note on how the opinions compare. You can read "
        "them side by side in the app."
    ),
    gettext_lazy("Compare the opinions"),
    page="reports:opinions",
)


class ThirdOpinionError(Refusal):
    """A third opinion that cannot be asked for or reconciled; the message is fit
    to show a person."""


# --- Reads ----------------------------------------------------------------------------------
def third_opinion_of(*, case: Case) -> Case | None:
    """The third opinion asked for on `case`, if there is one. Callers check
    access to `case` first."""
    return Case.objects.filter(parent=case).first()


def third_opinion_price() -> Price | None:
    return Price.objects.filter(item=PriceItem.THIRD_OPINION, active=True).first()


def third_opinion_offered(
    *,
    viewer: User,
    case: Case,
    released: ReportVersion | None = None,
    asked: bool | None = None,
) -> bool:
    """May the patient ask for a third opinion on `case` now? Their own request,
    not itself a third opinion, its released opinion differs from the first
    doctor's, still open, priced, and none asked for yet. `released` (the newest
    released version) and `asked` (whether one was asked for): when the caller has
    read them. The cheap checks first: most opinions agree."""
    if case_relation(viewer, case) != Relation.OWNER or case.parent_id is not None:
        return False
    if case.status not in ASKABLE_STATES:
        return False
    version = released if released is not None else released_version(case=case)
    if version is None or not version.differs:
        return False
    if third_opinion_of(case=case) is not None if asked is None else asked:
        return False
    return third_opinion_price() is not None


@dataclass(frozen=True)
class Opinions:
    """The three views, side by side: the first doctor's (from the intake), the
    second opinion, the third, and the case manager's reconciliation."""

    case: Case  # the third opinion
    parent: Case  # the request it is on
    second: ReportVersion
    third: ReportVersion
    relation: Relation


def _third_shown(viewer: User, case: Case, relation: Relation) -> ReportVersion | None:
    """The third opinion's version the viewer may set beside the second: the
    patient's released one; the staff's newest signed one (never a draft)."""
    versions = ReportVersion.objects.filter(report__case=case).order_by("-number")
    if relation == Relation.OWNER:
        versions = versions.filter(status=VersionStatus.RELEASED)
    else:
        versions = versions.exclude(status=VersionStatus.DRAFT)
    return versions.first()


def opinions_for_viewer(*, viewer: User, ref: UUID | str) -> Opinions:
    """The opinions side by side on the third opinion `ref`, or 404.

    The blinding is here: the third specialist (the third opinion's assigned
    specialist) reads the second report only once they have signed their own; until
    then this is a 404, as it is to anyone outside the third opinion's care team and
    to the patient until the third report is released. The staff read of the second
    report is logged on it."""
    case = case_for_viewer(viewer=viewer, ref=ref)
    relation = case_relation(viewer, case)
    allowed = {Relation.OWNER, Relation.CASE_MANAGER, Relation.ASSIGNED_SPECIALIST}
    if case.parent_id is None or relation not in allowed:
        raise Http404
    third = _third_shown(viewer, case, relation)
    if third is None:
        raise Http404
    parent = get_or_404(Case.objects.select_related("specialty"), pk=case.parent_id)
    second = released_version(case=parent)
    if second is None:
        raise Http404
    if relation != Relation.OWNER:
        log_access(viewer=viewer, obj=second)
    return Opinions(case=case, parent=parent, second=second, third=third, relation=relation)


# --- Writes ---------------------------------------------------------------------------------
def third_opinion_request(*, actor: User, case_ref: UUID | str) -> Case:
    """The patient asks for a third opinion on their request `case_ref`: a new
    request on it, sent at once (the coordinators are told, the patient gets the
    receipt), with the patient's questions, the fee from the price list (confirmed:
    asking for it after reading the price is the confirmation) and the same case
    manager. A second ask (a double click) returns the first."""
    with transaction.atomic():
        parent = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if existing := third_opinion_of(case=parent):
            return existing
        if case_relation(actor, parent) != Relation.OWNER:
            raise ThirdOpinionError(_("Only the patient asks for a third opinion."))
        if not third_opinion_offered(viewer=actor, case=parent):
            raise ThirdOpinionError(
                _(
                    "A third opinion is offered when the second opinion differs from your "
                    "first doctor's, while your request is open."
                )
            )
        price = third_opinion_price()
        assert price is not None  # third_opinion_offered checked it
        child = Case(
            owner=parent.owner,
            parent=parent,
            case_manager=parent.case_manager,
            consultation_type=ConsultationType.WRITTEN,
            fee_quoted=price.amount,
            fee_currency=price.currency,
            fee_items=[
                {
                    "item": price.item,
                    "label": str(price.get_item_display()),
                    "amount": str(price.amount),
                    "currency": price.currency,
                }
            ],
            fee_confirmed_at=timezone.now(),
            **{field: getattr(parent, field) for field in COPIED_FIELDS},
        )
        try:
            with transaction.atomic():
                child.save()
        except IntegrityError:  # asked at the same moment elsewhere: that one stands
            existing = third_opinion_of(case=parent)
            if existing is None:
                raise
            return existing
        CaseQuestion.objects.bulk_create(
            CaseQuestion(case=child, position=q.position, text=q.text)
            for q in parent.questions.all()
        )
        log_event(
            actor=actor,
            action="reports.third_opinion.requested",
            obj=parent,
            new={"third_opinion": str(child.uuid), "fee": str(price.amount)},
        )

        def sent(case: Case, event: CaseEvent) -> list[str]:
            case.urgency = urgency_for(case, timezone.localdate())
            case.reference = _next_reference(timezone.localdate().year)
            case.submitted_at = timezone.now()
            case.due_at = due_at_for(case)
            return ["urgency", "reference", "submitted_at", "due_at"]

        return case_transition(
            actor=actor, ref=child.uuid, to_status=CaseStatus.SUBMITTED, on_change=sent
        ).case


def third_opinion_reconcile(*, actor: User, case_ref: UUID | str, text: str) -> Case:
    """The case manager writes (or rewrites) the short note setting the opinions side
    by side, once the third report is released; the patient is told."""
    text = (text or "").strip()
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if actor.role != Role.COORDINATOR or case_relation(actor, case) != Relation.CASE_MANAGER:
            raise ThirdOpinionError(_("Only the case manager writes the reconciliation."))
        if case.parent_id is None:
            raise ThirdOpinionError(_("This request is not a third opinion."))
        if released_version(case=case) is None:
            raise ThirdOpinionError(
                _("Release the third opinion's report first: the patient reads them together.")
            )
        if not text:
            raise ThirdOpinionError(_("Write how the opinions compare, in plain words."))
        if text == case.reconciliation:
            return case
        first = not case.reconciliation
        old = case.reconciliation
        case.reconciliation = text
        case.reconciled_at = timezone.now()
        case.reconciled_by = actor
        case.save(update_fields=["reconciliation", "reconciled_at", "reconciled_by", "updated_at"])
        log_event(
            actor=actor,
            action="reports.third_opinion.reconciled",
            obj=case,
            old={"reconciliation": old},
            new={"reconciliation": text},
        )
        if first:
            send_notices(case, (RECONCILED,), actor=actor)
        return case
