"""Where a patient's records are (a source: a hospital, a clinic, a lab...) and the
HIPAA right-of-access request SecondOp sends it on the patient's behalf, with its
legal clock (45 CFR 164.524(b)(2): 30 days, one 30-day extension)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DIAGNOSING_HOSPITAL = "diagnosing_hospital", _("The hospital that made the diagnosis")
    CLINIC = "clinic", _("Another clinic or doctor's office")
    LAB = "lab", _("A laboratory")
    IMAGING = "imaging", _("An imaging centre")
    PATHOLOGY = "pathology", _("A pathology lab")


class Wanted(models.TextChoices):
    """What the request asks for (the letter lists them in this order)."""

    PATHOLOGY_REPORT = "pathology_report", _("Pathology report")
    PATHOLOGY_SLIDES = "pathology_slides", _("Pathology slides and blocks")
    IMAGING_DICOM = "imaging_dicom", _("Imaging studies (DICOM images)")
    IMAGING_REPORT = "imaging_report", _("Imaging reports")
    OPERATIVE_NOTES = "operative_notes", _("Operative notes")
    RECENT_LABS = "recent_labs", _("Recent lab results")
    VISIT_NOTES = "visit_notes", _("Visit notes")


# What only the post can carry: glass slides and tissue blocks.
BY_POST = frozenset({Wanted.PATHOLOGY_SLIDES})


class SentBy(models.TextChoices):
    EMAIL = "email", _("Email")
    FAX = "fax", _("Fax")
    POST = "post", _("Post")


class Received(models.TextChoices):
    NOTHING = "", _("Nothing yet")
    PARTLY = "partly", _("Received in part")
    FULLY = "fully", _("Received in full")


class RecordSource(models.Model):
    """One place that holds the patient's records, and the access request to it.

    Listed by the patient or their case manager; signed by the patient (the letter's
    version, the name typed, when and from where); sent by the case manager, by email
    (a task, with a lease) or by fax or post (recorded); then tracked until received."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.PROTECT, related_name="record_sources"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind of place"), max_length=24, choices=Kind)
    email = models.EmailField(_("records office email"), max_length=254, blank=True)
    fax = models.CharField(_("records office fax number"), max_length=30, blank=True)
    postal_address = models.TextField(_("postal address"), max_length=400, blank=True)
    wanted = models.JSONField(_("records wanted"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # --- The patient's signature ---------------------------------------------------
    letter_version = models.CharField(max_length=20, blank=True)
    signed_name = models.CharField(max_length=150, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_ip = models.GenericIPAddressField(null=True, blank=True)

    # --- Sending: the email is queued (email_queued_at), claimed by a worker under a
    # lease, then sent (sent_at) or failed (email_failed_at, with a reason for staff).
    # A fax or a letter is sent by hand and recorded (sent_at, sent_by).
    sent_by = models.CharField(max_length=8, choices=SentBy, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_on = models.DateField(null=True, blank=True)  # the day, in the patient's zone
    sent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    email_queued_at = models.DateTimeField(null=True, blank=True)
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_failed_at = models.DateTimeField(null=True, blank=True)
    email_failure_reason = models.CharField(max_length=200, blank=True)

    # --- The clock ----------------------------------------------------------------
    due_on = models.DateField(null=True, blank=True)  # with any extension
    extended_at = models.DateTimeField(null=True, blank=True)
    extension_reason = models.CharField(max_length=500, blank=True)
    received = models.CharField(max_length=8, choices=Received, blank=True, default="")
    received_at = models.DateTimeField(null=True, blank=True)
    received_note = models.CharField(max_length=500, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "created_at"]),
            # The queue's filters and the reminders: sent and not fully received.
            models.Index(
                fields=["due_on"], name="source_waiting_idx", condition=~Q(received="fully")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(fax="") | ~Q(postal_address=""),
                name="source_has_a_contact",
            ),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True)
                | (
                    Q(signed_at__isnull=False)
                    & Q(sent_on__isnull=False)
                    & Q(due_on__isnull=False)
                    & ~Q(sent_by="")
                ),
                name="source_sent_when_signed_with_a_clock",
            ),
            models.CheckConstraint(
                condition=Q(extended_at__isnull=True) | ~Q(extension_reason=""),
                name="source_extended_with_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"record source {self.uuid}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def is_sending(self) -> bool:
        """An email queued and neither sent nor failed yet."""
        return (
            self.email_queued_at is not None
            and self.sent_at is None
            and self.email_failed_at is None
        )

    @property
    def is_editable(self) -> bool:
        """Changed or removed only before anything went to the source (an email that
        failed went nowhere: its address may be corrected)."""
        return self.sent_at is None and not self.is_sending

    def wanted_labels(self) -> list[str]:
        return [str(w.label) for w in Wanted if w.value in self.wanted]


class OfficeLink(models.Model):
    """A records office's own upload page for one source (and so one case): a link
    with a random token, sent in the letter. Only the token's SHA-256 is stored, as
    for a physician's link; the letter that carries a token is the only copy of it.
    Each email attempt and each letter printed to fax or post makes its own link;
    extending or revoking acts on all of a source's live links at once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.ForeignKey(RecordSource, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    extended_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"records office link {self.uuid}"


class OfficeUpload(models.Model):
    """A record a records office sent through its link: who sent it (the source) and
    through which link. Removed with the record when an unfinished upload is cancelled."""

    record = models.OneToOneField(
        "records.Record", on_delete=models.CASCADE, related_name="office_upload"
    )
    source = models.ForeignKey(RecordSource, on_delete=models.PROTECT, related_name="uploads")
    link = models.ForeignKey(OfficeLink, on_delete=models.PROTECT, related_name="uploads")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"records office upload {self.pk}"
