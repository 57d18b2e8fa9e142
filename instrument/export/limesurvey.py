"""The LimeSurvey survey structure, tab-separated (.txt): "Import survey" in LimeSurvey.

The format is LimeSurvey's "Tab Separated Values format (*.txt)" survey structure (see the
LimeSurvey manual, "Tab Separated Value survey structure"): UTF-8 with a byte-order mark,
one header row, then one row per survey setting (class ``S``), per language setting
(``SL``), group (``G``), question (``Q``), subquestion (``SQ``) and answer (``A``).
Columns: the 14 base columns ``id, related_id, class, type/scale, name, relevance, text,
help, language, validation, mandatory, other, default, same_default``, then
``assessment_value`` (what LimeSurvey's importer reads for an answer's assessment value;
older importers read it from ``relevance``, so A rows carry it there too) and the question
attributes used here (``min_num_value``, ``max_num_value``, ``random_order``).

Languages: the whole structure in French (the base language) then a copy in English,
row for row, with the same ids (this is how LimeSurvey matches a translation to its
question).

Layout: a group "À propos de vous" with the context block (list ``L`` with its codes,
numerical ``N`` with its range, short text ``S``), then one group per block of items (see
:func:`instrument.export.common.blocks`), each holding array questions (type ``F``,
"Array") whose subquestions are the items.

A roster question (``network:`` in the spec) is its own group after the context block
(:func:`roster_structure`: a multiple choice of the organizations and three arrays filtered
by it).

Reverse keys: in LimeSurvey answer options (and their assessment values) belong to a
question, not to a subquestion, so each block is split into TWO arrays: ``<block>P`` with
the ``+`` items, whose answers 1-5 have assessment values 1-5, and ``<block>N`` with the
``-`` (reverse-keyed) items, whose answers 1-5 have assessment values 5-1. The stored
answer codes stay 1-5 in both (the same codes as every other export; scoring reverse-keys
them itself); LimeSurvey's assessment total is the reverse-keyed sum. The missing codes
(8 "Je ne sais pas", 9 "Ne s'applique pas") are extra answers WITHOUT an assessment
value: LimeSurvey would count any value in its sum (0 would read as "below strongly
disagree", the midpoint as an invented answer), so a survey whose response set has
missing codes does not use assessments (``assessments = N``; score with ``intangibles
score``); one without them does (``assessments = Y``).

Recall lead-ins: each block's recall context ("Depuis que vous participez...") is the
text of its first array only; the second array of the block (the other polarity) says
"(suite)" / "(continued)", and the group has no description, so the lead-in appears once
per page. When the form's order is not
grouped by construct, the arrays ask LimeSurvey to shuffle their subquestions
(``random_order = 1``). Question codes are letters and digits only (LimeSurvey's rule):
``consortium_id`` becomes ``consortiumid``; response columns come out as ``trustP[trcpi1]``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from instrument.collaboration import roster
from instrument.export.common import STRINGS, blocks, is_grouped
from instrument.files import write_bytes
from instrument.model import Form
from instrument.typography import Typography

__all__ = ["BASE_COLUMNS", "COLUMNS", "question_code", "rows", "write"]

BASE_COLUMNS = [
    "id",
    "related_id",
    "class",
    "type/scale",
    "name",
    "relevance",
    "text",
    "help",
    "language",
    "validation",
    "mandatory",
    "other",
    "default",
    "same_default",
]
COLUMNS = [*BASE_COLUMNS, "assessment_value", "max_num_value", "min_num_value", "random_order", "array_filter"]

_NOT_CODE = re.compile(r"[^A-Za-z0-9]")


def question_code(name: str, limit: int = 20) -> str:
    """A LimeSurvey question code: letters and digits, starting with a letter, <= 20 chars."""
    code = _NOT_CODE.sub("", name)
    if not code or not code[0].isalpha():
        code = "q" + code
    return code[:limit]


def _clean(text: str) -> str:
    """One line of text (LimeSurvey's TSV export strips line breaks; HTML is allowed)."""
    return "<br />".join(line.strip() for line in str(text).splitlines()).replace("\t", " ")


def rows(form: Form) -> list[dict]:
    """Every row of the file, as dicts column -> value: the survey settings, then the
    structure (groups, questions, subquestions, answers) once per language."""
    langs = list(form.languages)
    ids = _Ids()
    structure = context_structure(form, ids) + roster_structure(form, ids) + blocks_structure(form, ids)
    out = survey_settings(form)
    for lang in langs:
        out += [_ROW[entry[0]](entry, lang, lang == langs[0]) for entry in structure]
    return typeset(out)


def typeset(out: list[dict]) -> list[dict]:
    """Every text a respondent reads (``text``; a group's ``name``) with the spaces of its
    row's language (:class:`~instrument.typography.Typography`); codes are left alone."""
    typo = {}
    for row in out:
        lang = row.get("language")
        if lang:
            t = typo.setdefault(lang, Typography(lang))
            row["text"] = t.text(row.get("text", ""))
            if row.get("class") == "G":
                row["name"] = t.text(row["name"])
    return out


def survey_settings(form: Form) -> list[dict]:
    """The ``S`` rows (languages, assessments, one group per page) and, per language, the
    ``SL`` rows (title, description, welcome text with the recall period, end text)."""
    langs = list(form.languages)
    rs = form.response_set
    out: list[dict] = [
        {"class": "S", "name": "language", "text": langs[0]},
        {"class": "S", "name": "additional_languages", "text": " ".join(langs[1:])},
        {"class": "S", "name": "assessments", "text": "N" if rs.missing else "Y"},
        {"class": "S", "name": "format", "text": "G"},
        {"class": "S", "name": "showgroupinfo", "text": "B"},
    ]
    for lang in langs:
        s = STRINGS[lang]
        welcome = form.introduction.get(lang, "")
        if form.recall.get(lang):
            welcome += "\n" + s["recall"].format(recall=form.recall[lang].rstrip("."))
        for name, text in (
            ("surveyls_title", form.title[lang]),
            ("surveyls_description", form.introduction.get(lang, "")),
            ("surveyls_welcometext", welcome),
            ("surveyls_endtext", s["thanks"]),
        ):
            out.append({"class": "SL", "name": name, "text": _clean(text), "language": lang})
    return out


class _Ids:
    """The numbering of one structure: group and question ids, and question codes unique
    ignoring case (LimeSurvey's rule), each at most 20 characters."""

    def __init__(self):
        self.group = self.question = 0
        self.used: set[str] = set()
        self.codes: dict = {}  # context question id -> its LimeSurvey code (for relevance equations)

    def next_group(self) -> int:
        self.group += 1
        return self.group

    def next_question(self) -> int:
        self.question += 1
        return self.question

    def unique(self, code: str) -> str:
        candidate, n = code, 1
        while candidate.lower() in self.used:
            n += 1
            suffix = str(n)
            candidate = code[: 20 - len(suffix)] + suffix
        self.used.add(candidate.lower())
        return candidate


def context_structure(form: Form, ids: _Ids) -> list[tuple]:
    """The group "À propos de vous": one question per context question (list ``L`` with its
    answers, numerical ``N`` with its range, short text ``S``), as structure entries."""
    net = roster(form)
    asked = [q for q in form.context_block if not net or q.id not in net.ids()]
    if not asked:
        return []
    langs = list(form.languages)
    out: list[tuple] = [("G", ids.next_group(), {lang: STRINGS[lang]["about_you"] for lang in langs}, {})]
    for q in asked:
        qid = ids.next_question()
        code = ids.codes[q.id] = ids.unique(question_code(q.id))
        if q.type == "select_one":
            shown = {"relevance": f"{ids.codes[q.ask_if[0]]}.NAOK == {q.ask_if[1]}"} if q.ask_if else {}
            out.append(("Q", qid, "L", code, q.label, q.required, shown))
            out += [("A", qid, str(c.code), c.label, "") for c in q.choices]
        elif q.type == "integer":
            attrs = {}
            if q.minimum is not None:
                attrs["min_num_value"] = str(int(q.minimum))
            if q.maximum is not None:
                attrs["max_num_value"] = str(int(q.maximum))
            out.append(("Q", qid, "N", code, q.label, q.required, attrs))
        else:
            out.append(("Q", qid, "S", code, q.label, q.required, {}))
    return out


def roster_structure(form: Form, ids: _Ids) -> list[tuple]:
    """The roster question as LimeSurvey users expect it, on its own page: a multiple choice
    (``M``, ``netwith``) whose subquestions are the organizations (your own hidden by its
    relevance, ``netself.NAOK != k``), then one array (``F``) per rating (frequency, trust,
    value; answers 1-4), each filtered by the multiple choice (``array_filter = netwith``)
    so only the organizations checked are rated. Response columns: ``netwith[CISSS]``
    ("Y" when checked), ``netfreq[CISSS]``...; each subquestion row carries its form id."""
    net = roster(form)
    if net is None:
        return []
    langs = list(form.languages)
    subcodes = _unique_codes(net.org_codes)
    out: list[tuple] = [("G", ids.next_group(), net.title, {})]
    selection = ids.unique("netwith")
    qid = ids.next_question()
    out.append(("Q", qid, "M", selection, net.label, False, {}))
    self_code = ids.codes.get("net_self")
    for k, (sub, name, with_id) in enumerate(zip(subcodes, net.names, net.with_ids, strict=True), start=1):
        shown = f"{self_code}.NAOK != {k}" if self_code else "1"
        out.append(("SQ", ids.next_question(), sub, {lang: name[lang] for lang in langs}, with_id, shown))
    for attr, header in net.headers.items():
        qid = ids.next_question()
        out.append(("Q", qid, "F", ids.unique("net" + _SUFFIX_CODE[attr]), header, False, {"array_filter": selection}))
        for sub, name, ratings in zip(subcodes, net.names, net.ratings, strict=True):
            out.append(("SQ", ids.next_question(), sub, {lang: name[lang] for lang in langs}, ratings[attr]))
        out += [("A", qid, str(code), label, "") for code, label in net.choice_labels[attr]]
    return out


_SUFFIX_CODE = {"frequency": "freq", "trust": "trust", "value": "value"}


def _unique_codes(codes) -> list[str]:
    """Subquestion codes (letters and digits) for the organizations, distinct ignoring case."""
    out: list[str] = []
    for code in codes:
        candidate, n = question_code(code), 1
        while candidate.lower() in {c.lower() for c in out}:
            n += 1
            candidate = question_code(code, 20 - len(str(n))) + str(n)
        out.append(candidate)
    return out


def blocks_structure(form: Form, ids: _Ids) -> list[tuple]:
    """One group per block of items, each with its ``+`` array then its ``-`` array (the
    recall lead-in on the first, "(suite)" on the second), as structure entries."""
    langs = list(form.languages)
    random_order = "" if is_grouped(form, "A") else "1"
    out: list[tuple] = []
    for block in blocks(form, "A"):
        out.append(("G", ids.next_group(), block.label, None))
        lead = {lang: _clean(block.recall.get(lang, "")).rstrip(".") + "…" for lang in langs}
        for polarity, tag in (("+", "P"), ("-", "N")):
            members = [it for it in block.items if it.polarity == polarity]
            if not members:
                continue
            code = ids.unique(question_code(block.name, 19) + tag)
            label, lead = lead, {lang: STRINGS[lang]["continued"] for lang in langs}
            out += array_structure(form, ids, code, label, members, polarity, random_order)
    return out


def array_structure(form: Form, ids: _Ids, code: str, label: dict, members, polarity: str,
                    random_order: str) -> list[tuple]:
    """One array (``F``): its items as subquestions, the response set as answers with their
    assessment values (reversed for ``-`` items; none for the missing codes)."""
    rs = form.response_set
    qid = ids.next_question()
    attrs = {"random_order": random_order} if random_order else {}
    out: list[tuple] = [("Q", qid, "F", code, label, False, attrs)]
    for it in members:
        out.append(("SQ", ids.next_question(), question_code(it.id),
                    {lang: form.texts[it.id][lang] for lang in form.languages}))
    for c in rs.choices:
        value = c.code if polarity == "+" else rs.high + rs.low - c.code
        out.append(("A", qid, str(c.code), c.label, str(value)))
    out += [("A", qid, str(c.code), c.label, "") for c in rs.missing]
    return out


def _group_row(entry, lang: str, base: bool) -> dict:
    _, gid, label, recall = entry
    return {"id": str(gid), "class": "G", "type/scale": str(gid), "name": _clean(label.get(lang, "")),
            "text": _clean(recall.get(lang, "")) if recall else "", "language": lang}


def _question_row(entry, lang: str, base: bool) -> dict:
    _, qid, qtype, code, label, required, attrs = entry
    # relevance is the question's, not a translation: on every language's row, as LimeSurvey's
    # own exports write it (the other attributes on the base language's rows only)
    return {"id": str(qid), "class": "Q", "type/scale": qtype, "name": code,
            "relevance": attrs.get("relevance", "1"),
            "text": _clean(label.get(lang, "")), "language": lang, "mandatory": "Y" if required else "N",
            "other": "N", "same_default": "0", **(attrs if base else {})}


def _subquestion_row(entry, lang: str, base: bool) -> dict:
    _, sqid, code, label, *roster_part = entry  # a roster subquestion: its form id, and its relevance
    row = {"id": str(sqid), "class": "SQ", "type/scale": "0", "name": code, "relevance": "1",
           "text": _clean(label.get(lang, "")), "language": lang}
    if roster_part:
        row["qid"] = roster_part[0]  # not a column: what the response export's reader maps it to
        row["relevance"] = roster_part[1] if len(roster_part) > 1 else "1"
    return row


def _answer_row(entry, lang: str, base: bool) -> dict:
    _, qid, code, label, value = entry
    return {"id": str(qid), "class": "A", "type/scale": "0", "name": code, "relevance": value,
            "text": _clean(label.get(lang, "")), "language": lang, "assessment_value": value}


#: structure entry kind -> its row in one language (the attributes only on the base language's rows)
_ROW = {"G": _group_row, "Q": _question_row, "SQ": _subquestion_row, "A": _answer_row}


def write(form: Form, path: str | os.PathLike) -> list[Path]:
    """Write the bilingual LimeSurvey TSV survey structure; returns ``[path]``. Example::

        write(form, "out/member_limesurvey.txt")   # LimeSurvey: Create survey > Import

    (In R: limonaid::Survey$new(...)$export_to_tsv().)
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", quotechar='"', lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in rows(form):
        values = []
        for col in COLUMNS:
            value = str(row.get(col, ""))
            if value.startswith("="):
                value = "'" + value  # LimeSurvey masks formulas the same way
            values.append(value)
        writer.writerow(values)
    path = Path(path)
    write_bytes(path, b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return [path]
