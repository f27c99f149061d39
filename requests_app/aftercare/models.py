"""After the report is delivered (guide 2.4): the links a patient sends their
physician, the follow-up questions they ask the specialist, and the rating they
give when the case is closed."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Share(models.Model):
    """The released report, sent to the patient's physician (who has no account)
    as a link with a random token. Only the token's SHA-256 is stored: the token
    itself exists in the email alone, so nobody at SecondOp (and no database
    copy) can open the link. The link expires, and the patient may revoke it."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    report = models.ForeignKey("reports.Report", on_delete=models.PROTECT, related_name="shares")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recipient_email = models.EmailField(_("physician's email"))
    recipient_name = models.CharField(_("physician's name"), max_length=150, blank=True)
    # The language the patient chose for their doctor's emails (a code of
    # settings.LANGUAGES): the link's email and the call's invitation.
    language = models.CharField(_("language of the emails"), max_length=8, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    # The patient's consent: the wording's version (aftercare.consent) and when.
    consent_version = models.CharField(max_length=20)
    consented_at = models.DateTimeField()
    consent_ip = models.GenericIPAddressField(null=True, blank=True)

    # Sending (aftercare.tasks.share_send_task). Each attempt makes a new token
    # and keeps its hash: only the link in the email that went out opens.
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # A worker owns the sending until then; after, another may take it over.
    send_claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when the email could not be delivered and will not be tried again.
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=200, blank=True)

    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    # The patient's second, optional consent (consent.PARTICIPATION_WORDING): the
    # physician may ask the specialist a question through the link. Its version
    # and time; withdrawn_at once the patient took it back.
    participation_consent_version = models.CharField(max_length=20, blank=True)
    participation_consented_at = models.DateTimeField(null=True, blank=True)
    participation_withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("report shared with a physician")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["report", "-created_at"]),
            # The sweep that re-queues emails a lost task never sent.
            models.Index(
                fields=["created_at"],
                name="share_unsent_idx",
                condition=Q(sent_at__isnull=True, failed_at__isnull=True, revoked_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(consent_version=""), name="share_has_consent"),
            models.CheckConstraint(
                condition=Q(sent_at__isnull=True) | Q(token_hash__isnull=False),
                name="share_sent_has_token",
            ),
        ]

    def __str__(self) -> str:
        # No PHI and no address: this string reaches the access and audit logs.
        return f"share {self.uuid}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        """The link opens the report: sent, not revoked, not expired."""
        return self.sent_at is not None and self.revoked_at is None and not self.is_expired

    @property
    def may_take_part(self) -> bool:
        """The patient agreed that the physician takes part, and has not withdrawn it."""
        return bool(self.participation_consent_version) and self.participation_withdrawn_at is None

    @property
    def participation_scope(self) -> frozenset[str]:
        """What the wording the patient agreed to lets the physician do (whether or not
        it is still in force): consent.QUESTION, RECORDS, CALL."""
        from .consent import PARTICIPATION_COVERS

        return PARTICIPATION_COVERS.get(self.participation_consent_version, frozenset())

    def may(self, what: str) -> bool:
        """The patient's consent in force covers `what` (consent.QUESTION, RECORDS, CALL)."""
        return self.may_take_part and what in self.participation_scope


class ShareOpening(models.Model):
    """One use of a physician's link: the page read or the PDF downloaded. The
    patient sees these ("Opened by your physician on ..."); the access log has
    the same read with its address."""

    class Kind(models.TextChoices):
        VIEW = "view", _("Opened")
        DOWNLOAD = "download", _("Downloaded the PDF")
        SMART_LINK = "shl", _("Opened with a SMART Health Link")

    share = models.ForeignKey(Share, on_delete=models.PROTECT, related_name="openings")
    kind = models.CharField(max_length=10, choices=Kind)
    # The version shown: an amendment released later is what a later opening sees.
    version = models.ForeignKey("reports.ReportVersion", on_delete=models.PROTECT, related_name="+")
    # A SMART Health Link's manifest names who asked ("Dr. Lee's record system"):
    # the words the asking app sent, as the patient sees them.
    recipient = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["share", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.share}"


class SmartLink(models.Model):
    """The same share as a SMART Health Link (a QR code the patient shows or sends):
    a manifest URL answering an app's POST with the report's files, encrypted.

    What the server keeps cannot open it on its own: the manifest token's SHA-256
    (like the physician link's) and the files as JWE (dir, A256GCM), encrypted at
    issue with a key that exists only in the link the patient was shown once. A
    passcode, when the patient set one, is kept as Django's password hash; wrong
    ones are counted and the link stops after SMART_LINK_PASSCODE_ATTEMPTS.

    The files are the version released when the link was made: an amendment
    released later stops the link (the patient makes a new one)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    share = models.OneToOneField(Share, on_delete=models.PROTECT, related_name="smart_link")
    version = models.ForeignKey("reports.ReportVersion", on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    passcode_hash = models.CharField(max_length=200, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    bundle_key = models.CharField(max_length=300)
    pdf_key = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    # The encrypted files, deleted from storage once the link stopped for good
    # (withdrawn, expired, replaced, the request withdrawn, too many wrong passcodes).
    files_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SMART Health Link")

    def __str__(self) -> str:
        return f"SMART Health Link {self.uuid}"

    @property
    def has_passcode(self) -> bool:
        return bool(self.passcode_hash)


class AnswerKind(models.TextChoices):
    ADDENDUM = "addendum", _("An answer, added to the report")
    TESTS = "tests", _("Recommends further tests")
    CONSULTATION = "consultation", _("Recommends a follow-up consultation")


class FollowUpQuestion(models.Model):
    """A question the patient asks after reading the report, and the
    specialist's answer (guide 2.4: "patients may need to follow up with the
    specialist for additional tests")."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.CASCADE, related_name="follow_ups"
    )
    position = models.PositiveSmallIntegerField()
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("your question"), max_length=2000)
    asked_at = models.DateTimeField(auto_now_add=True)
    answer_kind = models.CharField(
        _("your answer is"), max_length=12, choices=AnswerKind, blank=True
    )
    answer = models.TextField(_("answer"), max_length=5000, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "position"]
        indexes = [
            # "Is any question open?" for the periodic close and the answer service.
            models.Index(
                fields=["case"], condition=Q(answered_at__isnull=True), name="follow_up_open_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="follow_up_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="follow_up_position_gte_1"),
            # An answer is whole (when, who, what kind, what) or absent.
            models.CheckConstraint(
                condition=Q(
                    answered_at__isnull=True, answered_by__isnull=True, answer="", answer_kind=""
                )
                | (
                    Q(answered_at__isnull=False, answered_by__isnull=False)
                    & ~Q(answer="")
                    & ~Q(answer_kind="")
                ),
                name="follow_up_answer_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"follow-up question {self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None


class ServiceRating(models.Model):
    """How the patient rated the service, once, when the case was closed."""

    case = models.OneToOneField(
        "requests_app.Case", on_delete=models.CASCADE, related_name="rating"
    )
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="service_rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"rating {self.score} for case {self.case_id}"


class PhysicianQuestion(models.Model):
    """The one question the patient's physician asks the specialist through
    their link (with the patient's consent on the share), and the specialist's
    answer: an addendum the patient and the physician both read."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    share = models.OneToOneField(Share, on_delete=models.PROTECT, related_name="physician_question")
    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.CASCADE, related_name="physician_questions"
    )
    text = models.TextField(_("your question"), max_length=2000)
    asked_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("answer"), max_length=5000, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "asked_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True, answered_by__isnull=True, answer="")
                | (Q(answered_at__isnull=False, answered_by__isnull=False) & ~Q(answer="")),
                name="physician_answer_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"physician's question {self.uuid}"


class PhysicianUpload(models.Model):
    """A record the patient's physician sent through their link (with the patient's
    consent on the share): the records office's upload pattern (records.retrieval),
    the physician as the sender. The record is verified like any other; the patient
    sees it as "added by" the physician."""

    record = models.OneToOneField(
        "records.Record", on_delete=models.CASCADE, related_name="physician_upload"
    )
    share = models.ForeignKey(Share, on_delete=models.PROTECT, related_name="uploads")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["share", "-created_at"])]

    def __str__(self) -> str:
        return f"physician's upload {self.pk}"
