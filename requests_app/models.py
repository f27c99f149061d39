from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    TRIAGE = "triage", _("Being checked by a coordinator")
    AWAITING_RECORDS = "awaiting_records", _("Waiting for records")
    MATCHING = "matching", _("Finding a specialist")
    OFFERED = "offered", _("Offered to a specialist")
    IN_REVIEW = "in_review", _("Under review")
    CONSULTATION = "consultation", _("Consultation")
    REPORT_READY = "report_ready", _("Report ready for release")
    DELIVERED = "delivered", _("Report delivered")
    FOLLOW_UP = "follow_up", _("Follow-up questions")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CANCELLED = "cancelled", _("Cancelled")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")


class Case(models.Model):
    """A second-opinion request, from draft to closed.

    `status` changes only through requests_app.workflow.case_transition."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases",
        verbose_name=_("account holder"),
    )
    reference = models.CharField(_("reference"), max_length=20, unique=True, null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=CaseStatus,
                              default=CaseStatus.DRAFT)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency,
                               default=Urgency.ROUTINE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("report due"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "due_at"]),
        ]
        constraints = [
            # Submitting gives the reference and the time together; a draft has neither
            # (a draft may still be withdrawn, and then keeps none).
            models.CheckConstraint(
                condition=models.Q(reference__isnull=True, submitted_at__isnull=True)
                | models.Q(reference__isnull=False, submitted_at__isnull=False),
                name="case_reference_with_submission",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="draft") | models.Q(reference__isnull=True),
                name="case_draft_has_no_reference",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or str(_("Draft request"))


class CaseEvent(models.Model):
    """The case timeline: every status change, with who, why and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              null=True, blank=True, related_name="+")
    old_status = models.CharField(max_length=20, choices=CaseStatus, blank=True)
    new_status = models.CharField(max_length=20, choices=CaseStatus)
    reason = models.TextField(blank=True, max_length=2000)
    visible_to_patient = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.old_status or '-'} -> {self.new_status}"
