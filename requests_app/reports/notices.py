"""The kinds of notification the report sends, registered in ReportsConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

REPORT_SUBMITTED = "report_submitted"
REPORT_RETURNED = "report_returned"
REPORT_RELEASED = "report_released"

KINDS = (
    NoticeKind(REPORT_SUBMITTED, _("A specialist's report is ready to check"), {Role.COORDINATOR}),
    NoticeKind(REPORT_RETURNED, _("A report is returned for changes"), {Role.SPECIALIST}),
    NoticeKind(
        REPORT_RELEASED, _("A report is released to the patient"), {Role.PATIENT, Role.SPECIALIST}
    ),
)
