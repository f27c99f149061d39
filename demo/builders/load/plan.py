"""The load's plan, in memory: every case's status, owner and timeline (a path
of moves the workflow allows), and the patients' names."""

import datetime
import math
import random
from dataclasses import dataclass, field
from itertools import pairwise

from demo.data.load import (
    FIRST_NAMES,
    LAST_NAMES,
    MAIN_ROAD,
    SCENARIOS,
    STATUS_MIX,
)
from requests_app.models import (
    CLOSED_STATES,
    CaseStatus,
)
from requests_app.sections import SECTIONS
from requests_app.workflow import TRANSITIONS

S = CaseStatus


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
