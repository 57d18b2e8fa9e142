"""The codebook of a form: ``codebook.json`` for programs, an HTML page for people.

``codebook.json`` (DESIGN.md's contract) holds, in this order of interest:

- ``items``: every item in FORM ORDER (the base version, A) with ``position``,
  ``positions`` (its number in each order version), ``id``, ``construct``, ``facet``,
  ``level``, ``polarity``, ``reverse`` (bool), ``key`` (``-id`` when reverse keyed),
  ``values`` (the scored codes with their labels per language), ``missing_codes``
  (recorded, never scored), ``text`` per language with the placeholders filled,
  ``recall`` (the recall context), ``context``, ``response_set``, ``scales`` (the
  scales it belongs to), ``source_inspiration``, ``item_version``, ``status``;
- ``form``: id, version, hash, languages, title, consortium, bank version, the item ids
  of each order version;
- ``response_set``: id, labels, min, max, values and missing codes;
- ``context_block``: the questions asked before the items, with their codes;
- ``scales`` / ``min`` / ``max`` / ``id``: the psych-style keys file (``-`` marks a
  reverse-keyed item), so the codebook itself can be passed where a keys file is
  expected; ``scale_details`` adds each scale's kind, label and items, sorted by name;
- ``constructs``, ``facets``, ``levels``: labels of those used (when the bank is known).

The JSON is deterministic: keys sorted, lists in form order where order matters (items,
codes, a scale's keys) and sorted by name otherwise, ``ensure_ascii=False``, indent 2.

The human-readable codebook (:func:`write_html`) is one HTML page per interface language
(``lang`` sets the headings); each item's text is shown in every language of the form,
side by side, so one page serves a bilingual team.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from instrument.export.common import recall_text
from instrument.files import write_text
from instrument.model import Choice, Form, Item, ResponseSet
from instrument.typography import Typography

__all__ = ["FORMAT_VERSION", "codebook", "dumps", "keys_from_codebook", "render_html", "write", "write_html"]

#: Version of the codebook.json layout (bumped on incompatible changes).
FORMAT_VERSION = 1


def _text(value: dict, languages) -> dict:
    return {lang: value[lang] for lang in languages if lang in value}


def _choices(choices: tuple[Choice, ...], languages) -> list[dict]:
    return [{"code": c.code, "label": _text(c.label, languages)} for c in choices]


def _response_set(form: Form, item: Item) -> ResponseSet:
    bank = form.bank
    if bank is not None and item.response_set in bank.response_sets:
        return bank.response_sets[item.response_set]
    return form.response_set


def codebook(form: Form) -> dict:
    """The codebook of ``form`` as a plain dict (what :func:`write` saves as JSON).

    Example::

        cb = codebook(form)
        cb["items"][0]["text"]["fr"], cb["scales"]   # the keys file: {"TRU": ["tr1", "-tr2"], ...}

    (In R, the nearest is a hand-written data dictionary, e.g. ``labelled::look_for(data)``.)
    """
    languages = tuple(form.languages)
    versions = {v: list(ids) for v, ids in form.versions.items()} or {"A": list(form.item_ids)}
    rs = form.response_set
    out = {
        "codebook_format": FORMAT_VERSION,
        "form": _form_entry(form, languages, versions),
        "response_set": {
            "id": rs.id,
            "label": _text(rs.label, languages),
            "ordered": rs.ordered,
            "min": rs.low,
            "max": rs.high,
            "values": _choices(rs.choices, languages),
            "missing_codes": _choices(rs.missing, languages),
        },
        "items": _items(form, languages, versions),
        "context_block": [
            {
                "id": q.id,
                "type": q.type,
                "label": _text(q.label, languages),
                "required": q.required,
                "minimum": q.minimum,
                "maximum": q.maximum,
                "choices": _choices(q.choices, languages),
            }
            for q in form.context_block
        ],
        "scales": {s.name: list(s.keys) for s in form.scales},
        "scale_details": [
            {
                "name": s.name,
                "kind": s.kind,
                "label": _text(s.label, languages),
                "keys": list(s.keys),
                "items": list(s.items),
                "reverse_items": [k[1:] for k in s.keys if k.startswith("-")],
            }
            for s in sorted(form.scales, key=lambda s: s.name)
        ],
        "min": rs.low,
        "max": rs.high,
        "id": "respondent",
    }
    if form.bank is not None:
        out.update(_bank_labels(form, languages))
    return out


def _form_entry(form: Form, languages: tuple, versions: dict) -> dict:
    return {
        "id": form.id,
        "version": form.version,
        "hash": form.hash,
        "languages": list(languages),
        "title": _text(form.title, languages),
        "consortium": _text(form.consortium, languages),
        "n_items": len(form.items),
        "versions": versions,
        "bank_version": form.bank.version if form.bank is not None else None,
    }


def _items(form: Form, languages: tuple, versions: dict) -> list[dict]:
    """Every item in form order (version A), with its number in each order version."""
    positions = {v: {iid: n for n, iid in enumerate(ids, start=1)} for v, ids in versions.items()}
    in_scales: dict[str, list[str]] = {}
    for scale in form.scales:
        for iid in scale.items:
            in_scales.setdefault(iid, []).append(scale.name)
    items = []
    for n, item in enumerate(form.items, start=1):
        rs = _response_set(form, item)
        items.append(
            {
                "position": n,
                "positions": {v: positions[v][item.id] for v in versions if item.id in positions[v]},
                "id": item.id,
                "construct": item.construct,
                "facet": item.facet,
                "level": item.level,
                "polarity": item.polarity,
                "reverse": item.reverse,
                "key": item.key,
                "response_set": rs.id,
                "values": _choices(rs.choices, languages),
                "missing_codes": _choices(rs.missing, languages),
                "text": _text(form.texts[item.id], languages),
                "context": item.context,
                "recall": {lang: recall_text(form, item, lang) for lang in languages},
                "scales": sorted(in_scales.get(item.id, [])),
                "source_inspiration": item.source_inspiration,
                "item_version": item.version,
                "status": item.status,
            }
        )
    return items


def _bank_labels(form: Form, languages: tuple) -> dict:
    """The labels (and kinds) of the constructs, facets and levels the form uses."""
    bank = form.bank
    return {
        "constructs": {
            c: {"label": _text(bank.constructs[c].label, languages), "kind": bank.constructs[c].kind}
            for c in sorted({it.construct for it in form.items})
            if c in bank.constructs
        },
        "facets": {
            f: {"label": _text(bank.facets[f].label, languages), "construct": bank.facets[f].construct}
            for f in sorted({it.facet for it in form.items})
            if f in bank.facets
        },
        "levels": {
            lv: {"label": _text(bank.levels[lv].label, languages)}
            for lv in sorted({it.level for it in form.items})
            if lv in bank.levels
        },
    }


def dumps(data: dict) -> str:
    """The codebook as deterministic JSON text (sorted keys, UTF-8 kept, indent 2)."""
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def keys_from_codebook(data: dict) -> dict:
    """The psych-style keys mapping (DESIGN.md's keys file) held in a codebook dict."""
    return {"scales": {k: list(v) for k, v in data["scales"].items()}, "min": data["min"], "max": data["max"], "id": data["id"]}


def write(form: Form, path: str | os.PathLike) -> Path:
    """Write ``codebook.json`` for ``form`` (atomically); returns the path.

    Example::

        write(form, "out/codebook.json")
        keys = keys_from_codebook(json.load(open("out/codebook.json")))
    """
    return write_text(path, dumps(codebook(form)))


#: Interface strings of the human-readable codebook.
STRINGS: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Livre de codes",
        "form": "Formulaire",
        "metadata": "Métadonnées du formulaire",
        "id": "Identifiant",
        "version": "Version",
        "hash": "Empreinte (hash)",
        "languages": "Langues",
        "bank_version": "Version de la banque",
        "consortium": "Consortium",
        "n_items": "Nombre d'énoncés",
        "versions": "Versions (ordre des énoncés)",
        "response_codes": "Codes de réponse",
        "code": "Code",
        "label": "Libellé",
        "status": "Statut",
        "scored": "compté",
        "missing": "manquant (jamais compté)",
        "items": "Énoncés",
        "items_note": "Dans l'ordre du formulaire (version {base}). Clé «\u00a0−\u00a0» = énoncé inversé (recodé min + max − x).",
        "number": "N°",
        "construct": "Construit",
        "facet": "Facette",
        "level": "Niveau",
        "key": "Clé",
        "reverse": "inversé",
        "text": "Texte",
        "scales": "Échelles",
        "scale": "Échelle",
        "kind": "Type",
        "scale_items": "Énoncés (clé de type psych)",
        "context_block": "Questions de contexte",
        "type": "Type",
        "required": "Obligatoire",
        "yes": "oui",
        "no": "non",
        "range": "Plage",
        "recall": "Période de référence",
        "kinds": {"facet": "facette", "construct": "construit", "level": "niveau"},
        "types": {"select_one": "choix unique", "integer": "nombre entier", "text": "texte"},
    },
    "en": {
        "title": "Codebook",
        "form": "Form",
        "metadata": "Form metadata",
        "id": "Identifier",
        "version": "Version",
        "hash": "Hash",
        "languages": "Languages",
        "bank_version": "Bank version",
        "consortium": "Consortium",
        "n_items": "Number of items",
        "versions": "Versions (item order)",
        "response_codes": "Response codes",
        "code": "Code",
        "label": "Label",
        "status": "Status",
        "scored": "scored",
        "missing": "missing (never scored)",
        "items": "Items",
        "items_note": "In form order (version {base}). Key “−” = reverse-keyed item (recoded min + max − x).",
        "number": "No.",
        "construct": "Construct",
        "facet": "Facet",
        "level": "Level",
        "key": "Key",
        "reverse": "reversed",
        "text": "Text",
        "scales": "Scales",
        "scale": "Scale",
        "kind": "Kind",
        "scale_items": "Items (psych-style key)",
        "context_block": "Context questions",
        "type": "Type",
        "required": "Required",
        "yes": "yes",
        "no": "no",
        "range": "Range",
        "recall": "Recall period",
        "kinds": {"facet": "facet", "construct": "construct", "level": "level"},
        "types": {"select_one": "single choice", "integer": "whole number", "text": "text"},
    },
}


def render_html(form: Form, *, lang: str = "fr") -> str:
    """The human-readable codebook as a self-contained HTML string (headings in ``lang``)."""
    from instrument.export.printed import environment

    if lang not in STRINGS or lang not in form.languages:
        raise ValueError(
            f"The 'lang' parameter of write_html must be one of the form's languages "
            f"{[x for x in form.languages if x in STRINGS]!r}; got {lang!r}."
        )
    typo = Typography(lang)
    s = {k: typo.text(v) if isinstance(v, str) else v for k, v in STRINGS[lang].items()}
    data = codebook(form)
    notes = {q["id"]: typo.text(_note(q, s)) for q in data["context_block"]}
    return environment().get_template("codebook.html.j2").render(cb=data, lang=lang, s=s, notes=notes)


def _note(q: dict, s: dict) -> str:
    """``Type: choix unique · Obligatoire: oui · Plage: 0–60`` (typeset by the caller)."""
    parts = [f"{s['type']}: {s['types'].get(q['type'], q['type'])}",
             f"{s['required']}: {s['yes'] if q.get('required') else s['no']}"]
    if q.get("minimum") is not None or q.get("maximum") is not None:
        low = "" if q.get("minimum") is None else q["minimum"]
        high = "" if q.get("maximum") is None else q["maximum"]
        parts.append(f"{s['range']}: {low}–{high}")
    return " · ".join(parts)


def write_html(form: Form, path: str | os.PathLike, *, lang: str = "fr") -> Path:
    """Write the human-readable codebook (HTML, self-contained) with headings in ``lang``
    and every item's text in all the form's languages; returns the path.

    Example::

        write_html(form, "out/codebook_fr.html", lang="fr")
    """
    return write_text(path, render_html(form, lang=lang))
