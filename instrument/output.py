"""Write a table of responses and scores as CSV, XLSX, SPSS .sav, Stata .dta or Parquet.

Every writer goes through :func:`instrument.files.atomic_path`. Text cells that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) are neutralized with a leading apostrophe in EVERY format (OWASP's advice
against formula injection): CSV and XLSX, and also SPSS, Stata and Parquet, since those are
exported to Excel sooner or later (SPSS "Export to Excel", pandas ``to_excel``) and then the
text becomes a live formula; numbers are untouched. The same table gives the same bytes in
every format: the time of writing that openpyxl and ReadStat stamp is replaced by a fixed
date (:mod:`instrument.files`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from instrument.files import atomic_path, fix_timestamps, reproducible_zip

__all__ = ["FORMATS", "neutralize", "write_table"]

FORMATS = (".csv", ".xlsx", ".sav", ".dta", ".parquet")
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):
    """``"=HYPERLINK(...)"`` -> ``"'=HYPERLINK(...)"``; anything else unchanged."""
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def _neutralized(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralize)
    return out


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Nullable integers -> float with NaN, strings -> object (what pyreadstat accepts)."""
    out = df.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.Int64Dtype | pd.Float64Dtype):
            out[col] = out[col].astype("float64")
        elif pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].astype(object).where(out[col].notna(), "")
    return out


def write_table(
    df: pd.DataFrame,
    path: str | Path,
    *,
    labels: dict | None = None,
    value_labels: dict | None = None,
    sheet: str = "data",
    labels_sheet: str = "variables",
) -> Path:
    """Write ``df`` to ``path``; the format follows the suffix (see ``FORMATS``).

    ``labels``: column -> variable label; ``value_labels``: column -> {code: label}.
    SPSS and Stata files carry both; the XLSX gets a second sheet listing them.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    labels = {k: str(v) for k, v in (labels or {}).items() if k in df.columns}
    value_labels = {k: v for k, v in (value_labels or {}).items() if k in df.columns}
    if suffix not in FORMATS:
        raise ValueError(f"The output file must end with one of {', '.join(FORMATS)}; got {path.name!r}.")
    with atomic_path(path) as tmp:
        if suffix == ".csv":
            # CRLF (RFC 4180) also makes the writer quote a text holding a bare CR: with "\n" alone
            # it was written unquoted and spreadsheets split the row there
            _neutralized(df).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
        elif suffix == ".parquet":
            _neutralized(df).to_parquet(tmp, index=False)
        elif suffix == ".sav":
            import pyreadstat

            plain = _plain(_neutralized(df))
            pyreadstat.write_sav(
                plain, str(tmp), column_labels=[labels.get(c, "")[:250] for c in plain.columns],
                variable_value_labels={k: {float(c): str(t)[:120] for c, t in v.items()} for k, v in value_labels.items()},
            )
            fix_timestamps(tmp)
        elif suffix == ".dta":
            import pyreadstat

            plain = _plain(_neutralized(df))
            pyreadstat.write_dta(
                plain, str(tmp), column_labels=[labels.get(c, "")[:80] for c in plain.columns],
                variable_value_labels={k: {int(c): str(t)[:80] for c, t in v.items()} for k, v in value_labels.items()},
            )
            fix_timestamps(tmp)
        else:
            _write_xlsx(_neutralized(df), tmp, labels, value_labels, sheet, labels_sheet)
    return path


def _cell_value(v):
    """A value openpyxl can store: numpy scalars as Python ones; in text, the control
    characters XML forbids (a vertical tab typed in a CSV...) shown as U+FFFD instead of
    making the whole write fail."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", v)
    return v


def _write_xlsx(df, path, labels, value_labels, sheet, labels_sheet):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append([_cell_value(str(c)) for c in df.columns])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F0")
    for cell in ws[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center")
    values = df.astype(object).where(df.notna(), None).to_numpy()
    for row in values:
        ws.append([_cell_value(v) for v in row])
    for j, col in enumerate(df.columns, start=1):
        width = max(len(str(col)), *(len(str(v)) for v in df[col].head(200).tolist())) if len(df) else len(str(col))
        ws.column_dimensions[get_column_letter(j)].width = min(max(6, width + 2), 40)
        if pd.api.types.is_float_dtype(df[col]):
            for cell in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell[0].number_format = "0.000"
    ws.freeze_panes = "B2"
    ws.auto_filter.ref = ws.dimensions
    meta = wb.create_sheet(labels_sheet)
    meta.append(["variable", "label", "values"])
    for cell in meta[1]:
        cell.font, cell.fill = bold, fill
    for col in df.columns:
        vl = value_labels.get(col)
        text = "; ".join(f"{k} = {v}" for k, v in vl.items()) if vl else ""
        meta.append([_cell_value(str(col)), _cell_value(labels.get(col, "")), _cell_value(text)])
    meta.column_dimensions["A"].width, meta.column_dimensions["B"].width, meta.column_dimensions["C"].width = 20, 80, 60
    wb.save(path)
    Path(path).write_bytes(reproducible_zip(Path(path).read_bytes()))  # no time of saving: same table, same bytes
