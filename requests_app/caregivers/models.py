import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# How long an invitation link works before the patient has to send it again.
INVITATION_DAYS = 14


class Caregiver(models.Model):
    """Someone a patient invited to follow some of their requests with their own
    login: a spouse, an adult child. Not the account holder (a parent, guardian or
    healthcare proxy acting for the patient holds the account itself).

    An invitation until `user` accepts it (`accepted_at`); revoked from
    `revoked_at` on. The caregiver always sees the status and the timeline of the
    chosen `cases`; the three flags are what else the patient allowed. Never the
    authorisation, the account, records, withdrawal or sharing with a physician:
    no grant names those (requests_app.access.CaregiverRight)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="caregivers_invited"
    )
    name = models.CharField(_("their name"), max_length=150)
    email = models.EmailField(_("their email address"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="caregiving",
    )
    cases = models.ManyToManyField("requests_app.Case", related_name="caregivers", blank=True)
    messages = models.BooleanField(_("read and write messages"), default=False)
    consultations = models.BooleanField(_("join consultations"), default=False)
    report = models.BooleanField(_("read and download the report"), default=False)
    # Only a hash is stored: the link in the email is the credential.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["invited_at", "id"]
        constraints = [
            # One live invitation per person per patient: a second one is a form error.
            models.UniqueConstraint(
                "patient",
                Lower("email"),
                condition=Q(revoked_at__isnull=True),
                name="caregiver_one_live_invitation_per_person",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(user__isnull=False),
                name="caregiver_accepted_has_user",
            ),
        ]
        indexes = [
            # the access rule: the grants of a signed-in caregiver
            models.Index(
                fields=["user"],
                condition=Q(accepted_at__isnull=False, revoked_at__isnull=True),
                name="caregiver_live_grant_idx",
            ),
        ]

    def __str__(self) -> str:
        # Never the name or address: this string reaches the audit log.
        return f"caregiver {self.uuid}"

    @property
    def is_active(self) -> bool:
        return self.accepted_at is not None and self.revoked_at is None

    @property
    def is_expired(self) -> bool:
        return self.accepted_at is None and self.expires_at <= timezone.now()

    @property
    def state_label(self) -> str:
        if self.revoked_at is not None:
            return str(_("Removed"))
        if self.accepted_at is not None:
            return str(_("Active"))
        if self.is_expired:
            return str(_("Invitation expired"))
        return str(_("Invited, not accepted yet"))
