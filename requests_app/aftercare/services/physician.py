"""The patient's physician takes part (issue 21), only with the patient's consent
recorded on the share: one question to the specialist through their link, the
specialist's answer (an addendum both read), and the patient withdrawing that
consent. The physician has no account: their link's token is the credential,
and their writes are audited with no actor, the share as their object."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.access import for_viewer, get_or_404
from requests_app.models import Case, CaseStatus
from requests_app.workflow import NOTICE_PHYSICIAN_ANSWERED, NOTICE_PHYSICIAN_ASKED, send_notices
from secondop.audit.context import Source, audit_source, current_source
from secondop.audit.services import log_event

from .. import selectors
from ..models import PhysicianQuestion, Share
from .common import AftercareError, patient_case
from .sharing import Refusal, ShareRefused, path_without_token, too_many_bad_tokens

if TYPE_CHECKING:
    from secondop.accounts.models import User

# Where the physician may still ask: the report is with the patient, the case open.
ASKING_STATES = frozenset({CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP})


class ConsentWithdrawn(ShareRefused):
    """The patient did not agree, or no longer agrees, that the physician takes
    part: the page shows nothing of the case."""

    def __init__(self, share: Share) -> None:
        super().__init__(Refusal.REVOKED, share)
        self.message = _("The patient has not agreed that you ask questions through this link")
        self.reason = "no_consent"


def participating_share(*, token: str, lock: bool = False) -> Share:
    """The share the token names, usable, with the patient's participation
    consent in force; ShareRefused otherwise (the same refusals as the report)."""
    share = selectors.share_for_token(token=token)
    if share is None:
        raise ShareRefused(Refusal.TOO_MANY if too_many_bad_tokens() else Refusal.UNKNOWN)
    if lock:
        Case.objects.select_for_update().filter(pk=share.report.case_id).first()
        share = Share.objects.select_for_update().select_related("report__case").get(pk=share.pk)
    if share.revoked_at is not None or share.report.case.status == CaseStatus.WITHDRAWN:
        raise ShareRefused(Refusal.REVOKED, share)
    if share.is_expired:
        raise ShareRefused(Refusal.EXPIRED, share)
    if not share.may_take_part:
        raise ConsentWithdrawn(share)
    return share


def physician_question_refusal(*, share: Share) -> str:
    """Why this physician may not ask (now), or "" when they may."""
    case = share.report.case
    if PhysicianQuestion.objects.filter(
        case=case, share__recipient_email__iexact=share.recipient_email
    ).exists():
        return _(
            "You have asked your one question on this report. Its answer is shown on this "
            "page; for more, please talk to your patient."
        )
    if case.status not in ASKING_STATES:
        return _("This request is closed: questions can no longer be asked here.")
    return ""


@transaction.atomic
def physician_question_ask(*, token: str, text: str) -> PhysicianQuestion:
    """The physician asks the specialist their one question. A second question
    (this link or another to the same address) is refused with the reason."""
    share = participating_share(token=token, lock=True)
    case = share.report.case
    text = text.strip()
    refusal = physician_question_refusal(share=share)
    if refusal:
        raise AftercareError(refusal)
    if not text:
        raise AftercareError(_("Enter your question."))
    question = PhysicianQuestion.objects.create(share=share, case=case, text=text)
    # The audit row keeps the path without the token (a log has more readers).
    source = current_source() or Source(via="web")
    with audit_source(source.via, ip=source.ip, path=path_without_token(source.path)):
        log_event(
            actor=None,
            action="aftercare.physician.asked",
            obj=share,
            new={"case": case.reference, "question": str(question.uuid)},
        )
    send_notices(case, NOTICE_PHYSICIAN_ASKED, actor=None)
    return question


@transaction.atomic
def physician_question_answer(
    *, actor: User, question_ref: UUID | str, answer: str
) -> PhysicianQuestion:
    """The assigned specialist answers the physician's question: an addendum the
    patient (their case page) and the physician (their link) both read."""
    question = for_viewer(
        PhysicianQuestion,
        question_ref,
        actor,
        sees=selectors.ANSWERS_FOLLOW_UPS,
        needs=selectors.ANSWERS_FOLLOW_UPS,
        for_update=True,
    )
    case = question.case
    if question.answered_at is not None:
        raise AftercareError(_("This question is already answered."))
    if case.status in (CaseStatus.WITHDRAWN, CaseStatus.CANCELLED):
        raise AftercareError(
            _("This request is withdrawn: the question can no longer be answered.")
        )
    answer = answer.strip()
    if not answer:
        raise AftercareError(_("Enter your answer."))
    question.answer, question.answered_by, question.answered_at = answer, actor, timezone.now()
    question.save(update_fields=["answer", "answered_by", "answered_at"])
    log_event(
        actor=actor,
        action="aftercare.physician.answered",
        obj=question,
        new={"case": case.reference},
    )
    send_notices(case, NOTICE_PHYSICIAN_ANSWERED, actor=actor)
    return question


@transaction.atomic
def participation_withdraw(*, actor: User, share_ref: UUID | str) -> Share:
    """The patient takes back their consent that the physician takes part: from
    now on the link asks nothing (the report itself still opens until the link
    is withdrawn or expires). Twice changes nothing."""
    found = get_or_404(Share.objects.select_related("report__case"), uuid=share_ref)
    patient_case(actor=actor, case_ref=found.report.case.uuid)
    share = Share.objects.select_for_update().get(pk=found.pk)
    if not share.may_take_part:
        return share
    share.participation_withdrawn_at = timezone.now()
    share.save(update_fields=["participation_withdrawn_at"])
    log_event(
        actor=actor,
        action="aftercare.share.participation_withdrawn",
        obj=share,
        new={"withdrawn_at": share.participation_withdrawn_at.isoformat()},
    )
    return share
