"""The REDCap data dictionary (.csv): "Project Setup > Data Dictionary > Upload".

Exactly REDCap's 18 columns, in order (:data:`COLUMNS`). The first field is
``record_id``; then the context block (radio with its codes, text validated as an integer
with its range, free text), then the items as radio fields with the response set's codes
and labels ``1, Tout à fait en désaccord | ... | 8, Je ne sais pas | 9, Ne s'applique pas``
(missing codes included), shown as REDCap matrices: one matrix group per block of items
(see :func:`instrument.export.common.blocks`), every field of a group with the same
choices, the block's heading as the Section Header of its first field.

A roster question (``network:`` in the spec) follows the context block as a checkbox of
the organizations and three matrices shown row by row for those checked
(:func:`roster_fields`).

Languages: ONE FILE PER LANGUAGE (``member_redcap_fr.csv``, ``member_redcap_en.csv``),
with the same variable names, form name and codes, so French and English data stack
without recoding. (REDCap has one label per field; a bilingual project can load the
French file and add the English labels with its Multi-Language Management.) The Field
Annotation of an item records its construct, facet, level and key
(``construct=trust; facet=trust_competence; level=individual; key=-``) for whoever reads
the dictionary later; it holds no action tag.

Variable names are the item ids (lowercase letters and digits, at most 12 characters,
valid REDCap names); context ids are kept as they are when valid, otherwise cleaned.
"""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

from instrument.collaboration import SELECTION_ID, roster
from instrument.export.common import STRINGS, blocks, check_lang
from instrument.files import write_bytes
from instrument.model import Form
from instrument.typography import Typography

__all__ = ["COLUMNS", "VARIABLE_PATTERN", "context_fields", "item_fields", "roster_fields", "rows", "variable_name", "write"]

COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]

_TEXT_COLUMNS = {"Section Header", "Field Label", "Field Note"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: A valid REDCap variable name as written here.
VARIABLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,25}$")


def variable_name(name: str, limit: int = 26) -> str:
    """Lowercase letters, digits and underscores, starting with a letter, <= 26 chars."""
    out = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")
    out = re.sub(r"_+", "_", out)
    if not out or not out[0].isalpha():
        out = "v_" + out
    return out[:limit].rstrip("_")


#: The columns a respondent reads (typeset); the others are names, logic and annotations.
_READ = ("Field Label", "Section Header", "Choices, Calculations, OR Slider Labels", "Field Note")


def _choices(choices, lang: str) -> str:
    return " | ".join(f"{c.code}, {c.label[lang].replace('|', '/')}" for c in choices)


def _field(form_name: str, typo, name: str, ftype: str, label: str, **extra) -> dict:
    """One field of the dictionary (every column present); what a respondent reads with the
    language's spaces."""
    row = dict.fromkeys(COLUMNS, "")
    row.update({"Variable / Field Name": name, "Form Name": form_name, "Field Type": ftype, "Field Label": label})
    row.update(extra)
    for col in _READ:
        row[col] = typo.text(row[col])
    return row


def rows(form: Form, lang: str) -> list[dict]:
    """Every field of the dictionary, as dicts column -> value: ``record_id``, the context
    block, the roster (checkbox and matrices), the items in matrices."""
    check_lang(form, lang, "redcap.rows")
    form_name = variable_name(form.id, 64)
    typo = Typography(lang)
    used = {"record_id"}
    net = roster(form)
    out = [_field(form_name, typo, "record_id", "text", STRINGS[lang]["respondent_header"])]
    out += context_fields(form, lang, used, net.ids() if net else set())
    if net:
        out += roster_fields(net, lang, form_name, used)
    return out + item_fields(form, lang, used)


def context_fields(form: Form, lang: str, used: set, skip: set) -> list[dict]:
    """The context questions (``skip``: those asked otherwise): radio with the codes, text
    validated as an integer with its range, free text; the first under "About you"; a
    question asked after a given answer with its branching logic. Each row carries its form
    id (``qid``, not a column: what the response export's reader maps it to)."""
    form_name = variable_name(form.id, 64)
    typo = Typography(lang)
    names: dict = {}  # context question id -> its variable name (for branching logic)
    out: list[dict] = []
    for q in (q for q in form.context_block if q.id not in skip):
        name = variable_name(q.id)
        while name in used:
            name = variable_name(name[:22] + "_ctx")
        used.add(name)
        extra = {"Required Field?": "y" if q.required else ""}
        if not out:
            extra["Section Header"] = STRINGS[lang]["about_you"]
        if q.ask_if:
            extra["Branching Logic (Show field only if...)"] = f"[{names[q.ask_if[0]]}] = '{q.ask_if[1]}'"
        names[q.id] = name
        if q.type == "select_one":
            extra["Choices, Calculations, OR Slider Labels"] = _choices(q.choices, lang)
            out.append(_field(form_name, typo, name, "radio", q.label[lang], **extra))
        elif q.type == "integer":
            out.append(_field(form_name, typo, name, "text", q.label[lang], **{
                "Text Validation Type OR Show Slider Number": "integer",
                "Text Validation Min": "" if q.minimum is None else str(int(q.minimum)),
                "Text Validation Max": "" if q.maximum is None else str(int(q.maximum)),
            }, **extra))
        else:
            out.append(_field(form_name, typo, name, "text", q.label[lang], **extra))
        out[-1]["qid"] = q.id
    return out


def item_fields(form: Form, lang: str, used: set) -> list[dict]:
    """The items as radio fields with the response set's codes, one matrix group per block
    (its heading and recall lead-in as the Section Header of its first field); the Field
    Annotation records construct, facet, level and key."""
    form_name = variable_name(form.id, 64)
    typo = Typography(lang)
    choices = _choices(form.response_set.all_choices(), lang)
    groups: set[str] = set()
    out: list[dict] = []
    for block in blocks(form, "A"):
        group = variable_name(f"m_{block.name}")
        while group in groups:
            group = variable_name(group[:22] + "_b")
        groups.add(group)
        header = block.label[lang]
        if block.recall.get(lang):
            header += " — " + block.recall[lang].rstrip(".") + "…"
        for index, it in enumerate(block.items):
            name = variable_name(it.id)
            used.add(name)
            out.append(_field(form_name, typo, name, "radio", form.texts[it.id][lang], **{
                "Section Header": header if index == 0 else "",
                "Choices, Calculations, OR Slider Labels": choices,
                "Matrix Group Name": group,
                "Field Annotation": f"construct={it.construct}; facet={it.facet}; level={it.level}; key={it.polarity}",
            }))
    return out


def roster_fields(net, lang: str, form_name: str, used: set) -> list[dict]:
    """The roster question as REDCap users expect it: a checkbox field ``net_with`` whose
    choices are the organizations (codes 1..n, as ``net_self``; exported as ``net_with___1``...
    with 1 checked, 0 not), then one matrix per rating (frequency, trust, value; 1-4), one
    row per organization shown only when it was checked (``[net_with(k)] = '1'``)."""
    typo = Typography(lang)

    def field(name, ftype, label, qid, **extra):
        used.add(name)
        return {**_field(form_name, typo, name, ftype, label, **extra), "qid": qid}

    orgs = " | ".join(f"{code}, {name[lang].replace('|', '/')}" for code, name in zip(net.codes, net.names, strict=True))
    out = [field(SELECTION_ID, "checkbox", net.label[lang], SELECTION_ID, **{
        "Section Header": net.title[lang], "Choices, Calculations, OR Slider Labels": orgs,
        "Field Note": net.self_note[lang]})]
    for attr, header in net.headers.items():
        answers = " | ".join(f"{code}, {label[lang]}" for code, label in net.choice_labels[attr])
        for k, (code, row, ratings) in enumerate(zip(net.codes, net.rows, net.ratings, strict=True)):
            out.append(field(variable_name(ratings[attr]), "radio", row[attr][lang], ratings[attr], **{
                "Section Header": header[lang] if k == 0 else "",
                "Choices, Calculations, OR Slider Labels": answers,
                "Matrix Group Name": variable_name(f"net_{attr}"),
                "Branching Logic (Show field only if...)": f"[{SELECTION_ID}({code})] = '1'"}))
    return out


def write(form: Form, path: str | os.PathLike, *, lang: str = "fr") -> list[Path]:
    """Write the REDCap data dictionary in one language; returns ``[path]``. Example::

        write(form, "out/member_redcap_fr.csv", lang="fr")

    (In R: REDCapR / redcapAPI read such dictionaries with ``redcap_metadata_read``.)
    """
    check_lang(form, lang, "redcap.write")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writeheader()
    for row in rows(form, lang):
        # REDCap's data dictionary is edited in a spreadsheet: a label starting like a formula
        # (a custom bank's text, a consortium name first) gets the leading apostrophe OWASP advises
        writer.writerow({k: ("'" + v if k in _TEXT_COLUMNS and v.startswith(_FORMULA_START) else v)
                         for k, v in row.items() if k in COLUMNS})
    path = Path(path)
    write_bytes(path, buffer.getvalue().encode("utf-8"))
    return [path]
