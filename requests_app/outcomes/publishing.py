"""What the public outcomes page may show: counts by specialty and by quarter,
with the small-cell suppression of requests_app.aftercare.suppression (reused
through aftercare.selectors.protected_figures, the concordance page's own).

- A row (a specialty, a period) has 11 cases or more: specialties with fewer
  go together into one row ("other specialties"); quarters with fewer join the
  next ones into a longer period (a period is never shorter than a quarter).
  With fewer than 11 cases in all, nothing is shown.
- Inside the table, no count from 1 to 10 is shown ("fewer than 11"), and
  partners are hidden with it so that none can be worked out from the shown
  row totals, column totals and grand total (suppression.protect).
- Medians and 90th percentiles are only given for rows of 11 or more."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.utils.translation import gettext as _

from requests_app.aftercare.selectors import (
    DIAGNOSIS_COLUMNS,
    TREATMENT_COLUMNS,
    Figure,
    protected_figures,
)
from requests_app.aftercare.suppression import THRESHOLD
from requests_app.reports.models import DiagnosisOpinion, TreatmentOpinion

from .models import TreatmentChange
from .selectors import (
    OUTCOME_COLUMNS,
    SURE_COLUMNS,
    Delivered,
    Quarter,
    median,
    percentile,
)

T = TypeVar("T")


@dataclass
class Group:
    label: str
    members: list[Delivered]
    note: str = ""


@dataclass
class TableRow:
    label: str
    total: int
    cells: list[Figure] = field(default_factory=list)
    median_days: float | None = None
    p90_days: float | None = None
    note: str = ""


@dataclass
class Table:
    """One published table: its rows (each 11 or more), the total row, or
    nothing at all (`too_few`) when there are fewer than 11 cases in all."""

    columns: list[str]
    rows: list[TableRow]
    total: TableRow | None
    cases: int
    too_few: bool = False

    @property
    def any_hidden(self) -> bool:
        rows = [*self.rows, *([self.total] if self.total else [])]
        return any(not f.shown for row in rows for f in row.cells)


def by_specialty(facts: Sequence[Delivered]) -> list[Group]:
    """Rows by specialty, biggest first; those under 11 together, joined by the
    smallest named ones until that row is 11 or more. One row only: none (the
    total row says it all)."""
    groups: dict[str, list[Delivered]] = {}
    for fact in facts:
        groups.setdefault(fact.specialty, []).append(fact)
    named = sorted(
        (Group(k, v) for k, v in groups.items() if len(v) >= THRESHOLD),
        key=lambda g: (-len(g.members), g.label),
    )
    small = [m for v in groups.values() if len(v) < THRESHOLD for m in v]
    merged = sum(1 for v in groups.values() if len(v) < THRESHOLD)
    if not small:
        return named if len(named) > 1 else []
    while len(small) < THRESHOLD and named:
        small += named.pop().members
        merged += 1
    if not named:
        return []
    label = (
        _("Other specialties (%(n)s, each with fewer than 11 cases)") % {"n": merged}
        if merged > 1
        else _("One other specialty")
    )
    return [*named, Group(label, small)]


def by_quarter(facts: Sequence[Delivered]) -> list[Group]:
    """Rows by quarter of delivery, oldest first; a quarter under 11 joins the
    following ones (the last, the one before) into a longer period."""
    quarters: dict[Quarter, list[Delivered]] = {}
    for fact in facts:
        quarters.setdefault(fact.quarter, []).append(fact)
    periods: list[tuple[list[Quarter], list[Delivered]]] = []
    pending: tuple[list[Quarter], list[Delivered]] = ([], [])
    for quarter in sorted(quarters, key=lambda q: (q.year, q.number)):
        pending[0].append(quarter)
        pending[1].extend(quarters[quarter])
        if len(pending[1]) >= THRESHOLD:
            periods.append(pending)
            pending = ([], [])
    if pending[0]:
        if not periods:
            return []
        periods[-1][0].extend(pending[0])
        periods[-1][1].extend(pending[1])
    if len(periods) < 2:
        return []
    groups = []
    for span, members in periods:
        label = str(span[0]) if len(span) == 1 else f"{span[0]} to {span[-1]}"
        groups.append(Group(label, members))
    return groups


def count_table(
    facts: Sequence[Delivered],
    rows: Callable[[Sequence[Delivered]], list[Group]],
    columns: Sequence[Hashable],
    value: Callable[[Delivered], Hashable | None],
    labels: Sequence[str],
) -> Table:
    """Counts of `value` (None: not counted) in `columns`, a row per group."""
    counted = [f for f in facts if value(f) is not None]
    if len(counted) < THRESHOLD:
        return Table(list(labels), [], None, len(counted), too_few=True)
    groups = rows(counted)
    table = groups or [Group("", counted)]
    counts = [[sum(1 for m in g.members if value(m) == c) for c in columns] for g in table]
    totals = [len(g.members) for g in table]
    cells, total_cells, _whole = protected_figures(counts, totals, len(counted))
    return Table(
        list(labels),
        [TableRow(g.label, len(g.members), cells[i]) for i, g in enumerate(groups)],
        TableRow(_("All"), len(counted), total_cells),
        len(counted),
    )


def turnaround_table(
    facts: Sequence[Delivered], rows: Callable[[Sequence[Delivered]], list[Group]]
) -> Table:
    """Median and 90th percentile of days from sending to delivery, a row per group."""
    if len(facts) < THRESHOLD:
        return Table([], [], None, len(facts), too_few=True)

    def row(label: str, members: Sequence[Delivered]) -> TableRow:
        days = [m.days for m in members]
        return TableRow(label, len(days), median_days=median(days), p90_days=percentile(days, 0.9))

    return Table(
        [],
        [row(g.label, g.members) for g in rows(facts)],
        row(_("All"), facts),
        len(facts),
    )


@dataclass(frozen=True)
class Share:
    """A headline share: a count and its percent, or None where not shown."""

    count: int | None
    of: int
    percent: float | None

    @property
    def shown(self) -> bool:
        return self.count is not None


def combined(table: Table, columns: Sequence[int]) -> Share | None:
    """The sum of some of the total row's columns, as a share of all: only when
    every part is shown (a sum of hidden parts could give one away)."""
    if table.too_few or table.total is None:
        return None
    parts = [table.total.cells[c].count for c in columns]
    if any(p is None for p in parts):
        return Share(None, table.total.total, None)
    count = sum(p for p in parts if p is not None)
    return Share(count, table.total.total, round(100 * count / table.total.total, 1))


def headline(tables: dict[str, Table]) -> dict[str, Share | None]:
    """The figures set beside the published ones, from the total rows."""
    return {
        "diagnosis_different": combined(
            tables["diagnosis"], [DIAGNOSIS_COLUMNS.index(DiagnosisOpinion.DIFFERENT)]
        ),
        "treatment_changed": combined(
            tables["treatment"],
            [
                TREATMENT_COLUMNS.index(TreatmentOpinion.CHANGES),
                TREATMENT_COLUMNS.index(TreatmentOpinion.ALTERNATIVE),
            ],
        ),
        "sure_before": combined(
            tables["sure"], [SURE_COLUMNS.index((False, False)), SURE_COLUMNS.index((False, True))]
        ),
        "sure_after": combined(
            tables["sure"], [SURE_COLUMNS.index((True, False)), SURE_COLUMNS.index((False, False))]
        ),
        "followed": combined(
            tables["outcome"], [OUTCOME_COLUMNS.index(TreatmentChange.AS_ADVISED)]
        ),
        "changed_any": combined(
            tables["outcome"],
            [
                OUTCOME_COLUMNS.index(TreatmentChange.AS_ADVISED),
                OUTCOME_COLUMNS.index(TreatmentChange.OTHERWISE),
            ],
        ),
    }
