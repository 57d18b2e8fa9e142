"""Load the bilingual item bank (``instrument/bank/*.yaml``) and check every rule of it.

The bank is a folder: ``bank.yaml`` (version, levels, response sets, recall contexts, the
context block) and one ``<construct>.yaml`` per construct (its facets and items), read in
sorted order; ``instrument/bank/README.md`` describes the schema.

Files are read safely by :mod:`psychometrics.userfile` (a :class:`yaml.SafeLoader` subclass,
or libyaml's): only plain values are constructed (``!!python/object`` is reported as
``unsafe-yaml``, never executed), aliases are refused (no alias bombs), and every mapping
keeps its line. Every problem is collected with its stable code, file and line, then
reported together (:class:`BankError`); warnings never stop a bank from loading.
``CODES`` lists every code with what it means.

Example::

    from instrument.bank import load_bank, coverage
    bank = load_bank()                       # the bank shipped with intangibles
    bank.select(construct="trust", level="organization")
    coverage(bank).groupby("construct")["items"].sum()
"""

from __future__ import annotations

import difflib
import itertools
import re
from pathlib import Path

from instrument.model import (
    LANGUAGES,
    ROLES,
    Choice,
    Construct,
    ContextQuestion,
    Facet,
    Item,
    ItemBank,
    Level,
    Problem,
    RecallContext,
    ResponseSet,
)
from psychometrics.userfile import MAX_FILE_BYTES, UNREADABLE, YamlMap, read_yaml

__all__ = ["CODES", "WARNINGS", "BankError", "coverage", "coverage_table", "load_bank", "read_bank"]

#: Every problem code a bank check can report, with what it means.
CODES: dict[str, str] = {
    # reading the files
    "missing-file": "the bank folder, its bank.yaml or any construct file (<construct>.yaml) is missing",
    "invalid-encoding": "a file is not UTF-8 text",
    "yaml-syntax": "a file is not valid YAML (or holds a value YAML cannot read, or several documents)",
    "yaml-too-large": f"a file is larger than {MAX_FILE_BYTES:,} bytes or nested too deeply",
    "yaml-alias": "a file uses a YAML alias (*name); aliases are refused (alias bombs)",
    "unsafe-yaml": "a file uses a YAML tag the bank does not allow (!!python/..., !!binary, !custom); it is never executed",
    "duplicate-field": "a mapping repeats a key (YAML would silently keep only the last one)",
    # structure
    "missing-field": "a required field is absent or empty",
    "unknown-field": "a field the schema does not know (often a typo'd key)",
    "invalid-value": "a field has the wrong kind of value, or a value outside its allowed set",
    "duplicate-id": "an id is used twice (items, context questions, facets and constructs share one namespace; levels, response sets and contexts each have their own)",
    "invalid-id": "an id breaks the naming rule, or is a name some export format reserves",
    # texts
    "invalid-text": "a text is not a mapping {fr: ..., en: ...} of strings",
    "missing-translation": "a text lacks its French or English version",
    "empty-text": "a text (or a citation) is empty",
    "unknown-placeholder": "a text holds a {placeholder} other than {consortium}, or a stray brace",
    # cross-references
    "unknown-response-set": "an item names a response set bank.yaml does not define",
    "unknown-construct": "an item or facet names a construct other than its file's",
    "unknown-facet": "an item names a facet that does not exist, or a facet of another construct",
    "unknown-level": "an item names a level bank.yaml does not define",
    "unknown-context": "an item names a recall context bank.yaml does not define",
    "invalid-roles": "an item's roles are not a list of member, colleague, nonmember",
    # item rules
    "invalid-polarity": 'an item\'s polarity is not "+" or "-"',
    "reverse-on-unordered": 'a reverse-keyed ("-") item uses a response set with ordered: false',
    "bad-response-set": "a response set's codes are not whole numbers in increasing order, it has fewer than 2 choices, or a missing code lies in the scored range",
    "bad-choices": "a context question's choices are fewer than 2, or repeat a code or a name",
    "invalid-status": "an item's status is not active, draft or retired",
    "invalid-version": 'the bank version is not a quoted "2026.1"-like string, or an item version is not a whole number >= 1',
    # warnings (severity "warning": reported, never fatal)
    "few-items": "a facet has fewer than 4 active items at the individual or the organization level, or a construct fewer than 2 at the ecosystem or the users level",
    "no-reverse-item": 'a benefit or drawback construct has no active reverse-keyed ("-") item',
    "double-barrelled": 'an item text asks two things at once (contains "et/ou" or "and/or")',
    "placeholder-mismatch": "a text's French and English versions do not hold the same placeholders",
}

#: Codes reported with severity "warning".
WARNINGS = frozenset({"few-items", "no-reverse-item", "double-barrelled", "placeholder-mismatch"})


#: Item ids: a valid XLSForm name, LimeSurvey question code and REDCap/SPSS/Stata variable.
ITEM_ID = re.compile(r"[a-z][a-z0-9]{1,11}")
ITEM_ID_RULE = "2 to 12 lowercase ASCII letters or digits, starting with a letter"
#: Ids of facets, constructs, levels, response sets, contexts and context questions.
NAME_ID = re.compile(r"[a-z][a-z0-9_]{1,23}")
NAME_ID_RULE = "2 to 24 lowercase ASCII letters, digits or underscores, starting with a letter"
CHOICE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
VERSION = re.compile(r"[0-9]+(\.[0-9]+){0,2}")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Names an export format or a statistics package rejects or gives a meaning of its own.
RESERVED: dict[str, frozenset[str]] = {
    "XLSForm/ODK": _words(
        "meta name label type calculate group repeat begin end start today deviceid "
        "instanceid instancename uuid choices survey settings note hint constraint relevant "
        "required default appearance parameters"
    ),
    "REDCap": _words(
        "record event arm instance pid project new class function var return case switch "
        "true false null event_name redcap_event_name redcap_repeat_instrument "
        "redcap_repeat_instance redcap_data_access_group redcap_survey_identifier"
    ),
    "LimeSurvey": _words(
        "id sid gid qid token submitdate lastpage startlanguage seed startdate datestamp "
        "ipaddr refurl this self that"
    ),
    "SPSS": _words("all and by eq ge gt le lt ne not or to with"),
    "Stata": _words("byte double float if in int long using with strl"),
    "intangibles": _words("respondent lang language form version"),
}
_STATA_STR = re.compile(r"str[0-9]+")

STATUSES = ("active", "draft", "retired")
KINDS = ("benefit", "drawback", "tangible")
QUESTION_TYPES = ("select_one", "integer", "text")
PLACEHOLDERS = ("consortium",)

#: Count rules behind the ``few-items`` warning.
MIN_FACET_ITEMS = 4
FACET_LEVELS = ("individual", "organization")
MIN_CONSTRUCT_ITEMS = 2
CONSTRUCT_LEVELS = ("ecosystem", "users")

_BANK_FIELDS = (("version", "levels", "response_sets", "contexts"), ("context_block",))
_LEVEL_FIELDS = (("id", "label", "definition"), ())
_SET_FIELDS = (("id", "label", "choices"), ("ordered", "missing"))
_CHOICE_FIELDS = (("code", "label"), ("name",))
_CONTEXT_FIELDS = (("id", "text"), ())
_QUESTION_FIELDS = (("id", "type", "label"), ("required", "choices", "minimum", "maximum"))
_QCHOICE_FIELDS = (("code", "name", "label"), ())
_FILE_FIELDS = (("construct", "facets", "items"), ())
_CONSTRUCT_FIELDS = (("id", "kind", "label", "definition"), ())
_FACET_FIELDS = (("id", "label", "definition"), ("source_inspiration", "construct"))
_ITEM_FIELDS = (
    ("id", "facet", "level", "polarity", "response_set", "context", "text", "source_inspiration"),
    ("version", "status", "construct", "roles"),
)

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DOUBLE_BARRELLED = re.compile(r"\b(et\s*/\s*ou|and\s*/\s*or)\b", re.IGNORECASE)


class BankError(ValueError):
    """The item bank has problems; ``.problems`` lists every one (errors, then warnings too).

    Each :class:`~instrument.model.Problem` has a stable ``code`` (see ``CODES``), the
    ``file`` (relative to the bank folder) and ``line``, and a message naming the item or
    field, the rule and the value found.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(self.problems)

    def __reduce__(self):
        return (type(self), (self.problems,))

    def __str__(self) -> str:
        errors = sum(p.severity == "error" for p in self.problems)
        lines = [f"{errors} problem(s) in the item bank:"]
        lines += [f"  {_show_problem(p)}" for p in self.problems]
        return "\n".join(lines)


def _show_problem(problem: Problem) -> str:
    return f"warning: {problem}" if problem.severity == "warning" else str(problem)


# ---------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------


def _line(value, default: int | None = None) -> int | None:
    return getattr(value, "line", default)


def _show(value) -> str:
    """A value as a message shows it, with a hint for YAML's surprises."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return (
            f"{str(value).lower()} (YAML reads yes/no/on/off/true/false without quotes as a "
            "boolean: put the text in quotes)"
        )
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        if value == [None]:
            return 'a list (a lone - starts a YAML list: write "-" in quotes)'
        return "a list"
    if isinstance(value, int | float):
        return f"{value!r} (a number)"
    return repr(value)


def _suggest(value, allowed) -> str:
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _listing(values) -> str:
    values = list(values)
    return ", ".join(str(v) for v in values) if values else "none"


# ---------------------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------------------


class _Reader:
    """Reads a bank folder, collecting every problem."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []
        self.file_order: dict[str, int] = {}
        self.version = None
        self.defs_read = False  # bank.yaml was readable, so references to it can be checked
        self.levels: dict = {}
        self.response_sets: dict = {}
        self.contexts: dict = {}
        self.context_block: list = []
        self.constructs: dict = {}
        self.construct_facets: dict = {}  # construct id -> [facet ids]
        self.facets: dict = {}
        self.items: list = []
        self.where: dict = {}  # ("facet"|"construct"|..., id) -> (file, line)
        self.ids: dict = {}  # shared namespace: items, context questions, facets, constructs
        self.local_ids: dict = {"level": {}, "response set": {}, "context": {}}

    # -- problems ------------------------------------------------------------------------

    def add(self, code: str, message: str, file: str = "", line: int | None = None, item: str = ""):
        severity = "warning" if code in WARNINGS else "error"
        self.problems.append(
            Problem(code=code, message=message, file=file, line=line, item=item, severity=severity)
        )

    def sorted_problems(self) -> list[Problem]:
        order = self.file_order
        return sorted(
            self.problems,
            key=lambda p: (p.severity != "error", order.get(p.file, len(order)), p.line or 0),
        )

    # -- files ---------------------------------------------------------------------------

    def parse(self, path: Path, file: str):
        """The file's data (YamlMap / YamlList), None if empty, or UNREADABLE."""
        return read_yaml(
            path, file, lambda code, message, file, line: self.add(code, message, file, line)
        )

    # -- generic checks ------------------------------------------------------------------

    def fields(self, data, what: str, file: str, line, spec, item: str = ""):
        """``data`` as a mapping with ``spec``'s required fields and no unknown one, or None."""
        required, optional = spec
        if not isinstance(data, dict):
            self.add(
                "invalid-value",
                f"{what} must be a mapping with the fields {', '.join(required)}; got {_show(data)}.",
                file,
                _line(data, line),
                item,
            )
            return None
        for key in required:
            if data.get(key) is None:
                self.add(
                    "missing-field",
                    f"{what} has no '{key}' (required fields: {', '.join(required)}).",
                    file,
                    data.line_of(key) if key in data else data.line,
                    item,
                )
        allowed = required + optional
        for key in data:
            if key not in allowed:
                self.add(
                    "unknown-field",
                    f"{what} has an unknown field '{key}'{_suggest(key, allowed)}; allowed fields: "
                    f"{', '.join(allowed)}.",
                    file,
                    data.line_of(key),
                    item,
                )
        return data

    def entries(self, data, key: str, what: str, file: str, required: bool = True) -> list:
        """``(entry, line)`` for each entry of the list under ``data[key]``."""
        value = data.get(key)
        if value is None:
            return []  # missing-field already reported when required
        if not isinstance(value, list):
            self.add(
                "invalid-value",
                f"{what}: '{key}' must be a list (each entry starting with '- '); got {_show(value)}.",
                file,
                data.line_of(key),
            )
            return []
        if required and not value:
            self.add(
                "invalid-value",
                f"{what}: '{key}' must list at least one entry.",
                file,
                data.line_of(key),
            )
        return list(zip(value, value.lines, strict=True))

    def check_id(
        self, value, what: str, file: str, line, pattern=NAME_ID, rule=NAME_ID_RULE, item: str = ""
    ):
        """The id as a string (even when it breaks the rule, for later messages), or None."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.add(
                "invalid-id",
                f"{what}: id must be text ({rule}); got {_show(value)}.",
                file,
                line,
                item,
            )
            return None
        if not pattern.fullmatch(value):
            self.add(
                "invalid-id",
                f"{what}: id {value!r} breaks the naming rule: {rule}.",
                file,
                line,
                item,
            )
            return value
        reserved_by = [fmt for fmt, names in RESERVED.items() if value in names]
        if _STATA_STR.fullmatch(value):
            reserved_by.append("Stata")
        if reserved_by:
            self.add(
                "invalid-id",
                f"{what}: id {value!r} is a reserved name in {', '.join(reserved_by)}; choose another id.",
                file,
                line,
                item,
            )
        return value

    def claim(self, namespace: dict, kind: str, ident, file: str, line, item: str = "") -> bool:
        """Record ``ident``; report ``duplicate-id`` if it is already taken."""
        if ident is None:
            return False
        if ident in namespace:
            other_kind, other_file, other_line = namespace[ident]
            self.add(
                "duplicate-id",
                f"{kind} id '{ident}' is already used by a {other_kind} at {other_file}:{other_line}; "
                "ids must be unique across the bank.",
                file,
                line,
                item,
            )
            return False
        namespace[ident] = (kind, file, line)
        return True

    def text(self, data, key: str, what: str, file: str, item: str = "") -> dict:
        """A bilingual text ``data[key]``, checked; missing languages come back as ""."""
        value = data.get(key) if isinstance(data, dict) else None
        out = {lang: "" for lang in LANGUAGES}
        if value is None:
            return out  # missing-field already reported
        line = data.line_of(key)
        if not isinstance(value, dict):
            self.add(
                "invalid-text",
                f"{what}: '{key}' must be a mapping with one text per language "
                f"({', '.join(f'{lang}: ...' for lang in LANGUAGES)}); got {_show(value)}.",
                file,
                line,
                item,
            )
            return out
        for lang in value:
            if lang not in LANGUAGES:
                self.add(
                    "unknown-field",
                    f"{what}: '{key}' has an unknown language '{lang}'{_suggest(lang, LANGUAGES)}; "
                    f"the languages are {', '.join(LANGUAGES)}.",
                    file,
                    value.line_of(lang),
                    item,
                )
        found = {}
        for lang in LANGUAGES:
            text = value.get(lang)
            lang_line = value.key_lines.get(lang, line)
            if text is None:
                self.add(
                    "missing-translation",
                    f"{what}: '{key}' has no '{lang}' text (every text needs {' and '.join(LANGUAGES)}).",
                    file,
                    lang_line,
                    item,
                )
            elif not isinstance(text, str):
                self.add(
                    "invalid-text",
                    f"{what}: '{key}.{lang}' must be text; got {_show(text)}.",
                    file,
                    lang_line,
                    item,
                )
            elif not text.strip():
                self.add("empty-text", f"{what}: '{key}.{lang}' is empty.", file, lang_line, item)
            else:
                out[lang] = text
                found[lang] = self.placeholders(
                    text, f"{what}: '{key}.{lang}'", file, lang_line, item
                )
        if len(found) == len(LANGUAGES) and len({frozenset(v) for v in found.values()}) > 1:
            shown = "; ".join(
                f"{lang}: {_listing('{' + n + '}' for n in sorted(v))}" for lang, v in found.items()
            )
            self.add(
                "placeholder-mismatch",
                f"{what}: '{key}' does not hold the same placeholders in every language ({shown}).",
                file,
                line,
                item,
            )
        return out

    def placeholders(self, text: str, what: str, file: str, line, item: str) -> set:
        names = set()
        for name in _PLACEHOLDER.findall(text):
            if name in PLACEHOLDERS:
                names.add(name)
            else:
                self.add(
                    "unknown-placeholder",
                    f"{what} holds the placeholder {{{name}}}; the only placeholder a form fills is "
                    f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}.",
                    file,
                    line,
                    item,
                )
        rest = _PLACEHOLDER.sub("", text)
        if "{" in rest or "}" in rest:
            self.add(
                "unknown-placeholder",
                f"{what} has a stray brace ({'{' if '{' in rest else '}'}) outside a placeholder "
                "such as {consortium}.",
                file,
                line,
                item,
            )
        return names

    def plain_text(
        self, data, key: str, what: str, file: str, item: str = "", required: bool = True
    ) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.add(
                "invalid-text",
                f"{what}: '{key}' must be text; got {_show(value)}.",
                file,
                data.line_of(key),
                item,
            )
            return ""
        if required and not value.strip():
            self.add("empty-text", f"{what}: '{key}' is empty.", file, data.line_of(key), item)
        return value

    def boolean(self, data, key: str, what: str, file: str, default: bool) -> bool:
        value = data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(
                "invalid-value",
                f"{what}: '{key}' must be true or false; got {_show(value)}.",
                file,
                data.line_of(key),
            )
            return default
        return value

    def whole(self, data, key: str, what: str, file: str, code: str = "invalid-value"):
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(
                code,
                f"{what}: '{key}' must be a whole number; got {_show(value)}.",
                file,
                data.line_of(key),
            )
            return None
        return value

    # -- bank.yaml -----------------------------------------------------------------------

    def read_definitions(self, data, file: str):
        if data is UNREADABLE:
            return
        self.defs_read = True
        if data is None:
            data = YamlMap(1)
        top = self.fields(data, file, file, 1, _BANK_FIELDS)
        if top is None:
            self.defs_read = False
            return
        version = top.get("version")
        if version is not None:
            if isinstance(version, str) and VERSION.fullmatch(version):
                self.version = version
            else:
                self.add(
                    "invalid-version",
                    "the bank version must be quoted text of numbers separated by dots, such as "
                    f'"2026.1"; got {_show(version)}.',
                    file,
                    top.line_of("version"),
                )
        for entry, line in self.entries(top, "levels", file, file):
            self.read_level(entry, file, line)
        for entry, line in self.entries(top, "response_sets", file, file):
            self.read_response_set(entry, file, line)
        for entry, line in self.entries(top, "contexts", file, file):
            self.read_context(entry, file, line)
        for entry, line in self.entries(top, "context_block", file, file, required=False):
            self.read_question(entry, file, line)

    def read_level(self, entry, file: str, line):
        ident = entry.get("id") if isinstance(entry, dict) else None
        what = f"level '{ident}'" if isinstance(ident, str) else "a level"
        data = self.fields(entry, what, file, line, _LEVEL_FIELDS)
        if data is None:
            return
        ident = self.check_id(data.get("id"), what, file, data.line_of("id"))
        label = self.text(data, "label", what, file)
        definition = self.text(data, "definition", what, file)
        if self.claim(self.local_ids["level"], "level", ident, file, data.line):
            self.levels[ident] = Level(id=ident, label=label, definition=definition)

    def read_response_set(self, entry, file: str, line):
        ident = entry.get("id") if isinstance(entry, dict) else None
        what = f"response set '{ident}'" if isinstance(ident, str) else "a response set"
        data = self.fields(entry, what, file, line, _SET_FIELDS)
        if data is None:
            return
        ident = self.check_id(data.get("id"), what, file, data.line_of("id"))
        ordered = self.boolean(data, "ordered", what, file, True)
        label = self.text(data, "label", what, file)
        choices = self.read_choices(data, "choices", what, file, _CHOICE_FIELDS, "bad-response-set")
        missing = self.read_choices(data, "missing", what, file, _CHOICE_FIELDS, "bad-response-set")
        code = "bad-response-set"
        if data.get("choices") is not None and len(choices) < 2:
            self.add(
                code,
                f"{what} has {len(choices)} scored choice(s); it needs at least 2.",
                file,
                data.line_of("choices"),
            )
        codes = [c.code for c in choices if c.code is not None]
        for before, after in itertools.pairwise(codes):
            if after <= before:
                self.add(
                    code,
                    f"{what}: scored codes must increase from one choice to the next; got {_listing(codes)}.",
                    file,
                    data.line_of("choices"),
                )
                break
        if codes:
            low, high = min(codes), max(codes)
            seen = set()
            for choice in missing:
                if choice.code is None:
                    continue
                if low <= choice.code <= high:
                    self.add(
                        code,
                        f"{what}: missing code {choice.code} lies within the scored range {low}-{high}; "
                        "missing codes (never scored) must lie outside it.",
                        file,
                        data.line_of("missing"),
                    )
                elif choice.code in seen:
                    self.add(
                        code,
                        f"{what}: missing code {choice.code} appears twice.",
                        file,
                        data.line_of("missing"),
                    )
                seen.add(choice.code)
        if self.claim(self.local_ids["response set"], "response set", ident, file, data.line):
            self.response_sets[ident] = ResponseSet(
                id=ident,
                label=label,
                choices=tuple(choices),
                missing=tuple(missing),
                ordered=ordered,
            )

    def read_choices(self, data, key: str, what: str, file: str, spec, code: str) -> list:
        out = []
        for number, (entry, line) in enumerate(
            self.entries(data, key, what, file, required=False), start=1
        ):
            where = f"{what}, {key} #{number}"
            choice = self.fields(entry, where, file, line, spec)
            if choice is None:
                continue
            value = choice.get("code")
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                self.add(
                    code,
                    f"{where}: code must be a whole number; got {_show(value)}.",
                    file,
                    choice.line_of("code"),
                )
                value = None
            name = choice.get("name")
            if name is not None and not (isinstance(name, str) and CHOICE_NAME.fullmatch(name)):
                self.add(
                    code,
                    f"{where}: name must be lowercase ASCII letters, digits or underscores, starting "
                    f"with a letter; got {_show(name)}.",
                    file,
                    choice.line_of("name"),
                )
                name = None
            label = self.text(choice, "label", where, file)
            out.append(Choice(code=value, label=label, name=name or ""))
        return out

    def read_context(self, entry, file: str, line):
        ident = entry.get("id") if isinstance(entry, dict) else None
        what = f"context '{ident}'" if isinstance(ident, str) else "a context"
        data = self.fields(entry, what, file, line, _CONTEXT_FIELDS)
        if data is None:
            return
        ident = self.check_id(data.get("id"), what, file, data.line_of("id"))
        text = self.text(data, "text", what, file)
        if self.claim(self.local_ids["context"], "context", ident, file, data.line):
            self.contexts[ident] = RecallContext(id=ident, text=text)

    def read_question(self, entry, file: str, line):
        ident = entry.get("id") if isinstance(entry, dict) else None
        what = f"context question '{ident}'" if isinstance(ident, str) else "a context question"
        data = self.fields(entry, what, file, line, _QUESTION_FIELDS)
        if data is None:
            return
        ident = self.check_id(data.get("id"), what, file, data.line_of("id"))
        qtype = data.get("type")
        if qtype is not None and qtype not in QUESTION_TYPES:
            self.add(
                "invalid-value",
                f"{what}: type must be one of {', '.join(QUESTION_TYPES)}{_suggest(qtype, QUESTION_TYPES)}; "
                f"got {_show(qtype)}.",
                file,
                data.line_of("type"),
            )
        label = self.text(data, "label", what, file)
        required = self.boolean(data, "required", what, file, False)
        choices = ()
        if qtype == "select_one":
            if data.get("choices") is None:
                self.add(
                    "missing-field",
                    f"{what} is a select_one question with no 'choices'.",
                    file,
                    data.line,
                )
            else:
                choices = self.read_choices(
                    data, "choices", what, file, _QCHOICE_FIELDS, "bad-choices"
                )
                self.check_question_choices(choices, what, file, data.line_of("choices"))
        elif data.get("choices") is not None:
            self.add(
                "invalid-value",
                f"{what}: only a select_one question has 'choices'; its type is {qtype!r}.",
                file,
                data.line_of("choices"),
            )
        bounds = {}
        for key in ("minimum", "maximum"):
            if data.get(key) is None:
                continue
            if qtype != "integer":
                self.add(
                    "invalid-value",
                    f"{what}: only an integer question has a '{key}'; its type is {qtype!r}.",
                    file,
                    data.line_of(key),
                )
                continue
            bounds[key] = self.whole(data, key, what, file)
        low, high = bounds.get("minimum"), bounds.get("maximum")
        if low is not None and high is not None and low > high:
            self.add(
                "invalid-value",
                f"{what}: minimum {low} is greater than maximum {high}.",
                file,
                data.line_of("minimum"),
            )
        if self.claim(self.ids, "context question", ident, file, data.line):
            self.context_block.append(
                ContextQuestion(
                    id=ident,
                    type=qtype,
                    label=label,
                    choices=tuple(choices),
                    required=required,
                    minimum=low,
                    maximum=high,
                )
            )

    def check_question_choices(self, choices, what: str, file: str, line):
        if len(choices) < 2:
            self.add(
                "bad-choices",
                f"{what} has {len(choices)} choice(s); it needs at least 2.",
                file,
                line,
            )
        for attr in ("code", "name"):
            values = [getattr(c, attr) for c in choices if getattr(c, attr) not in (None, "")]
            repeated = sorted({v for v in values if values.count(v) > 1}, key=str)
            if repeated:
                self.add(
                    "bad-choices",
                    f"{what}: choice {attr}s must be unique; repeated: {_listing(repeated)}.",
                    file,
                    line,
                )

    # -- construct files -----------------------------------------------------------------

    def read_construct_file(self, data, file: str):
        if data is UNREADABLE:
            return
        if data is None:
            data = YamlMap(1)
        top = self.fields(data, file, file, 1, _FILE_FIELDS)
        if top is None:
            return
        cid, kind = None, None
        head = top.get("construct")
        ident = head.get("id") if isinstance(head, dict) else None
        what = f"construct '{ident}'" if isinstance(ident, str) else f"the construct of {file}"
        head = (
            self.fields(head, what, file, top.line_of("construct"), _CONSTRUCT_FIELDS)
            if head is not None
            else None
        )
        if head is not None:
            cid = self.check_id(head.get("id"), what, file, head.line_of("id"))
            kind = head.get("kind")
            if kind is not None and kind not in KINDS:
                self.add(
                    "invalid-value",
                    f"{what}: kind must be one of {', '.join(KINDS)}{_suggest(kind, KINDS)}; got {_show(kind)}.",
                    file,
                    head.line_of("kind"),
                )
            label = self.text(head, "label", what, file)
            definition = self.text(head, "definition", what, file)
            if self.claim(self.ids, "construct", cid, file, head.line):
                self.constructs[cid] = Construct(
                    id=cid, label=label, definition=definition, kind=kind
                )
                self.construct_facets[cid] = []
                self.where[("construct", cid)] = (file, head.line)
            else:
                cid = None
        for entry, line in self.entries(top, "facets", file, file):
            self.read_facet(entry, file, cid, line)
        for number, (entry, line) in enumerate(self.entries(top, "items", file, file), start=1):
            self.items.append((entry, file, line, cid, kind, number))

    def read_facet(self, entry, file: str, cid, line):
        ident = entry.get("id") if isinstance(entry, dict) else None
        what = f"facet '{ident}'" if isinstance(ident, str) else "a facet"
        data = self.fields(entry, what, file, line, _FACET_FIELDS)
        if data is None:
            return
        ident = self.check_id(data.get("id"), what, file, data.line_of("id"))
        named = data.get("construct")
        if named is not None and cid is not None and named != cid:
            self.add(
                "unknown-construct",
                f"{what} is in {file} (construct '{cid}') but names construct {_show(named)}; a facet "
                "belongs to the construct of its file.",
                file,
                data.line_of("construct"),
            )
        label = self.text(data, "label", what, file)
        definition = self.text(data, "definition", what, file)
        source = self.plain_text(data, "source_inspiration", what, file)
        if self.claim(self.ids, "facet", ident, file, data.line):
            self.facets[ident] = Facet(
                id=ident,
                construct=cid,
                label=label,
                definition=definition,
                source_inspiration=source,
            )
            self.where[("facet", ident)] = (file, data.line)
            if cid is not None:
                self.construct_facets[cid].append(ident)

    def read_item(self, entry, file: str, line, cid, kind, number: int):
        """One item of a construct file: its fields checked in order, each step adding its
        problems; the Item, or None when its record or its id is unusable."""
        ident = entry.get("id") if isinstance(entry, dict) else None
        what = f"item '{ident}'" if isinstance(ident, str) else f"item #{number} of {file}"
        tag = ident if isinstance(ident, str) else ""
        data = self.fields(entry, what, file, line, _ITEM_FIELDS, item=tag)
        if data is None:
            return None
        ident = self.check_id(
            data.get("id"), what, file, data.line_of("id"), ITEM_ID, ITEM_ID_RULE, tag
        )
        claimed = self.claim(self.ids, "item", ident, file, data.line, tag)
        at = (what, file, tag)
        facet = self.item_facet(data, cid, *at)
        level = self.item_level(data, *at)
        polarity, set_id = self.item_scale(data, *at)
        context = self.item_context(data, *at)
        text = self.item_text(data, *at)
        source = self.plain_text(data, "source_inspiration", *at)
        version, status = self.item_version(data, *at)
        roles = self.item_roles(data, *at)
        if not claimed:
            return None
        return Item(
            id=ident,
            roles=tuple(roles),
            construct=cid,
            facet=facet,
            level=level,
            polarity=polarity,
            text=text,
            response_set=set_id,
            context=context,
            source_inspiration=source,
            version=version,
            status=status,
            tangible=kind == "tangible",
            file=file,
            line=data.line,
        )

    def item_facet(self, data, cid, what: str, file: str, tag: str):
        """The item's facet, a facet of its file's construct (and no other construct named)."""
        named = data.get("construct")
        if named is not None and cid is not None and named != cid:
            self.add(
                "unknown-construct",
                f"{what} is in {file} (construct '{cid}') but names construct {_show(named)}; an item "
                "belongs to the construct of its file.",
                file,
                data.line_of("construct"),
                tag,
            )
        facet = data.get("facet")
        if facet is None or cid is None:
            return facet
        own = self.construct_facets.get(cid, [])
        if facet not in self.facets:
            self.add(
                "unknown-facet",
                f"{what}: facet {_show(facet)} is not a facet of the bank{_suggest(facet, own)}; the "
                f"facets of construct '{cid}' are: {_listing(own)}.",
                file,
                data.line_of("facet"),
                tag,
            )
        elif self.facets[facet].construct != cid:
            self.add(
                "unknown-facet",
                f"{what} is in {file} (construct '{cid}') but its facet '{facet}' belongs to construct "
                f"'{self.facets[facet].construct}'; an item's facet must be a facet of its file's "
                f"construct ({_listing(own)}).",
                file,
                data.line_of("facet"),
                tag,
            )
        return facet

    def item_level(self, data, what: str, file: str, tag: str):
        """The item's level, one of bank.yaml's."""
        level = data.get("level")
        if self.defs_read and level is not None and level not in self.levels:
            self.add(
                "unknown-level",
                f"{what}: level {_show(level)} is not a level of bank.yaml{_suggest(level, self.levels)}; "
                f"the levels are: {_listing(self.levels)}.",
                file,
                data.line_of("level"),
                tag,
            )
        return level

    def item_scale(self, data, what: str, file: str, tag: str):
        """The item's polarity and response set (a reverse-keyed item needs an ordered one)."""
        polarity = data.get("polarity")
        if polarity is not None and polarity not in ("+", "-"):
            self.add(
                "invalid-polarity",
                f'{what}: polarity must be "+" or "-" (in quotes; "-" = reverse keyed); got {_show(polarity)}.',
                file,
                data.line_of("polarity"),
                tag,
            )
        set_id = data.get("response_set")
        response_set = self.response_sets.get(set_id) if isinstance(set_id, str) else None
        if self.defs_read and set_id is not None and response_set is None:
            self.add(
                "unknown-response-set",
                f"{what}: response set {_show(set_id)} is not defined in bank.yaml"
                f"{_suggest(set_id, self.response_sets)}; the response sets are: {_listing(self.response_sets)}.",
                file,
                data.line_of("response_set"),
                tag,
            )
        if polarity == "-" and response_set is not None and not response_set.ordered:
            self.add(
                "reverse-on-unordered",
                f"{what} is reverse keyed (polarity \"-\") but its response set '{set_id}' is not ordered "
                "(ordered: false); only an ordered scale can be reversed.",
                file,
                data.line_of("polarity"),
                tag,
            )
        return polarity, set_id

    def item_context(self, data, what: str, file: str, tag: str):
        """The item's recall context, one of bank.yaml's."""
        context = data.get("context")
        if self.defs_read and context is not None and context not in self.contexts:
            self.add(
                "unknown-context",
                f"{what}: context {_show(context)} is not defined in bank.yaml{_suggest(context, self.contexts)}; "
                f"the contexts are: {_listing(self.contexts)}.",
                file,
                data.line_of("context"),
                tag,
            )
        return context

    def item_text(self, data, what: str, file: str, tag: str) -> dict:
        """The item's text in each language, each warned when it may ask two things at once."""
        text = self.text(data, "text", what, file, tag)
        for lang, value in text.items():
            found = _DOUBLE_BARRELLED.search(value)
            if found:
                self.add(
                    "double-barrelled",
                    f"{what}: the {lang} text holds '{found.group(0)}', so it may ask two things at "
                    "once; consider two items.",
                    file,
                    _text_line(data, lang),
                    tag,
                )
        return text

    def item_version(self, data, what: str, file: str, tag: str):
        """The item's version (a whole number from 1) and status."""
        version = data.get("version", 1)
        if (
            version is None
            or isinstance(version, bool)
            or not isinstance(version, int)
            or version < 1
        ):
            self.add(
                "invalid-version",
                f"{what}: version must be a whole number of 1 or more; got {_show(version)}.",
                file,
                data.line_of("version"),
                tag,
            )
        status = data.get("status", "active")
        if status not in STATUSES:
            self.add(
                "invalid-status",
                f"{what}: status must be one of {', '.join(STATUSES)}{_suggest(status, STATUSES)}; got {_show(status)}.",
                file,
                data.line_of("status"),
                tag,
            )
        return version, status

    def item_roles(self, data, what: str, file: str, tag: str) -> list:
        """Who the item is written for: distinct roles among ROLES ([] = by its level)."""
        roles = data.get("roles", [])
        if not isinstance(roles, list) or not all(r in ROLES for r in roles) or len(set(roles)) != len(roles):
            self.add(
                "invalid-roles",
                f"{what}: roles must be a list of distinct roles among {', '.join(ROLES)}; got "
                + (", ".join(repr(r) for r in roles if r not in ROLES) or "a repeated role"
                   if isinstance(roles, list) else _show(roles)) + ".",
                file,
                data.line_of("roles"),
                tag,
            )
            return []
        return roles

    # -- warnings ------------------------------------------------------------------------

    def warn_counts(self, items):
        active = [it for it in items if it.status == "active"]
        for cid, construct in self.constructs.items():
            if construct.kind not in ("benefit", "drawback"):
                continue
            file, line = self.where[("construct", cid)]
            mine = [it for it in active if it.construct == cid]
            for fid in self.construct_facets[cid]:
                ffile, fline = self.where[("facet", fid)]
                for level in FACET_LEVELS:
                    if level not in self.levels:
                        continue
                    n = sum(it.facet == fid and it.level == level for it in mine)
                    if n < MIN_FACET_ITEMS:
                        self.add(
                            "few-items",
                            f"facet '{fid}' has {n} active item(s) at the {level} level; a facet scale "
                            f"needs at least {MIN_FACET_ITEMS} for its reliability and factor analysis.",
                            ffile,
                            fline,
                        )
            for level in CONSTRUCT_LEVELS:
                if level not in self.levels:
                    continue
                n = sum(it.level == level for it in mine)
                if n < MIN_CONSTRUCT_ITEMS:
                    self.add(
                        "few-items",
                        f"construct '{cid}' has {n} active item(s) at the {level} level; at least "
                        f"{MIN_CONSTRUCT_ITEMS} are advised.",
                        file,
                        line,
                    )
            if mine and not any(it.reverse for it in mine):
                self.add(
                    "no-reverse-item",
                    f"construct '{cid}' has no active reverse-keyed item (polarity \"-\"); at least one "
                    "helps detect acquiescence and careless answers.",
                    file,
                    line,
                )


def _text_line(data, lang: str):
    text = data.get("text")
    return text.line_of(lang) if isinstance(text, YamlMap) else data.line_of("text")


# ---------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------


def read_bank(path: str | Path | None = None) -> tuple[ItemBank | None, list[Problem]]:
    """Read and check a bank folder; never raises for problems in its files.

    Returns the bank (``None`` when there is any error-level problem) and every problem
    found, errors first, each in file then line order. :func:`load_bank` is the same,
    raising :class:`BankError` on errors. The count warnings (``few-items``,
    ``no-reverse-item``) are only computed for a bank without errors.

    >>> bank, problems = read_bank()
    >>> [p for p in problems if p.severity == "error"]
    []
    """
    if path is None:
        from instrument.resources import bank_dir

        path = bank_dir()
    folder = Path(path)
    reader = _Reader(folder)
    if not folder.is_dir():
        reader.add(
            "missing-file",
            f"the bank folder {str(folder)!r} does not exist or is not a folder.",
            str(folder),
        )
        return None, reader.problems

    definitions = folder / "bank.yaml"
    construct_files = sorted(
        p for p in folder.glob("*.yaml") if p.name != "bank.yaml" and p.is_file()
    )
    reader.file_order = {p.name: i for i, p in enumerate([definitions, *construct_files])}
    if definitions.is_file():
        reader.read_definitions(reader.parse(definitions, "bank.yaml"), "bank.yaml")
    else:
        reader.add(
            "missing-file",
            f"the bank folder {str(folder)!r} has no bank.yaml (version, levels, response sets, contexts).",
            "bank.yaml",
        )
    if not construct_files:
        reader.add(
            "missing-file",
            f"the bank folder {str(folder)!r} has no construct file (<construct>.yaml with its facets and items).",
            "",
        )
    for path_ in construct_files:
        reader.read_construct_file(reader.parse(path_, path_.name), path_.name)

    items = []
    for entry, file, line, cid, kind, number in reader.items:
        item = reader.read_item(entry, file, line, cid, kind, number)
        if item is not None:
            items.append(item)
    if not any(p.severity == "error" for p in reader.problems):
        reader.warn_counts(items)  # counts of a broken bank would only add noise

    problems = reader.sorted_problems()
    if any(p.severity == "error" for p in problems):
        return None, problems
    constructs = {
        cid: Construct(
            id=c.id,
            label=c.label,
            definition=c.definition,
            facets=tuple(reader.construct_facets[cid]),
            kind=c.kind,
        )
        for cid, c in reader.constructs.items()
    }
    bank = ItemBank(
        version=reader.version,
        items=tuple(items),
        constructs=constructs,
        facets=dict(reader.facets),
        levels=dict(reader.levels),
        response_sets=dict(reader.response_sets),
        contexts=dict(reader.contexts),
        context_block=tuple(reader.context_block),
    )
    return bank, problems


def load_bank(path: str | Path | None = None) -> ItemBank:
    """Load and check the item bank in ``path`` (default: the bank shipped with intangibles).

    ``path`` is a folder holding ``bank.yaml`` and one ``<construct>.yaml`` per construct.
    Every problem is collected first; if any is an error, :class:`BankError` is raised with
    all of them (``.problems``; codes in ``CODES``). Warnings do not stop the load (see
    :func:`read_bank` to get them).

    >>> bank = load_bank()
    >>> bank.item("trcpi1").construct  # doctest: +SKIP
    'trust'
    """
    bank, problems = read_bank(path)
    if bank is None:
        raise BankError(problems)
    return bank


_KIND_ORDER = {kind: i for i, kind in enumerate(KINDS)}


def _ordered_constructs(bank: ItemBank) -> list:
    """Benefits, then drawbacks, then tangible outcomes; file order within each kind."""
    return sorted(bank.constructs.values(), key=lambda c: _KIND_ORDER.get(c.kind, len(KINDS)))


def coverage(bank: ItemBank, status="active"):
    """Items counted by construct x facet x level, in total, per language and reverse keyed.

    One row per (construct, facet, level) defined in the bank (zero counts included), with
    the columns ``construct``, ``kind``, ``facet``, ``level``, ``items``, one column per
    language (``fr``, ``en``: items whose text in that language is not empty) and
    ``reverse`` (items with polarity "-"). ``status`` filters the items as in
    :meth:`ItemBank.select` (a status, a collection of them, or None for every item).

    >>> table = coverage(load_bank())
    >>> table.groupby(["construct", "level"], sort=False)["items"].sum()  # doctest: +SKIP
    """
    import pandas as pd

    chosen = bank.select(status=status)
    rows = []
    for construct in _ordered_constructs(bank):
        for facet in construct.facets:
            for level in bank.levels:
                cell = [it for it in chosen if it.facet == facet and it.level == level]
                row = {
                    "construct": construct.id,
                    "kind": construct.kind,
                    "facet": facet,
                    "level": level,
                    "items": len(cell),
                }
                for lang in LANGUAGES:
                    row[lang] = sum(bool(str(it.text.get(lang) or "").strip()) for it in cell)
                row["reverse"] = sum(it.reverse for it in cell)
                rows.append(row)
    columns = ["construct", "kind", "facet", "level", "items", *LANGUAGES, "reverse"]
    return pd.DataFrame(rows, columns=columns)


def coverage_table(bank: ItemBank, status="active"):
    """The coverage of the bank as a :class:`rich.table.Table` (``intangibles bank check``).

    One bold row per construct and one row per facet under it; a column per level, the
    total, the reverse-keyed count, and the count per language.
    """
    from rich.table import Table

    from instrument.typography import bilingual

    data = coverage(bank, status=status)
    levels = list(bank.levels)
    shown = "every" if status is None else (status if isinstance(status, str) else "/".join(status))
    table = Table(
        title=bilingual(f"Banque d'items {bank.version} : items ({shown}) par construit et niveau",
                        f"Item bank {bank.version}: {shown} items by construct and level"),
        caption=bilingual(
            "Un item compte dans une langue si son texte n'y est pas vide ; reverse = items à clé "
            "inversée (polarité « - »).",
            "An item counts in a language when its text in that language is not empty; "
            'reverse = reverse-keyed items (polarity "-").'),
    )
    table.add_column("Construit / construct", no_wrap=True)
    table.add_column("Type")  # the same word in French and English
    for level in levels:
        table.add_column(level, justify="right")
    for name in ("total", "reverse", *LANGUAGES):
        table.add_column(name, justify="right")

    def cells(frame):
        by_level = frame.groupby("level")["items"].sum()
        counts = [str(int(by_level.get(level, 0))) for level in levels]
        sums = [str(int(frame[name].sum())) for name in ("items", "reverse", *LANGUAGES)]
        return counts + sums

    for construct in _ordered_constructs(bank):
        part = data[data["construct"] == construct.id]
        table.add_row(construct.id, construct.kind, *cells(part), style="bold")
        for facet in construct.facets:
            table.add_row(f"  {facet}", "", *cells(part[part["facet"] == facet]), style="dim")
    table.add_section()
    table.add_row("total", "", *cells(data), style="bold")
    return table
