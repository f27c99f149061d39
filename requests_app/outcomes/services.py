"""Writes for the outcomes: the patient's SURE answers, their 90-day answer, and
the once-only 90-day question (the beat task's)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.aftercare.services.common import patient_case
from requests_app.models import Case
from secondop import refusals
from secondop.audit.services import log_event
from secondop.languages import speaking_to
from secondop.notifications.services import EmailText, notify

from . import selectors
from .models import SURE_QUESTIONS, Moment, SureAnswer, TreatmentChange, TreatmentOutcome
from .notices import OUTCOME_ASKED

if TYPE_CHECKING:
    from secondop.accounts.models import User


class OutcomeError(refusals.Refusal):
    """A refusal; the message is fit to show the person who asked."""


@transaction.atomic
def sure_record(
    *,
    actor: User,
    case_ref: UUID | str,
    moment: str,
    answers: dict[str, bool] | None,
) -> SureAnswer:
    """The account holder's SURE answers for one moment (None: they skipped it).
    Once per moment: a second send (a double submit) returns the first."""
    case = patient_case(actor=actor, case_ref=case_ref)
    if moment not in Moment.values:
        raise OutcomeError(_("There is no such moment for these questions."))
    if not selectors.sure_open(case=case, moment=moment):
        raise OutcomeError(
            _("These questions are asked when you send your request and after you read the report.")
        )
    existing = SureAnswer.objects.filter(case=case, moment=moment).first()
    if existing is not None:
        return existing
    fields = [name for name, _letter, _question in SURE_QUESTIONS]
    if answers is not None:
        if set(answers) != set(fields) or not all(isinstance(v, bool) for v in answers.values()):
            raise OutcomeError(_("Answer yes or no to each of the four questions, or skip them."))
        row = SureAnswer(
            case=case,
            moment=moment,
            answered_by=actor,
            score=sum(answers.values()),
            **answers,
        )
    else:
        row = SureAnswer(case=case, moment=moment, answered_by=actor, skipped=True)
    row.save()
    log_event(
        actor=actor,
        action="outcomes.sure.answered",
        obj=row,
        new={"case": case.reference, "moment": moment, "skipped": row.skipped},
    )
    return row


@transaction.atomic
def treatment_outcome_answer(*, actor: User, case_ref: UUID | str, answer: str) -> TreatmentOutcome:
    """The account holder's answer to the 90-day question (they may change it)."""
    case = patient_case(actor=actor, case_ref=case_ref)
    outcome = TreatmentOutcome.objects.select_for_update().filter(case=case).first()
    if outcome is None:
        raise OutcomeError(
            _("We ask this three months after your report is delivered. Please come back then.")
        )
    if answer not in TreatmentChange.values:
        raise OutcomeError(_("Choose one of the four answers."))
    old = outcome.answer
    outcome.answer = answer
    outcome.answered_at = timezone.now()
    outcome.save(update_fields=["answer", "answered_at"])
    log_event(
        actor=actor,
        action="outcomes.treatment.answered",
        obj=outcome,
        old={"answer": old},
        new={"case": case.reference, "answer": answer},
    )
    return outcome


def outcome_ask(*, case_id: int) -> bool:
    """Ask one case's account holder the 90-day question: one row per case (the
    unique key makes a second ask a no-op), and the notification in the same
    transaction. True when this call asked."""
    try:
        with transaction.atomic():
            case = Case.objects.select_related("owner").get(pk=case_id)
            TreatmentOutcome.objects.create(case=case)
            with speaking_to(case.owner):
                notify(
                    recipient=case.owner,
                    kind=OUTCOME_ASKED,
                    title=_("Did the second opinion for %(ref)s change your treatment?")
                    % {"ref": case.reference},
                    url=reverse("outcomes:treatment", args=[case.uuid]),
                    reference=case.reference or "",
                    email=EmailText(
                        subject=_("Three months on: one question about %(ref)s")
                        % {"ref": case.reference},
                        sentence=_(
                            "It is three months since your report for %(ref)s was delivered. "
                            "Please tell us, in one click, whether the second opinion changed "
                            "your treatment. Your answer helps us tell other patients honestly "
                            "what second opinions do."
                        )
                        % {"ref": case.reference},
                        action=_("Answer the question"),
                    ),
                )
    except IntegrityError:  # asked already (another worker, or a rerun)
        return False
    return True


def outcomes_ask_due() -> int:
    """The beat task's work: ask every case delivered OUTCOME_ASK_AFTER_DAYS ago
    or more that was never asked. Each case at most once, whatever the reruns."""
    due = selectors.cases_due_for_outcome(before=timezone.now() - settings.OUTCOME_ASK_AFTER)
    return sum(outcome_ask(case_id=case_id) for case_id in due)
