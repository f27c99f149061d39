"""A consultation between the patient and the assigned specialist (guide 2.3: the
physical exam), by video or in person.

    proposed -> booked -> held | missed
        |   \\      |
        |    other_times (the patient asks for other times) -> proposed
        +-> cancelled (from any open state, or after it was missed; either side,
        |   with a reason the other side reads)
        +-> declined (from any open state: the patient no longer wants one)

A patient may also decline before any time is proposed: the consultation is then
made already declined (no times, no room, no place). A case whose patient asked
for one cannot be signed until it is settled (consultation_standing).

The specialist proposes times (a "round" of slots), the patient picks one or asks
for others; either side can reschedule (a new round) or cancel. Every change goes
through requests_app.consultations.services and writes a ConsultationEvent."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    """The same values as the case's requests_app.models.ConsultationType."""

    VIDEO = "video", _("Video consultation")
    IN_PERSON = "in_person", _("In-person visit")


class Status(models.TextChoices):
    PROPOSED = "proposed", _("Times proposed")  # waiting for the patient to choose
    OTHER_TIMES = "other_times", _("Other times asked for")  # waiting for the specialist
    BOOKED = "booked", _("Booked")
    HELD = "held", _("Held")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")
    DECLINED = "declined", _("Declined by the patient")


# A case has at most one consultation in these at a time.
OPEN_STATUSES = (Status.PROPOSED, Status.OTHER_TIMES, Status.BOOKED)
# The consultation has (had) a time: starts_at and ends_at are set.
TIMED_STATUSES = (Status.BOOKED, Status.HELD, Status.MISSED)


class Consultation(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.PROTECT, related_name="consultations"
    )
    # The assigned specialist who proposed it: whose diary a booking takes.
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(_("kind of consultation"), max_length=10, choices=Mode)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PROPOSED)
    # The patient's IANA zone when the times were proposed (from their state):
    # the times were written in it, and the patient reads them in it.
    patient_time_zone = models.CharField(max_length=64)
    # Video: the random, unguessable room id under settings.VIDEO_ROOM_BASE_URL.
    # Shown in the app only, never in an email or a calendar file.
    video_room = models.CharField(max_length=64, blank=True)
    # In person: where, in the specialist's words.
    place = models.TextField(_("where"), max_length=500, blank=True)
    # The current proposal: slots of this round are the ones the patient may pick.
    round = models.PositiveSmallIntegerField(default=1)
    # iCalendar SEQUENCE: one more on every change, so calendars take the newest file.
    sequence = models.PositiveIntegerField(default=0)
    # The booked time. Kept after a cancellation or a new proposal: the calendar
    # file that takes it out of people's calendars names it.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)
    # The booked start the day-before reminder went out for (once per booked time).
    reminder_sent_for = models.DateTimeField(null=True, blank=True)
    # The specialist's exam notes: the care team's only, never shown to the patient.
    exam_notes = models.TextField(_("exam notes"), max_length=5000, blank=True)
    # The patient asked for an interpreter at intake (Case.interpreter_needed): the
    # language (from intake, the case manager may correct it), and that one is booked.
    interpreter_language = models.CharField(_("interpreter's language"), max_length=60, blank=True)
    interpreter_booked = models.BooleanField(_("interpreter booked"), default=False)
    interpreter_name = models.CharField(_("interpreter's name"), max_length=150, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("consultation")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at"]),
            # a specialist's bookings that might overlap a new time
            models.Index(fields=["specialist", "status", "starts_at"]),
            # the reminder sweep
            models.Index(
                fields=["starts_at"],
                condition=Q(status="booked"),
                name="consultation_booked_start_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=OPEN_STATUSES),
                name="consultation_one_open_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=TIMED_STATUSES)
                | Q(starts_at__isnull=False, ends_at__isnull=False, booked_at__isnull=False),
                name="consultation_booked_has_time",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="consultation_ends_after_start",
            ),
            # A consultation declined before any time was proposed has neither.
            models.CheckConstraint(
                condition=~Q(mode="video") | ~Q(video_room="") | Q(status="declined"),
                name="consultation_video_has_room",
            ),
            models.CheckConstraint(
                condition=~Q(mode="in_person") | ~Q(place="") | Q(status="declined"),
                name="consultation_in_person_has_place",
            ),
            models.UniqueConstraint(
                fields=["video_room"], condition=~Q(video_room=""), name="consultation_room_unique"
            ),
        ]

    def __str__(self) -> str:
        # No time, place or name: this string reaches the audit and access logs.
        return f"consultation {self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def video_url(self) -> str:
        if not self.video_room:
            return ""
        return settings.VIDEO_ROOM_BASE_URL.rstrip("/") + "/" + self.video_room


class Slot(models.Model):
    """One time the specialist offered, in one round of proposals."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="slots")
    round = models.PositiveSmallIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["consultation", "round"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="consultation_slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"slot {self.uuid}"


class Action(models.TextChoices):
    PROPOSED = "proposed", _("Times proposed")
    OTHER_TIMES = "other_times", _("Other times asked for")
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    HELD = "held", _("Held")
    MISSED = "missed", _("Missed")
    DECLINED = "declined", _("Declined by the patient")
    REMINDED = "reminded", _("Reminder sent")
    INTERPRETER = "interpreter", _("Interpreter booked")


class ConsultationEvent(models.Model):
    """What happened to a consultation, by whom, with what they said to the other
    side (a reason, the times that suit): both sides read these. Exam notes are
    not here (they are the care team's only)."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=12, choices=Action)
    note = models.TextField(max_length=500, blank=True)
    # For "booked": the time booked.
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(action="cancelled") | ~Q(note=""),
                name="consultation_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(action="other_times") | ~Q(note=""),
                name="consultation_other_times_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"consultation event {self.pk}"


# --- A call between the doctors (issue 21, item 3) ----------------------------------------
class DoctorCallStatus(models.TextChoices):
    """requested -> proposed -> booked -> held | missed; the specialist may propose
    new times while it is proposed (a new round: the physician's older link stops)."""

    REQUESTED = "requested", _("Asked for")  # waiting for the specialist's times
    PROPOSED = "proposed", _("Times proposed")  # waiting for the physician to choose
    BOOKED = "booked", _("Booked")
    HELD = "held", _("Held")
    MISSED = "missed", _("Missed")


DOCTOR_CALL_OPEN = (
    DoctorCallStatus.REQUESTED,
    DoctorCallStatus.PROPOSED,
    DoctorCallStatus.BOOKED,
)


class DoctorCall(models.Model):
    """A telephone call between the specialist and the patient's own doctor, asked
    for by the patient (from their report) or by the doctor (through their link,
    with the patient's consent on the share). The specialist proposes times; the
    doctor (no account) picks one through a link of their own, emailed to them,
    and leaves the number to ring; the specialist records the call as held or
    missed with a short note the patient reads.

    The physician's link: only the token's SHA-256 is kept (as for the share's),
    made afresh for each round of times, so only the newest email's link opens."""

    class AskedBy(models.TextChoices):
        PATIENT = "patient", _("The patient")
        PHYSICIAN = "physician", _("The patient's doctor")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        "requests_app.Case", on_delete=models.PROTECT, related_name="doctor_calls"
    )
    # The link through which the doctor was sent the report: who is called, and
    # whether the patient's consent still holds.
    share = models.ForeignKey(
        "aftercare.Share", on_delete=models.PROTECT, related_name="doctor_calls"
    )
    specialist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    asked_by = models.CharField(max_length=10, choices=AskedBy)
    # What the one who asked would like the doctors to talk about (optional).
    topic = models.TextField(_("what the doctors should talk about"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DoctorCallStatus, default=DoctorCallStatus.REQUESTED
    )
    # The zone the times are written and read in: the patient's (their doctor's).
    time_zone = models.CharField(max_length=64)
    round = models.PositiveSmallIntegerField(default=0)
    sequence = models.PositiveIntegerField(default=0)  # iCalendar SEQUENCE
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    booked_at = models.DateTimeField(null=True, blank=True)
    # The number the specialist rings, as the doctor wrote it.
    physician_phone = models.CharField(_("the number to ring"), max_length=40, blank=True)
    # Held or missed: a few words the patient reads.
    outcome_note = models.TextField(_("note for the patient"), max_length=500, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    # The doctor's link to choose a time (consultations.doctor_calls.invite_send).
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    invite_sent_round = models.PositiveSmallIntegerField(default=0)
    invite_claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("call between the doctors")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["case", "-created_at"]),
            models.Index(fields=["specialist", "status", "starts_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=DOCTOR_CALL_OPEN),
                name="doctor_call_one_open_per_case",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=("booked", "held", "missed"))
                | Q(starts_at__isnull=False, ends_at__isnull=False, booked_at__isnull=False),
                name="doctor_call_booked_has_time",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="doctor_call_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=("held", "missed"))
                | (~Q(outcome_note="") & Q(outcome_at__isnull=False)),
                name="doctor_call_outcome_has_note",
            ),
        ]

    def __str__(self) -> str:
        # No time, number or name: this string reaches the audit and access logs.
        return f"doctor call {self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.status in DOCTOR_CALL_OPEN


class DoctorCallSlot(models.Model):
    """One time the specialist offered for a call, in one round."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.ForeignKey(DoctorCall, on_delete=models.CASCADE, related_name="slots")
    round = models.PositiveSmallIntegerField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["call", "round"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="doctor_call_slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"doctor call slot {self.uuid}"
