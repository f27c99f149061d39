from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    CASE_UPDATE = "case_update", _("Updates on a request")
    NEW_CASE = "new_case", _("New requests to triage")
    MESSAGE = "message", _("New messages")
    SECURITY = "security", _("Security alerts")


# People cannot switch these emails off: they protect the account itself.
ALWAYS_EMAILED = frozenset({Kind.SECURITY})


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not wanted")
    FAILED = "failed", _("Gave up")


class Notification(models.Model):
    """An outbox row: written in the same transaction as the event that raises
    it, then delivered (made visible in-app, and emailed) by a Celery task."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    # Shown in the app only, behind sign-in. Emails carry the reference alone.
    title = models.CharField(_("title"), max_length=200)
    reference = models.CharField(_("reference"), max_length=32, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the list page and the unread count in the header
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(delivered_at__isnull=False),
                name="notif_inbox_idx",
            ),
            # the sweep: rows still undelivered
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivered_at__isnull=True) | models.Q(email_status="pending"),
                name="notif_outbox_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(read_at__isnull=True) | models.Q(delivered_at__isnull=False),
                name="notif_read_only_after_delivery",
            ),
            models.CheckConstraint(
                condition=~models.Q(email_status="sent") | models.Q(emailed_at__isnull=False),
                name="notif_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class EmailPreference(models.Model):
    """Email on or off for one kind of notification; absent means on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    kind = models.CharField(max_length=20, choices=Kind)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {'on' if self.enabled else 'off'}"
