from django.apps import AppConfig


class AftercareConfig(AppConfig):
    """After delivery: sharing with the patient's physician, follow-up questions,
    closing and rating, and the concordance figures."""

    name = "requests_app.aftercare"
    label = "aftercare"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from secondop import mailing
        from secondop.notifications.registry import register

        from . import notices, services

        register(notices.KINDS)
        mailing.on_bounce("share", services.share_bounced)
