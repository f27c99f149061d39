"""The outcomes of a second opinion, as the patient tells them: the SURE test
(O'Connor & Légaré) when the request is sent and again after the report is
read, and 90 days after delivery whether it changed their treatment."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Moment(models.TextChoices):
    BEFORE = "before", _("When the request was sent")
    AFTER = "after", _("After reading the report")


# The four questions of the SURE test, in its order: (field, letter, question).
SURE_QUESTIONS = (
    ("sure", "S", _("Do you feel SURE about the best choice for you?")),
    ("understand", "U", _("Do you know the benefits and risks of each option?")),
    ("risk_benefit", "R", _("Are you clear about which benefits and risks matter most to you?")),
    ("encouragement", "E", _("Do you have enough support and advice to make a choice?")),
)
SURE_MAX = len(SURE_QUESTIONS)


class SureAnswer(models.Model):
    """One answer set: yes (1) or no (0) to each question, total 0 to 4; a total
    under 4 screens positive for decisional conflict. Skipped: no answers, no
    score. One per case and moment."""

    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.CASCADE, related_name="sure_answers"
    )
    moment = models.CharField(max_length=10, choices=Moment)
    sure = models.BooleanField(null=True)
    understand = models.BooleanField(null=True)
    risk_benefit = models.BooleanField(null=True)
    encouragement = models.BooleanField(null=True)
    skipped = models.BooleanField(default=False)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SURE test answer")
        constraints = [
            models.UniqueConstraint(fields=["case", "moment"], name="sure_one_per_moment"),
            models.CheckConstraint(
                condition=(
                    Q(
                        skipped=True,
                        score__isnull=True,
                        sure__isnull=True,
                        understand__isnull=True,
                        risk_benefit__isnull=True,
                        encouragement__isnull=True,
                    )
                    | Q(
                        skipped=False,
                        score__gte=0,
                        score__lte=SURE_MAX,
                        sure__isnull=False,
                        understand__isnull=False,
                        risk_benefit__isnull=False,
                        encouragement__isnull=False,
                    )
                ),
                name="sure_answered_or_skipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.moment}: {'skipped' if self.skipped else self.score}"

    @property
    def conflict(self) -> bool | None:
        """Screens positive for decisional conflict (a total under 4); None if skipped."""
        return None if self.score is None else self.score < SURE_MAX


class TreatmentChange(models.TextChoices):
    UNCHANGED = "unchanged", _("My treatment did not change")
    AS_ADVISED = "as_advised", _("It changed as the specialist advised")
    OTHERWISE = "otherwise", _("It changed in another way")
    DECIDING = "deciding", _("I am still deciding")


class TreatmentOutcome(models.Model):
    """The 90-day question: asked once (the email), answered in the app by the
    account holder, who may change their answer later ("still deciding")."""

    case = models.OneToOneField(
        "requests_app.Case", on_delete=models.CASCADE, related_name="treatment_outcome"
    )
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.CharField(max_length=20, choices=TreatmentChange, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("treatment outcome at 90 days")

    def __str__(self) -> str:
        return f"{self.case_id}: {self.answer or 'asked'}"
