"""Follow-up questions: the patient asks, the assigned specialist answers."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.access import for_viewer
from requests_app.models import CaseStatus
from requests_app.workflow import (
    NOTICE_FOLLOW_UP_ANSWERED,
    NOTICE_FOLLOW_UP_ASKED,
    case_transition,
    send_notices,
)
from secondop.audit.services import log_event

from .. import selectors
from ..models import AnswerKind, FollowUpQuestion
from .common import DOUBLE_SUBMIT_WINDOW, AftercareError, patient_case

if TYPE_CHECKING:
    from secondop.accounts.models import User


# --- Follow-up questions -------------------------------------------------------------------
@transaction.atomic
def follow_up_ask(*, actor: User, case_ref: UUID | str, text: str) -> FollowUpQuestion:
    """The patient asks the specialist a question about the report: within
    FOLLOW_UP_DAYS of delivery, at most FOLLOW_UP_QUESTIONS. The case moves to
    "follow-up" (the specialist is told); a second question while one is open
    leaves it there and tells the specialist all the same."""
    case = patient_case(actor=actor, case_ref=case_ref)
    text = text.strip()
    # Under the case's lock, before the limit: a double submit of the last
    # question allowed is that question, not a refusal.
    earlier = (
        FollowUpQuestion.objects.filter(
            case=case,
            asked_by=actor,
            text=text,
            asked_at__gte=timezone.now() - DOUBLE_SUBMIT_WINDOW,
        )
        .order_by("-asked_at")
        .first()
    )
    if text and earlier is not None:
        return earlier
    asked = FollowUpQuestion.objects.filter(case=case).count()
    window = selectors.follow_up_window(case=case, asked=asked)
    if not window.can_ask:
        raise AftercareError(window.refusal)
    if not text:
        raise AftercareError(_("Enter your question."))
    question = FollowUpQuestion.objects.create(
        case=case, position=asked + 1, asked_by=actor, text=text
    )
    log_event(
        actor=actor,
        action="aftercare.follow_up.asked",
        obj=question,
        new={"case": case.reference, "position": question.position},
    )
    result = case_transition(actor=actor, ref=case.uuid, to_status=CaseStatus.FOLLOW_UP)
    if not result.changed:
        send_notices(result.case, NOTICE_FOLLOW_UP_ASKED, actor=actor)
    return question


@transaction.atomic
def follow_up_answer(
    *, actor: User, question_ref: UUID | str, kind: str, answer: str
) -> FollowUpQuestion:
    """The assigned specialist answers one question: an addendum to the report,
    or a recommendation of further tests or a follow-up consultation. When no
    question is left open the case goes back to "delivered" (the patient is
    told either way)."""
    question = for_viewer(
        FollowUpQuestion,
        question_ref,
        actor,
        sees=selectors.ANSWERS_FOLLOW_UPS,
        needs=selectors.ANSWERS_FOLLOW_UPS,
        for_update=True,
    )
    case = question.case
    if question.answered_at is not None:
        raise AftercareError(_("This question is already answered."))
    if case.status != CaseStatus.FOLLOW_UP:
        raise AftercareError(
            _(
                "This request is closed: the question can no longer be "
                "answered here. Please talk to the case manager."
            )
        )
    if kind not in AnswerKind.values:
        raise AftercareError(_("Choose what your answer is."))
    answer = answer.strip()
    if not answer:
        raise AftercareError(_("Enter your answer."))
    question.answer_kind, question.answer = kind, answer
    question.answered_by, question.answered_at = actor, timezone.now()
    question.save(update_fields=["answer_kind", "answer", "answered_by", "answered_at"])
    log_event(
        actor=actor,
        action="aftercare.follow_up.answered",
        obj=question,
        new={"case": case.reference, "kind": kind},
    )
    changed = False
    if not selectors.open_follow_ups(case=case).exists():
        changed = case_transition(
            actor=actor, ref=case.uuid, to_status=CaseStatus.DELIVERED
        ).changed
    if not changed:
        send_notices(case, NOTICE_FOLLOW_UP_ANSWERED, actor=actor)
    return question
