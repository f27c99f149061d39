from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """One kind per event, so that muting one mutes only that one.

    The case workflow declares which kind each move sends, and to whom
    (requests_app.workflow.NOTICES); the platform knows only the names."""

    SUBMITTED = "submitted", _("A request is sent")
    CASE_UPDATE = "case_update", _("A request moves to its next step")
    AMENDED = "amended", _("A patient changes answers after sending")
    WITHDRAWN = "withdrawn", _("A request is withdrawn")
    CANCELLED = "cancelled", _("A request is cancelled")
    RECORDS_REQUESTED = "records_requested", _("Records are asked for")
    RECORDS_RECEIVED = "records_received", _("Asked-for records arrive")
    OFFER_MADE = "offer_made", _("A case is offered to a specialist")
    OFFER_ACCEPTED = "offer_accepted", _("A specialist accepts a case")
    OFFER_DECLINED = "offer_declined", _("A specialist declines a case or lets the offer expire")
    OFFER_WITHDRAWN = "offer_withdrawn", _("An offer to you is taken back")
    CREDENTIALING = "credentialing", _("A state licence is verified, refused or about to expire")
    REPORT_SUBMITTED = "report_submitted", _("A specialist's report is ready to check")
    REPORT_RETURNED = "report_returned", _("A report is returned for changes")
    REPORT_RELEASED = "report_released", _("A report is released to the patient")
    FOLLOW_UP = "follow_up", _("A follow-up question is asked or answered")
    CLOSED = "closed", _("A request is closed")
    OVERDUE = "overdue", _("A case passes its report due date")
    MESSAGE = "message", _("A message is received")
    CONSULTATION = "consultation", _("A consultation is proposed, booked, changed or cancelled")
    REMINDER = "reminder", _("A reminder the day before a consultation")
    SECURITY = "security", _("Security alerts")


# People cannot switch these emails off: they protect the account itself.
ALWAYS_EMAILED = frozenset({Kind.SECURITY})

# The kinds each role can receive, and so choose on the preferences page.
_CASE_PARTIES = {Kind.CASE_UPDATE, Kind.WITHDRAWN, Kind.CANCELLED, Kind.CLOSED, Kind.MESSAGE}
# The two people who meet at a consultation (the patient and the specialist).
_CONSULTATION_PARTIES = {Kind.CONSULTATION, Kind.REMINDER}
KINDS_FOR_ROLE: dict[str, frozenset[str]] = {
    "patient": frozenset(
        _CASE_PARTIES
        | _CONSULTATION_PARTIES
        | {
            Kind.SUBMITTED,
            Kind.RECORDS_REQUESTED,
            Kind.OFFER_ACCEPTED,
            Kind.REPORT_RELEASED,
            Kind.FOLLOW_UP,
        }
    ),
    "coordinator": frozenset(
        _CASE_PARTIES
        | {
            Kind.SUBMITTED,
            Kind.AMENDED,
            Kind.OVERDUE,
            Kind.RECORDS_RECEIVED,
            Kind.OFFER_ACCEPTED,
            Kind.OFFER_DECLINED,
            Kind.REPORT_SUBMITTED,
        }
    ),
    "specialist": frozenset(
        _CASE_PARTIES
        | _CONSULTATION_PARTIES
        | {
            Kind.AMENDED,
            Kind.OVERDUE,
            Kind.OFFER_MADE,
            Kind.OFFER_WITHDRAWN,
            Kind.REPORT_RETURNED,
            Kind.REPORT_RELEASED,
            Kind.FOLLOW_UP,
            Kind.CREDENTIALING,
        }
    ),
    "admin": frozenset({Kind.CREDENTIALING}),
}


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

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
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
        return f"{self.get_kind_display()} #{self.pk}"


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
