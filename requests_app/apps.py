from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = _("Second-opinion requests")

    def ready(self) -> None:
        from secondop.notifications.registry import register

        from . import notices

        register(notices.KINDS)
