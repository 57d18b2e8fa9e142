"""LimeSurvey response exports (Responses > Export), for a survey imported from the structure
``intangibles form build --format limesurvey`` writes.

Layouts read (see ``tests/platforms/SOURCES.md``): CSV (UTF-8 with a byte-order mark, every
field quoted, ``,`` or ``;``) and Excel (.xlsx, first sheet). Headings as "question code"
(``trustP[trcpi1]``, or ``trustP_trcpi1`` with expression-manager codes), "full question
text" (``question text [subquestion text]``), "question code & question text"
(``trustP[trcpi1]. text``) or "abbreviated question text" (texts cut with ``..``: read when
the cut text still names one question, reported ``ambiguous-column`` otherwise); answers as
codes or as full answer text in the response language. Metadata: ``id``, ``submitdate``,
``lastpage``, ``startlanguage``, ``seed``, ``token``, ``startdate``, ``datestamp``,
``ipaddr``, ``refurl`` (or their full-text headings in French or English).

A response with an empty ``submitdate`` was not submitted (the respondent left): it is
``incomplete-response``, counted and left out unless ``--include-incomplete``. The
respondent is named by ``token`` when the survey uses tokens, else by the response ``id``
prefixed by the file's name (``results-survey123456-17``: response ids restart at 1 in every
survey, so two surveys' exports would otherwise collide);
``startlanguage`` gives the row's language.
"""

from __future__ import annotations

import re

from instrument.answers import normalize_label
from instrument.collaboration import roster
from instrument.export.limesurvey import question_code, rows
from instrument.platforms import (
    AMBIGUOUS,
    Layout,
    Names,
    add_folded,
    folded_lookup,
    map_header,
    strip_tags,
)
from instrument.platforms.layout import SCORE, RowVerdict
from instrument.platforms.writing import Answers, submitted_at, write_csv, write_xlsx

__all__ = ["META_TEXTS", "VARIANTS", "layout", "names", "recognize", "write"]

#: Metadata columns: code -> their full-text headings (English, French).
META_TEXTS = {
    "id": ("Response ID", "ID de la réponse"),
    "submitdate": ("Date submitted", "Date de soumission", "Date d'envoi"),
    "lastpage": ("Last page", "Dernière page"),
    "startlanguage": ("Start language", "Langue de départ"),
    "seed": ("Seed", "Graine"),
    "token": ("Token", "Access code", "Code d'accès", "Jeton"),
    "startdate": ("Date started", "Date de début"),
    "datestamp": ("Date last action", "Date de la dernière action"),
    "ipaddr": ("IP address", "Adresse IP"),
    "refurl": ("Referrer URL", "URL de provenance", "URL référente"),
    "interviewtime": ("Total time", "Temps total"),
}
_META_BY_TEXT = {normalize_label(t): code for code, texts in META_TEXTS.items() for t in (code, *texts)}
_CODE_TEXT = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:\[[A-Za-z0-9_]+\])?)\s*[.:\-]\s")
_TIME = re.compile(r"^[A-Za-z0-9]+(?:X\d+)*Time$|^interviewtime$|^groupTime\d+$")
_NO_ANSWER = frozenset({"N/A", "n/a"})
VARIANTS = ("csv", "csv-full", "xlsx")
#: A multiple choice subquestion (the roster's organizations): "Y" checked, "N" (older exports) not.
_CHECKED = {"Y": "1", "N": "0"}


def _structure(form) -> list[tuple]:
    """(column code, form id, question text by lang, subquestion text by lang) in survey order."""
    by_code = {question_code(it.id): it.id for it in form.items}
    net = roster(form)
    context = [q.id for q in form.context_block if not net or q.id not in net.ids()]
    out: dict[str, list] = {}
    order: list[str] = []
    current, n_context = None, {}
    for row in rows(form):
        lang = row.get("language", "")
        if row.get("class") == "Q":
            current = row["name"]
            if row["type/scale"] in ("L", "N", "S"):
                k = n_context.setdefault(lang, 0)
                n_context[lang] = k + 1
                qid = context[k]
                if current not in out:
                    out[current] = [current, qid, {}, {}]
                    order.append(current)
                out[current][2][lang] = row["text"]
            else:
                out.setdefault("#" + current, [current, None, {}, {}])[2][lang] = row["text"]
        elif row.get("class") == "SQ":
            code = f"{current}[{row['name']}]"
            if code not in out:
                out[code] = [code, row.get("qid") or by_code[row["name"]], dict(out["#" + current][2]), {}]
                order.append(code)
            out[code][2][lang] = out["#" + current][2][lang]
            out[code][3][lang] = row["text"]
    return [tuple(out[c]) for c in order]


def names(form) -> Names:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    full: list = []  # (question text, subquestion text, id), normalized, for abbreviated headings
    for code, qid, qtext, sqtext in _structure(form):
        exact[code] = qid
        exact[code.replace("[", "_").rstrip("]")] = qid  # expression-manager codes: trustP_trcpi1
        for lang, text in qtext.items():
            heading = f"{text} [{sqtext[lang]}]" if sqtext else text
            add_folded(folded, heading, qid)
            full.append((normalize_label(strip_tags(text)), normalize_label(strip_tags(sqtext.get(lang, ""))), qid))
    net = roster(form)
    return Names(exact=exact, folded=folded, extra={"full": tuple(full), "checkbox": net.with_ids if net else ()})


def recognize(header: list) -> bool:
    known = {_META_BY_TEXT.get(normalize_label(h)) for h in header}
    return "submitdate" in known and bool({"lastpage", "startlanguage", "id"} & known)


_HEADING = re.compile(r"^(.*?)(?: \[(.*)\])?$", re.S)


def _cut_match(cut: str, text: str) -> bool:
    """Whether ``cut`` is ``text``, or ``text`` shortened with LimeSurvey's ``..`` ellipsis."""
    if cut == text:
        return True
    if cut.endswith(".."):
        return text.startswith(cut[:-2].rstrip())
    return False


def _abbreviated(h: str, full: tuple):
    if ".." not in h:
        return None
    m = _HEADING.match(normalize_label(strip_tags(h)))
    q, sq = m.group(1).strip(), (m.group(2) or "").strip()
    hits = {qid for qt, st, qid in full if _cut_match(q, qt) and (_cut_match(sq, st) if sq or st else True)}
    if len(hits) > 1:
        return AMBIGUOUS
    return hits.pop() if hits else None


class _Submitted:
    """A response without ``submitdate`` is incomplete (picklable: a plain class)."""

    def __init__(self, column: int):
        self.column = column

    def __call__(self, values: list) -> RowVerdict:
        v = values[self.column] if self.column < len(values) else None
        if v is None or not str(v).strip():
            return RowVerdict("incomplete", "incomplete-response", "this response was not submitted (no submitdate: "
                              "the respondent left before the end); left out (--include-incomplete keeps it)")
        return SCORE


def layout(header: list, exports) -> Layout:
    own = exports.names["limesurvey"]

    def resolve(h):
        hit = folded_lookup(own, h)
        if hit is None:
            m = _CODE_TEXT.match(h)
            if m:
                hit = own.exact.get(m.group(1))
        if hit is None:
            hit = _abbreviated(h, own.extra["full"])
        return hit

    def meta_name(h):
        name = _META_BY_TEXT.get(normalize_label(h))
        if name is None and _TIME.match(h):
            name = h
        return name or ""

    columns, meta, unmapped, ambiguous, missing = map_header(header, resolve, meta_name, exports)
    where = {name: j for j, name in reversed(meta.items())}
    ids = tuple(where[k] for k in ("token", "id") if k in where)  # the token when there is one, else the id
    judge = _Submitted(where["submitdate"]) if "submitdate" in where else None
    full = any(h not in own.exact and not _CODE_TEXT.match(h) for j, h in enumerate(header) if j in columns)
    variant = "LimeSurvey export (" + ("question texts" if full else "question codes") + ")"
    checked = {j: _CHECKED for j, qid in columns.items() if qid in own.extra["checkbox"]}
    return Layout("limesurvey", variant, columns, ids, meta, unmapped, ambiguous, missing,
                  language_column=where.get("startlanguage"), blanks=_NO_ANSWER, judge=judge,
                  first_id_only=True, local_ids=tuple(where[k] for k in ("id",) if k in where),
                  submitted_column=where.get("submitdate"), column_recode=checked)


def write(form, frame, path, variant: str, incomplete: int = 0):
    answers = Answers(form)
    base = form.languages[0]
    structure = _structure(form)
    net = roster(form)
    checkbox = set(net.with_ids) if net else set()

    def _checkbox(value, full: bool) -> str:  # "Y" or blank; in full answers "Oui" / "Non"
        if value is None or value != value or str(value) == "<NA>":
            return ""
        yes = str(value) in ("1", "1.0")
        return answers.text(net.with_ids[0], 1 if yes else 0, base) if full else ("Y" if yes else "")

    full = variant == "csv-full"
    meta = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp"]
    header = [META_TEXTS[m][0] if full else m for m in meta]
    for code, _qid, qtext, sqtext in structure:
        if full:
            text = strip_tags(qtext[base]).strip()
            header.append(f"{text} [{strip_tags(sqtext[base]).strip()}]" if sqtext else text)
        else:
            header.append(code)
    rows_out = []
    n_pages = sum(r.get("class") == "G" and r.get("language") == base for r in rows(form))
    for i, rec in enumerate(frame.to_dict("records")):
        lang = rec.get("lang") if rec.get("lang") in form.languages else base
        t = submitted_at(i)
        stamp = t.strftime("%Y-%m-%d %H:%M:%S")
        left = i >= len(frame) - incomplete  # left before the end: no submitdate, stopped on page 2
        row = [str(i + 1), "" if left else stamp, "2" if left else str(n_pages), lang, str(1000 + 7 * i), stamp, stamp]
        # full answers are in the export's language (the base language), whatever the respondent's
        row += [_checkbox(rec.get(qid), full) if qid in checkbox else answers.text(qid, rec.get(qid), base if full else None)
                for _c, qid, *_ in structure]
        rows_out.append(row)
    if variant == "xlsx":
        return write_xlsx(path, "results", header, rows_out)
    return write_csv(path, header, rows_out, sep=",", quote_all=True, bom=True)
