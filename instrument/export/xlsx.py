"""The respondent workbook (.xlsx): one questionnaire to send by e-mail and get back.

Follows the returned-workbook contract (layout ``respondent``): an ``Instructions`` sheet,
a ``Questionnaire`` sheet (the context block, then one row per item: n°, the item code in
a hidden column, the text, the answer cell), and the hidden ``_meta`` sheet
(``veryHidden``) that lets :mod:`instrument.returns` match a returned file to its form.

Answer cells hold a drop-down list of labelled answers (``"4 - Plutôt d'accord"``,
``"8 - Je ne sais pas"``...) with an error message in the form's language; they are the
only unlocked cells and every sheet is protected WITHOUT a password (protection prevents
slips, not a determined user; the reader checks every cell anyway). Excel limits an
inline list to 255 characters and forbids commas inside its entries: a longer list, or
one whose labels hold a comma or a quote, is read from a range on the hidden ``_lists``
sheet instead. The page setup fits the width of the sheet on the paper (A4 or Letter)
and repeats the header row on every page. On screen, rows 1 to 3 (title, form line, column
headers) are frozen, so the "Your answer" column stays named while the respondent scrolls;
the answer cells are where every workbook already sent out has them (the ``_meta`` cell
map of earlier returns is still the form's: ``tests/sent/``). The Instructions sheet names every recall
period the items use (a form mixes "since you joined" with "since your organization
joined"...), not only the form's own.

Counterbalanced forms give one workbook per order version (``member_fr.xlsx`` for A,
``member_fr_B.xlsx`` for B); a personalized workbook (``respondent="R017"``) shows the
respondent code on both sheets and stores it in ``_meta``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from instrument.export.common import (
    STRINGS,
    answer_labels,
    blocks,
    check_lang,
    labelled,
    ordered_items,
    question_letter,
    recall_text,
    version_paths,
)
from instrument.files import save_workbook
from instrument.model import Form
from instrument.typography import Typography

__all__ = [
    "META_SHEET",
    "PAPER_SIZES",
    "ListSheet",
    "add_list_validation",
    "build_workbook",
    "check_paper",
    "finish_workbook",
    "integer_validation",
    "meta_rows",
    "page_setup",
    "put",
    "set_messages",
    "write",
    "write_meta",
]

META_SHEET = "_meta"
LISTS_SHEET = "_lists"
#: openpyxl paperSize codes.
PAPER_SIZES = {"a4": 9, "letter": 1}
INLINE_LIST_LIMIT = 255

GREY = Font(color="808080", size=9)
BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
BLOCK_FILL = PatternFill("solid", fgColor="EEF2F7")
ANSWER_FILL = PatternFill("solid", fgColor="FFF9E0")
THIN = Side(style="thin", color="A0A0A0")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)


def put(ws, ref: str, value):
    """Write a value as data: a text starting with '=' stays text (never a formula)."""
    cell = ws[ref]
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def meta_rows(form: Form, *, layout: str, lang: str, version: str, respondent: str, answer_sheet: str, items) -> list[tuple[str, str]]:
    """The first rows of ``_meta`` (contract order), before the cell/column rows."""
    return [
        ("format", "intangibles-workbook"),
        ("format_version", "1"),
        ("layout", layout),
        ("form_id", form.id),
        ("form_version", form.version),
        ("form_hash", form.hash),
        ("language", lang),
        ("order_version", version),
        ("respondent", respondent),
        ("answer_sheet", answer_sheet),
        ("items", ",".join(it.id for it in items)),
        ("context", ",".join(q.id for q in form.context_block)),
    ]


def write_meta(wb, rows: list[tuple[str, str]]):
    """Add the ``_meta`` sheet (veryHidden, protected): column A keys, column B values."""
    ws = wb.create_sheet(META_SHEET)
    for r, (key, value) in enumerate(rows, start=1):
        ws.cell(row=r, column=1).value = key
        cell = ws.cell(row=r, column=2)
        cell.value = str(value)
        cell.data_type = "s"
    ws.sheet_state = "veryHidden"
    ws.protection.sheet = True
    return ws


class ListSheet:
    """The hidden ``_lists`` sheet, created on first use, one column per long list."""

    def __init__(self, wb):
        self.wb = wb
        self.ws = None
        self.columns = 0

    def range_for(self, entries: list[str]) -> str:
        if self.ws is None:
            self.ws = self.wb.create_sheet(LISTS_SHEET)
            self.ws.sheet_state = "veryHidden"
            self.ws.protection.sheet = True
        self.columns += 1
        col = get_column_letter(self.columns)
        for r, entry in enumerate(entries, start=1):
            put(self.ws, f"{col}{r}", entry)
        return f"{quote_sheetname(LISTS_SHEET)}!${col}$1:${col}${len(entries)}"


def add_list_validation(ws, lists: ListSheet, entries: list[str], *, error: str, error_title: str, prompt: str = "", prompt_title: str = ""):
    """A list data validation; inline when Excel allows it, else a range on ``_lists``."""
    inline = ",".join(str(e) for e in entries)
    needs_range = len(inline) > INLINE_LIST_LIMIT or any("," in str(e) or '"' in str(e) for e in entries)
    formula = lists.range_for([str(e) for e in entries]) if needs_range else f'"{inline}"'
    dv = DataValidation(type="list", formula1=formula, allow_blank=True, showDropDown=False)
    set_messages(dv, error, error_title, prompt, prompt_title)
    ws.add_data_validation(dv)
    return dv


def set_messages(dv, error, error_title, prompt, prompt_title):
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.errorTitle = error_title[:32]
    dv.error = error[:255]
    if prompt:
        dv.showInputMessage = True
        dv.promptTitle = prompt_title[:32]
        dv.prompt = prompt[:255]


def integer_validation(ws, minimum, maximum, s: dict):
    low = 0 if minimum is None else int(minimum)
    high = 999999 if maximum is None else int(maximum)
    dv = DataValidation(type="whole", operator="between", formula1=str(low), formula2=str(high), allow_blank=True)
    set_messages(
        dv,
        s["error_integer"].format(min=low, max=high),
        s["error_title"],
        s["prompt_integer"].format(min=low, max=high),
        s["prompt_title"],
    )
    ws.add_data_validation(dv)
    return dv


def _height(text: str, chars_per_line: int, line_pt: float = 15.0) -> float:
    lines = sum(max(1, math.ceil(len(part) / chars_per_line)) for part in str(text).split("\n"))
    return max(1, lines) * line_pt + 3


def page_setup(ws, paper: str, *, landscape: bool = False):
    ws.page_setup.paperSize = PAPER_SIZES[paper.lower()]
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6


def check_paper(paper: str, func: str) -> str:
    if str(paper).lower() not in PAPER_SIZES:
        raise ValueError(f"The 'paper' parameter of {func} must be one of ['A4', 'Letter']; got {paper!r}.")
    return str(paper)


def _instructions(ws, form: Form, lang: str, version: str, respondent: str, paper: str):
    typo = Typography(lang)
    s = {k: typo.text(v) for k, v in STRINGS[lang].items()}
    ws.column_dimensions["A"].width = 72
    missing = [c.label[lang] for c in form.response_set.missing]
    dk, na = [*missing, "", ""][:2]
    rows: list[tuple[str, Font | None, float]] = [
        (form.title[lang], Font(bold=True, size=16), 0),
        (s["form_line"].format(id=form.id, version=form.version, order=version), GREY, 0),
    ]
    if respondent:
        rows.append((f"{s['respondent']} : {respondent}" if lang == "fr" else f"{s['respondent']}: {respondent}", BOLD, 0))
    rows.append(("", None, 0))
    if form.introduction.get(lang):
        rows.append((typo.text(form.introduction[lang]), None, 0))
        rows.append(("", None, 0))
    recalls = list(dict.fromkeys(typo.text(recall_text(form, it, lang)).rstrip(".") for it in ordered_items(form, version)))
    recalls = [r for r in recalls if r]
    if recalls:  # every period the form uses, not only the form's own recall
        rows.append((s["recall_title"], Font(bold=True, size=12), 0))
        if len(recalls) == 1:
            rows.append((s["recall"].format(recall=recalls[0]), None, 0))
        else:
            rows.append((s["recalls"].format(n=len(recalls)), None, 0))
            rows += [(f"• {r}…", None, 0) for r in recalls]
        rows.append(("", None, 0))
    rows.append((s["how_title"], Font(bold=True, size=12), 0))
    how = [s["how_1"], s["how_2"]]
    if dk or na:
        how.append(s["how_3"].format(dk=dk, na=na))
    how.append(s["how_4"])
    for n, line in enumerate(how, start=1):
        rows.append((f"{n}. {line}", None, 0))
    rows.append((s["no_right"], None, 0))
    rows.append(("", None, 0))
    rows.append((s["return_title"], Font(bold=True, size=12), 0))
    rows.append((s["return"], None, 0))
    rows.append((s["confidential"], None, 0))
    for r, (text, font, _) in enumerate(rows, start=1):
        cell = put(ws, f"A{r}", text or None)
        cell.alignment = WRAP
        if font is not None:
            cell.font = font
        if text:
            ws.row_dimensions[r].height = _height(text, 74, 16 if font and font.size and font.size > 12 else 15)
    ws.protection.sheet = True
    page_setup(ws, paper)


class _Sheet:
    """The Questionnaire sheet being written, row after row (``r``: the next row)."""

    def __init__(self, ws, wb, lang: str):
        self.ws = ws
        self.typo = Typography(lang)
        self.s = {k: self.typo.text(v) for k, v in STRINGS[lang].items()}
        self.lists = ListSheet(wb)
        self.cells: list[tuple[str, str]] = []  # (question id, answer cell): the _meta cell map
        self.r = 1

    def heading(self, text: str, fill=HEADER_FILL, size=12):
        ws, r = self.ws, self.r
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=4)
        c = put(ws, f"A{r}", text)
        c.font = Font(bold=True, size=size)
        c.fill = fill
        c.alignment = Alignment(wrap_text=True, vertical="center")
        ws.row_dimensions[r].height = _height(text, 90, 18)
        self.r += 1

    def header(self, texts) -> int:
        """A row of column headers (n°, code, text, answer); returns its row."""
        for col, text in zip("ABCD", texts, strict=True):
            c = put(self.ws, f"{col}{self.r}", text)
            c.font = BOLD
            c.fill = HEADER_FILL
            c.border = BOX
            c.alignment = Alignment(vertical="center", wrap_text=True)
        self.r += 1
        return self.r - 1

    def question(self, number, qid: str, text: str, *, border=None) -> str:
        """One question's row: its number, its code (hidden column), its text and its answer
        cell (unlocked, boxed), recorded in the cell map; returns the answer cell."""
        ws, r = self.ws, self.r
        put(ws, f"A{r}", number).alignment = (Alignment(vertical="top", horizontal="right")
                                              if isinstance(number, int) else WRAP)
        c = put(ws, f"B{r}", qid)
        c.font = GREY
        c.alignment = Alignment(vertical="top")
        c = put(ws, f"C{r}", text)
        c.alignment = WRAP
        if border is not None:
            c.border = border
        ws.row_dimensions[r].height = _height(text, 60)
        ref = f"D{r}"
        c = ws[ref]
        c.protection = UNLOCKED
        c.border = BOX
        c.fill = ANSWER_FILL
        c.alignment = Alignment(vertical="top", wrap_text=True)
        self.cells.append((qid, ref))
        self.r += 1
        return ref

    def list_validation(self, entries):
        s = self.s
        return add_list_validation(self.ws, self.lists, entries, error=s["error_list"], error_title=s["error_title"],
                                   prompt=s["prompt_list"], prompt_title=s["prompt_title"])


def _questionnaire(ws, wb, form: Form, lang: str, version: str, respondent: str, paper: str):
    sheet = _Sheet(ws, wb, lang)
    _top(sheet, form, lang, version, respondent)
    _context_rows(sheet, form, lang)
    sheet.heading(sheet.s["items_title"])
    header_row = sheet.header((sheet.s["number"], sheet.s["id"], sheet.s["statement"], sheet.s["answer"]))
    shown = _item_rows(sheet, form, lang, version)
    sheet.r += 1
    ws.merge_cells(start_row=sheet.r, start_column=1, end_row=sheet.r, end_column=4)
    put(ws, f"A{sheet.r}", sheet.s["thanks"]).font = BOLD
    ws.protection.sheet = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    page_setup(ws, paper)
    ws.oddFooter.center.text = f"{form.id} {form.version} ({version}) — &P / &N"
    ws.oddFooter.center.size = 8
    return sheet.cells, shown


def _top(sheet: _Sheet, form: Form, lang: str, version: str, respondent: str) -> None:
    """Rows 1 to 3, frozen: the title, the form line (and respondent code), the column
    headers. The answer cells below stay where every workbook already sent out has them
    (row 3 was empty): the cell map in ``_meta`` of earlier returns is still the form's."""
    ws, s = sheet.ws, sheet.s
    for col, width in {"A": 5, "B": 8, "C": 58, "D": 34}.items():
        ws.column_dimensions[col].width = width
    ws.merge_cells("A1:D1")
    title = put(ws, "A1", form.title[lang])
    title.font = Font(bold=True, size=14)
    title.alignment = WRAP
    ws.row_dimensions[1].height = _height(form.title[lang], 80, 20)
    line = s["form_line"].format(id=form.id, version=form.version, order=version)
    if respondent:
        line = f"{s['respondent']} : {respondent} — {line}" if lang == "fr" else f"{s['respondent']}: {respondent} — {line}"
    ws.merge_cells("A2:D2")
    cell = put(ws, "A2", line)
    cell.font = Font(bold=bool(respondent), color="404040", size=10)
    sheet.r = 3
    sheet.header((s["number"], s["id"], s["question"], s["answer"]))
    ws.freeze_panes = "A4"  # the title and the column headers stay in sight
    # the item codes: for the reader, not the respondent
    ws.column_dimensions["B"].hidden = True


def _context_rows(sheet: _Sheet, form: Form, lang: str) -> None:
    """"About you": one row per context question, lettered A, B, C..."""
    if not form.context_block:
        return
    ws = sheet.ws
    sheet.heading(sheet.s["about_you"])
    for index, q in enumerate(form.context_block):
        ref = sheet.question(question_letter(index), q.id,
                             sheet.typo.text(q.label[lang]))
        if q.type == "select_one":
            sheet.list_validation([labelled(ch, lang) for ch in q.choices]).add(ref)
        elif q.type == "integer":
            integer_validation(ws, q.minimum, q.maximum, sheet.s).add(ref)
        else:
            ws[ref].number_format = "@"
    sheet.r += 1


def _item_rows(sheet: _Sheet, form: Form, lang: str, version: str) -> list:
    """The items block by block, each under its heading and recall lead-in (repeated when
    the period changes); returns the items in the order shown."""
    ws, typo = sheet.ws, sheet.typo
    item_dv = sheet.list_validation(answer_labels(form.response_set, lang))
    line = Border(bottom=Side(style="hair", color="C0C0C0"))
    previous_recall = previous_label = None
    shown = []
    for block in blocks(form, version):
        if block.label[lang] != previous_label:
            sheet.heading(block.label[lang], BLOCK_FILL, 11)
            previous_label = block.label[lang]
            previous_recall = None
        if block.recall[lang] and block.recall[lang] != previous_recall:
            r = sheet.r
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=4)
            c = put(ws, f"A{r}", typo.text(block.recall[lang]).rstrip(".") + "…")
            c.font = Font(italic=True)
            c.alignment = WRAP
            ws.row_dimensions[r].height = _height(c.value, 90)
            sheet.r += 1
            previous_recall = block.recall[lang]
        for it in block.items:
            shown.append(it)
            item_dv.add(sheet.question(len(shown), it.id, typo.text(form.texts[it.id][lang]), border=line))
    return shown


def build_workbook(form: Form, *, lang: str, version: str, respondent: str = "", paper: str = "A4",
                   prefill: dict | None = None) -> Workbook:
    """The respondent workbook in memory (see :func:`write`)."""
    s = STRINGS[lang]
    wb = Workbook()
    ws_i = wb.active
    ws_i.title = s["instructions"]
    _instructions(ws_i, form, lang, version, respondent, paper)
    ws_q = wb.create_sheet(s["questionnaire"])
    cells, shown = _questionnaire(ws_q, wb, form, lang, version, respondent, paper)
    rows = meta_rows(
        form, layout="respondent", lang=lang, version=version, respondent=respondent, answer_sheet=ws_q.title, items=shown
    )
    rows += [(f"cell:{key}", ref) for key, ref in cells]
    _prefill(ws_q, form, lang, cells, prefill or {})
    write_meta(wb, rows)
    return finish_workbook(wb, form, lang)


def _prefill(ws, form: Form, lang: str, cells, prefill: dict) -> None:
    """Context answers known from the roster (organization, consortium, role), as the
    respondent would have typed or picked them (a choice as its labelled list entry)."""
    questions = {q.id: q for q in form.context_block}
    for qid, ref in cells:
        if qid in prefill and qid in questions:
            choices = {c.code: c for c in questions[qid].choices}
            value = prefill[qid]
            ws[ref].value = text = labelled(choices[value], lang) if value in choices else str(value)
            row = ws[ref].row  # a long pre-filled answer wraps in the answer column: room for it
            ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 0, _height(text, 34))


def finish_workbook(wb: Workbook, form: Form, lang: str) -> Workbook:
    """First sheet active, structure locked (no sheet added, deleted or unhidden), properties set."""
    wb.active = 0
    wb.security = WorkbookProtection(lockStructure=True)
    wb.properties.title = form.title[lang]
    wb.properties.creator = "intangibles"
    wb.properties.language = lang
    return wb


def write(
    form: Form,
    path: str | os.PathLike,
    *,
    lang: str = "fr",
    version: str | None = None,
    respondent: str = "",
    paper: str = "A4",
    prefill: dict | None = None,
) -> list[Path]:
    """Write the respondent workbook in one language; returns the files written.

    ``prefill``: context question id -> answer (a choice code, or a text), written into its
    answer cell (the roster's organization, consortium and role).

    ``version=None`` writes every order version: A to ``path``, B beside it as
    ``<stem>_B.xlsx``; ``version="B"`` writes only B to ``path``. Example::

        write(form, "out/member_fr.xlsx", lang="fr")
        write(form, "out/respondents/member_R017_fr.xlsx", lang="fr", version="B", respondent="R017")

    (In R one would build it cell by cell with openxlsx::dataValidation and protectWorksheet.)
    """
    check_lang(form, lang, "xlsx.write")
    check_paper(paper, "xlsx.write")
    targets = version_paths(form, path, version, "xlsx.write")
    written = []
    for label, target in targets:
        wb = build_workbook(form, lang=lang, version=label, respondent=respondent, paper=paper, prefill=prefill)
        save_workbook(wb, target)  # atomic, and the same bytes for the same form
        written.append(target)
    return written
