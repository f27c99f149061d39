import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Long enough for a careful answer about a history of symptoms; a longer account
# belongs in a record (a letter, a diary) attached to the message.
BODY_MAX_LENGTH = 5000


class Message(models.Model):
    """One message in a case's thread: the patient (the account holder) and the
    care team (the case manager and the assigned specialist).

    `internal`: a note for the care team only; no patient page, download or email
    ever shows it. `is_question`: a question to the patient, which is their next
    step until it is answered (`answered_at`, by the reply `answered_by`)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey("requests_app.Case", on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("message"), max_length=BODY_MAX_LENGTH)
    internal = models.BooleanField(_("internal note"), default=False)
    is_question = models.BooleanField(_("question to the patient"), default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="answered_questions"
    )
    # Records of the same case that the author could see when they attached them.
    attachments = models.ManyToManyField("records.Record", blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # the thread, oldest first, and the unread counts (newer than a time)
            models.Index(fields=["case", "created_at"], name="msg_thread_idx"),
            # "waiting on the patient": the open questions of a case
            models.Index(
                fields=["case"],
                condition=Q(is_question=True, answered_at__isnull=True),
                name="msg_open_question_idx",
            ),
        ]
        constraints = [
            # A question is for the patient; an internal note is never shown to them.
            models.CheckConstraint(
                condition=Q(internal=False) | Q(is_question=False),
                name="msg_internal_is_no_question",
            ),
            models.CheckConstraint(
                condition=Q(is_question=True) | Q(answered_at__isnull=True),
                name="msg_only_questions_are_answered",
            ),
        ]

    def __str__(self) -> str:
        # Never the body: this string reaches the audit and access logs.
        return f"message {self.uuid}"


class ThreadRead(models.Model):
    """How far one person has read one case's thread: what came after is unread."""

    case = models.ForeignKey("requests_app.Case", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="msg_one_read_mark_per_person"),
        ]

    def __str__(self) -> str:
        return f"thread read {self.case_id}/{self.user_id}"
