import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from requests_app.icd10.ranges import icd10_code_in, validate_icd10_ranges
from secondop.us_states import USState


def npi_is_valid(npi: str) -> bool:
    """A National Provider Identifier's check digit: Luhn over the nine digits
    prefixed with 80840 (the card issuer prefix CMS assigned to the NPI)."""
    if not (len(npi) == 10 and npi.isascii() and npi.isdigit()):
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 0:  # every second digit from the right, starting with the last
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


def validate_npi(value: str) -> None:
    if not npi_is_valid(value):
        raise ValidationError(
            _(
                "This is not a valid NPI: it has 10 digits and its last one is a check digit. "
                "Look it up in the NPPES NPI Registry."
            ),
            code="invalid",
        )


class Board(models.Model):
    """One of the 24 ABMS member boards, which issue the certifications."""

    slug = models.SlugField(_("code"), max_length=20, unique=True, help_text=_("e.g. abim"))
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("certifying board")
        verbose_name_plural = _("certifying boards")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        return self.name.removeprefix("American Board of ")


class CertificationKind(models.TextChoices):
    SPECIALTY = "specialty", _("primary specialty")
    SUBSPECIALTY = "subspecialty", _("subspecialty")


ICD10_RANGES_HELP = _(
    "The ICD-10-CM codes a holder usually treats, separated by commas: a code or the start "
    "of one (C50 is every code that starts with C50; E11.3 every code that starts with "
    "E11.3), or a range of two such starts, both included (C00-D49 is every code whose "
    "first three characters sort between C00 and D49: D49.9 is in, D50 is not). Dots and "
    "case do not matter. Matching uses this as a hint, never as a limit. Leave it empty "
    "for a certificate that treats no condition in particular."
)


class Certification(models.Model):
    """A specialty or subspecialty certificate that an ABMS board issues
    (loaded by a data migration from specialists/data/abms_certifications.json).
    A certificate that several boards issue (Surgery of the Hand: orthopaedic,
    plastic and general surgery) is one row per board, as each board issues its own."""

    board = models.ForeignKey(
        Board, on_delete=models.PROTECT, related_name="certifications", verbose_name=_("board")
    )
    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(
        _("code"),
        max_length=80,
        unique=True,
        help_text=_(
            "The board's code and the certificate's name, e.g. abim-medical-oncology. "
            "Other records refer to it: do not change it."
        ),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CertificationKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subspecialties",
        limit_choices_to={"kind": CertificationKind.SPECIALTY},
        verbose_name=_("builds on"),
        help_text=_(
            "For a subspecialty: the same board's primary specialty its holders must "
            "hold first. Empty when several of them lead to it."
        ),
    )
    icd10_ranges = models.TextField(
        _("ICD-10-CM codes it usually treats"),
        blank=True,
        validators=[validate_icd10_ranges],
        help_text=ICD10_RANGES_HELP,
    )
    active = models.BooleanField(
        _("offered"),
        default=True,
        help_text=_("Whether specialists can list it and matching considers it."),
    )

    class Meta:
        verbose_name = _("board certification")
        verbose_name_plural = _("board certifications")
        ordering = ["board__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["board", "name"], name="certification_unique_per_board"
            ),
            models.CheckConstraint(
                condition=Q(kind=CertificationKind.SUBSPECIALTY) | Q(parent__isnull=True),
                name="certification_only_subspecialty_has_parent",
                violation_error_message=_("Only a subspecialty builds on another certificate."),
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("pk")),
                name="certification_not_own_parent",
                violation_error_message=_("A certificate cannot build on itself."),
            ),
        ]
        indexes = [models.Index(fields=["active", "kind"])]

    def __str__(self) -> str:
        board = self.board.short_name
        return self.name if self.name == board else f"{self.name} ({board})"

    def clean(self) -> None:
        # The constraints check one row; a parent's kind and board are another row's.
        parent = self.parent
        if parent is None:
            return
        if self.kind != CertificationKind.SUBSPECIALTY:
            raise ValidationError(
                {"parent": _("Only a subspecialty builds on another certificate.")}, code="invalid"
            )
        if parent.kind != CertificationKind.SPECIALTY or parent.board_id != self.board_id:
            raise ValidationError(
                {"parent": _("Choose a primary specialty of the same board.")}, code="invalid"
            )

    def treats(self, icd10_code: str) -> bool:
        return icd10_code_in(icd10_code, self.icd10_ranges)


class Specialty(models.Model):
    """A medical specialty a patient can ask for (loaded by a data migration)."""

    slug = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("what it covers"), max_length=300, blank=True)
    certifications = models.ManyToManyField(
        Certification,
        related_name="specialties",
        blank=True,
        verbose_name=_("board certifications"),
        help_text=_(
            "What this choice means: a specialist who holds any of these can answer "
            "a case that asks for it."
        ),
    )

    class Meta:
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")
        ordering = ["name"]

    def __str__(self) -> str:
        # Stored in English; shown in the reader's language (specialists.specialties
        # puts every name and description in the catalogue).
        return gettext(self.name)

    @property
    def what_it_covers(self) -> str:
        return gettext(self.description) if self.description else ""


class Credential(models.TextChoices):
    MD = "MD", _("MD (Doctor of Medicine)")
    DO = "DO", _("DO (Doctor of Osteopathic Medicine)")


class ConsultationMode(models.TextChoices):
    """The same values as the patient's requests_app.models.ConsultationType."""

    WRITTEN = "written", _("Written opinion")
    VIDEO = "video", _("Video consultation")
    IN_PERSON = "in_person", _("In-person visit")


class SpecialistProfile(models.Model):
    """The clinical side of a specialist's account: what matching reads, and
    (name, credentials, specialties, institution, languages, bio) what the
    public directory shows."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="specialist_profile"
    )
    # The directory's URLs: never the integer key.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    credential = models.CharField(
        _("degree"), max_length=2, choices=Credential, default=Credential.MD
    )
    title = models.CharField(
        _("letters after your name"),
        max_length=100,
        help_text=_("As patients should read them, e.g. MD, PhD, FACS"),
    )
    specialties = models.ManyToManyField(
        Specialty,
        related_name="specialists",
        verbose_name=_("specialties"),
        help_text=_("The kinds of specialist patients ask for that you can answer."),
    )
    subspecialty = models.CharField(
        _("focus"), max_length=150, blank=True, help_text=_("e.g. Breast cancer, Heart failure")
    )
    institution = models.CharField(_("institution"), max_length=200)
    npi = models.CharField(
        _("NPI"),
        max_length=10,
        blank=True,
        validators=[validate_npi],
        help_text=_("Your 10-digit National Provider Identifier."),
    )
    bio = models.TextField(_("about"), max_length=2000, blank=True)
    photo = models.ImageField(_("photo"), upload_to="specialists/photos/", blank=True)
    languages = models.JSONField(
        _("languages"),
        default=list,
        blank=True,
        help_text=_("Languages you consult in, e.g. English, Spanish."),
    )
    conditions = models.JSONField(
        _("conditions treated"),
        default=list,
        blank=True,
        help_text=_("ICD-10-CM codes or categories you usually treat, e.g. C50, D05."),
    )
    insurance_networks = models.JSONField(
        _("insurance networks accepted"), default=list, blank=True
    )
    consultation_modes = models.JSONField(_("consultations offered"), default=list, blank=True)
    accepting_cases = models.BooleanField(_("accepting new cases"), default=True)
    max_open_cases = models.PositiveSmallIntegerField(_("most open cases at once"), default=8)
    turnaround_days = models.PositiveSmallIntegerField(_("usual turnaround, in days"), default=7)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("specialist profile")
        verbose_name_plural = _("specialist profiles")
        indexes = [models.Index(fields=["accepting_cases"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_open_cases__gte=1), name="specialist_capacity_at_least_one"
            ),
            models.CheckConstraint(
                condition=models.Q(turnaround_days__gte=1),
                name="specialist_turnaround_at_least_one_day",
            ),
            models.UniqueConstraint(
                fields=["npi"], condition=~models.Q(npi=""), name="specialist_npi_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.full_name}, {self.title}"


class HeldCertification(models.Model):
    """A board certification a specialist holds, with the year it was granted."""

    profile = models.ForeignKey(
        SpecialistProfile, on_delete=models.CASCADE, related_name="certifications"
    )
    certification = models.ForeignKey(
        Certification, on_delete=models.PROTECT, related_name="holders"
    )
    year = models.PositiveSmallIntegerField(_("year certified"))

    class Meta:
        verbose_name = _("board certification held")
        ordering = ["certification__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "certification"], name="certification_held_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certification} ({self.year})"


class LicenceVerification(models.TextChoices):
    UNVERIFIED = "unverified", _("Waiting to be verified")
    VERIFIED = "verified", _("Verified")
    REFUSED = "refused", _("Refused")


class LicenceSource(models.TextChoices):
    """Where an administrator checked a licence (primary sources only)."""

    STATE_BOARD = "state_board", _("The state medical board's public licence lookup")
    FSMB = "fsmb", _("FSMB DocInfo / Physician Data Center")
    BOARD_LETTER = "board_letter", _("A letter or certificate from the state board")


class Licence(models.Model):
    """A state medical licence: opinions are practised where the patient is.

    A specialist declares it; it counts for matching only once an administrator
    has checked it against a primary source (`verification`), and only until
    the day it expires. A new licence, or a changed number, waits to be checked."""

    profile = models.ForeignKey(
        SpecialistProfile, on_delete=models.CASCADE, related_name="licences"
    )
    state = models.CharField(_("state"), max_length=2, choices=USState)
    number = models.CharField(_("licence number"), max_length=40)
    expires_on = models.DateField(_("expires on"))
    verification = models.CharField(
        _("verification"),
        max_length=10,
        choices=LicenceVerification,
        default=LicenceVerification.UNVERIFIED,
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    verified_at = models.DateTimeField(_("checked on"), null=True, blank=True)
    # The expiry date the administrator saw at the source. A later date the
    # specialist types (a renewal) counts only once it is checked too: matching
    # reads the earlier of the two.
    verified_expires_on = models.DateField(_("expiry date checked"), null=True, blank=True)
    verification_source = models.CharField(
        _("source checked"), max_length=20, choices=LicenceSource, blank=True
    )
    verification_note = models.TextField(_("note"), max_length=1000, blank=True)
    # The expiry date the "expires within 60 days" notice was last sent for, so
    # that the daily sweep tells each person once per licence term.
    expiry_notice_for = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, null=True)

    class Meta:
        verbose_name = _("state licence")
        ordering = ["state"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "state"], name="licence_once_per_state"),
            models.CheckConstraint(
                condition=Q(verification="unverified")
                | Q(verified_by__isnull=False, verified_at__isnull=False),
                name="licence_checked_says_by_whom",
                violation_error_message=_("A checked licence says who checked it and when."),
            ),
        ]
        indexes = [
            models.Index(fields=["state", "expires_on"]),
            models.Index(fields=["verification", "expires_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.state} {self.number}"

    @property
    def is_verified(self) -> bool:
        return self.verification == LicenceVerification.VERIFIED


class LeavePeriod(models.Model):
    profile = models.ForeignKey(SpecialistProfile, on_delete=models.CASCADE, related_name="leave")
    starts_on = models.DateField(_("first day away"))
    ends_on = models.DateField(_("last day away"))

    class Meta:
        verbose_name = _("leave")
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="leave_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on} to {self.ends_on}"


class OfferStatus(models.TextChoices):
    OPEN = "open", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DeclineReason(models.TextChoices):
    CAPACITY = "capacity", _("I have no capacity in time")
    EXPERTISE = "expertise", _("Outside my expertise")
    CONFLICT = "conflict", _("Conflict of interest")
    AWAY = "away", _("I will be away")
    OTHER = "other", _("Another reason")


class Offer(models.Model):
    """A case offered to one specialist, with a deadline. At most one is open
    per case; a case is never offered twice to the same specialist."""

    case = models.ForeignKey("requests_app.Case", on_delete=models.CASCADE, related_name="offers")
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="offers"
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=OfferStatus, default=OfferStatus.OPEN)
    deadline = models.DateTimeField(_("answer by"))
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    conflict_attested = models.BooleanField(default=False)
    decline_reason = models.CharField(max_length=12, choices=DeclineReason, blank=True)
    decline_note = models.TextField(max_length=1000, blank=True)
    # Filters the coordinator relaxed for this offer (language, mode), and why.
    relaxed = models.JSONField(default=list, blank=True)
    relax_reason = models.TextField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=models.Q(status="open"), name="one_open_offer_per_case"
            ),
            models.UniqueConstraint(
                fields=["case", "specialist"], name="never_offered_twice_to_one_specialist"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="accepted") | models.Q(conflict_attested=True),
                name="accepted_offer_attests_no_conflict",
            ),
        ]
        indexes = [
            models.Index(
                fields=["deadline"],
                condition=models.Q(status="open"),
                name="offer_open_deadline_idx",
            ),
            models.Index(fields=["specialist", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.specialist} ({self.status})"
