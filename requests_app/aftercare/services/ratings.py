"""The patient's rating of the service, once the case is closed."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils.translation import gettext as _

from requests_app.models import CaseStatus
from secondop.audit.services import log_event

from ..models import ServiceRating
from .common import AftercareError, patient_case

if TYPE_CHECKING:
    from secondop.accounts.models import User


# --- Rating ----------------------------------------------------------------------------------
@transaction.atomic
def rating_create(
    *, actor: User, case_ref: UUID | str, score: int, comment: str = ""
) -> ServiceRating:
    """The patient rates the service once the case is closed; once only."""
    case = patient_case(actor=actor, case_ref=case_ref)
    if case.status != CaseStatus.CLOSED:
        raise AftercareError(_("You can rate our service once your request is closed."))
    if ServiceRating.objects.filter(case=case).exists():
        raise AftercareError(_("You have already rated our service for this request. Thank you."))
    if not 1 <= score <= 5:
        raise AftercareError(_("Choose a rating from 1 to 5."))
    rating = ServiceRating.objects.create(
        case=case, rated_by=actor, score=score, comment=comment.strip()
    )
    log_event(
        actor=actor,
        action="aftercare.rating.created",
        obj=rating,
        new={"case": case.reference, "score": score},
    )
    return rating
