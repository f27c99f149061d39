"""Reads for the outcomes. A case comes through requests_app.access first (the
one visibility rule); the figures are counts over all cases, never one case."""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from requests_app.models import Case, CaseEvent, CaseStatus
from requests_app.reports.models import ReportVersion, VersionStatus

from .models import Moment, SureAnswer, TreatmentChange, TreatmentOutcome

# A report has reached the patient in these states (and stays so when it closes).
DELIVERED_STATES = (CaseStatus.DELIVERED, CaseStatus.FOLLOW_UP, CaseStatus.CLOSED)


def _delivered_at() -> Subquery:
    """When the case was first delivered (its first move to 'delivered')."""
    return Subquery(
        CaseEvent.objects.filter(case=OuterRef("pk"), new_status=CaseStatus.DELIVERED)
        .order_by("created_at")
        .values("created_at")[:1],
        output_field=DateTimeField(),
    )


def delivered_cases(**filters: object) -> QuerySet[Case]:
    """Cases whose report reached the patient, with `delivered_at` annotated;
    `filters` may name it."""
    return (
        Case.objects.filter(status__in=DELIVERED_STATES)
        .annotate(delivered_at=_delivered_at())
        .filter(delivered_at__isnull=False, **filters)
    )


def sure_open(*, case: Case, moment: str) -> bool:
    """May the SURE questions of this moment be answered now? Before: once the
    request is sent and until the report is delivered. After: once it is."""
    if moment == Moment.BEFORE:
        return case.submitted_at is not None and case.status not in (
            CaseStatus.DRAFT,
            CaseStatus.WITHDRAWN,
            CaseStatus.CANCELLED,
            *DELIVERED_STATES,
        )
    return case.status in DELIVERED_STATES


@dataclass(frozen=True)
class SureState:
    """What the patient's page shows of their SURE answers for one case."""

    before: SureAnswer | None
    after: SureAnswer | None

    @property
    def change(self) -> tuple[int, int] | None:
        """(before, after) scores when both were answered."""
        if self.before and self.after and not self.before.skipped and not self.after.skipped:
            assert self.before.score is not None and self.after.score is not None
            return self.before.score, self.after.score
        return None

    def answered(self, moment: str) -> SureAnswer | None:
        return self.before if moment == Moment.BEFORE else self.after


def sure_state(*, case: Case) -> SureState:
    rows = {row.moment: row for row in SureAnswer.objects.filter(case=case)}
    return SureState(before=rows.get(Moment.BEFORE), after=rows.get(Moment.AFTER))


def treatment_outcome(*, case: Case) -> TreatmentOutcome | None:
    return TreatmentOutcome.objects.filter(case=case).first()


def cases_due_for_outcome(*, before: datetime.datetime) -> list[int]:
    """Ids of delivered cases (not withdrawn or cancelled) first delivered before
    `before` that were never asked the 90-day question."""
    return list(
        delivered_cases(delivered_at__lt=before, treatment_outcome__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- The figures: counts by specialty and by quarter ---------------------------------------------
NO_SPECIALTY = "Specialty not given"


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @classmethod
    def of(cls, when: datetime.datetime) -> Quarter:
        local = timezone.localtime(when)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year} Q{self.number}"


@dataclass(frozen=True)
class Delivered:
    """One delivered case as the figures count it: no reference, no person."""

    specialty: str
    quarter: Quarter
    days: float  # from sending to delivery
    sure: tuple[bool, bool] | None  # (conflict before, conflict after), both answered
    outcome: str  # TreatmentChange value, "" when not answered
    diagnosis: str | None = None  # the released report's coded opinions ("": none)
    treatment: str | None = None
    # A third opinion (requests_app.reports.third_opinion): counted apart, so that
    # the second opinions' concordance is the second opinions' alone.
    third_opinion: bool = False


def delivered_facts() -> list[Delivered]:
    """Every delivered case's countable facts, in three queries."""
    fields = ("pk", "specialty__name", "submitted_at", "parent_id", "delivered_at")
    cases = list(delivered_cases(submitted_at__isnull=False).values(*fields))
    ids = [c["pk"] for c in cases]
    scores: dict[int, dict[str, int]] = {}
    for row in SureAnswer.objects.filter(case_id__in=ids, skipped=False).values(
        "case_id", "moment", "score"
    ):
        scores.setdefault(row["case_id"], {})[row["moment"]] = row["score"] or 0
    outcomes = dict(
        TreatmentOutcome.objects.filter(case_id__in=ids)
        .exclude(answer="")
        .values_list("case_id", "answer")
    )
    opinions = {
        row["report__case_id"]: (row["diagnosis_opinion"], row["treatment_opinion"])
        for row in ReportVersion.objects.filter(
            report__case_id__in=ids, status=VersionStatus.RELEASED, superseded_at__isnull=True
        ).values("report__case_id", "diagnosis_opinion", "treatment_opinion")
    }
    facts = []
    for c in cases:
        diagnosis, treatment = opinions.get(c["pk"], (None, None))
        mine = scores.get(c["pk"], {})
        sure = None
        if Moment.BEFORE in mine and Moment.AFTER in mine:
            sure = (mine[Moment.BEFORE] < 4, mine[Moment.AFTER] < 4)
        facts.append(
            Delivered(
                specialty=c["specialty__name"] or _(NO_SPECIALTY),
                quarter=Quarter.of(c["delivered_at"]),
                days=(c["delivered_at"] - c["submitted_at"]).total_seconds() / 86400,
                sure=sure,
                outcome=outcomes.get(c["pk"], ""),
                diagnosis=diagnosis,
                treatment=treatment,
                third_opinion=c["parent_id"] is not None,
            )
        )
    return facts


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.5: the median, 0.9: the 90th)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


# The SURE change, as the figures count it: (conflict before, conflict after).
SURE_COLUMNS = ((True, False), (True, True), (False, False), (False, True))
OUTCOME_COLUMNS = tuple(TreatmentChange.values)
