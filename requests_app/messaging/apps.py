from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Messages on a case: the patient and the care team, and staff-only notes."""

    name = "requests_app.messaging"
    label = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from secondop.notifications.registry import register

        from . import notices

        register(notices.KINDS)
