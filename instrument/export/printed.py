"""The paper questionnaire as one self-contained HTML file per language (and per order version).

The same jinja2 template (``templates/questionnaire.html.j2``, with ``templates/print.css``
inlined) makes the HTML and, through WeasyPrint, the PDF (:mod:`instrument.export.pdf`):
what a research assistant prints from a browser and the PDF look the same.

The page holds, in order: the title and introduction, the instructions (one box per
line, the recall period with the consortium's name, confidentiality), the context block
(tick boxes for sector / domain / role, write-in boxes for years and the consortium id),
then the items as Likert grids in blocks (one block per run of items sharing a recall
context, at most ``BLOCK_SIZE`` items), one table per recall context whose header (the
response labels, then the recall lead-in "Depuis que...") is repeated on every page, so
an item never loses its period after a page break; the response labels are never
hyphenated (a column is wide enough for the longest word of a label), the scored codes 1..5 and, set apart, the missing codes
("Je ne sais pas", "Ne s'applique pas"). The footer carries the form id, version, order
version and the page number ("Page 2 / 6").

Counterbalanced forms (``form.versions`` with several orders) give one file per order:
``path`` receives the first version (A, the base order) and each other version ``V`` is
written beside it as ``<stem>_<V><suffix>`` (``member_fr.pdf``, ``member_fr_B.pdf``).
Pass ``version="B"`` to write only that order to ``path``.

Every text goes through :class:`~instrument.typography.Typography` (the spaces French
wants before ? ! : ;), and hyphenated names ("Rivière-Claire") are kept on one line.
Everything coming from the spec or the bank is escaped (jinja2 autoescape).
"""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path

from instrument.collaboration import roster
from instrument.export.common import ordered_items, question_letter, recall_text, version_paths
from instrument.files import write_text
from instrument.model import Form, Item
from instrument.typography import Typography

__all__ = [
    "BLOCK_SIZE",
    "MIN_BLOCK",
    "PAPERS",
    "STEMS",
    "STRINGS",
    "check_options",
    "css_string",
    "environment",
    "render",
    "roster_table",
    "template_data",
    "write",
]

#: Paper sizes accepted by ``paper`` (case-insensitive) -> the CSS ``@page size``.
PAPERS: dict[str, str] = {"A4": "A4", "Letter": "letter"}

#: Most items in one grid block; longer runs of the same recall context are split.
BLOCK_SIZE = 10
#: Blocks shorter than this are merged with a neighbour when the result fits in BLOCK_SIZE.
MIN_BLOCK = 4

#: Interface strings of the paper questionnaire, per language.
STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "form": "Code du formulaire :",
        "version": "version",
        "order": "ordre",
        "page": "Page",
        "instructions": "Comment répondre",
        "tick_one": "Pour chaque énoncé, cochez une seule case par ligne, comme ceci\u00a0:",
        "tick_missing": (
            "Si vous ne savez pas, ou si l'énoncé ne s'applique pas à votre situation, "
            "cochez plutôt la case «\u00a0{dk}\u00a0» ou «\u00a0{na}\u00a0»."
        ),
        "recall": (
            "Les énoncés portent sur votre expérience au sein du consortium {consortium}. "
            "Chaque groupe d'énoncés précise la période à laquelle penser "
            "(par exemple : « {recall} »)."
        ),
        # a colleague or a non-member never sat in the consortium (form.role)
        "recall_role": (
            "Les énoncés portent sur ce que vous voyez des effets du consortium {consortium}. "
            "Chaque groupe d'énoncés précise la période à laquelle penser "
            "(par exemple : « {recall} »)."
        ),
        "no_right": "Il n'y a pas de bonnes ni de mauvaises réponses\u00a0: c'est votre point de vue qui compte.",
        "confidential": (
            "Vos réponses sont confidentielles. Elles seront analysées de façon regroupée et "
            "aucune personne ni aucun organisme ne sera identifié dans les résultats."
        ),
        "context_title": "Section 1 — À propos de vous",
        "items_title": "Section 2 — Votre expérience du consortium",
        "tick_one_answer": "Cochez une seule case.",
        "write_in": "Inscrivez un chiffre par case.",
        "write_in_text": "Inscrivez un caractère par case.",
        "years_unit": "années",
        "number": "N°",
        "statement": "Énoncé",
        "missing_group": "Réponses hors échelle",
        "stem_default": "cochez la case qui correspond le mieux à votre réponse pour chaque énoncé.",
        "thanks": "Merci d'avoir rempli ce questionnaire\u00a0!",
        "return": "Veuillez le remettre à la personne qui vous l'a confié.",
        "code": "code",
    },
    "en": {
        "form": "Form code:",
        "version": "version",
        "order": "order",
        "page": "Page",
        "instructions": "How to answer",
        "tick_one": "For each statement, tick only one box per line, like this:",
        "tick_missing": (
            "If you do not know, or if the statement does not apply to your situation, "
            "tick the “{dk}” or “{na}” box instead."
        ),
        "recall": (
            "The statements are about your experience in the {consortium} consortium. "
            "Each group of statements says which period to think about "
            "(for example: “{recall}”)."
        ),
        "recall_role": (
            "The statements are about what you see of the {consortium} consortium's effects. "
            "Each group of statements says which period to think about "
            "(for example: “{recall}”)."
        ),
        "no_right": "There are no right or wrong answers: your point of view is what counts.",
        "confidential": (
            "Your answers are confidential. They will be analysed in aggregate and no person "
            "or organization will be identified in the results."
        ),
        "context_title": "Section 1 — About you",
        "items_title": "Section 2 — Your experience of the consortium",
        "tick_one_answer": "Tick one box only.",
        "write_in": "Write one digit per box.",
        "write_in_text": "Write one character per box.",
        "years_unit": "years",
        "number": "No.",
        "statement": "Statement",
        "missing_group": "Off-scale answers",
        "stem_default": "tick the box that best matches your answer for each statement.",
        "thanks": "Thank you for completing this questionnaire!",
        "return": "Please hand it back to the person who gave it to you.",
        "code": "code",
    },
}

#: Question stem after the recall context, by response set id.
STEMS: dict[str, dict[str, str]] = {
    "agree5": {
        "fr": "dans quelle mesure êtes-vous d'accord avec les énoncés suivants?",
        "en": "how much do you agree with the following statements?",
    },
    "extent5": {
        "fr": "dans quelle mesure les énoncés suivants décrivent-ils votre expérience?",
        "en": "to what extent do the following statements describe your experience?",
    },
}

_TEXT_BOXES = 10  # write-in boxes for a text answer (consortium id)


def check_options(form: Form, lang: str, paper: str, version: str | None, func: str) -> tuple[str, str]:
    if lang not in form.languages:
        raise ValueError(
            f"The 'lang' parameter of {func} must be one of the form's languages "
            f"{list(form.languages)!r}; got {lang!r}."
        )
    if lang not in STRINGS:
        raise ValueError(f"The 'lang' parameter of {func} must be one of {sorted(STRINGS)!r}; got {lang!r}.")
    size = {k.lower(): v for k, v in PAPERS.items()}.get(str(paper).lower())
    if size is None:
        raise ValueError(f"The 'paper' parameter of {func} must be one of {list(PAPERS)!r}; got {paper!r}.")
    if version is not None and version not in form.versions:
        raise ValueError(
            f"The 'version' parameter of {func} must be one of the form's versions "
            f"{sorted(form.versions)!r}; got {version!r}."
        )
    return size, next(k for k in PAPERS if k.lower() == str(paper).lower())


def _fill(text: str, form: Form, lang: str) -> str:
    return text.replace("{consortium}", form.consortium.get(lang, ""))


def _chunks(run: list, size: int) -> list[list]:
    """``run`` cut into the fewest pieces of at most ``size``, of balanced lengths."""
    n = math.ceil(len(run) / size)
    bounds = [round(i * len(run) / n) for i in range(n + 1)]
    return [run[a:b] for a, b in itertools.pairwise(bounds)]


def _blocks(form: Form, items: list[Item], lang: str) -> list[dict]:
    """The grid blocks: items numbered 1..k in shown order, cut into blocks.

    A run of consecutive items sharing a recall context gives balanced blocks of at most
    BLOCK_SIZE items; short pieces (< MIN_BLOCK items) are merged with their neighbour
    when the result stays within BLOCK_SIZE, so an order that alternates contexts does
    not give one-item tables. Each block holds ``segments``: its rows grouped by recall
    context, the context shown before each segment (in the caption when there is one).
    """
    typo = Typography(lang)
    stem = typo.text(STEMS.get(form.response_set.id, {}).get(lang) or STRINGS[lang]["stem_default"])
    rows = [
        {"number": n, "id": it.id, "text": typo.text(form.texts[it.id][lang]),
         "recall": typo.text(recall_text(form, it, lang))}
        for n, it in enumerate(items, start=1)
    ]
    runs: list[list[dict]] = []
    for row in rows:
        if runs and runs[-1][0]["recall"] == row["recall"]:
            runs[-1].append(row)
        else:
            runs.append([row])
    pieces = [piece for run in runs for piece in _chunks(run, BLOCK_SIZE)]
    merged: list[list[dict]] = []
    for piece in pieces:
        if (
            merged
            and len(merged[-1]) + len(piece) <= BLOCK_SIZE
            and min(len(merged[-1]), len(piece)) < MIN_BLOCK
        ):
            merged[-1] = merged[-1] + piece
        else:
            merged.append(piece)
    blocks = []
    for block_rows in merged:
        segments: list[dict] = []
        for row in block_rows:
            if segments and segments[-1]["recall"] == row["recall"]:
                segments[-1]["rows"].append(row)
            else:
                segments.append({"recall": row["recall"], "rows": [row]})
        blocks.append(
            {
                "stem": stem,
                "stem_sentence": stem[:1].upper() + stem[1:],
                "single": len(segments) == 1,
                "recall": segments[0]["recall"],
                "segments": segments,
                "first": block_rows[0]["number"],
                "last": block_rows[-1]["number"],
            }
        )
    return blocks


def _context_questions(form: Form, lang: str) -> list[dict]:
    out = []
    net = roster(form)
    asked = [q for q in form.context_block if not net or q.id not in net.ids()]  # the roster: roster_table
    for index, q in enumerate(asked):
        entry = {
            "id": q.id,
            "letter": question_letter(index),
            "type": q.type,
            "label": Typography(lang).text(q.label[lang]),
            "choices": [{"code": c.code, "label": c.label[lang]} for c in q.choices],
            "boxes": 0,
            "unit": "",
        }
        if q.type == "integer":
            top = q.maximum if q.maximum is not None else 999
            entry["boxes"] = max(1, len(str(abs(int(top)))))
            entry["unit"] = STRINGS[lang]["years_unit"] if q.id == "years" else ""
        elif q.type != "select_one":
            entry["boxes"] = _TEXT_BOXES
        out.append(entry)
    return out


def roster_table(form: Form, lang: str, letter: str) -> dict | None:
    """The roster question on paper: one line per organization with Yes / No, then the
    frequency, trust and value boxes (1-4), under a legend of the three scales."""
    net = roster(form)
    if net is None:
        return None
    typo = Typography(lang)
    paper = net.paper[lang]
    return {
        "letter": letter,
        "question": typo.text(paper["question"]),
        "hint": typo.text(paper["hint"]),
        "organization": paper["organization"],
        "worked_with": paper["worked_with"],
        "with_choices": [{"code": 1, "label": paper["yes"]}, {"code": 0, "label": paper["no"]}],
        "scales": [{"name": paper["short"][attr].capitalize(), "question": typo.text(net.headers[attr][lang]),
                    "choices": [{"code": code, "label": label[lang]} for code, label in net.choice_labels[attr]]}
                   for attr in net.headers],
        "organizations": [name[lang] for name in net.names],
    }


def template_data(form: Form, *, lang: str = "fr", paper: str = "A4", version: str | None = None) -> dict:
    """Everything the questionnaire template needs, for one language and one order version."""
    size, paper_name = check_options(form, lang, paper, version, "render")
    version = version or next(iter(form.versions), "A")
    typo = Typography(lang)
    s = {k: typo.text(v) for k, v in STRINGS[lang].items()}
    if form.role != "member":
        s["recall"] = s["recall_role"]
    rs = form.response_set
    items = ordered_items(form, version)
    missing = [c.label[lang] for c in rs.missing]
    meta = f"{s['form']} {form.id} · {s['version']} {form.version} · {s['order']} {version}"
    if form.hash:
        meta += f" · {form.hash[:8]}"
    return {
        "lang": lang,
        "s": s,
        "paper": paper_name,
        "page_size": size,
        "typo": typo,
        "title": typo.text(form.title[lang]),
        "introduction": typo.text(form.introduction.get(lang, "")),
        "consortium": form.consortium.get(lang, ""),
        "recall": _fill(form.recall.get(lang, ""), form, lang),
        "tick_missing": (
            typo.text(s["tick_missing"].format(dk=missing[0], na=missing[1])) if len(missing) >= 2 else ""
        ),
        "meta": meta,
        "version": version,
        "choices": [{"code": c.code, "label": c.label[lang]} for c in rs.choices],
        "missing": [{"code": c.code, "label": c.label[lang]} for c in rs.missing],
        "blocks": _blocks(form, items, lang),
        "context_questions": (context := _context_questions(form, lang)),
        "roster": roster_table(form, lang, question_letter(len(context))),
        "n_items": len(items),
    }


def css_string(value) -> str:
    """``value`` as a quoted CSS string in which every character but letters, digits and
    spaces is a hex escape: safe inside a ``<style>`` element whatever the text holds."""
    import markupsafe

    out = []
    for ch in str(value):
        if (ch.isascii() and ch.isalnum()) or ch == " ":
            out.append(ch)
        else:
            out.append(f"\\{ord(ch):06x} ")  # the space ends the escape
    return markupsafe.Markup('"' + "".join(out) + '"')


def environment():
    """The jinja2 environment of the exports' templates, with the ``css_string`` filter and
    the typography filters ``nobr(typo)`` and ``typeset(lang)`` (spaces of the language,
    hyphenated names kept whole, escaped)."""
    from instrument import resources

    env = resources.environment()
    env.filters["css_string"] = css_string
    env.filters["nobr"] = lambda text, typo: typo.nobr(text)
    env.filters["typeset"] = lambda text, lang: Typography(lang).nobr(text)
    return env


def render(form: Form, *, lang: str = "fr", paper: str = "A4", version: str | None = None) -> str:
    """The paper questionnaire as a self-contained HTML string (CSS inline, no network).

    Example::

        html = render(form, lang="en", paper="Letter")

    (In R, the nearest is writing an R Markdown questionnaire by hand and knitting it.)
    """
    return environment().get_template("questionnaire.html.j2").render(**template_data(form, lang=lang, paper=paper, version=version))


def write(
    form: Form,
    path: str | os.PathLike,
    *,
    lang: str = "fr",
    paper: str = "A4",
    version: str | None = None,
) -> list[Path]:
    """Write the printable questionnaire (HTML) in one language; returns the files written.

    One file per order version when the form is counterbalanced (see the module's notes
    on file names). Example::

        write(form, "out/member_fr.html", lang="fr", paper="Letter")
    """
    check_options(form, lang, paper, version, "write")
    written = []
    for label, target in version_paths(form, path, version):
        written.append(write_text(target, render(form, lang=lang, paper=paper, version=label)))
    return written
