"""Closing a delivered case when its follow-up window is over (SecondOp's own move)."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.models import Case, CaseStatus
from requests_app.workflow import (
    TransitionError,
    case_transition,
)

from .. import selectors
from ..models import FollowUpQuestion

logger = logging.getLogger(__name__)


# --- Closing --------------------------------------------------------------------------------
def cases_due_to_close(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """Delivered cases whose follow-up window is over, with no question open."""
    from django.db.models import Exists, OuterRef

    from requests_app.models import CaseEvent

    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.FOLLOW_UP_DAYS)
    delivered_before = CaseEvent.objects.filter(
        case=OuterRef("pk"),
        old_status=CaseStatus.REPORT_READY,
        new_status=CaseStatus.DELIVERED,
        created_at__lte=cutoff,
    )
    open_question = FollowUpQuestion.objects.filter(case=OuterRef("pk"), answered_at__isnull=True)
    return list(
        Case.objects.filter(status=CaseStatus.DELIVERED)
        .filter(Exists(delivered_before))
        .exclude(Exists(open_question))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def case_close_after_follow_up(*, case_id: int, now: datetime.datetime | None = None) -> bool:
    """Close one case whose follow-up is over (SecondOp's own move, actor None).
    The conditions are checked again under the row lock: a question asked a
    moment ago keeps the case open. Returns whether it closed."""
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None or case.status != CaseStatus.DELIVERED:
            return False
        window = selectors.follow_up_window(case=case, now=now)
        if window.ends_at is None or now < window.ends_at:
            return False
        if selectors.open_follow_ups(case=case).exists():
            return False
        result = case_transition(
            actor=None,
            ref=case.uuid,
            to_status=CaseStatus.CLOSED,
            reason=_("The %(days)s days for follow-up questions are over.")
            % {"days": settings.FOLLOW_UP_DAYS},
        )
        return result.changed


def cases_close_after_follow_up(*, now: datetime.datetime | None = None) -> int:
    """Every hour (beat): close each case that is due, one transaction each, so
    one failure does not keep the others open."""
    closed = 0
    for case_id in cases_due_to_close(now=now):
        try:
            closed += case_close_after_follow_up(case_id=case_id, now=now)
        except TransitionError:
            logger.exception("Case %s could not be closed after follow-up", case_id)
    return closed
