"""The case workflow: one table of allowed transitions, one table of what each
move tells whom, and one service to move a case.

Every status change in SecondOp goes through `case_transition`: it loads the
case through the access rule (an actor who may not see it gets a 404) with the
row locked, refuses a move not in the table or not open to the actor's role,
writes the timeline event and the audit row, and writes the notifications the
move declares, all in one transaction (delivery is queued on commit). Moving a
case to the status it already has is a no-op (a double-click), not an error.
"""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from django.apps import apps
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role, User
from secondop.audit.services import log_event
from secondop.notifications.models import Kind
from secondop.notifications.services import notify

from .models import CLOSED_STATES, OPEN_STATES, Case, CaseEvent, CaseStatus
from .selectors import case_for_viewer

S = CaseStatus
PATIENT, COORDINATOR, SPECIALIST = Role.PATIENT, Role.COORDINATOR, Role.SPECIALIST
# Administrators manage accounts and reference data; they see no case (DESIGN.md).
STAFF = frozenset({COORDINATOR})

# The patient may withdraw a request until its report is out; then it is settled
# and closes by itself when the follow-up window ends.
WITHDRAWABLE = (OPEN_STATES | {S.DRAFT}) - {S.DELIVERED, S.FOLLOW_UP}

# (from, to) -> roles allowed to make that move.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (S.DRAFT, S.SUBMITTED): frozenset({PATIENT}),
    (S.SUBMITTED, S.TRIAGE): STAFF,
    (S.TRIAGE, S.AWAITING_RECORDS): STAFF,
    (S.AWAITING_RECORDS, S.TRIAGE): STAFF | {PATIENT},
    # The specialist (or the case manager) asks for more while reviewing; it goes
    # back to review when everything asked for has arrived.
    (S.IN_REVIEW, S.AWAITING_RECORDS): STAFF | {SPECIALIST},
    (S.AWAITING_RECORDS, S.IN_REVIEW): STAFF | {SPECIALIST},
    (S.TRIAGE, S.MATCHING): STAFF,
    (S.MATCHING, S.OFFERED): STAFF,
    (S.OFFERED, S.MATCHING): STAFF | {SPECIALIST},  # declined or expired
    (S.OFFERED, S.IN_REVIEW): frozenset({SPECIALIST}),  # accepted
    # Consultations (requests_app.consultations): booked when the patient picks one
    # of the specialist's times; back to review when the specialist records it held
    # or missed, or either of them cancels it.
    (S.IN_REVIEW, S.CONSULTATION): frozenset({SPECIALIST, PATIENT}),
    (S.CONSULTATION, S.IN_REVIEW): frozenset({SPECIALIST, PATIENT}),
    (S.IN_REVIEW, S.REPORT_READY): frozenset({SPECIALIST}),
    (S.REPORT_READY, S.IN_REVIEW): STAFF,  # sent back for changes
    (S.REPORT_READY, S.DELIVERED): STAFF,
    (S.DELIVERED, S.FOLLOW_UP): frozenset({PATIENT}),
    (S.FOLLOW_UP, S.DELIVERED): frozenset({SPECIALIST}),
    (S.DELIVERED, S.CLOSED): STAFF,
    (S.FOLLOW_UP, S.CLOSED): STAFF,
    **{(state, S.WITHDRAWN): frozenset({PATIENT}) for state in WITHDRAWABLE},
    **{(state, S.CANCELLED): STAFF for state in OPEN_STATES},
}

# Moves that must say why.
REASON_REQUIRED = frozenset({S.WITHDRAWN, S.CANCELLED, S.AWAITING_RECORDS})


# --- What each move tells whom ------------------------------------------------------
# Recipients, resolved from the case when the move is made.
OWNER = "owner"  # the account holder
COORDINATORS = "coordinators"  # every active coordinator
CASE_MANAGER = "case_manager"  # the coordinator who claimed it, or every coordinator
SPECIALIST_ASSIGNED = "specialist"  # the assigned specialist, if there is one
SPECIALIST_OFFERED = "offered"  # the specialist the open offer is for


def _coordinators(case: Case) -> list:
    return list(User.objects.filter(role=Role.COORDINATOR, is_active=True))


def _case_manager(case: Case) -> list:
    manager = case.case_manager
    return [manager] if manager is not None and manager.is_active else _coordinators(case)


def _offered(case: Case) -> list:
    # The offers table belongs to the specialists app; naming it is allowed here.
    offer = case.offers.filter(status="open").select_related("specialist").first()
    return [offer.specialist] if offer else []


RECIPIENTS: dict[str, Callable[[Case], list]] = {
    OWNER: lambda case: [case.owner],
    COORDINATORS: _coordinators,
    CASE_MANAGER: _case_manager,
    SPECIALIST_ASSIGNED: lambda case: [case.specialist] if case.specialist_id else [],
    SPECIALIST_OFFERED: _offered,
}


@dataclass(frozen=True)
class Notice:
    kind: str
    to: str  # a key of RECIPIENTS
    title: str  # shown in the app only; %(ref)s is the case reference


def _notices(*notices: Notice) -> tuple[Notice, ...]:
    return notices


PROGRESS = Notice(Kind.CASE_UPDATE, OWNER, _("There is news on your request %(ref)s"))

NOTICES: dict[tuple[str, str], tuple[Notice, ...]] = {
    (S.DRAFT, S.SUBMITTED): _notices(
        Notice(Kind.SUBMITTED, COORDINATORS, _("New request %(ref)s to triage")),
        Notice(Kind.SUBMITTED, OWNER, _("We received your request %(ref)s")),
    ),
    (S.SUBMITTED, S.TRIAGE): _notices(PROGRESS),
    (S.TRIAGE, S.AWAITING_RECORDS): _notices(
        Notice(Kind.RECORDS_REQUESTED, OWNER, _("Records are needed for your request %(ref)s")),
    ),
    (S.AWAITING_RECORDS, S.TRIAGE): _notices(
        Notice(Kind.RECORDS_RECEIVED, CASE_MANAGER, _("%(ref)s is back in triage")),
    ),
    (S.IN_REVIEW, S.AWAITING_RECORDS): _notices(
        Notice(Kind.RECORDS_REQUESTED, OWNER, _("Records are needed for your request %(ref)s")),
    ),
    (S.AWAITING_RECORDS, S.IN_REVIEW): _notices(
        Notice(Kind.RECORDS_RECEIVED, SPECIALIST_ASSIGNED,
               _("The records asked for on %(ref)s have arrived")),
    ),
    (S.TRIAGE, S.MATCHING): _notices(PROGRESS),
    (S.MATCHING, S.OFFERED): _notices(
        Notice(Kind.OFFER_MADE, SPECIALIST_OFFERED, _("A case is offered to you: %(ref)s")),
    ),
    (S.OFFERED, S.MATCHING): _notices(  # declined, expired or taken back
        Notice(Kind.OFFER_DECLINED, CASE_MANAGER, _("%(ref)s needs another specialist")),
        Notice(Kind.OFFER_MADE, SPECIALIST_OFFERED, _("The offer of %(ref)s was withdrawn")),
    ),
    (S.OFFERED, S.IN_REVIEW): _notices(
        Notice(Kind.OFFER_ACCEPTED, CASE_MANAGER, _("A specialist accepted %(ref)s")),
        Notice(Kind.OFFER_ACCEPTED, OWNER, _("A specialist has accepted your request %(ref)s")),
    ),
    # The consultation's own notices go instead (NOTICE_CONSULTATION_*, below), with
    # the calendar file.
    (S.IN_REVIEW, S.CONSULTATION): (),
    (S.CONSULTATION, S.IN_REVIEW): (),
    (S.IN_REVIEW, S.REPORT_READY): _notices(
        Notice(Kind.REPORT_SUBMITTED, COORDINATORS, _("The report for %(ref)s is ready to check")),
    ),
    (S.REPORT_READY, S.IN_REVIEW): _notices(
        Notice(Kind.REPORT_RETURNED, SPECIALIST_ASSIGNED,
               _("The report for %(ref)s was returned for changes")),
    ),
    (S.REPORT_READY, S.DELIVERED): _notices(
        Notice(Kind.REPORT_RELEASED, OWNER, _("Your report for %(ref)s is ready")),
        Notice(Kind.REPORT_RELEASED, SPECIALIST_ASSIGNED,
               _("Your report for %(ref)s was released to the patient")),
    ),
    (S.DELIVERED, S.FOLLOW_UP): _notices(
        Notice(Kind.FOLLOW_UP, SPECIALIST_ASSIGNED, _("A follow-up question on %(ref)s")),
    ),
    (S.FOLLOW_UP, S.DELIVERED): _notices(
        Notice(Kind.FOLLOW_UP, OWNER, _("Your follow-up question on %(ref)s is answered")),
    ),
    (S.DELIVERED, S.CLOSED): _notices(
        Notice(Kind.CLOSED, OWNER, _("Your request %(ref)s is closed")),
    ),
    (S.FOLLOW_UP, S.CLOSED): _notices(
        Notice(Kind.CLOSED, OWNER, _("Your request %(ref)s is closed")),
    ),
    # A draft has no reference and nobody but its owner ever saw it.
    (S.DRAFT, S.WITHDRAWN): (),
    **{(state, S.WITHDRAWN): _notices(
        Notice(Kind.WITHDRAWN, COORDINATORS, _("Request %(ref)s was withdrawn by the patient")),
        Notice(Kind.WITHDRAWN, SPECIALIST_ASSIGNED, _("Request %(ref)s was withdrawn")),
        Notice(Kind.WITHDRAWN, SPECIALIST_OFFERED, _("Request %(ref)s was withdrawn")),
    ) for state in WITHDRAWABLE - {S.DRAFT}},
    **{(state, S.CANCELLED): _notices(
        Notice(Kind.CANCELLED, OWNER, _("Your request %(ref)s was cancelled")),
        Notice(Kind.CANCELLED, SPECIALIST_ASSIGNED, _("Request %(ref)s was cancelled")),
        Notice(Kind.CANCELLED, SPECIALIST_OFFERED, _("Request %(ref)s was cancelled")),
    ) for state in OPEN_STATES},
}


# Events that are not moves, declared the same way.
NOTICE_INSURANCE_CHECKED = _notices(
    Notice(Kind.CASE_UPDATE, OWNER, _("We checked the cost of your request %(ref)s")),
)
NOTICE_FEE_CONFIRMED = _notices(
    Notice(Kind.CASE_UPDATE, CASE_MANAGER, _("The patient confirmed the fee for %(ref)s")),
)
NOTICE_OVERDUE = _notices(
    Notice(Kind.OVERDUE, CASE_MANAGER, _("%(ref)s is past its report due date")),
    Notice(Kind.OVERDUE, SPECIALIST_ASSIGNED, _("%(ref)s is past its report due date")),
)
NOTICE_AMENDED = _notices(
    Notice(Kind.AMENDED, COORDINATORS, _("Request %(ref)s was amended by the patient")),
    Notice(Kind.AMENDED, SPECIALIST_ASSIGNED, _("Request %(ref)s was amended by the patient")),
)
# A second follow-up question while one is open, and an answer while another is
# still open: the case keeps its status, so the move's own notice is not sent.
NOTICE_FOLLOW_UP_ASKED = NOTICES[(S.DELIVERED, S.FOLLOW_UP)]
NOTICE_FOLLOW_UP_ANSWERED = NOTICES[(S.FOLLOW_UP, S.DELIVERED)]
# Messages on a case (requests_app.messaging). The titles say who wrote, never what.
NOTICE_MESSAGE_FROM_PATIENT = _notices(
    Notice(Kind.MESSAGE, CASE_MANAGER, _("New message from the patient on %(ref)s")),
    Notice(Kind.MESSAGE, SPECIALIST_ASSIGNED, _("New message from the patient on %(ref)s")),
)
NOTICE_MESSAGE_FROM_TEAM = _notices(
    Notice(Kind.MESSAGE, OWNER, _("New message from your care team on %(ref)s")),
    Notice(Kind.MESSAGE, CASE_MANAGER, _("New message to the patient on %(ref)s")),
    Notice(Kind.MESSAGE, SPECIALIST_ASSIGNED, _("New message to the patient on %(ref)s")),
)
NOTICE_QUESTION = _notices(
    Notice(Kind.MESSAGE, OWNER, _("Your care team has a question about %(ref)s")),
    Notice(Kind.MESSAGE, CASE_MANAGER, _("A question was asked of the patient on %(ref)s")),
    Notice(Kind.MESSAGE, SPECIALIST_ASSIGNED, _("A question was asked of the patient on %(ref)s")),
)
# Internal notes: the care team only, never the account holder.
NOTICE_INTERNAL_NOTE = _notices(
    Notice(Kind.MESSAGE, CASE_MANAGER, _("New internal note on %(ref)s")),
    Notice(Kind.MESSAGE, SPECIALIST_ASSIGNED, _("New internal note on %(ref)s")),
)
# Report amendments (requests_app.reports): signed, returned or released while the
# case stays where it is (report ready, delivered, follow-up), so no move is made.
NOTICE_REPORT_AMENDMENT_SIGNED = _notices(
    Notice(Kind.REPORT_SUBMITTED, CASE_MANAGER,
           _("An amended report for %(ref)s is ready to check")),
)
NOTICE_REPORT_AMENDMENT_RETURNED = _notices(
    Notice(Kind.REPORT_RETURNED, SPECIALIST_ASSIGNED,
           _("The amended report for %(ref)s was returned for changes")),
)
NOTICE_REPORT_AMENDMENT_RELEASED = _notices(
    Notice(Kind.REPORT_RELEASED, OWNER, _("An amended report for %(ref)s is ready")),
    Notice(Kind.REPORT_RELEASED, SPECIALIST_ASSIGNED,
           _("Your amended report for %(ref)s was released to the patient")),
)
# Consultations (requests_app.consultations). Sent with the calendar file where a
# booked time is made, changed or taken back, and then to the person who made the
# change as well (their calendar needs the file too).
NOTICE_CONSULTATION_PROPOSED = _notices(
    Notice(Kind.CONSULTATION, OWNER, _("Choose a time for your consultation on %(ref)s")),
)
NOTICE_CONSULTATION_NEW_TIMES = _notices(
    Notice(Kind.CONSULTATION, OWNER, _("New times are proposed for your consultation on %(ref)s")),
    Notice(Kind.CONSULTATION, SPECIALIST_ASSIGNED,
           _("New times are proposed for the consultation on %(ref)s")),
)
NOTICE_CONSULTATION_OTHER_TIMES = _notices(
    Notice(Kind.CONSULTATION, OWNER, _("You asked for other consultation times on %(ref)s")),
    Notice(Kind.CONSULTATION, SPECIALIST_ASSIGNED,
           _("The patient asked for other consultation times on %(ref)s")),
)
NOTICE_CONSULTATION_BOOKED = _notices(
    Notice(Kind.CONSULTATION, OWNER, _("Your consultation on %(ref)s is booked")),
    Notice(Kind.CONSULTATION, SPECIALIST_ASSIGNED, _("A consultation on %(ref)s is booked")),
)
NOTICE_CONSULTATION_CANCELLED = _notices(
    Notice(Kind.CONSULTATION, OWNER, _("Your consultation on %(ref)s was cancelled")),
    Notice(Kind.CONSULTATION, SPECIALIST_ASSIGNED, _("The consultation on %(ref)s was cancelled")),
)
NOTICE_CONSULTATION_MISSED = _notices(
    Notice(Kind.CONSULTATION, OWNER, _("Your consultation on %(ref)s did not take place")),
)
NOTICE_CONSULTATION_REMINDER = _notices(
    Notice(Kind.REMINDER, OWNER, _("Reminder: your consultation on %(ref)s is tomorrow")),
    Notice(Kind.REMINDER, SPECIALIST_ASSIGNED, _("Reminder: a consultation on %(ref)s is tomorrow")),
)


# What other apps do, in the same transaction, when a case ends (closed, cancelled or
# withdrawn): `hook(case, status)`. The records app deletes the case's bundles here
# (requests_app never imports its services: it registers itself in AppConfig.ready).
CASE_END_HOOKS: list[Callable[[Case, str], None]] = []


def on_case_end(hook: Callable[[Case, str], None]) -> Callable[[Case, str], None]:
    if hook not in CASE_END_HOOKS:
        CASE_END_HOOKS.append(hook)
    return hook


class TransitionError(Exception):
    """A move the workflow does not allow; the message is fit to show a person."""


@dataclass(frozen=True)
class TransitionResult:
    case: Case
    changed: bool
    event: CaseEvent | None


def allowed_transitions(*, case: Case, role: str) -> list[str]:
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == case.status and role in roles]


def case_url_for(case: Case, user) -> str:
    """Where a notification about `case` takes `user`: their own page of it."""
    if user.pk == case.owner_id:
        return reverse("requests_app:case_detail", args=[case.uuid])
    return reverse("requests_app:staff_case", args=[case.uuid])


def send_notices(case: Case, notices: tuple[Notice, ...], *, actor,
                 url_for: Callable[[Case, User], str] = case_url_for) -> None:
    """Write the declared notifications in the caller's transaction. Staff are not
    told of their own moves; the account holder always is (it is their receipt).
    `url_for(case, user)`: where each notification takes its reader."""
    for notice in notices:
        for user in RECIPIENTS[notice.to](case):
            if notice.to != OWNER and actor is not None and user.pk == actor.pk:
                continue
            notify(recipient=user, kind=notice.kind,
                   title=str(notice.title) % {"ref": case.reference or ""},
                   url=url_for(case, user), reference=case.reference or "")


# Moves SecondOp makes itself (actor=None), from a periodic task.
SYSTEM_MOVES = frozenset({
    (S.OFFERED, S.MATCHING),  # an offer expired
    # Everything asked for arrived and passed its checks (records verification).
    (S.AWAITING_RECORDS, S.TRIAGE),
    (S.AWAITING_RECORDS, S.IN_REVIEW),
    # The follow-up window is over and no question is open (aftercare.tasks).
    (S.DELIVERED, S.CLOSED),
})


def case_transition(
    *, actor, ref: UUID | str, to_status: str, reason: str = "", request=None,
    on_change: Callable[[Case, CaseEvent], list[str] | None] | None = None,
) -> TransitionResult:
    """Move the case `ref` to `to_status` as `actor` (None: SecondOp itself, for
    the moves in SYSTEM_MOVES only).

    `on_change(case, event)` runs inside the transaction after the event is
    written, for the move's own fields (a reference, a due date); it returns
    the names of the fields it set."""
    with transaction.atomic():
        if actor is None:
            case = Case.objects.select_for_update().get(uuid=ref)
        else:
            case = case_for_viewer(viewer=actor, ref=ref, for_update=True)
        old = case.status
        if old == to_status:
            return TransitionResult(case=case, changed=False, event=None)
        roles = TRANSITIONS.get((old, to_status))
        if roles is None:
            raise TransitionError(
                _("A request that is “%(old)s” cannot become “%(new)s”.")
                % {"old": S(old).label, "new": S(to_status).label}
            )
        if (actor.role not in roles) if actor else ((old, to_status) not in SYSTEM_MOVES):
            raise TransitionError(_("You are not allowed to make this change."))
        reason = (reason or "").strip()
        if to_status in REASON_REQUIRED and not reason:
            raise TransitionError(_("Please give a reason."))
        case.status = to_status
        fields = ["status", "updated_at"]
        if old == S.MATCHING and case.hold_reason:
            # A hold is about finding a specialist: it ends when the case moves on.
            case.hold_reason, case.hold_until, case.hold_note = "", None, ""
            fields += ["hold_reason", "hold_until", "hold_note"]
        if to_status in CLOSED_STATES:
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
        send_notices(case, NOTICES[(old, to_status)], actor=actor)
        if old == S.OFFERED and to_status != S.IN_REVIEW:
            _close_open_offers(case)
        if to_status in CLOSED_STATES:
            for hook in CASE_END_HOOKS:
                hook(case, to_status)
        return TransitionResult(case=case, changed=True, event=event)


def _close_open_offers(case: Case) -> None:
    """A case that leaves "offered" other than by acceptance takes its open offer
    with it (withdrawn): the specialist loses the summary and the slot. A decline
    or an expiry then records its own outcome on the offer."""
    apps.get_model("specialists", "Offer").objects.filter(case=case, status="open").update(
        status="withdrawn", answered_at=timezone.now())
