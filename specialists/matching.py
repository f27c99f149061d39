"""Matching: which specialists may take a case, in what order, and why.

Hard filters first. A specialist who fails any of them is never offered the
case, and each filter counts whom it excluded, so that "no one qualifies"
always says why ("3 not licensed in WY, 1 at the diagnosing institution"):

    accepting    accepting new cases, and the account is active
    capacity     fewer open cases (assigned, plus open offers) than their most
    licence      licensed in the patient's state, valid on the report's due date
                 (written opinions and telehealth are practised where the patient
                 is: this filter can never be relaxed)
    institution  not at the hospital or practice that made the first diagnosis
    leave        not away between today and the due date
    mode         offers the consultation the patient asked for    (relaxable)
    language     speaks the language the patient asked for        (relaxable)
    offered      never offered this case before (declined or let it expire)

Then a score, highest first (points):

    specialty     40  answers the patient's choice of specialty (their own list),
                  or 30 through a board certification that choice means, +10 if
                  that certification is a subspecialty
    condition     25  lists the case's ICD-10-CM code or its category among the
                  conditions they treat, or 10 through a certification's ranges
    preferred     30  the specialist the patient named
    language       5  speaks the patient's own preferred language
    insurance     10  in the patient's insurance network
    turnaround  0-10  10 for 1 day, one less per extra day
    load        0-10  the share of their capacity still free

Ties go to fewer open cases, then name, then the account id: deterministic.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from requests_app.models import OPEN_STATES, Case, Icd10Code

from .models import (
    Certification,
    HeldCertification,
    LeavePeriod,
    Licence,
    Offer,
    OfferStatus,
    SpecialistProfile,
    normalise_icd10_code,
)

RELAXABLE = frozenset({"mode", "language"})
FILTERS = ("accepting", "capacity", "licence", "institution", "leave", "mode", "language",
           "offered")


@dataclass
class Candidate:
    profile: SpecialistProfile
    score: int = 0
    reasons: list[str] = field(default_factory=list)
    open_cases: int = 0
    licence: "_Licence | None" = None
    condition: str = ""  # the listed condition the case's code falls under


@dataclass
class Ranking:
    candidates: list[Candidate]
    excluded: dict[str, int]  # filter -> how many it excluded
    relaxed: frozenset[str]
    case: Case

    def why_no_one(self) -> list[str]:
        """The exclusion counts in words, largest first."""
        return [_exclusion_text(name, n, self.case) for name, n in
                sorted(self.excluded.items(), key=lambda item: (-item[1], item[0])) if n]


def _exclusion_text(name: str, n: int, case: Case) -> str:
    state = case.patient_state or "?"
    texts = {
        "accepting": ngettext("%(n)d not accepting new cases", "%(n)d not accepting new cases", n),
        "capacity": ngettext("%(n)d at capacity", "%(n)d at capacity", n),
        "licence": ngettext("%(n)d not licensed in %(state)s on the due date",
                            "%(n)d not licensed in %(state)s on the due date", n),
        "institution": ngettext("%(n)d at the diagnosing institution",
                                "%(n)d at the diagnosing institution", n),
        "leave": ngettext("%(n)d away before the due date", "%(n)d away before the due date", n),
        "mode": ngettext("%(n)d not offering this consultation",
                         "%(n)d not offering this consultation", n),
        "language": ngettext("%(n)d not speaking %(language)s", "%(n)d not speaking %(language)s",
                             n),
        "offered": ngettext("%(n)d already offered this case", "%(n)d already offered this case",
                            n),
    }
    return texts[name] % {"n": n, "state": state, "language": case.specialist_language}


def _fold(text: str) -> str:
    return " ".join("".join(ch for ch in text.casefold() if ch.isalnum() or ch.isspace()).split())


def _same_institution(a: str, b: str) -> bool:
    a, b = _fold(a), _fold(b)
    return bool(a and b) and (a == b or a in b or b in a)


def specialists_for_matching():
    """Every specialist profile with what the filters and the score read, in a
    fixed number of queries whatever their number."""
    # Two correlated counts, not two joins: joined, every assigned case would be
    # paired with every offer (thousands of rows per specialist at scale).
    assigned = (Case.objects.filter(specialist=OuterRef("user_id"), status__in=OPEN_STATES)
                .order_by().values("specialist").annotate(n=Count("id")).values("n"))
    offered = (Offer.objects.filter(specialist=OuterRef("user_id"), status=OfferStatus.OPEN)
               .order_by().values("specialist").annotate(n=Count("id")).values("n"))
    return (
        SpecialistProfile.objects.filter(user__role="specialist")
        .select_related("user")
        .annotate(
            assigned_open=Coalesce(Subquery(assigned, output_field=IntegerField()), 0),
            offers_open=Coalesce(Subquery(offered, output_field=IntegerField()), 0),
        )
        .order_by("user__full_name", "user_id")
    )


@dataclass(frozen=True)
class _Licence:
    state: str
    expires_on: date


@dataclass(frozen=True)
class _Leave:
    starts_on: date
    ends_on: date


def _attach_side_tables(profiles: list) -> None:
    """Licences, current leave, certifications and specialties of every profile,
    read as plain rows (one query each) and grouped here: Django's prefetch
    builds a model and a queryset per row, ten times the cost at 1,000
    specialists."""
    ids = [p.pk for p in profiles]
    licences, leave, held, specialties = (defaultdict(list) for _ in range(4))
    for profile_id, state, expires in Licence.objects.filter(profile_id__in=ids).values_list(
            "profile_id", "state", "expires_on"):
        licences[profile_id].append(_Licence(state, expires))
    for profile_id, starts, ends in LeavePeriod.objects.filter(
            profile_id__in=ids, ends_on__gte=timezone.localdate()).values_list(
            "profile_id", "starts_on", "ends_on"):
        leave[profile_id].append(_Leave(starts, ends))
    certifications = {c.pk: c for c in Certification.objects.all()}
    for profile_id, certification_id in HeldCertification.objects.filter(
            profile_id__in=ids).values_list("profile_id", "certification_id"):
        held[profile_id].append(certifications[certification_id])
    for profile_id, specialty_id in SpecialistProfile.specialties.through.objects.filter(
            specialistprofile_id__in=ids).values_list("specialistprofile_id", "specialty_id"):
        specialties[profile_id].append(specialty_id)
    for profile in profiles:
        profile.match_licences = sorted(licences[profile.pk], key=lambda lic: lic.state)
        profile.match_leave = leave[profile.pk]
        profile.match_certifications = sorted(held[profile.pk], key=lambda c: c.name)
        profile.match_specialty_ids = set(specialties[profile.pk])


def rank_specialists(*, case: Case, relax=frozenset(), profiles=None) -> Ranking:
    """The specialists who may take `case`, best first, each with the reasons
    behind their place, and how many each hard filter excluded."""
    relax = frozenset(relax) & RELAXABLE
    profiles = list(profiles if profiles is not None else specialists_for_matching())
    _attach_side_tables(profiles)
    today = timezone.localdate()
    # An overdue case still needs a specialist licensed and present from today.
    due = max(timezone.localtime(case.due_at).date(), today) if case.due_at else today
    offered_before = set(case.offers.values_list("specialist_id", flat=True)) if case.pk else set()
    wanted = case.specialty
    wanted_certs = ({c.pk: c for c in wanted.certifications.all()} if wanted else {})
    code = normalise_icd10_code(case.icd10_id or "")
    language = (case.specialist_language or "").strip()

    excluded: dict[str, int] = defaultdict(int)
    candidates = []
    for profile in profiles:
        open_cases = profile.assigned_open + profile.offers_open
        licence = next((lic for lic in profile.match_licences
                        if lic.state == case.patient_state and lic.expires_on >= due), None)
        failed = {
            "accepting": not (profile.accepting_cases and profile.user.is_active),
            "capacity": open_cases >= profile.max_open_cases,
            "licence": licence is None,
            "institution": _same_institution(profile.institution, case.diagnosing_institution),
            "leave": any(period.starts_on <= due and period.ends_on >= today
                         for period in profile.match_leave),
            "mode": bool(case.consultation_type)
            and case.consultation_type not in profile.consultation_modes,
            "language": bool(language) and not _speaks(profile, language),
            "offered": profile.user_id in offered_before,
        }
        failing = [name for name, fails in failed.items() if fails and name not in relax]
        for name in failing:
            excluded[name] += 1
        if failing:
            continue
        candidate = Candidate(profile=profile, open_cases=open_cases, licence=licence)
        _score(candidate, case, wanted_certs, code)
        candidates.append(candidate)
    _word_conditions(candidates)
    candidates.sort(key=lambda c: (-c.score, c.open_cases, c.profile.user.full_name,
                                   c.profile.user_id))
    return Ranking(candidates=candidates, excluded=dict(excluded), relaxed=relax, case=case)


CONDITION_PLACEHOLDER = "\0condition"


def _word_conditions(candidates: list[Candidate]) -> None:
    """'treats C50 Malignant neoplasm of breast': the titles of the listed
    categories, read in one query for every candidate."""
    listed = {c.condition for c in candidates if c.condition}
    dotted = {code: code if len(code) <= 3 or "." in code else f"{code[:3]}.{code[3:]}"
              for code in listed}
    titles = dict(Icd10Code.objects.filter(code__in=dotted.values()).values_list("code", "title"))
    for candidate in candidates:
        if candidate.condition:
            code = dotted[candidate.condition]
            text = _("treats %(code)s %(title)s") % {"code": code, "title": titles.get(code, "")}
            candidate.reasons[candidate.reasons.index(CONDITION_PLACEHOLDER)] = text.strip()


def _speaks(profile, language: str) -> bool:
    return _fold(language) in {_fold(lang) for lang in profile.languages}


def _score(candidate: Candidate, case: Case, wanted_certs: dict, code: str) -> None:
    profile, reasons = candidate.profile, candidate.reasons
    held = profile.match_certifications
    score = 0
    # Specialty and subspecialty fit.
    fitting = [c for c in held if c.pk in wanted_certs]
    if case.specialty_id and case.specialty_id in profile.match_specialty_ids:
        score += 40
    elif fitting:
        score += 30
    if fitting:
        best = max(fitting, key=lambda c: c.kind == "subspecialty")
        if best.kind == "subspecialty":
            score += 10
        reasons.append(_("Board-certified in %(cert)s") % {"cert": best.name})
    elif held:
        reasons.append(_("Board-certified in %(cert)s") % {"cert": held[0].name})
    # Condition fit on the ICD-10-CM code.
    if code:
        listed = next((c for c in profile.conditions if normalise_icd10_code(c)
                       and code.startswith(normalise_icd10_code(c))), None)
        if listed:
            score += 25
            reasons.append(CONDITION_PLACEHOLDER)  # worded once the titles are read
            candidate.condition = listed
        elif any(c.treats(code) for c in held):
            score += 10
            reasons.append(_("board certification covers %(code)s") % {"code": case.icd10_id})
    # The patient's own wishes.
    if case.preferred_specialist_id == profile.pk:
        score += 30
        reasons.append(_("the patient asked for this specialist"))
    if candidate.licence:
        reasons.append(_("licensed in %(state)s (expires %(date)s)") % {
            "state": candidate.licence.state,
            "date": candidate.licence.expires_on.strftime("%Y-%m")})
    spoken = case.specialist_language or case.preferred_language
    if spoken and _speaks(profile, spoken):
        score += 5
        reasons.append(_("speaks %(language)s") % {"language": spoken})
    if case.payment == "insurance" and case.insurance_carrier and any(
            _same_institution(net, case.insurance_carrier) for net in profile.insurance_networks):
        score += 10
        reasons.append(_("in the %(network)s network") % {"network": case.insurance_carrier})
    # How soon and how busy.
    score += max(0, 11 - profile.turnaround_days)
    free = profile.max_open_cases - candidate.open_cases
    score += round(10 * free / profile.max_open_cases)
    reasons.append(_("%(free)d of %(max)d slots free") % {"free": free,
                                                         "max": profile.max_open_cases})
    reasons.append(ngettext("usual turnaround %(days)d day", "usual turnaround %(days)d days",
                            profile.turnaround_days) % {"days": profile.turnaround_days})
    candidate.score = score


def explanation(candidate: Candidate) -> str:
    return "; ".join(candidate.reasons)
