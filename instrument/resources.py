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
