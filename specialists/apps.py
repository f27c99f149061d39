from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SpecialistsConfig(AppConfig):
    name = "specialists"
    verbose_name = _("Specialists")

    def ready(self) -> None:
        from secondop.notifications.registry import register

        from . import notices

        register(notices.KINDS)
