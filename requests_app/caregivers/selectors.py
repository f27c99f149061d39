"""Reads for caregivers: the patient's list of them, and what a caregiver follows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from requests_app.access import caregiving_list, case_list, get_or_404
from requests_app.models import Case, CaseStatus

from .models import Caregiver

if TYPE_CHECKING:
    from secondop.accounts.models import User


def shareable_cases(*, viewer: User) -> QuerySet[Case]:
    """The patient's own requests a caregiver may follow: sent, not withdrawn."""
    return (
        case_list(viewer=viewer)
        .filter(owner=viewer)
        .exclude(status__in=[CaseStatus.DRAFT, CaseStatus.WITHDRAWN])
        .order_by("-submitted_at")
    )


def caregivers_for_patient(*, viewer: User) -> QuerySet[Caregiver]:
    """The patient's caregivers and invitations not removed, with their cases."""
    return (
        Caregiver.objects.filter(patient=viewer, revoked_at__isnull=True)
        .select_related("user")
        .prefetch_related("cases")
    )


def caregiver_for_patient(*, viewer: User, ref) -> Caregiver:
    return get_or_404(caregivers_for_patient(viewer=viewer), uuid=ref)


def cases_followed(*, viewer: User) -> QuerySet[Case]:
    """The requests `viewer` follows as someone's caregiver."""
    return caregiving_list(viewer=viewer).select_related("owner").order_by("-submitted_at")


def grant_for(*, viewer: User, case: Case) -> Caregiver | None:
    """`viewer`'s live grant on `case` (the access rule decided they see it)."""
    return Caregiver.objects.filter(
        user=viewer, cases=case, accepted_at__isnull=False, revoked_at__isnull=True
    ).first()


def caregiver_user_ids(*, case: Case) -> set[int]:
    """Everyone who has been a caregiver of `case` (removed ones too: their past
    reads stay theirs in "who looked")."""
    return set(
        Caregiver.objects.filter(cases=case, user__isnull=False).values_list("user_id", flat=True)
    )
