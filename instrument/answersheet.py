"""Whether a returned answer sheet still has the layout of the form's own workbook.

The reader takes each answer from the cell ``_meta`` names (``cell:trcpi1`` -> ``D15``). When
the respondent inserted, deleted, sorted or swapped rows or columns, those cells no longer
hold the answers to those questions. Two checks find out, each from what the workbook itself
carries, before a single answer is read:

- :func:`check_rows`: each question's code (the hidden column beside its answer) must still
  be on its answer cell's row;
- :func:`check_columns`: the columns of the blank sheet the form exports (the header labels
  ``N° / Code / Énoncé / Votre réponse``, the item codes, the numbers) must still be where
  the form put them. Each column of the blank sheet is looked for in the returned one (the
  column holding most of its labels and codes); when the answer column moved, or another
  column now sits on it, the verdict says what happened (``a column inserted before column
  inserted before column C``, ``columns B ('Code') and D ('Votre réponse') swapped``...), naming the header cells
  and where the first item's answer now is.

Both refuse with ``layout-changed``: answers are never guessed from shifted cells.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from instrument.answers import show_value
from instrument.workbook import Refused, cell_name

__all__ = ["AnswerSheet", "check_columns", "check_rows"]


@dataclass(frozen=True)
class AnswerSheet:
    """The answer sheet of one of the form's workbooks, as its export writes it, blank:
    ``cells`` question id -> answer cell (A1), ``grid`` the sheet's values from A1 (rows of
    values, None for a blank cell)."""

    cells: dict
    grid: tuple

    @cached_property
    def landmarks(self) -> dict[int, list]:
        """Column -> [(row, value)]: what the blank sheet holds in each column (labels, codes,
        numbers, statements), as :func:`_same` compares it."""
        marks: dict[int, list] = {}
        for r, row in enumerate(self.grid):
            for j, v in enumerate(row):
                v = _same(v)
                if v is not None:
                    marks.setdefault(j, []).append((r, v))
        return marks


def check_rows(grid: list, cells: dict, sheet: str) -> None:
    """Each question's id is shown in the row of its answer cell (the narrow grey column).
    When an id is found on another row only (rows inserted, deleted or sorted, cells cut and
    pasted), the answers no longer match their questions: refused rather than guessed.
    ``cells``: id -> (row, column, A1 name) of its answer cell."""
    answer_cells = {(r, c) for r, c, _ in cells.values()}
    found: dict[str, set[int]] = {}
    for r, row in enumerate(grid):
        for c, v in enumerate(row):
            if isinstance(v, str) and v in cells and (r, c) not in answer_cells:
                found.setdefault(v, set()).add(r)
    moved = [(qid, found[qid]) for qid, (r, _c, _n) in cells.items() if qid in found and r not in found[qid]]
    if moved:
        qid, rows = moved[0]
        raise Refused(
            "layout-changed",
            f"the question {qid} is now on row {min(rows) + 1}, not on the row of its answer cell "
            f"{cells[qid][2]} ({len(moved)} question(s) moved): rows were inserted, deleted or sorted, or "
            "cells moved, so answers cannot be matched to questions; type them in the original file",
            sheet=sheet, cell=cells[qid][2], item=qid,
        )


def _same(value) -> object:
    """A cell's value as compared between the blank sheet and a returned one: numbers as
    floats, texts without their outer spaces and with one plain space between words."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    return " ".join(str(value).split()) or None


def _column_letter(col: int) -> str:
    return cell_name(0, col)[:-1]


def _where_now(sheet_layout: AnswerSheet, grid: list, answer_col: int) -> dict[int, int]:
    """Each column of the blank sheet -> the column of the returned sheet that holds most of
    its labels, codes and numbers, on the same rows (a column whose content is found nowhere
    is left out). The answer column's only label is its header. Columns found in place are
    settled first (the usual case: no index of the returned rows is built)."""
    def enough(j: int, n: int, marks: list) -> bool:
        return 2 * n >= len(marks) or (j == answer_col and n > 0)

    def at(r: int, j: int):
        return _same(grid[r][j]) if r < len(grid) and j < len(grid[r]) and grid[r][j] != "" else None

    where: dict[int, int] = {}
    moved: dict[int, list] = {}
    for j, marks in sheet_layout.landmarks.items():
        if enough(j, sum(at(r, j) == v for r, v in marks), marks):
            where[j] = j
        else:
            moved[j] = marks
    by_row: dict[int, dict] = {}  # returned row -> value -> its columns (each row indexed once)
    for r in {r for marks in moved.values() for r, _v in marks if r < len(grid)}:
        index: dict = {}
        for k, got in enumerate(grid[r]):
            if got != "" and got is not None:
                index.setdefault(_same(got), []).append(k)
        by_row[r] = index
    for j, marks in moved.items():
        votes: Counter = Counter()
        for r, v in marks:
            votes.update(by_row.get(r, {}).get(v, ()))
        if votes:
            k, n = votes.most_common(1)[0]
            if enough(j, n, marks):
                where[j] = k
    return where


def _header(template: tuple, answer_col: int, first_row: int) -> int | None:
    """The header row of the items (``N° / Code / Énoncé / Votre réponse``): the last row above
    the first item that has a label in the answer column."""
    rows = [r for r in range(min(first_row, len(template)))
            if answer_col < len(template[r]) and _same(template[r][answer_col]) is not None]
    return rows[-1] if rows else None


def _what_happened(where: dict[int, int], name) -> str:
    """The change in words: the columns from one on moved right (a column inserted) or left
    (one deleted), two columns swapped, or each column's move."""
    moved = {j: k for j, k in where.items() if j != k}
    shifts = {k - j for j, k in moved.items()}
    first, last = min(moved), max(moved)
    if len(shifts) == 1 and all(j < first for j in where if j not in moved):
        shift = shifts.pop()
        span = f"column {name(first)}" if first == last else f"columns {name(first)} to {name(last)}"
        n = f"{abs(shift)} column{'s' if abs(shift) > 1 else ''}"
        if shift > 0:
            return f"{span} moved {n} to the right ({n} inserted before column {_column_letter(first)})"
        gone = [name(j) for j in range(first + shift, first) if j not in where] or [_column_letter(first + shift)]
        return f"{span} moved {n} to the left (column{'s' if len(gone) > 1 else ''} {' and '.join(gone)} deleted)"
    if len(moved) == 2 and all(moved.get(k) == j for j, k in moved.items()):
        a, b = sorted(moved)
        return f"columns {name(a)} and {name(b)} swapped"
    return "columns moved: " + ", ".join(f"{name(j)} is now column {_column_letter(k)}" for j, k in sorted(moved.items()))


def check_columns(grid: list, sheet_layout: AnswerSheet, cells: dict, items: tuple, sheet: str) -> None:
    """Refuse (``layout-changed``) a returned answer sheet whose answer column moved, or that
    has another column of the form's sheet where the answers belong (columns inserted,
    deleted or swapped), saying which columns moved and where the first item's answer is
    now. Columns that moved without touching the answers (e.g. the codes and the statements
    swapped) are left alone: every answer is still in its cell, beside its code.
    ``cells``: id -> (row, column, A1 name) of its answer cell; ``items``: the item ids."""
    template = sheet_layout.grid
    answer_col = Counter(cells[i][1] for i in items).most_common(1)[0][0]
    where = _where_now(sheet_layout, grid, answer_col)
    now_on_answers = [j for j, k in where.items() if k == answer_col and j != answer_col]
    header = _header(template, answer_col, min(cells[i][0] for i in items))
    if answer_col not in where and not now_on_answers and header is not None:
        _check_answer_column_kept(grid, template, cells, items, header, answer_col, sheet)
    if where.get(answer_col, answer_col) == answer_col and not now_on_answers:
        return

    def name(j: int) -> str:
        label = _same(template[header][j]) if header is not None and j < len(template[header]) else None
        return f"{_column_letter(j)} ({show_value(label)})" if isinstance(label, str) else _column_letter(j)

    first = items[0]
    r, c, answer_cell = cells[first]
    if answer_col in where:
        now = f"the answers are now in column {_column_letter(where[answer_col])} ({first}: " \
              f"{cell_name(r, c - answer_col + where[answer_col])}, not {answer_cell})"
    else:
        now = f"column {name(answer_col)} now holds column {name(now_on_answers[0])}'s content"
    raise Refused(
        "layout-changed",
        f"the columns of the sheet {show_value(sheet)} were changed: {_what_happened(where, name)}; {now}. Answers "
        "are read from the cells the form put them in, so they cannot be matched to questions: undo the change "
        "(or type the answers in the original file) and send it again",
        sheet=sheet, cell=cell_name(header, answer_col) if header is not None else answer_cell, item=first,
    )


def _check_answer_column_kept(grid, template, cells, items, header, answer_col, sheet) -> None:
    """The answer column deleted: its header is nowhere and no answer cell holds anything
    (a file that says nothing else would be "no answer in this file")."""
    def value(r, c):
        return grid[r][c] if r < len(grid) and c < len(grid[r]) else ""

    if any(value(r, c) not in ("", None) for r, c, _n in (cells[i] for i in items)):
        return
    label = _same(template[header][answer_col])
    first = items[0]
    raise Refused(
        "layout-changed",
        f"the columns of the sheet {show_value(sheet)} were changed: the answer column {_column_letter(answer_col)} "
        f"({show_value(label)}) was deleted (its header is no longer in {cell_name(header, answer_col)} nor anywhere "
        "else, and no answer cell holds anything). Undo the change (or type the answers in the original file) and "
        "send it again",
        sheet=sheet, cell=cell_name(header, answer_col), item=first,
    )
