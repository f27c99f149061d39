from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The specialist's written report: drafts, signed versions, the PDF, release."""

    name = "requests_app.reports"
    label = "reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from secondop.notifications.registry import register

        from . import notices

        register(notices.KINDS)
