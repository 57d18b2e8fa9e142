"""The data-entry grid (.xlsx): one row per respondent, to key in paper questionnaires.

Follows the returned-workbook contract (layout ``grid``): one sheet ``Saisie`` (fr) /
``Entry`` (en) with a row of short labels (row 1), the row of ids (row 2: ``respondent``,
the context question ids, the item ids in the order of the paper version), then
``ROWS`` pre-sized data rows from row 3. Item columns accept the bare codes (1-5, 8, 9),
select-one context columns their codes, the integer ones a whole number in range; the
error message is in the grid's language. Panes are frozen below the ids and right of the
respondent column; only the data area is unlocked (the sheet is protected without a
password; column widths may still be changed). A ``Codes`` sheet lists every code and its
label, and the hidden ``_meta`` sheet holds ``header_row``, ``first_data_row`` and one
``col:<id>`` row per column.

Counterbalanced forms give one grid per order version (``member_grid_fr.xlsx`` for A,
``member_grid_fr_B.xlsx`` for B) so the columns follow the paper the clerk holds.
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from instrument.export.common import (
    STRINGS,
    check_lang,
    ordered_items,
    version_paths,
)
from instrument.export.xlsx import (
    BOLD,
    BOX,
    GREY,
    HEADER_FILL,
    ListSheet,
    add_list_validation,
    check_paper,
    finish_workbook,
    integer_validation,
    meta_rows,
    page_setup,
    put,
    set_messages,
    write_meta,
)
from instrument.files import save_workbook
from instrument.model import Form

__all__ = ["FIRST_DATA_ROW", "HEADER_ROW", "ROWS", "build_workbook", "write"]

#: Data rows prepared (validation and unlocked cells) below the header.
ROWS = 500
LABEL_ROW = 1
HEADER_ROW = 2
FIRST_DATA_ROW = 3
SHORT_LABEL = 60
COLUMNS_PER_PAGE = 16


def _short(text: str, limit: int = SHORT_LABEL) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _codes_sheet(ws, form: Form, lang: str):
    s = STRINGS[lang]
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 10
    ws.column_dimensions["C"].width = 60
    r = 1
    put(ws, f"A{r}", s["grid_note"]).alignment = Alignment(wrap_text=True)
    ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
    ws.row_dimensions[r].height = 32
    r += 2
    for col, text in zip("ABC", (s["id"], s["code_col"], s["label_col"]), strict=True):
        c = put(ws, f"{col}{r}", text)
        c.font = BOLD
        c.fill = HEADER_FILL
    r += 1
    for choice in form.response_set.all_choices():
        put(ws, f"A{r}", form.response_set.id)
        put(ws, f"B{r}", choice.code)
        put(ws, f"C{r}", choice.label[lang])
        r += 1
    for q in form.context_block:
        for choice in q.choices:
            put(ws, f"A{r}", q.id)
            put(ws, f"B{r}", choice.code)
            put(ws, f"C{r}", choice.label[lang])
            r += 1
    ws.protection.sheet = True


def build_workbook(form: Form, *, lang: str, version: str, rows: int = ROWS, paper: str = "A4") -> Workbook:
    """The data-entry grid in memory (see :func:`write`)."""
    s = STRINGS[lang]
    wb = Workbook()
    ws = wb.active
    ws.title = s["entry"]
    lists = ListSheet(wb)
    items = ordered_items(form, version)
    columns: list[tuple[str, str, str]] = [("respondent", s["respondent_header"], "respondent")]
    columns += [(q.id, q.label[lang], "context") for q in form.context_block]
    columns += [(it.id, form.texts[it.id][lang], "item") for it in items]
    last = FIRST_DATA_ROW + rows - 1
    letters = {}
    for index, (cid, label, kind) in enumerate(columns, start=1):
        col = get_column_letter(index)
        letters[cid] = col
        c = put(ws, f"{col}{LABEL_ROW}", _short(label))
        c.font = GREY
        c.alignment = Alignment(wrap_text=True, vertical="bottom")
        c = put(ws, f"{col}{HEADER_ROW}", cid)
        c.font = BOLD
        c.fill = HEADER_FILL
        c.border = BOX
        ws.column_dimensions[col].width = 14 if kind != "item" else 10
    ws.row_dimensions[LABEL_ROW].height = 75

    # validations
    codes = [str(c.code) for c in form.response_set.all_choices()]
    item_cols = [letters[it.id] for it in items]
    if item_cols:
        dv = add_list_validation(
            ws,
            lists,
            codes,
            error=s["error_codes"].format(codes=", ".join(codes)),
            error_title=s["error_title"],
        )
        dv.add(f"{item_cols[0]}{FIRST_DATA_ROW}:{item_cols[-1]}{last}")
    for q in form.context_block:
        ref = f"{letters[q.id]}{FIRST_DATA_ROW}:{letters[q.id]}{last}"
        if q.type == "select_one":
            q_codes = [str(c.code) for c in q.choices]
            add_list_validation(
                ws, lists, q_codes, error=s["error_codes"].format(codes=", ".join(q_codes)), error_title=s["error_title"]
            ).add(ref)
        elif q.type == "integer":
            integer_validation(ws, q.minimum, q.maximum, s).add(ref)
    dv = DataValidation(type="textLength", operator="between", formula1="1", formula2="32", allow_blank=True)
    set_messages(dv, s["error_title"] + " (1-32)", s["error_title"], "", "")
    ws.add_data_validation(dv)
    dv.add(f"A{FIRST_DATA_ROW}:A{last}")

    # unlocked data area, text format for the respondent codes
    last_col = len(columns)
    unlocked = Protection(locked=False)
    fill = PatternFill("solid", fgColor="FFFDF2")
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW, max_row=last, min_col=1, max_col=last_col):
        for cell in row:
            cell.protection = unlocked
            cell.fill = fill
        row[0].number_format = "@"
    for q in form.context_block:
        if q.type == "text":
            for r in range(FIRST_DATA_ROW, last + 1):
                ws[f"{letters[q.id]}{r}"].number_format = "@"
    ws.freeze_panes = f"B{FIRST_DATA_ROW}"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.print_title_rows = f"{LABEL_ROW}:{HEADER_ROW}"
    ws.print_title_cols = "A:A"
    page_setup(ws, paper, landscape=True)
    ws.page_setup.fitToWidth = max(1, -(-last_col // COLUMNS_PER_PAGE))  # readable when printed

    _codes_sheet(wb.create_sheet(s["codes"]), form, lang)
    meta = meta_rows(form, layout="grid", lang=lang, version=version, respondent="", answer_sheet=ws.title, items=items)
    meta += [("header_row", str(HEADER_ROW)), ("first_data_row", str(FIRST_DATA_ROW))]
    meta += [(f"col:{cid}", letters[cid]) for cid, _, _ in columns]
    write_meta(wb, meta)
    return finish_workbook(wb, form, lang)


def write(
    form: Form,
    path: str | os.PathLike,
    *,
    lang: str = "fr",
    version: str | None = None,
    rows: int = ROWS,
    paper: str = "A4",
) -> list[Path]:
    """Write the data-entry grid in one language; returns the files written.

    ``version=None`` writes every order version: A to ``path``, B beside it as
    ``<stem>_B.xlsx``. Example::

        write(form, "out/member_grid_fr.xlsx", lang="fr")

    (In R: a data frame with one column per item written with openxlsx, validations by hand.)
    """
    check_lang(form, lang, "grid.write")
    check_paper(paper, "grid.write")
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= 100_000:
        raise ValueError(f"The 'rows' parameter of grid.write must be a whole number from 1 to 100000; got {rows!r}.")
    targets = version_paths(form, path, version, "grid.write")
    written = []
    for label, target in targets:
        wb = build_workbook(form, lang=lang, version=label, rows=rows, paper=paper)
        save_workbook(wb, target)  # atomic, and the same bytes for the same form
        written.append(target)
    return written
