"""The bilingual XLSForm (.xlsx) for KoboToolbox / ODK Collect / Enketo.

Sheets ``survey``, ``choices`` and ``settings``; every label, hint and constraint message
is given in both languages (``label::Français (fr)``, ``label::English (en)``...), French
by default. The survey holds an introduction note, the context block in one page
(select_one with its choice list, integer with a range constraint, text), then one page
per block of items (a ``begin_group`` with ``appearance: field-list``: a note with the
recall context, then the items as ``select_one <response set>`` with
``appearance: likert``). The response set's list holds the scored codes (1-5) and the
missing codes (8, 9) with their labels, so the submitted values are the codes the scoring
expects. Items follow order version A; platforms randomize on their own if wanted.

Converted with pyxform (``pyxform.xls2xform.convert``) in the tests.
"""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from instrument.collaboration import SELECTION_ID, roster
from instrument.export.common import STRINGS, blocks
from instrument.files import save_workbook
from instrument.model import Form
from instrument.typography import Typography

__all__ = ["LANGUAGE_NAMES", "roster_rows", "rows", "write"]

#: XLSForm language names (name + ISO code, as ODK recommends).
LANGUAGE_NAMES = {"fr": "Français (fr)", "en": "English (en)"}

_SURVEY_BASE = ["type", "name"]
_SURVEY_TRANSLATED = ["label", "hint"]
_SURVEY_PLAIN = ["required"]
_SURVEY_TAIL = ["appearance", "relevant", "constraint"]


def _tr(column: str, lang: str) -> str:
    return f"{column}::{LANGUAGE_NAMES[lang]}"


def rows(form: Form) -> dict[str, list[dict]]:
    """The three sheets as lists of row dicts (column -> value)."""
    langs = list(form.languages)
    survey: list[dict] = []
    choices: list[dict] = []

    def text(values: dict) -> dict:
        return {lang: values.get(lang, "") for lang in langs}

    def add(type_, name, label=None, hint=None, **extra):
        row = {"type": type_, "name": name}
        for lang in langs:
            if label is not None:
                row[_tr("label", lang)] = label.get(lang, "")
            if hint is not None and hint.get(lang):
                row[_tr("hint", lang)] = hint[lang]
        for key, value in extra.items():
            if isinstance(value, dict):
                for lang in langs:
                    row[_tr(key, lang)] = value.get(lang, "")
            elif value not in (None, ""):
                row[key] = value
        survey.append(row)

    intro = {lang: form.introduction.get(lang, "") for lang in langs}
    add("note", "intro", text(intro))

    net = roster(form)
    skip = net.ids() | {"net_self"} if net else set()
    if any(q.id not in skip for q in form.context_block):
        add("begin_group", "context", {lang: STRINGS[lang]["about_you"] for lang in langs}, appearance="field-list")
        for q in form.context_block:
            if q.id in skip:
                continue  # asked on the roster's own pages (roster_rows)
            if q.type == "select_one":
                list_name = f"ctx_{q.id}"
                relevant = f"${{{q.ask_if[0]}}} = '{q.ask_if[1]}'" if q.ask_if else ""
                add(f"select_one {list_name}", q.id, text(q.label), required="yes" if q.required else "",
                    relevant=relevant)
                for c in q.choices:
                    choices.append({"list_name": list_name, "name": str(c.code), **{_tr("label", lang): c.label[lang] for lang in langs}})
            elif q.type == "integer":
                parts = []
                if q.minimum is not None:
                    parts.append(f". >= {int(q.minimum)}")
                if q.maximum is not None:
                    parts.append(f". <= {int(q.maximum)}")
                low = 0 if q.minimum is None else int(q.minimum)
                high = "" if q.maximum is None else int(q.maximum)
                message = {lang: STRINGS[lang]["integer_constraint"].format(min=low, max=high) for lang in langs}
                add(
                    "integer",
                    q.id,
                    text(q.label),
                    hint={lang: STRINGS[lang]["prompt_integer"].format(min=low, max=high) for lang in langs} if parts else None,
                    required="yes" if q.required else "",
                    constraint=" and ".join(parts),
                    constraint_message=message if parts else None,
                )
            else:
                add("text", q.id, text(q.label), required="yes" if q.required else "")
        add("end_group", "")
    if net:
        roster_survey, roster_choices = roster_rows(form, net)
        survey += roster_survey
        choices += roster_choices

    rs = form.response_set
    previous_recall = None
    for block in blocks(form, "A"):
        group = f"g_{block.name}"
        add("begin_group", group, text(block.label), appearance="field-list")
        if block.recall and block.recall != previous_recall:
            add("note", f"{group}_recall", {lang: block.recall[lang].rstrip(".") + "…" for lang in langs})
            previous_recall = block.recall
        for it in block.items:
            add(f"select_one {rs.id}", it.id, text(form.texts[it.id]), appearance="likert")
        add("end_group", "")
    for c in rs.all_choices():
        choices.append({"list_name": rs.id, "name": str(c.code), **{_tr("label", lang): c.label[lang] for lang in langs}})

    default = LANGUAGE_NAMES[langs[0]]
    settings = [
        {
            "form_title": form.title[langs[0]],
            "form_id": form.id,
            "version": form.version,
            "default_language": default,
            "style": "pages",
        }
    ]
    return typeset({"survey": survey, "choices": choices, "settings": settings}, langs)


#: The translated columns a respondent reads.
_READ = ("label", "hint", "constraint_message")


def typeset(sheets: dict, langs: list) -> dict:
    """Labels, hints and messages with the spaces of their column's language
    (:class:`~instrument.typography.Typography`); names and expressions are left alone."""
    typo = {lang: Typography(lang) for lang in langs}
    columns = {_tr(col, lang): typo[lang] for col in _READ for lang in langs}
    for sheet in ("survey", "choices"):
        for row in sheets[sheet]:
            for col, t in columns.items():
                if row.get(col):
                    row[col] = t.text(row[col])
    for row in sheets["settings"]:
        row["form_title"] = typo[langs[0]].text(row["form_title"])
    return sheets


def roster_rows(form: Form, net) -> tuple[list[dict], list[dict]]:
    """The roster question (:func:`instrument.collaboration.roster`) as Kobo and ODK users
    expect it: one page with ``net_self`` (which organization you answer for) and
    ``net_with``, a ``select_multiple`` of the organizations (the same choice list, so a
    constraint refuses your own), then one page per organization, shown only when it was
    checked (``relevant = selected(${net_with}, 'k')``), with its frequency, trust and value
    (1-4). Flat groups, not a repeat: every answer stays in the submission's one row of the
    export (Kobo's and ODK's repeat exports are separate sheets or files). Returns the survey
    and choices rows."""
    langs = list(form.languages)
    self_q = next(q for q in form.context_block if q.id == "net_self")

    def row(type_, name, label=None, **extra):
        out = {"type": type_, "name": name}
        for key, value in (("label", label), *extra.items()):
            if isinstance(value, dict):
                out.update({_tr(key, lang): value.get(lang, "") for lang in langs})
            elif value not in (None, ""):
                out[key] = value
        return out

    survey = [row("begin_group", "network", net.title, appearance="field-list"),
              row("select_one ctx_net_self", "net_self", self_q.label, required="yes"),
              row("select_multiple ctx_net_self", SELECTION_ID, net.label,
                  constraint="not(selected(., ${net_self}))", constraint_message=net.self_note),
              row("end_group", "")]
    choices = [{"list_name": "ctx_net_self", "name": str(c.code), **{_tr("label", lang): c.label[lang] for lang in langs}}
               for c in self_q.choices]
    for code, org, name, ratings, labels in zip(net.codes, net.org_codes, net.names, net.ratings, net.labels,
                                                 strict=True):
        survey.append(row("begin_group", f"net_{org.lower()}", name, appearance="field-list",
                          relevant=f"selected(${{{SELECTION_ID}}}, '{code}')"))
        survey += [row(f"select_one net_{attr}", qid, labels[attr]) for attr, qid in ratings.items()]
        survey.append(row("end_group", ""))
    for attr, answers in net.choice_labels.items():
        choices += [{"list_name": f"net_{attr}", "name": str(code), **{_tr("label", lang): label[lang] for lang in langs}}
                    for code, label in answers]
    return survey, choices


def _columns(form: Form) -> dict[str, list[str]]:
    langs = list(form.languages)
    survey = list(_SURVEY_BASE)
    survey += [_tr(col, lang) for col in _SURVEY_TRANSLATED for lang in langs]
    survey += _SURVEY_PLAIN + _SURVEY_TAIL
    survey += [_tr("constraint_message", lang) for lang in langs]
    choices = ["list_name", "name"] + [_tr("label", lang) for lang in langs]
    settings = ["form_title", "form_id", "version", "default_language", "style"]
    return {"survey": survey, "choices": choices, "settings": settings}


def write(form: Form, path: str | os.PathLike) -> list[Path]:
    """Write the bilingual XLSForm; returns ``[path]``. Example::

        write(form, "out/member_xlsform.xlsx")
        # then: xls2xform out/member_xlsform.xlsx out/member.xml

    (R has no XLSForm writer; people fill the template by hand.)
    """
    data = rows(form)
    columns = _columns(form)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in ("survey", "choices", "settings"):
        ws = wb.create_sheet(sheet)
        header = columns[sheet]
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in data[sheet]:
            ws.append([row.get(col, "") or None for col in header])
        for line in ws.iter_rows(min_row=2):
            for cell in line:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
        for index, col in enumerate(header, start=1):
            width = 48 if col.startswith(("label", "hint")) else 18
            ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = width
        ws.freeze_panes = "A2"
    path = Path(path)
    save_workbook(wb, path)  # atomic, and the same bytes for the same form
    return [path]
