"""The kinds of notification the case workflow sends (requests_app.workflow.NOTICES
says which move sends which, and to whom), registered in RequestsAppConfig.ready().

The offer and records kinds are declared here, not in specialists or records: the
moves that send them (matching -> offered, offered -> in review, triage <-> awaiting
records) are the workflow's, and requests_app imports neither app's code. Those
apps send them too, importing the names from here.

A name is stored with every notification and preference: never change one.
"""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

SUBMITTED = "submitted"
CASE_UPDATE = "case_update"
AMENDED = "amended"
WITHDRAWN = "withdrawn"
CANCELLED = "cancelled"
RECORDS_REQUESTED = "records_requested"
RECORDS_RECEIVED = "records_received"
OFFER_MADE = "offer_made"
OFFER_ACCEPTED = "offer_accepted"
OFFER_DECLINED = "offer_declined"
CLOSED = "closed"
OVERDUE = "overdue"

# Everyone on a case hears that it moved, ended or was taken back.
_CASE_PARTIES = frozenset({Role.PATIENT, Role.COORDINATOR, Role.SPECIALIST})

KINDS = (
    NoticeKind(SUBMITTED, _("A request is sent"), {Role.PATIENT, Role.COORDINATOR}),
    NoticeKind(CASE_UPDATE, _("A request moves to its next step"), _CASE_PARTIES),
    NoticeKind(
        AMENDED, _("A patient changes answers after sending"), {Role.COORDINATOR, Role.SPECIALIST}
    ),
    NoticeKind(WITHDRAWN, _("A request is withdrawn"), _CASE_PARTIES),
    NoticeKind(CANCELLED, _("A request is cancelled"), _CASE_PARTIES),
    NoticeKind(RECORDS_REQUESTED, _("Records are asked for"), {Role.PATIENT}),
    NoticeKind(RECORDS_RECEIVED, _("Asked-for records arrive"), {Role.COORDINATOR}),
    NoticeKind(OFFER_MADE, _("A case is offered to a specialist"), {Role.SPECIALIST}),
    NoticeKind(OFFER_ACCEPTED, _("A specialist accepts a case"), {Role.PATIENT, Role.COORDINATOR}),
    NoticeKind(
        OFFER_DECLINED,
        _("A specialist declines a case or lets the offer expire"),
        {Role.COORDINATOR},
    ),
    NoticeKind(CLOSED, _("A request is closed"), _CASE_PARTIES),
    NoticeKind(
        OVERDUE, _("A case passes its report due date"), {Role.COORDINATOR, Role.SPECIALIST}
    ),
)
