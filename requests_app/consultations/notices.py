"""The kinds of notification consultations send, registered in ConsultationsConfig.ready().
Only the two people who meet (the patient and the specialist) receive them."""

from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.notifications.registry import NoticeKind

CONSULTATION = "consultation"
REMINDER = "reminder"

_WHO_MEET = frozenset({Role.PATIENT, Role.SPECIALIST})

KINDS = (
    NoticeKind(
        CONSULTATION, _("A consultation is proposed, booked, changed or cancelled"), _WHO_MEET
    ),
    NoticeKind(REMINDER, _("A reminder the day before a consultation"), _WHO_MEET),
)

# A call between the specialist and the patient's own doctor (issue 21): asked for,
# booked, recorded. The doctor has no account: their emails are the call's own.
DOCTOR_CALL = "doctor_call"
KINDS = (
    *KINDS,
    NoticeKind(
        DOCTOR_CALL,
        _("A call between the specialist and your doctor is asked for, booked or recorded"),
        _WHO_MEET,
    ),
)
