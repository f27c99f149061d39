from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImagingConfig(AppConfig):
    """A verified study's pictures: its series, and each series' frames rendered on
    the server to WebP (per window preset and display size), lazily, by a worker of
    its own (queue "imaging")."""

    name = "records.imaging"
    label = "imaging"
    verbose_name = _("Imaging")
    default_auto_field = "django.db.models.BigAutoField"
