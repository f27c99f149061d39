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
from datetime import timedelta
from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from requests_app.access import case_for_viewer, case_list, is_care_team
from requests_app.models import Case
from secondop.accounts.models import Role
from secondop.audit.context import current_source
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access

from .models import (
    Bundle,
    Category,
    GatherItem,
    GatherList,
    Record,
    RecordFile,
    RecordRequest,
    State,
)


def sees_records(*, viewer, case: Case) -> bool:
    return is_care_team(viewer=viewer, case=case)


def records_for_viewer(*, viewer, case: Case) -> QuerySet[Record]:
    """`case` must have been loaded through case_for_viewer for `viewer`. A refused
    record someone dismissed is no longer shown to anyone."""
    records = Record.objects.filter(case=case, dismissed_at__isnull=True)
    if viewer.pk == case.owner_id:
        return records
    if not sees_records(viewer=viewer, case=case):
        return records.none()
    if viewer.role == Role.SPECIALIST:
        return records.filter(state=State.VERIFIED)
    return records.exclude(state=State.PENDING)


# A PDF viewer fetches an opened file in byte ranges, each a request of its own: one
# opening is one access-log row. So is a preview picture the browser keeps for 5 minutes.
RANGE_LOG_WINDOW = timedelta(minutes=10)
THUMBNAIL_LOG_WINDOW = timedelta(minutes=5)


def record_for_viewer(
    *, viewer, ref: UUID | str, kind: str = AccessLog.Kind.VIEW, ranged: bool = False
) -> Record:
    """One record `viewer` may see, or 404. A staff read is logged first, except a
    byte-range request (`ranged`) continuing one the same person made on the same
    path in the last minutes (already logged)."""
    try:
        record = Record.objects.select_related("case").get(uuid=ref)
    except (Record.DoesNotExist, ValueError):
        raise Http404 from None
    # Neither the case's row nor the record's is written again for a continuation.
    continues = ranged and _logged_lately(viewer, record, RANGE_LOG_WINDOW)
    if continues:
        case = _case_quietly(viewer=viewer, ref=record.case.uuid)
    else:
        case = case_for_viewer(viewer=viewer, ref=record.case.uuid)
    if not records_for_viewer(viewer=viewer, case=case).filter(pk=record.pk).exists():
        raise Http404
    record.case = case
    if viewer.pk != case.owner_id and not continues:
        log_access(viewer=viewer, obj=record, kind=kind)
    return record


def _logged_lately(viewer, record: Record, window: timedelta) -> bool:
    source = current_source()
    return AccessLog.objects.filter(
        actor=viewer,
        object_type=Record._meta.label_lower,
        object_id=str(record.pk),
        path=source.path if source else "",
        created_at__gte=timezone.now() - window,
    ).exists()


def _case_quietly(*, viewer, ref) -> Case:
    """The case through the one visibility rule (case_list), without the case-level
    access row case_for_viewer writes: for reads that log per record, or show no PHI."""
    try:
        return case_list(viewer=viewer).get(uuid=ref)
    except (Case.DoesNotExist, ValueError):
        raise Http404 from None


def record_for_thumbnail(*, viewer, ref: UUID | str) -> Record:
    """A record whose preview picture `viewer` may see, or 404. A staff read writes
    one row for that record (path and address), once per picture in 5 minutes; the
    patient's "who looked" shows it."""
    try:
        record = Record.objects.select_related("case").get(uuid=ref)
    except (Record.DoesNotExist, ValueError):
        raise Http404 from None
    case = _case_quietly(viewer=viewer, ref=record.case.uuid)
    if not records_for_viewer(viewer=viewer, case=case).filter(pk=record.pk).exists():
        raise Http404
    record.case = case
    if viewer.pk != case.owner_id and not _logged_lately(viewer, record, THUMBNAIL_LOG_WINDOW):
        log_access(viewer=viewer, obj=record, kind=AccessLog.Kind.VIEW)
    return record


# Records that will not change any more (the page stops asking once all are).
FINAL_STATES = frozenset({State.VERIFIED, State.REJECTED})


def record_states(*, viewer, ref: UUID | str) -> list[Record]:
    """The state of each record of the case `viewer` sees, for the records page to
    refresh itself: no title, no name, no content (so no access row), the same 404
    as the page for everyone else."""
    case = _case_quietly(viewer=viewer, ref=ref)
    if not sees_records(viewer=viewer, case=case):
        raise Http404
    records = list(
        records_for_viewer(viewer=viewer, case=case)
        .only("uuid", "state", "reason", "mime", "is_study", "case_id", "uploaded_by_id")
        .order_by("created_at", "id")
    )
    for record in records:
        record.case = case
    return records


def bundle_for_viewer(*, viewer, ref: UUID | str) -> Bundle:
    try:
        bundle = Bundle.objects.select_related("case").get(uuid=ref, requested_by=viewer)
    except (Bundle.DoesNotExist, ValueError):
        raise Http404 from None
    case = case_for_viewer(viewer=viewer, ref=bundle.case.uuid)
    if not sees_records(viewer=viewer, case=case) or viewer.pk == case.owner_id:
        raise Http404
    return bundle


def record_request_for_viewer(*, viewer, ref: UUID | str) -> RecordRequest:
    try:
        asked = RecordRequest.objects.select_related("case").get(uuid=ref)
    except (RecordRequest.DoesNotExist, ValueError):
        raise Http404 from None
    case = case_for_viewer(viewer=viewer, ref=asked.case.uuid)
    if not sees_records(viewer=viewer, case=case):
        raise Http404
    return asked


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


# --- Who looked ------------------------------------------------------------------------
@dataclass(frozen=True)
class Look:
    name: str
    role: str
    kind: str  # "view", "download" or "preview" (a preview picture)
    when: object


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
    label: str
    records: list[Record]


def records_by_category(records: list[Record]) -> list[CategoryGroup]:
    groups = []
    for value, label in Category.choices:
        these = [r for r in records if r.category == value]
        if these:
            groups.append(CategoryGroup(value, label, these))
    return groups
