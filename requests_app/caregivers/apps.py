from django.apps import AppConfig


class CaregiversConfig(AppConfig):
    """Caregivers: people a patient invites to follow their request with their own
    login, for what the patient allows (the access rule, requests_app.access, reads
    the grants kept here)."""

    name = "requests_app.caregivers"
    label = "caregivers"
    default_auto_field = "django.db.models.BigAutoField"
