from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Icd10Config(AppConfig):
    """ICD-10-CM: the code table and its everyday synonyms, the search behind the
    picker, the picker itself, and the code ranges certifications treat."""

    name = "requests_app.icd10"
    label = "icd10"
    verbose_name = _("ICD-10-CM codes")
    default_auto_field = "django.db.models.BigAutoField"
