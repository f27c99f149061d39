from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    """What a second opinion did for the patient, measured: the SURE test of
    decision confidence before sending and after reading the report, the 90-day
    question about their treatment, and the public page of our figures."""

    name = "requests_app.outcomes"
    label = "outcomes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from secondop.notifications.registry import register

        from . import notices

        register(notices.KINDS)
