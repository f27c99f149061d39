import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    RECORDS = "records", _("Visit notes and medical records")
    LABS = "labs", _("Lab results")
    IMAGING = "imaging", _("Imaging (a scan, or its report)")
    PATHOLOGY = "pathology", _("Pathology reports")
    OPERATIVE = "operative", _("Operative notes")
    PRIOR_OPINION = "prior_opinion", _("Prior specialist opinions")
    INSURANCE_CARD = "insurance_card", _("Insurance card")
    OTHER = "other", _("Other")
    # The specialist's own signed report, when they write it outside SecondOp.
    SPECIALIST_REPORT = "specialist_report", _("Specialist's signed report")


class State(models.TextChoices):
    PENDING = "pending", _("Uploading")
    UPLOADED = "uploaded", _("Uploaded, waiting to be checked")
    SCANNING = "scanning", _("Being checked")
    VERIFIED = "verified", _("Checked and ready")
    REJECTED = "rejected", _("Not accepted")


class Identity(models.TextChoices):
    """Whose images a study says they are, against the request's patient
    (records.verification.identity). Blank: not a study, or not checked yet."""

    MATCHED = "matched", _("The name or date of birth on the images is the patient's")
    UNCHECKED = "unchecked", _("The images carry no name or date of birth to compare")
    # Shown to the patient only, until they answer: hidden from every member of staff.
    ASKED = "asked", _("Labelled for another person? Waiting for the patient")
    CONFIRMED = "confirmed", _("Labelled for another person; the patient said it is theirs")


# A record whose bytes count against the case's limit (rejected objects are deleted).
HOLDS_BYTES = (State.PENDING, State.UPLOADED, State.SCANNING, State.VERIFIED)


class RecordRequest(models.Model):
    """A coordinator or the assigned specialist asking the patient for something
    missing. While any is open the case waits for records; the patient's next step
    names it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.PROTECT, related_name="record_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(_("what is needed"), max_length=500)
    category = models.CharField(_("kind of record"), max_length=20, choices=Category, blank=True)
    # The status the case goes back to once everything asked for has arrived.
    return_to = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "fulfilled_at", "cancelled_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(fulfilled_at__isnull=True) | Q(cancelled_at__isnull=True),
                name="record_request_fulfilled_or_cancelled",
            ),
        ]

    def __str__(self):
        return f"record request {self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.fulfilled_at is None and self.cancelled_at is None


class Record(models.Model):
    """One medical record: a single file, or an imaging study (a folder or ZIP of
    DICOM files, stored under the record's prefix). Its objects live at
    `cases/<case uuid>/records/<record uuid>/...`, never under the user's file name."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("requests_app.Case", on_delete=models.PROTECT, related_name="records")
    # Who sent it: a person with an account, or (uploaded_by empty) a records office
    # through its upload link (records.retrieval), named in `sender_name`.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    sender_name = models.CharField(max_length=150, blank=True)
    category = models.CharField(_("kind of record"), max_length=20, choices=Category)
    title = models.CharField(_("title"), max_length=200)
    service_date = models.DateField(_("date of service"), null=True, blank=True)
    is_study = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State, default=State.PENDING)
    reason = models.CharField(max_length=40, blank=True)  # records.verification.REASONS key
    size = models.BigIntegerField(default=0)  # declared until confirmed, then stored bytes
    mime = models.CharField(max_length=100, blank=True)  # the true type, for a single file
    sha256 = models.CharField(max_length=64, blank=True)
    study = models.JSONField(default=dict, blank=True)  # DICOM summary, for a study
    # A portal's health record file (C-CDA or FHIR) read at verification: problems,
    # medications, allergies, results, procedures and notes (records.verification.health).
    health = models.JSONField(default=dict, blank=True)
    thumbnail_key = models.CharField(max_length=400, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answers = models.ForeignKey(
        RecordRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )
    slot_expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    # Verified without a malware scan: no clamd answered (a developer's machine, DEBUG
    # only; in production the check waits for the scanner). Shown to everyone.
    virus_scan_skipped = models.BooleanField(default=False)
    # Checks started; a scanner that fails the same file every time is given up on.
    check_attempts = models.PositiveSmallIntegerField(default=0)
    check_started_at = models.DateTimeField(null=True, blank=True)  # the check's lease
    # A refused record the patient (or its uploader) took off the list: gone from every
    # view, kept here and in the audit log.
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # Whose images a study says they are. A study labelled for another person
    # (`asked`) is shown to the patient alone, with what its labels say
    # (`labelled_as`: [{name, birth_date, name_differs, birth_date_differs}], their
    # own data, never in an email), until they say it is theirs or remove it.
    identity = models.CharField(max_length=10, choices=Identity, blank=True)
    labelled_as = models.JSONField(default=list, blank=True)
    identity_answered_at = models.DateTimeField(null=True, blank=True)
    identity_answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["category", "-service_date", "-created_at"]
        indexes = [
            models.Index(fields=["case", "category", "-created_at"]),
            models.Index(fields=["case", "sha256"]),
            models.Index(fields=["state", "uploaded_at"]),
            # The coordinator's page and queue: the studies waiting for the patient.
            models.Index(
                fields=["case"],
                condition=Q(identity="asked"),
                name="record_identity_asked_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=State.REJECTED) | ~Q(reason=""),
                name="record_rejected_has_reason",
            ),
            models.CheckConstraint(condition=Q(size__gte=0), name="record_size_not_negative"),
            models.CheckConstraint(
                condition=Q(uploaded_by__isnull=False) | ~Q(sender_name=""),
                name="record_has_a_sender",
            ),
            models.CheckConstraint(
                condition=~Q(identity="confirmed")
                | Q(identity_answered_at__isnull=False, identity_answered_by__isnull=False),
                name="record_identity_confirmed_by_someone",
            ),
        ]

    def __str__(self):
        # No title: this string reaches the audit and access logs.
        return f"record {self.uuid}"

    @property
    def prefix(self) -> str:
        return f"cases/{self.case.uuid}/records/{self.uuid}/"

    @property
    def awaits_patient(self) -> bool:
        """Labelled for another person, and the patient has not answered yet."""
        return self.identity == Identity.ASKED

    @property
    def single_file(self) -> bool:
        return not self.is_study

    @property
    def sender(self) -> str:
        """Who sent it, as the care team reads it."""
        return self.uploaded_by.full_name if self.uploaded_by else self.sender_name


class RecordFile(models.Model):
    """One object in storage: the record's file, or one file of a study. It is also
    the upload slot: the signer signs only this key, for the person who made it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="files")
    key = models.CharField(max_length=400, unique=True)
    name = models.CharField(max_length=255)  # cleaned, for display and download only
    size = models.BigIntegerField()  # declared by the browser; stored_size is the truth
    declared_type = models.CharField(max_length=100, blank=True)
    # The local-mode upload token's one-time secret; emptied when it is used.
    upload_nonce = models.CharField(max_length=32, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    stored_size = models.BigIntegerField(null=True, blank=True)
    # What verification found.
    checked_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=10, blank=True)  # pdf, image, dicom, zip, text, skipped
    mime = models.CharField(max_length=100, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=40, blank=True)
    dicom = models.JSONField(default=dict, blank=True)
    thumbnail_key = models.CharField(max_length=400, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["record", "checked_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="record_file_size_not_negative"),
        ]

    def __str__(self):
        return f"record file {self.uuid}"


class Bundle(models.Model):
    """A ZIP of a case's verified records (or of one study) that a task streams
    into storage for a specialist, offered as a short-lived link."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Could not be prepared")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("requests_app.Case", on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey(
        Record, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The records it holds, fixed when it is asked for: deleting any of them deletes
    # the bundle (records.services), and a download is refused if one is missing.
    records = models.ManyToManyField(Record, blank=True, related_name="bundles")
    records_total = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.BUILDING)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    size = models.BigIntegerField(default=0)
    key = models.CharField(max_length=400, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"records bundle {self.uuid}"

    @property
    def storage_key(self) -> str:
        """Where its ZIP is (or will be) written."""
        return f"cases/{self.case.uuid}/bundles/{self.uuid}.zip"


class GatherList(models.Model):
    """What a specialist usually needs for a kind of diagnosis: editable data, not
    code. A case takes the list whose ICD-10 prefix matches its code longest; a list
    with no prefixes is the default."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    icd10_prefixes = models.CharField(
        _("ICD-10 code prefixes"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated, e.g. 'C, D0' for cancers. Leave empty for the default list."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("records checklist")

    def __str__(self):
        return self.name

    @property
    def name_read(self) -> str:
        """The name in the reader's language (records.gather_words), else as written."""
        return gettext(self.name)

    @property
    def prefixes(self) -> list[str]:
        return [p.strip().upper() for p in self.icd10_prefixes.split(",") if p.strip()]


class GatherItem(models.Model):
    checklist = models.ForeignKey(GatherList, on_delete=models.CASCADE, related_name="items")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("what"), max_length=200)
    why = models.TextField(_("why it matters, in plain words"), max_length=600)
    category = models.CharField(
        _("kind of record that answers it"), max_length=20, choices=Category
    )
    send_by_post = models.CharField(
        _("send by post to"),
        max_length=400,
        blank=True,
        help_text=_(
            "For things that cannot be uploaded (slides, blocks): the address to send them to."
        ),
    )

    class Meta:
        ordering = ["checklist", "order", "id"]
        verbose_name = _("checklist item")

    def __str__(self):
        return self.title

    # In the reader's language where the words are the first lists' (records.gather_words).
    @property
    def title_read(self) -> str:
        return gettext(self.title)

    @property
    def why_read(self) -> str:
        return gettext(self.why)
