"""requests_app.aftercare.suppression and the concordance figures it protects:
no count from 1 to 10 is shown, and none can be worked out from what is shown.

The property test draws random concordance tables (hypothesis), publishes them
as the page does, reads back only what the CSV shows, and for every hidden count
builds another table that shows exactly the same (every shown count, every
row's and the grand total, every label's bounds: "fewer than 11" is 1 to 10,
"hidden" 11 or more, or anything when a whole table is hidden) and differs in
that count. A reader of the figures cannot tell the two apart, so the hidden
count cannot be recovered by subtraction or by any other reasoning on the
shown figures."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from requests_app.aftercare import selectors, views
from requests_app.aftercare.selectors import DIAGNOSIS_COLUMNS, TREATMENT_COLUMNS, ConcordanceRow
from requests_app.aftercare.suppression import protect, protect_row

FEWER, HIDDEN = "fewer than 11", "hidden"


# --- Reading back only what is published ------------------------------------------------
def published_csv(rows: list[ConcordanceRow]) -> list[list[str]]:
    ordered = sorted(rows, key=lambda r: (-r.total, r.specialty))
    total = ConcordanceRow(specialty="All specialties")
    for row in ordered:
        total.add(row)
    figures = selectors.concordance_published(ordered, total)
    response = views._concordance_csv(figures, {})
    return list(csv.reader(io.StringIO(response.content.decode())))


def tables_from(lines: list[list[str]]) -> list[dict]:
    """The two tables (diagnosis, treatment) as a reader sees them: each row's total
    and cells (an int, or a label), the total row's cells, the grand total."""
    header, body = lines[0], lines[1:]
    tables = []
    for kind, columns in (("diagnosis", DIAGNOSIS_COLUMNS), ("treatment", TREATMENT_COLUMNS)):
        names = [f"{kind}_{c or 'not_recorded'}" for c in columns]
        places = [header.index(name) for name in names]

        def read(line, places=places):
            return [int(line[p]) if line[p].isdigit() else line[p] for p in places]

        tables.append(
            {
                "rows": [(int(line[1]), read(line)) for line in body[:-1]],
                "total": read(body[-1]),
                "grand": int(body[-1][1]),
                "percents": [(line[p], line[p + 1]) for line in body for p in places],
            }
        )
    return tables


def bounds(table: dict) -> tuple[int, float]:
    """What a reader knows of a hidden count from its label."""
    cells = [v for _t, row in table["rows"] for v in row] + table["total"]
    if all(v == HIDDEN for v in cells):  # a whole table hidden: anything
        return {HIDDEN: (0, float("inf"))}
    return {FEWER: (1, 10), HIDDEN: (11, float("inf"))}


# --- Another table that shows the same ----------------------------------------------------
def consistent(table: dict, values: dict, limits: dict) -> bool:
    """Do `values` (every cell, hidden ones included) show exactly `table`?"""
    rows, width = table["rows"], len(table["total"])
    for r, (row_total, _row) in enumerate(rows):
        if sum(values[(r, c)] for c in range(width)) != row_total:
            return False
    R = len(rows)
    if sum(values[(R, c)] for c in range(width)) != table["grand"]:
        return False
    if rows and any(sum(values[(r, c)] for r in range(R)) != values[(R, c)] for c in range(width)):
        return False
    for cell, value in values.items():
        r, c = cell
        shown = table["total"][c] if r == R else rows[r][1][c]
        if isinstance(shown, int):
            if value != shown:
                return False
        else:
            low, high = limits[shown]
            if not low <= value <= high:
                return False
    return True


def alternative(table: dict, truth: dict, target) -> dict | None:
    """A table showing the same as `table` whose `target` count differs from the
    truth: moves of one along a cycle of hidden cells (or, with no row shown,
    between two hidden counts of the total row)."""
    limits = bounds(table)
    R = len(table["rows"])
    hidden = [
        cell
        for cell in truth
        if not isinstance(
            (table["total"][cell[1]] if cell[0] == R else table["rows"][cell[0]][1][cell[1]]), int
        )
    ]

    def attempt(changes: dict) -> dict | None:
        for sign in (1, -1):
            values = dict(truth)
            for cell, step in changes.items():
                values[cell] += sign * step
            if values[target] != truth[target] and consistent(table, values, limits):
                return values
        return None

    if not table["rows"]:
        for other in hidden:
            if other != target and (found := attempt({target: 1, other: -1})):
                return found
        return None
    # Cycles through the target: row node, column node, ... (cells as edges).
    edges: dict = {}
    for cell in hidden:
        edges.setdefault(("r", cell[0]), []).append((("c", cell[1]), cell))
        edges.setdefault(("c", cell[1]), []).append((("r", cell[0]), cell))
    start, goal = ("r", target[0]), ("c", target[1])
    found = None

    def walk(node, path_cells, seen):
        nonlocal found
        if found or len(path_cells) > 12:
            return
        if node == goal:
            cycle = [target, *path_cells]
            # y = x on shown rows, -x on the total row: alternate +1/-1 in y.
            changes = {}
            for i, cell in enumerate(cycle):
                step = 1 if i % 2 == 0 else -1
                changes[cell] = -step if cell[0] == R else step
            found = attempt(changes)
            return
        for following, cell in edges.get(node, []):
            if cell != target and following not in seen:
                walk(following, [*path_cells, cell], seen | {following})

    walk(start, [], {start})
    return found


# --- The property ---------------------------------------------------------------------------
def small_or_large():
    return st.one_of(st.integers(0, 12), st.integers(0, 45))


@st.composite
def concordance_rows(draw):
    specialties = draw(st.integers(1, 5))
    rows = []
    for n in range(specialties):
        row = ConcordanceRow(specialty=f"Specialty {n}")
        treatment_left = 0
        for column in DIAGNOSIS_COLUMNS:
            count = draw(small_or_large()) if column else draw(st.sampled_from([0, 0, 0, 1, 3]))
            if count:
                row.diagnosis[column] = count
                treatment_left += count
        if not treatment_left:
            continue
        # The same reports, by their treatment opinion.
        for column in TREATMENT_COLUMNS[:-1]:
            count = draw(st.integers(0, treatment_left))
            if count:
                row.treatment[column] = count
            treatment_left -= count
        if treatment_left:
            row.treatment[""] = treatment_left
        rows.append(row)
    return rows


def real_grid(lines: list[list[str]], rows: list[ConcordanceRow], kind: str, columns) -> dict:
    """The true counts of every cell the published table has, by the rows it shows
    (named ones by name; the merged row is the rest)."""
    body = lines[1:-1]
    named = {r.specialty: r for r in rows}
    grid = {}
    merged = [r for r in rows if r.specialty not in {line[0] for line in body}]
    for r, line in enumerate(body):
        members = [named[line[0]]] if line[0] in named else merged
        for c, column in enumerate(columns):
            grid[(r, c)] = sum(getattr(m, kind).get(column, 0) for m in members)
    for c, column in enumerate(columns):
        grid[(len(body), c)] = sum(getattr(m, kind).get(column, 0) for m in rows)
    return grid


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(concordance_rows())
def test_no_hidden_count_can_be_recovered_from_what_is_shown(rows):
    lines = published_csv(rows)
    grand = sum(r.total for r in rows)
    if grand < 11:
        assert lines == [["reports"], [FEWER]]
        return
    assert int(lines[-1][1]) == grand
    # Every row shown has 11 reports or more.
    assert all(int(line[1]) >= 11 for line in lines[1:])
    for (kind, columns), table in zip(
        (("diagnosis", DIAGNOSIS_COLUMNS), ("treatment", TREATMENT_COLUMNS)),
        tables_from(lines),
        strict=True,
    ):
        truth = real_grid(lines, rows, kind, columns)
        shown = {
            cell: value for cell, value in truth.items() if isinstance(_published(table, cell), int)
        }
        # Nothing from 1 to 10 is ever shown, and what is shown is true.
        assert all(value == 0 or value >= 11 for value in shown.values())
        assert all(_published(table, cell) == value for cell, value in shown.items())
        # A percentage only beside a count that is shown.
        assert all(percent == "" for value, percent in table["percents"] if not value.isdigit())
        for cell in truth:
            if cell in shown:
                continue
            assert alternative(table, truth, cell) is not None, (
                f"{kind} cell {cell} (true {truth[cell]}) can be worked out:\n"
                + "\n".join(",".join(line) for line in lines)
            )
    # "Treatment changed" is shown only when both its parts are.
    header = lines[0]
    for line in lines[1:]:
        changed = line[header.index("treatment_changed")]
        parts = [
            line[header.index("treatment_changes")],
            line[header.index("treatment_alternative")],
        ]
        assert changed.isdigit() == all(p.isdigit() for p in parts)


def _published(table: dict, cell):
    r, c = cell
    return table["total"][c] if r == len(table["rows"]) else table["rows"][r][1][c]


# --- The rule on small tables, by hand ----------------------------------------------------
def test_a_small_count_is_hidden_with_a_partner_in_its_row_and_column():
    counts = [[20, 3, 30], [25, 40, 30]]
    hidden = protect(counts).hidden
    assert (0, 1) in hidden  # 3: fewer than 11
    assert len({cell for cell in hidden if cell[0] == 0}) >= 2  # not by its row's total
    assert len({cell for cell in hidden if cell[1] == 1}) >= 2  # nor by its column's


def test_a_row_of_all_reports_hides_a_second_count_beside_a_small_one():
    assert protect_row([30, 4, 0]).hidden == {(0, 0), (0, 1)}
    assert protect_row([30, 20, 0]).hidden == set()
    whole = protect_row([5, 6])
    assert whole.hidden == {(0, 0), (0, 1)}
