"""The kind of notification follow-up questions send, registered in AftercareConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

FOLLOW_UP = "follow_up"
# The patient's own physician asks the specialist (through their link), and the answer.
PHYSICIAN = "physician"

KINDS = (
    NoticeKind(
        FOLLOW_UP, _("A follow-up question is asked or answered"), {Role.PATIENT, Role.SPECIALIST}
    ),
    NoticeKind(
        PHYSICIAN,
        _("Your doctor asks the specialist a question, and its answer"),
        {Role.PATIENT, Role.SPECIALIST},
    ),
)
