"""ODK Central CSV exports (Submissions > Download > CSV) and the older ODK Briefcase CSV, for
a form built from the XLSForm ``intangibles form build --format xlsform`` writes.

Central (see ``tests/platforms/SOURCES.md``): ``SubmissionDate`` first, the questions with
their group path joined by ``-`` (``g_trust-trcpi1``; or bare names with "remove group
names"), ``meta-instanceID``, then ``KEY``, ``SubmitterID``, ``SubmitterName``,
``AttachmentsPresent``, ``AttachmentsExpected``, ``Status``, ``ReviewState``, ``DeviceID``,
``Edits``, ``FormVersion``; values are choice names (our codes). Briefcase: ``SubmissionDate``,
the questions, ``meta-instanceID``, ``KEY`` (no review columns). ``KEY`` (the instance
id, ``uuid:...``) names the respondent. A row whose ``FormVersion`` is not the form's
version is rejected (``unknown-form-version``): Central exports every version of a form
together; so is one whose ``ReviewState`` is ``rejected`` (``rejected-on-platform``).
"""

from __future__ import annotations

from instrument.collaboration import roster
from instrument.platforms import Layout, Names, folded_lookup, map_header
from instrument.platforms.fields import fields
from instrument.platforms.fields import names as xlsform_names
from instrument.platforms.layout import SCORE, Reviewed, RowVerdict, selection_columns
from instrument.platforms.writing import (
    Answers,
    selection_cells,
    stable_uuid,
    submitted_at,
    write_csv,
)

__all__ = ["CENTRAL_TAIL", "VARIANTS", "layout", "names", "recognize", "write"]

#: The columns Central writes after the questions (central-backend's CSV tests).
CENTRAL_TAIL = ("KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status",
                "ReviewState", "DeviceID", "Edits", "FormVersion")
_META = {"SubmissionDate", *CENTRAL_TAIL, "meta-instanceID", "meta-instanceName", "meta-deprecatedID",
         "meta-rootUuid", "meta-audit", "instanceID", "start", "end", "today", "deviceid", "isValidated"}
VARIANTS = ("central", "briefcase")


def names(form) -> Names:
    return xlsform_names(form)


def recognize(header: list) -> bool:
    cols = set(header)
    return "SubmissionDate" in cols and bool({"KEY", "meta-instanceID"} & cols)


def _meta_name(h: str) -> str:
    return h if h in _META or h.startswith("meta-") else ""


class _Version:
    """Rejects a row of another form version (picklable: a plain class, not a closure)."""

    def __init__(self, column: int, version: str):
        self.column, self.version = column, version

    def __call__(self, values: list) -> RowVerdict:
        got = values[self.column] if self.column < len(values) else ""
        got = "" if got is None else str(got).strip()
        if got and got != self.version:
            return RowVerdict("rejected", "unknown-form-version", f"this submission was made with version {got!r} of "
                              f"the form; expected version {self.version!r}", "error")
        return SCORE


def layout(header: list, exports) -> Layout:
    own = exports.names["odk"]
    columns, meta, unmapped, ambiguous, missing = map_header(
        header, lambda h: folded_lookup(own, h), lambda h: "note" if h in own.extra["notes"] else _meta_name(h), exports)
    columns, selection = selection_columns(columns, len(header), own.extra["selection"])
    ids = tuple(j for j, h in enumerate(header) if h == "KEY") or tuple(
        j for j, h in enumerate(header) if h == "meta-instanceID")
    central = bool({"ReviewState", "SubmitterID", "FormVersion"} & set(header))
    judge = _Version(header.index("FormVersion"), exports.form_version) if "FormVersion" in header else None
    if "ReviewState" in header:
        judge = Reviewed(header.index("ReviewState"), frozenset({"rejected"}), judge)
    variant = "ODK Central CSV export" if central else "ODK Briefcase CSV export"
    where = {name: j for j, name in reversed(meta.items())}
    return Layout("odk", variant, columns, ids, meta, unmapped, ambiguous, missing, judge=judge,
                  submitted_column=where.get("SubmissionDate"), status_column=where.get("ReviewState"),
                  selection=selection)


def write(form, frame, path, variant: str, incomplete: int = 0):
    answers = Answers(form)
    qs = fields(form)
    net = roster(form)
    header = ["SubmissionDate", *("-".join((*f.groups, f.id)) for f in qs), "meta-instanceID", "KEY"]
    if variant == "central":
        header += list(CENTRAL_TAIL[1:])
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        key = "uuid:" + stable_uuid("odk", form.id, rec["respondent"])
        row = [submitted_at(i).strftime("%Y-%m-%dT%H:%M:%S.000Z")]
        for f in qs:  # a select_multiple: one column, the choices separated by spaces (Central's default)
            row += selection_cells(net, rec)[:1] if f.multiple else [answers.text(f.id, rec.get(f.id))]
        row += [key, key]
        if variant == "central":
            row += ["5", "enqueteur", "0", "0", "", "", "", "0", str(form.version)]
        rows.append(row)
    return write_csv(path, header, rows, sep=",", newline="\n")
