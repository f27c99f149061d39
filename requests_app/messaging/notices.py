"""The kind of notification messages send, registered in MessagingConfig.ready()."""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

MESSAGE = "message"

KINDS = (
    NoticeKind(
        MESSAGE, _("A message is received"), {Role.PATIENT, Role.COORDINATOR, Role.SPECIALIST}
    ),
)
