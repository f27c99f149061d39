"""Matching: which specialists may take a case, in what order, and why.

Hard filters first. A specialist who fails any of them is never offered the
case, and each filter counts whom it excluded, so that "no one qualifies"
always says why ("18 not in Medical Oncology, 3 not licensed in WY"); one
person may fail several filters and is counted by each:

    specialty    practises what the case needs: the case's specialty (the
                 patient's choice, or the coordinator's at triage) directly, or
                 through a board certification that specialty means, OR holds a
                 certification whose ICD-10-CM ranges cover the case's code. A
                 case with neither a specialty nor a code fits no one until the
                 coordinator chooses a specialty. Never relaxable.
    accepting    accepting new cases, and the account is active
    capacity     fewer open cases (assigned, plus open offers) than their most
    licence      a licence in the patient's state that an administrator has
                 verified and that is still valid on the report's due date (it
                 stops counting on its expiry day). Written opinions and
                 telehealth are practised where the patient is: this filter can
                 never be relaxed, and a licence the specialist only declared
                 never counts
    institution  not at the hospital or practice that made the first diagnosis
    leave        not away between today and the due date
    mode         offers the consultation the patient asked for    (relaxable)
    language     speaks the language the patient asked for        (relaxable)
    offered      never offered this case before (declined or let it expire)
    earlier      for a third opinion (a request with a `parent`): not the
                 specialist who gave the opinion it is on. Never relaxable: a
                 third opinion is blinded and independent of the second

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
So among the qualified, an exact specialty and subspecialty with a listed
condition comes first, and someone who fits only through the code's ranges
(10 points, "qualifies through the diagnosis code") comes after them.

When few or none qualify, the ranking also names the nearest misses: the
specialists who fail exactly one filter ("Dr. Kim would qualify but works at
the diagnosing institution"), so that the coordinator knows what to act on.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from requests_app.icd10.models import Icd10Code
from requests_app.icd10.ranges import icd10_code_in, normalise_icd10_code
from requests_app.models import OPEN_STATES, Case

from .models import (
    Certification,
    HeldCertification,
    LeavePeriod,
    LicenceVerification,
    Offer,
    OfferStatus,
    SpecialistProfile,
    Specialty,
)

RELAXABLE = frozenset({"mode", "language"})
FILTERS = (
    "specialty",
    "accepting",
    "capacity",
    "licence",
    "institution",
    "leave",
    "mode",
    "language",
    "offered",
    "earlier",
)
NEAREST_MISSES_SHOWN = 5


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
    considered: int = 0  # specialists the filters read
    nearest: list[str] = field(default_factory=list)  # one-check misses, in words
    near_checks: dict[str, int] = field(default_factory=dict)  # check -> one-check misses

    def likely_hold_reason(self) -> str:
        """What most plausibly keeps the case without a specialist, as a
        requests_app HoldReason value: the check most near misses fail."""
        if self.considered and self.excluded.get("specialty", 0) == self.considered:
            return "no_specialty"
        if not self.near_checks:
            return "other"
        check = max(sorted(self.near_checks), key=lambda name: self.near_checks[name])
        return {
            "licence": "no_licence",
            "specialty": "no_specialty",
            "capacity": "capacity",
            "leave": "capacity",
            "accepting": "capacity",
        }.get(check, "other")

    def why_no_one(self) -> list[str]:
        """The exclusion counts in words, largest first."""
        return [
            _exclusion_text(name, n, self.case)
            for name, n in sorted(self.excluded.items(), key=lambda item: (-item[1], item[0]))
            if n
        ]


def _needs(case: Case) -> str:
    """What the specialty filter asks for, in words: "Medical Oncology", or the code."""
    if case.specialty_id:
        return str(case.specialty)
    if case.icd10_id:
        return _("treating %(code)s") % {"code": case.icd10_id}
    return ""


def _exclusion_text(name: str, n: int, case: Case) -> str:
    state = case.patient_state or "?"
    if name == "specialty":
        needs = _needs(case)
        if not needs:
            return ngettext(
                "%(n)d considered, but the case has no specialty yet: choose one",
                "%(n)d considered, but the case has no specialty yet: choose one",
                n,
            ) % {"n": n}
        if case.specialty_id and case.icd10_id:
            return ngettext(
                "%(n)d not in %(specialty)s and not treating %(code)s",
                "%(n)d not in %(specialty)s and not treating %(code)s",
                n,
            ) % {"n": n, "specialty": str(case.specialty), "code": case.icd10_id}
        if not case.specialty_id:
            return ngettext("%(n)d not treating %(code)s", "%(n)d not treating %(code)s", n) % {
                "n": n,
                "code": case.icd10_id,
            }
        return ngettext("%(n)d not in %(specialty)s", "%(n)d not in %(specialty)s", n) % {
            "n": n,
            "specialty": needs,
        }
    texts = {
        "accepting": ngettext("%(n)d not accepting new cases", "%(n)d not accepting new cases", n),
        "capacity": ngettext("%(n)d at capacity", "%(n)d at capacity", n),
        "licence": ngettext(
            "%(n)d without a verified licence in %(state)s valid on the due date",
            "%(n)d without a verified licence in %(state)s valid on the due date",
            n,
        ),
        "institution": ngettext(
            "%(n)d at the diagnosing institution", "%(n)d at the diagnosing institution", n
        ),
        "leave": ngettext("%(n)d away before the due date", "%(n)d away before the due date", n),
        "mode": ngettext(
            "%(n)d not offering this consultation", "%(n)d not offering this consultation", n
        ),
        "language": ngettext(
            "%(n)d not speaking %(language)s", "%(n)d not speaking %(language)s", n
        ),
        "offered": ngettext(
            "%(n)d already offered this case", "%(n)d already offered this case", n
        ),
        "earlier": ngettext(
            "%(n)d gave the opinion this third opinion is on",
            "%(n)d gave the opinion this third opinion is on",
            n,
        ),
    }
    return texts[name] % {"n": n, "state": state, "language": case.specialist_language}


@lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    # Cached: every ranking folds every specialist's institution and languages,
    # and there are far fewer distinct ones than specialists.
    return " ".join("".join(ch for ch in text.casefold() if ch.isalnum() or ch.isspace()).split())


def _same_institution(a: str, b: str) -> bool:
    a, b = _fold(a), _fold(b)
    return bool(a and b) and (a == b or a in b or b in a)


def specialists_for_matching() -> QuerySet[SpecialistProfile]:
    """Every specialist profile matching considers. A queryset, so that a caller
    can narrow it (offer_make: the one specialist offered the case);
    rank_specialists reads what its filters need from it as plain rows."""
    return SpecialistProfile.objects.filter(user__role="specialist")


@dataclass(frozen=True)
class _Licence:
    state: str
    expires_on: date
    verified_on: date | None = None


class _Row(NamedTuple):
    """What the hard filters read of one specialist: a tuple from the database,
    not a model instance (at 1,000 specialists, building a SpecialistProfile and
    its User for each cost more than the query itself; a frozen dataclass too
    cost a millisecond)."""

    pk: int
    user_id: int
    active: bool
    accepting_cases: bool
    max_open_cases: int
    institution: str
    consultation_modes: tuple
    languages: tuple
    assigned_open: int
    offers_open: int
    # The verified licence in the patient's state valid on the due date: its
    # checked expiry date, and when it was verified (a datetime).
    licence_expires: date | None
    on_leave: bool
    fits: bool  # practises what the case needs (the specialty filter)
    licence_verified_at: object = None
    # A licence there, valid, but not verified yet (or verified to an expiry
    # before the due date).
    licence_waiting: bool = False
    offered_before: bool = False  # offered this case before (declined or let it expire)
    name: str = ""


# Fields that read tests rather than treat patients: a certification of theirs
# fits through the diagnosis code only when the case asks for that field itself.
DIAGNOSTIC_SPECIALTIES = ("pathology", "radiology")
ADULT_AGE = 18


def _is_pediatric(certification: Certification) -> bool:
    return _pediatric(certification.name, certification.board.slug)


def _pediatric(name: str, board_slug: str) -> bool:
    name = name.casefold()
    return board_slug == "abp" or "pediatric" in name or name.startswith("child")


def _is_adult(case: Case) -> bool | None:
    """Whether the patient is 18 or over on the due date; None when unknown."""
    if not case.patient_dob:
        return None
    on = timezone.localtime(case.due_at).date() if case.due_at else timezone.localdate()
    had_birthday = (on.month, on.day) >= (case.patient_dob.month, case.patient_dob.day)
    return on.year - case.patient_dob.year - (not had_birthday) >= ADULT_AGE


def _certifications(case: Case) -> tuple[set[int], set[int]]:
    """Every certification in one query of plain rows: those through which a
    specialist practises what `case` needs (see fitting_certifications), and
    every one its specialty means, active or not (what the score counts)."""
    adult = _is_adult(case)
    code = case.icd10_id or ""
    diagnostic_ok = bool(case.specialty_id) and case.specialty.slug in DIAGNOSTIC_SPECIALTIES
    through = Specialty.certifications.through.objects
    means = (
        Exists(through.filter(certification_id=OuterRef("pk"), specialty_id=case.specialty_id))
        if case.specialty_id
        else Value(False)
    )
    rows = Certification.objects.annotate(
        match_means=means,
        match_diagnostic=Exists(
            through.filter(
                certification_id=OuterRef("pk"), specialty__slug__in=DIAGNOSTIC_SPECIALTIES
            )
        ),
    ).values_list(
        "pk", "active", "icd10_ranges", "name", "board__slug", "match_means", "match_diagnostic"
    )
    wanted, meant, grown, covering = set(), [], [], set()
    for pk, active, ranges, name, board, is_meant, diagnostic in rows:
        pediatric = _pediatric(name, board)
        if is_meant:
            wanted.add(pk)
            if active:
                meant.append(pk)
                if not pediatric:
                    grown.append(pk)
        # The ranges of the active certifications cover the code; for an adult,
        # no pediatric certificate; pathology and radiology only if the case asks
        # for that field.
        if (
            code
            and active
            and ranges
            and (diagnostic_ok or not diagnostic)
            and not (adult and pediatric)
            and icd10_code_in(code, ranges)
        ):
            covering.add(pk)
    return set(grown if adult and grown else meant) | covering, wanted


def fitting_certifications(case: Case) -> set[int]:
    """The certifications through which a specialist practises what `case` needs:
    those its specialty means, and those whose ranges cover its code. For an
    adult patient a pediatric certificate does not count, unless the specialty
    asked for is itself pediatric (a 19-year-old still followed in pediatric
    cardiology)."""
    return _certifications(case)[0]


def _filter_rows(
    profiles: QuerySet, case: Case, today: date, due: date, fit_certifications: set[int]
) -> list[_Row]:
    """One query, one row per specialist, with the filters' inputs computed by
    the database: open cases and offers (correlated counts of rows, `COUNT(*)`,
    which PostgreSQL answers from the partial index on open cases and from the
    offers' index alone, where counting ids read each case from the table), the
    licence in the patient's state that is still valid on the due date (one
    licence per state: a join gives at most one row, where a subquery per
    specialist looked it up twice), whether they practise what the case
    needs, leave overlapping today to the due date, and whether they were offered
    the case before."""
    assigned = (
        Case.objects.filter(specialist=OuterRef("user_id"), status__in=OPEN_STATES)
        .order_by()
        .values("specialist")
        .annotate(n=Count("*"))
        .values("n")
    )
    offered = (
        Offer.objects.filter(specialist=OuterRef("user_id"), status=OfferStatus.OPEN)
        .order_by()
        .values("specialist")
        .annotate(n=Count("*"))
        .values("n")
    )
    # A licence stops counting on its expiry day: valid on the due date means
    # expiring after it. Whether it is verified (and until when) is read below.
    licence = FilteredRelation(
        "licences",
        condition=Q(licences__state=case.patient_state or "", licences__expires_on__gt=due),
    )
    away = LeavePeriod.objects.filter(
        profile=OuterRef("pk"), starts_on__lte=due, ends_on__gte=today
    )
    # PostgreSQL runs these EXISTS once each, as a hashed set of specialists,
    # not once per specialist.
    fits = Exists(
        HeldCertification.objects.filter(
            profile=OuterRef("pk"), certification_id__in=fit_certifications
        )
    )
    if case.specialty_id:
        fits = fits | Exists(
            SpecialistProfile.specialties.through.objects.filter(
                specialistprofile_id=OuterRef("pk"), specialty_id=case.specialty_id
            )
        )
    rows = (
        profiles.order_by()
        .annotate(
            match_licence=licence,
            match_assigned=Coalesce(Subquery(assigned, output_field=IntegerField()), 0),
            match_offers=Coalesce(Subquery(offered, output_field=IntegerField()), 0),
            match_fits=fits,
            match_away=Exists(away),
            match_offered=Exists(
                Offer.objects.filter(case_id=case.pk, specialist=OuterRef("user_id"))
            )
            if case.pk
            else Value(False),
            # As text, decoded once per distinct list (_json_list): a few
            # dozen combinations, where decoding 2,000 lists cost 3 ms.
            match_modes=Cast("consultation_modes", TextField()),
            match_languages=Cast("languages", TextField()),
        )
        .values_list(
            "pk",
            "user_id",
            "user__is_active",
            "accepting_cases",
            "max_open_cases",
            "institution",
            "match_modes",
            "match_languages",
            "match_assigned",
            "match_offers",
            "match_licence__verification",
            "match_licence__verified_expires_on",
            "match_licence__verified_at",
            "match_away",
            "match_fits",
            "match_offered",
            "user__full_name",
        )
    )
    result = []
    for (
        pk,
        user_id,
        active,
        accepting,
        most,
        institution,
        modes,
        languages,
        assigned_open,
        offers_open,
        verification,
        verified_expires_on,
        verified_at,
        on_leave,
        fits,
        offered_before,
        name,
    ) in rows:
        # Verified and still valid on the due date by the expiry the administrator
        # saw; or waiting: not checked yet, or checked but that expiry is passed.
        checked = verification == LicenceVerification.VERIFIED and verified_expires_on is not None
        verified = checked and verified_expires_on > due
        result.append(
            _Row(
                pk,
                user_id,
                active,
                accepting,
                most,
                institution,
                _json_list(modes),
                _json_list(languages),
                assigned_open,
                offers_open,
                verified_expires_on if verified else None,
                on_leave,
                fits,
                verified_at if verified else None,
                verification == LicenceVerification.UNVERIFIED or (checked and not verified),
                offered_before,
                name,
            )
        )
    return result


@lru_cache(maxsize=1024)
def _json_list(text: str) -> tuple:
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value


def _attach_side_tables(profiles: list) -> None:
    """Certifications and specialties of the candidates, what the score reads,
    as plain rows (one query each) grouped here: Django's prefetch builds a
    model and a queryset per row."""
    ids = [p.pk for p in profiles]
    held, specialties = defaultdict(list), defaultdict(set)
    # One Certification per holder (a certificate held by two candidates is read
    # twice, in one query): the score compares them by key.
    for certification in (
        Certification.objects.filter(holders__profile_id__in=ids)
        .annotate(match_holder=F("holders__profile_id"))
        .order_by()
    ):
        held[certification.match_holder].append(certification)
    for profile_id, specialty_id in SpecialistProfile.specialties.through.objects.filter(
        specialistprofile_id__in=ids
    ).values_list("specialistprofile_id", "specialty_id"):
        specialties[profile_id].add(specialty_id)
    for profile in profiles:
        profile.match_certifications = sorted(held[profile.pk], key=lambda c: (c.name, c.pk))
        profile.match_specialty_ids = specialties[profile.pk]


def _earlier_specialist(case: Case) -> int | None:
    """For a third opinion: the specialist who gave the opinion it is on."""
    if case.parent_id is None:
        return None
    return Case.objects.filter(pk=case.parent_id).values_list("specialist_id", flat=True).first()


def _failed(row: _Row, case: Case, language: str, earlier: int | None = None) -> dict[str, bool]:
    return {
        "specialty": not row.fits,
        "accepting": not (row.accepting_cases and row.active),
        "capacity": row.assigned_open + row.offers_open >= row.max_open_cases,
        "licence": row.licence_expires is None,
        "institution": _same_institution(row.institution, case.diagnosing_institution),
        "leave": row.on_leave,
        "mode": bool(case.consultation_type)
        and case.consultation_type not in row.consultation_modes,
        "language": bool(language) and not _speaks(row.languages, language),
        "offered": row.offered_before,
        "earlier": earlier is not None and row.user_id == earlier,
    }


def rank_specialists(*, case: Case, relax=frozenset(), profiles=None) -> Ranking:
    """The specialists who may take `case`, best first, each with the reasons
    behind their place, and how many each hard filter excluded.

    `profiles`: a SpecialistProfile queryset to choose from (all of
    specialists_for_matching() when None; a list of profiles is read again
    by key). The filters read plain rows of every one of them; only those who
    pass every filter become model instances, with what the score reads."""
    relax = frozenset(relax) & RELAXABLE
    if profiles is None:
        profiles = specialists_for_matching()
    elif not isinstance(profiles, QuerySet):
        profiles = SpecialistProfile.objects.filter(pk__in=[p.pk for p in profiles])
    today = timezone.localdate()
    # An overdue case still needs a specialist licensed and present from today.
    due = max(timezone.localtime(case.due_at).date(), today) if case.due_at else today
    language = (case.specialist_language or "").strip()

    excluded: dict[str, int] = defaultdict(int)
    passed: dict[int, _Row] = {}
    near: list[tuple[_Row, str]] = []
    fit_certifications, wanted_certs = _certifications(case)
    rows = _filter_rows(profiles, case, today, due, fit_certifications)
    earlier = _earlier_specialist(case)
    for row in rows:
        failing = [
            name
            for name, fails in _failed(row, case, language, earlier).items()
            if fails and name not in relax
        ]
        for name in failing:
            excluded[name] += 1
        if not failing:
            passed[row.pk] = row
        elif len(failing) == 1:
            near.append((row, failing[0]))
    candidates = []
    if passed:
        code = normalise_icd10_code(case.icd10_id or "")
        chosen = list(SpecialistProfile.objects.filter(pk__in=passed).select_related("user"))
        _attach_side_tables(chosen)
        for profile in chosen:
            row = passed[profile.pk]
            verified_on = (
                timezone.localtime(row.licence_verified_at).date()
                if row.licence_verified_at
                else None
            )
            candidate = Candidate(
                profile=profile,
                open_cases=row.assigned_open + row.offers_open,
                licence=_Licence(case.patient_state, row.licence_expires, verified_on),
            )
            _score(candidate, case, wanted_certs, code)
            candidates.append(candidate)
    _word_conditions(candidates)
    candidates.sort(
        key=lambda c: (-c.score, c.open_cases, c.profile.user.full_name, c.profile.user_id)
    )
    near_checks: dict[str, int] = defaultdict(int)
    for _row, check in near:
        near_checks[check] += 1
    return Ranking(
        candidates=candidates,
        excluded=dict(excluded),
        relaxed=relax,
        case=case,
        considered=len(rows),
        nearest=_nearest_misses(near, case),
        near_checks=dict(near_checks),
    )


def _nearest_misses(near: list[tuple["_Row", str]], case: Case) -> list[str]:
    """Who fails exactly one check, in words, the most actionable first: a licence
    waiting to be verified, then the relaxable checks, then the rest."""
    if not near:
        return []
    order = {
        "mode": 1,
        "language": 2,
        "capacity": 3,
        "leave": 4,
        "accepting": 5,
        "institution": 6,
        "offered": 7,
        "earlier": 7,
        "licence": 8,
        "specialty": 9,
    }
    near = sorted(
        near,
        key=lambda item: 0 if item[1] == "licence" and item[0].licence_waiting else order[item[1]],
    )
    near = near[:NEAREST_MISSES_SHOWN]
    state = case.get_patient_state_display() if case.patient_state else "?"
    lines = []
    for row, check in near:
        if check == "licence" and row.licence_waiting:
            text = _(
                "%(name)s would qualify, but their licence in %(state)s is not verified "
                "yet: an administrator can check it on the credentialing page"
            )
        else:
            text = {
                "specialty": _("%(name)s would qualify, but does not practise %(needs)s"),
                "accepting": _("%(name)s would qualify, but is not taking new cases"),
                "capacity": _("%(name)s would qualify, but has no free slot"),
                "licence": _("%(name)s would qualify, but is not licensed in %(state)s"),
                "institution": _(
                    "%(name)s would qualify, but works at the diagnosing "
                    "institution (%(institution)s)"
                ),
                "leave": _("%(name)s would qualify, but is away before the due date"),
                "mode": _(
                    "%(name)s would qualify, but does not offer this consultation: "
                    "relax that check if the patient agrees"
                ),
                "language": _(
                    "%(name)s would qualify, but does not speak %(language)s: "
                    "relax that check if the patient agrees"
                ),
                "offered": _("%(name)s would qualify, but was already offered this case"),
                "earlier": _(
                    "%(name)s would qualify, but gave the opinion this third opinion is on"
                ),
            }[check]
        lines.append(
            text
            % {
                "name": row.name,
                "state": state,
                "needs": _needs(case) or "-",
                "institution": row.institution,
                "language": case.specialist_language,
            }
        )
    return lines


def still_qualifies(*, case: Case, specialist_id: int) -> bool:
    """Whether the specialist an offer went to still practises what the case
    needs and holds a verified licence for it (after the specialty or a licence
    changed). The other checks counted the offer itself, so they are not re-read."""
    today = timezone.localdate()
    due = max(timezone.localtime(case.due_at).date(), today) if case.due_at else today
    rows = _filter_rows(
        specialists_for_matching().filter(user_id=specialist_id),
        case,
        today,
        due,
        fitting_certifications(case),
    )
    return any(row.fits and row.licence_expires is not None for row in rows)


CONDITION_PLACEHOLDER = "\0condition"


def _word_conditions(candidates: list[Candidate]) -> None:
    """'treats C50 Malignant neoplasm of breast': the titles of the listed
    categories, read in one query for every candidate."""
    listed = {c.condition for c in candidates if c.condition}
    dotted = {
        code: code if len(code) <= 3 or "." in code else f"{code[:3]}.{code[3:]}" for code in listed
    }
    titles = dict(Icd10Code.objects.filter(code__in=dotted.values()).values_list("code", "title"))
    for candidate in candidates:
        if candidate.condition:
            code = dotted[candidate.condition]
            text = _("treats %(code)s %(title)s") % {"code": code, "title": titles.get(code, "")}
            candidate.reasons[candidate.reasons.index(CONDITION_PLACEHOLDER)] = text.strip()


def _speaks(languages: list, language: str) -> bool:
    wanted = _fold(language)
    return any(_fold(each) == wanted for each in languages)


def _score(candidate: Candidate, case: Case, wanted_certs: set[int], code: str) -> None:
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
    elif case.specialty_id and case.specialty_id in profile.match_specialty_ids:
        reasons.append(_("practises %(specialty)s") % {"specialty": str(case.specialty)})
    elif held:
        # Fits through the code's ranges only (the specialty filter let them in).
        covering = next((c for c in held if code and c.treats(code)), held[0])
        if case.specialty_id:
            reasons.append(
                _(
                    "Board-certified in %(cert)s: qualifies through the diagnosis "
                    "code, not the specialty asked for"
                )
                % {"cert": covering.name}
            )
        else:
            reasons.append(
                _("Board-certified in %(cert)s, which covers %(code)s")
                % {"cert": covering.name, "code": case.icd10_id}
            )
    # Condition fit on the ICD-10-CM code.
    if code:
        listed = next(
            (
                c
                for c in profile.conditions
                if normalise_icd10_code(c) and code.startswith(normalise_icd10_code(c))
            ),
            None,
        )
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
        licence = candidate.licence
        if licence.verified_on:
            reasons.append(
                _("licensed in %(state)s (verified %(verified)s, expires %(date)s)")
                % {
                    "state": licence.state,
                    "verified": licence.verified_on.isoformat(),
                    "date": licence.expires_on.strftime("%Y-%m"),
                }
            )
        else:
            reasons.append(
                _("licensed in %(state)s (expires %(date)s)")
                % {"state": licence.state, "date": licence.expires_on.strftime("%Y-%m")}
            )
    spoken = case.specialist_language or case.preferred_language
    if spoken and _speaks(profile.languages, spoken):
        score += 5
        reasons.append(_("speaks %(language)s") % {"language": spoken})
    if (
        case.payment == "insurance"
        and case.insurance_carrier
        and any(
            _same_institution(net, case.insurance_carrier) for net in profile.insurance_networks
        )
    ):
        score += 10
        reasons.append(_("in the %(network)s network") % {"network": case.insurance_carrier})
    # How soon and how busy.
    score += max(0, 11 - profile.turnaround_days)
    free = profile.max_open_cases - candidate.open_cases
    score += round(10 * free / profile.max_open_cases)
    reasons.append(
        _("%(free)d of %(max)d slots free") % {"free": free, "max": profile.max_open_cases}
    )
    reasons.append(
        ngettext(
            "usual turnaround %(days)d day",
            "usual turnaround %(days)d days",
            profile.turnaround_days,
        )
        % {"days": profile.turnaround_days}
    )
    candidate.score = score


def explanation(candidate: Candidate) -> str:
    return "; ".join(candidate.reasons)
