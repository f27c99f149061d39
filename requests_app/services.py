"""Writes for requests: start, save a section, submit, withdraw.

Every service takes the acting person and the case's UUID, and loads the case
through the access rule (access.case_for_viewer) with its row locked: a
person who may not see the case gets the same 404 as anywhere else."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from secondop.accounts.models import Role
from secondop.accounts.services import user_set_time_zone
from secondop.audit.services import log_event
from secondop.languages import speaking_to
from secondop.notifications.services import EmailText, notify
from secondop.refusals import Refusal
from secondop.timezones import state_zone_name

from .access import case_for_viewer
from .fees import items_total
from .models import (
    CLOSED_STATES,
    MAX_FEE,
    OPEN_STATES,
    Case,
    CaseAmendment,
    CaseEvent,
    CaseManagerChange,
    CaseSection,
    CaseStatus,
    Currency,
    Price,
    PriceItem,
    ReferenceCounter,
    SectionState,
)
from .notices import CASE_UPDATE
from .sections import SECTIONS, SECTIONS_BY_KEY, Section, due_at_for, urgency_for
from .workflow import (
    NOTICE_AMENDED,
    NOTICE_FEE_CONFIRMED,
    NOTICE_INSURANCE_CHECKED,
    NOTICE_OVERDUE,
    TransitionError,
    case_transition,
    send_notices,
)

if TYPE_CHECKING:
    from secondop.accounts.models import User


class IncompleteRequest(Refusal):
    """The request cannot be sent yet: `missing` are the sections not complete."""

    def __init__(self, missing: list[Section]) -> None:
        super().__init__(_("Some sections are not complete yet: see the list below."))
        self.missing = missing


@transaction.atomic
def case_start(*, actor: User) -> Case:
    if actor.role != Role.PATIENT:
        raise TransitionError(_("Only patients and the people acting for them start requests."))
    case = Case.objects.create(owner=actor)
    log_event(actor=actor, action="requests.case.started", obj=case)
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
    *,
    actor: User,
    case_ref: UUID | str,
    section: str,
    data: dict[str, Any],
    complete: bool = False,
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
        raise TransitionError(
            _(
                "Your report is delivered, so your answers can no longer be "
                "changed. To tell the specialist something, ask a follow-up "
                "question."
            )
        )
    submitted = case.status != CaseStatus.DRAFT

    before = handler.snapshot(case)
    fields = handler.apply(case, data, actor=actor)
    case.save(update_fields=[*fields, "updated_at"])
    after = handler.snapshot(case)
    is_complete = handler.is_complete(case)
    if submitted and not is_complete:
        raise TransitionError(_("After you send a request, every section must stay complete."))
    state = (
        SectionState.COMPLETED
        if (complete or submitted) and is_complete
        else SectionState.IN_PROGRESS
    )
    CaseSection.objects.update_or_create(case=case, section=section, defaults={"state": state})

    old = {k: v for k, v in before.items() if after.get(k) != v}
    new = {k: after[k] for k in old}
    if submitted and new:
        CaseAmendment.objects.create(
            case=case, actor=actor, section=section, old_values=old, new_values=new
        )
        log_event(actor=actor, action="requests.case.amended", obj=case, old=old, new=new)
        send_notices(case, NOTICE_AMENDED, actor=actor)
    elif new:
        log_event(
            actor=actor,
            action="requests.case.section_saved",
            obj=case,
            new={"section": section, "state": state},
        )
    if "patient_state" in new and case.patient_state:
        # A patient reads times in the zone of the state they live in (secondop.timezones).
        user_set_time_zone(
            actor=actor,
            time_zone=state_zone_name(case.patient_state) or actor.time_zone or settings.TIME_ZONE,
        )
    return case, bool(new)


def case_missing_sections(*, states: dict[str, str]) -> list[Section]:
    return [s for s in SECTIONS if states.get(s.key) != SectionState.COMPLETED]


def _next_reference(year: int) -> str:
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SO-{year}-{counter.last:06d}"


def case_submit(*, actor: User, case_ref: UUID | str) -> Case:
    """draft -> submitted: a reference, an urgency and a due date; the move tells
    the coordinators and gives the patient a receipt.

    A second click finds the case already submitted and does nothing."""
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if case.status == CaseStatus.DRAFT:
            missing = case_missing_sections(
                states=dict(case.sections.values_list("section", "state"))
            )
            if missing:
                raise IncompleteRequest(missing)

        def assign(case: Case, event: CaseEvent) -> list[str]:
            case.urgency = urgency_for(case, timezone.localdate())
            # The year the patient sent it in (their zone): not the UTC year on 31 December.
            case.reference = _next_reference(timezone.localdate().year)
            case.submitted_at = timezone.now()
            case.due_at = due_at_for(case)
            return ["urgency", "reference", "submitted_at", "due_at"]

        return case_transition(
            actor=actor,
            ref=case_ref,
            to_status=CaseStatus.SUBMITTED,
            on_change=assign,
        ).case


def case_withdraw(*, actor: User, case_ref: UUID | str, reason: str) -> Case:
    with transaction.atomic():
        case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
        if case.status in REPORT_OUT:
            raise TransitionError(
                _(
                    "Your report is delivered, so the request can no longer be "
                    "withdrawn. It closes by itself when the time for "
                    "follow-up questions ends."
                )
            )
        return case_transition(
            actor=actor,
            ref=case_ref,
            to_status=CaseStatus.WITHDRAWN,
            reason=reason,
        ).case


# --- Coordinators ---------------------------------------------------------------------
def _coordinator_case(*, actor: User, case_ref: UUID | str, message: str) -> Case:
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
    if actor.role != Role.COORDINATOR:
        raise TransitionError(message)
    if not case_is_editable(case):
        raise TransitionError(_("This request is closed and can no longer be changed."))
    return case


def case_claim(
    *,
    actor: User,
    case_ref: UUID | str,
    reason: str = "",
    expected_manager_id: int | None = None,
    start_triage: bool = False,
) -> Case:
    """The coordinator becomes the case's manager; with `start_triage`, a new
    request also moves to triage in the same transaction (one action from the
    queue).

    Taking over a case another coordinator manages needs a reason: it is kept
    (CaseManagerChange, on the care team's timeline and in the audit log) and
    the displaced manager is told. `expected_manager_id` is the manager the page
    showed (0: nobody): if someone else claimed the case in between, nothing is taken over
    and the coordinator is told who has it. A repeat (a double click) finds the
    actor already managing the case and changes nothing."""
    with transaction.atomic():
        case = _coordinator_case(
            actor=actor, case_ref=case_ref, message=_("Only coordinators manage cases.")
        )
        old = case.case_manager
        reason = (reason or "").strip()
        if old is not None and old.pk != actor.pk:
            # 0: the page showed nobody managing it.
            if expected_manager_id is not None and expected_manager_id != old.pk:
                raise TransitionError(
                    _("%(name)s manages this case now. Read the case again before taking it over.")
                    % {"name": old.full_name}
                )
            if not reason:
                raise TransitionError(
                    _("%(name)s manages this case. Say why you are taking it over: they are told.")
                    % {"name": old.full_name}
                )
        if old is None or old.pk != actor.pk:
            case.case_manager = actor
            case.save(update_fields=["case_manager", "updated_at"])
            log_event(
                actor=actor,
                action="requests.case.claimed",
                obj=case,
                old={"case_manager": old.pk if old else None},
                new={"case_manager": actor.pk, "reason": reason if old else ""},
            )
            if old is not None:
                CaseManagerChange.objects.create(
                    case=case, actor=actor, old_manager=old, reason=reason
                )
                words = {"name": actor.full_name, "ref": case.reference}
                with speaking_to(old):
                    notify(
                        recipient=old,
                        kind=CASE_UPDATE,
                        title=_("%(name)s took over %(ref)s from you") % words,
                        url=reverse("requests_app:staff_case", args=[case.uuid]),
                        reference=case.reference or "",
                        email=EmailText(
                            subject=_("%(name)s took over %(ref)s from you") % words,
                            sentence=_(
                                "%(name)s is now the case manager of %(ref)s; their "
                                "reason is on the case's timeline. You no longer need "
                                "to manage it."
                            )
                            % words,
                            action=_("Open the case"),
                        ),
                    )
        if start_triage and case.status == CaseStatus.SUBMITTED:
            case = case_transition(actor=actor, ref=case.uuid, to_status=CaseStatus.TRIAGE).case
        return case


def _fee_items(items: Iterable[str]) -> tuple[list[dict[str, str]], str]:
    """The chosen price-list lines, as they stand now, and their one currency."""
    items = list(items)
    prices = {p.item: p for p in Price.objects.filter(item__in=items, active=True)}
    if set(items) - set(prices):
        raise TransitionError(_("A service chosen is no longer on the price list: choose again."))
    lines = [
        {
            "item": item,
            "label": str(prices[item].get_item_display()),
            "amount": str(prices[item].amount),
            "currency": prices[item].currency,
        }
        for item in PriceItem.values
        if item in prices
    ]
    currencies = {line["currency"] for line in lines}
    if len(currencies) > 1:
        raise TransitionError(_("The services chosen are priced in different currencies."))
    return lines, (currencies.pop() if currencies else Currency.USD)


@transaction.atomic
def case_insurance_check(
    *,
    actor: User,
    case_ref: UUID | str,
    status: str,
    fee_quoted: Decimal | None,
    note: str = "",
    items: Iterable[str] = (),
) -> Case:
    """Record whether the patient's plan covers the opinion, the price-list
    services it is for (`items`), and what it costs the patient (guide 3.2).
    With no fee given, the fee is the services' total. The patient is told and
    confirms it in the app; a changed fee or outcome asks them again."""
    case = _coordinator_case(
        actor=actor, case_ref=case_ref, message=_("Only coordinators check insurance.")
    )
    lines, currency = _fee_items(items)
    if fee_quoted is None and lines:
        fee_quoted = items_total(lines)
    if fee_quoted is None:
        raise TransitionError(
            _("Enter the fee the patient pays, or choose the services it is for.")
        )
    if not 0 <= fee_quoted <= MAX_FEE:
        raise TransitionError(_("The fee must be between 0 and %(max)s.") % {"max": MAX_FEE})

    def snapshot() -> dict[str, Any]:
        return {
            "insurance_status": case.insurance_status,
            "fee_quoted": str(case.fee_quoted) if case.fee_quoted is not None else None,
            "fee_currency": case.fee_currency,
            "fee_items": [line["item"] for line in case.fee_items],
            "insurance_note": case.insurance_note,
        }

    old = snapshot()
    case.insurance_status = status
    case.fee_quoted = fee_quoted
    case.fee_currency = currency
    case.fee_items = lines
    case.insurance_note = note.strip()
    case.insurance_checked_at = timezone.now()
    new = snapshot()
    fields = [
        "insurance_status",
        "fee_quoted",
        "fee_currency",
        "fee_items",
        "insurance_note",
        "insurance_checked_at",
        "updated_at",
    ]
    if (old["insurance_status"], old["fee_quoted"], old["fee_currency"]) != (
        new["insurance_status"],
        new["fee_quoted"],
        new["fee_currency"],
    ):
        # What the patient confirmed is no longer what is quoted.
        case.fee_confirmed_at = None
        fields.append("fee_confirmed_at")
    case.save(update_fields=fields)
    log_event(
        actor=actor,
        action="requests.case.insurance_checked",
        obj=case,
        old=old,
        new=new,
    )
    if new != old:
        send_notices(case, NOTICE_INSURANCE_CHECKED, actor=actor)
    return case


@transaction.atomic
def case_fee_confirm(*, actor: User, case_ref: UUID | str, fee_seen: Decimal) -> Case:
    """The patient confirms the fee they were shown (`fee_seen`). If the quote
    changed since their page was drawn, nothing is confirmed and they are asked
    to read it again. A second click changes nothing."""
    case = case_for_viewer(viewer=actor, ref=case_ref, for_update=True)
    if actor.role != Role.PATIENT:
        raise TransitionError(_("Only the patient's own account can confirm the fee."))
    if not case_is_editable(case):
        raise TransitionError(_("This request is closed and can no longer be changed."))
    if case.fee_quoted is None or not case.insurance_status:
        raise TransitionError(
            _("There is no fee to confirm yet: your coordinator will tell you what it costs.")
        )
    if case.fee_quoted != fee_seen:
        raise TransitionError(
            _(
                "The fee has changed since you opened this page. Please read "
                "it again before you confirm."
            )
        )
    if case.fee_confirmed_at is not None:
        return case
    case.fee_confirmed_at = timezone.now()
    case.save(update_fields=["fee_confirmed_at", "updated_at"])
    log_event(
        actor=actor,
        action="requests.case.fee_confirmed",
        obj=case,
        new={"fee_quoted": str(case.fee_quoted), "fee_currency": case.fee_currency},
    )
    send_notices(case, NOTICE_FEE_CONFIRMED, actor=actor)
    return case


@transaction.atomic
def case_fee_waive(*, actor: User, case_ref: UUID | str, reason: str) -> Case:
    """The case manager records why matching goes ahead before the patient has
    confirmed a fee (a charity case, an insurer that pays the service directly).
    A repeat keeps the first reason."""
    case = _coordinator_case(
        actor=actor, case_ref=case_ref, message=_("Only coordinators skip the fee step.")
    )
    reason = (reason or "").strip()
    if not reason:
        raise TransitionError(
            _("Say why matching goes ahead without the patient's confirmation of the fee.")
        )
    if case.fee_waived_at is not None:
        return case
    case.fee_waived_reason = reason
    case.fee_waived_at = timezone.now()
    case.fee_waived_by = actor
    case.save(update_fields=["fee_waived_reason", "fee_waived_at", "fee_waived_by", "updated_at"])
    log_event(
        actor=actor,
        action="requests.case.fee_waived",
        obj=case,
        new={"reason": reason},
    )
    return case


# The demo's price list (price_list_seed); a real installation's administrator
# keeps their own in the Django admin.
DEMO_PRICES = {
    PriceItem.WRITTEN: (
        "750.00",
        "A specialist reads your records and answers your questions in a written report.",
    ),
    PriceItem.WITH_VIDEO: (
        "950.00",
        "The written report, and a video call with the specialist to talk it through.",
    ),
    PriceItem.PATHOLOGY: ("300.00", "A pathologist looks again at your biopsy slides."),
    PriceItem.IMAGING: ("250.00", "A radiologist looks again at your scans."),
    PriceItem.THIRD_OPINION: (
        "750.00",
        "When the second opinion differs: another specialist, who has not read it, "
        "reads your records and writes a third.",
    ),
}


def price_list_seed(*, prices: dict[str, tuple[str, str]] | None = None) -> int:
    """Fill the price list's missing lines (the demo). Idempotent: a line an
    administrator already set is never changed. Returns the lines created."""
    created = 0
    for item, (amount, description) in (prices or DEMO_PRICES).items():
        _price, made = Price.objects.get_or_create(
            item=item, defaults={"amount": Decimal(amount), "description": description}
        )
        created += made
    return created


def cases_flag_overdue(*, now: datetime | None = None, limit: int = 500) -> int:
    """Tell the case manager (and the specialist) once when an open case passes
    its due date. A conditional update claims each case, so two runs at once
    never tell twice."""
    now = now or timezone.now()
    due = Case.objects.filter(
        status__in=OPEN_STATES, due_at__lt=now, overdue_flagged_at__isnull=True
    ).values_list("pk", flat=True)[:limit]
    flagged = 0
    for pk in due:
        with transaction.atomic():
            if not Case.objects.filter(
                pk=pk, overdue_flagged_at__isnull=True, status__in=OPEN_STATES, due_at__lt=now
            ).update(overdue_flagged_at=now):
                continue  # another run got there first
            case = Case.objects.select_related("case_manager", "specialist").get(pk=pk)
            log_event(
                actor=None,
                action="requests.case.overdue",
                obj=case,
                new={"due_at": case.due_at.isoformat() if case.due_at else None},
            )
            send_notices(case, NOTICE_OVERDUE, actor=None)
            flagged += 1
    return flagged
