from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .registry import MAX_NAME_LENGTH, label


class EmailStatus(models.TextChoices):
    """pending -> sending (claimed by one worker, under a lease) -> sent;
    sending -> pending again after a transient error (with next_attempt_at in the
    future) or when the lease runs out (the worker died); sending -> failed when
    the error is permanent or the retries are used up. skipped: not wanted."""

    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not wanted")
    FAILED = "failed", _("Gave up")


class CalendarMethod(models.TextChoices):
    """The iTIP method of an attached calendar file (RFC 5546): an invitation or
    its update, or the cancellation of the event."""

    REQUEST = "REQUEST", _("Invitation")
    CANCEL = "CANCEL", _("Cancellation")


class Notification(models.Model):
    """An outbox row: written in the same transaction as the event that raises
    it, then delivered (made visible in-app, and emailed) by a Celery task."""

    # Set on a claimed row: the other rows that go out in the same email (not a field).
    digest: list["Notification"]

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # A name from the registry (registry.py), which the app that raises it declares.
    kind = models.CharField(_("kind"), max_length=MAX_NAME_LENGTH)
    # Shown in the app only, behind sign-in.
    title = models.CharField(_("title"), max_length=200)
    reference = models.CharField(_("reference"), max_length=32, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    # The email's own words, from the app that raised it: what happened and what to
    # do, never a medical detail (tests/test_email_privacy.py reads every one).
    # Empty: the email says only that there is news (on the reference).
    email_subject = models.CharField(_("email subject"), max_length=200, blank=True)
    email_sentence = models.CharField(_("email sentence"), max_length=500, blank=True)
    email_action = models.CharField(_("email link words"), max_length=100, blank=True)
    # The notification whose email carried this one (itself when it went alone, or
    # the first of a digest): several notices to one person within a few minutes
    # go out as one email.
    emailed_with = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus, default=EmailStatus.PENDING)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # When a pending email may be tried (again): its backoff. A new row is due at once.
    next_attempt_at = models.DateTimeField(
        _("next attempt"), null=True, blank=True, default=timezone.now
    )
    # While sending: until when the worker that claimed it owns it.
    lease_until = models.DateTimeField(null=True, blank=True)
    # Why the last attempt failed: an error name or SMTP code, never an address or PHI.
    failure_reason = models.CharField(_("failure reason"), max_length=200, blank=True)
    # An iCalendar file the email carries (text/calendar; method=...). Like the email
    # itself it holds no medical detail: a time, a reference and a link to sign in.
    calendar_ics = models.TextField(_("calendar file"), blank=True)
    calendar_method = models.CharField(
        _("calendar method"), max_length=10, choices=CalendarMethod, blank=True
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the list page and the unread count in the header
            models.Index(
                fields=["recipient", "-created_at"],
                condition=models.Q(delivered_at__isnull=False),
                name="notif_inbox_idx",
            ),
            # the sweep: rows never made visible in-app (their task was lost) ...
            models.Index(
                fields=["created_at"],
                condition=models.Q(delivered_at__isnull=True),
                name="notif_undelivered_idx",
            ),
            # ... emails whose next attempt is due ...
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(email_status="pending"),
                name="notif_email_due_idx",
            ),
            # ... and claims whose worker died (lease run out)
            models.Index(
                fields=["lease_until"],
                condition=models.Q(email_status="sending"),
                name="notif_email_lease_idx",
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
            models.CheckConstraint(
                condition=~models.Q(email_status="pending")
                | models.Q(next_attempt_at__isnull=False),
                name="notif_pending_has_next_attempt",
            ),
            models.CheckConstraint(
                condition=~models.Q(email_status="sending") | models.Q(lease_until__isnull=False),
                name="notif_sending_has_lease",
            ),
            # A calendar file always says what it is, and a method comes with its file.
            models.CheckConstraint(
                condition=models.Q(calendar_ics="", calendar_method="")
                | (
                    ~models.Q(calendar_ics="") & models.Q(calendar_method__in=["REQUEST", "CANCEL"])
                ),
                name="notif_calendar_with_method",
            ),
        ]

    def __str__(self) -> str:
        # Not the title: this is what the admin and the logs show.
        return f"{label(self.kind)} #{self.pk}"


class EmailPreference(models.Model):
    """Email on or off for one kind of notification; absent means on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="email_preferences"
    )
    kind = models.CharField(max_length=MAX_NAME_LENGTH)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notif_pref_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.kind} {'on' if self.enabled else 'off'}"
