"""The specialist's written report (guide 2.3, 2.4).

A case has one `Report`; the report has numbered `ReportVersion`s. A version is
written as a draft, then signed (locked for good: its PDF is rendered from it and
stored with its SHA-256), then released to the patient by the case manager, or
returned to the specialist with a comment (a new draft carries on from it). An
amendment is a new version with a reason; when it is released, the earlier
versions are marked superseded and stay readable.

Each version holds a full copy of what it says, the patient's questions and the
records it names included, so a signed document never changes when the case,
its questions or its records do."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class DiagnosisOpinion(models.TextChoices):
    AGREES = "agrees", _("Agrees with the diagnosis")
    REFINED = "refined", _("Agrees, with a refinement")
    DIFFERENT = "different", _("A different diagnosis")
    UNDETERMINED = "undetermined", _("Cannot determine without more tests")


# The opinions that must name the second-opinion diagnosis.
NEEDS_DIAGNOSIS = frozenset({DiagnosisOpinion.REFINED, DiagnosisOpinion.DIFFERENT})
# An opinion on the diagnosis that is not the first doctor's: the patient's page
# sets the two side by side, and signing needs the specialist's reasons.
DIFFERING_DIAGNOSIS = frozenset({DiagnosisOpinion.DIFFERENT, DiagnosisOpinion.UNDETERMINED})


class TreatmentOpinion(models.TextChoices):
    AGREES = "agrees", _("Agrees with the treatment plan")
    CHANGES = "changes", _("Suggests changes to the plan")
    ALTERNATIVE = "alternative", _("Recommends an alternative")


DIFFERING_TREATMENT = frozenset({TreatmentOpinion.CHANGES, TreatmentOpinion.ALTERNATIVE})


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed, waiting for release")
    RETURNED = "returned", _("Returned for changes")
    RELEASED = "released", _("Released to the patient")


class Report(models.Model):
    """The written report of one case: its versions, newest last."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.OneToOneField(
        "requests_app.Case", on_delete=models.PROTECT, related_name="report"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("report")

    def __str__(self) -> str:
        # No PHI: this string reaches the audit and access logs.
        return f"report {self.uuid}"


class ReportVersion(models.Model):
    """One version of the report. Only a draft may change; signing locks it.

    The version is readable (and releasable) only once its PDF is stored
    (`pdf_sha256` set): until then it shows "Preparing the PDF…"."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus, default=VersionStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Why this version exists, after the first: an amendment's reason, or the
    # case manager's comment when a version was returned.
    amendment_reason = models.TextField(_("reason for the amendment"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # the draft's "Saved at"

    # --- What it says ----------------------------------------------------------------
    summary = models.TextField(_("clinical summary and findings"), max_length=10000, blank=True)
    diagnosis_opinion = models.CharField(
        _("opinion on the diagnosis"), max_length=12, choices=DiagnosisOpinion, blank=True
    )
    diagnosis = models.TextField(_("second-opinion diagnosis"), max_length=2000, blank=True)
    icd10 = models.ForeignKey(
        "icd10.Icd10Code",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ICD-10-CM code"),
    )
    diagnosis_comment = models.TextField(_("about the diagnosis"), max_length=5000, blank=True)
    treatment_opinion = models.CharField(
        _("opinion on the treatment plan"), max_length=12, choices=TreatmentOpinion, blank=True
    )
    recommendations = models.TextField(_("treatment recommendations"), max_length=5000, blank=True)
    prognosis = models.TextField(_("prognosis"), max_length=5000, blank=True)
    follow_up = models.TextField(
        _("recommended further tests or follow-up"), max_length=5000, blank=True
    )
    # Why the opinion differs from the first doctor's, in the patient's words:
    # needed to sign when it does (`differs`).
    reasons = models.TextField(_("why the opinion differs"), max_length=3000, blank=True)
    # Clinical trials the patient may ask about: a note, and ClinicalTrials.gov
    # identifiers ("NCT" and 8 digits, upper-case, each once).
    trials_note = models.TextField(_("clinical trials to ask about"), max_length=3000, blank=True)
    trial_ids = models.JSONField(_("ClinicalTrials.gov identifiers"), default=list, blank=True)
    # The references the opinion relies on, one a line; a line may carry a DOI
    # or a PMID (requests_app.reports.references reads them).
    evidence = models.TextField(_("evidence"), max_length=5000, blank=True)
    # The specialist's own signed PDF, uploaded through the records flow
    # (category "specialist_report"), when they attach one.
    attached_record = models.ForeignKey(
        "records.Record",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attached signed PDF"),
    )

    # --- Signing (a copy of who signed, as the document names them) ------------------
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_name = models.CharField(max_length=200, blank=True)
    signer_credentials = models.CharField(max_length=200, blank=True)
    signer_specialties = models.CharField(max_length=400, blank=True)
    signer_institution = models.CharField(max_length=200, blank=True)
    # Printed on the PDF; with the file it proves the document (the verify page).
    verification_code = models.CharField(max_length=10, unique=True, null=True, blank=True)

    # --- The PDF ---------------------------------------------------------------------------
    pdf_key = models.CharField(max_length=400, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(default=0)
    pdf_stored_at = models.DateTimeField(null=True, blank=True)

    # --- Review by the case manager ------------------------------------------------------
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_comment = models.TextField(_("what to change"), max_length=2000, blank=True)
    # Set when a later version is released: this one was replaced then.
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("report version")
        ordering = ["report", "number"]
        indexes = [
            models.Index(fields=["report", "status", "-number"]),
            # The sweep that re-queues PDFs a lost task never stored.
            models.Index(
                fields=["signed_at"], condition=Q(pdf_sha256=""), name="report_version_pdf_pending"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["report", "number"], name="report_version_number"),
            models.UniqueConstraint(
                fields=["report"], condition=Q(status="draft"), name="report_one_draft"
            ),
            models.CheckConstraint(
                condition=Q(status="draft")
                | Q(signed_at__isnull=False, verification_code__isnull=False),
                name="report_version_signed_has_code",
            ),
            models.CheckConstraint(
                condition=~Q(status="draft") | Q(signed_at__isnull=True, pdf_sha256=""),
                name="report_version_draft_unsigned",
            ),
            models.CheckConstraint(
                condition=~Q(status="released") | Q(released_at__isnull=False) & ~Q(pdf_sha256=""),
                name="report_version_released_has_pdf",
            ),
            models.CheckConstraint(
                condition=~Q(status="returned")
                | Q(returned_at__isnull=False) & ~Q(return_comment=""),
                name="report_version_returned_has_comment",
            ),
            models.CheckConstraint(
                condition=Q(pdf_sha256="") | ~Q(pdf_key=""), name="report_version_hash_with_key"
            ),
        ]

    def __str__(self) -> str:
        return f"report version {self.uuid}"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def pdf_ready(self) -> bool:
        return bool(self.pdf_sha256)

    @property
    def differs(self) -> bool:
        """The opinion is not the first doctor's: another diagnosis, none without
        more tests, or a changed or another treatment."""
        return (
            self.diagnosis_opinion in DIFFERING_DIAGNOSIS
            or self.treatment_opinion in DIFFERING_TREATMENT
        )

    @property
    def signer_line(self) -> str:
        """ "Dr. Ana Ruiz, MD, PhD": the signer as the document names them."""
        return ", ".join(part for part in (self.signer_name, self.signer_credentials) if part)

    @property
    def signer_specialties_read(self) -> str:
        """The signer's specialties as kept at signing (in English), each named in
        the reader's language (specialists.specialties puts them in the catalogue)."""
        names = [n for n in self.signer_specialties.split(", ") if n]
        return ", ".join(gettext(n) for n in names)


class ReportAnswer(models.Model):
    """The specialist's answer to one of the patient's own questions. The
    question's words are copied: what was answered is what the document shows."""

    version = models.ForeignKey(ReportVersion, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(
        "requests_app.CaseQuestion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    position = models.PositiveSmallIntegerField()
    question_text = models.TextField(max_length=500)
    answer = models.TextField(_("answer"), max_length=5000, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "position"], name="report_answer_position"),
        ]

    def __str__(self) -> str:
        return f"answer {self.position}"


class ReviewedRecord(models.Model):
    """A record the specialist reviewed for this version, with the words the
    document names it by (the record itself may later be deleted)."""

    version = models.ForeignKey(ReportVersion, on_delete=models.CASCADE, related_name="reviewed")
    record = models.ForeignKey(
        "records.Record", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=100)
    service_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["version", "service_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "record"], name="reviewed_record_once"),
        ]

    def __str__(self) -> str:
        return f"reviewed record {self.pk}"
