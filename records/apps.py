from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Medical records")

    def ready(self):
        from requests_app.workflow import on_case_end

        from .services import case_ended

        on_case_end(case_ended)
