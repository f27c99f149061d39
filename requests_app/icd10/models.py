from django.db import models
from django.utils.translation import gettext_lazy as _


class Icd10Code(models.Model):
    """ICD-10-CM codes and titles (loaded by migration from simple-icd-10-cm)."""

    code = models.CharField(max_length=8, primary_key=True)
    title = models.CharField(max_length=300)
    # Lower-cased "code title", searched by prefix and words.
    search_text = models.CharField(max_length=320)

    class Meta:
        # The table kept its name when the model moved here from requests_app.
        db_table = "requests_app_icd10code"
        verbose_name = _("ICD-10-CM code")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class Icd10Synonym(models.Model):
    """An everyday term and a clinical wording ICD-10-CM titles use for it.

    The diagnosis search (requests_app.icd10.search) reads these at query time, so an
    edit in the admin changes the next search.
    """

    term = models.CharField(
        _("everyday term"),
        max_length=60,
        help_text=_("What patients type, for example “heart attack”."),
    )
    clinical = models.CharField(
        _("clinical wording"),
        max_length=100,
        help_text=_(
            "Words in ICD-10-CM titles that mean the same wherever they occur, for example "
            "“myocardial infarction”. At least three characters."
        ),
    )

    class Meta:
        db_table = "requests_app_icd10synonym"
        verbose_name = _("ICD-10 search synonym")
        verbose_name_plural = _("ICD-10 search synonyms")
        ordering = ["term", "clinical"]
        constraints = [
            # The search folds case, so "Heart attack" would repeat "heart attack".
            models.UniqueConstraint(
                models.functions.Lower("term"),
                models.functions.Lower("clinical"),
                name="requests_app_icd10synonym_unique",
                violation_error_message=_("This term already has this clinical wording."),
            ),
            # Shorter wordings cannot use the trigram index (see search.py).
            models.CheckConstraint(
                condition=models.lookups.GreaterThanOrEqual(models.functions.Length("clinical"), 3),
                name="requests_app_icd10synonym_clinical_length",
                violation_error_message=_("The clinical wording needs at least three characters."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} → {self.clinical}"
