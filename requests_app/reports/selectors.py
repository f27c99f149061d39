"""Reads of the written report. Who sees what:

- the patient (the account holder): the released versions of their own case's
  report, nothing else (no draft, no signed version waiting for release);
- a caregiver the patient allowed the report: the same as the patient;
- the assigned specialist and the case manager (the coordinator who claimed
  the case): every version, drafts included;
- anyone else, other coordinators included: nothing (a 404 on every URL).

The case is loaded through requests_app's rule first (`case_for_viewer`); every
staff read of a version and every download writes an access-log row here."""

from __future__ import annotations

import hmac
from collections.abc import Collection
from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404

from requests_app.access import (
    CARE_TEAM,
    CaregiverRight,
    Relation,
    case_for_viewer,
    case_quietly,
    case_relation,
    get_or_404,
    in_circle,
)
from requests_app.models import Case
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access

from .models import Report, ReportVersion, VersionStatus

if TYPE_CHECKING:
    from secondop.accounts.models import User


# Who works on the report besides reading it: the assigned specialist writes, signs
# and amends; the case manager releases or returns. The patient never sees a draft,
# so the pages and services for either are hidden from them (STAFF_CARE_TEAM).
AUTHOR: frozenset[Relation] = frozenset({Relation.ASSIGNED_SPECIALIST})
MANAGER: frozenset[Relation] = frozenset({Relation.CASE_MANAGER})
# Who reads the released report: the care team and a caregiver the patient allowed it.
READERS: frozenset[Relation] = CARE_TEAM | {Relation.CAREGIVER}
# The patient's side: released versions only.
PATIENT_SIDE: frozenset[Relation] = frozenset({Relation.OWNER, Relation.CAREGIVER})


def sees_report(*, viewer: User, case: Case) -> bool:
    """May `viewer` (who can see `case`) see its report at all?"""
    return in_circle(viewer=viewer, case=case, right=CaregiverRight.REPORT)


def report_relation(*, viewer: User, case: Case) -> Relation:
    """What `viewer` is to `case`'s report: their place in its care team, or NONE
    (an offer or the coordinators' queue shows no report, so no query asks)."""
    if not sees_report(viewer=viewer, case=case):
        return Relation.NONE
    return case_relation(viewer, case)


def is_case_manager(*, viewer: User, case: Case) -> bool:
    return report_relation(viewer=viewer, case=case) == Relation.CASE_MANAGER


def is_author(*, viewer: User, case: Case) -> bool:
    return report_relation(viewer=viewer, case=case) == Relation.ASSIGNED_SPECIALIST


def is_owner(*, viewer: User, case: Case) -> bool:
    return report_relation(viewer=viewer, case=case) == Relation.OWNER


def is_patient_side(*, viewer: User, case: Case) -> bool:
    """The patient or their caregiver: who reads the released report only."""
    return report_relation(viewer=viewer, case=case) in PATIENT_SIDE


def check_report_relation(
    *,
    viewer: User,
    case: Case,
    sees: Collection[Relation] = CARE_TEAM,
    needs: Collection[Relation] = CARE_TEAM,
) -> Relation:
    """`viewer`'s relation to `case`'s report: a 404 when it is not in `sees` (as
    for a case that does not exist), a 403 when it is in `sees` but not `needs`."""
    relation = report_relation(viewer=viewer, case=case)
    if relation not in sees:
        raise Http404
    if relation not in needs:
        raise PermissionDenied
    return relation


def case_for_report(
    *,
    viewer: User,
    ref: UUID | str,
    sees: Collection[Relation] = CARE_TEAM,
    needs: Collection[Relation] = CARE_TEAM,
    log: bool = True,
    for_update: bool = False,
    caregiving: CaregiverRight | None = None,
) -> Case:
    """The case whose report `viewer` reads or works on, through the access rule:
    a 404 to whoever it is hidden from or whose relation is not in `sees`, a 403
    to those in `sees` but not in `needs`. A page's staff read is logged
    (case_for_viewer); `log=False` (a save: the audit log has the change, so an
    autosave every few seconds is no read) and `for_update` log nothing."""
    if log or for_update:
        case = case_for_viewer(viewer=viewer, ref=ref, for_update=for_update, caregiving=caregiving)
    else:
        case = case_quietly(viewer=viewer, ref=ref)
    check_report_relation(viewer=viewer, case=case, sees=sees, needs=needs)
    return case


def versions_for_viewer(*, viewer: User, case: Case) -> QuerySet[ReportVersion]:
    """`case` must have been loaded through case_for_viewer for `viewer`."""
    versions = ReportVersion.objects.filter(report__case=case)
    relation = report_relation(viewer=viewer, case=case)
    if relation == Relation.NONE:
        return versions.none()
    if relation in PATIENT_SIDE:
        return versions.filter(status=VersionStatus.RELEASED)
    return versions


def report_for_case(*, case: Case) -> Report | None:
    return Report.objects.filter(case=case).first()


def latest_version(*, viewer: User, case: Case) -> ReportVersion | None:
    """The newest version `viewer` may see (for the patient: the newest released)."""
    return versions_for_viewer(viewer=viewer, case=case).order_by("-number").first()


# A page's render context keeps the released version under (this, case id) once a
# panel has read it (report_panel), so the page's other panels do not read it again.
RELEASED_ON_PAGE = "reports:released"


def released_version(*, case: Case) -> ReportVersion | None:
    """The version the patient reads now (and shares with their doctor): the newest
    released one. Callers check access to `case` first."""
    return (
        ReportVersion.objects.filter(report__case=case, status=VersionStatus.RELEASED)
        .order_by("-number")
        .first()
    )


def version_for_viewer(
    *,
    viewer: User,
    ref: UUID | str,
    kind: str = AccessLog.Kind.VIEW,
    sees: Collection[Relation] = CARE_TEAM,
    needs: Collection[Relation] = CARE_TEAM,
    released_only: bool = False,
    caregiving: CaregiverRight | None = None,
) -> ReportVersion:
    """One version `viewer` may see, or 404. A staff read, and anyone's download,
    is logged; then `sees` and `needs` narrow who may act on it (a 404 outside
    `sees`, a 403 outside `needs`, as check_report_relation). `released_only`:
    any other version is a 404 before anything is read or logged (an export)."""
    versions = ReportVersion.objects.select_related("report__case")
    if released_only:
        versions = versions.filter(status=VersionStatus.RELEASED)
    version = get_or_404(versions, uuid=ref)
    case = case_for_viewer(viewer=viewer, ref=version.report.case.uuid, caregiving=caregiving)
    if not versions_for_viewer(viewer=viewer, case=case).filter(pk=version.pk).exists():
        raise Http404
    version.report.case = case
    if kind == AccessLog.Kind.DOWNLOAD or not is_owner(viewer=viewer, case=case):
        log_access(viewer=viewer, obj=version, kind=kind)
    check_report_relation(viewer=viewer, case=case, sees=sees, needs=needs)
    return version


def with_contents(version: ReportVersion) -> ReportVersion:
    """`version` with what it says loaded: its answers and reviewed records."""
    prefetch_related_objects([version], "answers", "reviewed", "icd10", "superseded_by")
    return version


def versions_of(*, viewer: User, case: Case) -> list[ReportVersion]:
    return list(
        versions_for_viewer(viewer=viewer, case=case)
        .select_related("superseded_by")
        .order_by("-number")
    )


def version_by_code(*, code: str, sha256: str) -> ReportVersion | None:
    """The signed version with this verification code whose stored PDF has this
    SHA-256, or None: a wrong code and an altered file look the same."""
    version = (
        (
            ReportVersion.objects.filter(verification_code=code)
            .exclude(pdf_sha256="")
            .exclude(status=VersionStatus.DRAFT)
            .first()
        )
        if code
        else None
    )
    if version is None or not hmac.compare_digest(version.pdf_sha256, sha256):
        return None
    return version
