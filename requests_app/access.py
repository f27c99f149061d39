"""Who may see and do what with a case: the one access module (DESIGN.md's one rule).

- `case_list(viewer)`: every case the viewer may see (a query);
- `case_relation(viewer, case)`: what the viewer is to one case;
- `case_for_viewer(viewer, ref)`: one case, or 404 (the staff read logged);
- `for_viewer(Model, ref, viewer, needs=...)`: an object hanging off a case (a
  record, a consultation, a report version...), or 404 to outsiders and 403 to the
  care team's members without the right; the staff read logged;
- `case_page(...)`: the decorator for a case's pages, so no view loads a case itself.

A caregiver (someone the patient invited, requests_app.caregivers) is a relation
here too: they see the cases the patient chose, for what the patient allowed
(`CaregiverRight`), and only where a page or selector says which right it serves
(`caregiving=`): everywhere else a caregiver is an outsider and gets the 404.

The care team (the patient, the case manager, the assigned specialist) reads a
case's records, report, messages and consultations; others who see the case (a
coordinator who has not claimed it, a specialist it is offered to) read the case's
own page only. Every app asks here instead of writing the rule again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import timedelta
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from secondop.accounts.models import Role
from secondop.audit.models import AccessLog
from secondop.audit.services import log_access
from secondop.timezones import state_zone_name

from .models import Case, CaseStatus

if TYPE_CHECKING:
    from secondop.accounts.models import User


class Relation(StrEnum):
    """What a person is to one case."""

    OWNER = "owner"  # the patient, the account holder
    CASE_MANAGER = "case_manager"  # the coordinator who claimed it
    ASSIGNED_SPECIALIST = "assigned_specialist"
    OFFERED_SPECIALIST = "offered_specialist"  # an open offer, before its deadline
    OTHER_COORDINATOR = "other_coordinator"  # sees the queue, not the care team
    CAREGIVER = "caregiver"  # invited by the patient, for what the patient allowed
    # The specialist of a third opinion on this case (their own request, `parent`
    # this one): they read this case's records, never its report (blinded).
    THIRD_OPINION_SPECIALIST = "third_opinion_specialist"
    NONE = "none"


class CaregiverRight(StrEnum):
    """What a patient may let a caregiver do (a flag of the same name on the
    grant). STATUS, the request's status and timeline, comes with every grant."""

    STATUS = "status"
    MESSAGES = "messages"
    CONSULTATIONS = "consultations"
    REPORT = "report"


CARE_TEAM: frozenset[Relation] = frozenset(
    {Relation.OWNER, Relation.CASE_MANAGER, Relation.ASSIGNED_SPECIALIST}
)
STAFF_CARE_TEAM: frozenset[Relation] = frozenset(
    {Relation.CASE_MANAGER, Relation.ASSIGNED_SPECIALIST}
)
# Who reads a case's records: its care team, and the specialist of a third opinion
# on it (the records are what they review; the report they must not see is not
# a record).
RECORD_READERS: frozenset[Relation] = CARE_TEAM | {Relation.THIRD_OPINION_SPECIALIST}


# --- When staff access ends ------------------------------------------------------------
# Withdrawing the request revokes the patient's HIPAA authorisation (45 CFR
# 164.508(b)(5)): from that moment no one but the patient reads the case. Closing
# (or a coordinator's cancelling) leaves the case manager and the assigned
# specialist a read-only window (settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE, for
# follow-up questions and audit); after it, none. The patient keeps theirs.
ENDED_BY_CLOSING = (CaseStatus.CLOSED, CaseStatus.CANCELLED)


class CaseAccessEnded(Http404):
    """A staff member asked for a case they could see once: the patient withdrew
    it, or it closed and the read-only window is over. A 404 like any other (the
    page, requests_app.middleware, says which, and nothing of the case)."""

    WITHDRAWN = "withdrawn"
    CLOSED = "closed"

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def staff_read_window() -> timedelta:
    return timedelta(days=settings.CASE_STAFF_READ_DAYS_AFTER_CLOSE)


def _open_offers(viewer: User) -> QuerySet:
    # The offers table is the specialists app's: named here, never imported. An
    # offer past its deadline shows nothing from that moment, whenever the expiry
    # task runs.
    offers = apps.get_model("specialists", "Offer").objects
    return offers.filter(specialist=viewer, status="open", deadline__gt=timezone.now())


def _third_opinion_parents(viewer: User) -> QuerySet:
    """The requests whose third opinion `viewer` was assigned: they read their
    records (RECORD_READERS) while the third opinion may still be read."""
    return Case.objects.filter(specialist=viewer, parent__isnull=False).values("parent_id")


def _care_scope(viewer: User) -> QuerySet[Case]:
    """The cases a staff member's role reaches while they are open."""
    if viewer.role == Role.COORDINATOR:
        return Case.objects.exclude(status=CaseStatus.DRAFT)
    if viewer.role == Role.SPECIALIST:
        return Case.objects.filter(
            Q(specialist=viewer)
            | Q(pk__in=_open_offers(viewer).values("case_id"))
            | Q(pk__in=_third_opinion_parents(viewer))
        )
    # Administrators manage accounts and reference data, never cases (DESIGN.md).
    return Case.objects.none()


def _still_reading(viewer: User) -> Q:
    """Of the cases in a staff member's scope, the ones they may still read: open
    ones, and closed ones they managed or reviewed, within the window."""
    window_open = Q(status__in=ENDED_BY_CLOSING, closed_at__gt=timezone.now() - staff_read_window())
    mine = (
        Q(case_manager=viewer)
        if viewer.role == Role.COORDINATOR
        else Q(specialist=viewer) | Q(pk__in=_third_opinion_parents(viewer))
    )
    return ~Q(status=CaseStatus.WITHDRAWN) & (
        ~Q(status__in=ENDED_BY_CLOSING) | (window_open & mine)
    )


def _caregiver_grants(viewer: User, right: CaregiverRight = CaregiverRight.STATUS) -> QuerySet:
    """The live grants (accepted, not revoked) of `viewer` as a caregiver that give
    `right`. The grants table is the caregivers app's: named here, never imported."""
    grants = apps.get_model("caregivers", "Caregiver").objects.filter(
        user=viewer, accepted_at__isnull=False, revoked_at__isnull=True
    )
    if right is not CaregiverRight.STATUS:
        grants = grants.filter(**{right.value: True})
    return grants


# A caregiver follows a sent request: a draft has nothing to follow yet, and a
# withdrawn one revoked the authorisation (no one but the patient reads it).
_CAREGIVER_HIDDEN = (CaseStatus.DRAFT, CaseStatus.WITHDRAWN)


def _caregiving_cases(viewer: User, right: CaregiverRight) -> Q:
    return Q(pk__in=_caregiver_grants(viewer, right).values("cases")) & ~Q(
        status__in=_CAREGIVER_HIDDEN
    )


def case_list(*, viewer: User, caregiving: CaregiverRight | None = None) -> QuerySet[Case]:
    """Every case `viewer` may see. The one place that decides visibility.
    `caregiving`: also the cases `viewer` follows as a caregiver with that right
    (a caregiver sees nothing where the caller does not name the right it serves)."""
    if not (viewer.is_authenticated and viewer.is_active):
        return Case.objects.none()
    if viewer.role == Role.PATIENT:
        mine = Q(owner=viewer)
        if caregiving is not None:
            mine |= _caregiving_cases(viewer, caregiving)
        return Case.objects.filter(mine)
    return _care_scope(viewer).filter(_still_reading(viewer))


def caregiving_list(*, viewer: User) -> QuerySet[Case]:
    """The cases `viewer` follows as a caregiver (not their own)."""
    if not (viewer.is_authenticated and viewer.is_active) or viewer.role != Role.PATIENT:
        return Case.objects.none()
    return Case.objects.filter(_caregiving_cases(viewer, CaregiverRight.STATUS)).exclude(
        owner=viewer
    )


def follows_anyone(*, viewer: User) -> bool:
    """Does `viewer` hold a live grant as someone's caregiver? One small query, before
    caregiving_list's larger one: most patients follow no one."""
    if not (viewer.is_authenticated and viewer.is_active) or viewer.role != Role.PATIENT:
        return False
    return _caregiver_grants(viewer).exists()


def caregiver_may(viewer: User, case: Case, right: CaregiverRight) -> bool:
    """Is `viewer` a caregiver of `case` whom the patient allowed `right`?"""
    if not (viewer.is_authenticated and viewer.is_active) or viewer.role != Role.PATIENT:
        return False
    if viewer.pk == case.owner_id or case.status in _CAREGIVER_HIDDEN:
        return False
    return _caregiver_grants(viewer, right).filter(cases=case).exists()


def in_circle(*, viewer: User, case: Case, right: CaregiverRight) -> bool:
    """The care team, or a caregiver the patient allowed `right`: who reads a
    case's messages, consultations or report."""
    return is_care_team(viewer=viewer, case=case) or caregiver_may(viewer, case, right)


def _team_relation(viewer: User, case: Case) -> Relation | None:
    """The care team's rule, written once: the account holder, the coordinator who
    claimed the case, the specialist assigned to it."""
    if viewer.pk == case.owner_id:
        return Relation.OWNER
    if viewer.role == Role.COORDINATOR and case.case_manager_id == viewer.pk:
        return Relation.CASE_MANAGER
    if viewer.role == Role.SPECIALIST and case.specialist_id == viewer.pk:
        return Relation.ASSIGNED_SPECIALIST
    return None


def case_relation(viewer: User, case: Case) -> Relation:
    """What `viewer` is to `case`. `case` must have come through case_list or
    case_for_viewer for `viewer` (which ended staff access to a withdrawn case, or
    a closed one past its window)."""
    if not (viewer.is_authenticated and viewer.is_active):
        return Relation.NONE
    if (relation := _team_relation(viewer, case)) is not None:
        return relation
    if viewer.role == Role.COORDINATOR and case.status != CaseStatus.DRAFT:
        return Relation.OTHER_COORDINATOR
    if viewer.role == Role.SPECIALIST and _open_offers(viewer).filter(case_id=case.pk).exists():
        return Relation.OFFERED_SPECIALIST
    if caregiver_may(viewer, case, CaregiverRight.STATUS):
        return Relation.CAREGIVER
    if (
        viewer.role == Role.SPECIALIST
        and Case.objects.filter(parent_id=case.pk, specialist=viewer).exists()
    ):
        return Relation.THIRD_OPINION_SPECIALIST
    return Relation.NONE


def reads_records(*, viewer: User, case: Case) -> bool:
    """The care team, and the specialist of a third opinion on `case`."""
    return case_relation(viewer, case) in RECORD_READERS


def is_care_team(*, viewer: User, case: Case) -> bool:
    """The patient, the case manager or the assigned specialist: the people who read
    a case's records, report, messages and consultations."""
    return _team_relation(viewer, case) is not None


def is_owner(viewer: User, case: Case) -> bool:
    """The patient whose case it is (the account holder)."""
    return _team_relation(viewer, case) is Relation.OWNER


def is_case_manager(viewer: User, case: Case) -> bool:
    """The coordinator who claimed the case."""
    return _team_relation(viewer, case) is Relation.CASE_MANAGER


def is_assigned_specialist(viewer: User, case: Case) -> bool:
    """The specialist the case is assigned to."""
    return _team_relation(viewer, case) is Relation.ASSIGNED_SPECIALIST


def case_for_viewer(
    *,
    viewer: User,
    ref: UUID | str,
    for_update: bool = False,
    caregiving: CaregiverRight | None = None,
) -> Case:
    """One case `viewer` may see, or 404: the same 404 whether it does not exist
    or is someone else's. Staff whose access ended (withdrawn, or closed and past
    the window) get CaseAccessEnded, a 404 whose page says so and nothing more.
    `caregiving`: a caregiver the patient allowed that right sees it too.

    A staff member's or a caregiver's read (not for_update: writes are in the
    audit log instead) writes an access-log row here, so no view has to remember to."""
    cases = case_list(viewer=viewer, caregiving=caregiving)
    if for_update:
        cases = cases.select_for_update()
    else:
        # Not the preferred specialist and their user: two more joins doubled the
        # time PostgreSQL takes to plan this query on every case page (bench/README.md,
        # issue 23), for a choice few requests make. They are read below if made.
        cases = cases.select_related(
            "icd10",
            "specialty",
            "owner",
            "specialist__specialist_profile",
            "case_manager",
        )
    try:
        case = cases.get(uuid=ref)
    except (Case.DoesNotExist, ValueError, ValidationError):  # not a UUID at all
        _raise_if_ended(viewer, ref)
        raise Http404 from None
    if not for_update and case.preferred_specialist_id:
        profiles = Case._meta.get_field("preferred_specialist").related_model
        case.preferred_specialist = cast(
            Any,
            profiles._default_manager.select_related("user").get(pk=case.preferred_specialist_id),
        )
    if not for_update and (
        viewer.is_clinical_staff or (caregiving is not None and case.owner_id != viewer.pk)
    ):
        log_access(viewer=viewer, obj=case)
    return case


def case_quietly(*, viewer: User, ref: UUID | str) -> Case:
    """The case through the one visibility rule, without the case-level access row
    case_for_viewer writes: for reads that log per object, or show no PHI."""
    try:
        return case_list(viewer=viewer).get(uuid=ref)
    except (Case.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def _raise_if_ended(viewer: User, ref: UUID | str) -> None:
    """Only someone whose role reached the case hears that their access ended;
    everyone else gets the plain 404."""
    if not (viewer.is_authenticated and viewer.is_active) or viewer.role == Role.PATIENT:
        return
    try:
        status = _care_scope(viewer).filter(uuid=ref).values_list("status", flat=True).first()
    except (ValueError, ValidationError):
        return
    if status == CaseStatus.WITHDRAWN:
        raise CaseAccessEnded(CaseAccessEnded.WITHDRAWN)
    if status in ENDED_BY_CLOSING:
        raise CaseAccessEnded(CaseAccessEnded.CLOSED)


# --- Objects hanging off a case ---------------------------------------------------------
def get_or_404[M: models.Model](queryset: QuerySet[M], **lookup: Any) -> M:
    """One row or 404, a malformed reference (not a UUID) included."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def for_viewer[M: models.Model](
    model: type[M],
    ref: UUID | str,
    viewer: User,
    *,
    needs: Collection[Relation] = CARE_TEAM,
    sees: Collection[Relation] = CARE_TEAM,
    for_update: bool = False,
    kind: str = AccessLog.Kind.VIEW,
    log: bool = True,
    queryset: QuerySet[M] | None = None,
    case_field: str = "case",
    caregiving: CaregiverRight | None = None,
) -> M:
    """The `model` row with uuid `ref` that hangs off a case (`case_field`), for
    `viewer`: a 404 to anyone the case is hidden from or whose relation is not in
    `sees`; a 403 to those who see it but whose relation is not in `needs`. The
    object's `case` is the one loaded for the viewer. `caregiving`: a caregiver
    with that right is let in as if in both. A staff or caregiver read (not
    for_update) writes the access-log row here, unless `log` is False (the caller logs)."""
    rows = queryset if queryset is not None else model._default_manager.all()
    case_ref = get_or_404(rows.values_list(f"{case_field}__uuid", flat=True), uuid=ref)
    case = case_for_viewer(
        viewer=viewer, ref=case_ref, for_update=for_update, caregiving=caregiving
    )
    relation = case_relation(viewer, case)
    if relation is Relation.CAREGIVER and caregiving is not None:
        pass  # case_for_viewer found it through a grant with that right
    elif relation not in sees:
        raise Http404
    elif relation not in needs:
        raise PermissionDenied
    if for_update:
        rows = rows.select_for_update(of=("self",))
    obj = get_or_404(rows, uuid=ref)
    setattr(obj, case_field, case)
    if log and not for_update and relation != Relation.OWNER:
        log_access(viewer=viewer, obj=obj, kind=kind)
    return obj


# --- The decorator for a case's pages ---------------------------------------------------
def case_page(
    *,
    roles: Collection[str] | None = None,
    needs: Collection[Relation] | None = None,
    for_update: bool = False,
    arg: str = "ref",
    caregiving: CaregiverRight | None = None,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A view of one case: signed in, the case loaded through the one rule and
    passed in place of `arg`. `roles`: only these roles (anyone else gets the
    case's 404, never a hint that it exists); `needs`: only these relations to the
    case (the others who see it get a 403); `caregiving`: a caregiver the patient
    allowed that right sees it too (name Relation.CAREGIVER in `needs` if any)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = cast("User", request.user)  # login_required: signed in
            if roles is not None and user.role not in roles:
                raise Http404
            case = case_for_viewer(
                viewer=user, ref=kwargs.pop(arg), for_update=for_update, caregiving=caregiving
            )
            if needs is not None and case_relation(user, case) not in needs:
                raise PermissionDenied
            return view(request, case, *args, **kwargs)

        return wrapper

    return decorate


def patient_case_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the patient's own case: `case_page(roles={Role.PATIENT})` (anyone
    else gets the case's 404), shown in the zone of the state the patient lives in."""

    @case_page(roles={Role.PATIENT})
    @wraps(view)
    def wrapper(request: HttpRequest, case: Case, *args: Any, **kwargs: Any) -> HttpResponse:
        if zone_name := state_zone_name(case.patient_state):
            # The request's own pages are in its patient's zone (the state they live in).
            timezone.activate(zone_name)
        return view(request, case, *args, **kwargs)

    return wrapper
