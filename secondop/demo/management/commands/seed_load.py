"""Load data for benchmarks: python manage.py seed_load --cases 100000.

Fills the database in bulk, so that pages can be timed at a realistic size
(bench/pages.py): patients (one per ~2 cases) with verified email addresses,
cases at every status with their sections, questions and timelines, and
coordinators with TOTP enrolled. 100,000 cases take a couple of minutes.

Rows are written with bulk_create in one transaction, not through the
services: a service call per case would take hours. So nothing here is
notified, audited or access-logged, and every timestamp is in the past as
the plan says (see `explicit_timestamps`). Each timeline is a path of moves
the workflow allows (checked against requests_app.workflow.TRANSITIONS).

Each step is one function in STEPS: it takes the Load (the plan, and what the
steps before it made) and returns a line for the summary. Specialists,
offers, records and reports are each one more function appended to STEPS.
Records are rows only: their bytes are not stored.
"""

import datetime
import functools
import math
import random
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice, pairwise

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from records.models import Record, RecordFile, RecordRequest
from requests_app import authorisation
from requests_app.aftercare.models import FollowUpQuestion
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
from requests_app.reports.models import Report, ReportAnswer, ReportVersion
from requests_app.sections import SECTIONS
from requests_app.workflow import TRANSITIONS
from secondop.accounts.models import Role, User
from secondop.demo.management.commands.seed_demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from specialists.models import Specialty

# Every loaded account signs in with the demo password (and staff with the demo
# TOTP secret): load data is demo data, never on a real deployment.
LOAD_PASSWORD = DEMO_PASSWORD
LOAD_TOTP_SECRET = DEMO_TOTP_SECRET
LOAD_DOMAIN = "load.secondop.test"
COORDINATORS = 20
BATCH = 5000

S = CaseStatus
# The mix of statuses, in percent: most cases are long closed; most open ones
# are early in the workflow (new, in triage, waiting for records, matching).
STATUS_MIX: dict[str, float] = {
    S.DRAFT: 10,
    S.SUBMITTED: 5,
    S.TRIAGE: 4,
    S.AWAITING_RECORDS: 3,
    S.MATCHING: 2.5,
    S.OFFERED: 1.5,
    S.IN_REVIEW: 2.5,
    S.CONSULTATION: 0.5,
    S.REPORT_READY: 0.5,
    S.DELIVERED: 3,
    S.FOLLOW_UP: 0.5,
    S.CLOSED: 56,
    S.WITHDRAWN: 7,
    S.CANCELLED: 4,
}
# The usual road from submission to a delivered report.
MAIN_ROAD = [
    S.DRAFT,
    S.SUBMITTED,
    S.TRIAGE,
    S.MATCHING,
    S.OFFERED,
    S.IN_REVIEW,
    S.REPORT_READY,
    S.DELIVERED,
]

FIRST_NAMES = [
    "Maria",
    "James",
    "Aisha",
    "Wei",
    "Olivia",
    "Mohammed",
    "Sofia",
    "Daniel",
    "Grace",
    "Luis",
    "Hannah",
    "Kwame",
    "Emily",
    "Raj",
    "Chloe",
    "Tomás",
    "Fatima",
    "Noah",
    "Yuki",
    "Ethan",
    "Amara",
    "Lucas",
    "Priya",
    "Samuel",
    "Elena",
    "David",
    "Zoe",
    "Omar",
    "Leah",
    "Mateo",
]
LAST_NAMES = [
    "Alvarez",
    "Smith",
    "Okafor",
    "Chen",
    "Johnson",
    "Haddad",
    "Rossi",
    "Kim",
    "Nguyen",
    "Patel",
    "Garcia",
    "Brown",
    "Mensah",
    "Williams",
    "Kowalski",
    "Cohen",
    "Silva",
    "Murphy",
    "Tanaka",
    "Ali",
    "Moreau",
    "Jones",
    "Singh",
    "Davis",
    "Ivanova",
    "Lopez",
    "Walker",
    "Ahmed",
    "Hughes",
]
STATES = ["NY", "NJ", "CA", "TX", "FL", "PA", "IL", "OH", "GA", "MA", "WA", "AZ", "CO", "MI"]

# diagnosis in the patient's words, ICD-10-CM code, specialty, recommended treatment,
# the patient's questions.
SCENARIOS = [
    (
        "Early-stage breast cancer (invasive ductal carcinoma)",
        "C50.911",
        "oncology",
        "Mastectomy followed by chemotherapy",
        [
            "Is a mastectomy my only option?",
            "Would radiation alone be enough?",
            "How would chemotherapy affect my work?",
        ],
    ),
    (
        "Prostate cancer, Gleason score 7",
        "C61",
        "urology",
        "Radical prostatectomy",
        [
            "Is active surveillance safe for me?",
            "What are the risks of incontinence?",
            "Would radiation work as well as surgery?",
        ],
    ),
    (
        "Heart failure, my heart pumps weakly",
        "I50.22",
        "cardiology",
        "An implanted defibrillator",
        [
            "Do I need the device now?",
            "Could medicines alone be enough?",
            "What happens if I wait?",
        ],
    ),
    (
        "Multiple sclerosis, relapsing-remitting",
        "G35",
        "neurology",
        "Starting an infusion every six months",
        [
            "Is this the right medicine for me?",
            "What are the infection risks?",
            "Can I still try for a baby?",
        ],
    ),
    (
        "Osteoarthritis of the right knee",
        "M17.11",
        "orthopedics",
        "Total knee replacement",
        ["Is surgery needed yet?", "How long is the recovery?", "Would injections help first?"],
    ),
    (
        "Lung cancer found on a CT scan",
        "C34.90",
        "oncology",
        "Surgery to remove part of the lung",
        [
            "Is the staging right?",
            "Is surgery better than radiation for me?",
            "Should I have genetic testing of the tumour?",
        ],
    ),
    (
        "Crohn's disease that keeps flaring",
        "K50.90",
        "gastroenterology",
        "Surgery to remove part of the bowel",
        ["Are there medicines I have not tried?", "What are the risks of the operation?"],
    ),
    (
        "A slipped disc in my lower back",
        "M51.26",
        "neurosurgery",
        "Spinal fusion",
        ["Would physical therapy be enough?", "What are the chances the pain comes back?"],
    ),
    (
        "Thyroid cancer (papillary)",
        "C73",
        "endocrinology",
        "Removing the whole thyroid",
        ["Could half the thyroid be enough?", "Will I need radioactive iodine?"],
    ),
    (
        "Parkinson's disease",
        "G20.A1",
        "neurology",
        "Deep brain stimulation",
        [
            "Am I a good candidate?",
            "What are the risks of the surgery?",
            "How much would it help my tremor?",
        ],
    ),
    (
        "Chronic kidney disease, stage 4",
        "N18.4",
        "nephrology",
        "Preparing for dialysis",
        ["Should I be listed for a transplant?", "Can diet slow this down?"],
    ),
    (
        "Rheumatoid arthritis",
        "M06.9",
        "rheumatology",
        "A biologic injection every two weeks",
        ["Is this medicine safe with my other conditions?", "How soon should it work?"],
    ),
]
WITHDRAW_REASONS = [
    "My own surgeon answered my questions.",
    "I decided to go ahead with the treatment.",
    "My insurance will not cover it.",
    "I found a specialist locally.",
]
CANCEL_REASONS = [
    "Duplicate of another request.",
    "We could not reach the patient after three attempts.",
    "The records needed could not be obtained.",
]
RECORDS_REASONS = [
    "Please send the pathology report from the biopsy.",
    "We need the MRI images and the radiologist's report.",
    "Please send the notes from your last specialist visit.",
]


@dataclass(slots=True)
class PlannedCase:
    """One case as planned: its status, its path there, and when each move was."""

    owner: int  # index into Load.patient_ids
    status: str
    path: list[tuple[str, datetime.datetime]]  # (status, when), starting with the draft
    scenario: int
    sections_done: int  # sections completed, in order (all of them once sent)
    section_in_progress: bool  # the next section was started
    questions: int
    urgent: bool
    reference: str | None = None
    id: int | None = None  # set when inserted

    @property
    def created_at(self) -> datetime.datetime:
        return self.path[0][1]

    @property
    def updated_at(self) -> datetime.datetime:
        return self.path[-1][1]

    @property
    def submitted_at(self) -> datetime.datetime | None:
        return self.path[1][1] if len(self.path) > 1 and self.path[1][0] == S.SUBMITTED else None


@dataclass
class Load:
    """The plan and what the steps have made so far."""

    cases: int
    rng: random.Random
    now: datetime.datetime
    password_hash: str
    first_patient: int  # account numbers continue after an earlier load (--force)
    first_coordinator: int
    patient_names: list[str] = field(default_factory=list)
    patient_ids: list[int] = field(default_factory=list)
    coordinator_ids: list[int] = field(default_factory=list)
    specialist_ids: list[int] = field(default_factory=list)
    planned: list[PlannedCase] = field(default_factory=list)
    references: dict[int, int] = field(default_factory=dict)  # year -> last number used


def status_counts(cases: int) -> dict[str, int]:
    """How many cases of each status a load of `cases` makes: STATUS_MIX by largest
    remainder, with at least one of each status when there are enough cases."""
    total = sum(STATUS_MIX.values())
    exact = {s: cases * w / total for s, w in STATUS_MIX.items()}
    counts = {s: math.floor(x) for s, x in exact.items()}
    if cases >= len(STATUS_MIX):
        counts = {s: max(1, n) for s, n in counts.items()}
    by_remainder = sorted(exact, key=lambda s: exact[s] - math.floor(exact[s]), reverse=True)
    by_size = sorted(counts, key=counts.get, reverse=True)
    while (diff := cases - sum(counts.values())) != 0:
        for status in (by_remainder if diff > 0 else by_size)[: abs(diff)]:
            counts[status] += 1 if diff > 0 else -1
    return counts


def _road(status: str, rng: random.Random) -> list[str]:
    """The statuses a case went through, from draft to `status`."""
    road = list(MAIN_ROAD)
    if rng.random() < 0.3:  # records were asked for during triage
        road[3:3] = [S.AWAITING_RECORDS, S.TRIAGE]
    if rng.random() < 0.15:  # the first specialist declined
        i = road.index(S.OFFERED) + 1
        road[i:i] = [S.MATCHING, S.OFFERED]
    if status == S.DRAFT:
        return [S.DRAFT]
    if status == S.WITHDRAWN:
        if rng.random() < 0.2:  # a draft deleted before sending
            return [S.DRAFT, S.WITHDRAWN]
        return [*road[: rng.randint(2, road.index(S.IN_REVIEW) + 1)], S.WITHDRAWN]
    if status == S.CANCELLED:
        return [*road[: rng.randint(3, road.index(S.MATCHING) + 1)], S.CANCELLED]
    if status == S.AWAITING_RECORDS:
        return [S.DRAFT, S.SUBMITTED, S.TRIAGE, S.AWAITING_RECORDS]
    if status == S.CONSULTATION:
        return [*road[: road.index(S.IN_REVIEW) + 1], S.CONSULTATION]
    if status in (S.FOLLOW_UP, S.CLOSED):
        if status == S.FOLLOW_UP or rng.random() < 0.2:
            road += [S.FOLLOW_UP]
        if status == S.CLOSED:
            road += [S.DELIVERED, S.CLOSED] if road[-1] == S.FOLLOW_UP else [S.CLOSED]
        return road
    return road[: len(road) - road[::-1].index(status)]


def _plan_case(rng: random.Random, now: datetime.datetime, status: str, owner: int) -> PlannedCase:
    road = _road(status, rng)
    for move in pairwise(road):
        assert move in TRANSITIONS, move
    day = datetime.timedelta(days=1)
    if road == [S.DRAFT]:
        created = now - rng.uniform(0.01, 60) * day
        path = [(S.DRAFT, created)]
    else:
        if status in CLOSED_STATES:
            start = now - rng.uniform(8, 730) * day
            end = min(start + rng.uniform(1, 35) * day, now - 0.05 * day)
        else:  # open: further along the road means sent longer ago
            start = now - rng.uniform(0.02, 1.5 + 2.5 * len(road)) * day
            end = now
        # Drafts are written over minutes to days before they are sent.
        created = start - rng.uniform(0.01, 4) * day
        times = sorted(
            rng.uniform(start.timestamp(), end.timestamp()) for _ in range(len(road) - 2)
        )
        moments = [
            created,
            start,
            *(datetime.datetime.fromtimestamp(t, datetime.UTC) for t in times),
        ]
        if status in CLOSED_STATES:
            moments[-1] = end
        path = list(zip(road, moments, strict=True))
    sent = len(road) > 1 and road[1] == S.SUBMITTED
    if sent:
        done, in_progress = len(SECTIONS), False
    else:
        done = rng.randint(0, len(SECTIONS) - 1)
        in_progress = rng.random() < 0.5
    reasons_at = next(i for i, s in enumerate(SECTIONS) if s.key == "reasons")
    reached_reasons = done + in_progress > reasons_at
    return PlannedCase(
        owner=owner,
        status=status,
        path=path,
        scenario=rng.randrange(len(SCENARIOS)),
        sections_done=done,
        section_in_progress=in_progress,
        questions=rng.randint(1, 3) if reached_reasons else 0,
        urgent=sent and rng.random() < 0.15,
    )


def plan(load: Load) -> None:
    """Every case's status, owner and timeline, in memory; patients' names."""
    rng = load.rng
    patients = max(1, math.ceil(load.cases / 2))
    load.patient_names = [
        f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}" for _ in range(patients)
    ]
    statuses = [s for s, n in status_counts(load.cases).items() for _ in range(n)]
    rng.shuffle(statuses)
    load.planned = [
        _plan_case(rng, load.now, status, rng.randrange(patients)) for status in statuses
    ]
    # Inserted oldest first, so ids and references follow time as in real life.
    load.planned.sort(key=lambda c: c.created_at)


@contextmanager
def explicit_timestamps(*models):
    """bulk_create stamps auto_now/auto_now_add fields with the current time; a
    load has a past. Switch them off while it runs, and back on after."""
    fields = [
        f
        for m in models
        for f in m._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _insert(model, objects, batch: int = BATCH) -> int:
    """bulk_create an iterable in batches (never the whole load in memory)."""
    objects, made = iter(objects), 0
    while chunk := list(islice(objects, batch)):
        model.objects.bulk_create(chunk, batch_size=batch)
        made += len(chunk)
    return made


def _with_emails(users: list[User]) -> None:
    User.objects.bulk_create(users, batch_size=BATCH)
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        batch_size=BATCH,
    )


# --- The steps ------------------------------------------------------------------------
def coordinators(load: Load) -> str:
    now = load.now
    users = [
        User(
            email=f"coordinator-{load.first_coordinator + i:02d}@{LOAD_DOMAIN}",
            full_name=f"{load.rng.choice(FIRST_NAMES)} {load.rng.choice(LAST_NAMES)}, RN",
            role=Role.COORDINATOR,
            password=load.password_hash,
            date_joined=now - datetime.timedelta(days=800),
        )
        for i in range(COORDINATORS)
    ]
    _with_emails(users)
    for user in users:
        TOTP.activate(user, LOAD_TOTP_SECRET)
    load.coordinator_ids = [u.pk for u in users]
    return f"{len(users)} coordinators with TOTP"


def patients(load: Load) -> str:
    first_case = {}
    for case in load.planned:  # oldest first
        first_case.setdefault(case.owner, case.created_at)
    rng, oldest = load.rng, load.now - datetime.timedelta(days=740)

    def joined(n: int) -> datetime.datetime:
        # Shortly before their first request; whenever, for those who never made one.
        if n in first_case:
            return first_case[n] - rng.uniform(0.1, 3) * datetime.timedelta(hours=1)
        return oldest + rng.random() * (load.now - oldest)

    for start in range(0, len(load.patient_names), BATCH):
        users = [
            User(
                email=f"patient-{load.first_patient + n:06d}@{LOAD_DOMAIN}",
                full_name=name,
                role=Role.PATIENT,
                password=load.password_hash,
                date_joined=joined(n),
            )
            for n, name in enumerate(load.patient_names[start : start + BATCH], start)
        ]
        _with_emails(users)
        load.patient_ids += [u.pk for u in users]
    return f"{len(load.patient_ids)} patients with verified email addresses"


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

    return f"{_insert(CaseSection, rows())} section rows"


def questions(load: Load) -> str:
    def rows():
        for case in load.planned:
            texts = SCENARIOS[case.scenario][4]
            for position in range(1, min(case.questions, len(texts)) + 1):
                yield CaseQuestion(case_id=case.id, position=position, text=texts[position - 1])

    return f"{_insert(CaseQuestion, rows())} questions"


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

    return f"{_insert(CaseEvent, rows())} timeline events"


def reference_counters(load: Load) -> str:
    for year, last in load.references.items():
        ReferenceCounter.objects.update_or_create(year=year, defaults={"last": last})
    return "reference counters: " + ", ".join(f"{y} at {n}" for y, n in load.references.items())


# 1,000 at 100,000 cases; fewer for a small load (a test's).
SPECIALISTS_PER_CASE = 0.01
# Cases that have a specialist by now, and the one waiting for an answer.
ASSIGNED = (
    CaseStatus.IN_REVIEW,
    CaseStatus.CONSULTATION,
    CaseStatus.REPORT_READY,
    CaseStatus.DELIVERED,
    CaseStatus.FOLLOW_UP,
    CaseStatus.CLOSED,
)
HOSPITALS = [
    "University Hospital",
    "Medical Center",
    "Cancer Institute",
    "Heart Institute",
    "Clinic",
    "Regional Medical Center",
    "Children's Hospital",
]
CITIES = [
    "Lakeside",
    "Riverside",
    "Bayview",
    "Summit",
    "Cedar",
    "Harbor",
    "Maple",
    "Granite",
    "Pinecrest",
    "Fairview",
    "Northgate",
    "Westbrook",
]


def specialists(load: Load) -> str:
    """One specialist per hundred cases (TOTP like the coordinators), each with one to
    three specialties and their certifications, licences in two to six states,
    conditions, languages and modes; then the cases in review and after are
    assigned among them."""
    from secondop.us_states import USState
    from specialists.models import HeldCertification, Licence, SpecialistProfile

    rng, now = load.rng, load.now
    first = User.objects.filter(role=Role.SPECIALIST, email__endswith="@" + LOAD_DOMAIN).count()
    users = [
        User(
            email=f"specialist-{first + i + 1:04d}@{LOAD_DOMAIN}",
            full_name=f"Dr. {rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            role=Role.SPECIALIST,
            password=load.password_hash,
            date_joined=now - datetime.timedelta(days=rng.randint(30, 2000)),
        )
        for i in range(max(5, min(1000, round(load.cases * SPECIALISTS_PER_CASE))))
    ]
    _with_emails(users)
    for user in users:
        TOTP.activate(user, LOAD_TOTP_SECRET)
    choices = list(Specialty.objects.prefetch_related("certifications"))
    states = [s.value for s in USState]
    profiles = [
        SpecialistProfile(
            user=user,
            credential=rng.choice(["MD", "MD", "MD", "DO"]),
            title="MD",
            institution=f"{rng.choice(CITIES)} {rng.choice(HOSPITALS)}",
            languages=[
                "English",
                *rng.sample(
                    ["Spanish", "French", "Mandarin", "Arabic", "Portuguese", "Russian"],
                    rng.randint(0, 2),
                ),
            ],
            conditions=[],
            consultation_modes=rng.sample(["written", "video", "in_person"], rng.randint(1, 3)),
            accepting_cases=rng.random() > 0.1,
            max_open_cases=rng.randint(40, 80),
            turnaround_days=rng.randint(3, 10),
        )
        for user in users
    ]
    _insert(SpecialistProfile, profiles)
    # Licences are verified by an administrator (nine in ten; the rest wait), as
    # matching counts only verified ones.
    checker = User.objects.filter(role=Role.ADMIN).order_by(
        "pk"
    ).first() or User.objects.create_user(
        email=f"credentialing@{LOAD_DOMAIN}",
        full_name="Load Credentialing",
        role=Role.ADMIN,
        is_staff=True,
        password=None,
    )
    chosen, held, licences = [], [], []
    for profile in profiles:
        for specialty in rng.sample(choices, rng.randint(1, 3)):
            chosen.append(
                SpecialistProfile.specialties.through(
                    specialistprofile_id=profile.pk, specialty_id=specialty.pk
                )
            )
            certifications = list(specialty.certifications.all())
            if certifications:
                held.append(
                    HeldCertification(
                        profile=profile,
                        certification=rng.choice(certifications),
                        year=rng.randint(1995, 2024),
                    )
                )
        for state in rng.sample(states, rng.randint(2, 6)):
            verified = rng.random() < 0.9
            expires_on = datetime.date(rng.randint(2027, 2030), 6, 30)
            licences.append(
                Licence(
                    profile=profile,
                    state=state,
                    number=f"{state}{rng.randint(100000, 999999)}",
                    expires_on=expires_on,
                    verified_expires_on=expires_on if verified else None,
                    verification="verified" if verified else "unverified",
                    verified_by=checker if verified else None,
                    verified_at=now - datetime.timedelta(days=rng.randint(1, 400))
                    if verified
                    else None,
                    verification_source="state_board" if verified else "",
                )
            )
    _insert(SpecialistProfile.specialties.through, chosen)
    HeldCertification.objects.bulk_create(held, batch_size=BATCH, ignore_conflicts=True)
    _insert(Licence, licences)
    load.specialist_ids = [u.pk for u in users]
    assigned = list(
        Case.objects.filter(status__in=ASSIGNED, specialist__isnull=True).values_list(
            "pk", flat=True
        )
    )
    ids = load.specialist_ids
    for start in range(0, len(assigned), BATCH):
        chunk = [
            Case(pk=pk, specialist_id=ids[pk % len(ids)]) for pk in assigned[start : start + BATCH]
        ]
        Case.objects.bulk_update(chunk, ["specialist_id"], batch_size=BATCH)
    return (
        f"{len(users)} specialists, {len(licences)} licences, {len(held)} certifications; "
        f"{len(assigned)} cases assigned"
    )


def offers(load: Load) -> str:
    """An open offer for every case waiting for an answer, and the accepted one
    behind every assigned case."""
    from specialists.models import Offer, OfferStatus

    rng, now, ids = load.rng, load.now, load.specialist_ids
    coordinators = load.coordinator_ids

    def rows():
        # Only cases without offers: a second load (--force) adds to the first.
        waiting = Case.objects.filter(status=CaseStatus.OFFERED, offers__isnull=True).values_list(
            "pk", flat=True
        )
        for pk in waiting.iterator():
            yield Offer(
                case_id=pk,
                specialist_id=ids[pk % len(ids)],
                offered_by_id=rng.choice(coordinators),
                status=OfferStatus.OPEN,
                deadline=now + datetime.timedelta(hours=rng.randint(1, 47)),
            )
        taken = Case.objects.filter(status__in=ASSIGNED, offers__isnull=True).values_list(
            "pk", "specialist_id"
        )
        for pk, specialist in taken.iterator():
            yield Offer(
                case_id=pk,
                specialist_id=specialist,
                offered_by_id=rng.choice(coordinators),
                status=OfferStatus.ACCEPTED,
                conflict_attested=True,
                deadline=now,
                answered_at=now,
            )

    return f"{_insert(Offer, rows())} offers"


RECORDS_PER_CASE = 4  # 400,000 records at 100,000 cases
RECORD_TITLES = {
    "pathology": ["Core biopsy report", "Surgical pathology report", "Cytology report"],
    "labs": ["Blood count", "Metabolic panel", "Tumour markers", "Lipid panel"],
    "imaging": ["CT chest with contrast", "MRI brain", "PET-CT", "Mammogram report"],
    "records": ["Oncology clinic letter", "Discharge summary", "Referral letter"],
    "operative": ["Operative note"],
    "prior_opinion": ["Opinion from a university hospital"],
    "insurance_card": ["Insurance card, front and back"],
    "other": ["Medication list"],
}


def records(load: Load) -> str:
    """Medical records for every sent case: RECORDS_PER_CASE on average, mostly
    checked, a few rejected or still being checked, a study in one of five; and the
    open record request behind every case waiting for records. Rows only: no bytes
    are stored (pages list them; nothing here downloads one)."""
    import hashlib
    import uuid

    from records.models import State

    rng, now = load.rng, load.now
    sent = list(
        Case.objects.exclude(status=CaseStatus.DRAFT)
        .filter(records__isnull=True)
        .values_list("pk", "uuid", "owner_id", "submitted_at")
        .iterator()
    )
    if not sent:
        return "0 records"
    categories = list(RECORD_TITLES)
    weights = [5, 5, 4, 4, 1, 1, 1, 1]
    total = load.cases * RECORDS_PER_CASE
    made = files_made = 0
    for start in range(0, len(sent), 1000):
        chunk = sent[start : start + 1000]
        rows = []
        for index, (pk, case_uuid, owner, submitted) in enumerate(chunk, start=start):
            # Spread `total` over the sent cases: each gets its share, give or take.
            count = round(total * (index + 1) / len(sent)) - round(total * index / len(sent))
            for _ in range(count):
                category = rng.choices(categories, weights)[0]
                roll = rng.random()
                state = (
                    State.REJECTED
                    if roll < 0.03
                    else State.SCANNING
                    if roll < 0.05
                    else State.VERIFIED
                )
                when = (submitted or now) - datetime.timedelta(minutes=rng.randint(0, 5000))
                study = category == "imaging" and rng.random() < 0.5
                record_uuid = uuid.uuid4()
                rows.append(
                    (
                        case_uuid,
                        Record(
                            uuid=record_uuid,
                            case_id=pk,
                            uploaded_by_id=owner,
                            category=category,
                            title=rng.choice(RECORD_TITLES[category]),
                            service_date=(
                                when - datetime.timedelta(days=rng.randint(1, 200))
                            ).date(),
                            is_study=study,
                            state=state,
                            reason="malware" if state == State.REJECTED else "",
                            size=0
                            if state == State.REJECTED
                            else rng.randint(40_000, 900_000_000 if study else 8_000_000),
                            mime="" if study else "application/pdf",
                            sha256=hashlib.sha256(record_uuid.bytes).hexdigest(),
                            study={
                                "modalities": ["CT"],
                                "series_count": 3,
                                "instance_count": 412,
                                "studies": [],
                            }
                            if study and state == State.VERIFIED
                            else {},
                            slot_expires_at=when,
                            created_at=when,
                            uploaded_at=when,
                            checked_at=when if state != State.SCANNING else None,
                        ),
                    )
                )
        Record.objects.bulk_create([r for _, r in rows], batch_size=BATCH)
        file_rows = []
        for case_uuid, record in rows:
            for n in range(rng.randint(20, 60) if record.is_study else 1):
                file_uuid = uuid.uuid4()
                file_rows.append(
                    RecordFile(
                        uuid=file_uuid,
                        record_id=record.pk,
                        key=f"cases/{case_uuid}/records/{record.uuid}/{file_uuid}",
                        name=f"DICOM/IM{n:04d}" if record.is_study else "report.pdf",
                        size=max(record.size // 40, 1),
                        stored_size=max(record.size // 40, 1),
                        received_at=record.uploaded_at,
                        checked_at=record.checked_at,
                        kind="dicom" if record.is_study else "pdf",
                        mime=record.mime,
                    )
                )
        RecordFile.objects.bulk_create(file_rows, batch_size=BATCH)
        made += len(rows)
        files_made += len(file_rows)
    waiting = Case.objects.filter(
        status=CaseStatus.AWAITING_RECORDS, record_requests__isnull=True
    ).values_list("pk", "case_manager_id")
    asked = _insert(
        RecordRequest,
        (
            RecordRequest(
                case_id=pk,
                requested_by_id=manager or rng.choice(load.coordinator_ids),
                note=rng.choice(RECORDS_REASONS),
                return_to=CaseStatus.TRIAGE,
                created_at=now - datetime.timedelta(days=rng.randint(0, 10)),
            )
            for pk, manager in waiting.iterator()
        ),
    )
    return f"{made} records ({files_made} files), {asked} record requests"


# The coded opinions of loaded reports, in percent: near what the published
# studies found, which aftercare's concordance page shows beside them.
DIAGNOSIS_MIX = {"agrees": 20, "refined": 55, "different": 17, "undetermined": 8}
TREATMENT_MIX = {"agrees": 58, "changes": 30, "alternative": 12}
AMENDED = 0.03  # reports with a second, amended version released later
REPORT_TEXT = {
    "summary": "The records and imaging were reviewed in full. The findings are summarised "
    "below, with the reasoning behind each recommendation.",
    "recommendations": "Discuss the options below with your treating team before deciding.",
    "prognosis": "Good with treatment.",
    "follow_up": "Review with your own doctor in three months.",
}
FOLLOW_UP_QUESTIONS = [
    "Which tests should I have before deciding?",
    "Can I wait until after the summer?",
    "Is the alternative covered by my insurance?",
]


def reports(load: Load) -> str:
    """The signed, released report behind every delivered, followed-up and closed
    case, released when the case was delivered: its coded opinions (DIAGNOSIS_MIX,
    TREATMENT_MIX), an answer to each of the patient's questions, and for a few an
    amended second version that supersedes the first. Every case in follow-up has
    its open question. Rows only: no PDF is rendered or stored (pages list them;
    the concordance page counts them)."""
    import hashlib
    import uuid

    from django.db.models import Exists, Min, OuterRef, Q

    from requests_app.reports import codes

    rng = load.rng
    delivered_at = Min(
        "events__created_at",
        filter=Q(events__old_status=S.REPORT_READY, events__new_status=S.DELIVERED),
    )
    todo = list(
        Case.objects.filter(
            status__in=(S.DELIVERED, S.FOLLOW_UP, S.CLOSED), specialist__isnull=False
        )
        .exclude(Exists(Report.objects.filter(case=OuterRef("pk"))))
        .annotate(delivered_at=delivered_at)
        .filter(delivered_at__isnull=False)
        .values_list(
            "pk",
            "uuid",
            "status",
            "specialist_id",
            "case_manager_id",
            "owner_id",
            "diagnosis",
            "delivered_at",
            "updated_at",
        )
        .order_by("pk")
    )
    names = dict(User.objects.filter(role=Role.SPECIALIST).values_list("pk", "full_name"))
    made = amended = answered = asked = 0
    for start in range(0, len(todo), 2000):
        chunk = todo[start : start + 2000]
        questions: dict[int, list] = {}
        for question in CaseQuestion.objects.filter(case_id__in=[c[0] for c in chunk]):
            questions.setdefault(question.case_id, []).append(question)
        made_reports = Report.objects.bulk_create(
            [Report(case_id=c[0], created_at=c[7]) for c in chunk], batch_size=BATCH
        )
        versions, answers, follow_ups = [], [], []
        for report, (
            pk,
            case_uuid,
            status,
            specialist,
            manager,
            owner,
            diagnosis,
            released,
            last,
        ) in zip(made_reports, chunk, strict=True):
            times = [released]
            if rng.random() < AMENDED and released < last:  # amended before the last move
                times.append(
                    datetime.datetime.fromtimestamp(
                        rng.uniform(released.timestamp(), last.timestamp()), datetime.UTC
                    )
                )
            for number, at in enumerate(times, start=1):
                opinion = rng.choices(list(DIAGNOSIS_MIX), list(DIAGNOSIS_MIX.values()))[0]
                version_uuid = uuid.uuid4()
                signed = at - datetime.timedelta(hours=rng.uniform(1, 48))
                versions.append(
                    ReportVersion(
                        uuid=version_uuid,
                        report_id=report.pk,
                        number=number,
                        status="released",
                        author_id=specialist,
                        **REPORT_TEXT,
                        diagnosis_opinion=opinion,
                        diagnosis=diagnosis if opinion in ("refined", "different") else "",
                        treatment_opinion=rng.choices(
                            list(TREATMENT_MIX), list(TREATMENT_MIX.values())
                        )[0],
                        amendment_reason="A lab result arrived after signing."
                        if number == 2
                        else "",
                        signed_at=signed,
                        signer_name=names.get(specialist, ""),
                        verification_code=codes.new_code(),
                        pdf_key=f"cases/{case_uuid}/reports/{version_uuid}.pdf",
                        pdf_sha256=hashlib.sha256(version_uuid.bytes).hexdigest(),
                        pdf_size=rng.randint(80_000, 400_000),
                        pdf_stored_at=signed,
                        released_at=at,
                        released_by_id=manager or rng.choice(load.coordinator_ids),
                        superseded_at=times[-1] if number < len(times) else None,
                        created_at=signed - datetime.timedelta(hours=rng.uniform(1, 72)),
                        updated_at=at,
                    )
                )
            amended += len(times) > 1
            if status == S.FOLLOW_UP:
                follow_ups.append(
                    FollowUpQuestion(
                        case_id=pk,
                        position=1,
                        asked_by_id=owner,
                        asked_at=last,
                        text=rng.choice(FOLLOW_UP_QUESTIONS),
                    )
                )
        ReportVersion.objects.bulk_create(versions, batch_size=BATCH)
        by_report = {}
        for version in versions:
            by_report.setdefault(version.report_id, []).append(version)
        updates = []
        for first, *later in by_report.values():
            if later:
                first.superseded_by_id = later[0].pk
                updates.append(first)
        ReportVersion.objects.bulk_update(updates, ["superseded_by"], batch_size=BATCH)
        case_of = {report.pk: report.case_id for report in made_reports}
        for version in versions:
            for question in questions.get(case_of[version.report_id], []):
                answers.append(
                    ReportAnswer(
                        version_id=version.pk,
                        question_id=question.pk,
                        position=question.position,
                        question_text=question.text,
                        answer="Yes, with the conditions set out in the report.",
                    )
                )
        answered += _insert(ReportAnswer, answers)
        asked += _insert(FollowUpQuestion, follow_ups)
        made += len(made_reports)
    return (
        f"{made} reports ({amended} amended), {answered} answers, {asked} open follow-up questions"
    )


STEPS = [
    coordinators,
    patients,
    cases,
    sections,
    questions,
    events,
    reference_counters,
    specialists,
    offers,
    records,
    reports,
]
LOADED_MODELS = [
    User,
    EmailAddress,
    Case,
    CaseSection,
    CaseQuestion,
    CaseEvent,
    Record,
    RecordFile,
    RecordRequest,
    Report,
    ReportVersion,
    ReportAnswer,
    FollowUpQuestion,
]


class Command(BaseCommand):
    help = "Fill the database in bulk for benchmarks (patients, cases at every status, staff)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000)
        parser.add_argument("--seed", type=int, default=8, help="random seed (the same plan)")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run with DEBUG off, or add another set to a loaded database.",
        )
        parser.add_argument(
            "--only",
            default="",
            help="Comma-separated steps to run on a loaded database, e.g. "
            "'specialists,offers' after an upgrade adds them.",
        )

    def handle(self, *args, cases, seed, force, only="", **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_load publishes a password and a TOTP secret; "
                "it runs only with DEBUG on (or --force)."
            )
        steps = STEPS
        if only:
            named = {step.__name__: step for step in STEPS}
            unknown = set(only.split(",")) - set(named)
            if unknown:
                raise CommandError(f"No such step: {', '.join(sorted(unknown))}.")
            steps = [named[name] for name in only.split(",")]
        loaded = User.objects.filter(email__endswith="@" + LOAD_DOMAIN)
        if loaded.exists() and not force and not only:
            raise CommandError(
                f"This database already has load data ({loaded.count()} "
                "accounts); --force adds another set."
            )
        if cases < 1:
            raise CommandError("--cases must be at least 1.")
        started = time.perf_counter()
        load = Load(
            cases=cases,
            rng=random.Random(seed),
            now=timezone.now(),
            password_hash=make_password(LOAD_PASSWORD),  # once: hashing is slow on purpose
            first_patient=loaded.filter(role=Role.PATIENT).count() + 1,
            first_coordinator=loaded.filter(role=Role.COORDINATOR).count() + 1,
        )
        plan(load)
        self.stdout.write(
            f"  plan: {cases} cases for {len(load.patient_names)} patients "
            f"({time.perf_counter() - started:.1f} s)"
        )
        with transaction.atomic(), explicit_timestamps(*LOADED_MODELS):
            if only:  # the later steps read what the earlier ones made
                load.coordinator_ids = list(
                    loaded.filter(role=Role.COORDINATOR).values_list("pk", flat=True)
                )
                load.specialist_ids = list(
                    loaded.filter(role=Role.SPECIALIST).values_list("pk", flat=True)
                )
            for step in steps:
                step_started = time.perf_counter()
                summary = step(load)
                self.stdout.write(
                    f"  {step.__name__}: {summary} ({time.perf_counter() - step_started:.1f} s)"
                )
        self._analyze()
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {cases} cases in {time.perf_counter() - started:.1f} s. Every load account "
                f"(patient-NNNNNN@{LOAD_DOMAIN}, coordinator-NN@{LOAD_DOMAIN}) signs in with "
                f"{LOAD_PASSWORD}; coordinators' TOTP secret: {LOAD_TOTP_SECRET}"
            )
        )

    def _analyze(self) -> None:
        """Fresh planner statistics (and, outside a transaction, the visibility map
        that index-only scans need): the steady state autovacuum would reach later."""
        if connection.vendor != "postgresql":
            return
        started = time.perf_counter()
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for model in LOADED_MODELS:
                cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(f"  {command.lower()}: {time.perf_counter() - started:.1f} s")
