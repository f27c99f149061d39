"""Every word said about a status, in one table keyed by status: the patient's
plain words, the step on the patient's tracker, the patient's next step, the
timeline sentence and the colour of its tag. The staff label is CaseStatus's
own label. A test fails if a status has no entry.

What the patient reads also depends on the case's facts (`CaseFacts`: their
records, a question waiting for them, a consultation), so that the sentence, the
next step and the tracker never contradict each other or the case: "Nothing to
do now" is never said while no record has been sent, "records being checked"
only while some are, and a delivered case promises no due date."""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from secondop.timezones import format_local

from .fees import CONFIRM_BEFORE, CONFIRMED, TO_CONFIRM
from .models import CaseStatus, HoldReason

S = CaseStatus


@dataclass(frozen=True)
class TrackerStep:
    done: str  # "Request checked": what the step reads once it is behind the case
    now: str  # "now: finding your specialist": while the case is at it (facts may say more)


STEPS = [
    TrackerStep(_("Request sent"), _("now: sending")),
    TrackerStep(_("Request checked"), _("now: a nurse coordinator is checking your request")),
    TrackerStep(_("Specialist found"), _("now: finding your specialist")),
    TrackerStep(_("Reviewed by the specialist"), _("now: the specialist is reviewing")),
    TrackerStep(_("Report checked"), _("now: your report is being checked")),
    TrackerStep(_("Report delivered"), _("now: delivering your report")),
]
FOLLOW_UP_STEP = TrackerStep(
    _("Follow-up questions answered"), _("now: the specialist is answering your follow-up question")
)


@dataclass(frozen=True)
class StatusText:
    plain: str  # what the patient is told
    step: int | None  # index in STEPS of the step in progress; None: no tracker
    next_step: str  # the patient's next thing to do ("" when there is none)
    event: str  # the timeline sentence when a case arrives at this status
    tag: str = "blue"
    action: str = ""  # the staff button that moves a case here


FINDING = _("Nothing to do now. We will tell you who your specialist is.")

STATUS_TEXT: dict[str, StatusText] = {
    S.DRAFT: StatusText(
        _("Not sent yet"),
        None,
        _("Finish your request and send it"),
        _("The request was started."),
        "grey",
    ),
    S.SUBMITTED: StatusText(
        _("Received: a nurse coordinator will check it soon"),
        1,
        _("Nothing to do now. A nurse coordinator will check your request soon."),
        _("The request was sent."),
    ),
    S.TRIAGE: StatusText(
        _("A nurse coordinator is checking your request"),
        1,
        _("Nothing to do now. We will tell you if anything else is needed."),
        _("A nurse coordinator started checking the request."),
        action=_("Start triage"),
    ),
    S.AWAITING_RECORDS: StatusText(
        _("Waiting for the medical records your care team asked for"),
        1,
        _("Send us the records your care team asked for"),
        _("The coordinator asked for medical records."),
        "yellow",
        action=_("Ask the patient for records"),
    ),
    S.MATCHING: StatusText(
        _("We are finding the right specialist; this can take up to 2 days"),
        2,
        FINDING,
        _("The records were checked. We are finding the right specialist."),
        action=_("Triage done: find a specialist"),
    ),
    S.OFFERED: StatusText(
        _("We are finding the right specialist; this can take up to 2 days"),
        2,
        FINDING,
        _("A specialist was asked to take the case."),
    ),
    S.IN_REVIEW: StatusText(
        _("A specialist is reviewing your case"),
        3,
        _("Nothing to do now. The specialist may ask you a question."),
        _("The specialist is reviewing the case."),
        action=_("Return to the specialist"),
    ),
    S.CONSULTATION: StatusText(
        _("You have a consultation with the specialist"),
        3,
        _("Go to your consultation at the time below"),
        _("A consultation with the specialist was booked."),
    ),
    S.REPORT_READY: StatusText(
        _("The specialist has written your report; we are checking it"),
        4,
        _("Nothing to do now. Your report is nearly ready."),
        _("The specialist finished the report."),
    ),
    S.DELIVERED: StatusText(
        _("Your report is ready"),
        len(STEPS),
        _("Read your report and share it with your doctor"),
        _("The report was delivered."),
        "green",
        action=_("Release the report to the patient"),
    ),
    S.FOLLOW_UP: StatusText(
        _("The specialist is answering your follow-up question"),
        len(STEPS),
        _("Nothing to do now. We will tell you when the answer is ready."),
        _("A follow-up question was asked."),
    ),
    S.CLOSED: StatusText(
        _("Closed"),
        len(STEPS),
        "",
        _("The request was closed."),
        "grey",
        action=_("Close the case"),
    ),
    S.WITHDRAWN: StatusText(_("Withdrawn"), None, "", _("The request was withdrawn."), "grey"),
    S.CANCELLED: StatusText(
        _("Cancelled by SecondOp"),
        None,
        "",
        _("SecondOp cancelled the request."),
        "red",
        action=_("Cancel the request"),
    ),
}

# The report is out: no due date is promised any more, and the request can no
# longer be withdrawn or its answers changed (the report was written from them).
REPORT_OUT = frozenset({S.DELIVERED, S.FOLLOW_UP, S.CLOSED})
# Before the specialist has the case: the records are still being gathered.
BEFORE_REVIEW = frozenset({S.SUBMITTED, S.TRIAGE, S.AWAITING_RECORDS, S.MATCHING, S.OFFERED})
# Where a missing record is worth asking for: every open state before the report.
GATHERING = BEFORE_REVIEW | {S.IN_REVIEW, S.CONSULTATION}


# A move whose button needs other words than its destination's `action`.
MOVE_ACTIONS = {
    (S.AWAITING_RECORDS, S.TRIAGE): _("Records received: back to triage"),
    (S.AWAITING_RECORDS, S.IN_REVIEW): _("Records received: back to review"),
}


def action_label(frm: str, to: str) -> str:
    return MOVE_ACTIONS.get((frm, to)) or STATUS_TEXT[to].action


# --- The case's facts --------------------------------------------------------------------
class Records:
    """Where the patient's records stand (CaseFacts.records)."""

    NONE = "none"  # none sent (or only ones refused)
    CHECKING = "checking"  # some being checked
    FLAGGED = "flagged"  # a checked study labelled for another person waits for the patient
    CHECKED = "checked"  # all sent ones checked and ready
    REQUESTED = "requested"  # the care team asked for something not sent yet


@dataclass(frozen=True)
class CaseFacts:
    """What the words depend on besides the status (requests_app.selectors.case_facts)."""

    records_checking: int = 0  # uploaded, being checked
    records_checked: int = 0  # checked and ready
    # Checked studies labelled for another person, waiting for the patient's answer
    # ("is it yours?"): not ready, the care team cannot see them yet.
    records_flagged: int = 0
    records_asked: int = 0  # requests from the care team still open
    open_questions: int = 0  # questions from the care team not answered
    consultation: str = ""  # the open consultation's status: proposed, other_times, booked
    consultation_at: datetime | None = None  # the booked time
    delivered_at: datetime | None = None  # when the report was first released
    asked_in_review: bool = False  # the records waited for were asked for during the review
    fee: str = ""  # where the fee stands (requests_app.fees.fee_state)
    hold_reason: str = ""  # matching is on hold (Case.hold_reason)
    hold_until: date | None = None  # the day the coordinator looks again

    @property
    def fee_waiting(self) -> bool:
        return self.fee == TO_CONFIRM

    def held(self, status: str) -> bool:
        return bool(self.hold_reason) and status == S.MATCHING

    def records(self, status: str) -> str:
        if self.records_asked or status == S.AWAITING_RECORDS:
            return Records.REQUESTED
        if self.records_checking:
            return Records.CHECKING
        if self.records_flagged:
            return Records.FLAGGED
        return Records.CHECKED if self.records_checked else Records.NONE


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # done, current, todo


def _current_label(status: str, facts: CaseFacts) -> str:
    records = facts.records(status)
    if status == S.SUBMITTED:
        return str(_("now: waiting for a nurse coordinator"))
    if status == S.AWAITING_RECORDS:
        if facts.records_checking:
            return str(_("now: checking the records you sent"))
        if facts.asked_in_review:
            return str(_("now: waiting for the records the specialist asked for"))
        return str(_("now: waiting for the records asked for"))
    if status == S.TRIAGE and records == Records.CHECKING:
        return str(_("now: checking your request and your records"))
    if status == S.CONSULTATION:
        return str(_("now: your consultation with the specialist"))
    return str(STEPS[STATUS_TEXT[status].step].now)


def steps_for(status: str, facts: CaseFacts | None = None) -> list[Step]:
    facts = facts or CaseFacts()
    current = STATUS_TEXT[status].step
    if current is None:
        return []
    if status == S.AWAITING_RECORDS and facts.asked_in_review:
        current = 3  # asked for by the specialist: the review waits, it has not gone back
    steps = [
        Step(
            _current_label(status, facts) if i == current else str(step.done),
            "done" if i < current else "current" if i == current else "todo",
        )
        for i, step in enumerate(STEPS)
    ]
    if status == S.FOLLOW_UP:
        steps.append(Step(str(FOLLOW_UP_STEP.now), "current"))
    return steps


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
    step = Step(str(FEE_STEP.now), "current") if waiting else Step(str(FEE_STEP.done), "done")
    later = [
        Step(s.label, "todo") if waiting and s.state == "current" else s
        for s in steps[FEE_STEP_AT:]
    ]
    return [*steps[:FEE_STEP_AT], step, *later]


def _records_words(facts: CaseFacts) -> str:
    """ "2 checked and ready, 1 being checked"; "" when none were sent."""
    parts = []
    if facts.records_checked:
        parts.append(
            ngettext("%(n)s checked and ready", "%(n)s checked and ready", facts.records_checked)
            % {"n": facts.records_checked}
        )
    if facts.records_checking:
        parts.append(
            ngettext("%(n)s being checked", "%(n)s being checked", facts.records_checking)
            % {"n": facts.records_checking}
        )
    if facts.records_flagged:
        parts.append(
            ngettext(
                "%(n)s waiting for your answer (labelled for another person?)",
                "%(n)s waiting for your answer (labelled for another person?)",
                facts.records_flagged,
            )
            % {"n": facts.records_flagged}
        )
    return ", ".join(parts)


def _next_step(status: str, facts: CaseFacts) -> tuple[str, str]:
    """The patient's next step and where it is done: "records", "messages",
    "consultation", "report" or ""."""
    text = STATUS_TEXT[status]
    if not text.next_step:
        return "", ""
    if facts.open_questions:
        return ngettext(
            "Answer your care team's question",
            "Answer your care team's %(n)s questions",
            facts.open_questions,
        ) % {"n": facts.open_questions}, "messages"
    if facts.records_flagged:
        # Only the patient can say whose images they are; the care team waits for it.
        return ngettext(
            "Tell us whether a study you sent is yours: it is labelled for another person",
            "Tell us whether %(n)s studies you sent are yours: they are labelled for "
            "another person",
            facts.records_flagged,
        ) % {"n": facts.records_flagged}, "records"
    if facts.fee_waiting and status in CONFIRM_BEFORE:
        return str(_("Confirm the fee for your second opinion")), "fee"
    if facts.consultation == "proposed":
        return str(_("Choose a time for your consultation")), "consultation"
    if facts.held(status):
        # Matching is on hold: no promise of a specialist within 2 days.
        if facts.hold_until and facts.hold_until >= timezone.localdate():
            return _("Nothing to do now: we will write to you by %(date)s") % {
                "date": date_format(facts.hold_until, "MONTH_DAY_FORMAT")
            }, ""
        return str(_("Nothing to do now: we will write to you")), ""
    records = facts.records(status)
    if status in GATHERING and records == Records.REQUESTED:
        if facts.records_checking:
            return ngettext(
                "Nothing to do now. We are checking the record you sent; if it is not "
                "everything your care team asked for, send the rest.",
                "Nothing to do now. We are checking the %(n)s records you sent; if they are "
                "not everything your care team asked for, send the rest.",
                facts.records_checking,
            ) % {"n": facts.records_checking}, "records"
        return str(_("Send us the records your care team asked for")), "records"
    if status in GATHERING and records == Records.NONE:
        return str(
            _("Send your medical records: the specialist needs them to review your case")
        ), "records"
    if status == S.CONSULTATION and facts.consultation == "booked" and facts.consultation_at:
        return _("Go to your consultation on %(when)s") % {
            "when": format_local(facts.consultation_at)
        }, "consultation"
    if status == S.IN_REVIEW and facts.consultation == "other_times":
        return str(
            _("Nothing to do now. The specialist will propose other times for your consultation.")
        ), ""
    if status in {S.SUBMITTED, S.TRIAGE} and records == Records.CHECKING:
        return ngettext(
            "Nothing to do now. We are checking the record you sent.",
            "Nothing to do now. We are checking the %(n)s records you sent.",
            facts.records_checking,
        ) % {"n": facts.records_checking}, "records"
    if status in {S.SUBMITTED, S.TRIAGE} and records == Records.CHECKED:
        return ngettext(
            "Nothing to do now. Your record is checked and ready; a nurse coordinator "
            "will tell you if anything else is needed.",
            "Nothing to do now. Your %(n)s records are checked and ready; a nurse "
            "coordinator will tell you if anything else is needed.",
            facts.records_checked,
        ) % {"n": facts.records_checked}, ""
    if status in {S.DELIVERED, S.FOLLOW_UP}:
        return str(text.next_step), "report" if status == S.DELIVERED else ""
    return str(text.next_step), ""


def describe(status: str, facts: CaseFacts | None = None) -> dict:
    """Everything the patient reads about where their case stands. `facts`: see
    CaseFacts (open questions from the care team come before anything else)."""
    facts = facts or CaseFacts()
    text = STATUS_TEXT[status]
    next_step, next_link = _next_step(status, facts)
    open_case = status not in {S.WITHDRAWN, S.CANCELLED, S.CLOSED, S.DRAFT}
    plain = HoldReason(facts.hold_reason).label if facts.held(status) else text.plain
    return {
        "staff_label": CaseStatus(status).label,
        "plain_status": plain,
        "next_step": next_step,
        "next_link": next_link,
        "waiting_on_patient": bool(facts.open_questions or facts.records_flagged) and open_case,
        # The fee is the next step (after any question): the pages link to it.
        "fee_waiting": next_link == "fee",
        "tag": text.tag,
        "steps": _with_fee_step(steps_for(status, facts), status, facts.fee),
        "records": facts.records(status),
        "records_words": _records_words(facts),
        # A due date is a promise about a report still to come.
        "shows_due_date": status in OPEN_BEFORE_REPORT,
        "delivered_at": facts.delivered_at if status in REPORT_OUT else None,
    }


OPEN_BEFORE_REPORT = frozenset(
    {
        S.SUBMITTED,
        S.TRIAGE,
        S.AWAITING_RECORDS,
        S.MATCHING,
        S.OFFERED,
        S.IN_REVIEW,
        S.CONSULTATION,
        S.REPORT_READY,
    }
)
