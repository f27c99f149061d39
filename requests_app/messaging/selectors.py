"""Reads of a case's messages. Who reads a thread:

- the patient (the account holder): every message but the internal notes;
- a caregiver the patient allowed messages: the same as the patient;
- the case manager (the coordinator who claimed the case) and the assigned
  specialist: every message, internal notes included;
- anyone else, other coordinators and a specialist only offered the case
  included: nothing (a 404 on every messaging URL), as for the records.

The case itself is loaded through requests_app's rule first (which logs a staff
read of it); a staff read of the messages writes an access-log row here too."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404

from records.models import Record, State
from records.selectors import records_for_viewer
from requests_app.access import (
    STAFF_CARE_TEAM,
    CaregiverRight,
    Relation,
    case_for_viewer,
    case_relation,
    in_circle,
    is_care_team,
)
from requests_app.models import CLOSED_STATES, Case, CaseStatus
from secondop.audit.services import log_access_list

from .models import Message, ThreadRead

if TYPE_CHECKING:
    from secondop.accounts.models import User


def sees_thread(*, viewer: User, case: Case) -> bool:
    """`case` must have been loaded through case_for_viewer for `viewer`. A draft
    has no care team yet, so no thread either."""
    return case.status != CaseStatus.DRAFT and in_circle(
        viewer=viewer, case=case, right=CaregiverRight.MESSAGES
    )


def can_post(*, viewer: User, case: Case) -> bool:
    """Everyone who reads the thread writes in it, while the case is open."""
    return case.status not in CLOSED_STATES and sees_thread(viewer=viewer, case=case)


def thread_case(*, viewer: User, ref: UUID | str) -> Case:
    """The case whose thread `viewer` may read, or the same 404 as for a case that
    does not exist."""
    case = case_for_viewer(viewer=viewer, ref=ref, caregiving=CaregiverRight.MESSAGES)
    if not sees_thread(viewer=viewer, case=case):
        raise Http404
    return case


def _visible(*, viewer: User, case: Case) -> QuerySet[Message]:
    messages = Message.objects.filter(case=case)
    if case_relation(viewer, case) in STAFF_CARE_TEAM:
        return messages
    return messages.filter(internal=False)  # the patient's side: never the internal notes


def thread_for_viewer(*, viewer: User, case: Case) -> list[Message]:
    """Every message of the thread `viewer` may read, oldest first, with their
    authors and `shown_attachments` (the attached records `viewer` may open;
    `attachment_count` counts them all). A staff read is one access-log row."""
    if not sees_thread(viewer=viewer, case=case):
        return []
    messages: list[Message] = list(
        _visible(viewer=viewer, case=case)
        .select_related("author", "answered_by")
        .annotate(attachment_count=Count("attachments"))
        .prefetch_related(
            Prefetch(
                "attachments",
                to_attr="shown_attachments",
                queryset=records_for_viewer(viewer=viewer, case=case).order_by("title"),
            )
        )
    )
    if case_relation(viewer, case) != Relation.OWNER:
        log_access_list(viewer=viewer, model=Message, shown=[str(m.uuid) for m in messages])
    return messages


def open_questions(*, case: Case) -> list[Message]:
    """The questions to the patient not answered yet, oldest first. None while the
    case is closed: nothing is asked of the patient then."""
    if case.status in CLOSED_STATES:
        return []
    return list(
        Message.objects.filter(
            case=case, is_question=True, answered_at__isnull=True
        ).select_related("author")
    )


def with_waiting_on_patient(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`cases`, each annotated with `waiting_on_patient`: an open question to the
    patient (closed cases never wait)."""
    return cases.annotate(
        waiting_on_patient=Exists(
            Message.objects.filter(
                case=OuterRef("pk"), is_question=True, answered_at__isnull=True
            ).exclude(case__status__in=sorted(CLOSED_STATES))
        )
    )


def last_read_at(*, viewer: User, case: Case) -> datetime | None:
    return (
        ThreadRead.objects.filter(case=case, user=viewer)
        .values_list("last_read_at", flat=True)
        .first()
    )


def _unread(*, viewer: User, messages: QuerySet[Message]) -> QuerySet[Message]:
    """Of `messages`, those written by someone else after `viewer` last read the
    thread (all of them if they never did)."""
    read_until = ThreadRead.objects.filter(case=OuterRef("case_id"), user=viewer).values(
        "last_read_at"
    )[:1]
    return (
        messages.exclude(author=viewer)
        .annotate(read_until=Subquery(read_until))
        .filter(Q(read_until__isnull=True) | Q(created_at__gt=F("read_until")))
    )


def unread_count(*, viewer: User, case: Case) -> int:
    if not sees_thread(viewer=viewer, case=case):
        return 0
    return _unread(viewer=viewer, messages=_visible(viewer=viewer, case=case)).count()


@dataclass(frozen=True)
class CaseMessages:
    open_questions: int = 0
    unread: int = 0


def patient_message_counts(*, viewer: User, cases: Iterable[Case]) -> dict[int, CaseMessages]:
    """For the patient's dashboard: per case of theirs (case id -> counts, absent
    when both are none) the open questions and the unread messages, in one query
    however many cases it shows. Internal notes never count; closed cases ask
    nothing."""
    cases = [
        case
        for case in cases
        if case.status != CaseStatus.DRAFT
        # Of the care team first: their relation costs no query.
        and is_care_team(viewer=viewer, case=case)
        and case_relation(viewer, case) == Relation.OWNER
    ]
    if not cases:
        return {}
    read_until = ThreadRead.objects.filter(case=OuterRef("case_id"), user=viewer).values(
        "last_read_at"
    )[:1]
    unread = ~Q(author=viewer) & (Q(read_until__isnull=True) | Q(created_at__gt=F("read_until")))
    rows = (
        Message.objects.filter(case__in=cases, internal=False)
        .annotate(read_until=Subquery(read_until))
        .values("case_id")
        .annotate(
            questions=Count("id", filter=Q(is_question=True, answered_at__isnull=True)),
            unread=Count("id", filter=unread),
        )
        .order_by()
    )
    closed = {case.pk for case in cases if case.status in CLOSED_STATES}
    counts = {
        row["case_id"]: CaseMessages(
            open_questions=0 if row["case_id"] in closed else row["questions"], unread=row["unread"]
        )
        for row in rows
    }
    return {pk: c for pk, c in counts.items() if c.open_questions or c.unread}


def attachable_records(*, viewer: User, case: Case) -> QuerySet[Record]:
    """The records `viewer` may attach: those of the case they may see, less the
    ones not uploaded yet and the ones turned away (nobody could open them)."""
    return (
        records_for_viewer(viewer=viewer, case=case)
        .exclude(state__in=[State.PENDING, State.REJECTED])
        .order_by("category", "title")
    )
