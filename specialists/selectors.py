from typing import Any
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from requests_app.access import case_for_viewer, case_list, get_or_404
from requests_app.icd10.models import Icd10Code
from requests_app.models import CLOSED_STATES, Case
from secondop.accounts.models import Role, User

from .models import (
    Certification,
    HeldCertification,
    Licence,
    Offer,
    OfferStatus,
    SpecialistProfile,
    Specialty,
)


def specialist_case_list(*, viewer: User) -> QuerySet[Case]:
    return case_list(viewer=viewer).select_related("owner")


def certifications_for_specialty(*, specialty: Specialty) -> QuerySet[Certification]:
    """The offered certifications a patient's choice of specialty means
    ("Cardiology": Cardiovascular Disease, Interventional Cardiology, ...), with
    their boards. Reference data, the same for every viewer."""
    return specialty.certifications.filter(active=True).select_related("board")


def certifications_treating(*, icd10_code: str) -> list[Certification]:
    """The offered certifications whose ICD-10-CM ranges hold a code
    ("C50.911": Medical Oncology, Radiation Oncology, General Surgery, ...), in
    the usual order. The ranges are a text syntax, so this reads the ~180
    certifications in one query and tests each in Python (microseconds each:
    a range list is parsed once and cached). A string that is not an ICD-10-CM
    code matches nothing."""
    certifications = Certification.objects.filter(active=True).exclude(icd10_ranges="")
    return [each for each in certifications.select_related("board") if each.treats(icd10_code)]


# --- The specialist's workspace and offers ----------------------------------------------
def profile_for(*, user: User) -> SpecialistProfile | None:
    return (
        SpecialistProfile.objects.filter(user=user)
        .prefetch_related("specialties", "licences")
        .first()
    )


def open_offers(*, viewer: User) -> list[Offer]:
    return list(
        Offer.objects.filter(
            specialist=viewer, status=OfferStatus.OPEN, deadline__gt=timezone.now()
        )
        .select_related("case", "case__specialty")
        .order_by("deadline")
    )


def offer_lapsed(*, viewer: User, case_ref: UUID | str) -> bool:
    """The viewer was offered this case and the time to answer has passed (whether
    or not the expiry task has run): the offer page says so, and shows nothing else."""
    return Offer.objects.filter(
        case__uuid=case_ref,
        specialist=viewer,
        deadline__lte=timezone.now(),
        status__in=[OfferStatus.OPEN, OfferStatus.EXPIRED],
    ).exists()


def specialist_cases(*, viewer: User) -> QuerySet[Case]:
    """The cases assigned to the specialist that are still open, due first, each
    saying whether it waits on the patient (a question not answered yet)."""
    from requests_app.messaging.selectors import with_waiting_on_patient
    from requests_app.models import OPEN_STATES

    return with_waiting_on_patient(
        case_list(viewer=viewer)
        .filter(specialist=viewer, status__in=OPEN_STATES)
        .select_related("specialty")
        .order_by("due_at")
    )


def case_offers(*, case: Case) -> list[Offer]:
    return list(case.offers.select_related("specialist", "offered_by").order_by("created_at"))


def offer_for(*, viewer: User, case_ref: UUID | str) -> Offer:
    """The viewer's latest offer of a case they may see, or 404 (reading it is
    logged: it holds the diagnosis)."""
    case = case_for_viewer(viewer=viewer, ref=case_ref)
    offer = (
        Offer.objects.filter(case=case, specialist=viewer)
        .select_related("case", "case__specialty", "case__icd10")
        .order_by("-created_at")
        .first()
    )
    if offer is None:
        raise Http404
    return offer


def offer_summary(*, offer: Offer) -> list[tuple[str, str]]:
    """Only what a specialist needs to decide: no name, no date of birth, no
    contact details. The age as a band; the proposed treatment and the
    patient's own questions (free text the patient wrote about their care)."""
    case = offer.case
    age = ""
    if case.patient_dob:
        today = timezone.localdate()
        years = (
            today.year
            - case.patient_dob.year
            - ((today.month, today.day) < (case.patient_dob.month, case.patient_dob.day))
        )
        low = years // 10 * 10
        age = _("%(low)d to %(high)d") % {"low": low, "high": low + 9}
    code = f"{case.icd10.code} {case.icd10.title}" if case.icd10 else ""
    return [
        (_("Age"), age),
        (_("Lives in"), case.get_patient_state_display()),
        (_("Diagnosis"), case.diagnosis),
        (_("ICD-10-CM code"), code),
        # What the expert decides on: the treatment proposed and what the patient asks.
        (_("Proposed treatment"), case.proposed_treatment),
        (
            _("The patient's questions"),
            "\n".join(f"{q.position}. {q.text}" for q in case.questions.all()),
        ),
        (_("Specialty asked for"), str(case.specialty) if case.specialty else ""),
        (_("Consultation"), case.get_consultation_type_display()),
        (
            _("Report due"),
            date_format(timezone.localtime(case.due_at), "DATE_FORMAT") if case.due_at else "",
        ),
        (_("First diagnosed at"), case.diagnosing_institution),
        (_("Urgency"), case.get_urgency_display()),
    ]


# --- The specialist's own profile and the public directory ---------------------------------
def own_profile(*, viewer: User) -> SpecialistProfile | None:
    """The signed-in specialist's own profile with everything its page shows
    (None before it is set up). No profile is ever reached by another person's id."""
    return (
        SpecialistProfile.objects.filter(user=viewer, user__is_active=True)
        .select_related("user")
        .prefetch_related(
            "specialties",
            "licences",
            "leave",
            Prefetch(
                "certifications",
                queryset=HeldCertification.objects.select_related("certification__board").order_by(
                    "certification__board__name", "certification__name"
                ),
            ),
        )
        .first()
    )


def icd10_titles(*, codes: list[str]) -> dict[str, str]:
    """The titles of the listed ICD-10-CM codes, in one query."""
    return dict(Icd10Code.objects.filter(code__in=codes).values_list("code", "title"))


def _directory_profiles() -> QuerySet[SpecialistProfile]:
    """The one rule of who is in the public directory: every specialist whose
    account is active, taking cases or not (the page says which)."""
    return SpecialistProfile.objects.filter(user__is_active=True, user__role=Role.SPECIALIST)


def _with_json_item(
    profiles: QuerySet[SpecialistProfile], field: str, value: str
) -> QuerySet[SpecialistProfile]:
    """Profiles whose JSON list `field` holds `value`. PostgreSQL answers it with
    `contains`; SQLite (the embedded default) has no such lookup, so the few
    values are read and tested here."""
    if connection.features.supports_json_field_contains:
        return profiles.filter(**{f"{field}__contains": [value]})
    wanted = [pk for pk, values in profiles.values_list("pk", field) if value in (values or [])]
    return profiles.filter(pk__in=wanted)


def directory_list(*, filters: dict[str, Any]) -> QuerySet[SpecialistProfile]:
    """The public directory, filtered by specialty (a Specialty), language (a
    name), state (licensed there, unexpired) and consultation mode; by name.
    Only public fields are read: the licences join filters, it is never shown."""
    profiles = _directory_profiles()
    if filters.get("specialty"):
        profiles = profiles.filter(specialties=filters["specialty"])
    if filters.get("state"):
        # One filter() call: the same licence is in that state, verified and unexpired
        # (the rule matching uses: a licence only declared is not shown as held).
        today = timezone.localdate()
        profiles = profiles.filter(
            licences__state=filters["state"],
            licences__verification="verified",
            licences__verified_expires_on__gt=today,
            licences__expires_on__gt=today,
        )
    if filters.get("language"):
        profiles = _with_json_item(profiles, "languages", filters["language"])
    if filters.get("mode"):
        profiles = _with_json_item(profiles, "consultation_modes", filters["mode"])
    return (
        profiles.select_related("user")
        .prefetch_related(
            "specialties",
            Prefetch(
                "certifications",
                queryset=HeldCertification.objects.select_related("certification__board").order_by(
                    "certification__name"
                ),
            ),
        )
        .order_by("user__full_name", "pk")
    )


def directory_languages() -> list[str]:
    """Every language someone in the directory consults in, for the filter."""
    languages: set[str] = set()
    for values in _directory_profiles().values_list("languages", flat=True):
        languages.update(values or [])
    return sorted(languages, key=str.casefold)


def directory_profile(*, public_id: UUID | str) -> SpecialistProfile:
    """One directory entry, or 404 (also for an inactive account)."""
    profiles = (
        _directory_profiles()
        .select_related("user")
        .prefetch_related(
            "specialties",
            Prefetch(
                "certifications",
                queryset=HeldCertification.objects.select_related("certification__board").order_by(
                    "certification__name"
                ),
            ),
            # States only, and only licences in force: a number is never shown.
            Prefetch(
                "licences",
                to_attr="current_licences",
                queryset=Licence.objects.filter(
                    verification="verified",
                    verified_expires_on__gt=timezone.localdate(),
                    expires_on__gt=timezone.localdate(),
                )
                .only("profile_id", "state")
                .order_by("state"),
            ),
        )
    )
    return get_or_404(profiles, public_id=public_id)


def directory_photo(*, name: str) -> SpecialistProfile:
    """The directory entry whose photo is stored as `name`, or 404."""
    # A stored photo's name is a fresh random one (profile_services), so one entry at most.
    return get_or_404(_directory_profiles().only("pk", "photo"), photo=name)


def cases_open_to_a_preference(*, viewer: User | AnonymousUser) -> list[Case]:
    """The patient's requests where they can still name a specialist: drafts
    and open requests (the ones whose sections they can still change). The
    directory is public: `viewer` may be anyone, signed in or not."""
    if not (isinstance(viewer, User) and viewer.role == Role.PATIENT):
        return []
    return list(
        case_list(viewer=viewer)
        .exclude(status__in=CLOSED_STATES)
        .only("uuid", "reference", "status", "patient_name", "relationship", "created_at")
        .order_by("-created_at")[:10]
    )
