"""KoboToolbox response exports (Project > Data > Downloads), for a form deployed from the
XLSForm ``intangibles form build --format xlsform`` writes.

Layouts read (see ``tests/platforms/SOURCES.md``): XLS (an .xlsx workbook, first sheet) and
CSV (``;`` by default, ``,`` too; every field quoted); "XML values and headers" (question
names as headings, with their group path joined by the group separator, ``/`` by default,
or without groups; choice names, i.e. our codes, as values) and "Labels" in either
language (question labels as headings, optionally after their group's label; choice
labels as values). Metadata columns (``_id``, ``_uuid``, ``_submission_time``,
``_validation_status``, ``_notes``, ``_status``, ``_submitted_by``, ``__version__``,
``_tags``, ``_index``, ``start``, ``end``...) are known; ``_uuid`` names the respondent.
Kobo keeps no "incomplete" submission: every row is a submitted form; one a reviewer marked
"not approved" (``validation_status_not_approved``) is ``rejected-on-platform``.
"""

from __future__ import annotations

import re

from instrument.collaboration import roster
from instrument.platforms import Layout, Names, folded_lookup, map_header
from instrument.platforms.fields import fields
from instrument.platforms.fields import names as xlsform_names
from instrument.platforms.layout import Reviewed, selection_columns
from instrument.platforms.writing import (
    Answers,
    selection_cells,
    stable_uuid,
    submitted_at,
    write_csv,
    write_xlsx,
)

__all__ = ["META", "VARIANTS", "layout", "names", "recognize", "write"]

#: Columns KoboToolbox adds to every export (and the XLSForm metadata questions it may hold).
META = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
        "__version__", "_tags", "_index", "_parent_index", "_parent_table_name", "_attachments", "_geolocation",
        "_xform_id_string", "_submission__id", "_submission__uuid", "start", "end", "today", "deviceid", "username",
        "phonenumber", "simserial", "subscriberid", "audit", "formhub/uuid", "meta/instanceID", "meta/rootUuid",
        "meta/deprecatedID", "meta/instanceName", "instanceID", "rootUuid", "deprecatedID")
_SIGNATURE = {"_uuid", "_submission_time", "_validation_status", "__version__", "_submitted_by"}
_META_TAIL = re.compile(r"(?:^|[/.:-])(start|end|today|deviceid|instanceID|rootUuid|deprecatedID|uuid)$")

VARIANTS = ("csv", "csv-comma", "xlsx", "labels-fr", "labels-en")
#: Kobo's validation status of a submission a reviewer refused (its value, and its label in the UI).
_NOT_APPROVED = frozenset({"validation_status_not_approved", "not approved", "non approuvé"})
_DESCRIPTION = {
    "xml": "KoboToolbox export (XML values and headers)",
    "labels": "KoboToolbox export (labels)",
}


def names(form) -> Names:
    return xlsform_names(form)


def recognize(header: list) -> bool:
    return bool(_SIGNATURE & set(header))


def _meta_name(h: str) -> str:
    if h in META:
        return h
    m = _META_TAIL.search(h)
    return h if m else ""


def layout(header: list, exports) -> Layout:
    own = exports.names["kobo"]
    labels = [False]

    def resolve(h):
        hit = own.exact.get(h)
        if hit is None:
            hit = folded_lookup(own, h)
            labels[0] = labels[0] or hit is not None
        return hit

    columns, meta, unmapped, ambiguous, missing = map_header(
        header, resolve, lambda h: "note" if h in own.extra["notes"] else _meta_name(h), exports)
    columns, selection = selection_columns(columns, len(header), own.extra["selection"])
    ids = tuple(j for j, h in enumerate(header) if h == "_uuid") or tuple(j for j, h in enumerate(header) if h == "_id")
    where = {name: j for j, name in reversed(meta.items())}
    status = where.get("_validation_status")
    judge = None if status is None else Reviewed(status, _NOT_APPROVED)
    return Layout("kobo", _DESCRIPTION["labels" if labels[0] else "xml"], columns, ids, meta, unmapped, ambiguous,
                  missing, judge=judge, submitted_column=where.get("_submission_time"), status_column=status,
                  selection=selection)


def write(form, frame, path, variant: str, incomplete: int = 0):
    """The export of ``frame``'s respondents in one of :data:`VARIANTS`."""
    answers = Answers(form)
    lang = variant.split("-")[1] if variant.startswith("labels") else None
    with_groups = variant in ("csv", "xlsx", "labels-fr")
    header = ["start", "end"]
    qs = fields(form)
    net = roster(form)
    for f in qs:
        if lang:
            label = f.label[lang]
            header.append(f"{f.group_label[lang]}/{label}" if with_groups and f.group_label.get(lang) else label)
        else:
            header.append("/".join((*f.groups, f.id)) if with_groups else f.id)
        if f.multiple:  # Kobo's default "both": the summary column, then one column per choice
            header += [f"{header[-1]}/{name[lang] if lang else code}" for code, name in zip(net.codes, net.names,
                                                                                             strict=True)]
    header += ["_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status", "_submitted_by",
               "__version__", "_tags", "_index"]
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        t = submitted_at(i)
        row = [(t.replace(minute=0)).isoformat(timespec="milliseconds"), t.isoformat(timespec="milliseconds")]
        for f in qs:
            row += selection_cells(net, rec, lang) if f.multiple else [answers.text(f.id, rec.get(f.id), lang)]
        row += [str(400000 + i), stable_uuid("kobo", form.id, rec["respondent"]), t.strftime("%Y-%m-%dT%H:%M:%S"),
                "", "", "submitted_via_web", "", "vQ4wZ8sW3qPpVbXnGJfF2d", "", str(i + 1)]
        rows.append(row)
    if variant == "xlsx":
        return write_xlsx(path, form.title[form.languages[0]], header, rows)
    return write_csv(path, header, rows, sep="," if variant == "csv-comma" else ";", quote_all=True)
