"""A year of past second opinions for the public outcomes page (issue 21): closed
requests of past patients, each with its released report's coded opinions, the
patient's SURE answers before and after, and their answer to the 90-day
question, so that /outcomes/ shows real figures (and its suppression) on the
demo. Rows only, like the load data: no PDF, no record, no message. The past
patients cannot sign in (no usable password); they never appear to the demo
accounts."""

from __future__ import annotations

import datetime
import hashlib
import random
import uuid

from django.db import transaction
from django.utils import timezone

from demo.data.load import REPORT_TEXT
from requests_app.models import Case, CaseEvent, CaseStatus
from requests_app.outcomes.models import Moment, SureAnswer, TreatmentOutcome
from requests_app.reports import codes
from requests_app.reports.models import Report, ReportVersion
from secondop.accounts.models import Role, User
from specialists.models import Specialty

PAST_DOMAIN = "past.demo.secondop.test"
# (specialty slug, the specialist's demo email, cases a quarter): oncology and
# neurology are big enough to show; cardiology and orthopedics are not, and are
# counted together. About 280 a year: enough that every total the page sets beside
# the published figures has 11 or more in each of its parts (the rarest, "changed
# otherwise" at 8% of the 70% who answer, is about 16), so the headline shows
# real figures while suppression still hides the small cells of the rows (no
# threshold is lowered for the demo).
COHORT = (
    ("oncology", "oncologist@demo.secondop.test", 40),
    ("neurology", "neurologist@demo.secondop.test", 24),
    ("cardiology", "cardiologist@demo.secondop.test", 3),
    ("orthopedics", "orthopedist@demo.secondop.test", 2),
)
QUARTERS = 4  # the four quarters before this one
DIAGNOSIS_MIX = {"agrees": 30, "refined": 42, "different": 20, "undetermined": 8}
TREATMENT_MIX = {"agrees": 58, "changes": 30, "alternative": 12}
OUTCOME_MIX = {"unchanged": 40, "as_advised": 42, "otherwise": 8, "deciding": 10}


def _pick(rng: random.Random, mix: dict[str, int]) -> str:
    return rng.choices(list(mix), list(mix.values()))[0]


def _quarter_start(day: datetime.date, back: int) -> datetime.date:
    index = day.year * 4 + (day.month - 1) // 3 - back
    return datetime.date(index // 4, index % 4 * 3 + 1, 1)


@transaction.atomic
def past_opinions(coordinator: User) -> int:
    """Make the cohort once (nothing if its patients exist). Returns cases made."""
    if User.objects.filter(email__endswith="@" + PAST_DOMAIN).exists():
        return 0
    rng = random.Random(21)
    today = timezone.localdate()
    made = 0
    for slug, email, per_quarter in COHORT:
        specialist = User.objects.get(email=email)
        specialty = Specialty.objects.get(slug=slug)
        for back in range(QUARTERS, 0, -1):
            start = _quarter_start(today, back)
            for _n in range(per_quarter + rng.randint(-1, 2)):
                made += 1
                delivered = timezone.make_aware(
                    datetime.datetime.combine(
                        start + datetime.timedelta(days=rng.randint(0, 88)), datetime.time(10)
                    )
                ) + datetime.timedelta(minutes=rng.randint(0, 480))
                _case(rng, made, specialty, specialist, coordinator, delivered)
    return made


def _case(rng, n, specialty, specialist, coordinator, delivered) -> None:
    owner = User.objects.create_user(
        email=f"past-{n:03d}@{PAST_DOMAIN}",
        password=None,
        full_name=f"Past patient {n}",
        role=Role.PATIENT,
    )
    submitted = delivered - datetime.timedelta(days=rng.triangular(4, 28, 9))
    closed = delivered + datetime.timedelta(days=30)
    case = Case.objects.create(
        owner=owner,
        status=CaseStatus.CLOSED,
        reference=f"SO-{submitted.year}-7{n:05d}",
        specialty=specialty,
        specialist=specialist,
        case_manager=coordinator,
        patient_name=owner.full_name,
        diagnosis="Past case (demo)",
        submitted_at=submitted,
        due_at=submitted + datetime.timedelta(days=14),
        closed_at=closed,
    )
    for old, new, at in (
        (CaseStatus.DRAFT, CaseStatus.SUBMITTED, submitted),
        (CaseStatus.REPORT_READY, CaseStatus.DELIVERED, delivered),
        (CaseStatus.DELIVERED, CaseStatus.CLOSED, closed),
    ):
        event = CaseEvent.objects.create(case=case, old_status=old, new_status=new)
        CaseEvent.objects.filter(pk=event.pk).update(created_at=at)
    report = Report.objects.create(case=case)
    version_uuid = uuid.uuid4()
    ReportVersion.objects.create(
        uuid=version_uuid,
        report=report,
        number=1,
        status="released",
        author=specialist,
        **REPORT_TEXT,
        diagnosis_opinion=_pick(rng, DIAGNOSIS_MIX),
        treatment_opinion=_pick(rng, TREATMENT_MIX),
        signed_at=delivered - datetime.timedelta(hours=20),
        signer_name=specialist.full_name,
        verification_code=codes.new_code(),
        pdf_key=f"cases/{case.uuid}/reports/{version_uuid}.pdf",
        pdf_sha256=hashlib.sha256(version_uuid.bytes).hexdigest(),
        pdf_size=120_000,
        pdf_stored_at=delivered - datetime.timedelta(hours=20),
        released_at=delivered,
        released_by=coordinator,
    )
    # SURE: most answer when sending; fewer after; a few skip. Confidence tends to
    # rise: about 3 in 10 are sure before (all four "yes"), about 2 in 3 after.
    before = _sure(rng, case, owner, Moment.BEFORE, submitted, sure=0.3, answers=0.85)
    if before is not None:
        _sure(rng, case, owner, Moment.AFTER, delivered, sure=0.65, answers=0.75)
    TreatmentOutcome.objects.create(
        case=case,
        asked_at=delivered + datetime.timedelta(days=90),
        answer=_pick(rng, OUTCOME_MIX) if rng.random() < 0.7 else "",
        answered_at=delivered + datetime.timedelta(days=92),
    )


def _sure(rng, case, owner, moment, at, *, sure: float, answers: float) -> SureAnswer | None:
    """A patient's four answers go together (one who is sure answers "yes" to all
    four), as they do in the SURE studies: drawn each on its own, a score of 4 would
    be all but impossible."""
    roll = rng.random()
    if roll > answers + 0.05:
        return None
    if roll > answers:
        return SureAnswer.objects.create(
            case=case, moment=moment, answered_by=owner, skipped=True, answered_at=at
        )
    keys = ("sure", "understand", "risk_benefit", "encouragement")
    if rng.random() < sure:
        values = dict.fromkeys(keys, True)
    else:  # not sure: at least one "no"
        values = {k: rng.random() < 0.5 for k in keys}
        if all(values.values()):
            values[rng.choice(keys)] = False
    return SureAnswer.objects.create(
        case=case,
        moment=moment,
        answered_by=owner,
        score=sum(values.values()),
        answered_at=at,
        **values,
    )
