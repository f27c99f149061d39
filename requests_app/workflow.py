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
from secondop.languages import speaking_to
from secondop.notifications.models import Notification
from secondop.notifications.services import CalendarInvite, EmailText, notify
from secondop.refusals import Refusal
from secondop.types import Text

from .access import case_for_viewer, is_owner
from .aftercare.notices import FOLLOW_UP, PHYSICIAN
from .consultations.notices import CONSULTATION, REMINDER
from .messaging.notices import MESSAGE
from .models import CLOSED_STATES, OPEN_STATES, Case, CaseEvent, CaseStatus
from .notices import (
    AMENDED,
    CANCELLED,
    CASE_UPDATE,
    CLOSED,
    OFFER_ACCEPTED,
    OFFER_DECLINED,
    OFFER_MADE,
    OVERDUE,
    RECORDS_RECEIVED,
    RECORDS_REQUESTED,
    SUBMITTED,
    WITHDRAWN,
)
from .reports.notices import REPORT_RELEASED, REPORT_RETURNED, REPORT_SUBMITTED
from .times import care_team_zone, format_moment, zone_label

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


def _coordinators(case: Case) -> list[User]:
    return list(User.objects.filter(role=Role.COORDINATOR, is_active=True))


def _case_manager(case: Case) -> list[User]:
    manager = case.case_manager
    return [manager] if manager is not None and manager.is_active else _coordinators(case)


def _offered(case: Case) -> list[User]:
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
    """One notification a move (or another event) sends: its kind, to whom, the
    title shown in the app, and the email's own words. `subject` and `sentence`
    say what happened and what to do, with no medical detail (the email privacy
    test reads every one); %(ref)s is the case reference, and `details(case,
    user)` fills any other placeholder (an offer's deadline). `action` is the
    words of the link; `page` the URL name (taking the case's uuid) it opens, when
    not the reader's own page of the case (through sign-in and back)."""

    kind: str
    to: str  # a key of RECIPIENTS
    title: Text  # shown in the app only; %(ref)s is the case reference
    # Without them the email says only that there is news on the case (a test
    # asserts that every declared notice has its own).
    subject: Text = ""
    sentence: Text = ""
    action: Text = ""
    page: str = ""
    details: Callable[[Case, User], dict] | None = None


def _notices(*notices: Notice) -> tuple[Notice, ...]:
    return notices


def _offer_deadline(case: Case, user: User) -> dict:
    """ "Tuesday 8 December, 9:40 PM Eastern Time (EST)": the open offer's deadline
    in the care team's zone, the zone named."""
    offer = case.offers.filter(status="open").only("deadline").first()
    if offer is None:
        return {"deadline": _("the deadline shown on the offer")}
    zone = care_team_zone()
    return {"deadline": f"{format_moment(offer.deadline, zone)} {zone_label(zone, offer.deadline)}"}


# Where the specialist answers an offer (by the case's uuid), and their workspace.
OFFER_PAGE = "specialists:offer"
WORKSPACE = "specialists:home"
# Pages that take no argument.
_PAGES_WITHOUT_CASE = frozenset({WORKSPACE})

_RECORDS_NEEDED = Notice(
    RECORDS_REQUESTED,
    OWNER,
    _("Records are needed for your request %(ref)s"),
    _("Your care team needs a record for %(ref)s"),
    _(
        "Your care team asked you for a medical record for your request %(ref)s. Please send "
        "it: your request waits for it."
    ),
    _("See what is needed"),
)
_WITHDRAWN_SPECIALIST = _("Request %(ref)s was withdrawn")
_CANCELLED_SPECIALIST = _("Request %(ref)s was cancelled")
_REPORT_READY_TO_CHECK = _(
    "The specialist signed the report for %(ref)s. Please check it, then release it to "
    "the patient or return it with a comment."
)

NOTICES: dict[tuple[str, str], tuple[Notice, ...]] = {
    (S.DRAFT, S.SUBMITTED): _notices(
        Notice(
            SUBMITTED,
            COORDINATORS,
            _("New request %(ref)s to triage"),
            _("New request %(ref)s to triage"),
            _("A new request, %(ref)s, was sent and is waiting for triage."),
            _("Open the request"),
        ),
        Notice(
            SUBMITTED,
            OWNER,
            _("We received your request %(ref)s"),
            _("We received your request %(ref)s"),
            _(
                "We received your request %(ref)s. A coordinator reviews it next, and we will "
                "tell you when it moves on."
            ),
            _("See your request"),
        ),
    ),
    (S.SUBMITTED, S.TRIAGE): _notices(
        Notice(
            CASE_UPDATE,
            OWNER,
            _("There is news on your request %(ref)s"),
            _("A coordinator is reviewing your request %(ref)s"),
            _(
                "A coordinator is reviewing your request %(ref)s. They will ask you if "
                "anything is missing."
            ),
            _("See your request"),
        ),
    ),
    (S.TRIAGE, S.AWAITING_RECORDS): _notices(_RECORDS_NEEDED),
    (S.AWAITING_RECORDS, S.TRIAGE): _notices(
        Notice(
            RECORDS_RECEIVED,
            CASE_MANAGER,
            _("%(ref)s is back in triage"),
            _("%(ref)s is back in triage"),
            _(
                "The records asked for on %(ref)s have arrived and passed their checks: the "
                "case is back in triage."
            ),
            _("Open the case"),
        ),
    ),
    (S.IN_REVIEW, S.AWAITING_RECORDS): _notices(_RECORDS_NEEDED),
    (S.AWAITING_RECORDS, S.IN_REVIEW): _notices(
        Notice(
            RECORDS_RECEIVED,
            SPECIALIST_ASSIGNED,
            _("The records asked for on %(ref)s have arrived"),
            _("The records asked for on %(ref)s have arrived"),
            _(
                "The records asked for on %(ref)s have arrived and passed their checks: the "
                "case is back in your review."
            ),
            _("Open the case"),
        ),
    ),
    (S.TRIAGE, S.MATCHING): _notices(
        Notice(
            CASE_UPDATE,
            OWNER,
            _("There is news on your request %(ref)s"),
            _("We are finding a specialist for your request %(ref)s"),
            _(
                "Your request %(ref)s is ready for a specialist: we are finding the right one, "
                "and will tell you who accepts it."
            ),
            _("See your request"),
        ),
    ),
    (S.MATCHING, S.OFFERED): _notices(
        Notice(
            OFFER_MADE,
            SPECIALIST_OFFERED,
            _("A case is offered to you: %(ref)s"),
            _("A case is offered to you (%(ref)s)"),
            _("A case is offered to you. Please answer by %(deadline)s."),
            _("Read the offer and answer"),
            page=OFFER_PAGE,
            details=_offer_deadline,
        ),
    ),
    (S.OFFERED, S.MATCHING): _notices(  # declined, expired or taken back
        Notice(
            OFFER_DECLINED,
            CASE_MANAGER,
            _("%(ref)s needs another specialist"),
            _("%(ref)s needs another specialist"),
            _(
                "The offer of %(ref)s was declined, ran out or was taken back. Please offer "
                "it to another specialist."
            ),
            _("Open the case"),
        ),
        Notice(
            OFFER_MADE,
            SPECIALIST_OFFERED,
            _("The offer of %(ref)s was withdrawn"),
            _("The offer of %(ref)s was withdrawn"),
            _("The offer of case %(ref)s is no longer open: there is nothing for you to do."),
            _("See your cases"),
            page=WORKSPACE,
        ),
    ),
    (S.OFFERED, S.IN_REVIEW): _notices(
        Notice(
            OFFER_ACCEPTED,
            CASE_MANAGER,
            _("A specialist accepted %(ref)s"),
            _("A specialist accepted %(ref)s"),
            _("A specialist accepted %(ref)s and is reviewing it now."),
            _("Open the case"),
        ),
        Notice(
            OFFER_ACCEPTED,
            OWNER,
            _("A specialist has accepted your request %(ref)s"),
            _("A specialist is reviewing your request %(ref)s"),
            _(
                "A specialist accepted your request %(ref)s and is reviewing it now. Their name "
                "and background are on your request's page."
            ),
            _("See who your specialist is"),
        ),
    ),
    # The consultation's own notices go instead (NOTICE_CONSULTATION_*, below), with
    # the calendar file.
    (S.IN_REVIEW, S.CONSULTATION): (),
    (S.CONSULTATION, S.IN_REVIEW): (),
    (S.IN_REVIEW, S.REPORT_READY): _notices(
        Notice(
            REPORT_SUBMITTED,
            COORDINATORS,
            _("The report for %(ref)s is ready to check"),
            _("The report for %(ref)s is ready to check"),
            _REPORT_READY_TO_CHECK,
            _("Check the report"),
            page="reports:case",
        ),
    ),
    (S.REPORT_READY, S.IN_REVIEW): _notices(
        Notice(
            REPORT_RETURNED,
            SPECIALIST_ASSIGNED,
            _("The report for %(ref)s was returned for changes"),
            _("Your report for %(ref)s was returned for changes"),
            _(
                "The case manager returned your report for %(ref)s with a comment. Please read "
                "it, change the report and sign it again."
            ),
            _("Read the comment"),
            page="reports:case",
        ),
    ),
    (S.REPORT_READY, S.DELIVERED): _notices(
        Notice(
            REPORT_RELEASED,
            OWNER,
            _("Your report for %(ref)s is ready"),
            _("Your second-opinion report is ready (%(ref)s)"),
            _(
                "Your second-opinion report is ready. You can read it, download it and share "
                "it with your doctor."
            ),
            _("Read your report"),
            page="reports:case",
        ),
        Notice(
            REPORT_RELEASED,
            SPECIALIST_ASSIGNED,
            _("Your report for %(ref)s was released to the patient"),
            _("Your report for %(ref)s was released to the patient"),
            _(
                "Your report for %(ref)s was released to the patient. The patient may ask "
                "follow-up questions; we will tell you if they do."
            ),
            _("Open the case"),
        ),
    ),
    (S.DELIVERED, S.FOLLOW_UP): _notices(
        Notice(
            FOLLOW_UP,
            SPECIALIST_ASSIGNED,
            _("A follow-up question on %(ref)s"),
            _("The patient asked a follow-up question (%(ref)s)"),
            _(
                "The patient asked a follow-up question about your report on %(ref)s. Please "
                "answer it."
            ),
            _("Answer the question"),
        ),
    ),
    (S.FOLLOW_UP, S.DELIVERED): _notices(
        Notice(
            FOLLOW_UP,
            OWNER,
            _("Your follow-up question on %(ref)s is answered"),
            _("Your follow-up question is answered (%(ref)s)"),
            _("Your specialist answered your follow-up question about your report."),
            _("Read the answer"),
        ),
    ),
    (S.DELIVERED, S.CLOSED): _notices(
        Notice(
            CLOSED,
            OWNER,
            _("Your request %(ref)s is closed"),
            _("Your request %(ref)s is closed"),
            _(
                "Your request %(ref)s is closed. Your report stays on your page, to read, "
                "download and share."
            ),
            _("See your request"),
        ),
    ),
    # A draft has no reference and nobody but its owner ever saw it.
    (S.DRAFT, S.WITHDRAWN): (),
    **{
        (state, S.WITHDRAWN): _notices(
            Notice(
                WITHDRAWN,
                COORDINATORS,
                _("Request %(ref)s was withdrawn by the patient"),
                _("Request %(ref)s was withdrawn by the patient"),
                _("The patient withdrew request %(ref)s: there is nothing more to do on it."),
                _("Open the case"),
            ),
            Notice(
                WITHDRAWN,
                SPECIALIST_ASSIGNED,
                _WITHDRAWN_SPECIALIST,
                _WITHDRAWN_SPECIALIST,
                _("The patient withdrew request %(ref)s: you no longer need to work on it."),
                _("See your cases"),
                page=WORKSPACE,
            ),
            Notice(
                WITHDRAWN,
                SPECIALIST_OFFERED,
                _WITHDRAWN_SPECIALIST,
                _WITHDRAWN_SPECIALIST,
                _(
                    "The patient withdrew request %(ref)s, so its offer is closed: there is "
                    "nothing for you to do."
                ),
                _("See your cases"),
                page=WORKSPACE,
            ),
        )
        for state in WITHDRAWABLE - {S.DRAFT}
    },
    **{
        (state, S.CANCELLED): _notices(
            Notice(
                CANCELLED,
                OWNER,
                _("Your request %(ref)s was cancelled"),
                _("Your request %(ref)s was cancelled"),
                _(
                    "Your care team cancelled your request %(ref)s. Their reason is on your "
                    "request's page."
                ),
                _("See why"),
            ),
            Notice(
                CANCELLED,
                SPECIALIST_ASSIGNED,
                _CANCELLED_SPECIALIST,
                _CANCELLED_SPECIALIST,
                _("Request %(ref)s was cancelled: you no longer need to work on it."),
                _("See your cases"),
                page=WORKSPACE,
            ),
            Notice(
                CANCELLED,
                SPECIALIST_OFFERED,
                _CANCELLED_SPECIALIST,
                _CANCELLED_SPECIALIST,
                _(
                    "Request %(ref)s was cancelled, so its offer is closed: there is nothing for "
                    "you to do."
                ),
                _("See your cases"),
                page=WORKSPACE,
            ),
        )
        for state in OPEN_STATES
    },
}
NOTICES[(S.FOLLOW_UP, S.CLOSED)] = NOTICES[(S.DELIVERED, S.CLOSED)]


# Events that are not moves, declared the same way.
NOTICE_INSURANCE_CHECKED = _notices(
    Notice(
        CASE_UPDATE,
        OWNER,
        _("We checked the cost of your request %(ref)s"),
        _("We checked the cost of your request %(ref)s"),
        _(
            "We checked your insurance and the cost of your request %(ref)s. See what it "
            "costs you, and what happens next."
        ),
        _("See the cost"),
    ),
)
NOTICE_FEE_CONFIRMED = _notices(
    Notice(
        CASE_UPDATE,
        CASE_MANAGER,
        _("The patient confirmed the fee for %(ref)s"),
        _("The patient confirmed the fee for %(ref)s"),
        _(
            "The patient confirmed the fee quoted for %(ref)s: you can offer the case to a "
            "specialist."
        ),
        _("Find a specialist"),
    ),
)
NOTICE_OVERDUE = _notices(
    Notice(
        OVERDUE,
        CASE_MANAGER,
        _("%(ref)s is past its report due date"),
        _("%(ref)s is past its report due date"),
        _(
            "The report for %(ref)s was due and is not released yet. Please check what is "
            "holding it up."
        ),
        _("Open the case"),
    ),
    Notice(
        OVERDUE,
        SPECIALIST_ASSIGNED,
        _("%(ref)s is past its report due date"),
        _("%(ref)s is past its report due date"),
        _(
            "The report for %(ref)s was due and is not signed yet. Please finish it, or tell "
            "the case manager what is holding it up."
        ),
        _("Open the case"),
    ),
)
_AMENDED = _("Request %(ref)s was amended by the patient")
_AMENDED_SENTENCE = _(
    "The patient changed answers on %(ref)s after sending it. The changes "
    "are on the case's timeline."
)
NOTICE_AMENDED = _notices(
    Notice(AMENDED, COORDINATORS, _AMENDED, _AMENDED, _AMENDED_SENTENCE, _("See what changed")),
    Notice(
        AMENDED,
        SPECIALIST_ASSIGNED,
        _AMENDED,
        _AMENDED,
        _AMENDED_SENTENCE,
        _("See what changed"),
    ),
)
# A second follow-up question while one is open, and an answer while another is
# still open: the case keeps its status, so the move's own notice is not sent.
NOTICE_FOLLOW_UP_ASKED = NOTICES[(S.DELIVERED, S.FOLLOW_UP)]
NOTICE_FOLLOW_UP_ANSWERED = NOTICES[(S.FOLLOW_UP, S.DELIVERED)]
# The patient's physician asks the specialist their one question through their
# link (requests_app.aftercare), and the specialist answers it.
NOTICE_PHYSICIAN_ASKED = _notices(
    Notice(
        PHYSICIAN,
        SPECIALIST_ASSIGNED,
        _("The patient's doctor asked you a question on %(ref)s"),
        _("The patient's doctor asked you a question (%(ref)s)"),
        _(
            "The doctor the patient shared the report with asked you a question on %(ref)s. "
            "Please answer it on the case's page."
        ),
        _("Answer the question"),
    ),
    Notice(
        PHYSICIAN,
        OWNER,
        _("Your doctor asked the specialist a question on %(ref)s"),
        _("Your doctor asked the specialist a question (%(ref)s)"),
        _(
            "The doctor you shared your report with asked the specialist a question. We will "
            "tell you when it is answered."
        ),
        _("See your request"),
    ),
)
NOTICE_PHYSICIAN_ANSWERED = _notices(
    Notice(
        PHYSICIAN,
        OWNER,
        _("The specialist answered your doctor's question on %(ref)s"),
        _("The specialist answered your doctor's question (%(ref)s)"),
        _(
            "The specialist answered the question your doctor asked. The answer is on your "
            "request's page, and your doctor sees it on their link."
        ),
        _("Read the answer"),
    ),
)
# Messages on a case (requests_app.messaging). The titles say who wrote, never what.
_FROM_PATIENT = _("New message from the patient on %(ref)s")
_TO_PATIENT = _("New message to the patient on %(ref)s")
_ASKED_PATIENT = _("A question was asked of the patient on %(ref)s")
_NOTE = _("New internal note on %(ref)s")
NOTICE_MESSAGE_FROM_PATIENT = _notices(
    Notice(
        MESSAGE,
        CASE_MANAGER,
        _FROM_PATIENT,
        _FROM_PATIENT,
        _("The patient wrote a message on %(ref)s."),
        _("Read the message"),
    ),
    Notice(
        MESSAGE,
        SPECIALIST_ASSIGNED,
        _FROM_PATIENT,
        _FROM_PATIENT,
        _("The patient wrote a message on %(ref)s."),
        _("Read the message"),
    ),
)
NOTICE_MESSAGE_FROM_TEAM = _notices(
    Notice(
        MESSAGE,
        OWNER,
        _("New message from your care team on %(ref)s"),
        _("Your care team sent you a message (%(ref)s)"),
        _("Your care team sent you a message about your request %(ref)s."),
        _("Read the message"),
    ),
    Notice(
        MESSAGE,
        CASE_MANAGER,
        _TO_PATIENT,
        _TO_PATIENT,
        _("A message was sent to the patient on %(ref)s."),
        _("Read the message"),
    ),
    Notice(
        MESSAGE,
        SPECIALIST_ASSIGNED,
        _TO_PATIENT,
        _TO_PATIENT,
        _("A message was sent to the patient on %(ref)s."),
        _("Read the message"),
    ),
)
NOTICE_QUESTION = _notices(
    Notice(
        MESSAGE,
        OWNER,
        _("Your care team has a question about %(ref)s"),
        _("Your care team asked you a question (%(ref)s)"),
        _(
            "Your care team asked you a question about your request %(ref)s. Please answer "
            "it: their review may wait for your answer."
        ),
        _("Answer the question"),
    ),
    Notice(
        MESSAGE,
        CASE_MANAGER,
        _ASKED_PATIENT,
        _ASKED_PATIENT,
        _("A question was asked of the patient on %(ref)s. We will tell you when they answer."),
        _("Read the question"),
    ),
    Notice(
        MESSAGE,
        SPECIALIST_ASSIGNED,
        _ASKED_PATIENT,
        _ASKED_PATIENT,
        _("A question was asked of the patient on %(ref)s. We will tell you when they answer."),
        _("Read the question"),
    ),
)
# Internal notes: the care team only, never the account holder.
NOTICE_INTERNAL_NOTE = _notices(
    Notice(
        MESSAGE,
        CASE_MANAGER,
        _NOTE,
        _NOTE,
        _(
            "Someone on the care team wrote an internal note on %(ref)s (the patient does "
            "not see it)."
        ),
        _("Read the note"),
    ),
    Notice(
        MESSAGE,
        SPECIALIST_ASSIGNED,
        _NOTE,
        _NOTE,
        _(
            "Someone on the care team wrote an internal note on %(ref)s (the patient does "
            "not see it)."
        ),
        _("Read the note"),
    ),
)
# Report amendments (requests_app.reports): signed, returned or released while the
# case stays where it is (report ready, delivered, follow-up), so no move is made.
NOTICE_REPORT_AMENDMENT_SIGNED = _notices(
    Notice(
        REPORT_SUBMITTED,
        CASE_MANAGER,
        _("An amended report for %(ref)s is ready to check"),
        _("An amended report for %(ref)s is ready to check"),
        _(
            "The specialist signed an amendment to the report for %(ref)s. Please check it, "
            "then release it to the patient or return it with a comment."
        ),
        _("Check the amendment"),
        page="reports:case",
    ),
)
NOTICE_REPORT_AMENDMENT_RETURNED = _notices(
    Notice(
        REPORT_RETURNED,
        SPECIALIST_ASSIGNED,
        _("The amended report for %(ref)s was returned for changes"),
        _("Your amended report for %(ref)s was returned for changes"),
        _(
            "The case manager returned your amendment to the report for %(ref)s with a "
            "comment. Please read it, change the amendment and sign it again."
        ),
        _("Read the comment"),
        page="reports:case",
    ),
)
NOTICE_REPORT_AMENDMENT_RELEASED = _notices(
    Notice(
        REPORT_RELEASED,
        OWNER,
        _("An amended report for %(ref)s is ready"),
        _("Your second-opinion report was amended (%(ref)s)"),
        _(
            "Your specialist amended your second-opinion report. You can read the new "
            "version, and why it changed."
        ),
        _("Read your report"),
        page="reports:case",
    ),
    Notice(
        REPORT_RELEASED,
        SPECIALIST_ASSIGNED,
        _("Your amended report for %(ref)s was released to the patient"),
        _("Your amended report for %(ref)s was released to the patient"),
        _("Your amendment to the report for %(ref)s was released to the patient."),
        _("Open the case"),
    ),
)
# Consultations (requests_app.consultations). Sent with the calendar file where a
# booked time is made, changed or taken back, and then to the person who made the
# change as well (their calendar needs the file too). Each leads to the
# consultation's page (the caller's url_for).
_SEE_CONSULTATION = _("See the consultation")
NOTICE_CONSULTATION_PROPOSED = _notices(
    Notice(
        CONSULTATION,
        OWNER,
        _("Choose a time for your consultation on %(ref)s"),
        _("Choose a time for your consultation (%(ref)s)"),
        _(
            "Your specialist proposed times for your consultation. Please choose the one "
            "that suits you, or ask for others."
        ),
        _("Choose a time"),
    ),
)
NOTICE_CONSULTATION_NEW_TIMES = _notices(
    Notice(
        CONSULTATION,
        OWNER,
        _("New times are proposed for your consultation on %(ref)s"),
        _("New times for your consultation (%(ref)s)"),
        _(
            "Your specialist proposed new times for your consultation. Please choose one, or "
            "ask for others."
        ),
        _("Choose a time"),
    ),
    Notice(
        CONSULTATION,
        SPECIALIST_ASSIGNED,
        _("New times are proposed for the consultation on %(ref)s"),
        _("New times are proposed for the consultation on %(ref)s"),
        _(
            "New times are proposed to the patient for the consultation on %(ref)s. We will "
            "tell you which they choose."
        ),
        _SEE_CONSULTATION,
    ),
)
NOTICE_CONSULTATION_OTHER_TIMES = _notices(
    Notice(
        CONSULTATION,
        OWNER,
        _("You asked for other consultation times on %(ref)s"),
        _("You asked for other consultation times (%(ref)s)"),
        _(
            "You asked your specialist for other consultation times. We will tell you when "
            "they propose them."
        ),
        _SEE_CONSULTATION,
    ),
    Notice(
        CONSULTATION,
        SPECIALIST_ASSIGNED,
        _("The patient asked for other consultation times on %(ref)s"),
        _("The patient asked for other consultation times (%(ref)s)"),
        _("The patient asked for other consultation times on %(ref)s. Please propose new ones."),
        _("Propose new times"),
    ),
)
NOTICE_CONSULTATION_BOOKED = _notices(
    Notice(
        CONSULTATION,
        OWNER,
        _("Your consultation on %(ref)s is booked"),
        _("Your consultation is booked (%(ref)s)"),
        _(
            "Your consultation is booked. Its time, and how to join or where to go, are on "
            "its page."
        ),
        _SEE_CONSULTATION,
    ),
    Notice(
        CONSULTATION,
        SPECIALIST_ASSIGNED,
        _("A consultation on %(ref)s is booked"),
        _("A consultation on %(ref)s is booked"),
        _("The patient booked a consultation on %(ref)s. Its time is on its page."),
        _SEE_CONSULTATION,
    ),
)
NOTICE_CONSULTATION_CANCELLED = _notices(
    Notice(
        CONSULTATION,
        OWNER,
        _("Your consultation on %(ref)s was cancelled"),
        _("Your consultation was cancelled (%(ref)s)"),
        _("Your consultation was cancelled. The reason is on its page."),
        _("See why"),
    ),
    Notice(
        CONSULTATION,
        SPECIALIST_ASSIGNED,
        _("The consultation on %(ref)s was cancelled"),
        _("The consultation on %(ref)s was cancelled"),
        _("The consultation on %(ref)s was cancelled. The reason is on its page."),
        _("See why"),
    ),
)
NOTICE_CONSULTATION_DECLINED = _notices(
    Notice(
        CONSULTATION,
        OWNER,
        _("You declined the consultation on %(ref)s"),
        _("You declined the consultation (%(ref)s)"),
        _(
            "You told us you no longer want a consultation for your request %(ref)s. Your "
            "specialist writes the report without one."
        ),
        _SEE_CONSULTATION,
    ),
    Notice(
        CONSULTATION,
        SPECIALIST_ASSIGNED,
        _("The patient declined the consultation on %(ref)s"),
        _("The patient declined the consultation on %(ref)s"),
        _(
            "The patient no longer wants a consultation on %(ref)s. You can sign the report "
            "without one."
        ),
        _SEE_CONSULTATION,
    ),
)
NOTICE_CONSULTATION_MISSED = _notices(
    Notice(
        CONSULTATION,
        OWNER,
        _("Your consultation on %(ref)s did not take place"),
        _("Your consultation did not take place (%(ref)s)"),
        _(
            "Your specialist recorded that your consultation did not take place. They will "
            "propose new times, or tell you why there will be none."
        ),
        _SEE_CONSULTATION,
    ),
)
NOTICE_CONSULTATION_REMINDER = _notices(
    Notice(
        REMINDER,
        OWNER,
        _("Reminder: your consultation on %(ref)s is tomorrow"),
        _("A reminder: your consultation is tomorrow (%(ref)s)"),
        _(
            "This is a reminder: you have a consultation tomorrow. Its time, and how to join "
            "or where to go, are on its page."
        ),
        _SEE_CONSULTATION,
    ),
    Notice(
        REMINDER,
        SPECIALIST_ASSIGNED,
        _("Reminder: a consultation on %(ref)s is tomorrow"),
        _("A reminder: a consultation on %(ref)s is tomorrow"),
        _(
            "This is a reminder: you have a consultation on %(ref)s tomorrow. Its time is on "
            "its page."
        ),
        _SEE_CONSULTATION,
    ),
)


# What other apps do, in the same transaction, when a case ends (closed, cancelled or
# withdrawn): `hook(case, status)`. The records app deletes the case's bundles here
# (requests_app never imports its services: it registers itself in AppConfig.ready).
CASE_END_HOOKS: list[Callable[[Case, str], None]] = []


def on_case_end(hook: Callable[[Case, str], None]) -> Callable[[Case, str], None]:
    if hook not in CASE_END_HOOKS:
        CASE_END_HOOKS.append(hook)
    return hook


class TransitionError(Refusal):
    """A move the workflow does not allow; the message is fit to show a person."""


@dataclass(frozen=True)
class TransitionResult:
    case: Case
    changed: bool
    event: CaseEvent | None


def allowed_transitions(*, case: Case, role: str) -> list[str]:
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == case.status and role in roles]


def case_url_for(case: Case, user: User) -> str:
    """Where a notification about `case` takes `user`: their own page of it."""
    if is_owner(user, case):
        return reverse("requests_app:case_detail", args=[case.uuid])
    return reverse("requests_app:staff_case", args=[case.uuid])


def send_notices(
    case: Case,
    notices: tuple[Notice, ...],
    *,
    actor: User | None,
    url_for: Callable[[Case, User], str] = case_url_for,
    calendar: Callable[[User], CalendarInvite | None] | None = None,
) -> None:
    """Write the declared notifications in the caller's transaction. Staff are not
    told of their own moves; the account holder always is (it is their receipt).
    `url_for(case, user)`: where each notification takes its reader, unless the
    notice names its own page. `calendar(user)`: the calendar file each
    notification carries, made out to its reader; with it the actor is told too
    (their calendar needs the file)."""
    for notice in notices:
        for user in RECIPIENTS[notice.to](case):
            if (
                calendar is None
                and notice.to != OWNER
                and actor is not None
                and user.pk == actor.pk
            ):
                continue
            with speaking_to(user):  # their language, whoever's request this is
                notify_notice(
                    case,
                    notice,
                    user,
                    url=notice_url(case, notice, user, url_for),
                    calendar=calendar(user) if calendar is not None else None,
                )


def notice_url(case: Case, notice: Notice, user: User, url_for: Callable[[Case, User], str]) -> str:
    if not notice.page:
        return url_for(case, user)
    if notice.page in _PAGES_WITHOUT_CASE:
        return reverse(notice.page)
    return reverse(notice.page, args=[case.uuid])


def notify_notice(
    case: Case, notice: Notice, user: User, *, url: str, calendar: CalendarInvite | None = None
) -> Notification:
    """One declared notice to one person: the in-app title and the email's words,
    with the case reference (and the notice's details) filled in."""
    values = {"ref": case.reference or ""}
    if notice.details is not None:
        values.update(notice.details(case, user))
    email = None
    if notice.subject and notice.sentence:
        email = EmailText(
            subject=str(notice.subject) % values,
            sentence=str(notice.sentence) % values,
            action=str(notice.action) if notice.action else "",
        )
    return notify(
        recipient=user,
        kind=notice.kind,
        title=str(notice.title) % values,
        url=url,
        reference=case.reference or "",
        email=email,
        calendar=calendar,
    )


# Moves SecondOp makes itself (actor=None), from a periodic task.
SYSTEM_MOVES = frozenset(
    {
        (S.OFFERED, S.MATCHING),  # an offer expired
        # Everything asked for arrived and passed its checks (records verification).
        (S.AWAITING_RECORDS, S.TRIAGE),
        (S.AWAITING_RECORDS, S.IN_REVIEW),
        # The follow-up window is over and no question is open (aftercare.tasks).
        (S.DELIVERED, S.CLOSED),
    }
)


def case_transition(
    *,
    actor: User | None,
    ref: UUID | str,
    to_status: str,
    reason: str = "",
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
            case=case,
            actor=actor,
            old_status=old,
            new_status=to_status,
            reason=reason,
        )
        if on_change is not None:
            fields += on_change(case, event) or []
        case.save(update_fields=fields)
        log_event(
            actor=actor,
            action=f"requests.case.{to_status}",
            obj=case,
            old={"status": old},
            new={"status": to_status, "reason": reason},
        )
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
        status="withdrawn", answered_at=timezone.now()
    )
