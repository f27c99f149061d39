from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "secondop.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from secondop.notifications.registry import register

        from . import (
            notices,
            receivers,  # noqa: F401  (security events into the audit log)
        )

        register(notices.KINDS)
