from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetrievalConfig(AppConfig):
    """Getting the records for the patient: where they are (sources), the HIPAA
    right-of-access request to each, and its legal clock."""

    name = "records.retrieval"
    label = "retrieval"
    verbose_name = _("Records retrieval")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from secondop import mailing
        from secondop.notifications.registry import register

        from . import notices, services

        register(notices.KINDS)
        mailing.on_bounce("records-request", services.source_email_bounced)
