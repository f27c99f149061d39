from django.db.models import Count, QuerySet

from secondop.accounts.models import Role

from .models import Case, CaseStatus

NEW_FOR_COORDINATORS = (CaseStatus.SUBMITTED, CaseStatus.TRIAGE)


def case_list(*, viewer) -> QuerySet[Case]:
    """Every case `viewer` may see. The one place that decides visibility."""
    if not viewer.is_authenticated:
        return Case.objects.none()
    if viewer.role == Role.PATIENT:
        return Case.objects.filter(owner=viewer)
    if viewer.role in (Role.COORDINATOR, Role.ADMIN):
        return Case.objects.exclude(status=CaseStatus.DRAFT)
    # Specialists see only the cases offered or assigned to them (matching, later).
    return Case.objects.none()


def coordinator_queue(*, viewer) -> QuerySet[Case]:
    return (
        case_list(viewer=viewer)
        .filter(status__in=NEW_FOR_COORDINATORS)
        .select_related("owner")
        .order_by("due_at", "submitted_at")
    )


def case_counts_by_status(*, viewer) -> dict[str, int]:
    rows = case_list(viewer=viewer).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def patient_case_list(*, viewer) -> QuerySet[Case]:
    return case_list(viewer=viewer).filter(owner=viewer).order_by("-created_at")


def case_for_owner(*, viewer, pk: int) -> Case:
    """The patient's own case, or 404 for anyone else's (or none at all)."""
    from django.shortcuts import get_object_or_404

    return get_object_or_404(
        patient_case_list(viewer=viewer).select_related("icd10", "specialty",
                                                        "preferred_specialist__user"),
        pk=pk,
    )


def case_section_states(*, case: Case) -> dict[str, str]:
    return dict(case.sections.values_list("section", "state"))


def case_timeline(*, case: Case) -> list:
    """Status changes and amendments the patient may see, oldest first (two queries)."""
    events = list(case.events.filter(visible_to_patient=True).select_related("actor"))
    amendments = list(case.amendments.select_related("actor"))
    return sorted([*events, *amendments], key=lambda e: (e.created_at, e.pk))
