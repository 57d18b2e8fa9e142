"""What one platform export's header means: which column holds which item, the id, the
metadata, the completion status; and how each data row is judged (complete, incomplete,
another instrument or form version).

A :class:`Layout` is built by a platform module from the header row and the form's own
export naming (:class:`Names`); :mod:`instrument.returns` then reads the rows through it,
with the same cell checks as a returned workbook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from instrument.answers import normalize_label
from instrument.model import Problem

__all__ = ["Layout", "Mismatch", "Names", "Reviewed", "RowVerdict", "Selection", "selection_columns"]

MAX_LISTED = 50  #: unmapped columns reported one by one; the rest in one problem


class Mismatch(Exception):
    """A platform export that is not of this form (or not of this version): the file is refused."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Names:
    """The form's own export naming on one platform: header text -> form id (item or context
    question), in every spelling the platform writes (small dicts: picklable, built once)."""

    exact: dict  # header as written -> id
    folded: dict = field(default_factory=dict)  # normalized label heading -> id (labels, full text)
    extra: dict = field(default_factory=dict)  # platform-specific facts (form name, codes...)


@dataclass(frozen=True)
class RowVerdict:
    """How one data row is counted: ``scored`` (read), ``incomplete`` or ``rejected`` (with a code)."""

    kind: str
    code: str = ""
    message: str = ""
    severity: str = "warning"


SCORE = RowVerdict("scored")


class Reviewed:
    """A submission a reviewer rejected on the platform (ODK Central's review state "rejected",
    KoboToolbox's validation status "not approved") is left out; picklable (a plain class)."""

    def __init__(self, column: int, refused: frozenset, then=None):
        self.column, self.refused, self.then = column, refused, then

    def __call__(self, values: list) -> RowVerdict:
        v = values[self.column] if self.column < len(values) else None
        if v is not None and str(v).strip().casefold() in self.refused:
            return RowVerdict("rejected", "rejected-on-platform", f"a reviewer marked this submission {str(v).strip()!r} "
                              "on the platform; left out")
        return SCORE if self.then is None else self.then(values)


@dataclass(frozen=True)
class Selection:
    """The roster's "worked with" question exported as ONE column of the chosen choices
    (Kobo's and ODK's select_multiple: choice names separated by spaces; in a Kobo label
    export, the choice labels separated by spaces): each organization's answer ("1" chosen,
    "0" not) is written into its own column (``targets``, one per organization; columns past
    the header when the export has no column of its own for it). A blank cell leaves them
    as they are (blank, or the platform's own per-choice columns)."""

    column: int
    targets: tuple
    names: dict  # choice name -> position in targets
    labels: dict  # folded choice label -> position
    item: str = "net_with"  # the question, for the log

    def apply(self, values: list) -> list[tuple[str, str, str]]:
        """Fill ``values`` (long enough for every target) in place; returns problems (code, item, message)."""
        raw = values[self.column] if self.column < len(values) else None
        text = "" if raw is None else str(raw).strip()
        if not text:
            return []
        tokens = text.split()
        chosen = [self.names.get(t) for t in tokens]
        if None in chosen:  # a label export: labels hold spaces, cut the text into whole labels
            chosen = list(_segment(tokens, self.labels) or [self.names.get(t) for t in tokens])
        problems = []
        if None in chosen:
            unknown = [t for t, k in zip(tokens, chosen, strict=True) if k is None]
            problems.append(("unknown-organization", self.item, f"the organizations checked ({_short(text)}) include "
                             f"{_short(' '.join(unknown))}, not one of the listed organizations; left out"))
        picked = {k for k in chosen if k is not None}
        for k, j in enumerate(self.targets):
            values[j] = "1" if k in picked else "0"
        return problems


def _segment(tokens: list, labels: dict) -> tuple | None:
    """``tokens`` cut into whole labels (positions), or None when they cannot be."""
    reach: dict[int, tuple] = {0: ()}
    for i in range(len(tokens)):
        if i not in reach:
            continue
        for j in range(i + 1, len(tokens) + 1):
            k = labels.get(normalize_label(" ".join(tokens[i:j])))
            if k is not None and j not in reach:
                reach[j] = (*reach[i], k)
    return reach.get(len(tokens))


def selection_columns(columns: dict, n_header: int, spec: dict | None) -> tuple[dict, Selection | None]:
    """With the roster's select_multiple summary column among ``columns`` (``spec``: the
    platform names' ``extra["selection"]``), each organization's answer column: its own
    (a per-choice column) or a new one past the header. Returns (columns, Selection or None)."""
    if not spec:
        return columns, None
    where = {qid: j for j, qid in columns.items()}
    if spec["id"] not in where:
        return columns, None
    columns = dict(columns)
    targets = []
    for qid in spec["ids"]:
        if qid not in where:
            where[qid] = n_header + len(targets)
            columns[where[qid]] = qid
        targets.append(where[qid])
    return columns, Selection(where[spec["id"]], tuple(targets), spec["names"], spec["labels"], spec["id"])


@dataclass(frozen=True)
class Layout:
    """The meaning of an export's columns (indexes into each data row)."""

    source: str  # kobo, odk, limesurvey, redcap
    variant: str  # e.g. "KoboToolbox CSV (XML values and headers)"
    columns: dict  # column index -> item or context id
    id_columns: tuple = ()  # their values, joined with "/", name the respondent
    meta: dict = field(default_factory=dict)  # column index -> metadata name (kept in the log)
    unmapped: tuple = ()  # headers neither mapped nor known metadata
    ambiguous: tuple = ()  # headers that could be several questions
    missing: tuple = ()  # items of the form with no column
    language_column: int | None = None
    blanks: frozenset = frozenset()  # values that mean "no answer" on this platform
    recode: dict = field(default_factory=dict)  # platform value -> value read (missing-data codes)
    judge: object = None  # callable(values) -> RowVerdict, or None (every row is complete)
    first_id_only: bool = False  # the first non-empty id column names the respondent (else all, joined)
    local_ids: tuple = ()  # id columns unique only within this file (LimeSurvey's response id): prefixed by its name
    submitted_column: int | None = None  # when the platform received the response
    status_column: int | None = None  # the platform's own status (Kobo validation, ODK review, REDCap form status)
    selection: Selection | None = None  # the roster's select_multiple exported as one column
    column_recode: dict = field(default_factory=dict)  # column index -> {platform value: value read} (checkboxes)

    def expand(self, values: list) -> tuple[list, list]:
        """The row as read: per-column recodes applied (a LimeSurvey "Y", a REDCap
        "Checked"), the roster's selection spread over its organizations' columns. Returns
        (values, problems as (code, item, message))."""
        if self.selection is None and not self.column_recode:
            return values, []
        values = list(values)
        width = max((*self.columns, *self.column_recode, 0)) + 1
        values += [None] * (width - len(values))
        for j, table in self.column_recode.items():
            v = values[j]
            key = v.strip() if isinstance(v, str) else v
            if key in table:
                values[j] = table[key]
        return values, (self.selection.apply(values) if self.selection else [])

    def header_problems(self, file: str) -> list[Problem]:
        """One problem per unmapped or ambiguous column, and per item missing from the export."""
        out = []
        for h in self.unmapped[:MAX_LISTED]:
            out.append(Problem("unmapped-column", f"the column {_short(h)} is neither a question of the form nor "
                               f"known {self.source} metadata; it was not read", file=file, cell=_short(h),
                               severity="warning"))
        if len(self.unmapped) > MAX_LISTED:  # a hostile header must not bloat the log
            out.append(Problem("unmapped-column", f"{len(self.unmapped) - MAX_LISTED:,} more columns that are neither "
                               "questions of the form nor known metadata; not read", file=file, severity="warning"))
        for h in self.ambiguous:
            out.append(Problem("ambiguous-column", f"the heading {_short(h)} matches several questions of the form "
                               "(shortened text?); it was not read: export with question codes", file=file,
                               cell=_short(h)))
        for item in self.missing:
            out.append(Problem("missing-item", f"the item {item} has no column in this export (left blank for every "
                               "respondent)", file=file, item=item))
        return out

    def verdict(self, values: list) -> RowVerdict:
        return SCORE if self.judge is None else self.judge(values)

    def respondent(self, values: list, stem: str, row: int) -> str:
        """The respondent's code: the id columns' values (an id unique only within the file,
        like LimeSurvey's response id, prefixed by the file's name), else ``<file>-row<n>``."""
        parts = []
        for j in self.id_columns:
            v = values[j] if j < len(values) else None
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            text = "" if v is None else str(v).strip()
            if text:
                parts.append(f"{stem}-{text}" if j in self.local_ids else text)
                if self.first_id_only:
                    break
        return "/".join(parts) or f"{stem}-row{row}"

    def metadata(self, values: list) -> dict:
        """The respondent metadata kept in the output: ``platform``, ``submitted_at``, ``platform_status``."""
        def at(j):
            v = values[j] if j is not None and j < len(values) else None
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            return "" if v is None else str(v).strip()

        return {"platform": self.source, "submitted_at": at(self.submitted_column),
                "platform_status": at(self.status_column)}


def _short(text) -> str:
    text = str(text)
    return repr(text if len(text) <= 60 else text[:57] + "...")
