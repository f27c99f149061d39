from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Specialty(models.Model):
    """A medical specialty a patient can ask for (loaded by a data migration)."""

    slug = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("what it covers"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SpecialistProfile(models.Model):
    """The clinical side of a specialist's account: what matching reads."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="specialist_profile"
    )
    title = models.CharField(_("title"), max_length=100, help_text=_("e.g. MD, FACS"))
    specialties = models.ManyToManyField(Specialty, related_name="specialists")
    subspecialty = models.CharField(_("subspecialty"), max_length=150, blank=True)
    institution = models.CharField(_("institution"), max_length=200)
    bio = models.TextField(_("about"), max_length=2000, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    licensed_states = models.JSONField(_("licensed in"), default=list, blank=True)
    accepting_cases = models.BooleanField(_("accepting new cases"), default=True)
    max_open_cases = models.PositiveSmallIntegerField(_("most open cases at once"), default=8)

    class Meta:
        verbose_name = _("specialist profile")
        verbose_name_plural = _("specialist profiles")
        indexes = [models.Index(fields=["accepting_cases"])]

    def __str__(self) -> str:
        return f"{self.user.full_name}, {self.title}"
