"""The validation report, built from sections.

The contract (used by the validation, nesting, contagion and feedback reports):

* a section is one module ``instrument/sections/<name>.py`` with
  ``build(results: dict, ctx: Context) -> dict | None``: its view model (plain rows of
  already formatted strings, figures as SVG markup), or None when the section does not
  apply to these results (it is then left out, and the others are renumbered);
* its template partial ``templates/sections/<name>.html.j2`` prints ``view`` (the dict
  returned), with ``t`` (the strings) and ``typo`` at hand;
* its title is the string ``sec_<name>`` of ``templates/report_strings.yaml`` (add it in
  French and English), its anchor ``#<name>``;
* :data:`SECTIONS` lists the sections in report order. A new section = one module + one
  partial + one line here (+ its ``sec_<name>`` title and its tests).

``ctx`` is a :class:`~instrument.sections.common.Context`: ``ctx.typo`` (the one
:class:`~instrument.typography.Typography` of the report: numbers, spaces, labels, plot
axes), ``ctx.t`` (strings), ``ctx.results``, ``ctx.source`` (file names, scale kinds),
and helpers (``ctx.scale(name)`` the label of a scale, ``ctx.threshold(name)``,
``ctx.ok(name, x)``, ``ctx.source_of(name)``, ``ctx.figure(draw)``). Sections read
``results`` (the dict written as results.json), so a report can be re-drawn from the
file; they never compute statistics (that is ``psychometrics``' job) and never import
one another's private helpers (shared ones live in :mod:`instrument.sections.common`).
"""

from __future__ import annotations

import importlib

from instrument.sections.common import Context

__all__ = ["SECTIONS", "Context", "build_all"]

#: The sections of the validation report, in order.
SECTIONS = (
    "sample",
    "items",
    "reliability",
    "factorability",
    "efa",
    "cfa",
    "validity",
    "invariance",
    "invariance_ordinal",
    "nesting",
    "contagion",
    "actions",
    "notes",
)


def build_all(results: dict, ctx: Context, names=SECTIONS) -> list[dict]:
    """The view of every section that applies: ``name``, ``number``, ``title``,
    ``template`` (its partial) and ``view``."""
    out = []
    for name in names:
        view = importlib.import_module(f"instrument.sections.{name}").build(results, ctx)
        if view is None:
            continue
        out.append({"name": name, "number": len(out) + 1, "title": ctx.t[f"sec_{name}"],
                    "template": f"sections/{name}.html.j2", "view": view})
    return out
