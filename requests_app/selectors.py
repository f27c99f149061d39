"""Reads of cases. `case_list` is the one rule that decides who sees which case;
everything else, reads and writes alike, goes through it."""

from datetime import timedelta
from uuid import UUID

from django.apps import apps
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from secondop.accounts.models import Role
from secondop.audit.selectors import access_by_person
from secondop.audit.services import log_access, log_access_list

from .models import OPEN_STATES, Case, CaseStatus, SectionState


def case_list(*, viewer) -> QuerySet[Case]:
    """Every case `viewer` may see. The one place that decides visibility."""
    if not (viewer.is_authenticated and viewer.is_active):
        return Case.objects.none()
    if viewer.role == Role.PATIENT:
        return Case.objects.filter(owner=viewer)
    if viewer.role == Role.COORDINATOR:
        return Case.objects.exclude(status=CaseStatus.DRAFT)
    if viewer.role == Role.SPECIALIST:
        # Assigned to them, or offered to them now (the offers table is the
        # specialists app's: named here, never imported).
        offers = apps.get_model("specialists", "Offer").objects
        return Case.objects.filter(
            Q(specialist=viewer)
            | Q(pk__in=offers.filter(specialist=viewer, status="open").values("case_id")))
    # Administrators manage accounts and reference data, never cases (DESIGN.md).
    return Case.objects.none()


def case_for_viewer(*, viewer, ref: UUID | str, for_update: bool = False, request=None) -> Case:
    """One case `viewer` may see, or 404: the same 404 whether it does not exist
    or is someone else's.

    A staff member's read (not for_update: writes are in the audit log instead)
    writes an access-log row here, so no view has to remember to."""
    cases = case_list(viewer=viewer)
    if for_update:
        cases = cases.select_for_update()
    else:
        cases = cases.select_related("icd10", "specialty", "preferred_specialist__user", "owner",
                                     "specialist__specialist_profile", "case_manager")
    try:
        case = cases.get(uuid=ref)
    except (Case.DoesNotExist, ValueError):  # ValueError: not a UUID at all
        raise Http404 from None
    if not for_update and viewer.is_clinical_staff:
        log_access(viewer=viewer, obj=case, request=request)
    return case


# The queue's header counts every open case (a scan of the table): they are the
# same for every coordinator, so they are kept for a few seconds.
COUNTS_CACHE_SECONDS = 15


def case_counts_by_status(*, viewer) -> dict[str, int]:
    """Open cases per status, for the queue's header."""
    key = f"requests:open-counts:{viewer.role}"
    counts = cache.get(key) if viewer.role == Role.COORDINATOR else None
    if counts is None:
        rows = (case_list(viewer=viewer).filter(status__in=OPEN_STATES).values("status")
                .annotate(n=Count("id")).order_by())
        counts = {row["status"]: row["n"] for row in rows}
        if viewer.role == Role.COORDINATOR:
            cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


def patient_case_list(*, viewer) -> QuerySet[Case]:
    """The account holder's requests, with how many sections each has done."""
    return (
        case_list(viewer=viewer)
        .select_related("icd10")
        .annotate(completed_sections=Count(
            "sections", filter=Q(sections__state=SectionState.COMPLETED)))
        .order_by("-created_at")
    )


def case_section_states(*, case: Case) -> dict[str, str]:
    return dict(case.sections.values_list("section", "state"))


def case_timeline(*, case: Case, viewer=None) -> list:
    """Status changes and amendments, oldest first (two queries); for a `viewer`
    who sees the consultation, also its being declined or cancelled, with what was
    said (a third)."""
    events = list(case.events.select_related("actor"))
    amendments = list(case.amendments.select_related("actor"))
    settled = []
    if viewer is not None and case.consultation_type in ("video", "in_person"):
        # Inside requests_app: the consultation's own rule says who sees it.
        from .consultations.models import Action, ConsultationEvent
        from .consultations.selectors import sees_consultations

        if sees_consultations(viewer=viewer, case=case):
            settled = list(ConsultationEvent.objects.filter(
                consultation__case=case, action__in=(Action.DECLINED, Action.CANCELLED))
                .select_related("actor"))
    return sorted([*events, *amendments, *settled],
                  key=lambda e: (e.created_at, type(e).__name__, e.pk))


def case_care_team_views(*, case: Case) -> list[dict]:
    """Who on the care team has opened the case: name, role, times, last time."""
    return [{**row, "role_label": Role(row["actor__role"]).label}
            for row in access_by_person(obj=case)]


# --- The coordinator's queue ------------------------------------------------------------
QUEUE_PAGE_SIZE = 25
DUE_SOON = timedelta(hours=48)
QUEUE_SORTS = {
    "due": ("due_at", "submitted_at"),
    "urgent": ("-urgency", "due_at"),  # "urgent" sorts after "routine"
    "newest": ("-submitted_at",),
    "reference": ("reference",),
}


def case_queue(*, viewer, filters: dict, page: int = 1, request=None) -> Page:
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
    if query := (filters.get("q") or "").strip():
        cases = cases.filter(Q(reference__iexact=query) | Q(reference__endswith=query)
                             | Q(patient_name__icontains=query))
    cases = cases.select_related("case_manager", "specialist", "specialty").order_by(
        *QUEUE_SORTS.get(filters.get("sort") or "due", QUEUE_SORTS["due"]), "id")
    result = Paginator(cases, QUEUE_PAGE_SIZE).get_page(page)
    log_access_list(viewer=viewer, model=Case, shown=[c.reference for c in result],
                    request=request)
    return result
