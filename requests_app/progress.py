"""What a patient is told about a request: the step it is at, in plain words,
and the next thing they need to do."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import CaseStatus

S = CaseStatus

STEPS = [
    _("Submitted"),
    _("Records checked"),
    _("Specialist matched"),
    _("Under review"),
    _("Report ready"),
    _("Follow-up"),
]

# The index of the step in progress; steps before it are done.
CURRENT_STEP = {
    S.SUBMITTED: 1, S.TRIAGE: 1, S.AWAITING_RECORDS: 1,
    S.MATCHING: 2, S.OFFERED: 2,
    S.IN_REVIEW: 3, S.CONSULTATION: 3, S.REPORT_READY: 3,
    S.DELIVERED: 5, S.FOLLOW_UP: 5, S.CLOSED: 6,
}

PLAIN_STATUS = {
    S.DRAFT: _("Not sent yet"),
    S.SUBMITTED: _("Received: a nurse coordinator will check it soon"),
    S.TRIAGE: _("A nurse coordinator is checking your request"),
    S.AWAITING_RECORDS: _("Waiting for medical records"),
    S.MATCHING: _("We are finding the right specialist"),
    S.OFFERED: _("We are finding the right specialist"),
    S.IN_REVIEW: _("A specialist is reviewing your case"),
    S.CONSULTATION: _("A consultation with the specialist is being arranged"),
    S.REPORT_READY: _("The specialist has written your report; we are checking it"),
    S.DELIVERED: _("Your report is ready"),
    S.FOLLOW_UP: _("The specialist is answering your follow-up questions"),
    S.CLOSED: _("Closed"),
    S.WITHDRAWN: _("Withdrawn"),
    S.CANCELLED: _("Cancelled by SecondOp"),
}

NEXT_STEP = {
    S.DRAFT: _("Finish your request and send it"),
    S.SUBMITTED: _("Nothing to do now. Gather your records: we will tell you what to send."),
    S.TRIAGE: _("Nothing to do now. Gather your records: we will tell you what to send."),
    S.AWAITING_RECORDS: _("Send us the records your coordinator asked for"),
    S.MATCHING: _("Nothing to do now. We will tell you who your specialist is."),
    S.OFFERED: _("Nothing to do now. We will tell you who your specialist is."),
    S.IN_REVIEW: _("Nothing to do now. The specialist may ask you a question."),
    S.CONSULTATION: _("Check the consultation details we sent you"),
    S.REPORT_READY: _("Nothing to do now. Your report is nearly ready."),
    S.DELIVERED: _("Your report is ready: read it and share it with your doctor"),
    S.FOLLOW_UP: _("Nothing to do now. We will tell you when the answers are ready."),
    S.CLOSED: "",
    S.WITHDRAWN: "",
    S.CANCELLED: "",
}

TAG_COLOUR = {
    S.DRAFT: "grey", S.WITHDRAWN: "grey", S.CANCELLED: "red", S.CLOSED: "grey",
    S.DELIVERED: "green", S.AWAITING_RECORDS: "yellow",
}


@dataclass(frozen=True)
class Step:
    label: str
    state: str  # done, current, todo


def steps_for(status: str) -> list[Step]:
    current = CURRENT_STEP.get(status)
    if current is None:
        return []
    return [
        Step(label, "done" if i < current else "current" if i == current else "todo")
        for i, label in enumerate(STEPS)
    ]


def describe(status: str) -> dict:
    return {
        "plain_status": PLAIN_STATUS[status],
        "next_step": NEXT_STEP[status],
        "tag": TAG_COLOUR.get(status, "blue"),
        "steps": steps_for(status),
    }
