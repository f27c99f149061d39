"""Reads of medical records. Who sees a case's records:

- the patient (the account holder): all of them, with their state and reasons;
- the case manager (the coordinator who claimed the case) and the assigned
  specialist: the ones that arrived (a specialist: the checked ones);
- anyone else, other coordinators included: none (a 404 on every record URL).

The case itself is loaded through requests_app's rule first; every staff read of
a record writes an access-log row here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.http import Http404
from django.utils import timezone

from requests_app import access
from requests_app.access import Relation
from requests_app.models import Case
from secondop.accounts.models import Role
from secondop.audit.context import current_source
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access
from secondop.types import Text

from .models import (
    Bundle,
    Category,
    GatherItem,
    GatherList,
    Identity,
    Record,
    RecordFile,
    RecordRequest,
    State,
)

if TYPE_CHECKING:
    from secondop.accounts.models import User


def records_for_viewer(*, viewer: User, case: Case) -> QuerySet[Record]:
    """`case` must have been loaded through case_for_viewer for `viewer`. A refused
    record someone dismissed is no longer shown to anyone. A study labelled for
    another person is the patient's alone until they say it is theirs: no member of
    staff sees it, its pictures, its files or a bundle of it (every read of a record
    comes through here); the case manager is told that one waits
    (`awaiting_patient`)."""
    records = Record.objects.filter(case=case, dismissed_at__isnull=True)
    relation = access.case_relation(viewer, case)
    if relation == Relation.OWNER:
        return records
    records = records.exclude(identity=Identity.ASKED)
    if relation == Relation.CASE_MANAGER:
        return records.exclude(state=State.PENDING)
    if relation == Relation.ASSIGNED_SPECIALIST and case.parent_id is not None:
        # A third opinion is written from the records of the request it is on:
        # their checked records, as the specialist of that request read them.
        return Record.objects.filter(
            case_id__in=(case.pk, case.parent_id),
            dismissed_at__isnull=True,
            state=State.VERIFIED,
        ).exclude(identity=Identity.ASKED)
    if relation in (Relation.ASSIGNED_SPECIALIST, Relation.THIRD_OPINION_SPECIALIST):
        return records.filter(state=State.VERIFIED)
    return records.none()


def awaiting_patient(*, viewer: User, case: Case) -> list[Record]:
    """The studies labelled for another person that wait for the patient's answer, for
    the patient and the case manager (the coordinator's flag: when, not what: no
    title, no label, no picture); nothing for anyone else."""
    if not (access.is_owner(viewer, case) or access.is_case_manager(viewer, case)):
        return []
    return list(
        Record.objects.filter(case=case, identity=Identity.ASKED, dismissed_at__isnull=True)
        .only("uuid", "created_at", "checked_at", "case_id", "identity")
        .order_by("created_at", "id")
    )


def records_listed(*, viewer: User, case: Case) -> QuerySet[Record]:
    """records_for_viewer for the records list: a health record file's summary (which
    can be large) stays in the database; `health_format` says what it is ("ccda",
    "fhir", or None), and `file_name` a single file's name (for name_and_type_listed:
    no second query)."""
    return (
        records_for_viewer(viewer=viewer, case=case)
        .defer("health")
        .annotate(
            health_format=KeyTextTransform("format", "health"),
            file_name=Subquery(
                RecordFile.objects.filter(record=OuterRef("pk"))
                .order_by("name", "id")
                .values("name")[:1]
            ),
        )
    )


# A PDF viewer fetches an opened file in byte ranges, each a request of its own: one
# opening is one access-log row. So is a preview picture the browser keeps for 5 minutes.
RANGE_LOG_WINDOW = timedelta(minutes=10)
THUMBNAIL_LOG_WINDOW = timedelta(minutes=5)


def record_for_viewer(
    *, viewer: User, ref: UUID | str, kind: str = AccessLog.Kind.VIEW, ranged: bool = False
) -> Record:
    """One record `viewer` may see, or 404. A staff read is logged first, except a
    byte-range request (`ranged`) continuing one the same person made on the same
    path in the last minutes (already logged)."""
    if ranged:
        record = access.get_or_404(Record.objects.select_related("case"), uuid=ref)
        if _logged_lately(viewer, record, RANGE_LOG_WINDOW):
            # Neither the case's row nor the record's is written again for a continuation.
            case = access.case_quietly(viewer=viewer, ref=record.case.uuid)
            return _shown(viewer, record, case)
    record = access.for_viewer(
        Record, ref, viewer, log=False, sees=access.RECORD_READERS, needs=access.RECORD_READERS
    )
    _shown(viewer, record, record.case)
    if not access.is_owner(viewer, record.case):
        log_access(viewer=viewer, obj=record, kind=kind)
    return record


def _shown(viewer: User, record: Record, case: Case) -> Record:
    """`record`, on `case` as loaded for `viewer`, if it is one of those they are
    shown (records_for_viewer); else the same 404 as for a record that never was."""
    if not records_for_viewer(viewer=viewer, case=case).filter(pk=record.pk).exists():
        raise Http404
    record.case = case
    return record


def _logged_lately(viewer: User, record: Record, window: timedelta) -> bool:
    source = current_source()
    return AccessLog.objects.filter(
        actor=viewer,
        object_type=Record._meta.label_lower,
        object_id=str(record.pk),
        path=source.path if source else "",
        created_at__gte=timezone.now() - window,
    ).exists()


def record_for_thumbnail(*, viewer: User, ref: UUID | str) -> Record:
    """A record whose preview picture `viewer` may see, or 404. A staff read writes
    one row for that record (path and address), once per picture in 5 minutes; the
    patient's "who looked" shows it. No case-level row: the page showing the picture
    wrote that."""
    record = access.get_or_404(Record.objects.select_related("case"), uuid=ref)
    case = access.case_quietly(viewer=viewer, ref=record.case.uuid)
    _shown(viewer, record, case)
    if not access.is_owner(viewer, case) and not _logged_lately(
        viewer, record, THUMBNAIL_LOG_WINDOW
    ):
        log_access(viewer=viewer, obj=record, kind=AccessLog.Kind.VIEW)
    return record


# Records that will not change any more (the page stops asking once all are).
FINAL_STATES = frozenset({State.VERIFIED, State.REJECTED})


def record_states(*, viewer: User, ref: UUID | str) -> list[Record]:
    """The state of each record of the case `viewer` sees, for the records page to
    refresh itself: no title, no name, no content (so no access row), the same 404
    as the page for everyone else."""
    case = access.case_quietly(viewer=viewer, ref=ref)
    if not access.is_care_team(viewer=viewer, case=case):
        raise Http404
    records = list(
        records_for_viewer(viewer=viewer, case=case)
        .only(
            "uuid",
            "state",
            "reason",
            "mime",
            "is_study",
            "case_id",
            "uploaded_by_id",
            "identity",
            "duplicate_of_id",
        )
        .order_by("created_at", "id")
    )
    for record in records:
        record.case = case
    return records


def bundle_for_viewer(*, viewer: User, ref: UUID | str) -> Bundle:
    """A bundle `viewer` asked for, while they are on the case's staff care team
    (the case's read logged), or 404."""
    return access.for_viewer(
        Bundle,
        ref,
        viewer,
        sees=access.STAFF_CARE_TEAM,
        needs=access.STAFF_CARE_TEAM,
        log=False,  # bundle_download logs the bundle and each record it holds
        queryset=Bundle.objects.filter(requested_by=viewer),
    )


def record_request_for_viewer(*, viewer: User, ref: UUID | str) -> RecordRequest:
    """A request for records on a case whose care team `viewer` is on, or 404."""
    return access.for_viewer(RecordRequest, ref, viewer, log=False)


def bundle_records(*, bundle: Bundle) -> QuerySet[Record]:
    """The records a bundle holds (fixed when it was asked for)."""
    return bundle.records.filter(state=State.VERIFIED)


def bundle_complete(*, bundle: Bundle) -> bool:
    """Every record the bundle was made of is still there: a download of one that
    lost a record (deleted since) is refused, whatever deleted it."""
    return bundle_records(bundle=bundle).count() == bundle.records_total


def open_requests(*, case: Case) -> QuerySet[RecordRequest]:
    return RecordRequest.objects.filter(
        case=case, fulfilled_at__isnull=True, cancelled_at__isnull=True
    ).select_related("requested_by")


def name_and_type_by_record(records: list[Record]) -> dict[int, str]:
    """For each single-file record whose name's extension promises another type than
    the one it really has, that in words (records.display.name_and_type); one query."""
    from .display import name_and_type

    singles = {r.pk: r for r in records if not r.is_study and r.mime}
    if not singles:
        return {}
    found = {}
    for record_id, name in RecordFile.objects.filter(record_id__in=singles).values_list(
        "record_id", "name"
    ):
        sentence = name_and_type(name, singles[record_id].mime)
        if sentence:
            found[record_id] = sentence
    return found


def name_and_type_listed(records: list[Record]) -> dict[int, str]:
    """name_and_type_by_record for records from records_listed, from their
    `file_name`: no query."""
    from .display import name_and_type

    found = {}
    for record in records:
        name = getattr(record, "file_name", None)  # records_listed's annotation
        if not record.is_study and record.mime and name:
            sentence = name_and_type(name, record.mime)
            if sentence:
                found[record.pk] = sentence
    return found


# --- Who looked ------------------------------------------------------------------------
@dataclass(frozen=True)
class Look:
    name: str
    role: Text
    kind: str  # "view", "download", "preview" (a preview picture) or "images" (the viewer)
    when: datetime
    mine: bool = False  # the patient themselves (only the viewer logs their reads)


def looks_by_record(records: list[Record]) -> dict[int, list[Look]]:
    """Who on the care team opened or downloaded each record, and when (latest
    first), from the access log: one query for the whole page."""
    if not records:
        return {}
    rows = (
        AccessLog.objects.filter(
            object_type=Record._meta.label_lower,
            object_id__in=[str(r.pk) for r in records],
            kind__in=[AccessLog.Kind.VIEW, AccessLog.Kind.DOWNLOAD],
            actor__isnull=False,
        )
        .order_by("-created_at")
        .values_list("object_id", "actor__full_name", "actor__role", "kind", "created_at", "path")[
            :2000
        ]
    )
    looks: dict[int, list[Look]] = defaultdict(list)
    for object_id, name, role, kind, when, path in rows:
        # A preview picture seen on the records page: "saw its preview".
        if kind == AccessLog.Kind.VIEW and path.endswith("/thumbnail/"):
            kind = "preview"
        looks[int(object_id)].append(Look(name, Role(role).label, kind, when))
    return dict(looks)


# --- What to gather ---------------------------------------------------------------------
def checklist_for(*, case: Case) -> GatherList | None:
    """The list whose ICD-10 prefix matches the case's code longest; else the default."""
    lists = list(GatherList.objects.prefetch_related("items"))
    code = (case.icd10_id or "").upper().replace(".", "")
    best, best_length = None, -1
    for checklist in lists:
        prefixes = checklist.prefixes
        if not prefixes:
            if best_length < 0:
                best, best_length = checklist, 0
            continue
        for prefix in prefixes:
            clean = prefix.replace(".", "")
            if code and code.startswith(clean) and len(clean) > best_length:
                best, best_length = checklist, len(clean)
    return best


@dataclass
class ChecklistLine:
    item: GatherItem
    records: list[Record] = field(default_factory=list)

    @property
    def done(self) -> bool:
        # Slides and blocks travel by post: no upload answers them.
        return not self.item.send_by_post and any(r.state == State.VERIFIED for r in self.records)

    @property
    def arriving(self) -> bool:
        return not self.done and any(r.state != State.REJECTED for r in self.records)


def checklist_lines(
    *, case: Case, records: list[Record]
) -> tuple[GatherList | None, list[ChecklistLine]]:
    checklist = checklist_for(case=case)
    if checklist is None:
        return None, []
    by_category = defaultdict(list)
    for record in records:
        by_category[record.category].append(record)
    return checklist, [
        ChecklistLine(item, by_category.get(item.category, [])) for item in checklist.items.all()
    ]


@dataclass
class CategoryGroup:
    value: str
    label: Text
    records: list[Record]


def records_by_category(records: list[Record]) -> list[CategoryGroup]:
    groups = []
    for value, label in Category.choices:
        these = [r for r in records if r.category == value]
        if these:
            groups.append(CategoryGroup(value, label, these))
    return groups
