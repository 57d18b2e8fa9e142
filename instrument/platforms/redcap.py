"""REDCap record exports (Data Exports > "CSV / Microsoft Excel (raw data)" or "(labels)", or
the API's ``content=record``), for a project built from the data dictionary
``intangibles form build --format redcap`` writes.

Layouts read (see ``tests/platforms/SOURCES.md``): raw (variable names as headings, choice
codes as values) and labels (field labels as headings, choice labels as values; or the
API's mixed raw headers with label values). Metadata: ``record_id`` (the first field, the
respondent), ``redcap_event_name`` (longitudinal projects), ``redcap_repeat_instrument``
and ``redcap_repeat_instance`` (repeating instruments), ``redcap_survey_identifier``,
``redcap_data_access_group``, ``<form>_timestamp`` and ``<form>_complete``. The respondent
is named ``record_id``, then the event and the repeat instance when there are some
(``R12/baseline_arm_1/2``).

Completion: ``<form>_complete`` 2 ("Complete") is read; 0 ("Incomplete") and 1
("Unverified") are ``incomplete-response`` (left out unless ``--include-incomplete``). A
row of another repeating instrument is ``other-instrument``. REDCap's missing-data codes
(Project Setup > Additional customizations) are read as the form's missing codes: ``UNK``
and ``ASKU`` as "don't know", ``NA`` as "not applicable", the others (``NI``, ``NASK``,
``MSK``...) as blank.
"""

from __future__ import annotations

from instrument.answers import normalize_label
from instrument.collaboration import roster
from instrument.export.redcap import rows, variable_name
from instrument.platforms import Layout, Names, add_folded, folded_lookup, map_header
from instrument.platforms.layout import SCORE, RowVerdict
from instrument.platforms.writing import Answers, submitted_at, write_csv

__all__ = ["MISSING_DATA_CODES", "VARIANTS", "layout", "names", "recognize", "write"]

#: REDCap's default missing-data codes -> "dk" (don't know), "na" (not applicable) or "" (blank).
MISSING_DATA_CODES = {"UNK": "dk", "ASKU": "dk", "NA": "na", "NI": "", "INV": "", "NASK": "", "NAV": "", "MSK": "",
                      "NAVU": "", "NP": "", "QS": "", "QI": "", "TRC": "", "UNC": "", "DER": "", "PINF": "",
                      "NINF": "", "OTH": ""}
_META = {"record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
         "redcap_survey_identifier", "redcap_data_access_group"}
_META_LABELS = {"record id": "record_id", "event name": "redcap_event_name", "repeat instrument": "redcap_repeat_instrument",
                "repeat instance": "redcap_repeat_instance", "survey identifier": "redcap_survey_identifier",
                "data access group": "redcap_data_access_group", "survey timestamp": "timestamp",
                "complete?": "complete"}
_COMPLETE = frozenset({"2", "2.0", "complete", "complet"})
VARIANTS = ("raw", "labels")
#: A checkbox's column in a labels export.
_CHECKED = {"Checked": "1", "Unchecked": "0"}


def names(form) -> Names:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    record_labels = []
    checkbox: list[str] = []
    for lang in form.languages:
        for row in rows(form, lang):
            var = row["Variable / Field Name"]
            if var == "record_id":
                record_labels.append(normalize_label(row["Field Label"]))
                continue
            if row["Field Type"] == "checkbox":  # the roster's organizations: one column per choice
                checkbox += _checkbox_names(form, row, exact, folded)
                continue
            qid = var if var in form.item_ids else row["qid"]
            exact[var] = qid
            add_folded(folded, row["Field Label"], qid)
    form_name = variable_name(form.id, 64)
    return Names(exact=exact, folded=folded, extra={"form": form_name, "record_labels": tuple(record_labels),
                                                    "title": tuple(normalize_label(t) for t in form.title.values()),
                                                    "checkbox": frozenset(checkbox)})


def _checkbox_names(form, row: dict, exact: dict, folded: dict) -> list[str]:
    """A checkbox field's columns: ``net_with___1`` (raw) or ``Label (choice=Name)`` (labels),
    each the "worked with" answer of one organization."""
    net = roster(form)
    var = row["Variable / Field Name"]
    for code, name, qid in zip(net.codes, net.names, net.with_ids, strict=True):
        exact[f"{var}___{code}"] = qid
        add_folded(folded, f"{row['Field Label']} (choice={name[form.languages[0]]})", qid)
        for text in name.values():
            add_folded(folded, f"{row['Field Label']} (choice={text})", qid)
    return list(net.with_ids)


def recognize(header: list) -> bool:
    return bool(_META & set(header)) or any(h.endswith("_complete") for h in header) or "Complete?" in header


class _Status:
    """Complete, incomplete, or another repeating instrument (picklable: a plain class)."""

    def __init__(self, complete: int | None, repeat: int | None, own: tuple):
        self.complete, self.repeat, self.own = complete, repeat, own

    def __call__(self, values: list) -> RowVerdict:
        if self.repeat is not None and self.repeat < len(values):
            instrument = values[self.repeat]
            instrument = normalize_label(str(instrument)) if instrument is not None else ""
            if instrument and instrument not in self.own:
                return RowVerdict("rejected", "other-instrument", f"a row of the repeating instrument {instrument!r}, "
                                  "not of this form")
        if self.complete is None:
            return SCORE
        status = values[self.complete] if self.complete < len(values) else None
        if isinstance(status, float) and status.is_integer():
            status = int(status)
        text = normalize_label(str(status)) if status is not None else ""
        if text in _COMPLETE:
            return SCORE
        shown = {"0": "Incomplete", "1": "Unverified", "": "not started"}.get(text, str(status))
        return RowVerdict("incomplete", "incomplete-response", f"the form's status is {shown!r}, not 'Complete' (2); "
                          "left out (--include-incomplete keeps it)")


def layout(header: list, exports) -> Layout:
    own = exports.names["redcap"]
    form = own.extra["form"]

    def meta_name(h):
        if h in _META or h.endswith(("_complete", "_timestamp")):
            return h
        key = normalize_label(h)
        if key in own.extra["record_labels"]:
            return "record_id"
        return _META_LABELS.get(key, "")

    columns, meta, unmapped, ambiguous, missing = map_header(header, lambda h: folded_lookup(own, h), meta_name,
                                                            exports)
    first_item = min(columns, default=0)
    where: dict[str, int] = {}
    for j, name in meta.items():
        if name == "complete" and j < first_item:
            continue  # the status of an instrument before this one
        where.setdefault(name, j)
    complete = where.get(f"{form}_complete", where.get("complete"))
    ids = tuple(where[k] for k in ("record_id", "redcap_event_name", "redcap_repeat_instance") if k in where)
    if "record_id" not in where and header and 0 not in columns:
        ids = (0, *ids)  # REDCap always exports the record id first, whatever its name
    judge = _Status(complete, where.get("redcap_repeat_instrument"), (form, *own.extra["title"]))
    labels = any(h not in own.exact for j, h in enumerate(header) if j in columns)
    recode = {code: "" for code in MISSING_DATA_CODES}
    dk_na = exports.missing_codes
    for code, meaning in MISSING_DATA_CODES.items():
        if meaning == "dk" and dk_na:
            recode[code] = str(dk_na[0])
        elif meaning == "na" and len(dk_na) > 1:
            recode[code] = str(dk_na[1])
    submitted = where.get(f"{form}_timestamp", where.get("timestamp"))
    checked = {j: _CHECKED for j, qid in columns.items() if qid in own.extra["checkbox"]}
    return Layout("redcap", "REDCap export (" + ("labels" if labels else "raw data") + ")", columns, ids, meta,
                  unmapped, ambiguous, missing, recode=recode, judge=judge, submitted_column=submitted,
                  status_column=complete, column_recode=checked)


def write(form, frame, path, variant: str, incomplete: int = 0):
    answers = Answers(form)
    lang = form.languages[0] if variant == "labels" else None
    dictionary = rows(form, form.languages[0])
    form_name = variable_name(form.id, 64)
    net = roster(form)
    fields_ = []  # (column heading raw, form id, column heading labels)
    for row in dictionary[1:]:
        var, label = row["Variable / Field Name"], row["Field Label"]
        if row["Field Type"] == "checkbox":
            fields_ += [(f"{var}___{code}", qid, f"{label} (choice={name[form.languages[0]]})")
                        for code, name, qid in zip(net.codes, net.names, net.with_ids, strict=True)]
        else:
            fields_.append((var, var if var in form.item_ids else row["qid"], label))
    checkbox = set(net.with_ids) if net else set()
    if lang:
        header = [dictionary[0]["Field Label"], "Survey Identifier", "Survey Timestamp",
                  *(label for _v, _q, label in fields_), "Complete?"]
    else:
        header = ["record_id", "redcap_survey_identifier", f"{form_name}_timestamp", *(v for v, _q, _l in fields_),
                  f"{form_name}_complete"]
    out = []
    for i, rec in enumerate(frame.to_dict("records")):
        row = [str(rec["respondent"]), "", submitted_at(i).strftime("%Y-%m-%d %H:%M:%S")]
        row += [_checked(rec.get(qid), lang) if qid in checkbox else answers.text(qid, rec.get(qid), lang)
                for _v, qid, _l in fields_]
        left = i >= len(frame) - incomplete
        row.append(("Incomplete" if left else "Complete") if lang else ("0" if left else "2"))
        out.append(row)
    return write_csv(path, header, out, sep=",", newline="\n")


def _checked(value, lang) -> str:
    """A checkbox column as REDCap exports it: 1 / 0 (raw), Checked / Unchecked (labels)."""
    yes = str(value) in ("1", "1.0")
    return ("Checked" if yes else "Unchecked") if lang else ("1" if yes else "0")
