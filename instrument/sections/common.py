"""What every report section shares: the :class:`Context` (language, typography, strings,
labels, the measurement model, the flags by item) and small helpers over the results.

A section module imports from here, never from another section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

__all__ = ["PERCENT_FLAGS", "Context", "options", "where_text"]

#: Item flags whose value and threshold are percentages.
PERCENT_FLAGS = ("near-constant", "high-missing", "floor-ceiling")


@dataclass
class Context:
    """What a section needs besides the results.

    ``typo``: the :class:`~instrument.typography.Typography` of the report's language;
    ``t``: the report's strings (``templates/report_strings.yaml``), already typeset;
    ``source``: ``data``/``form``/``keys`` file names and ``scale_kinds``;
    ``figures``: draw the SVG figures (False in tests that only read the view models).
    """

    typo: object
    t: dict
    results: dict
    source: dict = field(default_factory=dict)
    figures: bool = True

    @property
    def lang(self) -> str:
        return self.typo.lang

    @cached_property
    def model(self) -> dict[str, list[str]]:
        return self.results.get("model") or {}

    @cached_property
    def model_scale(self) -> dict[str, str]:
        """Item -> its scale in the measurement model."""
        return {i: s for s, its in self.model.items() for i in its}

    @cached_property
    def item_flags(self) -> dict[str, list[dict]]:
        """Item -> its flags (``results["flags"]["items"]``)."""
        out: dict[str, list[dict]] = {}
        for fl in self.results["flags"]["items"]:
            out.setdefault(fl["item"], []).append(fl)
        return out

    def codes(self, item: str) -> list[str]:
        return [fl["reason"] for fl in self.item_flags.get(item, [])]

    def scale(self, name: str) -> str:
        """A scale's (facet's, construct's) label in the report's language."""
        return self.typo.label("scale", name)

    def item_text(self, item: str) -> str:
        """An item's statement, typeset, as markup whose hyphenated names (Rivière-Claire)
        are never cut at their hyphen; "" when the report has no text for it."""
        text = self.typo.label("item", item)
        return "" if text == item else self.typo.nobr(text)

    def threshold(self, name: str):
        """The threshold ``name`` as recorded in results.json: ``value``, ``rule``, ``source``."""
        return self.results["thresholds"][name]

    def ok(self, name: str, x) -> bool:
        """True when ``x`` meets the threshold ``name`` (missing values always do)."""
        from psychometrics.thresholds import Threshold

        th = self.threshold(name)
        return Threshold(name, th["value"], th["rule"], th["source"]).ok(x)

    def fails(self, name: str, x) -> bool:
        return x is not None and not self.ok(name, x)

    def value(self, name: str, digits: int = 2) -> str:
        return self.typo.num(self.threshold(name)["value"], digits)

    def source_of(self, name: str) -> str:
        """The source of a threshold in the report's language (``source_<name>`` in the
        strings when the recorded source is not a plain citation)."""
        return self.t.get(f"source_{name}") or self.typo.text(self.threshold(name)["source"])

    def explain(self, code: str, message: str) -> str:
        """Why an analysis did not run, in the report's language: the English message of
        ``psychometrics`` in English; in French the words of ``note_<code>`` when the
        strings have them, else a pointer to the code (the message stays in results.json)."""
        if self.lang == "en":
            return self.typo.text(message or code)
        return self.t.get(f"note_{code}") or self.t["note_elsewhere"].format(code=code)

    def skipped_table(self, name: str, fit: dict) -> dict | None:
        """The view of a per-scale fit table that was not fitted (no ``table``): its scale
        label, no rows, and why; None when the fit has its table."""
        if "table" in fit:
            return None
        scale = self.scale(name) if name != "model" else ""
        return {"scale": scale, "rows": [], "skipped": self.explain(fit.get("skipped", ""), fit.get("reason", ""))}

    def figure(self, draw):
        """``draw(results, typo=..., text=...)`` as inline SVG markup, or None."""
        if not self.figures:
            return None
        import markupsafe

        svg = draw(self.results, typo=self.typo, text=self.t)
        return markupsafe.Markup(svg) if svg else None


def where_text(where: list[str], ctx: Context) -> str:
    """The places of an item flag (``efa``, ``cfa:<scale>``, a scale...) in words."""
    efa, cfa = ("AFE", "AFC") if ctx.lang == "fr" else ("EFA", "CFA")
    out = []
    for w in where or []:
        if w == "efa":
            out.append(efa)
        elif w.startswith("cfa:"):
            out.append(f"{cfa} ({ctx.scale(w[4:])})")
        elif w == "cfa":
            out.append(cfa)
        else:
            out.append(ctx.scale(w))
    return ", ".join(out)


def options(text: str):
    """``text`` escaped, with the command-line options in it (``--keep-careless``...) as
    ``<code class="option">`` that never breaks after its hyphens."""
    import markupsafe

    parts = re.split(r"((?:intangibles validate )?--[a-z][a-z-]*)", text)
    return markupsafe.Markup("").join(
        markupsafe.Markup('<code class="option">{}</code>').format(p) if k % 2 else markupsafe.escape(p)
        for k, p in enumerate(parts))
