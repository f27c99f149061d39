"""Small-cell suppression for the concordance figures: no count under 11 is
shown, and none can be worked out from what is shown.

A table is R rows (specialties) by C columns (opinions) of counts, with each
row's total and the grand total shown (rows under 11 were merged before, and a
grand total under 11 shows nothing), and each column's total (the "All
specialties" row) shown unless hidden here.

1. Primary suppression: every count from 1 to 10 ("fewer than 11"). Zero is
   shown (it says nothing about any one person).
2. Complementary suppression: a hidden count could still be worked out by
   subtraction: from its row's total minus the other counts shown in the row,
   from its column's total, or along a longer chain of sums. The shown totals
   fix the sum of the hidden counts of every row and column, so a hidden count
   stays unknown exactly when it lies on a cycle of hidden counts (row, column,
   row, ...): adding one to it and taking one from the next around the cycle
   changes nothing shown. Each hidden count here is on such a cycle along which
   every count can move by one (in one of the two directions) without leaving
   what a reader knows of it: "fewer than 11" is 1 to 10, "hidden" is 11 or
   more. A hidden count without one gets a partner hidden with it (the smallest
   count of 11 or more in its row or column that makes the cycle, else the
   smallest there), until every hidden count has its cycle; a table that cannot
   be protected is hidden whole.

The column totals are cells of one more row (the total row) whose row sum is
the grand total: hiding one is the same as hiding a count, and the same rule
applies to it. tests/aftercare/test_suppression.py checks the promise with
random tables (hypothesis): for every hidden count it builds another table that
shows exactly the same figures and differs in that count."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

THRESHOLD = 11  # counts below this (and above zero) are never shown

Cell = tuple[int, int]  # (row, column); row R is the total row


def is_primary(value: int) -> bool:
    return 0 < value < THRESHOLD


def fits(value: int, change: int) -> bool:
    """Would the count, changed by `change`, still be what its label tells a
    reader: "fewer than 11" from 1 to 10, "hidden" 11 or more?"""
    moved = value + change
    return 1 <= moved < THRESHOLD if is_primary(value) else moved >= THRESHOLD


@dataclass(frozen=True)
class Protected:
    hidden: frozenset[Cell]  # inner cells (r < R) and column totals (R, c)
    whole_table_hidden: bool = False

    def shows(self, cell: Cell) -> bool:
        return not self.whole_table_hidden and cell not in self.hidden


def _grid(counts: list[list[int]]) -> dict[Cell, int]:
    rows, columns = len(counts), len(counts[0]) if counts else 0
    grid = {(r, c): counts[r][c] for r in range(rows) for c in range(columns)}
    for c in range(columns):
        grid[(rows, c)] = sum(counts[r][c] for r in range(rows))
    return grid


def _on_a_cycle(cell: Cell, hidden: set[Cell], grid: dict[Cell, int], rows: int) -> bool:
    """Is there a cycle of hidden cells through `cell` along which adding one to
    it and, around the cycle, alternately taking one away and adding one (the
    signs the row and column sums ask for) keeps every count within its label,
    in one of the two directions? Cells are edges between row and column nodes; walking from
    a row to a column the change is -1, from a column to a row +1 (the target
    itself +1), and on the total row every change is the other way round."""

    def flip(c: Cell) -> int:
        return -1 if c[0] == rows else 1

    for direction in (1, -1):
        if not fits(grid[cell], direction * flip(cell)):
            continue
        arcs: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
        for other in hidden:
            if other == cell:
                continue
            row, column = ("r", other[0]), ("c", other[1])
            if fits(grid[other], -direction * flip(other)):
                arcs[row].append(column)
            if fits(grid[other], direction * flip(other)):
                arcs[column].append(row)
        start, goal = ("r", cell[0]), ("c", cell[1])
        seen, queue = {start}, deque([start])
        while queue:
            node = queue.popleft()
            if node == goal:
                return True
            for following in arcs[node]:
                if following not in seen:
                    seen.add(following)
                    queue.append(following)
    return False


def protect(counts: list[list[int]]) -> Protected:
    """Which cells of `counts` (and of its column totals) to hide. Row totals and
    the grand total are shown by the caller's guarantee (each 11 or more)."""
    if not counts or not counts[0]:
        return Protected(frozenset())
    grid = _grid(counts)
    rows = len(counts)
    hidden = {cell for cell, value in grid.items() if is_primary(value)}
    while True:
        exposed = sorted(
            (c for c in hidden if not _on_a_cycle(c, hidden, grid, rows)),
            key=lambda c: (grid[c], c),
        )
        if not exposed:
            return Protected(frozenset(hidden))
        cell = exposed[0]
        partner = _partner(cell, hidden, grid, rows)
        if partner is None:
            return Protected(frozenset(grid), whole_table_hidden=True)
        hidden.add(partner)


def _partner(cell: Cell, hidden: set[Cell], grid: dict[Cell, int], rows: int) -> Cell | None:
    """The shown cell to hide with `cell`: the smallest count of 11 or more that
    closes a cycle for it; else the smallest in its row or column (the cycle
    grows from there); else the smallest anywhere."""
    movable = sorted(
        (c for c, value in grid.items() if c not in hidden and value >= THRESHOLD),
        key=lambda c: (grid[c], c[0] == rows, c),
    )
    for candidate in movable:
        if _on_a_cycle(cell, hidden | {candidate}, grid, rows):
            return candidate
    near = [c for c in movable if c[0] == cell[0] or c[1] == cell[1]]
    return (near or movable or [None])[0]


def protect_row(values: list[int]) -> Protected:
    """One row whose total is shown (all reports in one row): a hidden count is
    unknown when another hidden count in the row can take the difference."""
    hidden = {c for c, value in enumerate(values) if is_primary(value)}

    def covered(c: int) -> bool:
        return any(
            fits(values[c], d) and fits(values[o], -d) for o in hidden if o != c for d in (1, -1)
        )

    while exposed := [c for c in sorted(hidden) if not covered(c)]:
        spare = sorted(
            (value, c) for c, value in enumerate(values) if c not in hidden and value >= THRESHOLD
        )
        useful = [
            (v, c)
            for v, c in spare
            if any(fits(values[exposed[0]], d) and fits(v, -d) for d in (1, -1))
        ]
        if not (useful or spare):
            return Protected(frozenset((0, c) for c in range(len(values))), whole_table_hidden=True)
        hidden.add((useful or spare)[0][1])
    return Protected(frozenset((0, c) for c in hidden))
