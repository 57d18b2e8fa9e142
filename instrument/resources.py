"""Where the shipped files are: the bank, the templates, the samples.

In a wheel, ``templates/`` and ``data_samples/`` are installed inside the ``instrument``
package; in a source checkout (editable install) they sit at the repository's top level.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    inside = _PKG / name
    if inside.is_dir():
        return inside
    return _PKG.parent / name


def bank_dir() -> Path:
    """Folder of the item bank's YAML files."""
    return _PKG / "bank"


def templates_dir() -> Path:
    """Folder of the jinja2 templates."""
    return _locate("templates")


def samples_dir() -> Path:
    """Folder of the sample form spec, returned workbooks and data sets."""
    return _locate("data_samples")


def lock_file() -> Path | None:
    """``requirements-lock.txt`` (the versions the tests passed with), if shipped or checked out."""
    for candidate in (_PKG / "requirements-lock.txt", _PKG.parent / "requirements-lock.txt"):
        if candidate.is_file():
            return candidate
    return None


def system_requirements() -> list[tuple[str, ...]]:
    """``(need, kind, probe, packages, french, english)`` per line of ``system_requirements.tsv``: what
    the toolkit needs from the operating system (``tools/setup.sh`` reads the same file)."""
    text = (_PKG / "system_requirements.tsv").read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return [tuple(row) for row in rows]


def environment():
    """The jinja2 environment of every template (autoescape on: everything that comes from a
    respondent, a spec or the bank is escaped; strict undefined: a missing value is an error,
    never an empty string)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
