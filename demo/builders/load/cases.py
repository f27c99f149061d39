"""The load's cases: their answers, sections, questions, timelines and references."""

import datetime
import functools
from collections import Counter
from itertools import pairwise

from django.conf import settings

from demo.builders.load.bulk import BATCH, bulk_insert
from demo.builders.load.plan import Load, PlannedCase
from demo.data.load import (
    CANCEL_REASONS,
    FIRST_NAMES,
    LAST_NAMES,
    RECORDS_REASONS,
    SCENARIOS,
    STATES,
    STATUS_MIX,
    WITHDRAW_REASONS,
)
from requests_app import authorisation
from requests_app.icd10.models import Icd10Code
from requests_app.models import (
    CLOSED_STATES,
    Case,
    CaseEvent,
    CaseQuestion,
    CaseSection,
    CaseStatus,
    ReferenceCounter,
    SectionState,
    Urgency,
)
from requests_app.sections import SECTIONS
from requests_app.workflow import TRANSITIONS
from secondop.accounts.models import Role
from specialists.models import Specialty

S = CaseStatus


def _answers(load: Load, case: PlannedCase, specialties: dict, codes: set) -> dict:
    """Every answer of a complete request (the sections' own fields)."""
    rng = load.rng
    diagnosis, code, specialty, treatment, _questions = SCENARIOS[case.scenario]
    owner_name = load.patient_names[case.owner]
    relationship = rng.choices(["self", "parent", "proxy", "guardian"], [85, 8, 4, 3])[0]
    patient_name = (
        owner_name
        if relationship == "self"
        else f"{rng.choice(FIRST_NAMES)} {owner_name.split(' ')[-1]}"
    )
    sent_on = (case.submitted_at or case.created_at).date()
    if case.urgent:
        treatment_date = sent_on + datetime.timedelta(days=rng.randint(2, 13))
    else:
        treatment_date = (
            sent_on + datetime.timedelta(days=rng.randint(30, 120)) if rng.random() < 0.5 else None
        )
    insurance = rng.random() < 0.7
    consent = rng.random() < 0.6
    return {
        "relationship": relationship,
        "patient_name": patient_name,
        "authority_attested": relationship != "self",
        "patient_dob": datetime.date(
            rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)
        )
        if relationship != "parent"
        else datetime.date(rng.randint(2010, 2022), 6, 1),
        "patient_sex": rng.choice(["female", "male", "female", "male", "undisclosed"]),
        "patient_phone": f"({rng.randint(201, 989)}) 555-{rng.randint(0, 9999):04d}",
        "patient_state": rng.choice(STATES),
        "preferred_language": "English",
        "diagnosis": diagnosis,
        "icd10_id": code if code in codes else None,
        "diagnosed_on": sent_on - datetime.timedelta(days=rng.randint(7, 120)),
        "diagnosing_physician": f"Dr. {rng.choice(LAST_NAMES)}",
        "diagnosing_institution": f"{rng.choice(LAST_NAMES)} Memorial Hospital",
        "proposed_treatment": treatment,
        "treatment_started": "no",
        "treatment_date": treatment_date,
        "reasons": rng.sample(
            [
                "confirm_diagnosis",
                "compare_treatments",
                "peace_of_mind",
                "check_errors",
                "confirm_prognosis",
            ],
            rng.randint(1, 3),
        ),
        "concerns": "Whether this is really the best option for me, and what it means for "
        "my work and my family.",
        "symptoms": "Noticed in the spring; tests since then.",
        "medications": rng.choice(["", "Lisinopril 10 mg daily", "Metformin 500 mg twice a day"]),
        "allergies": rng.choice(["", "", "Penicillin"]),
        "specialty_id": specialties.get(specialty),
        "consultation_type": rng.choice(["written", "written", "video", "in_person"]),
        "pcp_name": f"Dr. {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "pcp_practice": "Family Medicine Associates",
        "pcp_email": f"pcp{rng.randint(1, 999)}@example.org" if consent else "",
        "pcp_referred": rng.choice(["yes", "no"]),
        "pcp_consent_to_share": consent,
        "payment": "insurance" if insurance else "self_pay",
        "insurance_carrier": "Empire Health" if insurance else "",
        "insurance_member_id": f"EH{rng.randint(10**8, 10**9 - 1)}" if insurance else "",
        "insurance_policyholder": owner_name if insurance else "",
        "authorisation_version": authorisation.VERSION,
        "authorisation_signed_name": owner_name,
        "authorisation_signed_at": case.submitted_at or case.created_at,
    }


@functools.cache
def _fields_of_first(n: int) -> frozenset[str]:
    """The case attributes (icd10_id, not icd10) the first `n` sections write."""
    names = {name for section in SECTIONS[:n] for name in section.fields}
    return frozenset(Case._meta.get_field(name).attname for name in names)


def cases(load: Load) -> str:
    """The cases: answers for the sections done, a reference for every sent case
    (continuing each year's counter), urgency, due date and closing time."""
    specialties = dict(Specialty.objects.values_list("slug", "id"))
    codes = set(
        Icd10Code.objects.filter(code__in=[s[1] for s in SCENARIOS]).values_list("code", flat=True)
    )
    sent_years = sorted({c.submitted_at.year for c in load.planned if c.submitted_at})
    counters = {
        c.year: c.last
        for c in ReferenceCounter.objects.select_for_update().filter(year__in=sent_years)
    }
    load.references = {year: counters.get(year, 0) for year in sent_years}
    for case in sorted((c for c in load.planned if c.submitted_at), key=lambda c: c.submitted_at):
        year = case.submitted_at.year
        load.references[year] += 1
        case.reference = f"SO-{year}-{load.references[year]:06d}"

    def build(case: PlannedCase) -> Case:
        answers = _answers(load, case, specialties, codes)
        filled = case.sections_done + case.section_in_progress
        if filled < len(SECTIONS):  # a draft: only the sections begun have answers
            keep = _fields_of_first(filled)
            answers = {k: v for k, v in answers.items() if k in keep}
        submitted_at = case.submitted_at
        urgency = Urgency.URGENT if case.urgent else Urgency.ROUTINE
        due_days = (
            settings.CASE_TURNAROUND_DAYS_URGENT
            if case.urgent
            else settings.CASE_TURNAROUND_DAYS_ROUTINE
        )
        return Case(
            owner_id=load.patient_ids[case.owner],
            status=case.status,
            reference=case.reference,
            urgency=urgency,
            submitted_at=submitted_at,
            due_at=submitted_at + datetime.timedelta(days=due_days) if submitted_at else None,
            closed_at=case.updated_at if case.status in CLOSED_STATES else None,
            created_at=case.created_at,
            updated_at=case.updated_at,
            **answers,
        )

    made = 0
    for start in range(0, len(load.planned), BATCH):
        chunk = load.planned[start : start + BATCH]
        rows = [build(case) for case in chunk]
        Case.objects.bulk_create(rows, batch_size=1000)
        for case, row in zip(chunk, rows, strict=True):
            case.id = row.pk
        made += len(rows)
    by_status = Counter(c.status for c in load.planned)
    mix = ", ".join(f"{s} {by_status[s]}" for s in STATUS_MIX)
    return f"{made} cases ({mix})"


def sections(load: Load) -> str:
    def rows():
        for case in load.planned:
            for i, section in enumerate(SECTIONS[: case.sections_done + case.section_in_progress]):
                state = (
                    SectionState.COMPLETED if i < case.sections_done else SectionState.IN_PROGRESS
                )
                yield CaseSection(
                    case_id=case.id, section=section.key, state=state, updated_at=case.created_at
                )

    return f"{bulk_insert(CaseSection, rows())} section rows"


def questions(load: Load) -> str:
    def rows():
        for case in load.planned:
            texts = SCENARIOS[case.scenario][4]
            for position in range(1, min(case.questions, len(texts)) + 1):
                yield CaseQuestion(case_id=case.id, position=position, text=texts[position - 1])

    return f"{bulk_insert(CaseQuestion, rows())} questions"


def events(load: Load) -> str:
    """The timeline: one event per move, made by whom the workflow lets make it
    (a coordinator where staff may; the patient where only they may; nobody for
    the specialist's moves until load steps make specialists)."""
    rng = load.rng
    reasons = {
        S.WITHDRAWN: WITHDRAW_REASONS,
        S.CANCELLED: CANCEL_REASONS,
        S.AWAITING_RECORDS: RECORDS_REASONS,
    }

    def rows():
        for case in load.planned:
            owner = load.patient_ids[case.owner]
            for (old, _at), (new, at) in pairwise(case.path):
                roles = TRANSITIONS[(old, new)]
                actor = (
                    rng.choice(load.coordinator_ids)
                    if Role.COORDINATOR in roles
                    else owner
                    if Role.PATIENT in roles
                    else None
                )
                yield CaseEvent(
                    case_id=case.id,
                    actor_id=actor,
                    old_status=old,
                    new_status=new,
                    reason=rng.choice(reasons[new]) if new in reasons else "",
                    created_at=at,
                )

    return f"{bulk_insert(CaseEvent, rows())} timeline events"


def reference_counters(load: Load) -> str:
    for year, last in load.references.items():
        ReferenceCounter.objects.update_or_create(year=year, defaults={"last": last})
    return "reference counters: " + ", ".join(f"{y} at {n}" for y, n in load.references.items())
