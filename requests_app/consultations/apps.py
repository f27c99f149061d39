from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    """Consultations: proposed times, the booking, invitations, reminders, the outcome."""

    name = "requests_app.consultations"
    label = "consultations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from secondop.notifications.registry import register

        from . import notices

        register(notices.KINDS)
