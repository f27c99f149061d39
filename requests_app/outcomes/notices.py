"""The kind of notification the 90-day question sends, registered in OutcomesConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

OUTCOME_ASKED = "outcome_asked"

KINDS = (
    NoticeKind(
        OUTCOME_ASKED,
        _("Three months after your report: did it change your treatment?"),
        {Role.PATIENT},
    ),
)
