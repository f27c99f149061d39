"""The kind of notification records retrieval sends, registered in
RetrievalConfig.ready(), and its notices: a request signed and ready to send, and
the reminders on its legal clock (day 10, 20 and 28). Both go to the case manager
(every coordinator while the case has none); no medical detail, the reference only."""

from django.utils.translation import gettext_lazy as _

from requests_app.workflow import CASE_MANAGER, Notice
from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

RECORDS_RETRIEVAL = "records_retrieval"

KINDS = (
    NoticeKind(
        RECORDS_RETRIEVAL,
        _("A records request is signed, or a records office has not answered yet"),
        {Role.COORDINATOR},
    ),
)

_SEE_SOURCES = _("See where the records are")
PAGE = "retrieval:sources"

NOTICE_SIGNED = (
    Notice(
        RECORDS_RETRIEVAL,
        CASE_MANAGER,
        _("A records request on %(ref)s is signed and ready to send"),
        _("A records request is ready to send (%(ref)s)"),
        _(
            "The patient signed a request for their records on %(ref)s. Please send it to the "
            "records office."
        ),
        _SEE_SOURCES,
        PAGE,
    ),
)

NOTICE_REMINDER = (
    Notice(
        RECORDS_RETRIEVAL,
        CASE_MANAGER,
        _("Records request on %(ref)s: day %(day)s, not fully received"),
        _("Records still awaited on %(ref)s (day %(day)s)"),
        _(
            "A records office was asked for records on %(ref)s %(day)s days ago and has not sent "
            "all of them. They are due by %(due)s."
        ),
        _SEE_SOURCES,
        PAGE,
        # Filled in by the reminder itself (records.retrieval.services).
    ),
)
