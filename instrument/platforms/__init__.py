"""Response exports of the survey platforms the questionnaire is exported to.

One module per platform (:mod:`.kobo`, :mod:`.odk`, :mod:`.limesurvey`, :mod:`.redcap`);
each maps an export's columns to the form's items through the form's OWN export naming
(:mod:`instrument.export.xlsform`, :mod:`instrument.export.limesurvey`,
:mod:`instrument.export.redcap`), never by guessing from the data, and writes simulated
exports in the platform's layout (``intangibles simulate --as``). The layouts, and where
each was read, are listed in ``tests/platforms/SOURCES.md``.

:func:`detect` is the hook :mod:`instrument.returns` calls on a CSV or workbook that is not
one of ours: it recognizes the platform from the header (its metadata columns), or takes
the one forced with ``--source``, and returns the :class:`~.layout.Layout` the rows are read
through; the cells then go through the same checks as a returned workbook.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from instrument.answers import normalize_label
from instrument.platforms.layout import Layout, Mismatch, Names

__all__ = ["SOURCES", "Exports", "Layout", "Mismatch", "detect", "map_header", "module", "write_export"]

SOURCES = ("kobo", "odk", "limesurvey", "redcap")
AMBIGUOUS = "\x00ambiguous"


def module(source: str):
    """The module of one platform (``kobo``, ``odk``, ``limesurvey``, ``redcap``)."""
    from instrument.platforms import kobo, limesurvey, odk, redcap

    return {"kobo": kobo, "odk": odk, "limesurvey": limesurvey, "redcap": redcap}[source]


@dataclass(frozen=True)
class Exports:
    """The form's naming on every platform, and the reading options (small, picklable)."""

    names: dict  # source -> Names
    items: tuple
    context: tuple
    form_version: str
    missing_codes: tuple
    source: str | None = None  # forced with --source
    include_incomplete: bool = False
    id_column: str | None = None  # the column that names respondents (--id-column), instead of the platform's id

    @classmethod
    def from_form(cls, form) -> Exports:
        return cls(
            names={s: module(s).names(form) for s in SOURCES},
            items=tuple(form.item_ids),
            context=tuple(q.id for q in form.context_block),
            form_version=str(form.version),
            missing_codes=tuple(form.response_set.missing_codes),
        )

    def with_options(self, source: str | None = None, include_incomplete: bool = False,
                     id_column: str | None = None) -> Exports:
        if source is not None and source not in SOURCES:
            raise ValueError(f"The 'source' parameter must be one of {', '.join(SOURCES)}; got {source!r}.")
        return replace(self, source=source, include_incomplete=include_incomplete, id_column=id_column or None)


def detect(header: list, exports: Exports) -> Layout | None:
    """The layout of a platform export with this header, or None when no platform matches.

    Raises :class:`Mismatch` for a platform export of another form or version."""
    header = ["" if h is None else str(h).strip() for h in header]
    found = _detect(header, exports)
    if found is None or not exports.id_column:
        return found
    # the respondent code a team added to its platform form (or any column), named with --id-column
    name = exports.id_column
    j = next((j for j, h in enumerate(header) if h == name or found.columns.get(j) == name
              or h.rsplit("/", 1)[-1].rsplit("-", 1)[-1] == name), None)
    if j is None:
        raise Mismatch("missing-column", f"the respondent column {name!r} (--id-column) is not a column of this export")
    return replace(found, id_columns=(j,), first_id_only=True, unmapped=tuple(h for h in found.unmapped if h != header[j]))


def _detect(header: list, exports: Exports) -> Layout | None:
    if exports.source:
        return module(exports.source).layout(header, exports)
    for source in ("redcap", "limesurvey", "odk", "kobo"):  # most specific signatures first
        if module(source).recognize(header):
            return module(source).layout(header, exports)
    # no platform metadata at all (columns trimmed by hand): the platform whose naming maps most
    # items, unless items are headings as they are (then it is a CSV of ours, checked as such)
    if set(header) & set(exports.items):
        return None
    best, best_n = None, 0
    for source in SOURCES:
        try:
            found = module(source).layout(header, exports)
        except Mismatch:
            continue
        n = sum(v in exports.items for v in found.columns.values())
        if n > best_n:
            best, best_n = found, n
    return best


def map_header(header: list, resolve, is_meta, exports: Exports) -> tuple[dict, dict, tuple, tuple, tuple]:
    """Map each heading: ``resolve(h)`` -> a form id (or :data:`AMBIGUOUS`, or None);
    ``is_meta(h)`` -> the metadata name, or "". Returns (columns, meta, unmapped, ambiguous,
    missing items). A form id found in two columns keeps the first (the second is unmapped)."""
    columns: dict[int, str] = {}
    meta: dict[int, str] = {}
    unmapped, ambiguous = [], []
    seen: set = set()
    for j, h in enumerate(header):
        if not h:
            continue
        qid = resolve(h)
        if qid == AMBIGUOUS:
            ambiguous.append(h)
        elif qid and qid not in seen:
            columns[j] = qid
            seen.add(qid)
        elif name := is_meta(h):
            meta[j] = name
        else:
            unmapped.append(h)
    mapped_items = [i for i in exports.items if i in seen]
    if not mapped_items:
        raise Mismatch("other-form", "none of the form's items is a column of this export: it was exported from "
                       "another form (or with headings this reader does not know)")
    missing = tuple(i for i in exports.items if i not in seen)
    if len(missing) > len(exports.items) / 2:
        raise Mismatch("unknown-form-version", f"only {len(mapped_items)} of the form's {len(exports.items)} items "
                       f"are columns of this export ({len(unmapped)} other column(s)): another version of the form?")
    return columns, meta, tuple(unmapped), tuple(ambiguous), missing


def folded_lookup(names: Names, h: str):
    """A heading looked up as written, then case-, accent- and space-insensitively."""
    hit = names.exact.get(h)
    if hit is None:
        hit = names.folded.get(normalize_label(strip_tags(h)))
    return hit


_TAG = re.compile(r"<[^>]{0,200}>")


def strip_tags(text: str) -> str:
    """HTML tags out (LimeSurvey and REDCap headings may carry them), as a space."""
    return _TAG.sub(" ", text) if "<" in text else text


def add_folded(table: dict, text: str, qid: str) -> None:
    """Add a label heading; a text two questions share is marked ambiguous."""
    key = normalize_label(strip_tags(text))
    if not key:
        return
    table[key] = qid if table.get(key, qid) == qid else AMBIGUOUS


def write_export(form, responses, path, source: str, variant: str | None = None, *, incomplete: int = 0):
    """Write simulated responses (``Sample.responses`` of :func:`instrument.simulate.simulate`)
    as ``source``'s response export; ``variant`` picks one of the module's ``VARIANTS``;
    ``incomplete``: the last respondents left before the end (LimeSurvey: no ``submitdate``;
    REDCap: form status 0; Kobo and ODK keep only submitted forms). Returns the path written."""
    from instrument.simulate import context_codes

    frame = context_codes(form, responses)
    platform = module(source)
    variant = variant or platform.VARIANTS[0]
    if variant not in platform.VARIANTS:
        raise ValueError(f"The 'variant' parameter for {source} must be one of {', '.join(platform.VARIANTS)}; "
                         f"got {variant!r}.")
    if incomplete and source not in ("limesurvey", "redcap"):
        raise ValueError(f"The 'incomplete' parameter needs limesurvey or redcap: {source} exports only submitted forms.")
    return platform.write(form, frame, path, variant, incomplete=incomplete)
