"""What every simulated export needs: answers as codes or labels, stable ids and times,
and the CSV / XLSX writing (atomic, same bytes for the same sample)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from pathlib import Path

__all__ = ["Answers", "selection_cells", "stable_uuid", "submitted_at", "write_csv", "write_xlsx"]

_EPOCH = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)


class Answers:
    """A simulated respondent's answer to one question, as a platform stores it."""

    def __init__(self, form):
        self.labels = {c.code: c.label for c in form.response_set.all_choices()}
        self.context = {q.id: q for q in form.context_block}
        self.choice_labels = {q.id: {c.code: c.label for c in q.choices} for q in form.context_block if q.choices}

    def text(self, qid: str, value, lang: str | None = None) -> str:
        """The stored value: the code (``lang`` None) or its label in ``lang``; "" when blank."""
        if value is None or value != value or value is _NA:
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if lang is not None:
            table = self.choice_labels.get(qid) if qid in self.context else self.labels
            if table is not None and int(value) in table:
                return table[int(value)][lang]
        return str(value)


def selection_cells(net, rec: dict, lang: str | None = None, marks: tuple = ("1", "0")) -> list[str]:
    """The roster's "worked with" answers of one respondent as a platform's select_multiple
    exports them: the summary cell (the chosen choices' codes, or labels in ``lang``,
    separated by spaces), then one cell per choice (``marks``: chosen, not chosen); all
    blank when the question was not answered."""
    answered = [rec.get(qid) for qid in net.with_ids]
    if all(v is None or v != v or v is _NA for v in answered):
        return [""] * (1 + len(answered))
    chosen = [str(v) in ("1", "1.0") for v in answered]
    summary = " ".join(name[lang] if lang else str(code)
                       for code, name, yes in zip(net.codes, net.names, chosen, strict=True) if yes)
    return [summary, *(marks[0] if yes else marks[1] for yes in chosen)]


try:  # pandas' missing value, compared by identity (pd.NA == x is NA, not a bool)
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = object()


def stable_uuid(*parts) -> str:
    """A UUID that depends only on ``parts`` (same sample, same bytes)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "intangibles:" + ":".join(map(str, parts))))


def submitted_at(i: int) -> dt.datetime:
    """A plausible submission time for the i-th respondent (every 37 minutes from a fixed start)."""
    return _EPOCH + dt.timedelta(minutes=37 * i)


def write_csv(path, header: list, rows: list, *, sep: str = ",", quote_all: bool = False, bom: bool = False,
              newline: str = "\r\n", encoding: str = "utf-8") -> Path:
    from instrument.files import write_bytes

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator=newline,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path = Path(path)
    write_bytes(path, (b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(path, sheet: str, header: list, rows: list) -> Path:
    """One sheet, header then rows; numbers stay numbers, text stays text (never a formula)."""
    from openpyxl import Workbook

    from instrument.files import save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append(header)
    for row in rows:
        ws.append(row)
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    path = Path(path)
    save_workbook(wb, path)
    return path
