"""Helpers shared by the exporters: labelled answers, blocks of items, file names, strings.

File names written by ``intangibles form build`` (``<form>`` is the form id; counterbalanced
forms add ``_B`` before the suffix for order version B, version A keeping the plain name):

=============  ============================================  ==============================
format         file                                          what
=============  ============================================  ==============================
xlsx           ``<form>_<lang>.xlsx`` (+ ``_B``)             respondent workbook
xlsx (roster)  ``respondents/<form>_<code>_<lang>.xlsx``     one per respondent code
grid           ``<form>_grid_<lang>.xlsx`` (+ ``_B``)        data-entry grid
xlsform        ``<form>_xlsform.xlsx``                       bilingual XLSForm (Kobo/ODK)
limesurvey     ``<form>_limesurvey.txt``                     bilingual LimeSurvey TSV
redcap         ``<form>_redcap_<lang>.csv``                  REDCap data dictionary
print          ``<form>_<lang>.html`` (+ ``_B``)             printable questionnaire
pdf            ``<form>_<lang>.pdf`` (+ ``_B``)              the same as PDF
codebook       ``codebook.json``, ``codebook_<lang>.html``   codebook (DESIGN.md's name)
=============  ============================================  ==============================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from instrument.model import Choice, Form, Item, ResponseSet

__all__ = [
    "BLOCK_SIZE",
    "STRINGS",
    "Block",
    "answer_labels",
    "blocks",
    "check_lang",
    "check_version",
    "file_name",
    "is_grouped",
    "labelled",
    "ordered_items",
    "question_letter",
    "recall_text",
    "version_labels",
    "version_paths",
]

#: Most items in one block (a Likert grid / a page of a platform form).
BLOCK_SIZE = 10

#: Interface strings of the workbooks and platform forms, per language.
STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "instructions": "Instructions",
        "questionnaire": "Questionnaire",
        "entry": "Saisie",
        "codes": "Codes",
        "how_title": "Comment répondre",
        "how_1": "Ouvrez l'onglet « Questionnaire ».",
        "how_2": (
            "Pour chaque énoncé, cliquez sur la cellule de la colonne « Votre réponse », puis "
            "choisissez une réponse dans la liste déroulante (la flèche à droite de la cellule)."
        ),
        "how_3": (
            "Si vous ne savez pas, ou si l'énoncé ne s'applique pas à votre situation, choisissez "
            "« {dk} » ou « {na} ». Laissez la cellule vide si vous préférez ne pas répondre."
        ),
        "how_4": "Seules les cellules de réponse peuvent être modifiées ; le reste de la feuille est protégé.",
        "no_right": "Il n'y a pas de bonnes ni de mauvaises réponses : c'est votre point de vue qui compte.",
        "recall_title": "Période de référence",
        "recall": "Répondez en pensant à la période suivante : {recall}.",
        "recalls": "Chaque groupe d'énoncés précise la période à laquelle penser ; le questionnaire en utilise {n} :",
        "continued": "(suite)",
        "return_title": "Retourner le fichier",
        "return": (
            "Enregistrez le fichier sous le même nom et au même format (.xlsx), sans le renommer "
            "ni le convertir, puis retournez-le à la personne qui vous l'a envoyé."
        ),
        "confidential": (
            "Vos réponses sont confidentielles. Elles seront analysées de façon regroupée ; "
            "aucune personne ni aucun organisme ne sera identifié dans les résultats."
        ),
        "respondent": "Code de participation",
        "form_line": "Code du formulaire : {id}, version {version}, ordre {order}",
        "about_you": "À propos de vous",
        "items_title": "Votre expérience du consortium",
        "number": "N°",
        "id": "Code",
        "statement": "Énoncé",
        "question": "Question",
        "answer": "Votre réponse",
        "part": "Partie {n}",
        "error_title": "Réponse non valide",
        "error_list": "Choisissez une des réponses de la liste déroulante.",
        "error_codes": "Inscrivez un des codes permis : {codes}.",
        "error_integer": "Inscrivez un nombre entier de {min} à {max}.",
        "prompt_title": "Votre réponse",
        "prompt_list": "Choisissez une réponse dans la liste.",
        "prompt_integer": "Un nombre entier de {min} à {max}.",
        "integer_constraint": "Inscrivez un nombre entier de {min} à {max}.",
        "respondent_header": "Code du répondant",
        "grid_note": (
            "Une ligne par questionnaire. Inscrivez le code de la réponse (voir l'onglet « Codes ») ; "
            "laissez vide une question sans réponse."
        ),
        "thanks": "Merci d'avoir rempli ce questionnaire !",
        "code_col": "Code",
        "label_col": "Libellé",
    },
    "en": {
        "instructions": "Instructions",
        "questionnaire": "Questionnaire",
        "entry": "Entry",
        "codes": "Codes",
        "how_title": "How to answer",
        "how_1": "Open the “Questionnaire” sheet.",
        "how_2": (
            "For each statement, click the cell in the “Your answer” column, then choose an "
            "answer from the drop-down list (the arrow at the right of the cell)."
        ),
        "how_3": (
            "If you do not know, or if the statement does not apply to your situation, choose "
            "“{dk}” or “{na}”. Leave the cell empty if you prefer not to answer."
        ),
        "how_4": "Only the answer cells can be changed; the rest of the sheet is protected.",
        "no_right": "There are no right or wrong answers: your point of view is what counts.",
        "recall_title": "Reference period",
        "recall": "Answer with the following period in mind: {recall}.",
        "recalls": "Each group of statements says which period to think about; the questionnaire uses {n}:",
        "continued": "(continued)",
        "return_title": "Returning the file",
        "return": (
            "Save the file under the same name and in the same format (.xlsx), without renaming "
            "or converting it, then send it back to the person who sent it to you."
        ),
        "confidential": (
            "Your answers are confidential. They will be analysed in aggregate; no person or "
            "organization will be identified in the results."
        ),
        "respondent": "Participant code",
        "form_line": "Form code: {id}, version {version}, order {order}",
        "about_you": "About you",
        "items_title": "Your experience of the consortium",
        "number": "No.",
        "id": "Code",
        "statement": "Statement",
        "question": "Question",
        "answer": "Your answer",
        "part": "Part {n}",
        "error_title": "Invalid answer",
        "error_list": "Choose one of the answers in the drop-down list.",
        "error_codes": "Enter one of the allowed codes: {codes}.",
        "error_integer": "Enter a whole number from {min} to {max}.",
        "prompt_title": "Your answer",
        "prompt_list": "Choose an answer from the list.",
        "prompt_integer": "A whole number from {min} to {max}.",
        "integer_constraint": "Enter a whole number from {min} to {max}.",
        "respondent_header": "Respondent code",
        "grid_note": (
            "One row per questionnaire. Enter the answer's code (see the “Codes” sheet); "
            "leave a question with no answer empty."
        ),
        "thanks": "Thank you for completing this questionnaire!",
        "code_col": "Code",
        "label_col": "Label",
    },
}

_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def check_lang(form: Form, lang: str, func: str) -> str:
    """``lang`` if it is one of the form's languages, else a ValueError naming the parameter."""
    if lang not in form.languages or lang not in STRINGS:
        raise ValueError(
            f"The 'lang' parameter of {func} must be one of the form's languages "
            f"{list(form.languages)!r}; got {lang!r}."
        )
    return lang


def version_labels(form: Form) -> list[str]:
    """The form's order versions (["A"] when it is not counterbalanced)."""
    return list(form.versions) or ["A"]


def check_version(form: Form, version: str | None, func: str) -> str:
    """``version`` (default: the first) if it is one of the form's order versions."""
    labels = version_labels(form)
    if version is None:
        return labels[0]
    if version not in labels:
        raise ValueError(
            f"The 'version' parameter of {func} must be one of the form's versions {labels!r}; got {version!r}."
        )
    return version


def version_paths(form: Form, path, version: str | None = None, func: str = "write") -> list[tuple[str, Path]]:
    """``[(version, file)]`` a writer produces for ``path``: with ``version=None`` the first
    order version goes to ``path`` itself and every other one to ``<stem>_<V><suffix>``
    beside it; with a version, only that one, to ``path``."""
    path = Path(path)
    if version is not None:
        return [(check_version(form, version, func), path)]
    labels = version_labels(form)
    return [(labels[0], path)] + [(v, path.with_name(f"{path.stem}_{v}{path.suffix}")) for v in labels[1:]]


def ordered_items(form: Form, version: str = "A") -> list[Item]:
    """The form's items in the order of one order version."""
    by_id = {it.id: it for it in form.items}
    ids = form.versions.get(version) or form.item_ids
    return [by_id[i] for i in ids]


def labelled(choice: Choice, lang: str) -> str:
    """An answer as shown in a list: ``"4 - Plutôt d'accord"``."""
    return f"{choice.code} - {choice.label[lang]}"


def answer_labels(response_set: ResponseSet, lang: str) -> list[str]:
    """Every labelled answer of a response set, scored ones then missing ones."""
    return [labelled(c, lang) for c in response_set.all_choices()]


def recall_text(form: Form, item: Item, lang: str) -> str:
    """The recall context an item is asked under, with the consortium's name filled in."""
    bank = form.bank
    if bank is not None and item.context in bank.contexts:
        text = bank.contexts[item.context].text.get(lang, "")
    else:
        text = form.recall.get(lang, "")
    return text.replace("{consortium}", form.consortium.get(lang, ""))


def is_grouped(form: Form, version: str = "A") -> bool:
    """True when every construct's items are contiguous in this order (a grouped order)."""
    items = ordered_items(form, version)
    seen: set[str] = set()
    previous = None
    for it in items:
        if it.construct != previous:
            if it.construct in seen:
                return False
            seen.add(it.construct)
            previous = it.construct
    return len(seen) < len(items) or len(items) <= 1


@dataclass(frozen=True)
class Block:
    """Consecutive items shown together (one Likert grid, one platform page)."""

    number: int
    name: str  # a variable-safe name: the construct id in a grouped form, else ``part<n>``
    label: dict  # {"fr": ..., "en": ...}: the construct label, or "Partie n"
    recall: dict  # {"fr": ..., "en": ...}: the recall context of its items
    items: tuple[Item, ...]
    construct: str = ""  # the construct, when all items share one


def blocks(form: Form, version: str = "A", size: int = BLOCK_SIZE) -> list[Block]:
    """The items of one order version cut into blocks.

    A new block starts when the recall context changes, when a block reaches ``size``
    items, and, in a grouped order, when the construct changes. A block whose items share
    one construct is labelled with the construct's label, otherwise "Partie n" / "Part n".
    """
    grouped = is_grouped(form, version)
    runs: list[list[Item]] = []
    for it in ordered_items(form, version):
        if runs:
            last = runs[-1]
            same = (
                last[-1].context == it.context
                and len(last) < size
                and (not grouped or last[-1].construct == it.construct)
            )
            if same:
                last.append(it)
                continue
        runs.append([it])
    out = []
    used_names: dict[str, int] = {}
    bank = form.bank
    for number, run in enumerate(runs, start=1):
        constructs = {it.construct for it in run}
        if grouped and len(constructs) == 1:
            cid = run[0].construct
            label = dict(bank.constructs[cid].label) if bank is not None and cid in bank.constructs else {}
            base = cid
        else:
            cid = run[0].construct if len(constructs) == 1 else ""
            label = {}
            base = "part"
        label = {
            lang: label.get(lang) or STRINGS.get(lang, STRINGS["en"])["part"].format(n=number)
            for lang in form.languages
        }
        used_names[base] = used_names.get(base, 0) + 1
        name = base if base != "part" and used_names[base] == 1 else f"{base}{used_names[base]}"
        recall = {lang: recall_text(form, run[0], lang) for lang in form.languages}
        out.append(Block(number, name, label, recall, tuple(run), cid))
    return out


def file_name(form: Form, fmt: str, *, lang: str | None = None, version: str | None = None, respondent: str = "") -> str:
    """The file name a format writes (see the module's table)."""
    if fmt == "codebook":
        return "codebook.json" if not lang else f"codebook_{lang}.html"
    stem = form.id
    if respondent:
        stem += "_" + _UNSAFE_FILE_CHARS.sub("_", respondent)
    suffix = {
        "xlsx": ".xlsx",
        "grid": ".xlsx",
        "xlsform": ".xlsx",
        "limesurvey": ".txt",
        "redcap": ".csv",
        "print": ".html",
        "pdf": ".pdf",
    }[fmt]
    if fmt in ("grid", "xlsform", "limesurvey", "redcap"):
        stem += f"_{fmt}"
    if lang:
        stem += f"_{lang}"
    first = version_labels(form)[0]
    if version and version != first:
        stem += f"_{version}"
    return stem + suffix


def question_letter(index: int) -> str:
    """The letter of the ``index``-th context question (0-based): A..Z, then AA, AB... as
    spreadsheet columns (a form with a roster may ask more than 26)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(ord("A") + rest) + out
    return out
