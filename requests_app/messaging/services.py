"""Writes to a case's thread: posting a message (or a question, or an internal
note) and marking the thread read.

The case is loaded through the access rule and then the thread's own rule
(selectors.sees_thread): an outsider gets the same 404 as for a case that does
not exist. Notifications are the ones requests_app.workflow declares; like every
notification they are emailed as "there is an update, sign in", never the text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from requests_app.access import CaregiverRight, Relation, case_for_viewer, case_relation
from requests_app.models import CLOSED_STATES, Case
from requests_app.workflow import (
    NOTICE_INTERNAL_NOTE,
    NOTICE_MESSAGE_FROM_PATIENT,
    NOTICE_MESSAGE_FROM_TEAM,
    NOTICE_QUESTION,
    case_url_for,
    send_notices,
)
from secondop.audit.services import log_event
from secondop.refusals import Refusal

from . import selectors
from .models import BODY_MAX_LENGTH, Message, ThreadRead

if TYPE_CHECKING:
    from records.models import Record
    from secondop.accounts.models import User

# What a patient's message answers: every open question (a reply to the thread),
# none of them (not an answer yet), or one question, named by its uuid.
ANSWERS_ALL = "all"
ANSWERS_NONE = "none"

# The same text from the same person on the same case this soon is a double
# submit (a second click, a resent form): it is not posted twice.
DOUBLE_SUBMIT_WINDOW = timedelta(minutes=2)


class MessageError(Refusal):
    """A refusal fit to show a person; `errors` maps form fields to messages.
    `status`: 400 for what was typed, 409 when the request has closed."""


def thread_url_for(case: Case, user: User) -> str:
    """Where a message notification takes its reader: the thread when they may
    read it, else the case page (a coordinator who has not claimed the case)."""
    if selectors.sees_thread(viewer=user, case=case):
        return reverse("messaging:thread", args=[case.uuid])
    return case_url_for(case, user)


def _thread_case_for_update(actor: User, case_ref: UUID | str) -> Case:
    case = case_for_viewer(
        viewer=actor, ref=case_ref, for_update=True, caregiving=CaregiverRight.MESSAGES
    )
    if not selectors.sees_thread(viewer=actor, case=case):
        raise Http404
    if case.status in CLOSED_STATES:
        raise MessageError(
            _(
                "This request is closed, so no new messages can be sent. You "
                "can still read the messages."
            ),
            status=409,
        )
    return case


def _check_body(body: str) -> dict[str, list[str]]:
    if not body:
        return {"body": [_("Write your message")]}
    too_many = len(body) - BODY_MAX_LENGTH
    if too_many > 0:
        return {
            "body": [
                ngettext(
                    "Your message is %(count)s character too long. Shorten it, or send the rest in "
                    "a second message.",
                    "Your message is %(count)s characters too long. Shorten it, or send the rest in "
                    "a second message.",
                    too_many,
                )
                % {"count": number_format(too_many, force_grouping=True)}
            ]
        }
    return {}


def message_post(
    *,
    actor: User,
    case_ref: UUID | str,
    body: str,
    internal: bool = False,
    question: bool = False,
    attachment_refs: Iterable[UUID | str] = (),
    answers: UUID | str = ANSWERS_ALL,
) -> Message:
    """Post `body` to the thread of case `case_ref` as `actor`.

    The care team may post an internal note (`internal`: never shown to the
    patient) or a question to the patient (`question`: the patient's next step
    until it is answered). A patient's message answers the open questions:
    `answers` is ANSWERS_ALL, ANSWERS_NONE or one question's uuid.
    `attachment_refs`: uuids of the case's records that `actor` may see.

    The same body posted again by the same person within DOUBLE_SUBMIT_WINDOW
    returns the first message, and nothing is sent twice."""
    body = (body or "").replace("\r\n", "\n").strip()
    errors = _check_body(body)
    if internal and question:
        errors["kind"] = [_("A question to the patient cannot be an internal note. Choose one.")]
    if errors:
        raise MessageError(_("Please correct the problems below."), errors)

    with transaction.atomic():
        case = _thread_case_for_update(actor, case_ref)  # locked: one post at a time
        relation = case_relation(actor, case)
        is_owner = relation == Relation.OWNER
        # The patient's side of the thread: the patient and their caregivers.
        if relation in (Relation.OWNER, Relation.CAREGIVER) and (internal or question):
            raise MessageError(
                _("Only the care team writes internal notes and questions."),
                {"kind": [_("Send it as a message.")]},
            )
        attachments = _attachments(actor, case, attachment_refs)
        # Before the questions are worked out: a double submit's question is
        # already answered, by the first post.
        earlier = _same_post(
            case=case,
            actor=actor,
            body=body,
            internal=internal,
            question=question,
            attachments=attachments,
            answers=answers if is_owner else ANSWERS_NONE,
        )
        if earlier is not None:
            return earlier
        questions = _answered_questions(case, answers) if is_owner else []

        message = Message.objects.create(
            case=case, author=actor, body=body, internal=internal, is_question=question
        )
        if attachments:
            message.attachments.set(attachments)
        if questions:
            Message.objects.filter(pk__in=[q.pk for q in questions]).update(
                answered_at=message.created_at, answered_by=message
            )
        # The author has read what they answered: their own post moves their mark.
        _mark_read(case=case, user=actor, until=message.created_at)
        log_event(
            actor=actor,
            action="messaging.message.posted",
            obj=message,
            new={
                "case": case.reference or str(case.uuid),
                "internal": internal,
                "question": question,
                "attachments": [str(r.uuid) for r in attachments],
                "answers": [str(q.uuid) for q in questions],
            },
        )
        if relation in (Relation.OWNER, Relation.CAREGIVER):
            notices = NOTICE_MESSAGE_FROM_PATIENT
        elif internal:
            notices = NOTICE_INTERNAL_NOTE
        elif question:
            notices = NOTICE_QUESTION
        else:
            notices = NOTICE_MESSAGE_FROM_TEAM
        send_notices(case, notices, actor=actor, url_for=thread_url_for)
    return message


def _attachments(actor: User, case: Case, refs: Iterable[UUID | str]) -> list[Record]:
    wanted = {str(ref) for ref in refs if ref}
    if not wanted:
        return []
    found = list(selectors.attachable_records(viewer=actor, case=case).filter(uuid__in=wanted))
    if len(found) != len(wanted):
        raise MessageError(
            _("Please correct the problems below."),
            {
                "attachments": [
                    _(
                        "One of the records you chose cannot be attached: it is not one of this "
                        "request's records that you can open. Choose again."
                    )
                ]
            },
        )
    return found


def _same_post(
    *,
    case: Case,
    actor: User,
    body: str,
    internal: bool,
    question: bool,
    attachments: list[Record],
    answers: UUID | str,
) -> Message | None:
    """The message this post repeats (a double submit), if any: the same words,
    kind and attachments from the same person within DOUBLE_SUBMIT_WINDOW, that
    answers the same question. "No" to question 2 is not "No" to question 1."""
    candidates = (
        Message.objects.filter(
            case=case,
            author=actor,
            body=body,
            internal=internal,
            is_question=question,
            created_at__gte=timezone.now() - DOUBLE_SUBMIT_WINDOW,
        )
        .prefetch_related("attachments")
        .order_by("-created_at")
    )
    wanted = {record.pk for record in attachments}
    for earlier in candidates:
        if {record.pk for record in earlier.attachments.all()} != wanted:
            continue
        answered = {
            str(uuid)
            for uuid in Message.objects.filter(answered_by=earlier).values_list("uuid", flat=True)
        }
        if answers == ANSWERS_NONE:
            same = not answered
        elif answers == ANSWERS_ALL:  # the first answered every question then open
            same = not selectors.open_questions(case=case)
        else:
            same = answered == {str(answers)}
        if same:
            return earlier
    return None


def _answered_questions(case: Case, answers: UUID | str) -> list[Message]:
    open_questions = selectors.open_questions(case=case)
    if answers == ANSWERS_ALL:
        return open_questions
    if answers == ANSWERS_NONE or not open_questions:
        return []
    chosen = [q for q in open_questions if str(q.uuid) == str(answers)]
    if not chosen:
        raise MessageError(
            _("Please correct the problems below."),
            {
                "answers": [
                    _(
                        "That question is already answered. Choose another, or send your message as an "
                        "answer to every open question."
                    )
                ]
            },
        )
    return chosen


def _mark_read(*, case: Case, user: User, until: datetime) -> None:
    # Race-free without a lock: insert if missing, then move the mark only forward
    # (two tabs marking at once keep the later mark).
    ThreadRead.objects.bulk_create(
        [ThreadRead(case=case, user=user, last_read_at=until)], ignore_conflicts=True
    )
    ThreadRead.objects.filter(case=case, user=user, last_read_at__lt=until).update(
        last_read_at=until
    )


def thread_mark_read(*, actor: User, case: Case, until: datetime | None = None) -> None:
    """`actor` has read `case`'s thread up to `until` (the newest message they
    were shown; now if none): what was posted since stays unread. `case` must
    have been loaded through selectors.thread_case for `actor`."""
    if not selectors.sees_thread(viewer=actor, case=case):
        raise Http404
    _mark_read(case=case, user=actor, until=until or timezone.now())
