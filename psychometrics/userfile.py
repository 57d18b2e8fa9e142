"""Read a user's YAML or JSON file safely: the one loader of every spec, bank and keys file.

YAML keeps the line of every mapping, key and list entry. Used for the item bank
(``instrument.bank``), form specs (``instrument.form``) and keys files
(:func:`psychometrics.load_keys`, through :func:`read_document`). The reading is SAFE in every sense:

- only plain scalars (text, numbers, booleans, null, dates) are ever constructed; any
  other tag (``!!python/object/apply:os.system``, ``!!binary``, ``!custom``) is reported as
  ``unsafe-yaml`` and never constructed, so nothing is executed;
- aliases (``*name``) are refused (``yaml-alias``) before the document is composed, so an
  alias bomb is never expanded;
- a file larger than :data:`MAX_FILE_BYTES` or nested deeper than :data:`MAX_DEPTH` is
  refused (``yaml-too-large``);
- a key repeated in one mapping is reported (``duplicate-field``) instead of silently
  keeping the last value;
- JSON (:func:`read_document` on a ``.json`` file) has the same size and nesting limits
  (``json-too-large``; ``json-syntax``): a 100,000-deep ``[[[...]]]`` is a coded refusal, not a
  ``RecursionError``.

Mappings come back as :class:`YamlMap` (a dict with ``.line`` and ``.line_of(key)``), lists
as :class:`YamlList` (a list with ``.line`` and ``.lines``). libyaml's parser is used when
PyYAML has it (about ten times faster than the pure-Python ``yaml.SafeLoader``).

Example::

    problems = []
    data = read_yaml(Path("bank/trust.yaml"), "trust.yaml",
                     lambda code, message, file, line: problems.append((code, file, line)))
    if data is not UNREADABLE:
        data["items"][0].line            # the line of the first item
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "UNREADABLE", "YamlList", "YamlMap", "read_document", "read_yaml"]

#: Largest file read, in bytes.
MAX_FILE_BYTES = 1_000_000
#: Deepest nesting of mappings and lists (the item bank needs 6).
MAX_DEPTH = 20

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
#: plain scalars PyYAML resolves to tags no safe constructor knows ("=", "<<"): read as text
_AS_TEXT = {_STD + "value", _STD + "merge"}

#: ``add(code, message, file, line)``: where the problems go.
AddProblem = Callable[[str, str, str, "int | None"], None]


class _Loader(yaml.SafeLoader):
    """The safe loader files are read with when libyaml is missing (pure Python)."""


#: The same, with libyaml's parser. Either way only plain scalars are constructed.
_FastLoader = type("_FastLoader", (yaml.CSafeLoader,), {}) if yaml.__with_libyaml__ else _Loader


class YamlMap(dict):
    """A YAML mapping with the line it starts on and the line of each key."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.key_lines: dict = {}

    def line_of(self, key) -> int:
        """The line of ``key``, or of the mapping when the key is absent."""
        return self.key_lines.get(key, self.line)


class YamlList(list):
    """A YAML list with the line it starts on and the line of each entry (``.lines``)."""

    def __init__(self, line: int):
        super().__init__()
        self.line = line
        self.lines: list[int] = []


class _Unreadable:
    """A file that could not be read (its problems are already reported)."""

    def __repr__(self) -> str:
        return "UNREADABLE"


#: What :func:`read_yaml` returns for a file it cannot read safely.
UNREADABLE = _Unreadable()


def _scan(text: str, loader) -> tuple[list, object]:
    """The marks of every alias, and the mark where nesting first exceeds MAX_DEPTH (or None).

    Reads parser events only: nothing is composed, so no alias is expanded and no deep
    recursion happens.
    """
    aliases, depth = [], 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                return aliases, event.start_mark
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases.append(event.start_mark)
    return aliases, None


def read_document(path: Path, file: str, add: AddProblem):
    """A ``.json``, ``.yaml`` or ``.yml`` file read safely (see the module), or :data:`UNREADABLE`
    after reporting why through ``add(code, message, file, line)``."""
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_yaml(path, file, add)
    if suffix != ".json":
        add("unsupported-file", f"{file} must end in .json, .yaml or .yml; got {suffix or 'no extension'!r}.", file, None)
        return UNREADABLE
    return _read_json(Path(path), file, add)


def _read_json(path: Path, file: str, add: AddProblem):
    import json

    try:
        raw = path.read_bytes()
    except OSError as exc:
        add("missing-file", f"cannot read {file}: {exc.strerror or exc}.", file, None)
        return UNREADABLE
    if len(raw) > MAX_FILE_BYTES:
        add("json-too-large", f"{file} has {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}.", file, None)
        return UNREADABLE
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        add("invalid-encoding", f"{file} is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); "
            "save it as UTF-8.", file, raw[: exc.start].count(b"\n") + 1)
        return UNREADABLE
    try:
        data = json.loads(text)
    except RecursionError:
        add("json-too-large", _too_deep(file), file, None)
        return UNREADABLE
    except json.JSONDecodeError as exc:
        add("json-syntax", f"{file} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).", file,
            exc.lineno)
        return UNREADABLE
    if _depth(data) > MAX_DEPTH:
        add("json-too-large", _too_deep(file), file, None)
        return UNREADABLE
    return data


def _depth(data) -> int:
    """How deep lists and mappings nest in ``data`` (iteratively: no recursion)."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict | list):
            deepest = max(deepest, level + 1)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _too_deep(file: str) -> str:
    return f"{file} nests mappings and lists more than {MAX_DEPTH} deep (the limit)."


def read_yaml(path: Path, file: str, add: AddProblem, loader=None):
    """The data of one YAML file, ``None`` when it is empty, or :data:`UNREADABLE`.

    ``file`` is the name problems give (e.g. relative to the bank folder); ``add`` receives
    each problem as ``(code, message, file, line)``. A file with a problem that stops the
    reading (syntax, alias, unsafe tag, size, encoding) comes back :data:`UNREADABLE`.
    ``loader`` overrides the loader class (tests use the pure-Python one).
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        add("missing-file", f"cannot read {file}: {exc.strerror or exc}.", file, None)
        return UNREADABLE
    if len(raw) > MAX_FILE_BYTES:
        add(
            "yaml-too-large",
            f"{file} has {len(raw):,} bytes; the limit is {MAX_FILE_BYTES:,}.",
            file,
            None,
        )
        return UNREADABLE
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        add(
            "invalid-encoding",
            f"{file} is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start}); save it as UTF-8.",
            file,
            line,
        )
        return UNREADABLE
    loader = loader or _FastLoader
    try:
        aliases, too_deep = _scan(text, loader)
        node = None
        if not aliases and too_deep is None:
            composer = loader(text)
            try:
                node = composer.get_single_node()
            finally:
                composer.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        if exc.problem and "maximum nesting depth" in exc.problem:  # libyaml's own limit
            add("yaml-too-large", _too_deep(file), file, line)
            return UNREADABLE
        what = " ".join(str(s) for s in (exc.context, exc.problem) if s) or str(exc)
        if exc.problem and "sequence entries are not allowed" in exc.problem:
            what += ' (a value "-" must be written in quotes: "-")'
        add("yaml-syntax", f"{file} is not valid YAML: {what}.", file, line)
        return UNREADABLE
    except yaml.YAMLError as exc:  # ReaderError: a character YAML does not allow
        position = getattr(exc, "position", None)
        line = text[:position].count("\n") + 1 if isinstance(position, int) else None
        add("yaml-syntax", f"{file} is not valid YAML: {exc}.", file, line)
        return UNREADABLE
    except RecursionError:
        add("yaml-too-large", _too_deep(file), file, None)
        return UNREADABLE
    if too_deep is not None:
        add("yaml-too-large", _too_deep(file), file, too_deep.line + 1)
        return UNREADABLE
    if aliases:
        for mark in aliases:
            add(
                "yaml-alias",
                f"{file} uses a YAML alias (*...); aliases are not allowed: write the value out.",
                file,
                mark.line + 1,
            )
        return UNREADABLE
    if node is None:
        return None
    converter = _Converter(file, add, composer)
    data = converter.convert(node)
    return UNREADABLE if converter.refused else data


class _Converter:
    """Builds plain Python data from a composed node tree, constructing scalars only."""

    def __init__(self, file: str, add: AddProblem, loader: yaml.SafeLoader | yaml.CSafeLoader):
        self.file = file
        self.add = add
        self.loader = loader  # a loader instance: its safe constructors build the scalars
        self.refused = False

    def convert(self, node):
        line = node.start_mark.line + 1
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            if tag in _AS_TEXT and not node.style:
                return node.value
            if tag not in _SCALAR_TAGS:
                return self.refuse(tag, line)
            try:
                return self.loader.yaml_constructors[tag](self.loader, node)
            except (yaml.YAMLError, ValueError, OverflowError) as exc:
                self.add(
                    "yaml-syntax",
                    f"{self.file}: cannot read the value {node.value!r}: {exc}.",
                    self.file,
                    line,
                )
                return None
        if isinstance(node, yaml.SequenceNode):
            if tag != _STD + "seq":
                return self.refuse(tag, line)
            out = YamlList(line)
            for child in node.value:
                out.append(self.convert(child))
                out.lines.append(child.start_mark.line + 1)
            return out
        if tag != _STD + "map":
            return self.refuse(tag, line)
        out = YamlMap(line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self.add(
                    "invalid-value",
                    f"{self.file}: a key must be a plain word; got a {key_node.id}.",
                    self.file,
                    key_line,
                )
                continue
            if key_node.tag not in _SCALAR_TAGS and not (
                key_node.tag in _AS_TEXT and not key_node.style
            ):
                self.refuse(key_node.tag, key_line)
                continue
            key = key_node.value  # keys stay text: "yes:" is the key "yes", "1:" the key "1"
            if key in out:
                self.add(
                    "duplicate-field",
                    f"the field '{key}' appears twice in the same mapping (first at line "
                    f"{out.key_lines[key]}); YAML would silently keep only the last one.",
                    self.file,
                    key_line,
                )
                continue
            out.key_lines[key] = key_line
            out[key] = self.convert(value_node)
        return out

    def refuse(self, tag: str, line: int):
        self.refused = True
        shown = "!!" + tag[len(_STD) :] if tag.startswith(_STD) else tag
        self.add(
            "unsafe-yaml",
            f"the YAML tag '{shown}' is not allowed (the file is read with a safe loader: only "
            "mappings, lists, text, numbers and true/false); nothing was executed.",
            self.file,
            line,
        )
        return None
