import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from secondop.us_states import USState


class CaseStatus(models.TextChoices):
    """The label is the staff's word for it; everything a patient reads about a
    status is in requests_app.progress.STATUS_TEXT."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("New, to triage")
    TRIAGE = "triage", _("In triage")
    AWAITING_RECORDS = "awaiting_records", _("Waiting for records")
    MATCHING = "matching", _("Matching")
    OFFERED = "offered", _("Offered to a specialist")
    IN_REVIEW = "in_review", _("In review")
    CONSULTATION = "consultation", _("Consultation")
    REPORT_READY = "report_ready", _("Report to release")
    DELIVERED = "delivered", _("Report delivered")
    FOLLOW_UP = "follow_up", _("Follow-up")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CANCELLED = "cancelled", _("Cancelled")


# Where a case ends. Everything else is open (or a draft).
CLOSED_STATES = frozenset({CaseStatus.CLOSED, CaseStatus.WITHDRAWN, CaseStatus.CANCELLED})
OPEN_STATES = frozenset(set(CaseStatus) - CLOSED_STATES - {CaseStatus.DRAFT})


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent")


class Relationship(models.TextChoices):
    SELF = "self", _("Myself")
    PARENT = "parent", _("My child (I am their parent)")
    GUARDIAN = "guardian", _("Someone I am the legal guardian of")
    PROXY = "proxy", _("Someone I am the healthcare proxy for")


ACTING_AS = {
    Relationship.PARENT: _("as their parent"),
    Relationship.GUARDIAN: _("as their legal guardian"),
    Relationship.PROXY: _("as their healthcare proxy"),
}


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    INTERSEX = "intersex", _("Intersex")
    UNDISCLOSED = "undisclosed", _("Prefer not to say")


class YesNo(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")


class Reason(models.TextChoices):
    CONFIRM_DIAGNOSIS = "confirm_diagnosis", _("Confirm the diagnosis")
    COMPARE_TREATMENTS = "compare_treatments", _("Compare treatment options")
    PEACE_OF_MIND = "peace_of_mind", _("Peace of mind")
    CHECK_ERRORS = "check_errors", _("Check for errors")
    CONFIRM_PROGNOSIS = "confirm_prognosis", _("Confirm the prognosis")


class ConsultationType(models.TextChoices):
    WRITTEN = "written", _("A written opinion only")
    VIDEO = "video", _("A written opinion and a video consultation")
    IN_PERSON = "in_person", _("A written opinion and an in-person visit")


class Payment(models.TextChoices):
    SELF_PAY = "self_pay", _("I will pay myself")
    INSURANCE = "insurance", _("Through my health insurance")


class InsuranceStatus(models.TextChoices):
    COVERED = "covered", _("Covered by insurance")
    NOT_COVERED = "not_covered", _("Not covered: the patient pays")
    SELF_PAY = "self_pay", _("Self-pay")


class PriceItem(models.TextChoices):
    """What the price list prices. The first two are the opinion itself (one or
    the other, by the consultation asked for); the re-reads are added to it."""

    WRITTEN = "written", _("Written opinion")
    WITH_VIDEO = "with_video", _("Written opinion with a video consultation")
    PATHOLOGY = "pathology", _("Pathology slide re-read")
    IMAGING = "imaging", _("Imaging re-read")
    # A blinded third opinion the patient asks for when the second differs
    # (requests_app.reports.third_opinion): priced on its own.
    THIRD_OPINION = "third_opinion", _("Third opinion (blinded)")


class Currency(models.TextChoices):
    USD = "USD", _("US dollars")


# No price or fee is negative, and none is above this: a typing slip ("45000"
# for "450.00") is refused by the database, not shown to a patient.
MAX_FEE = 20000


class Price(models.Model):
    """One line of the price list an administrator keeps (Django admin). Patients
    see it before sending; the coordinator's fee check starts from it."""

    item = models.CharField(_("service"), max_length=20, choices=PriceItem, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=8, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency, default=Currency.USD)
    description = models.CharField(
        _("what it includes"),
        max_length=300,
        blank=True,
        help_text=_(
            "Plain words a patient reads, for example “A specialist reads your "
            "records and writes a report.”"
        ),
    )
    active = models.BooleanField(_("offered"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("price list")
        ordering = ["item"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0, amount__lte=MAX_FEE),
                name="price_amount_sane",
                violation_error_message=_("A price is between 0 and 20,000."),
            ),
            models.CheckConstraint(
                condition=models.Q(currency__in=Currency.values),
                name="price_currency_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_item_display()}: {self.amount} {self.currency}"


class HoldReason(models.TextChoices):
    """Why a case waits for a specialist; the label is what the patient reads."""

    NO_LICENCE = "no_licence", _("We are looking for a specialist licensed in your state.")
    NO_SPECIALTY = (
        "no_specialty",
        _("We are looking for a specialist in the field your case needs."),
    )
    CAPACITY = (
        "capacity",
        _("The specialists in this field are busy: we are looking for one who can start soon."),
    )
    OTHER = "other", _("We are still looking for the right specialist for you.")


class Case(models.Model):
    """A second-opinion request, from draft to closed.

    `status` changes only through requests_app.workflow.case_transition. URLs
    carry `uuid`, never the primary key or the reference (both are sequential)."""

    # Not a column: when the report first reached the patient, set on a case by a
    # page that has read it (requests_app.selectors: patient_case_list, case_facts)
    # so the page's other parts do not read it again. Absent until then.
    first_delivered_at: datetime.datetime | None

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("account holder"),
    )
    reference = models.CharField(_("reference"), max_length=20, unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus, default=CaseStatus.DRAFT
    )
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency, default=Urgency.ROUTINE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("report due"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the periodic check told the case manager the report is overdue (once).
    overdue_flagged_at = models.DateTimeField(null=True, blank=True)
    # The coordinator who claimed the case and manages it.
    case_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_cases",
        verbose_name=_("case manager"),
    )
    # The specialist the case is assigned to (set when they accept an offer).
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assigned specialist"),
    )

    # --- Who the request is for -------------------------------------------------
    relationship = models.CharField(
        _("who the request is for"), max_length=10, choices=Relationship, blank=True
    )
    patient_name = models.CharField(_("patient's full name"), max_length=150, blank=True)
    authority_attested = models.BooleanField(_("legal authority confirmed"), default=False)

    # --- About the patient ------------------------------------------------------
    patient_dob = models.DateField(_("date of birth"), null=True, blank=True)
    patient_sex = models.CharField(_("sex"), max_length=12, choices=Sex, blank=True)
    patient_phone = models.CharField(_("phone number"), max_length=30, blank=True)
    patient_state = models.CharField(
        _("state of residence"), max_length=2, choices=USState, blank=True
    )
    preferred_language = models.CharField(_("preferred language"), max_length=60, blank=True)
    interpreter_needed = models.BooleanField(_("needs an interpreter"), default=False)
    accessibility_needs = models.TextField(_("accessibility needs"), max_length=1000, blank=True)

    # --- Diagnosis (guide 1.1) -------------------------------------------------------
    diagnosis = models.TextField(_("diagnosis in your words"), max_length=2000, blank=True)
    icd10 = models.ForeignKey(
        "icd10.Icd10Code",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ICD-10-CM code"),
    )
    diagnosed_on = models.DateField(_("date diagnosed"), null=True, blank=True)
    diagnosing_physician = models.CharField(_("diagnosing physician"), max_length=150, blank=True)
    diagnosing_institution = models.CharField(_("hospital or practice"), max_length=200, blank=True)

    # --- Proposed treatment (guide 1.2) ---------------------------------------------
    proposed_treatment = models.TextField(_("recommended treatment"), max_length=2000, blank=True)
    treatment_started = models.CharField(
        _("has it started"), max_length=3, choices=YesNo, blank=True
    )
    treatment_date = models.DateField(_("scheduled date"), null=True, blank=True)

    # --- Why a second opinion (guide 1.1-1.5) ---------------------------------------
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    concerns = models.TextField(_("what worries you most"), max_length=2000, blank=True)

    # --- Health background (guide 2.3) ----------------------------------------------
    symptoms = models.TextField(_("symptoms and how long"), max_length=2000, blank=True)
    medications = models.TextField(_("current medications"), max_length=2000, blank=True)
    allergies = models.TextField(_("allergies"), max_length=1000, blank=True)
    other_conditions = models.TextField(_("other conditions"), max_length=2000, blank=True)
    previous_treatments = models.TextField(_("previous treatments"), max_length=2000, blank=True)

    # --- Specialist preferences (guide 2.1) ------------------------------------------
    specialty = models.ForeignKey(
        "specialists.Specialty",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("specialty"),
    )
    # "I'm not sure: the care team will choose": the coordinator sets `specialty` at triage.
    specialty_unsure = models.BooleanField(_("the care team chooses the specialty"), default=False)
    consultation_type = models.CharField(
        _("type of opinion"), max_length=12, choices=ConsultationType, blank=True
    )
    specialist_language = models.CharField(_("specialist's language"), max_length=60, blank=True)
    preferred_specialist = models.ForeignKey(
        "specialists.SpecialistProfile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("a specialist you would like"),
    )

    # --- Primary care physician (guide 3.1) -----------------------------------------
    pcp_name = models.CharField(_("doctor's name"), max_length=150, blank=True)
    pcp_practice = models.CharField(_("practice"), max_length=200, blank=True)
    pcp_email = models.EmailField(_("doctor's email"), blank=True)
    pcp_phone = models.CharField(_("doctor's phone"), max_length=30, blank=True)
    pcp_referred = models.CharField(
        _("did they refer you"), max_length=3, choices=YesNo, blank=True
    )
    pcp_consent_to_share = models.BooleanField(_("send them the report"), default=False)

    # --- Insurance (guide 3.2) ---------------------------------------------------------
    payment = models.CharField(_("how you will pay"), max_length=10, choices=Payment, blank=True)
    insurance_carrier = models.CharField(_("insurance company"), max_length=150, blank=True)
    insurance_plan = models.CharField(_("plan"), max_length=150, blank=True)
    insurance_member_id = models.CharField(_("member ID"), max_length=60, blank=True)
    insurance_group_number = models.CharField(_("group number"), max_length=60, blank=True)
    insurance_policyholder = models.CharField(_("policyholder"), max_length=150, blank=True)

    # --- The coordinator's insurance check (guide 3.2) ------------------------------------
    insurance_status = models.CharField(
        _("insurance check"), max_length=12, choices=InsuranceStatus, blank=True
    )
    fee_quoted = models.DecimalField(
        _("fee quoted to the patient"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    insurance_note = models.TextField(
        _("note to the patient about cost"), max_length=1000, blank=True
    )
    insurance_checked_at = models.DateTimeField(null=True, blank=True)
    fee_currency = models.CharField(
        _("currency"), max_length=3, choices=Currency, default=Currency.USD
    )
    # The price-list lines the fee is made of, as they stood when quoted
    # ([{"item", "label", "amount", "currency"}]): the receipt itemises them.
    fee_items = models.JSONField(_("what the fee covers"), default=list, blank=True)
    # The patient confirmed the fee quoted (cleared when the quote changes) ...
    fee_confirmed_at = models.DateTimeField(null=True, blank=True)
    # ... or the case manager recorded why matching goes ahead without it.
    fee_waived_reason = models.TextField(
        _("why the fee step is skipped"), max_length=1000, blank=True
    )
    fee_waived_at = models.DateTimeField(null=True, blank=True)
    fee_waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # --- Matching on hold: no specialist qualifies yet ------------------------------------
    hold_reason = models.CharField(
        _("on hold because"), max_length=12, choices=HoldReason, blank=True
    )
    hold_until = models.DateField(_("look again on"), null=True, blank=True)
    hold_note = models.TextField(_("note for the care team"), max_length=1000, blank=True)

    # --- A third opinion (requests_app.reports.third_opinion) ---------------------------
    # A third opinion is a request of its own, linked to the request whose opinion
    # differed: it goes through the same workflow (matching, offer, review, report,
    # release) with its own specialist and report, so nothing of the second report
    # can reach its specialist through the case they work on. One per request.
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="third_opinions",
        verbose_name=_("third opinion on"),
    )
    # The case manager's short note setting the opinions side by side, which the
    # patient reads with the three views (on the third opinion's request).
    reconciliation = models.TextField(_("how the opinions compare"), max_length=3000, blank=True)
    reconciled_at = models.DateTimeField(null=True, blank=True)
    reconciled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # --- HIPAA authorisation -------------------------------------------------------------
    authorisation_version = models.CharField(max_length=20, blank=True)
    authorisation_signed_name = models.CharField(_("signature"), max_length=150, blank=True)
    authorisation_signed_at = models.DateTimeField(null=True, blank=True)
    authorisation_ip = models.GenericIPAddressField(null=True, blank=True)
    # The language the signer read it in ("es": the Spanish translation of the
    # English text signed; requests_app.authorisation). Blank before this was kept: English.
    authorisation_language = models.CharField(max_length=8, blank=True)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status", "due_at"]),
            # the coordinator's queue: "mine", and "unassigned" by due date
            models.Index(fields=["case_manager", "status", "due_at"]),
            models.Index(
                fields=["due_at"],
                condition=models.Q(specialist__isnull=True),
                name="case_unassigned_due_idx",
            ),
            # the queue's order over open cases: read in order, stopped after a page
            models.Index(
                fields=["due_at", "submitted_at", "id"],
                condition=models.Q(status__in=sorted(OPEN_STATES)),
                name="case_open_queue_idx",
            ),
            # Matching counts each specialist's open cases (specialists.matching):
            # read through this index instead of every case they ever had.
            models.Index(
                fields=["specialist"],
                condition=models.Q(status__in=sorted(OPEN_STATES)),
                name="case_open_specialist_idx",
            ),
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
            models.CheckConstraint(
                condition=models.Q(fee_quoted__isnull=True)
                | models.Q(fee_quoted__gte=0, fee_quoted__lte=MAX_FEE),
                name="case_fee_sane",
            ),
            # A confirmation is of a quoted fee; a skipped fee step says why.
            models.CheckConstraint(
                condition=models.Q(fee_confirmed_at__isnull=True)
                | models.Q(fee_quoted__isnull=False),
                name="case_fee_confirmed_is_quoted",
            ),
            models.CheckConstraint(
                condition=models.Q(fee_waived_at__isnull=True, fee_waived_reason="")
                | (models.Q(fee_waived_at__isnull=False) & ~models.Q(fee_waived_reason="")),
                name="case_fee_waived_with_reason",
            ),
            # A double request makes one third opinion.
            models.UniqueConstraint(
                fields=["parent"],
                condition=models.Q(parent__isnull=False),
                name="one_third_opinion_per_case",
            ),
            models.CheckConstraint(
                condition=models.Q(reconciled_at__isnull=True, reconciliation="")
                | models.Q(reconciled_at__isnull=False, parent__isnull=False)
                & ~models.Q(reconciliation=""),
                name="case_reconciliation_on_third_opinion",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or str(_("Draft request"))

    @property
    def hold_is_due(self) -> bool:
        """The day the coordinator said they would look again has come."""
        return bool(
            self.hold_reason and self.hold_until and self.hold_until <= timezone.localdate()
        )

    @property
    def acting_as(self) -> str:
        """How the account holder acts for the patient, in words ("as their parent")."""
        return ACTING_AS.get(self.relationship, "")

    @property
    def is_third_opinion(self) -> bool:
        return self.parent_id is not None


class CaseEvent(models.Model):
    """The case timeline: every status change, with who, why and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    old_status = models.CharField(max_length=20, choices=CaseStatus, blank=True)
    new_status = models.CharField(max_length=20, choices=CaseStatus)
    reason = models.TextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.old_status or '-'} -> {self.new_status}"


class CaseManagerChange(models.Model):
    """A coordinator took over a case another one managed: who, from whom and
    why. The care team's timeline shows it; the patient's does not (the reason
    is the staff's)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="manager_changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    old_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.case}: {self.old_manager_id} -> {self.actor_id}"


class CaseQuestion(models.Model):
    """One of the patient's own questions; the report answers each in turn."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    text = models.TextField(max_length=500)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="case_question_position"),
        ]

    def __str__(self) -> str:
        return self.text[:60]


class SectionState(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class CaseSection(models.Model):
    """Where each task-list section stands: absent means not started."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sections")
    section = models.CharField(max_length=20)
    state = models.CharField(max_length=12, choices=SectionState)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "section"], name="case_section_once"),
        ]

    def __str__(self) -> str:
        return f"{self.section}: {self.state}"


class CaseAmendment(models.Model):
    """A change to an answer after submission: visible on the timeline and logged."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="amendments")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    section = models.CharField(max_length=20)
    old_values = models.JSONField(default=dict)
    new_values = models.JSONField(default=dict)
    # Why, when the care team made the change (a specialty chosen at triage).
    reason = models.TextField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.case} {self.section}"


class ReferenceCounter(models.Model):
    """The last reference number handed out in a year (SO-2026-000123)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"
