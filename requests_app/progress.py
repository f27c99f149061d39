"""Every word said about a status, in one table keyed by status: the patient's
plain words, the step on the patient's tracker, the patient's next step, the
timeline sentence and the colour of its tag. The staff label is CaseStatus's
own label. A test fails if a status has no entry."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .fees import CONFIRM_BEFORE, CONFIRMED, TO_CONFIRM
from .models import CaseStatus, HoldReason

S = CaseStatus


@dataclass(frozen=True)
class TrackerStep:
    done: str  # "Records checked": what the step reads once it is behind the case
    now: str  # "now: records being checked": while the case is at it


STEPS = [
    TrackerStep(_("Submitted"), _("now: sending")),
    TrackerStep(_("Records checked"), _("now: records being checked")),
    TrackerStep(_("Specialist matched"), _("now: finding your specialist")),
    TrackerStep(_("Reviewed by the specialist"), _("now: the specialist is reviewing")),
    TrackerStep(_("Report ready"), _("now: report being checked")),
    TrackerStep(_("Follow-up"), _("now: follow-up questions")),
]


@dataclass(frozen=True)
class StatusText:
    plain: str  # what the patient is told
    step: int | None  # index in STEPS of the step in progress; None: no tracker
    next_step: str  # the patient's next thing to do ("" when there is none)
    event: str  # the timeline sentence when a case arrives at this status
    tag: str = "blue"
    action: str = ""  # the staff button that moves a case here


NOTHING_YET = _("Nothing to do now. Gather your records: we will tell you what to send.")
FINDING = _("Nothing to do now. We will tell you who your specialist is.")

STATUS_TEXT: dict[str, StatusText] = {
    S.DRAFT: StatusText(
        _("Not sent yet"), None, _("Finish your request and send it"),
        _("The request was started."), "grey"),
    S.SUBMITTED: StatusText(
        _("Received: a nurse coordinator will check it soon"), 1,
        NOTHING_YET, _("The request was sent.")),
    S.TRIAGE: StatusText(
        _("A nurse coordinator is checking your request"), 1, NOTHING_YET,
        _("A nurse coordinator started checking the request."), action=_("Start triage")),
    S.AWAITING_RECORDS: StatusText(
        _("Waiting for medical records"), 1,
        _("Send us the records your coordinator asked for"),
        _("The coordinator asked for medical records."), "yellow", action=_("Ask the patient for records")),
    S.MATCHING: StatusText(
        _("We are finding the right specialist; this can take up to 2 days"), 2,
        FINDING, _("The records were checked. We are finding the right specialist."), action=_("Triage done: find a specialist")),
    S.OFFERED: StatusText(
        _("We are finding the right specialist; this can take up to 2 days"), 2, FINDING,
        _("A specialist was asked to take the case.")),
    S.IN_REVIEW: StatusText(
        _("A specialist is reviewing your case"), 3,
        _("Nothing to do now. The specialist may ask you a question."),
        _("The specialist is reviewing the case."), action=_("Return to the specialist")),
    S.CONSULTATION: StatusText(
        _("You have a consultation with the specialist"), 3,
        _("See the time of your consultation below"),
        _("A consultation with the specialist was booked.")),
    S.REPORT_READY: StatusText(
        _("The specialist has written your report; we are checking it"),
        4, _("Nothing to do now. Your report is nearly ready."),
        _("The specialist finished the report.")),
    S.DELIVERED: StatusText(
        _("Your report is ready"), 5,
        _("Your report is ready: read it and share it with your doctor"),
        _("The report was delivered."), "green", action=_("Release the report to the patient")),
    S.FOLLOW_UP: StatusText(
        _("The specialist is answering your follow-up questions"), 5,
        _("Nothing to do now. We will tell you when the answers are ready."),
        _("A follow-up question was asked.")),
    S.CLOSED: StatusText(
        _("Closed"), 6, "", _("The request was closed."), "grey", action=_("Close the case")),
    S.WITHDRAWN: StatusText(
        _("Withdrawn"), None, "", _("The request was withdrawn."), "grey"),
    S.CANCELLED: StatusText(
        _("Cancelled by SecondOp"), None, "",
        _("SecondOp cancelled the request."), "red", action=_("Cancel the request")),
}


# A move whose button needs other words than its destination's `action`.
MOVE_ACTIONS = {
    (S.AWAITING_RECORDS, S.TRIAGE): _("Records received: back to triage"),
    (S.AWAITING_RECORDS, S.IN_REVIEW): _("Records received: back to review"),
}


def action_label(frm: str, to: str) -> str:
    return MOVE_ACTIONS.get((frm, to)) or STATUS_TEXT[to].action


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # done, current, todo


def steps_for(status: str) -> list[Step]:
    current = STATUS_TEXT[status].step
    if current is None:
        return []
    return [
        Step(step.now if i == current else step.done,
             "done" if i < current else "current" if i == current else "todo")
        for i, step in enumerate(STEPS)
    ]


# The fee step (requests_app.fees): shown once a fee is quoted, between the
# records and the specialist, because matching waits for it.
FEE_STEP = TrackerStep(_("Fee confirmed"), _("now: confirm the fee"))
FEE_STEP_AT = 2


def _with_fee_step(steps: list[Step], status: str, fee: str) -> list[Step]:
    if not steps or fee not in (TO_CONFIRM, CONFIRMED):
        return steps
    waiting = fee == TO_CONFIRM and status in CONFIRM_BEFORE
    if not waiting and fee == TO_CONFIRM:
        return steps  # offered before the patient confirmed (the step was skipped)
    step = Step(FEE_STEP.now, "current") if waiting else Step(FEE_STEP.done, "done")
    later = [Step(s.label, "todo") if waiting and s.state == "current" else s
             for s in steps[FEE_STEP_AT:]]
    return [*steps[:FEE_STEP_AT], step, *later]


def describe(status: str, *, open_questions: int = 0, fee: str = "", hold_reason: str = "",
             hold_until=None, today=None) -> dict:
    """`open_questions`: questions from the care team the patient has not answered
    (requests_app.messaging); answering them comes before anything else.
    `fee`: where the case's fee stands (requests_app.fees.fee_state); a quoted
    fee to confirm is the next step after the questions.
    `hold_reason`: matching is on hold (Case.hold_reason): its sentence replaces
    the usual one, which promises a specialist within 2 days."""
    text = STATUS_TEXT[status]
    next_step = text.next_step
    plain = text.plain
    if hold_reason and status == S.MATCHING:
        plain = HoldReason(hold_reason).label
        today = today or timezone.localdate()
        next_step = (_("Nothing to do now: we will write to you by %(date)s")
                     % {"date": date_format(hold_until, "j F")}
                     if hold_until and hold_until >= today
                     else _("Nothing to do now: we will write to you"))
    fee_waiting = fee == TO_CONFIRM and status in CONFIRM_BEFORE
    if fee_waiting:
        next_step = _("Confirm the fee for your second opinion")
    if open_questions:
        next_step = ngettext("Answer your care team's question",
                             "Answer your care team's %(n)s questions", open_questions) % {
            "n": open_questions}
    return {
        "staff_label": CaseStatus(status).label,
        "plain_status": plain,
        "next_step": next_step,
        "waiting_on_patient": bool(open_questions),
        # The fee is the next step (after any question): the pages link to it.
        "fee_waiting": fee_waiting and not open_questions,
        "tag": text.tag,
        "steps": _with_fee_step(steps_for(status), status, fee),
    }
