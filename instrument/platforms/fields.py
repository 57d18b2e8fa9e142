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

from instrument.export.xlsform import LANGUAGE_NAMES, rows
from instrument.platforms import add_folded
from instrument.platforms.layout import Names

__all__ = ["SEPARATORS", "Field", "fields", "names", "notes"]

SEPARATORS = ("/", "-", ".", ":")
_QUESTION_TYPES = ("select_one", "integer", "text")


@dataclass(frozen=True)
class Field:
    id: str
    groups: tuple  # group names, outermost first
    label: dict  # lang -> label
    group_label: dict  # lang -> label of the innermost group
    choices: str  # list name of a select_one ("" otherwise)


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
            choices = kind.split(" ", 1)[1] if kind.startswith("select_one ") else ""
            out.append(Field(row["name"], tuple(g for g, _ in stack), labels, group, choices))
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


def names(form) -> Names:
    """Every heading Kobo or ODK may give a question: name, group path with each separator,
    label in each language with or without its group's label; the notes' headings."""
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    for f in fields(form):
        exact[f.id] = f.id
        for sep in SEPARATORS:
            exact[sep.join((*f.groups, f.id))] = f.id
        for lang, label in f.label.items():
            if label:
                add_folded(folded, label, f.id)
                if f.group_label.get(lang):
                    for sep in SEPARATORS:
                        add_folded(folded, f"{f.group_label[lang]}{sep}{label}", f.id)
    return Names(exact=exact, folded=folded, extra={"notes": frozenset(notes(form))})
