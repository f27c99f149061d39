"""The public page's tables (requests_app.outcomes.publishing) keep the promise
of small-cell suppression, over random data (hypothesis): every shown row and
count is 0 or 11 and more, and no hidden count can be worked out from what is
shown: for each, another table shows exactly the same and differs in it (the
check of tests/aftercare/test_suppression.py, reused)."""

import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from requests_app.aftercare.suppression import THRESHOLD
from requests_app.outcomes import publishing
from requests_app.outcomes.selectors import OUTCOME_COLUMNS, Delivered, Quarter
from tests.aftercare.test_suppression import alternative

FEWER, HIDDEN = "fewer than 11", "hidden"


@st.composite
def facts(draw):
    specialties = draw(st.integers(1, 4))
    quarters = [Quarter(2026, q) for q in range(1, draw(st.integers(1, 4)) + 1)]
    result = []
    for s in range(specialties):
        for quarter in quarters:
            for column in (*OUTCOME_COLUMNS, ""):
                n = draw(st.one_of(st.integers(0, 4), st.integers(0, 25)))
                result += [
                    Delivered(
                        specialty=f"Specialty {s}",
                        quarter=quarter,
                        days=float(n),
                        sure=None,
                        outcome=column,
                    )
                ] * n
    return result


def read(table: publishing.Table) -> tuple[dict, list[str]]:
    """The table as a reader sees it, in the shape test_suppression reads."""

    def cell(figure):
        return figure.count if figure.shown else figure.label

    return {
        "rows": [(row.total, [cell(f) for f in row.cells]) for row in table.rows],
        "total": [cell(f) for f in table.total.cells],
        "grand": table.total.total,
    }, [row.label for row in table.rows]


def truth(counted, members_of, value) -> dict:
    """The true count of every cell: the rows shown, then the total row."""
    grid = {}
    for r, members in enumerate(members_of):
        for c, column in enumerate(OUTCOME_COLUMNS):
            grid[(r, c)] = sum(1 for m in members if value(m) == column)
    for c, column in enumerate(OUTCOME_COLUMNS):
        grid[(len(members_of), c)] = sum(1 for m in counted if value(m) == column)
    return grid


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts(), st.sampled_from(["specialty", "quarter"]))
def test_no_small_count_is_shown_and_none_can_be_worked_out(data, rows_by):
    rows = publishing.by_specialty if rows_by == "specialty" else publishing.by_quarter
    value = lambda f: f.outcome or None  # noqa: E731
    table = publishing.count_table(data, rows, OUTCOME_COLUMNS, value, list(OUTCOME_COLUMNS))
    counted = [f for f in data if value(f) is not None]
    if len(counted) < THRESHOLD:
        assert table.too_few and not table.rows and table.total is None
        return
    # Every row shown is 11 or more; every count shown is 0 or 11 or more.
    assert all(row.total >= THRESHOLD for row in table.rows)
    shown = [f.count for row in [*table.rows, table.total] for f in row.cells if f.shown]
    assert all(n == 0 or n >= THRESHOLD for n in shown)
    assert sum(row.total for row in table.rows) in (0, table.total.total)
    # No hidden count can be recovered: another table shows the same, differing in it.
    seen, _labels = read(table)
    groups = rows(counted)
    members = [g.members for g in groups]
    grid = truth(counted, members, value)
    assert [g.label for g in groups] == _labels
    for (r, c), v in grid.items():
        figure = (table.total if r == len(members) else table.rows[r]).cells[c]
        if figure.shown:
            assert figure.count == v
        else:
            assert alternative(seen, grid, (r, c)) is not None, ((r, c), seen)


def test_a_quarter_under_11_joins_the_next():
    day = 3.0
    data = [Delivered("A", Quarter(2026, 1), day, None, "unchanged")] * 5
    data += [Delivered("A", Quarter(2026, 2), day, None, "unchanged")] * 8
    data += [Delivered("A", Quarter(2026, 3), day, None, "deciding")] * 12
    groups = publishing.by_quarter(data)
    assert [(g.label, len(g.members)) for g in groups] == [
        ("2026 Q1 to 2026 Q2", 13),
        ("2026 Q3", 12),
    ]
    assert str(Quarter.of(datetime.datetime(2026, 5, 1, tzinfo=datetime.UTC))) == "2026 Q2"
