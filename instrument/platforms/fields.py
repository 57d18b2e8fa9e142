"""The questions of the form's XLSForm (:func:`instrument.export.xlsform.rows`) as KoboToolbox
and ODK export them: name, group path, labels; and the names map both platforms read with.

KoboToolbox joins the group path with ``/`` (its "group separator" setting: ``/`` by default,
``.`` or ``-`` or ``:`` on request) or leaves it out ("include groups in headers" off); ODK
Central and Briefcase join it with ``-`` (or leave it out, "remove group names"). Label
exports head each column with the question's label in the chosen language, optionally
preceded by its group's label and the separator.
"""

from __future__ import annotations

from dataclasses import dataclass

from instrument.answers import normalize_label
from instrument.collaboration import roster
from instrument.export.xlsform import LANGUAGE_NAMES, rows
from instrument.platforms import add_folded
from instrument.platforms.layout import Names

__all__ = ["SEPARATORS", "Field", "choice_headers", "fields", "names", "notes"]

SEPARATORS = ("/", "-", ".", ":")
_QUESTION_TYPES = ("select_one", "select_multiple", "integer", "text")


@dataclass(frozen=True)
class Field:
    id: str
    groups: tuple  # group names, outermost first
    label: dict  # lang -> label
    group_label: dict  # lang -> label of the innermost group
    choices: str  # list name of a select_one or select_multiple ("" otherwise)
    multiple: bool = False  # a select_multiple (the roster's "worked with", one column per choice too)


def fields(form) -> list[Field]:
    """The form's questions in XLSForm order (context block, then items)."""
    sheets = rows(form)
    out: list[Field] = []
    stack: list[tuple[str, dict]] = []
    for row in sheets["survey"]:
        kind = row["type"]
        labels = {lang: row.get(f"label::{name}", "") for lang, name in LANGUAGE_NAMES.items()}
        if kind == "begin_group":
            stack.append((row["name"], labels))
        elif kind == "end_group":
            stack.pop()
        elif kind.split(" ")[0] in _QUESTION_TYPES:
            group = stack[-1][1] if stack else {}
            choices = kind.split(" ", 1)[1] if kind.startswith(("select_one ", "select_multiple ")) else ""
            out.append(Field(row["name"], tuple(g for g, _ in stack), labels, group, choices,
                             kind.startswith("select_multiple ")))
    return out


def notes(form) -> tuple[str, ...]:
    """The headings a note of the XLSForm may get (ODK exports notes as empty columns):
    known, so they are neither read nor reported as unmapped."""
    out: list[str] = []
    stack: list[str] = []
    for row in rows(form)["survey"]:
        if row["type"] == "begin_group":
            stack.append(row["name"])
        elif row["type"] == "end_group":
            stack.pop()
        elif row["type"] == "note":
            out += [row["name"], *(sep.join((*stack, row["name"])) for sep in SEPARATORS)]
    return tuple(out)


def choice_headers(f: Field, name: str, labels: dict) -> tuple[list[str], list[str]]:
    """The headings of one choice's own column of a select_multiple: Kobo's ``group/q/name``
    (its group separator between every part; without groups ``q/name``), ODK Central's
    ``group-q/name`` ("split select multiple choices into columns"); in a Kobo label export
    ``label/choice label``, after the group's label or not. Returns (exact, label headings)."""
    exact = [f"{f.id}/{name}"]
    for sep in SEPARATORS:
        exact += [sep.join((*f.groups, f.id, name)), sep.join((*f.groups, f.id)) + "/" + name]
    texts = []
    for lang, label in f.label.items():
        if label and labels.get(lang):
            texts.append(f"{label}/{labels[lang]}")
            if f.group_label.get(lang):
                texts += [f"{f.group_label[lang]}{sep}{label}{sep}{labels[lang]}" for sep in SEPARATORS]
    return exact, texts


def _selection(form, f: Field, exact: dict, folded: dict) -> dict:
    """The split columns of the roster's select_multiple, mapped to each organization's
    "worked with" answer; returns what reading its summary column needs: choice name and
    folded label -> position, and the answers' ids."""
    net = roster(form)
    langs = {lang: f"label::{name}" for lang, name in LANGUAGE_NAMES.items()}
    choices = [c for c in rows(form)["choices"] if c["list_name"] == f.choices]
    by_name, by_label = {}, {}
    for k, c in enumerate(choices):
        labels = {lang: c.get(col, "") for lang, col in langs.items()}
        heads, texts = choice_headers(f, c["name"], labels)
        for h in heads:
            exact[h] = net.with_ids[k]
        for t in texts:
            add_folded(folded, t, net.with_ids[k])
        by_name[c["name"]] = k
        by_label.update({normalize_label(t): k for t in labels.values() if t})
    return {"id": f.id, "ids": net.with_ids, "names": by_name, "labels": by_label}


def names(form) -> Names:
    """Every heading Kobo or ODK may give a question: name, group path with each separator,
    label in each language with or without its group's label; the notes' headings; the
    roster's select_multiple (its summary column, and one column per choice)."""
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    selection = None
    for f in fields(form):
        if f.multiple:
            selection = _selection(form, f, exact, folded)
        exact[f.id] = f.id
        for sep in SEPARATORS:
            exact[sep.join((*f.groups, f.id))] = f.id
        for lang, label in f.label.items():
            if label:
                add_folded(folded, label, f.id)
                if f.group_label.get(lang):
                    for sep in SEPARATORS:
                        add_folded(folded, f"{f.group_label[lang]}{sep}{label}", f.id)
    return Names(exact=exact, folded=folded, extra={"notes": frozenset(notes(form)), "selection": selection})
