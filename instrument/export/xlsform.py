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

A form with a roster question (``network:`` in its spec) asks it on its own pages after
the context block (:func:`roster_rows`: a ``select_multiple`` of the organizations, then one
page per organization checked).

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

__all__ = ["LANGUAGE_NAMES", "block_rows", "context_rows", "roster_rows", "rows", "survey_row", "write"]

#: XLSForm language names (name + ISO code, as ODK recommends).
LANGUAGE_NAMES = {"fr": "Français (fr)", "en": "English (en)"}

_SURVEY_BASE = ["type", "name"]
_SURVEY_TRANSLATED = ["label", "hint"]
_SURVEY_PLAIN = ["required"]
_SURVEY_TAIL = ["appearance", "relevant", "constraint"]


def _tr(column: str, lang: str) -> str:
    return f"{column}::{LANGUAGE_NAMES[lang]}"


def survey_row(langs, type_, name, label=None, hint=None, **extra) -> dict:
    """One row of the survey sheet: ``label``, ``hint`` and any dict-valued ``extra``
    (``constraint_message``) in every language; other extras as they are when not empty."""
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
    return row


def _choice_rows(list_name: str, choices, langs) -> list[dict]:
    return [{"list_name": list_name, "name": str(c.code), **{_tr("label", lang): c.label[lang] for lang in langs}}
            for c in choices]


def rows(form: Form) -> dict[str, list[dict]]:
    """The three sheets as lists of row dicts (column -> value): the introduction, the
    context page, the roster's pages, one page per block of items; the settings."""
    langs = list(form.languages)
    intro = {lang: form.introduction.get(lang, "") for lang in langs}
    survey = [survey_row(langs, "note", "intro", intro)]
    net = roster(form)
    context_survey, choices = context_rows(form, net.ids() | {"net_self"} if net else set())
    survey += context_survey
    if net:
        roster_survey, roster_choices = roster_rows(form, net)
        survey += roster_survey
        choices += roster_choices
    survey += block_rows(form)
    choices += _choice_rows(form.response_set.id, form.response_set.all_choices(), langs)
    settings = [
        {
            "form_title": form.title[langs[0]],
            "form_id": form.id,
            "version": form.version,
            "default_language": LANGUAGE_NAMES[langs[0]],
            "style": "pages",
        }
    ]
    return typeset({"survey": survey, "choices": choices, "settings": settings}, langs)


def context_rows(form: Form, skip: set) -> tuple[list[dict], list[dict]]:
    """The context block on one page (``skip``: the questions asked elsewhere): select_one
    with its choice list (and its ``relevant`` when asked only after an answer), integer
    with its range constraint, text. Returns the survey and choices rows."""
    langs = list(form.languages)
    asked = [q for q in form.context_block if q.id not in skip]
    if not asked:
        return [], []
    survey = [survey_row(langs, "begin_group", "context", {lang: STRINGS[lang]["about_you"] for lang in langs},
                         appearance="field-list")]
    choices: list[dict] = []
    for q in asked:
        label = {lang: q.label.get(lang, "") for lang in langs}
        required = "yes" if q.required else ""
        if q.type == "select_one":
            relevant = f"${{{q.ask_if[0]}}} = '{q.ask_if[1]}'" if q.ask_if else ""
            survey.append(survey_row(langs, f"select_one ctx_{q.id}", q.id, label, required=required,
                                     relevant=relevant))
            choices += _choice_rows(f"ctx_{q.id}", q.choices, langs)
        elif q.type == "integer":
            survey.append(_integer_row(q, label, langs))
        else:
            survey.append(survey_row(langs, "text", q.id, label, required=required))
    survey.append(survey_row(langs, "end_group", ""))
    return survey, choices


def _integer_row(q, label: dict, langs) -> dict:
    """An integer question with its range as a constraint, a hint and a message."""
    parts = []
    if q.minimum is not None:
        parts.append(f". >= {int(q.minimum)}")
    if q.maximum is not None:
        parts.append(f". <= {int(q.maximum)}")
    low = 0 if q.minimum is None else int(q.minimum)
    high = "" if q.maximum is None else int(q.maximum)
    message = {lang: STRINGS[lang]["integer_constraint"].format(min=low, max=high) for lang in langs}
    hint = {lang: STRINGS[lang]["prompt_integer"].format(min=low, max=high) for lang in langs}
    return survey_row(langs, "integer", q.id, label, hint=hint if parts else None,
                      required="yes" if q.required else "", constraint=" and ".join(parts),
                      constraint_message=message if parts else None)


def block_rows(form: Form) -> list[dict]:
    """One page per block of items: its recall lead-in as a note (when it changes), then
    the items as ``select_one <response set>`` with ``appearance: likert``."""
    langs = list(form.languages)
    rs = form.response_set
    out: list[dict] = []
    previous_recall = None
    for block in blocks(form, "A"):
        group = f"g_{block.name}"
        out.append(survey_row(langs, "begin_group", group, {lang: block.label.get(lang, "") for lang in langs},
                              appearance="field-list"))
        if block.recall and block.recall != previous_recall:
            recall = {lang: block.recall[lang].rstrip(".") + "…" for lang in langs}
            out.append(survey_row(langs, "note", f"{group}_recall", recall))
            previous_recall = block.recall
        for it in block.items:
            text = {lang: form.texts[it.id].get(lang, "") for lang in langs}
            out.append(survey_row(langs, f"select_one {rs.id}", it.id, text, appearance="likert"))
        out.append(survey_row(langs, "end_group", ""))
    return out


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
        return survey_row(langs, type_, name, label, **extra)

    survey = [row("begin_group", "network", net.title, appearance="field-list"),
              row("select_one ctx_net_self", "net_self", self_q.label, required="yes"),
              row("select_multiple ctx_net_self", SELECTION_ID, net.label,
                  constraint="not(selected(., ${net_self}))", constraint_message=net.self_note),
              row("end_group", "")]
    choices = _choice_rows("ctx_net_self", self_q.choices, langs)
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
