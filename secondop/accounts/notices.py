"""The platform's own kind of notification: security alerts about the account
itself (a password or email change, a new sign-in method). Registered in
AccountsConfig.ready(); always emailed, so nobody can switch them off."""

from django.utils.translation import gettext_lazy as _

from secondop.notifications.registry import NoticeKind

SECURITY = "security"

KINDS = (NoticeKind(SECURITY, _("Security alerts"), always_emailed=True),)
