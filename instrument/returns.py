"""Read returned workbooks, data-entry grids and CSV files into one table of responses.

Every input file is accounted for: it is ``scored``, ``scored-with-issues`` (some cells
refused, the rest kept) or ``rejected`` (with the reason), and the log has one row per file
plus one per refused cell. Invariant: files in = files scored + files rejected. A damaged
or hostile file never stops the batch: :func:`read_file` never raises on a file's content.

What is checked, in order, for each file (each refusal has a stable code):

1. the file itself: ``empty-file``, ``file-too-large``, ``legacy-xls`` (an .xls renamed),
   ``encrypted-workbook`` (password-protected), ``ods-not-supported``, ``macro-enabled``
   (.xlsm renamed), ``corrupt-file`` (not a zip, a truncated zip, an .xlsb, a sheet or sheet
   list that is not well-formed or ambiguous), ``unsafe-zip`` (two members of one name, an
   absolute path, ``..`` or a symbolic link in a member name), ``zip-bomb`` (uncompressed size
   or ratio over the limits), ``xml-entities`` (a DOCTYPE/ENTITY declaration: "billion
   laughs"), ``sheet-too-large``, ``too-many-sheets``;
2. the match with the form through the hidden ``_meta`` sheet: ``missing-metadata``,
   ``not-our-workbook``, ``unknown-format-version``, ``other-form``, ``unknown-form-version``,
   ``hash-mismatch``, ``missing-sheet`` (answer sheet renamed or deleted), ``layout-changed``
   (rows inserted, deleted or sorted: a question's id is no longer beside its answer cell;
   columns inserted, deleted or swapped so that the answers left their cells, said in words by
   :mod:`instrument.answersheet`);
3. every answer cell: ``formula-in-answer`` (never evaluated), ``merged-cell``, and the
   codes of :mod:`instrument.answers` (``out-of-range``, ``decimal-answer``,
   ``multiple-answers``, ``date-in-answer``, ``invalid-answer``...), ``answer-outside-cell``;
4. across files: ``duplicate-respondent``; a file with no answer at all: ``empty-response``;
   warnings: ``identifying-respondent-code`` (a code that looks like an e-mail address, a
   phone number or a person's name: codes must be pseudonyms), ``external-link``,
   ``not-utf8``, ``no-metadata``, ``missing-respondent-code``.

Nothing is ever evaluated or followed: values are the cells' stored values (python-calamine);
formulas are found in the sheet's XML and refused, their cached values never used; macros
are never run; external links never followed; no zip member is ever extracted to disk.

Memory is bounded, whatever the file. A workbook is opened through :class:`instrument.workbook.Workbook`:
the zip's directory, sizes, ratios and member names are checked, the parts python-calamine
reads are scanned as streams (the answer sheet and ``_meta`` at most ``MAX_CELLS`` cells from
A1, the shared strings at most ``MAX_STRINGS``...), and calamine is fed a new zip of only those
checked parts. A CSV is decoded as a
stream (never held whole as text), at most ``MAX_CELLS`` fields. The peak for one file
is therefore about twice the file (at most ``MAX_FILE_BYTES``; this reader and calamine
each hold it), plus the shared strings (at most ``MAX_MEMBER_BYTES`` of text), plus
~100 bytes per cell of the one sheet read (``MAX_CELLS``): under 250 MB for the largest
file accepted, a few MB for the usual 20 kB workbook, and under 100 MB above the baseline
for every refused bomb (measured by ``tests/test_hostile.py``: zip bomb, 1,000,000-row
sheet, 400,000-row CSV, billion laughs, far-apart cells, declared-count bombs).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from instrument import platforms
from instrument.answers import MAX_ANSWER_CHARS, AnswerCoder, show_value
from instrument.answersheet import AnswerSheet, check_columns, check_rows
from instrument.model import Form, Problem
from instrument.platforms.layout import SCORE
from instrument.workbook import (
    CHUNK,
    MAX_CELLS,
    MAX_MEMBER_BYTES,
    MAX_MEMBERS,
    MAX_MERGED,
    MAX_RATIO,
    MAX_SHEETS,
    MAX_STRINGS,
    MAX_TOTAL_BYTES,
    Refused,
    Workbook,
    cell_name,
    split_cell,
)

if TYPE_CHECKING:  # pandas is imported where it is used: worker processes never need it
    import pandas as pd

__all__ = [
    "MAX_CELLS",
    "MAX_FILE_BYTES",
    "MAX_MEMBERS",
    "MAX_MEMBER_BYTES",
    "MAX_MERGED",
    "MAX_RATIO",
    "MAX_SHEETS",
    "MAX_STRINGS",
    "MAX_TOTAL_BYTES",
    "Expected",
    "FileResult",
    "Returns",
    "read_file",
    "read_returns",
]

MAX_FILE_BYTES = 50 * 2**20  #: a returned file larger than this is refused unread
FORMAT_VERSION = "1"  #: the ``format_version`` of the returned-workbook contract this reader reads
MAX_CODE_CHARS = 64  #: longest respondent code kept (SPSS, Stata and file names need short ones)
#: What a respondent code may not hold: control characters, bidirectional overrides and
#: isolates, zero-width and other invisible format characters (they hide or reorder the code).
CODE_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]")
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb"}
SUFFIXES = WORKBOOK_SUFFIXES | {".csv"}

SCORED, WITH_ISSUES, REJECTED = "scored", "scored-with-issues", "rejected"


# ----------------------------------------------------------------------------- the form side
@dataclass(frozen=True)
class Expected:
    """What a returned file must match, extracted once from a Form (small, picklable)."""

    form_id: str
    form_version: str
    form_hash: str
    items: tuple[str, ...]
    context: tuple[str, ...]
    codes: tuple[int, ...]
    missing_codes: tuple[int, ...]
    labels: dict  # code -> list of labels (both languages, "4 - label" forms included)
    context_types: dict  # id -> ("select_one", {code: [labels]}) | ("integer", (min, max)) | ("text", None)
    exports: object = None  # instrument.platforms.Exports: the form's naming on each survey platform
    form: object = field(default=None, compare=False, repr=False)  # the Form, for the layouts of its workbooks

    @classmethod
    def from_form(cls, form: Form) -> Expected:
        rs = form.response_set
        labels: dict[int, list[str]] = {}
        for choice in rs.all_choices():
            for text in choice.label.values():
                labels.setdefault(choice.code, []).extend([text, f"{choice.code} - {text}"])
        ctx = {}
        for q in form.context_block:
            if q.type == "select_one":
                ctx[q.id] = ("select_one", {c.code: list(c.label.values()) for c in q.choices})
            elif q.type == "integer":
                ctx[q.id] = ("integer", (q.minimum, q.maximum))
            else:
                ctx[q.id] = ("text", None)
        return cls(
            form_id=form.id,
            form_version=str(form.version),
            form_hash=form.hash,
            items=form.item_ids,
            context=tuple(q.id for q in form.context_block),
            codes=rs.codes,
            missing_codes=rs.missing_codes,
            labels=labels,
            context_types=ctx,
            exports=platforms.Exports.from_form(form),
            form=form,
        )

    def coder(self) -> AnswerCoder:
        return AnswerCoder(self.codes, self.missing_codes, self.labels)

    @cached_property
    def answer_sheets(self) -> dict:
        """(language, order version) -> :class:`~instrument.answersheet.AnswerSheet`: the cell map
        and the blank answer sheet of the form's own workbook export (built once per process).
        A returned ``_meta`` must carry that cell map (the form's hash does not cover it), and
        the returned sheet that layout (:func:`~instrument.answersheet.check_columns`)."""
        if self.form is None:
            return {}
        from instrument.export.common import version_labels
        from instrument.export.xlsx import build_workbook

        sheets = {}
        for lang in self.form.languages:
            for version in version_labels(self.form):
                wb = build_workbook(self.form, lang=lang, version=version, respondent="X")
                meta = {str(r[0].value): str(r[1].value) for r in wb["_meta"].iter_rows() if r[0].value is not None}
                cells = {k[5:]: v for k, v in meta.items() if k.startswith("cell:")}
                grid = tuple(tuple(row) for row in wb[meta["answer_sheet"]].iter_rows(values_only=True))
                sheets[lang, str(version)] = AnswerSheet(cells, grid)
        return sheets

    @property
    def cell_maps(self) -> dict:
        """(language, order version) -> {question id: answer cell} (see :attr:`answer_sheets`)."""
        return {key: sheet.cells for key, sheet in self.answer_sheets.items()}

    @cached_property
    def _coders(self) -> tuple[AnswerCoder, dict]:
        """The item coder and the context coders, built once per process (not per file)."""
        return self.coder(), {}


# ----------------------------------------------------------------------------- results
@dataclass
class FileResult:
    """What one input file gave: its rows (one dict per respondent) and its problems."""

    file: str
    status: str = SCORED
    code: str = ""
    message: str = ""
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    source: str = ""  # the survey platform of an export ("" for our own files)
    variant: str = ""  # how the export was read, e.g. "LimeSurvey export (question codes)"
    counts: dict = field(default_factory=dict)  # an export's rows: in, scored, incomplete, rejected

    def reject(self, code: str, message: str, **where) -> FileResult:
        self.status, self.code, self.message = REJECTED, code, message
        self.rows = []
        self.problems.append(Problem(code, message, file=self.file, **where))
        return self


@dataclass(frozen=True)
class Returns:
    """Everything read from a batch of files.

    ``responses``: one row per respondent: ``respondent``, ``source_file``, ``source_place``,
    ``language``, ``order_version``, (for platform exports: ``platform``, ``submitted_at``,
    ``platform_status``), the context answers, then one column per item (codes, missing codes
    kept, blank as NA). ``files``: one row per input file (``file``, ``status``,
    ``code``, ``message``, ``respondents``, ``problems``). ``problems``: every Problem.
    """

    responses: pd.DataFrame
    files: pd.DataFrame
    problems: tuple[Problem, ...]

    @property
    def n_files(self) -> int:
        return len(self.files)

    @property
    def n_scored(self) -> int:
        return int((self.files["status"] != REJECTED).sum())

    @property
    def n_rejected(self) -> int:
        return int((self.files["status"] == REJECTED).sum())

    def log(self) -> pd.DataFrame:
        """One row per file, then one per problem (file, status, code, sheet, cell, item, message).

        A rejected file's own reason is one row: its place (sheet, cell) goes on the file's
        row rather than on a second, near-identical one."""
        import pandas as pd

        reasons = {(r.file, r.code, r.message) for r in self.files.itertuples() if r.status == "rejected"}
        places = {(p.file, p.code, p.message): p for p in self.problems}
        rows = []
        for r in self.files.itertuples():
            own = places.get((r.file, r.code, r.message)) if (r.file, r.code, r.message) in reasons else None
            rows.append({"file": r.file, "status": r.status, "code": r.code, "sheet": own.sheet if own else "",
                         "cell": own.cell if own else "", "item": own.item if own else "",
                         "respondents": r.respondents, "message": r.message})
        status = dict(zip(self.files["file"], self.files["status"], strict=True))
        for p in self.problems:
            if (p.file, p.code, p.message) in reasons:
                continue
            rows.append({"file": p.file, "status": status.get(p.file, ""), "code": p.code, "sheet": p.sheet,
                         "cell": p.cell, "item": p.item, "respondents": "", "message": p.message})
        return pd.DataFrame(rows, columns=["file", "status", "code", "sheet", "cell", "item", "respondents", "message"])


def _meta_dict(rows) -> dict[str, str]:
    meta = {}
    for row in rows:
        if len(row) >= 2 and isinstance(row[0], str) and row[0]:
            value = row[1]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            meta[row[0].strip()] = "" if value is None else str(value).strip()
    return meta


def _address(text: str) -> str | None:
    """``"$d$15"`` -> ``"D15"``; None when the text is not a cell address (refused later as missing-metadata)."""
    try:
        return cell_name(*split_cell(text))
    except ValueError:
        return None


def _check_meta(meta: dict, expected: Expected) -> None:
    if meta.get("format") != "intangibles-workbook":
        raise Refused("not-our-workbook", "the _meta sheet is not that of an intangibles workbook", sheet="_meta")
    if meta.get("format_version") != FORMAT_VERSION:
        raise Refused(
            "unknown-format-version",
            f"workbook format version {show_value(meta.get('format_version'))}; this version of intangibles reads "
            f"format {FORMAT_VERSION} (update intangibles, or re-export the form)",
            sheet="_meta",
        )
    if meta.get("form_id") != expected.form_id:
        raise Refused(
            "other-form",
            f"this workbook belongs to form {show_value(meta.get('form_id'))}, not {expected.form_id!r}",
            sheet="_meta",
        )
    if meta.get("form_version") != expected.form_version:
        raise Refused(
            "unknown-form-version",
            f"this workbook is version {show_value(meta.get('form_version'))} of form {expected.form_id!r}; "
            f"expected version {expected.form_version!r}",
            sheet="_meta",
        )
    if meta.get("form_hash") != expected.form_hash:
        raise Refused(
            "hash-mismatch",
            "the form's fingerprint in _meta does not match the form spec (edited metadata, "
            "or a workbook built from a changed spec under the same version)",
            sheet="_meta",
        )
    listed = tuple(i for i in meta.get("items", "").split(",") if i)
    if sorted(listed) != sorted(expected.items):
        raise Refused("hash-mismatch", "the item list in _meta does not match the form", sheet="_meta")
    layout = expected.cell_maps.get((meta.get("language", ""), meta.get("order_version", "")))
    if meta.get("layout") == "respondent" and layout:
        moved = sorted(q for q, cell in layout.items() if _address(meta.get(f"cell:{q}", "")) not in (None, cell))
        if moved:
            raise Refused("hash-mismatch", f"the cell map in _meta was edited: {moved[0]} is given the cell "
                          f"{show_value(meta.get(f'cell:{moved[0]}'))}, the form puts it in {layout[moved[0]]} "
                          f"({len(moved)} question(s)); answers would be read from the wrong cells", sheet="_meta")


def _code_context(qid: str, value, expected: Expected, coder_cache: dict):
    """A context answer: (value, problem code, message)."""
    kind, spec = expected.context_types.get(qid, ("text", None))
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, "", ""
    if kind == "select_one":
        coder = coder_cache.get(qid)
        if coder is None:
            coder = coder_cache[qid] = AnswerCoder(
                sorted(spec), (), {c: [*labels, *(f"{c} - {t}" for t in labels)] for c, labels in spec.items()}
            )
        coded = coder.code(value)
        return coded.code, coded.problem, coded.message
    if kind != "text" and isinstance(value, str) and len(value) > MAX_ANSWER_CHARS:
        return None, "invalid-answer", f"a text of {len(value):,} characters ({show_value(value)}) is not an answer"
    if kind == "integer":
        text = str(value).strip().replace(",", ".")
        if isinstance(value, bool):  # as the items say it (answers.py): not a decimal
            return None, "boolean-in-answer", f"{show_value(value)} (a TRUE/FALSE cell) is not a whole number"
        try:
            number = float(text)
        except ValueError:
            return None, "invalid-answer", f"{show_value(value)} is not a whole number"
        if number != number or not number.is_integer():
            return None, "decimal-answer", f"{show_value(value)} is not a whole number"
        lo, hi = spec
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            return None, "out-of-range", f"{show_value(value)} is outside {lo}-{hi}"
        return int(number), "", ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number in a text cell: 101, not 101.0
    text = str(value)[:MAX_ANSWER_CHARS].strip()
    return text[:200], "", ""


_ERROR_MESSAGE = "the cell holds an Excel error value (#N/A, #DIV/0!...), not an answer; type the answer"


def _refused_cell(result, qid: str, place: dict) -> bool:
    """Refuse a formula, merged or Excel-error answer cell (recording why); consumes the
    place's markers so the rest of ``place`` is the cell's address."""
    formula, merged, error = (place.pop(k, False) for k in ("formula", "merged", "error"))
    if formula:
        code, message = "formula-in-answer", "a formula in an answer cell is never evaluated; type the answer"
    elif merged:
        code, message = "merged-cell", "the answer cell was merged with others; answer refused"
    elif error:
        code, message = "invalid-answer", _ERROR_MESSAGE
    else:
        return False
    result.problems.append(Problem(code, message, file=result.file, item=qid, **place))
    return True


def _row_from_cells(result, expected, coder, get, where, respondent, meta, ctx_cache) -> dict | None:
    """Build one respondent's row from a cell getter ``get(id) -> (value, place dict)``."""
    row = {"respondent": respondent, "source_file": result.file, "source_place": where,
           "language": meta.get("language", ""), "order_version": meta.get("order_version", "")}
    answered = 0
    for qid in expected.context:
        value, place = get(qid)
        if _refused_cell(result, qid, place):  # a context answer is never computed either
            row[qid] = None
            continue
        coded, code, message = _code_context(qid, value, expected, ctx_cache)
        if code:
            result.problems.append(Problem(code, message, file=result.file, item=qid, **place))
        row[qid] = coded
    for item in expected.items:
        value, place = get(item)
        if _refused_cell(result, item, place):
            row[item] = None
            continue
        coded = coder.code(value)
        if coded.problem:
            result.problems.append(Problem(coded.problem, coded.message, file=result.file, item=item, **place))
        row[item] = coded.code
        answered += coded.code is not None
    return row if answered else None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^\W\d_]{2,}")
_PHONE = re.compile(r"\+?[\d\s().-]+")
_NAME_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


def _identifying(code: str) -> str:
    """What a respondent code looks like when it may identify a person (``""`` if not):
    an e-mail address, a phone (or other 9-15-digit personal) number, or a name in words."""
    code = str(code).strip()
    if _EMAIL.search(code):
        return "an e-mail address"
    if _PHONE.fullmatch(code) and 9 <= sum(ch.isdigit() for ch in code) <= 15:
        return "a phone number (or another personal number)"
    words = code.split()
    if 2 <= len(words) <= 5 and all(len(w) >= 2 and _NAME_WORD.fullmatch(w) for w in words):
        return "a person's name"
    return ""


def _typed_number(value):
    """A number typed into a date-formatted cell comes back from calamine as a date in the first
    two months of 1900 (4 -> 1900-01-04): the number itself, as typed (no one answers with a
    date of 1900). Any other value unchanged."""
    import datetime as dt

    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        value = value.date()
    if type(value) is dt.date and dt.date(1900, 1, 1) <= value < dt.date(1900, 3, 1):
        return float(value.toordinal() - dt.date(1899, 12, 31).toordinal())
    return value


def _read_xlsx(result: FileResult, data: bytes, expected: Expected) -> None:
    """A returned workbook: a platform's .xlsx export, or one of ours (matched to the form
    through ``_meta``, then read by its layout: one respondent's questionnaire, or a grid)."""
    book = Workbook(data)  # every check first: calamine reads only what was checked
    if "_meta" not in book.sheets and _read_export_xlsx(result, book, expected):
        return
    if "_meta" not in book.sheets:
        raise Refused("missing-metadata", "the hidden _meta sheet is missing: this file was not built from the form "
                      "(or the sheet was deleted); it cannot be matched to a form version")
    meta = _meta_dict(book.read("_meta").grid)
    _check_meta(meta, expected)
    sheet_name = meta.get("answer_sheet", "")
    if sheet_name not in book.sheets:
        raise Refused("missing-sheet", f"the answer sheet {show_value(sheet_name)} is missing (renamed or deleted)")
    sheet = _AnswerCells(book.read(sheet_name))
    if book.external_links:
        result.problems.append(Problem("external-link", "the workbook links to other files; links are never followed",
                                       file=result.file, severity="warning"))
    layout = meta.get("layout")
    if layout == "respondent":
        _read_respondent(result, expected, meta, sheet)
    elif layout == "grid":
        _read_grid(result, expected, meta, sheet)
    else:
        raise Refused("not-our-workbook", f"unknown workbook layout {show_value(layout)} in _meta", sheet="_meta")


class _AnswerCells:
    """The answer sheet as the readers see it: a cell's value (a number typed into a date cell
    read as the number, a blank as None) and its place for a problem (sheet, cell, and whether
    it holds a formula or an error value, or is merged with others)."""

    def __init__(self, sheet):
        self.name, self.grid, self.flagged = sheet.name, sheet.grid, sheet.flagged
        # merged ranges of more than one cell, indexed by row (ranges over many rows are kept aside)
        self.spans: dict[int, list[tuple[int, int]]] = {}
        self.tall: list[tuple[int, int, int, int]] = []
        for (r0, c0), (r1, c1) in sheet.merged:
            if (r0, c0) == (r1, c1):
                continue
            if r1 - r0 < 64 and len(self.spans) < 100_000:
                for rr in range(r0, r1 + 1):
                    self.spans.setdefault(rr, []).append((c0, c1))
            else:
                self.tall.append((r0, c0, r1, c1))
        self.merged = bool(self.spans or self.tall)

    def value(self, r: int, c: int):
        grid = self.grid
        if r < len(grid) and c < len(grid[r]):
            v = grid[r][c]
            return None if v == "" else _typed_number(v)
        return None

    def in_merged(self, r: int, c: int) -> bool:
        return any(c0 <= c <= c1 for c0, c1 in self.spans.get(r, ())) or any(
            r0 <= r <= r1 and c0 <= c <= c1 for r0, c0, r1, c1 in self.tall
        )

    def get(self, r: int, c: int) -> tuple:
        """(value, place) of a cell, as :func:`_row_from_cells` takes them."""
        place = {"sheet": self.name, "cell": cell_name(r, c)}
        if place["cell"] in self.flagged:
            place[self.flagged[place["cell"]]] = True
        if self.merged and self.in_merged(r, c):
            place["merged"] = True
        return self.value(r, c), place


def _answer_cells(meta: dict, expected: Expected) -> dict[str, tuple[int, int, str]]:
    """The cell map of ``_meta``: question id -> (row, column, A1 name) of its answer cell."""
    missing = [i for i in (*expected.context, *expected.items) if f"cell:{i}" not in meta]
    if missing:
        raise Refused("missing-metadata", f"_meta lacks the cells of {', '.join(missing[:5])}", sheet="_meta")
    cells: dict[str, tuple[int, int, str]] = {}
    for qid in (*expected.context, *expected.items):
        try:
            r, c = split_cell(meta[f"cell:{qid}"])
        except ValueError:
            raise Refused("missing-metadata", f"_meta gives {show_value(meta[f'cell:{qid}'])} as the cell of {qid}, "
                           "not a cell address", sheet="_meta") from None
        cells[qid] = (r, c, cell_name(r, c))
    return cells


def _read_respondent(result: FileResult, expected: Expected, meta: dict, sheet: _AnswerCells) -> None:
    """One respondent's questionnaire: the layout checked (rows, then columns, against the
    form's own sheet), each answer read from the cell ``_meta`` names, answers typed beside
    their cell reported."""
    cells = _answer_cells(meta, expected)
    check_rows(sheet.grid, cells, sheet.name)
    sheet_layout = expected.answer_sheets.get((meta.get("language", ""), meta.get("order_version", "")))
    if sheet_layout is not None:
        check_columns(sheet.grid, sheet_layout, cells, expected.items, sheet.name)
    coder, ctx_cache = expected._coders
    respondent = meta.get("respondent") or Path(result.file).stem
    row = _row_from_cells(result, expected, coder, lambda qid: sheet.get(*cells[qid][:2]), f"{sheet.name}",
                          respondent, meta, ctx_cache)
    _answers_beside(result, expected, cells, sheet, sheet_layout)
    if row is None:  # no answer where the form put them: one column off for most questions?
        off = sum(coder.code(sheet.value(r, c + dc)).code is not None
                  for r, c, _n in (cells[i] for i in expected.items) for dc in (-1, 1) if c + dc >= 0)
        if off >= max(1, len(expected.items) // 2):
            raise Refused("layout-changed", f"no answer in the answer cells, but {off} beside them: a column was "
                          "inserted, deleted or moved, so answers cannot be matched to questions; type them in "
                          "the original file", sheet=sheet.name)
    if row is not None:
        result.rows.append(row)


def _answers_beside(result: FileResult, expected: Expected, cells: dict, sheet: _AnswerCells,
                    sheet_layout: AnswerSheet | None) -> None:
    """Answers typed beside their blank cell (e.g. in the next column): reported, not guessed.
    What the form's own sheet has on that row (the item's number, moved with its column) is not
    an answer."""
    coder = expected._coders[0]
    for item in expected.items:
        r, c, name = cells[item]
        if sheet.value(r, c) is not None or name in sheet.flagged:
            continue
        own = set(sheet_layout.grid[r]) if sheet_layout is not None and r < len(sheet_layout.grid) else set()
        for cc in range(c + 1, len(sheet.grid[r]) if r < len(sheet.grid) else 0):
            v = sheet.value(r, cc)
            if v is not None and v != item and v not in own and coder.code(v).code is not None:
                result.problems.append(Problem(
                    "answer-outside-cell", f"{show_value(v)} was typed in {cell_name(r, cc)}, not in the answer cell "
                    f"{name}; it was not used", file=result.file, sheet=sheet.name, cell=cell_name(r, cc), item=item))
                break


def _grid_columns(meta: dict, expected: Expected, sheet: _AnswerCells) -> tuple[dict, int]:
    """A data-entry grid's columns (header name -> column) and its first data row."""
    try:
        header = int(meta.get("header_row", "1")) - 1
        first = int(meta.get("first_data_row", str(header + 2))) - 1
    except ValueError:
        raise Refused("missing-metadata", "_meta gives a header_row or first_data_row that is not a row number",
                       sheet="_meta") from None
    if not (0 <= header < first):
        raise Refused("missing-metadata", f"_meta gives header row {header + 1} and first data row {first + 1}",
                       sheet="_meta")
    grid = sheet.grid
    head = [str(v).strip() if v is not None else "" for v in (grid[header] if header < len(grid) else [])]
    cols = {name: j for j, name in enumerate(head) if name}
    missing = [i for i in ("respondent", *expected.items) if i not in cols]
    if missing:
        raise Refused("missing-column", f"the grid lacks the column(s) {', '.join(missing[:5])}",
                       sheet=sheet.name, cell=f"row {header + 1}")
    return cols, first


def _read_grid(result: FileResult, expected: Expected, meta: dict, sheet: _AnswerCells) -> None:
    """A data-entry grid: one respondent per row, columns found by their header."""
    cols, first = _grid_columns(meta, expected, sheet)
    coder, ctx_cache = expected._coders
    for r in range(first, len(sheet.grid)):
        if all(v == "" for v in sheet.grid[r]):
            continue

        def get(qid, r=r):
            c = cols.get(qid)
            if c is None:
                return None, {"sheet": sheet.name, "cell": f"row {r + 1}"}
            return sheet.get(r, c)

        code = sheet.value(r, cols["respondent"])
        code = "" if code is None else (str(int(code)) if isinstance(code, float) and code.is_integer() else str(code).strip())
        named = code or f"{Path(result.file).stem}-row{r + 1}"
        row = _row_from_cells(result, expected, coder, get, f"{sheet.name}!{r + 1}", named, meta, ctx_cache)
        if row is not None:
            if not code:
                result.problems.append(Problem("missing-respondent-code", f"row {r + 1} has answers but no "
                                               f"respondent code; named {named}", file=result.file, sheet=sheet.name,
                                               cell=cell_name(r, cols["respondent"]), severity="warning"))
            result.rows.append(row)


def _bounded(reader, delimiter: str = ","):
    """The records of a csv reader, refused past ``MAX_CELLS`` fields, when unparsable, or
    when a quote left open swallowed the lines after it (a field holding a line break then
    more delimiters than a typed answer would: ``unclosed-quote``)."""
    cells, line = 0, 1
    try:
        for values in reader:
            cells += max(len(values), 1)
            if cells > MAX_CELLS:
                raise Refused("sheet-too-large", f"the CSV holds more than {MAX_CELLS:,} fields (the limit)")
            for v in values:
                if "\n" in v and v.split("\n", 1)[1].count(delimiter) >= 3:
                    raise Refused("unclosed-quote", f'a quote (") opened on line {line} is not closed: the lines after '
                                  "it were read as one cell (rows would vanish); close or remove the quote",
                                  cell=f"line {line}")
            line = reader.line_num + 1
            yield values
    except csv.Error as exc:
        raise Refused("corrupt-file", f"the CSV cannot be parsed: {exc}") from None


def _delimiter(first_line: str) -> tuple[str, bool]:
    """The delimiter of a CSV from its first line, and whether that line is Excel's
    ``sep=;`` line (French Excel writes it) rather than the header: the one of ``;``, ``,``
    and tab found most often outside quotes in the header (``,`` when none)."""
    line = first_line.lstrip("\ufeff").strip()
    if len(line) == 5 and line[:4].lower() == "sep=":
        return line[4], True
    bare = re.sub(r'"[^"]*"', "", line)
    counts = {d: bare.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return (best if counts[best] else ","), False


def _is_utf8(data: bytes) -> bool:
    """Whether ``data`` is UTF-8, checked in 1 MB chunks (no copy of the whole text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), CHUNK):
            decoder.decode(view[start : start + CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(result: FileResult, data: bytes, expected: Expected) -> None:
    """A CSV read as a stream (the text is never held whole: a 40 MB CSV took 900 MB as a
    str and its UCS-4 copy in a StringIO), at most ``MAX_CELLS`` fields."""
    encoding = "utf-8-sig"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text": UTF-16 with its BOM
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise Refused("corrupt-file", "the CSV starts like UTF-16 text but is not") from None
    if not _is_utf8(data):
        encoding = "cp1252"
        result.problems.append(Problem("not-utf8", "the CSV is not UTF-8; read as Windows-1252 (check accents)",
                                       file=result.file, severity="warning"))
    if b"\x00" in data:
        raise Refused("corrupt-file", "the CSV holds NUL bytes: not a text file")
    first_line = data[:65536].split(b"\n", 1)[0].decode(encoding, errors="ignore")
    delimiter, sep_line = _delimiter(first_line)
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")
    reader = _bounded(csv.reader(stream, csv.excel, delimiter=delimiter), delimiter)
    try:
        if sep_line:
            next(reader)
        head = [h.strip() for h in next(reader)]
    except StopIteration:
        raise Refused("empty-file", "the CSV has no header row") from None
    cols = {name: j for j, name in enumerate(head) if name}
    top = 2 + sep_line  # the line number of the first record after the header
    if _read_export(result, head, reader, expected, first_row=top):
        return
    for name in ("respondent", *expected.context, *expected.items):
        where = [j for j, h in enumerate(head) if h == name]
        if len(where) > 1:
            raise Refused("duplicate-column", f"the column {name} appears {len(where)} times (columns "
                          f"{', '.join(cell_name(0, j)[:-1] for j in where)}): which one holds the answers? "
                          "Keep one", cell=f"row {top - 1}")
    if not set(expected.items) & set(cols):
        raise Refused("other-form", "none of the form's item ids is a column of this CSV")
    missing = [i for i in ("respondent", *expected.items) if i not in cols]
    if missing:
        raise Refused("missing-column", f"the CSV lacks the column(s) {', '.join(missing[:5])}", cell="row 1")
    result.problems.append(Problem("no-metadata", "a CSV carries no form fingerprint: matched by its columns only",
                                   file=result.file, severity="warning"))
    coder, ctx_cache = expected._coders
    meta = {"language": "", "order_version": ""}
    for r, values in enumerate(reader, start=top):
        if not any(v.strip() for v in values):
            continue

        def get(qid, values=values, r=r):
            j = cols.get(qid)
            return (values[j] if j is not None and j < len(values) else None), {"cell": f"row {r}"}

        code = values[cols["respondent"]].strip() if cols["respondent"] < len(values) else ""
        if not code:
            code = f"{Path(result.file).stem}-row{r}"
        row = _row_from_cells(result, expected, coder, get, f"row {r}", code, meta, ctx_cache)
        if row is not None:
            result.rows.append(row)


def _read_export(result: FileResult, head: list, records, expected: Expected, first_row: int, sheet: str = "",
                 flagged: dict | None = None) -> bool:
    """A survey platform's response export (:mod:`instrument.platforms`): False when the
    header is not one. Every row is counted: rows in = scored + incomplete + rejected."""
    exports = expected.exports
    own = not exports.source and "respondent" in head and set(expected.items) <= set(head)
    try:
        layout = None if own else platforms.detect(head, exports)
    except platforms.Mismatch as exc:
        raise Refused(exc.code, exc.message) from None
    if layout is None:
        return False
    result.source = layout.source
    result.problems.extend(layout.header_problems(result.file))
    coder, ctx_cache = expected._coders
    where = {qid: j for j, qid in layout.columns.items()}
    blanks, recode = layout.blanks, {**layout.recode, **dict.fromkeys(layout.blanks, "")}
    memo: dict = {}
    counts = dict.fromkeys(("in", "scored", "incomplete", "rejected"), 0)
    for r, values in enumerate(records, start=first_row):
        if not any(v is not None and str(v).strip() for v in values):
            continue
        counts["in"] += 1
        place = {"sheet": sheet, "cell": f"row {r}"} if sheet else {"cell": f"row {r}"}
        verdict = layout.verdict(values)
        if verdict.kind == "incomplete" and exports.include_incomplete:
            verdict = SCORE
        if verdict.kind != "scored":
            counts[verdict.kind] += 1
            result.problems.append(Problem(verdict.code, verdict.message, file=result.file, severity=verdict.severity,
                                           **place))
            continue
        values, spread = layout.expand(values)  # the roster's checkboxes and selections (instrument.platforms.layout)
        result.problems.extend(Problem(code, message, file=result.file, item=item, severity="warning", **place)
                               for code, item, message in spread)

        def get(qid, values=values, place=place, r=r):
            j = where.get(qid)
            v = values[j] if j is not None and j < len(values) else None
            if isinstance(v, str) and (v in blanks or v in recode):
                v = recode.get(v) or None
            cell = dict(place)
            if flagged and j is not None and cell_name(r - 1, j) in flagged:  # a formula or an error value
                cell[flagged[cell_name(r - 1, j)]] = True
                cell["cell"] = cell_name(r - 1, j)  # the cell itself, for the user to find it
            return v, cell

        language = values[layout.language_column] if layout.language_column is not None else ""
        meta = {"language": language or "", "order_version": ""}
        respondent = layout.respondent(values, Path(result.file).stem, r)
        if flagged and any(cell_name(r - 1, j) in flagged for j in where.values()):
            row = _row_from_cells(result, expected, coder, get, place["cell"], respondent, meta, ctx_cache)
            if row is not None:
                row.update(layout.metadata(values))
        else:
            base = {"respondent": respondent, "source_file": result.file, "source_place": place["cell"], **meta,
                    **layout.metadata(values)}
            row = _export_row(result, expected, values, where, place, base, memo, ctx_cache, recode)
        if row is None:
            counts["rejected"] += 1
            result.problems.append(Problem("empty-response", "no answer to any item in this row", file=result.file,
                                           severity="warning", **place))
        else:
            counts["scored"] += 1
            result.rows.append(row)
    result.counts = counts
    result.variant = layout.variant
    result.message = _export_message(result)
    return True


def _export_message(result: FileResult) -> str:
    """An export's log line: its problems (if any), its layout and its rows in = scored +
    incomplete + rejected."""
    c = result.counts
    errors = sum(p.severity == "error" for p in result.problems)
    return ((f"{errors} problem(s); " if errors else "") + f"{result.variant}: {c['in']} row(s) in = {c['scored']} "
            f"scored + {c['incomplete']} incomplete + {c['rejected']} rejected")


def _drop_export_row(result: FileResult) -> None:
    """A row read from an export and then left out (a copy, an unusable code): a rejected row."""
    if result.counts:
        result.counts["scored"] -= 1
        result.counts["rejected"] += 1


def _export_row(result, expected, values, where, place, base, memo, ctx_cache, recode) -> dict | None:
    """One export row, with the checks and problem codes of :func:`_row_from_cells` (same
    coders), each distinct value coded once per file: a 5,000-row export holds a handful of
    distinct answers, and coding its 225,000 cells one by one took most of its reading time."""
    row = dict(base)
    n = len(values)
    for qid in expected.context:
        j = where.get(qid)
        v = values[j] if j is not None and j < n else None
        if v.__class__ is str and v in recode:
            v = recode[v] or None
        key = (qid, v.__class__, v)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = _code_context(qid, v, expected, ctx_cache)
        if hit[1]:
            result.problems.append(Problem(hit[1], hit[2], file=result.file, item=qid, **place))
        row[qid] = hit[0]
    coder = expected._coders[0]
    answered = 0
    for item in expected.items:
        j = where.get(item)
        v = values[j] if j is not None and j < n else None
        if v.__class__ is str and v in recode:
            v = recode[v] or None
        key = (v.__class__, v)
        coded = memo.get(key)
        if coded is None:
            coded = memo[key] = coder.code(v)
        if coded.problem:
            result.problems.append(Problem(coded.problem, coded.message, file=result.file, item=item, **place))
        row[item] = coded.code
        if coded.code is not None:
            answered += 1
    return row if answered else None


def _read_export_xlsx(result: FileResult, book: Workbook, expected: Expected) -> bool:
    """A platform's .xlsx export (KoboToolbox, LimeSurvey): its first sheet, checked like ours."""
    name = next((n for n, (_part, state) in book.sheets.items() if state == "visible"), None)
    if name is None:
        return False
    sheet = book.read(name)
    grid = sheet.grid
    top = next((r for r, row in enumerate(grid) if any(v not in ("", None) for v in row)), None)
    if top is None:
        return False
    head = ["" if v is None else str(v).strip() for v in grid[top]]
    return _read_export(result, head, iter(grid[top + 1 :]), expected, first_row=top + 2, sheet=name,
                        flagged=sheet.flagged)


def _regular_size(path: Path) -> int:
    """The size of a regular file; anything else refused BEFORE it is opened (opening a FIFO
    would wait forever, a device could be endless)."""
    try:
        info = path.stat()
    except OSError as exc:
        if path.is_symlink():
            raise Refused("broken-link", f"a symbolic link to {show_value(os.readlink(path))}, which cannot be reached "
                          f"({exc.strerror or exc})") from None
        raise
    if stat.S_ISDIR(info.st_mode):
        raise Refused("not-a-regular-file", "a folder (a link to a folder is not followed)")
    if not stat.S_ISREG(info.st_mode):
        kind = "a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else (
            "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket or special file")
        raise Refused("not-a-regular-file", f"{kind}, not a file: never opened")
    return info.st_size


def read_file(path: str | os.PathLike, expected: Expected, name: str | None = None) -> FileResult:
    """Read one returned file. Never raises on a bad file: the reason is in the result."""
    path = Path(path)
    result = FileResult(file=name or str(path))
    try:
        size = _regular_size(path)
        if size == 0:
            raise Refused("empty-file", "the file is empty (0 bytes)")
        if size > MAX_FILE_BYTES:
            raise Refused("file-too-large", f"{size:,} bytes; the limit for a returned file is {MAX_FILE_BYTES:,}")
        data = path.read_bytes()
        suffix = path.suffix.lower()
        if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
                raise Refused("encrypted-workbook", "a password-protected (encrypted) workbook: it cannot be "
                               "read; remove the password (File > Info > Protect), save as .xlsx, send it again")
            raise Refused("legacy-xls", "an old-format Excel file (.xls, or a password-protected workbook): "
                           "save it as .xlsx (Excel 2007+)")
        if suffix == ".csv":
            _read_csv(result, data, expected)
        elif data[:4] == b"PK\x03\x04" or suffix in WORKBOOK_SUFFIXES:
            if data[:2] != b"PK":
                raise Refused("corrupt-file", "not a workbook: the file does not start like an .xlsx (zip)")
            _read_xlsx(result, data, expected)
        else:
            raise Refused("unsupported-file", f"{path.suffix or 'no extension'}: only .xlsx and .csv are read")
    except Refused as refused:
        return result.reject(refused.code, refused.message, **refused.where)
    except OSError as exc:
        return result.reject("unreadable-file", f"cannot read the file: {exc.strerror or exc}")
    except Exception as exc:  # a damaged file must never stop the batch: it is rejected, with the reason
        return result.reject("unreadable-file", f"the file could not be read ({type(exc).__name__}: {exc})")
    except BaseException as exc:  # a panic in a Rust reader (pyo3's PanicException) is not an Exception
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return result.reject("unreadable-file", f"the file could not be read ({type(exc).__name__}: {exc})")
    if not result.rows:
        beside = sum(p.code == "answer-outside-cell" for p in result.problems)
        if beside:  # every answer one column off: a column was inserted, deleted or moved
            return result.reject("layout-changed", f"no answer in the answer cells, but {beside} answer(s) typed "
                                 "beside them: a column was inserted, deleted or moved, so answers cannot be matched "
                                 "to questions; type them in the original file")
        return result.reject("empty-response", "no answer in this file")
    if any(p.severity == "error" for p in result.problems):
        result.status = WITH_ISSUES
        result.code = next(p.code for p in result.problems if p.severity == "error")
        refused = f"{sum(p.severity == 'error' for p in result.problems)} cell(s) refused"
        result.message = f"{refused}; {result.message}" if result.message else refused
    return result


def _expand(inputs) -> list:
    """Files named, and files found in folders (sorted, recursively; lock files ``~$...``
    and hidden files or folders skipped). A file named twice is read once. Folders are walked
    with an explicit stack (a return 1,100 folders deep is found, no recursion); links to
    folders are not followed (a link is an entry, given its row by :func:`read_file`); a folder
    that cannot be opened gives its own rejected row (``unreadable-folder``)."""
    entries: list = []
    seen: set = set()
    for item in inputs:
        item = Path(item)
        found = _walk(item) if item.is_dir() and not item.is_symlink() else [item]
        for p in found:
            key = p.file if isinstance(p, FileResult) else os.path.normcase(os.path.realpath(p))
            if key not in seen:
                seen.add(key)
                entries.append(p)
    return entries


def _walk(folder: Path) -> list:
    """Every entry under ``folder`` that is not a folder, sorted; a folder that cannot be
    listed as a rejected :class:`FileResult` in its place."""
    found: list = []
    stack = [folder]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as listing:
                children = list(listing)
        except OSError as exc:
            found.append(FileResult(file=str(here)).reject(
                "unreadable-folder", f"the folder cannot be opened ({exc.strerror or exc}): the files in it were not "
                "read; give read access and run again"))
            continue
        for child in children:
            if child.name.startswith((".", "~$")):
                continue
            try:
                is_dir = child.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            (stack if is_dir else found).append(Path(child.path))
    return sorted(found, key=lambda p: Path(p.file) if isinstance(p, FileResult) else p)


def _read_many(args):
    paths, expected = args
    return [read_file(p, expected) for p in paths]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use (containers, taskset)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _pool_context():
    """fork where it is cheap and safe (Linux, Python < 3.12); elsewhere forkserver or spawn:
    Python 3.12+ warns that forking a multi-threaded process (BLAS, a progress bar) may
    deadlock. Workers only import this module (pandas is imported lazily), so they start fast."""
    import multiprocessing as mp
    import sys

    methods = mp.get_all_start_methods()
    if sys.platform == "linux" and sys.version_info < (3, 12) and "fork" in methods:
        return mp.get_context("fork")
    return mp.get_context("forkserver" if "forkserver" in methods else "spawn")


def read_returns(inputs, form: Form | Expected, *, jobs: int = 0, progress=None, source: str | None = None,
                 include_incomplete: bool = False, id_column: str | None = None) -> Returns:
    """Read every file in ``inputs`` (files or folders, recursively) returned for ``form``.

    ``jobs``: worker processes (0 = every core; 1 = in this process). ``progress``: an
    optional callable ``progress(n_done, n_total)``. Files are processed in sorted order and
    the result does not depend on ``jobs``. Survey platforms' response exports are detected
    (:mod:`instrument.platforms`); ``source`` (kobo, odk, limesurvey, redcap) forces one;
    ``include_incomplete`` keeps their responses not submitted or not marked complete;
    ``id_column`` names the column of an export that holds the respondent codes.
    """
    expected = form if isinstance(form, Expected) else Expected.from_form(form)
    if source is not None or include_incomplete or id_column:
        from dataclasses import replace

        expected = replace(expected, exports=expected.exports.with_options(source, include_incomplete, id_column))
    entries = _expand(inputs)
    paths = [e for e in entries if isinstance(e, Path)]
    read = iter(_read_all(paths, expected, jobs or _cores(), progress))
    return _assemble([next(read) if isinstance(e, Path) else e for e in entries], expected)


def _read_all(paths: list[Path], expected: Expected, jobs: int, progress) -> list[FileResult]:
    """The results of ``paths``, in their order, read here or by ``jobs`` worker processes."""
    if progress:
        progress(0, len(paths))  # the total is known before the first file is read
    if jobs == 1 or len(paths) < 64:
        results: list[FileResult] = []
        for i, p in enumerate(paths, 1):
            results.append(read_file(p, expected))
            if progress:
                progress(i, len(paths))
        return results
    # chunks of 8-64 files: a few ms of work each, so the workers stay busy to the end and the
    # progress moves steadily; the per-chunk cost (pickling ``expected``, its coders) is small
    size = max(8, min(64, len(paths) // (jobs * 8) or 1))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    done: dict[int, list[FileResult]] = {}
    n_done = 0
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=_pool_context()) as pool:
        futures = {pool.submit(_read_many, (chunk, expected)): k for k, chunk in enumerate(chunks)}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            n_done += len(done[futures[future]])
            if progress:
                progress(n_done, len(paths))
    return [r for k in range(len(chunks)) for r in done[k]]


def _code_problem(code) -> str:
    """Why a respondent code cannot be kept (``""`` when it can)."""
    code = str(code)
    if len(code) > MAX_CODE_CHARS:
        return f"a respondent code of {len(code):,} characters (at most {MAX_CODE_CHARS})"
    bad = CODE_FORBIDDEN.search(code)
    if bad:
        return (f"the respondent code {show_value(code)} holds the invisible or control character U+{ord(bad.group()):04X} "
                "(it can hide or reorder the code)")
    return ""


def _code_key(code) -> str:
    """The identity of a respondent code for duplicate detection: NFKC, case-folded, without
    invisible characters or spaces (``r0001``, ``R0001`` and ``R0001`` + zero-width space are one)."""
    import unicodedata

    return re.sub(r"\s+", "", CODE_FORBIDDEN.sub("", unicodedata.normalize("NFKC", str(code)))).casefold()


def _check_codes(results: list[FileResult], expected: Expected) -> None:
    """Respondent codes across the batch: a code that cannot be kept refuses its row
    (``invalid-respondent-code``); a second copy of a respondent (same code once normalized,
    same answers) is kept once (``duplicate-copy``; a file made only of copies is rejected);
    one code with DIFFERENT answers is an error on every file holding it
    (``duplicate-respondent``): all rows are kept for the researcher to decide."""
    answers = (*expected.context, *expected.items)
    first: dict[str, tuple] = {}  # code key -> (answers, file, code)
    conflicts: dict[str, set] = {}
    for r in results:
        if r.status == REJECTED or not r.rows:
            continue
        kept = []
        for row in r.rows:
            why = _code_problem(row["respondent"])
            if why:
                r.problems.append(Problem("invalid-respondent-code", f"{why}; the row at {row['source_place']} "
                                          "was not used", file=r.file))
                _drop_export_row(r)
                continue
            key, values = _code_key(row["respondent"]), tuple(row.get(c) for c in answers)
            seen = first.get(key)
            if seen is None:
                first[key] = (values, r.file, row["respondent"])
            elif seen[0] == values:
                r.problems.append(Problem("duplicate-copy", f"respondent {show_value(row['respondent'])} at "
                                          f"{row['source_place']} is a copy of {show_value(seen[2])} in {seen[1]} (same "
                                          "answers): counted once", file=r.file, severity="warning"))
                _drop_export_row(r)
                continue
            else:
                conflicts.setdefault(key, {seen[1]}).add(r.file)
            kept.append(row)
        r.rows = kept
        if not kept:
            last = r.problems.pop()
            r.reject(last.code, f"{last.message} (no other respondent in this file)")
    by_file = {r.file: r for r in results}
    for key, files in sorted(conflicts.items()):
        for f in sorted(files):
            by_file[f].problems.append(Problem(
                "duplicate-respondent", f"the respondent code {show_value(first[key][2])} appears in {len(files)} files "
                f"({', '.join(sorted(files))}) with DIFFERENT answers: all kept; keep the right one before analysis",
                file=f))
    for r in results:
        if r.status == SCORED and any(p.severity == "error" for p in r.problems):
            r.status, r.code = WITH_ISSUES, next(p.code for p in r.problems if p.severity == "error")
            r.message = f"{sum(p.severity == 'error' for p in r.problems)} problem(s)"
        if r.counts and r.status != REJECTED:
            r.message = _export_message(r)


def _assemble(results: list[FileResult], expected: Expected) -> Returns:
    import pandas as pd

    _check_codes(results, expected)
    problems: list[Problem] = []
    rows: list[dict] = []
    for r in results:
        problems.extend(r.problems)
        rows.extend(r.rows)
    # platform exports add their metadata (instrument.platforms.layout.Layout.metadata); a batch
    # of our own files keeps its columns as they were
    platform = [c for c in ("platform", "submitted_at", "platform_status") if any(c in row for row in rows)]
    columns = ["respondent", "source_file", "source_place", "language", "order_version", *platform,
               *expected.context, *expected.items]
    responses = pd.DataFrame(rows, columns=columns)
    for col in (*expected.items, *[q for q, (k, _) in expected.context_types.items() if k != "text"]):
        responses[col] = pd.to_numeric(responses[col], errors="coerce").astype("Int64")
    # respondent codes are pseudonyms: one that looks like an e-mail, a phone number or a name is flagged
    for code, file, place in zip(responses["respondent"], responses["source_file"], responses["source_place"], strict=True):
        kind = _identifying(code)
        if kind:
            problems.append(Problem("identifying-respondent-code", f"the respondent code at {place} looks like {kind}: "
                                    "codes must be pseudonymous (e.g. R101); replace it, and keep the list that links "
                                    "codes to people apart from the data", file=file, severity="warning"))
    counts = responses.groupby("source_file").size()
    per_file: dict[str, int] = {}
    for p in problems:  # the file's own problems and the duplicates found across files
        per_file[p.file] = per_file.get(p.file, 0) + 1
    files = pd.DataFrame(
        [{"file": r.file, "status": r.status, "code": r.code, "message": r.message,
          "respondents": int(counts.get(r.file, 0)),
          "problems": per_file.get(r.file, 0), "source": r.source,
          **{f"rows_{k}": r.counts.get(k, 0) for k in ("in", "incomplete", "rejected")}} for r in results],
        columns=["file", "status", "code", "message", "respondents", "problems", "source", "rows_in",
                 "rows_incomplete", "rows_rejected"],
    )
    return Returns(responses=responses, files=files, problems=tuple(problems))
