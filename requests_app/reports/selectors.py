"""Reads of the written report. Who sees what:

- the patient (the account holder): the released versions of their own case's
  report, nothing else (no draft, no signed version waiting for release);
- the assigned specialist and the case manager (the coordinator who claimed
  the case): every version, drafts included;
- anyone else, other coordinators included: nothing (a 404 on every URL).

The case is loaded through requests_app's rule first (`case_for_viewer`); every
staff read of a version and every download writes an access-log row here."""

from __future__ import annotations

import hmac
from uuid import UUID

from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404

from requests_app.access import case_for_viewer, get_or_404, is_care_team
from requests_app.models import Case
from secondop.accounts.models import Role
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access

from .models import Report, ReportVersion, VersionStatus


def sees_report(*, viewer, case: Case) -> bool:
    """May `viewer` (who can see `case`) see its report at all?"""
    return is_care_team(viewer=viewer, case=case)


def is_case_manager(*, viewer, case: Case) -> bool:
    return viewer.role == Role.COORDINATOR and case.case_manager_id == viewer.pk


def is_author(*, viewer, case: Case) -> bool:
    return viewer.role == Role.SPECIALIST and case.specialist_id == viewer.pk


def versions_for_viewer(*, viewer, case: Case) -> QuerySet[ReportVersion]:
    """`case` must have been loaded through case_for_viewer for `viewer`."""
    versions = ReportVersion.objects.filter(report__case=case)
    if not sees_report(viewer=viewer, case=case):
        return versions.none()
    if viewer.pk == case.owner_id:
        return versions.filter(status=VersionStatus.RELEASED)
    return versions


def report_for_case(*, case: Case) -> Report | None:
    return Report.objects.filter(case=case).first()


def latest_version(*, viewer, case: Case) -> ReportVersion | None:
    """The newest version `viewer` may see (for the patient: the newest released)."""
    return versions_for_viewer(viewer=viewer, case=case).order_by("-number").first()


def released_version(*, case: Case) -> ReportVersion | None:
    """The version the patient reads now (and shares with their doctor): the newest
    released one. Callers check access to `case` first."""
    return (
        ReportVersion.objects.filter(report__case=case, status=VersionStatus.RELEASED)
        .order_by("-number")
        .first()
    )


def version_for_viewer(
    *, viewer, ref: UUID | str, kind: str = AccessLog.Kind.VIEW
) -> ReportVersion:
    """One version `viewer` may see, or 404. A staff read, and anyone's download,
    is logged."""
    version = get_or_404(ReportVersion.objects.select_related("report__case"), uuid=ref)
    case = case_for_viewer(viewer=viewer, ref=version.report.case.uuid)
    if not versions_for_viewer(viewer=viewer, case=case).filter(pk=version.pk).exists():
        raise Http404
    version.report.case = case
    if kind == AccessLog.Kind.DOWNLOAD or viewer.pk != case.owner_id:
        log_access(viewer=viewer, obj=version, kind=kind)
    return version


def with_contents(version: ReportVersion) -> ReportVersion:
    """`version` with what it says loaded: its answers and reviewed records."""
    prefetch_related_objects([version], "answers", "reviewed", "icd10", "superseded_by")
    return version


def versions_of(*, viewer, case: Case) -> list[ReportVersion]:
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
