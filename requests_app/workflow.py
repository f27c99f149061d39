"""The case workflow: one table of allowed transitions, one service to move a case.

Every status change in SecondOp goes through `case_transition`: it locks the
row, refuses a move not in the table, writes the timeline event and the audit
row in the same transaction, and queues notifications on commit. Moving a case
to the status it already has is a no-op (a double-click), not an error.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.audit.services import log_event

from .models import Case, CaseEvent, CaseStatus

S = CaseStatus
OPEN_STATES = frozenset(set(S) - {S.DRAFT, S.CLOSED, S.WITHDRAWN, S.CANCELLED})
PATIENT, COORDINATOR, SPECIALIST, ADMIN = Role.PATIENT, Role.COORDINATOR, Role.SPECIALIST, Role.ADMIN
STAFF = frozenset({COORDINATOR, ADMIN})

# (from, to) -> roles allowed to make that move.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.SUBMITTED): frozenset({PATIENT}),
    (S.SUBMITTED, S.TRIAGE): STAFF,
    (S.TRIAGE, S.AWAITING_RECORDS): STAFF,
    (S.AWAITING_RECORDS, S.TRIAGE): STAFF | {PATIENT},
    (S.TRIAGE, S.MATCHING): STAFF,
    (S.MATCHING, S.OFFERED): STAFF,
    (S.OFFERED, S.MATCHING): STAFF | {SPECIALIST},  # declined or expired
    (S.OFFERED, S.IN_REVIEW): frozenset({SPECIALIST}),  # accepted
    (S.IN_REVIEW, S.CONSULTATION): frozenset({SPECIALIST}),
    (S.CONSULTATION, S.IN_REVIEW): frozenset({SPECIALIST}),
    (S.IN_REVIEW, S.REPORT_READY): frozenset({SPECIALIST}),
    (S.REPORT_READY, S.IN_REVIEW): STAFF,  # sent back for changes
    (S.REPORT_READY, S.DELIVERED): STAFF,
    (S.DELIVERED, S.FOLLOW_UP): frozenset({PATIENT}),
    (S.FOLLOW_UP, S.DELIVERED): frozenset({SPECIALIST}),
    (S.DELIVERED, S.CLOSED): STAFF,
    (S.FOLLOW_UP, S.CLOSED): STAFF,
    **{(state, S.WITHDRAWN): frozenset({PATIENT}) for state in OPEN_STATES | {S.DRAFT}},
    **{(state, S.CANCELLED): STAFF for state in OPEN_STATES},
}

# Moves that must say why.
REASON_REQUIRED = frozenset({S.WITHDRAWN, S.CANCELLED, S.AWAITING_RECORDS})


class TransitionError(Exception):
    """A move the workflow does not allow; the message is fit to show a person."""


@dataclass(frozen=True)
class TransitionResult:
    case: Case
    changed: bool
    event: CaseEvent | None


def allowed_transitions(*, case: Case, role: str) -> list[str]:
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == case.status and role in roles]


def case_transition(
    *, case_id: int, actor, to_status: str, reason: str = "", request=None, on_change=None
) -> TransitionResult:
    """Move a case to `to_status`. `on_change(case, event)` runs inside the
    transaction, after the event is written (side effects like a reference)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        old = case.status
        if old == to_status:
            return TransitionResult(case=case, changed=False, event=None)
        roles = TRANSITIONS.get((old, to_status))
        if roles is None:
            raise TransitionError(
                _("A request that is “%(old)s” cannot become “%(new)s”.")
                % {"old": S(old).label, "new": S(to_status).label}
            )
        if actor.role not in roles:
            raise TransitionError(_("You are not allowed to make this change."))
        reason = (reason or "").strip()
        if to_status in REASON_REQUIRED and not reason:
            raise TransitionError(_("Please give a reason."))
        case.status = to_status
        fields = ["status", "updated_at"]
        if to_status in {S.CLOSED, S.WITHDRAWN, S.CANCELLED}:
            case.closed_at = timezone.now()
            fields.append("closed_at")
        event = CaseEvent.objects.create(
            case=case, actor=actor, old_status=old, new_status=to_status, reason=reason,
        )
        if on_change is not None:
            fields += on_change(case, event) or []
        case.save(update_fields=fields)
        log_event(actor=actor, action=f"requests.case.{to_status}", obj=case, request=request,
                  old={"status": old}, new={"status": to_status, "reason": reason})
        return TransitionResult(case=case, changed=True, event=event)
