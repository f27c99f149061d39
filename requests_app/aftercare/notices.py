"""The kind of notification follow-up questions send, registered in AftercareConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

FOLLOW_UP = "follow_up"

KINDS = (
    NoticeKind(
        FOLLOW_UP, _("A follow-up question is asked or answered"), {Role.PATIENT, Role.SPECIALIST}
    ),
)
