"""Writes for requests: start, save a section, submit, withdraw.

Every service takes the acting person and the case's UUID, and loads the case
through the access rule (selectors.case_for_viewer) with its row locked: a
person who may not see the case gets the same 404 as anywhere else."""

from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from secondop.accounts.models import Role
from secondop.accounts.services import user_set_time_zone
from secondop.audit.services import log_event
from secondop.timezones import state_zone_name

from .models import (
    CLOSED_STATES,
    OPEN_STATES,
    Case,
    CaseAmendment,
    CaseSection,
    CaseStatus,
    ReferenceCounter,
    SectionState,
)
from .sections import SECTIONS, SECTIONS_BY_KEY, due_at_for, urgency_for
from .selectors import case_for_viewer
from .workflow import (
    NOTICE_AMENDED,
    NOTICE_INSURANCE_CHECKED,
    NOTICE_OVERDUE,
    TransitionError,
    case_transition,
    send_notices,
)


class IncompleteRequest(Exception):
    def __init__(self, missing):
        super().__init__("incomplete")
        self.missing = missing


@transaction.atomic
def case_start(*, actor, request=None) -> Case:
    if actor.role != Role.PATIENT:
        raise TransitionError(_("Only patients and the people acting for them start requests."))
    case = Case.objects.create(owner=actor)
    log_event(actor=actor, action="requests.case.started", obj=case, request=request)
    return case


def case_is_editable(case: Case) -> bool:
    return case.status not in CLOSED_STATES


# Once the report is out the request is settled: its answers (the report was
# written from them) no longer change, and it can no longer be withdrawn; it
# closes when the follow-up window ends.
REPORT_OUT = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP})


def case_answers_can_change(case: Case) -> bool:
    return case_is_editable(case) and case.status not in REPORT_OUT


def case_can_withdraw(case: Case) -> bool:
    return case_answers_can_change(case)

@transaction.atomic
def case_section_save(
    *, actor, case_ref: UUID | str, section: str, data: dict, complete: bool = False,
    request=None,
) -> tuple[Case, bool]:
    """Save one section's answers (already validated: `data` holds Python values)
    and its state; returns the case and whether any answer changed.

    `complete`: the person asked to mark the section complete; it is, if the
    section's own rule agrees. The row lock means two tabs saving different
    sections both keep their answers. After sending, a change is an amendment
    (recorded, audited, and the care team told), and every section must stay
    complete."""
    handler = SECTIONS_BY_KEY[section]
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
    if actor.role != Role.PATIENT:
        raise TransitionError(_("Only the patient's own account can change the answers."))
    if not case_is_editable(case):
        raise TransitionError(_("This request is closed and can no longer be changed."))
    if case.status in REPORT_OUT:
        raise TransitionError(_("Your report is delivered, so your answers can no longer be "
                                "changed. To tell the specialist something, ask a follow-up "
                                "question."))
    submitted = case.status != CaseStatus.DRAFT

    before = handler.snapshot(case)
    fields = handler.apply(case, data, actor=actor, request=request)
    case.save(update_fields=[*fields, "updated_at"])
    after = handler.snapshot(case)
    is_complete = handler.is_complete(case)
    if submitted and not is_complete:
        raise TransitionError(_("After you send a request, every section must stay complete."))
    state = SectionState.COMPLETED if (complete or submitted) and is_complete else SectionState.IN_PROGRESS
    CaseSection.objects.update_or_create(case=case, section=section, defaults={"state": state})

    old = {k: v for k, v in before.items() if after.get(k) != v}
    new = {k: after[k] for k in old}
    if submitted and new:
        CaseAmendment.objects.create(case=case, actor=actor, section=section,
                                     old_values=old, new_values=new)
        log_event(actor=actor, action="requests.case.amended", obj=case, request=request,
                  old=old, new=new)
        send_notices(case, NOTICE_AMENDED, actor=actor)
    elif new:
        log_event(actor=actor, action="requests.case.section_saved", obj=case, request=request,
                  new={"section": section, "state": state})
    if "patient_state" in new and case.patient_state:
        # A patient reads times in the zone of the state they live in (secondop.timezones).
        user_set_time_zone(actor=actor, request=request,
                           time_zone=state_zone_name(case.patient_state) or actor.time_zone
                           or settings.TIME_ZONE)
    return case, bool(new)


def case_missing_sections(*, states: dict[str, str]) -> list:
    return [s for s in SECTIONS if states.get(s.key) != SectionState.COMPLETED]


def _next_reference(year: int) -> str:
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SO-{year}-{counter.last:06d}"


def case_submit(*, actor, case_ref: UUID | str, request=None) -> Case:
    """draft -> submitted: a reference, an urgency and a due date; the move tells
    the coordinators and gives the patient a receipt.

    A second click finds the case already submitted and does nothing."""
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if case.status == CaseStatus.DRAFT:
            missing = case_missing_sections(states=dict(
                case.sections.values_list("section", "state")))
            if missing:
                raise IncompleteRequest(missing)

        def assign(case, event):
            case.urgency = urgency_for(case, timezone.localdate())
            # The year the patient sent it in (their zone): not the UTC year on 31 December.
            case.reference = _next_reference(timezone.localdate().year)
            case.submitted_at = timezone.now()
            case.due_at = due_at_for(case)
            return ["urgency", "reference", "submitted_at", "due_at"]

        return case_transition(actor=actor, ref=case_ref, to_status=CaseStatus.SUBMITTED,
                               request=request, on_change=assign).case


def case_withdraw(*, actor, case_ref: UUID | str, reason: str, request=None) -> Case:
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if case.status in REPORT_OUT:
            raise TransitionError(_("Your report is delivered, so the request can no longer be "
                                    "withdrawn. It closes by itself when the time for "
                                    "follow-up questions ends."))
        return case_transition(actor=actor, ref=case_ref, to_status=CaseStatus.WITHDRAWN,
                           reason=reason, request=request).case


# --- Coordinators ---------------------------------------------------------------------
def _coordinator_case(*, actor, case_ref, message):
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
    if actor.role != Role.COORDINATOR:
        raise TransitionError(message)
    if not case_is_editable(case):
        raise TransitionError(_("This request is closed and can no longer be changed."))
    return case


@transaction.atomic
def case_claim(*, actor, case_ref: UUID | str, request=None) -> Case:
    """The coordinator becomes the case's manager (taking it over from another
    one if need be: the audit row keeps who had it)."""
    case = _coordinator_case(actor=actor, case_ref=case_ref,
                             message=_("Only coordinators manage cases."))
    if case.case_manager_id == actor.pk:
        return case
    old = case.case_manager_id
    case.case_manager = actor
    case.save(update_fields=["case_manager", "updated_at"])
    log_event(actor=actor, action="requests.case.claimed", obj=case, request=request,
              old={"case_manager": old}, new={"case_manager": actor.pk})
    return case


@transaction.atomic
def case_insurance_check(
    *, actor, case_ref: UUID | str, status: str, fee_quoted, note: str = "", request=None,
) -> Case:
    """Record whether the patient's plan covers the opinion, and what it costs
    them (guide 3.2). The patient is told, and sees it on their case page."""
    case = _coordinator_case(actor=actor, case_ref=case_ref,
                             message=_("Only coordinators check insurance."))
    old = {"insurance_status": case.insurance_status,
           "fee_quoted": str(case.fee_quoted) if case.fee_quoted is not None else None,
           "insurance_note": case.insurance_note}
    case.insurance_status = status
    case.fee_quoted = fee_quoted
    case.insurance_note = note.strip()
    case.insurance_checked_at = timezone.now()
    case.save(update_fields=["insurance_status", "fee_quoted", "insurance_note",
                             "insurance_checked_at", "updated_at"])
    new = {"insurance_status": status,
           "fee_quoted": str(fee_quoted) if fee_quoted is not None else None,
           "insurance_note": case.insurance_note}
    log_event(actor=actor, action="requests.case.insurance_checked", obj=case,
              request=request, old=old, new=new)
    if new != old:
        send_notices(case, NOTICE_INSURANCE_CHECKED, actor=actor)
    return case


def cases_flag_overdue(*, now=None, limit: int = 500) -> int:
    """Tell the case manager (and the specialist) once when an open case passes
    its due date. A conditional update claims each case, so two runs at once
    never tell twice."""
    now = now or timezone.now()
    due = (Case.objects.filter(status__in=OPEN_STATES, due_at__lt=now,
                               overdue_flagged_at__isnull=True)
           .values_list("pk", flat=True)[:limit])
    flagged = 0
    for pk in due:
        with transaction.atomic():
            if not Case.objects.filter(pk=pk, overdue_flagged_at__isnull=True,
                                       status__in=OPEN_STATES, due_at__lt=now).update(
                    overdue_flagged_at=now):
                continue  # another run got there first
            case = Case.objects.select_related("case_manager", "specialist").get(pk=pk)
            log_event(actor=None, action="requests.case.overdue", obj=case,
                      new={"due_at": case.due_at.isoformat()})
            send_notices(case, NOTICE_OVERDUE, actor=None)
            flagged += 1
    return flagged
