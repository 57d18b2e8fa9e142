"""``intangibles form build``: a form spec -> every requested format, in every language.

:data:`FORMATS` is the one registry of formats (name -> writer). Each writer takes the
form, the output folder and the paper size and returns the files it wrote; file names are
those of :func:`instrument.export.common.file_name` (``member_fr.xlsx``,
``member_grid_fr.xlsx``, ``member_xlsform.xlsx``, ``member_limesurvey.txt``,
``member_redcap_fr.csv``, ``member_fr.html``, ``member_fr.pdf``, ``codebook.json``...;
counterbalanced forms add ``_B`` files for order version B).

A roster (``--respondents roster.csv``) gives one personalized respondent workbook per
code, in ``<out>/respondents/<form>_<code>_<lang>.xlsx``. The roster is a CSV file
(comma, semicolon or tab) with a ``respondent`` column of pseudonymous codes
(``^[A-Za-z0-9_-]{1,32}$``: never names or e-mail addresses), unique; optional columns
``language`` (fr / en: one workbook in that language; default: one per language of the
form) and ``version`` (A / B; default: A, B, A, B... in roster order, so a counterbalanced
form is split evenly). The nested design: optional columns ``organization``, ``consortium``
and ``role`` pre-fill the context questions ``organization_id``, ``consortium_id`` and
``respondent_role`` of the personalized workbook when the form asks them (codes follow the
respondent-code rule; a role is a choice name or code of ``respondent_role``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from instrument.export.common import file_name, version_labels
from instrument.model import Form, Problem
from instrument.typography import say

__all__ = ["FORMATS", "RESPONDENT_PATTERN", "RosterEntry", "build", "build_command", "parse_formats", "read_roster", "write_respondents"]

#: A pseudonymous respondent code.
RESPONDENT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
PAPERS = ("A4", "Letter")
MAX_ROSTER_BYTES = 5_000_000


def _per_language(fmt: str, module: str, **fixed):
    def writer(form: Form, out: Path, paper: str) -> list[Path]:
        import importlib

        write = importlib.import_module(f"instrument.export.{module}").write
        written: list[Path] = []
        for lang in form.languages:
            options = dict(fixed)
            if "paper" in options:
                options["paper"] = paper
            written += _as_list(write(form, out / file_name(form, fmt, lang=lang), lang=lang, **options))
        return written

    return writer


def _single(fmt: str, module: str):
    def writer(form: Form, out: Path, paper: str) -> list[Path]:
        import importlib

        write = importlib.import_module(f"instrument.export.{module}").write
        return _as_list(write(form, out / file_name(form, fmt)))

    return writer


def _codebook(form: Form, out: Path, paper: str) -> list[Path]:
    from instrument.export import codebook

    written = _as_list(codebook.write(form, out / file_name(form, "codebook")))
    for lang in form.languages:
        written += _as_list(codebook.write_html(form, out / file_name(form, "codebook", lang=lang), lang=lang))
    return written


def _as_list(result) -> list[Path]:
    if result is None:
        return []
    if isinstance(result, str | os.PathLike):
        return [Path(result)]
    return [Path(p) for p in result]


#: The formats ``form build`` knows: name -> writer(form, out_dir, paper) -> files written.
FORMATS: dict[str, Callable[[Form, Path, str], list[Path]]] = {
    "print": _per_language("print", "printed", paper="A4"),
    "pdf": _per_language("pdf", "pdf", paper="A4"),
    "xlsx": _per_language("xlsx", "xlsx", paper="A4"),
    "grid": _per_language("grid", "grid", paper="A4"),
    "xlsform": _single("xlsform", "xlsform"),
    "limesurvey": _single("limesurvey", "limesurvey"),
    "redcap": _per_language("redcap", "redcap"),
    "codebook": _codebook,
}


def parse_formats(formats) -> list[str]:
    """``"xlsx,grid"`` or a list -> the format names, checked; ValueError names the bad ones."""
    if formats is None:
        return list(FORMATS)
    names = formats.split(",") if isinstance(formats, str) else list(formats)
    names = [str(n).strip().lower() for n in names if str(n).strip()]
    if not names:
        return list(FORMATS)
    bad = [n for n in names if n not in FORMATS]
    if bad:
        raise ValueError(
            f"The 'format' option must be a comma-separated list of {', '.join(FORMATS)}; got unknown format(s) {', '.join(map(repr, bad))}."
        )
    return list(dict.fromkeys(names))


#: Roster column -> the context question it pre-fills.
PREFILL = {"organization": "organization_id", "consortium": "consortium_id", "role": "respondent_role"}


@dataclass(frozen=True)
class RosterEntry:
    respondent: str
    languages: tuple[str, ...]
    version: str
    line: int
    prefill: tuple = ()  # ((context question id, answer), ...)


def read_roster(path: str | os.PathLike, form: Form) -> tuple[list[RosterEntry], list[Problem]]:
    """Read a respondent roster (see the module's notes): ``(entries, problems)``."""
    where = str(path)
    text, problems = _roster_text(path, where)
    if text is None:
        return [], problems
    reader, col, problems = _roster_header(text, where)
    if reader is None:
        return [], problems
    labels = version_labels(form)
    seen: dict[str, int] = {}
    entries: list[RosterEntry] = []
    for line, row in enumerate(reader, start=2):
        if any(cell.strip() for cell in row):
            entry = _roster_entry(form, row, col, line, where, seen, labels[len(entries) % len(labels)], problems)
            if entry is not None:
                entries.append(entry)
    if not entries and not problems:
        problems.append(Problem("empty-file", "the roster has no respondent code", file=where, line=1))
    return entries, problems


def _roster_text(path, where: str) -> tuple[str | None, list[Problem]]:
    """The roster's UTF-8 text (at most :data:`MAX_ROSTER_BYTES`), or None and the problem."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        return None, [Problem("unreadable-file", f"cannot read the roster: {exc.strerror or exc}", file=where)]
    if len(raw) > MAX_ROSTER_BYTES:
        return None, [Problem("file-too-large", f"a roster is at most {MAX_ROSTER_BYTES} bytes; this one has {len(raw)}", file=where)]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return None, [Problem("invalid-encoding", "the roster is not UTF-8 text (save it as 'CSV UTF-8')", file=where)]


def _roster_header(text: str, where: str):
    """``(rows reader, column name -> index, problems)``: the delimiter from the header line,
    which must name a ``respondent`` column (reader None otherwise)."""
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if not header:
        return None, {}, [Problem("empty-file", "the roster is empty; it needs a 'respondent' column", file=where, line=1)]
    columns = [h.strip().lower() for h in header]
    if "respondent" not in columns:
        return None, {}, [Problem("missing-column", "the roster needs a 'respondent' column; its columns are "
                                  f"{', '.join(map(repr, header))}", file=where, line=1)]
    col = {name: columns.index(name) for name in ("respondent", "language", "version", *PREFILL) if name in columns}
    return reader, col, []


def _roster_entry(form: Form, row: list, col: dict, line: int, where: str, seen: dict, next_version: str,
                  problems: list) -> RosterEntry | None:
    """One roster line as an entry, or None with its problem added: a pseudonymous code not
    seen before (case aside), a language and version of the form (else every language and
    the next version in turn), the pre-filled context answers."""

    def cell(name):
        index = col.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    def refuse(code, message):
        problems.append(Problem(code, message, file=where, line=line))

    code = cell("respondent")
    if not RESPONDENT_PATTERN.match(code):
        return refuse("invalid-respondent-code", "respondent codes must be pseudonymous: 1-32 letters, digits, '_' "
                      f"or '-' (no names, no e-mail); got {code!r}")
    if code.casefold() in seen:  # R1 and r1 would name files that collide on Windows and macOS
        return refuse("duplicate-respondent", f"the code {code!r} is already on line {seen[code.casefold()]} "
                      "(codes differing only by case count as one)")
    seen[code.casefold()] = line
    lang = cell("language").lower()
    if lang and lang not in form.languages:
        return refuse("unknown-language", f"language must be one of {', '.join(form.languages)}; got {lang!r}")
    labels = version_labels(form)
    version = cell("version").upper()
    if version and version not in labels:
        return refuse("unknown-version", f"version must be one of {', '.join(labels)}; got {version!r}")
    prefill, bad = _prefill(form, {name: cell(name) for name in PREFILL}, where, line)
    if bad:
        problems.extend(bad)
        return None
    return RosterEntry(code, (lang,) if lang else tuple(form.languages), version or next_version, line, prefill)


def _prefill(form: Form, values: dict, where: str, line: int) -> tuple[tuple, list[Problem]]:
    """The roster's organization / consortium / role as context answers of the form."""
    asked = {q.id: q for q in form.context_block}
    out, problems = [], []
    for column, value in values.items():
        q = asked.get(PREFILL[column])
        if not value or q is None:
            continue
        if q.choices:
            match = [c for c in q.choices if value in (c.name, str(c.code))]
            if not match:
                problems.append(Problem("unknown-role", f"{column} must be one of {', '.join(c.name for c in q.choices)}; got {value[:40]!r}", file=where, line=line))
                continue
            value = match[0].code
        elif not RESPONDENT_PATTERN.match(value):
            problems.append(Problem("invalid-cluster-code", f"{column} codes must be 1-32 letters, digits, '_' or '-'; got {value[:40]!r}", file=where, line=line))
            continue
        out.append((q.id, value))
    return tuple(out), problems


def write_respondents(form: Form, entries: list[RosterEntry], out: Path, paper: str = "A4") -> list[tuple[str, str, str, Path]]:
    """One personalized workbook per roster entry and language: ``[(code, lang, version, path)]``."""
    from instrument.export import xlsx

    folder = Path(out) / "respondents"
    written = []
    for entry in entries:
        for lang in entry.languages:
            target = folder / file_name(form, "xlsx", lang=lang, respondent=entry.respondent)
            xlsx.write(form, target, lang=lang, version=entry.version, respondent=entry.respondent, paper=paper,
                       prefill=dict(entry.prefill))
            written.append((entry.respondent, lang, entry.version, target))
    return written


def build(form: Form, out: str | os.PathLike, formats=None, *, paper: str = "A4") -> dict[str, list[Path]]:
    """Write the requested formats of a loaded form into ``out``: ``{format: [files]}``.

    Example::

        from instrument.form import load_form
        build(load_form("data_samples/form_member.yaml"), "out/", "xlsx,xlsform")
    """
    names = parse_formats(formats)
    if paper not in PAPERS:
        raise ValueError(f"The 'paper' parameter of build must be one of {list(PAPERS)!r}; got {paper!r}.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {name: FORMATS[name](form, out, paper) for name in names}


def _print_problems(console, problems, what: str, what_en: str | None = None):
    """Each problem on its line (code, place, message), then their count, French first
    (``what``: the file, or its French name; ``what_en``: its English one)."""
    from rich.markup import escape

    for problem in problems:
        console.print(
            f"[red]{escape(problem.code)}[/red]  {escape(problem.place or '-')}  {escape(problem.message)}",
            highlight=False,
            markup=True,
            soft_wrap=True,
        )
    say(console, f"{len(problems)} problème(s) dans {what} ; rien n'a été écrit.",
        f"{len(problems)} problem(s) in {what_en or what}; nothing was written.")


def build_command(spec, out, formats=None, *, respondents=None, paper: str = "A4", console=None) -> int:
    """The ``form build`` command: 0 when every file is written, 1 when the spec (or the
    roster) has problems (each printed with its code, file:line and message), 2 on bad
    usage (an unknown format or paper size)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    try:
        names = parse_formats(formats)
    except ValueError as exc:
        console.print(escape(str(exc)), highlight=False)
        say(console, "Formats valides", "valid formats", tail=f": {', '.join(FORMATS)}")
        return 2
    paper_name = next((p for p in PAPERS if p.lower() == str(paper).lower()), None)
    if paper_name is None:
        say(console, f"L'option « paper » doit être {' ou '.join(PAPERS)} ; reçu {paper!r}.",
            f"The 'paper' option must be one of {', '.join(PAPERS)}; got {paper!r}.")
        return 2

    from instrument.form import FormError, load_form

    try:
        form = load_form(spec)
    except FormError as exc:
        _print_problems(console, exc.problems, str(spec))
        return 1
    except Exception as exc:  # a broken bank: its problems are listed the same way
        problems = getattr(exc, "problems", None)
        if problems is None:
            raise
        _print_problems(console, problems, "la banque d'items", "the item bank")
        return 1

    entries: list[RosterEntry] = []
    if respondents is not None:
        entries, problems = read_roster(respondents, form)
        if problems:
            _print_problems(console, problems, str(respondents))
            return 1

    out = Path(out)
    table = Table(title=f"{form.id} {form.version} — {len(form.items)} items, {', '.join(form.languages)}")
    table.add_column("format")
    table.add_column("fichier / file")
    table.add_column("taille / size", justify="right")
    try:
        written = build(form, out, names, paper=paper_name)
        personal = write_respondents(form, entries, out, paper_name) if entries else []
    except OSError as exc:
        reason = exc.strerror or str(exc)
        say(console, f"Impossible d'écrire dans {out} : {reason}",
            f"Cannot write into {out}: {reason}")
        return 1
    count = 0
    for name, paths in written.items():
        for path in paths:
            table.add_row(name, escape(str(path)), f"{path.stat().st_size:,}")
            count += 1
    for code, _lang, version, path in personal:
        table.add_row(f"xlsx ({code}, {version})", escape(str(path)), f"{path.stat().st_size:,}")
        count += 1
    console.print(table)
    say(console, f"{count} fichier(s) écrit(s)", f"{count} file(s) written", tail=f" -> {out}")
    return 0
