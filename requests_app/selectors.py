"""Reads of cases. `case_list` is the one rule that decides who sees which case;
everything else, reads and writes alike, goes through it."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from secondop.accounts.models import Role
from secondop.audit.selectors import access_by_person
from secondop.audit.services import log_access_list

from .access import case_list, is_care_team
from .fees import fee_state
from .models import (
    OPEN_STATES,
    Case,
    CaseAmendment,
    CaseEvent,
    CaseSection,
    CaseStatus,
    Price,
    PriceItem,
    SectionState,
)
from .progress import CaseFacts

if TYPE_CHECKING:
    from secondop.accounts.models import User

# The queue's header counts every open case (a scan of the table): they are the
# same for every coordinator, so they are kept for a few seconds.
COUNTS_CACHE_SECONDS = 15


def case_counts_by_status(*, viewer: User) -> dict[str, int]:
    """Open cases per status, for the queue's header."""
    key = f"requests:open-counts:{viewer.role}"
    counts = cache.get(key) if viewer.role == Role.COORDINATOR else None
    if counts is None:
        rows = (
            case_list(viewer=viewer)
            .filter(status__in=OPEN_STATES)
            .values("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        counts = {row["status"]: row["n"] for row in rows}
        if viewer.role == Role.COORDINATOR:
            cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


def patient_case_list(*, viewer: User) -> QuerySet[Case]:
    """The account holder's requests, with how many sections each has done and when
    its report was first delivered (case_facts takes it from here: one query fewer).
    Subqueries, not a join: a handful of rows, no GROUP BY over every column."""
    done = (
        CaseSection.objects.filter(case=OuterRef("pk"), state=SectionState.COMPLETED)
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        case_list(viewer=viewer)
        .select_related("icd10")
        .annotate(
            completed_sections=Coalesce(Subquery(done), 0),
            delivered_first=Subquery(_first_delivered.values("first")),
        )
        .order_by("-created_at")
    )


# When each case's report first reached the patient (its first move to "delivered").
_first_delivered = (
    CaseEvent.objects.filter(case=OuterRef("pk"), new_status=CaseStatus.DELIVERED)
    .order_by()
    .values("case")
    .annotate(first=Min("created_at"))
)


def case_section_states(*, case: Case) -> dict[str, str]:
    return dict(case.sections.values_list("section", "state"))


def case_facts(
    *, cases: list[Case], open_questions: dict[int, int] | None = None
) -> dict[int, CaseFacts]:
    """What the patient's words about each case depend on besides its status
    (requests_app.progress.CaseFacts): their records, what the care team asked
    for, the open consultation, when the report was delivered. Four queries
    however many cases. `open_questions`: case id -> questions waiting for the
    patient (requests_app.messaging counts them)."""
    sent = [case for case in cases if case.reference]
    if not sent:
        return {}
    ids = [case.pk for case in sent]
    # Other apps' tables, named and never imported (DESIGN.md's layers).
    records = apps.get_model("records", "Record").objects
    asked = apps.get_model("records", "RecordRequest").objects
    consultations = apps.get_model("consultations", "Consultation").objects
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        records.filter(case_id__in=ids, dismissed_at__isnull=True)
        .values("case_id", "state", "identity")
        .annotate(n=Count("id"))
        .order_by()
    ):
        # A checked study labelled for another person waits for the patient's answer:
        # not ready (the care team cannot see it), counted apart.
        state = (
            "flagged" if row["state"] == "verified" and row["identity"] == "asked" else row["state"]
        )
        counts[row["case_id"]][state] = counts[row["case_id"]].get(state, 0) + row["n"]
    requests: dict[int, list[str]] = defaultdict(list)
    for case_id, return_to in asked.filter(
        case_id__in=ids, fulfilled_at__isnull=True, cancelled_at__isnull=True
    ).values_list("case_id", "return_to"):
        requests[case_id].append(return_to)
    consultation = {
        row["case_id"]: row
        for row in consultations.filter(
            case_id__in=ids, status__in=("proposed", "other_times", "booked")
        ).values("case_id", "status", "starts_at")
    }
    if all(hasattr(case, "delivered_first") for case in sent):  # patient_case_list's
        # An annotation, which the list's type does not carry.
        delivered = {case.pk: getattr(case, "delivered_first") for case in sent}  # noqa: B009
    else:
        delivered = dict(
            CaseEvent.objects.filter(case_id__in=ids, new_status=CaseStatus.DELIVERED)
            .values("case_id")
            .annotate(first=Min("created_at"))
            .values_list("case_id", "first")
            .order_by()
        )
    asked_events = {}
    if any(case.status == CaseStatus.AWAITING_RECORDS for case in sent):
        for case_id, old in (
            CaseEvent.objects.filter(case_id__in=ids, new_status=CaseStatus.AWAITING_RECORDS)
            .order_by("created_at", "id")
            .values_list("case_id", "old_status")
        ):
            asked_events[case_id] = old  # the latest wins
    facts = {}
    for case in sent:
        # Read once: the aftercare panels' follow-up window asks for the same moment.
        case.first_delivered_at = delivered.get(case.pk)
        by_state = counts.get(case.pk, {})
        open_consultation: dict[str, Any] = dict(consultation.get(case.pk) or {})
        in_review = (
            CaseStatus.IN_REVIEW in requests.get(case.pk, [])
            or asked_events.get(case.pk) == CaseStatus.IN_REVIEW
        )
        facts[case.pk] = CaseFacts(
            records_checking=by_state.get("uploaded", 0) + by_state.get("scanning", 0),
            records_checked=by_state.get("verified", 0),
            records_flagged=by_state.get("flagged", 0),
            records_asked=len(requests.get(case.pk, [])),
            open_questions=(open_questions or {}).get(case.pk, 0),
            consultation=open_consultation.get("status", ""),
            consultation_at=open_consultation.get("starts_at"),
            delivered_at=delivered.get(case.pk),
            asked_in_review=in_review,
            fee=fee_state(case),
            hold_reason=case.hold_reason,
            hold_until=case.hold_until,
        )
    return facts


def case_timeline(*, case: Case, viewer: User | None = None, for_staff: bool = False) -> list[Any]:
    """Status changes and amendments, oldest first (two queries); for a `viewer`
    who sees the consultation, also its being declined or cancelled, with what was
    said (a third); for the care team (`for_staff`), also who took the case over
    from whom, and why (a fourth)."""
    events = list(case.events.select_related("actor"))
    amendments = list(case.amendments.select_related("actor"))
    settled = []
    if viewer is not None and case.consultation_type in ("video", "in_person"):
        # Inside requests_app: the care team sees the consultation (access's rule).
        from .consultations.models import Action, ConsultationEvent

        if is_care_team(viewer=viewer, case=case):
            settled = list(
                ConsultationEvent.objects.filter(
                    consultation__case=case, action__in=(Action.DECLINED, Action.CANCELLED)
                ).select_related("actor")
            )
    changes = list(case.manager_changes.select_related("actor", "old_manager")) if for_staff else []
    return sorted(
        [*events, *amendments, *settled, *changes],
        key=lambda e: (e.created_at, type(e).__name__, e.pk),
    )


def accepted_by(*, case: Case) -> dict[str, Any] | None:
    """The assigned specialist's profile as the patient's case page names them
    (title, specialties, institution, directory link), read here rather than in
    the template; None without a specialist or a profile. `case` comes from
    case_for_viewer (the specialist and their profile are joined)."""
    specialist = case.specialist
    if specialist is None:
        return None
    try:
        profile = specialist.specialist_profile
    except ObjectDoesNotExist:
        return None
    return {
        "title": profile.title,
        "institution": profile.institution,
        "public_id": profile.public_id,
        "specialties": ", ".join(str(s) for s in profile.specialties.all()),
    }


def price_list() -> list[Price]:
    """The price list as patients and coordinators see it: the services offered,
    in the order of PriceItem (the opinion first, then the re-reads)."""
    order = {item: i for i, item in enumerate(PriceItem.values)}
    return sorted(Price.objects.filter(active=True), key=lambda p: order.get(p.item, 99))


def case_record_counts(*, case: Case) -> dict[str, int]:
    """How many of the case's records are checked and how many are still being
    checked (the records app's table, named here, never imported); `flagged`: checked
    studies labelled for another person, waiting for the patient's answer (not
    counted as checked: the care team cannot see them yet)."""
    records = apps.get_model("records", "Record").objects.filter(
        case=case, dismissed_at__isnull=True
    )
    return records.aggregate(
        checked=Count("id", filter=Q(state="verified") & ~Q(identity="asked")),
        waiting=Count("id", filter=Q(state__in=["uploaded", "scanning"])),
        flagged=Count("id", filter=Q(state="verified", identity="asked")),
    )


def case_care_team_views(*, case: Case) -> list[dict[str, Any]]:
    """Who has opened the case: name, role ("your caregiver" for the people the
    patient invited, removed ones included), times, last time."""
    caregivers = set(
        apps.get_model("caregivers", "Caregiver")
        .objects.filter(cases=case, user__isnull=False)
        .values_list("user_id", flat=True)
    )
    return [
        {
            **row,
            "role_label": _("Your caregiver")
            if row["actor_id"] in caregivers
            else Role(row["actor__role"]).label,
        }
        for row in access_by_person(obj=case)
    ]


# --- The coordinator's queue ------------------------------------------------------------
QUEUE_PAGE_SIZE = 25
DUE_SOON = timedelta(hours=48)
QUEUE_SORTS = {
    "due": ("due_at", "submitted_at"),
    "urgent": ("-urgency", "due_at"),  # "urgent" sorts after "routine"
    "newest": ("-submitted_at",),
    "reference": ("reference",),
}


def with_waits(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Each case with `state_since` (when it arrived at its current status: its
    last timeline event) and `patient_active_at` (the account holder's latest
    doing: sending, an amendment, a message, a record, a move of theirs). The
    subqueries run per row shown (the queue's page), each on an index of the
    case's rows."""

    def latest(model: Any, **match: Any) -> Subquery:
        return Subquery(
            model.objects.filter(case=OuterRef("pk"), **match)
            .order_by("-created_at")
            .values("created_at")[:1]
        )

    messages = apps.get_model("messaging", "Message")
    records = apps.get_model("records", "Record")
    return cases.annotate(
        state_since=Coalesce(latest(CaseEvent), F("submitted_at")),
        patient_active_at=Greatest(
            F("submitted_at"),
            Coalesce(latest(CaseEvent, actor=OuterRef("owner")), F("submitted_at")),
            Coalesce(latest(CaseAmendment, actor=OuterRef("owner")), F("submitted_at")),
            Coalesce(latest(messages, author=OuterRef("owner")), F("submitted_at")),
            Coalesce(latest(records, uploaded_by=OuterRef("owner")), F("submitted_at")),
        ),
    )


def _records_awaited() -> QuerySet:
    """The case's records requests sent to a records office and not fully answered
    (records.retrieval, named by app label: it sits above this layer)."""
    return (
        apps.get_model("retrieval", "RecordSource")
        .objects.filter(case=OuterRef("pk"), sent_at__isnull=False)
        .exclude(received="fully")
    )


def case_queue(*, viewer: User, filters: dict[str, Any], page: int | str = 1) -> Page:
    """Every open case, filtered and sorted as the coordinator asks, a page at a
    time. The page shows patients' names, so it is one access-log row."""
    now = timezone.now()
    cases = case_list(viewer=viewer).filter(status__in=OPEN_STATES)
    if filters.get("status"):
        cases = cases.filter(status=filters["status"])
    if filters.get("urgency"):
        cases = cases.filter(urgency=filters["urgency"])
    if filters.get("specialty"):
        cases = cases.filter(specialty=filters["specialty"])
    if filters.get("mine"):
        cases = cases.filter(case_manager=viewer)
    if filters.get("unassigned"):
        cases = cases.filter(specialist__isnull=True)
    if filters.get("due_soon"):
        cases = cases.filter(due_at__gte=now, due_at__lt=now + DUE_SOON)
    if filters.get("overdue"):
        cases = cases.filter(due_at__lt=now)
    if filters.get("waiting"):
        cases = cases.filter(status=CaseStatus.AWAITING_RECORDS)
    if filters.get("held"):
        cases = cases.exclude(hold_reason="")
    if filters.get("records_waiting"):
        cases = cases.filter(Exists(_records_awaited()))
    if filters.get("records_overdue"):
        cases = cases.filter(Exists(_records_awaited().filter(due_on__lt=timezone.localdate())))
    if query := (filters.get("q") or "").strip():
        cases = cases.filter(
            Q(reference__iexact=query)
            | Q(reference__endswith=query)
            | Q(patient_name__icontains=query)
        )
    cases = cases.select_related("case_manager", "specialist", "specialty").order_by(
        *QUEUE_SORTS.get(filters.get("sort") or "due", QUEUE_SORTS["due"]), "id"
    )
    result = Paginator(with_waits(cases), QUEUE_PAGE_SIZE).get_page(page)
    log_access_list(viewer=viewer, model=Case, shown=[c.reference for c in result if c.reference])
    return result
