"""A form spec (YAML) + the item bank -> a checked :class:`~instrument.model.Form`.

The spec (documented sample: ``data_samples/form_member.yaml``) says which items of the
bank to ask, in which order, with which response set and which context questions, in
which languages, and fills the ``{consortium}`` placeholders of the item texts.

:func:`load_form` checks the spec against the bank and collects EVERY problem (each a
:class:`~instrument.model.Problem` with a stable code, the spec file and its line) before
raising :class:`FormError`. Codes: ``yaml-syntax``, ``unsafe-yaml`` (a Python tag: never
built, nothing run), ``yaml-alias`` (no anchor bomb), ``yaml-too-large`` (size, nesting),
``invalid-encoding`` (not UTF-8), ``duplicate-field``, ``empty-file``, ``not-a-mapping``, ``missing-field``, ``unknown-field``, ``invalid-value``,
``invalid-form-id``, ``invalid-version``, ``unknown-language``, ``missing-translation``,
``unknown-construct``, ``unknown-facet``, ``unknown-level``, ``unknown-item``,
``retired-item``, ``item-not-for-role``, ``unknown-exclusion``, ``empty-selection``, ``unknown-response-set``,
``mixed-response-sets``, ``unknown-context``, ``unknown-context-question``,
``invalid-order``, ``invalid-versions``, ``too-few-items``, ``unfilled-placeholder``.

Order of the items (``order``):

* ``grouped``: by construct, then by facet (each in the order of its first mention in the
  spec's ``select``, the bank's order among those mentioned on the same line), then by recall context (so a facet's items asked under the
  same recall context stay together), then the bank's item order;
* ``interleaved``: round robin across facets: each next item comes from the facet with the
  most items left among those other than the previous item's facet (ties: a construct other
  than the previous one first, then the grouped order), so adjacent items come from
  different facets whenever that is possible;
* ``shuffled``: the grouped order shuffled with ``random.Random(seed)`` (``seed`` required).

Interleaved and shuffled orders keep the items asked under one recall context together
(contexts in the order they first appear in the grouped order) and mix the items within
each: a respondent is not sent back and forth between "since you joined" and "since your
organization joined" at every line.

Counterbalancing (``versions: [A, B]``): version A is the order above; version B is

* ``grouped``: the construct blocks in reverse order (items keep their order inside a block);
* ``interleaved``: A read backwards (adjacent items still come from different facets);
* ``shuffled``: a second shuffle of the grouped order (within recall contexts), seeded with ``seed + 1``.

Recall context (``recall``): a bank context id, or a text ``{fr: ..., en: ...}``. When the
spec gives one, every item of the form is asked under it (the items' own contexts are
replaced; an override text becomes the context ``form_recall`` of ``Form.bank``); when it
gives none, each item keeps the context the bank gives it and ``Form.recall`` is the most
frequent one.

Scales: one per facet (``kind="facet"``, named by the facet id), one per construct
(``kind="construct"``, the construct id) and, in a benefit construct whose items span
several levels, one per level with at least 3 items (``kind="level"``, named
``<construct>_<level>``). Drawback constructs are scored apart (their own scales, never
mixed with benefits); tangible items are never part of a scale. Every facet and construct
scale must have at least 3 items in the form (``too-few-items``).

``Form.hash`` is the sha256 of a canonical JSON (sorted keys, no spaces) of the form id and
version, the item ids of each order version, the scored and missing response codes and the
context questions (ids and codes): what matters to match a returned file. It does not
depend on texts, so fixing a typo in a label keeps returned files matching.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import re
from collections import Counter
from pathlib import Path

from instrument.model import (
    LANGUAGES,
    ROLES,
    Form,
    Item,
    ItemBank,
    Problem,
    RecallContext,
    Scale,
    item_roles,
)
from psychometrics.userfile import UNREADABLE, YamlList, YamlMap, read_yaml

__all__ = ["FORM_ID_PATTERN", "ORDERS", "FormError", "load_form", "read_spec"]

#: A form id: lowercase letter, then lowercase letters, digits or underscores (31 chars at most).
FORM_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
#: Item orders a spec may ask for.
ORDERS = ("grouped", "interleaved", "shuffled")
#: Counterbalanced order versions a spec may ask for.
VERSION_LABELS = ("A", "B")
#: Fewest items of a scored facet or construct.
MIN_ITEMS = 3

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FIELDS = {
    "id",
    "version",
    "title",
    "introduction",
    "consortium",
    "recall",
    "languages",
    "select",
    "context_block",
    "response_set",
    "order",
    "seed",
    "versions",
    "network",
    "role",
}
_SELECT_FIELDS = {"constructs", "facets", "levels", "items", "exclude"}
OVERRIDE_CONTEXT = "form_recall"
#: A form for colleagues or non-members swaps the members' recall contexts for theirs (a
#: colleague who never sat in the consortium is not asked "since you have been taking part").
ROLE_CONTEXTS = {
    "colleague": {"since_joined": "colleague_own_work"},
    "nonmember": {"since_joined": "nonmember_own_work", "since_org_joined": "nonmember_org"},
}


class FormError(Exception):
    """A form spec with problems; ``problems`` lists every one (code, file, line, message)."""

    def __init__(self, problems):
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the form spec:\n{lines}")


# --------------------------------------------------------------------------- YAML reading


def _line_of(container, key) -> int | None:
    """The line of a key (mapping) or index (list) as read by :mod:`psychometrics.userfile`."""
    if isinstance(container, YamlMap):
        return container.line_of(key)
    if isinstance(container, YamlList):
        return container.lines[key] if isinstance(key, int) and 0 <= key < len(container.lines) else container.line
    return None


def read_spec(path: str | os.PathLike) -> tuple[object, list[Problem]]:
    """Read a spec file safely: ``(data, problems)``; data is None when unreadable.

    The reading is :func:`psychometrics.userfile.read_yaml`'s: only plain scalars are built
    (Python tags refused: ``unsafe-yaml``), aliases refused (``yaml-alias``, no alias bomb),
    size and depth limited (``yaml-too-large``), repeated keys reported
    (``duplicate-field``), syntax errors with their line (``yaml-syntax``). Mappings carry
    ``.line`` and ``.line_of(key)``, lists ``.line`` and ``.lines``.
    """
    where = str(path)
    problems: list[Problem] = []

    def add(code, message, file, line):
        problems.append(Problem(code, message, file=file, line=line))

    data = read_yaml(Path(path), where, add)
    if data is UNREADABLE:
        return None, problems
    if data is None:
        return None, [*problems, Problem("empty-file", "the form spec is empty", file=where, line=1)]
    return data, problems


# --------------------------------------------------------------------------- checks


class _Checker:
    def __init__(self, path, data, bank: ItemBank):
        self.file = str(path)
        self.data = data
        self.bank = bank
        self.problems: list[Problem] = []

    def add(self, code, message, line=None, item=""):
        self.problems.append(Problem(code, message, file=self.file, line=line, item=item))

    def line(self, key) -> int | None:
        return _line_of(self.data, key)

    # --- small readers

    def text(self, key, languages, required=True, single_ok=False, report_missing=True) -> dict:
        """A bilingual text {fr, en}; a plain string is accepted for both when single_ok."""
        value = self.data.get(key)
        line = self.line(key)
        if value is None:
            if required:
                self.add("missing-field", f"the spec needs '{key}' with a text per language ({', '.join(languages)})", line or 1)
            return {}
        if isinstance(value, str) and single_ok:
            return {lang: value for lang in languages}
        if not isinstance(value, dict):
            self.add("invalid-value", f"'{key}' must be a mapping {{fr: ..., en: ...}}; got {type(value).__name__}", line)
            return {}
        out = {}
        for lang, text in value.items():
            lang_line = _line_of(value, lang) or line
            if lang not in LANGUAGES:
                self.add("unknown-field", f"'{key}' has a text in {lang!r}; languages are {', '.join(LANGUAGES)}", lang_line)
                continue
            if not isinstance(text, str) or not text.strip():
                self.add("missing-translation", f"'{key}' has an empty text in {lang!r}", lang_line)
                continue
            out[lang] = text.strip()
        for lang in languages if report_missing else ():
            if lang not in out and lang in LANGUAGES and lang not in value:
                self.add("missing-translation", f"'{key}' has no text in {lang!r}", line)
        return out

    def id_list(self, mapping, key, what) -> list[tuple[str, int | None]]:
        """A list of ids (a single id is accepted) with the line of each."""
        value = mapping.get(key)
        line = _line_of(mapping, key)
        if value is None:
            return []
        if isinstance(value, str):
            return [(value, line)]
        if not isinstance(value, list):
            self.add("invalid-value", f"'{key}' must be a list of {what} ids; got {type(value).__name__}", line)
            return []
        out = []
        for index, entry in enumerate(value):
            entry_line = _line_of(value, index) or line
            if not isinstance(entry, str | int) or isinstance(entry, bool):
                self.add("invalid-value", f"'{key}' entries must be {what} ids; got {entry!r}", entry_line)
                continue
            out.append((str(entry), entry_line))
        return out


def _fill(text: str, values: dict) -> str:
    def repl(match):
        name = match.group(1)
        return values[name] if values.get(name) else match.group(0)

    return _PLACEHOLDER.sub(repl, text)


def _order_items(items: list[Item], method: str, seed, mention: dict, bank: ItemBank) -> list[Item]:
    """Version A's order (see the module's notes); ``mention``: item id -> spec line."""
    item_rank = {it.id: i for i, it in enumerate(bank.items)}
    bank_facet = {f: i for i, f in enumerate(bank.facets)}
    bank_construct = {c: i for i, c in enumerate(bank.constructs)}
    first_c: dict[str, int] = {}
    first_f: dict[str, int] = {}
    for it in items:
        line = mention.get(it.id) or 0
        first_c[it.construct] = min(first_c.get(it.construct, line), line)
        first_f[it.facet] = min(first_f.get(it.facet, line), line)
    c_rank = {c: i for i, c in enumerate(sorted(first_c, key=lambda c: (first_c[c], bank_construct.get(c, 0))))}
    facet_rank = {f: i for i, f in enumerate(sorted(first_f, key=lambda f: (first_f[f], bank_facet.get(f, 0))))}
    context_rank = {c: i for i, c in enumerate(bank.contexts)}
    grouped = sorted(
        items,
        key=lambda it: (
            c_rank.get(it.construct, len(c_rank)),
            facet_rank.get(it.facet, len(facet_rank)),
            context_rank.get(it.context, len(context_rank)),
            item_rank.get(it.id, 0),
        ),
    )
    if method == "grouped":
        return grouped
    if method == "shuffled":
        rng = random.Random(seed)
        out = []
        for segment in _segments(grouped):
            rng.shuffle(segment)
            out += segment
        return out
    # interleaved, segment by segment, carrying the previous item across segments
    out: list[Item] = []
    prev: Item | None = None
    for segment in _segments(grouped):
        queues: dict[str, list[Item]] = {}
        for it in segment:
            queues.setdefault(it.facet, []).append(it)
        facet_first = {f: i for i, f in enumerate(queues)}
        while any(queues.values()):
            candidates = [f for f, q in queues.items() if q and (prev is None or f != prev.facet)]
            if not candidates:
                candidates = [f for f, q in queues.items() if q]
            best = min(
                candidates,
                key=lambda f, prev=prev, queues=queues, facet_first=facet_first: (
                    -len(queues[f]),
                    0 if prev is None or queues[f][0].construct != prev.construct else 1,
                    facet_first[f],
                ),
            )
            prev = queues[best].pop(0)
            out.append(prev)
    return out


def _segments(grouped: list[Item]) -> list[list[Item]]:
    """The items cut by recall context, contexts in the order they first appear."""
    segments: dict[str, list[Item]] = {}
    for it in grouped:
        segments.setdefault(it.context, []).append(it)
    return list(segments.values())


def _version_b(order_a: list[Item], grouped: list[Item], method: str, seed) -> list[Item]:
    if method == "grouped":
        blocks: list[list[Item]] = []
        for it in order_a:
            if blocks and blocks[-1][-1].construct == it.construct:
                blocks[-1].append(it)
            else:
                blocks.append([it])
        return [it for block in reversed(blocks) for it in block]
    if method == "interleaved":
        return list(reversed(order_a))
    rng = random.Random(seed + 1)
    out = []
    for segment in _segments(grouped):
        rng.shuffle(segment)
        out += segment
    return out


def _scales(items: list[Item], bank: ItemBank) -> list[Scale]:
    scales: list[Scale] = []
    by_construct: dict[str, list[Item]] = {}
    for it in items:
        if it.tangible or bank.constructs[it.construct].kind == "tangible":
            continue
        by_construct.setdefault(it.construct, []).append(it)
    for cid, c_items in by_construct.items():
        construct = bank.constructs[cid]
        scales.append(Scale(cid, "construct", tuple(it.key for it in c_items), dict(construct.label)))
        facets: dict[str, list[Item]] = {}
        for it in c_items:
            facets.setdefault(it.facet, []).append(it)
        for fid in sorted(facets, key=lambda f: list(bank.facets).index(f) if f in bank.facets else 0):
            facet = bank.facets.get(fid)
            label = dict(facet.label) if facet else {}
            scales.append(Scale(fid, "facet", tuple(it.key for it in facets[fid]), label))
        levels: dict[str, list[Item]] = {}
        for it in c_items:
            levels.setdefault(it.level, []).append(it)
        if construct.kind == "benefit" and len(levels) >= 2:
            for lid in sorted(levels, key=lambda lv: list(bank.levels).index(lv) if lv in bank.levels else 0):
                if len(levels[lid]) < MIN_ITEMS:
                    continue
                name = f"{cid}_{lid}"
                if name in bank.facets or name in bank.constructs:
                    name = f"{cid}_level_{lid}"
                level = bank.levels.get(lid)
                label = {
                    lang: f"{construct.label.get(lang, cid)} — {level.label.get(lang, lid) if level else lid}"
                    for lang in LANGUAGES
                }
                scales.append(Scale(name, "level", tuple(it.key for it in levels[lid]), label))
    return scales


def form_hash(form_id: str, version: str, versions: dict, response_set, context_block) -> str:
    """The digest that matches a returned file to its form (see the module's notes)."""
    canonical = {
        "id": form_id,
        "version": version,
        "versions": {label: list(ids) for label, ids in versions.items()},
        "codes": list(response_set.codes),
        "missing_codes": list(response_set.missing_codes),
        "context": [[q.id, q.type, [c.code for c in q.choices]] for q in context_block],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def load_form(spec_path: str | os.PathLike, bank: ItemBank | None = None) -> Form:
    """Read a form spec, check it against the bank, and build the :class:`Form`.

    Every problem is collected first (code, the spec file and its line), then
    :class:`FormError` is raised with all of them. ``bank`` defaults to the shipped bank.

    Example::

        form = load_form("data_samples/form_member.yaml")
        form.item_ids, form.versions["B"], form.keys()

    (In R one would build the item list and the ``psych::make.keys`` key by hand.)
    """
    data, problems = read_spec(spec_path)
    if data is None:
        raise FormError(problems)
    if not isinstance(data, dict):
        raise FormError([*problems, Problem("not-a-mapping", "a form spec is a YAML mapping (id:, version:, title: ...)", file=str(spec_path), line=1)])
    if bank is None:
        from instrument.bank import load_bank

        bank = load_bank()
    ck = _Checker(spec_path, data, bank)
    ck.problems.extend(problems)
    for key in data:
        if key not in _FIELDS:
            ck.add("unknown-field", f"unknown field {key!r}; the fields are {', '.join(sorted(_FIELDS))}", ck.line(key))
    form_id, version = _identity(ck)
    languages = _languages(ck)
    title = ck.text("title", languages)
    introduction = ck.text("introduction", languages)
    consortium = ck.text("consortium", languages, required=False, single_ok=True, report_missing=False)
    chosen, source_line, role, select_line = _selection(ck)
    response_set = _response_set(ck, chosen, select_line)
    chosen = _role_contexts(ck, chosen, role)
    chosen, recall_text, form_bank = _recall(ck, chosen, languages, source_line)
    context_block, network = _context_block(ck, spec_path, languages)
    order, seed, version_labels = _order_spec(ck)
    _check_scale_sizes(ck, chosen, source_line)
    values = {lang: {"consortium": consortium.get(lang, "")} for lang in languages}
    texts = _item_texts(ck, chosen, languages, values, source_line)
    title = {lang: _fill(t, values[lang]) for lang, t in title.items() if lang in values}
    introduction = {lang: _fill(t, values[lang]) for lang, t in introduction.items() if lang in values}
    recall = {lang: _fill(t, values[lang]) for lang, t in recall_text.items() if lang in languages}
    _check_placeholders(ck, chosen, texts, title, introduction, values, form_bank)
    if ck.problems:
        raise FormError(ck.problems)

    order_a, versions, scales = _orders(chosen, order, seed, version_labels, source_line, bank)
    return Form(
        id=form_id,
        version=version,
        title=title,
        introduction=introduction,
        consortium={lang: consortium.get(lang, "") for lang in languages},
        languages=tuple(languages),
        response_set=response_set,
        items=tuple(order_a),
        texts=texts,
        recall=recall,
        context_block=tuple(context_block),
        scales=tuple(scales),
        versions=versions,
        hash=form_hash(form_id, version, versions, response_set, context_block),
        bank=form_bank,
        network=network,
        role=role,
    )


# --------------------------------------------------------------------------- the steps of load_form


def _identity(ck: _Checker) -> tuple[str, str]:
    """The form's ``id`` and ``version``, checked (empty or as text when wrong)."""
    data = ck.data
    form_id = data.get("id")
    if form_id is None:
        ck.add("missing-field", "the spec needs an 'id' (e.g. member)", 1)
        form_id = ""
    elif not isinstance(form_id, str) or not FORM_ID_PATTERN.match(form_id):
        ck.add(
            "invalid-form-id",
            f"the form id must match {FORM_ID_PATTERN.pattern} (a lowercase letter, then lowercase letters, digits or _; 31 chars at most); got {form_id!r}",
            ck.line("id"),
        )
        form_id = str(form_id)
    version = data.get("version")
    if version is None:
        ck.add("missing-field", "the spec needs a 'version' (e.g. \"1.0\")", 1)
        version = ""
    elif isinstance(version, bool | float) or not isinstance(version, str | int):
        ck.add("invalid-version", f"write the version as a quoted text (e.g. \"1.0\"); got {version!r}", ck.line("version"))
        version = str(version)
    else:
        version = str(version).strip()
        if not version or len(version) > 32 or not re.match(r"^[A-Za-z0-9._-]+$", version):
            ck.add("invalid-version", f"the version must be 1-32 letters, digits, '.', '_' or '-'; got {version!r}", ck.line("version"))
    return form_id, version


def _languages(ck: _Checker) -> list[str]:
    """The form's languages in the spec's order (every language when it names none)."""
    languages: list[str] = []
    for lang, line in ck.id_list(ck.data, "languages", "language") or [(lang, None) for lang in LANGUAGES]:
        if lang not in LANGUAGES:
            ck.add("unknown-language", f"unknown language {lang!r}; the languages are {', '.join(LANGUAGES)}", line)
        elif lang in languages:
            ck.add("invalid-value", f"the language {lang!r} is listed twice", line)
        else:
            languages.append(lang)
    return languages or list(LANGUAGES)


def _select_lists(ck: _Checker) -> tuple[YamlMap, dict[str, list]]:
    """The ``select`` mapping and its lists (constructs, facets, levels, items, exclude),
    each id checked against the bank."""
    bank = ck.bank
    select = ck.data.get("select")
    if select is None:
        ck.add("missing-field", "the spec needs 'select' (constructs, facets, levels, items, exclude)", 1)
        select = YamlMap(1)
    elif not isinstance(select, dict):
        ck.add("invalid-value", "'select' must be a mapping with constructs, facets, levels, items, exclude", ck.line("select"))
        select = YamlMap(1)
    for key in select:
        if key not in _SELECT_FIELDS:
            ck.add("unknown-field", f"unknown field {key!r} in 'select'; the fields are {', '.join(sorted(_SELECT_FIELDS))}", _line_of(select, key))
    lists = {field: ck.id_list(select, field, what) for field, what in (
        ("constructs", "construct"), ("facets", "facet"), ("levels", "level"), ("items", "item"), ("exclude", "item"))}
    item_ids = {it.id for it in bank.items}
    for cid, line in lists["constructs"]:
        if cid not in bank.constructs:
            ck.add("unknown-construct", f"no construct {cid!r} in the bank; constructs: {', '.join(bank.constructs)}", line)
    for fid, line in lists["facets"]:
        if fid not in bank.facets:
            ck.add("unknown-facet", f"no facet {fid!r} in the bank", line)
    for lid, line in lists["levels"]:
        if lid not in bank.levels:
            ck.add("unknown-level", f"no level {lid!r} in the bank; levels: {', '.join(bank.levels)}", line)
    for iid, line in lists["items"]:
        if iid not in item_ids:
            ck.add("unknown-item", f"no item {iid!r} in the bank", line, item=iid)
        elif bank.item(iid).status == "retired":
            ck.add("retired-item", f"the item {iid!r} is retired in the bank", line, item=iid)
    for iid, line in lists["exclude"]:
        if iid not in item_ids:
            ck.add("unknown-item", f"cannot exclude {iid!r}: no such item in the bank", line, item=iid)
    return select, lists


def _selection(ck: _Checker) -> tuple[list[Item], dict[str, int | None], str, int | None]:
    """The items the spec selects for its role, the spec line that brought each, the role
    and the line of ``select``."""
    bank = ck.bank
    select, lists = _select_lists(ck)
    wanted_levels = {lid for lid, _ in lists["levels"] if lid in bank.levels} or None
    source_line: dict[str, int | None] = {}  # item id -> line of the selection that brought it
    chosen: list[Item] = []

    def take(it: Item, line):
        if it.id not in source_line:
            chosen.append(it)
            source_line[it.id] = line

    role = ck.data.get("role", "member")
    if role not in ROLES:
        ck.add("invalid-value", f"'role' must be one of {', '.join(ROLES)}; got {role!r}", ck.line("role"))
        role = "member"
    for field, kind in (("constructs", "construct"), ("facets", "facet")):
        for cid, line in lists[field]:
            for it in bank.select(**{kind: cid}, level=wanted_levels):
                if role in item_roles(it):  # the items written for this role only
                    take(it, line)
    item_ids = {it.id for it in bank.items}
    for iid, line in lists["items"]:
        if iid in item_ids and bank.item(iid).status != "retired":
            if role not in item_roles(bank.item(iid)):
                ck.add("item-not-for-role", f"the item {iid!r} is written for {', '.join(item_roles(bank.item(iid)))}, "
                       f"not for the form's role {role!r}", line, item=iid)
            take(bank.item(iid), line)
    excluded = {iid for iid, _ in lists["exclude"]}
    chosen = [it for it in chosen if it.id not in excluded]
    if not chosen and not any(p.code.startswith("unknown-") for p in ck.problems):
        ck.add("empty-selection", "the selection gives no item (check constructs, facets, levels, exclude)", select.line)
    return chosen, source_line, role, select.line


def _response_set(ck: _Checker, chosen: list[Item], select_line: int | None):
    """The spec's response set, else the one most items use; every item must use it."""
    bank = ck.bank
    rs_id = ck.data.get("response_set")
    response_set = None
    if rs_id is not None:
        if rs_id not in bank.response_sets:
            ck.add("unknown-response-set", f"no response set {rs_id!r} in the bank; response sets: {', '.join(bank.response_sets)}", ck.line("response_set"))
        else:
            response_set = bank.response_sets[rs_id]
    used = Counter(it.response_set for it in chosen)
    if response_set is None and rs_id is None and used:
        response_set = bank.response_sets.get(used.most_common(1)[0][0])
    if response_set is not None:
        odd = [it.id for it in chosen if it.response_set != response_set.id]
        if odd:
            ck.add(
                "mixed-response-sets",
                f"every item of a form shares one response set ({response_set.id}); "
                f"{len(odd)} item(s) use another one: {', '.join(odd[:8])}{' ...' if len(odd) > 8 else ''}",
                ck.line("response_set") if rs_id is not None else select_line,
            )
    elif chosen and rs_id is None:
        ck.add("unknown-response-set", "no response set could be chosen for the items", select_line)
    return response_set


def _role_contexts(ck: _Checker, chosen: list[Item], role: str) -> list[Item]:
    """Each item under the recall context that fits the form's role."""
    if role == "member":
        return chosen
    swap = ROLE_CONTEXTS[role]
    chosen = [dataclasses.replace(it, context=swap.get(it.context, it.context)) for it in chosen]
    for ctx_id in sorted({it.context for it in chosen} - set(ck.bank.contexts)):
        ck.add("unknown-context", f"the recall context {ctx_id!r} for role {role!r} is not in the bank", ck.line("role"))
    return chosen


def _recall(ck: _Checker, chosen: list[Item], languages: list[str], source_line: dict):
    """``(items, recall text, bank)``: the spec's recall context (a bank id, or a text that
    becomes the context ``form_recall`` of the form's bank) over every item, else the
    items' own contexts and the most frequent one's text."""
    bank = ck.bank
    recall_spec = ck.data.get("recall")
    recall_text: dict = {}
    override_context: str | None = None
    form_bank = bank
    if recall_spec is None:
        counts = Counter(it.context for it in chosen)
        if counts:
            top = counts.most_common(1)[0][0]
            if top in bank.contexts:
                recall_text = dict(bank.contexts[top].text)
    elif isinstance(recall_spec, str):
        if recall_spec not in bank.contexts:
            ck.add("unknown-context", f"no recall context {recall_spec!r} in the bank; contexts: {', '.join(bank.contexts)}", ck.line("recall"))
        else:
            recall_text = dict(bank.contexts[recall_spec].text)
            override_context = recall_spec
    else:
        recall_text = ck.text("recall", languages)
        if recall_text:
            override_context = OVERRIDE_CONTEXT
            form_bank = dataclasses.replace(
                bank, contexts={**bank.contexts, OVERRIDE_CONTEXT: RecallContext(OVERRIDE_CONTEXT, dict(recall_text))}
            )
    if override_context is not None:
        return [dataclasses.replace(it, context=override_context) for it in chosen], recall_text, form_bank
    for it in chosen:
        if it.context not in bank.contexts:
            ck.add("unknown-context", f"the item's recall context {it.context!r} is not in the bank", source_line.get(it.id), item=it.id)
    return chosen, recall_text, form_bank


def _context_block(ck: _Checker, spec_path, languages: list[str]) -> tuple[list, object]:
    """The context questions (the spec's list, else the bank's) and the roster question's
    generated ones (``network``, :mod:`instrument.collaboration`)."""
    data = ck.data
    block_by_id = {q.id: q for q in ck.bank.context_block}
    if "context_block" in data:
        context_block = []
        for qid, line in ck.id_list(data, "context_block", "context question"):
            if qid not in block_by_id:
                ck.add(
                    "unknown-context-question",
                    f"no context question {qid!r} in the bank; questions: {', '.join(block_by_id)}",
                    line,
                )
            elif block_by_id[qid] not in context_block:
                context_block.append(block_by_id[qid])
    else:
        context_block = list(ck.bank.context_block)
    network = None
    if "network" in data:
        from instrument.collaboration import parse_network, questions

        network = parse_network(data["network"], Path(spec_path).parent, languages, ck.add, ck.line("network"))
        context_block += questions(network, languages) if network else []
    return context_block, network


def _order_spec(ck: _Checker) -> tuple[str, int | None, list[str]]:
    """``order``, ``seed`` and the ``versions`` labels, checked."""
    data = ck.data
    order = data.get("order", "grouped")
    seed = data.get("seed")
    if order not in ORDERS:
        ck.add("invalid-order", f"'order' must be one of {', '.join(ORDERS)}; got {order!r}", ck.line("order"))
        order = "grouped"
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        ck.add("invalid-order", f"'seed' must be a whole number; got {seed!r}", ck.line("seed"))
        seed = None
    if order == "shuffled" and seed is None and "seed" not in data:
        ck.add("invalid-order", "a shuffled order needs a 'seed' (a whole number) so the order can be rebuilt", ck.line("order"))
    version_labels = [label for label, _ in ck.id_list(data, "versions", "version label")] or ["A"]
    if version_labels not in (["A"], ["A", "B"]):
        ck.add("invalid-versions", f"'versions' must be [A] or [A, B]; got {version_labels!r}", ck.line("versions"))
        version_labels = ["A"]
    return order, seed, version_labels


def _check_scale_sizes(ck: _Checker, chosen: list[Item], source_line: dict) -> None:
    """Every scored facet and construct has at least :data:`MIN_ITEMS` items."""
    constructs = ck.bank.constructs
    scored = [it for it in chosen if not it.tangible and constructs.get(it.construct)
              and constructs[it.construct].kind != "tangible"]
    first_line: dict[str, int | None] = {}
    for it in chosen:
        first_line.setdefault(it.facet, source_line.get(it.id))
        first_line.setdefault(it.construct, source_line.get(it.id))
    for kind, count in (("facet", Counter(it.facet for it in scored)),
                        ("construct", Counter(it.construct for it in scored))):
        for name, n in count.items():
            if n < MIN_ITEMS:
                ck.add(
                    "too-few-items",
                    f"{kind} with too few items to score: {name!r} has {n} item(s) in the form; a scored {kind} needs at least {MIN_ITEMS}",
                    first_line.get(name),
                )


def _item_texts(ck: _Checker, chosen: list[Item], languages: list[str], values: dict, source_line: dict) -> dict:
    """Item id -> language -> text with its placeholders filled; an item without a text in
    a language of the form is ``missing-translation``."""
    texts = {it.id: {lang: _fill(it.text.get(lang, ""), values[lang]) for lang in languages} for it in chosen}
    for it in chosen:
        for lang in languages:
            if not it.text.get(lang, "").strip():
                ck.add("missing-translation", f"the item has no text in {lang!r} in the bank", source_line.get(it.id), item=it.id)
    return texts


def _check_placeholders(ck: _Checker, chosen, texts, title, introduction, values, form_bank) -> None:
    """No ``{placeholder}`` may remain in a text a respondent reads once filled."""
    unfilled: dict[tuple[str, str], list[str]] = {}

    def scan(where: str, text: str, lang: str):
        for name in _PLACEHOLDER.findall(text):
            unfilled.setdefault((lang, name), []).append(where)

    for lang in values:
        scan("title", title.get(lang, ""), lang)
        scan("introduction", introduction.get(lang, ""), lang)
        for it in chosen:
            scan(f"item {it.id}", texts[it.id][lang], lang)
            ctx = form_bank.contexts.get(it.context)
            if ctx is not None:
                scan(f"recall context {it.context}", _fill(ctx.text.get(lang, ""), values[lang]), lang)
        for cid in dict.fromkeys(it.construct for it in chosen):
            if cid in ck.bank.constructs:
                scan(f"heading {cid}", _fill(ck.bank.constructs[cid].label.get(lang, ""), values[lang]), lang)
    for (lang, name), places in unfilled.items():
        places = list(dict.fromkeys(places))
        hint = " (give 'consortium' a name in this language)" if name == "consortium" else " (the form spec has no value for it)"
        ck.add(
            "unfilled-placeholder",
            f"{{{name}}} is left unfilled in {lang!r} in {len(places)} text(s): "
            f"{', '.join(places[:5])}{' ...' if len(places) > 5 else ''}{hint}",
            ck.line("consortium") if name == "consortium" and "consortium" in ck.data else 1,
        )


def _orders(chosen, order, seed, version_labels, source_line, bank):
    """``(version A's items, versions, scales)``: the order versions and the scales."""
    order_a = _order_items(chosen, order, seed, source_line, bank)
    versions = {"A": tuple(it.id for it in order_a)}
    grouped = _order_items(chosen, "grouped", seed, source_line, bank)
    if version_labels == ["A", "B"]:
        versions["B"] = tuple(it.id for it in _version_b(order_a, grouped, order, seed))
    return order_a, versions, _scales(grouped, bank)
