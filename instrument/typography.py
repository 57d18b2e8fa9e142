"""One typography and language layer for every writer (report, questionnaire, workbook,
codebook, platforms, feedback, plots).

``Typography("fr")`` knows the Québec French rules, ``Typography("en")`` the English ones:

* numbers: :meth:`Typography.num` (``0,77`` / ``0.77``), :meth:`~Typography.int` (thin
  non-breaking space between thousands in French: ``1 234``), :meth:`~Typography.pct`
  (``12,5 %`` with a non-breaking space / ``12.5%``), :meth:`~Typography.p`
  (``< 0,001``), :meth:`~Typography.cell` (a count under the small-cell minimum is
  ``< 5``);
* text: :meth:`Typography.text` puts a non-breaking space before ``:`` and a narrow
  non-breaking space before ``; ! ?`` and inside ``« »`` in French (OQLF, *Banque de
  dépannage linguistique*, « Espacement avant et après les signes de ponctuation »), and
  removes any space there in English;
* labels: :meth:`Typography.label` gives the label of a scale, facet, construct, level or
  item in the language (the id itself when nothing is known);
* plots: :meth:`Typography.formatter` is a matplotlib tick formatter with the decimal
  comma, :meth:`Typography.axes` puts it on both axes of an Axes.

The other writers call these rather than formatting by hand, so that a rule changes in
one place. Everything is pure (no I/O) except :func:`strings`, which reads a YAML file of
bilingual strings and returns them typeset, and :func:`say`, which prints a console line.

The commands' own console lines pair the languages as their ``--help`` does, French first:
:func:`bilingual` (``Fichier des scores / Scores: scores.xlsx``), :func:`say` prints one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

__all__ = ["LANGS", "NBSP", "NNBSP", "Typography", "bilingual", "say", "strings"]

LANGS = ("fr", "en")
NBSP = "\u00a0"   # no-break space: before ":" and "%" in French
NNBSP = "\u202f"  # narrow no-break space: before "; ! ?", inside « », between thousands

# A space (or none) before ; ! ? followed by a space, a closing mark or the end: not "?x"
# inside a URL, not "::" nor "10:30".
_TIGHT = re.compile(r"(?<=\S)[ \u00a0\u202f]?([;!?]+)(?=[\s)»\"'\u2019]|$)")
_COLON = re.compile(r"(?<=\S)[ \u00a0\u202f]?:(?=\s|$)")
_OPEN_GUILLEMET = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_GUILLEMET = re.compile(r"[ \u00a0\u202f]*»")
_COMPOUND = re.compile(r"(\w+(?:[-\u2011]\w+)+)")
_EN_SPACE_BEFORE = re.compile(r"[ \u00a0\u202f]+([;:!?])(?=\s|$)")


class Typography:
    """Numbers, text and labels as a reader of ``lang`` expects them.

    ``labels`` maps ids to display labels, either flat (``{"TRU": {"fr": ..., "en": ...}}``)
    or by kind (``{"scale": {...}, "level": {...}}``); a label is a text or a
    ``{"fr": ..., "en": ...}`` mapping. ``na`` is what a missing number prints as.

    >>> Typography("fr").num(0.773)
    '0,77'
    >>> Typography("fr").text("Prêt? Oui!")
    'Prêt\\u202f? Oui\\u202f!'
    """

    def __init__(self, lang: str, labels: Mapping | None = None, *, na: str = "—",
                 min_cell: int = 5):
        if lang not in LANGS:
            raise ValueError(f"The 'lang' parameter of Typography must be one of "
                             f"{', '.join(LANGS)}; got {lang!r}.")
        self.lang, self.na, self.min_cell = lang, na, min_cell
        self.labels = dict(labels or {})

    @property
    def french(self) -> bool:
        return self.lang == "fr"

    # ------------------------------------------------------------------ numbers

    def num(self, v, digits: int = 2) -> str:
        """``v`` with ``digits`` decimals (decimal comma in French); ``na`` when missing."""
        if v is None or isinstance(v, bool) or (isinstance(v, float) and not math.isfinite(v)):
            return self.na
        s = f"{float(v):,.{digits}f}"
        if s.startswith("-") and float(s[1:].replace(",", "")) == 0:
            s = s[1:]
        if self.french:
            s = s.replace(",", NNBSP).replace(".", ",")
        return s.replace("-", "\u2212")

    def int(self, v) -> str:
        """A whole number (thin-space thousands in French: ``1 234``)."""
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return self.na
        s = f"{int(v):,}"
        return (s.replace(",", NNBSP) if self.french else s).replace("-", "\u2212")

    def pct(self, v, digits: int = 1) -> str:
        """A percentage: ``12,5 %`` (non-breaking space) in French, ``12.5%`` in English."""
        if v is None:
            return self.na
        return self.num(v, digits) + (NBSP + "%" if self.french else "%")

    def p(self, v) -> str:
        """A p value with 3 decimals, ``< 0,001`` below .001."""
        if v is None:
            return self.na
        if v < 0.001:
            return "<" + NBSP + self.num(0.001, 3)
        return self.num(v, 3)

    def p_eq(self, v) -> str:
        """``= 0,012`` or ``< 0,001``: what follows "p" in a sentence."""
        s = self.p(v)
        return s if s.startswith("<") else "=" + NBSP + s

    def cell(self, n) -> str:
        """A count in a group table: ``< 5`` below the small-cell minimum (or suppressed)."""
        if n is None or n < self.min_cell:
            return "<" + NBSP + self.int(self.min_cell)
        return self.int(n)

    def threshold(self, v) -> str:
        """A cut-off as printed beside a rule: 2 decimals under 1, whole otherwise."""
        if v is None:
            return ""
        return self.num(v, 2) if abs(v) < 1 else self.num(v, 0)

    def interval(self, lo, hi, digits: int = 2) -> str:
        """``[0,85 ; 0,90]`` in French (the comma is the decimal mark), ``[0.85, 0.90]``."""
        sep = NNBSP + "; " if self.french else ", "
        return f"[{self.num(lo, digits)}{sep}{self.num(hi, digits)}]"

    def rule(self, rule: str, value) -> str:
        """``≥ 0,70`` from a rule (``">="``...) and a value."""
        symbol = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}[rule]
        return symbol + NBSP + self.threshold(value)

    # ------------------------------------------------------------------ text

    def text(self, s):
        """``s`` with the spaces of the language around ``: ; ! ?`` and guillemets.

        French: no-break space before ``:``, narrow no-break space before ``; ! ?`` and
        inside ``« »``. English: no space before them. Non-strings are returned as they are.
        """
        if not isinstance(s, str) or not s:
            return s
        if not self.french:
            return _EN_SPACE_BEFORE.sub(r"\1", s)
        s = _TIGHT.sub(lambda m: NNBSP + m.group(1), s)
        s = _COLON.sub(NBSP + ":", s)
        s = _OPEN_GUILLEMET.sub("«" + NNBSP, s)
        return _CLOSE_GUILLEMET.sub(NNBSP + "»", s)

    def nobr(self, text):
        """``text`` typeset and escaped as HTML markup, each hyphenated compound
        (``Rivière-Claire``, ``peut-être``) in a ``<span class="nobr">`` that the CSS keeps
        on one line: a proper name is never cut at its hyphen."""
        import markupsafe

        parts = _COMPOUND.split(self.text(str(text)))
        return markupsafe.Markup("").join(
            markupsafe.Markup('<span class="nobr">{}</span>').format(p) if k % 2 else markupsafe.escape(p)
            for k, p in enumerate(parts))

    def pick(self, value) -> str:
        """The text of ``value`` in the language: a ``{"fr", "en"}`` mapping or a text."""
        if isinstance(value, Mapping):
            return str(value.get(self.lang) or next(iter(value.values()), ""))
        return "" if value is None else str(value)

    def label(self, kind: str, id_: str) -> str:
        """The display label of ``id_`` (kind: scale, facet, construct, level, item...),
        typeset; the id itself when no label is known."""
        by_kind = self.labels.get(kind)
        value = by_kind.get(id_) if isinstance(by_kind, Mapping) else None
        if value is None:
            value = self.labels.get(id_)
        text = self.pick(value) if value is not None and not _is_kind_table(value) else ""
        return self.text(text) if text else str(id_)

    def has_label(self, kind: str, id_: str) -> bool:
        return self.label(kind, id_) != str(id_)

    # ------------------------------------------------------------------ plots

    def formatter(self):
        """A matplotlib tick formatter: matplotlib's own choice of decimals, with the
        decimal comma in French and a true minus sign."""
        from matplotlib.ticker import ScalarFormatter

        typo = self

        class Formatter(ScalarFormatter):
            def __call__(self, x, pos=None):
                s = super().__call__(x, pos)
                return s.replace(".", ",") if typo.french else s

            def format_data_short(self, value):
                s = super().format_data_short(value)
                return s.replace(".", ",") if typo.french else s

        fmt = Formatter(useOffset=False, useMathText=False)
        fmt.set_scientific(False)
        return fmt

    def axes(self, *axes) -> None:
        """Put :meth:`formatter` on the numeric x and y axes of each Axes (colorbars
        included); an axis labelled with names (item codes set by ``set_yticks(ticks,
        labels)``) keeps its names."""
        from matplotlib.ticker import ScalarFormatter

        for ax in axes:
            for axis in (ax.xaxis, ax.yaxis):
                if isinstance(axis.get_major_formatter(), ScalarFormatter):
                    axis.set_major_formatter(self.formatter())


def _is_kind_table(value) -> bool:
    return isinstance(value, Mapping) and not set(value) & set(LANGS)


def strings(lang: str, name: str = "report_strings.yaml") -> dict:
    """The strings of ``templates/<name>`` in ``lang``, typeset (:meth:`Typography.text`).

    Each entry of the YAML file is a text (the same in both languages) or a
    ``{fr: ..., en: ...}`` mapping.
    """
    import yaml

    from instrument.resources import templates_dir

    typo = Typography(lang)
    raw = yaml.safe_load((templates_dir() / name).read_text(encoding="utf-8"))
    return {k: typo.text(v if isinstance(v, str) else v[lang]) for k, v in raw.items()}


def bilingual(fr: str, en: str, *, tail: str = "", indent: str = "", width: int = 80) -> str:
    """A console line in both languages, French first: ``indent + fr + " / " + en + tail``.

    The French is typeset (:meth:`Typography.text`: spaces before ``: ; ! ?`` and inside
    « »), the English too. When ``fr / en`` does not fit in ``width`` columns the English
    goes on a second line that starts with ``/ `` under the French, so that no line is
    longer than ``width`` but for ``tail``: what both languages share (a path, a file
    name), written after the English, neither typeset nor counted.

    >>> bilingual("Journal", "Log", tail=": log.csv")
    'Journal / Log: log.csv'
    """
    fr, en = Typography("fr").text(fr), Typography("en").text(en)
    line = f"{indent}{fr} / {en}"
    if len(line) > width:
        line = f"{indent}{fr}\n{indent}/ {en}"
    return line + tail


def say(console, fr: str, en: str, *, tail: str = "", indent: str = "", **kwargs) -> None:
    """Print :func:`bilingual` on a rich ``console`` as plain text (no markup: a path may
    hold [brackets]), not re-wrapped by rich (a path is not cut); ``kwargs`` go to
    ``console.print`` (``style=``)."""
    console.print(bilingual(fr, en, tail=tail, indent=indent), markup=False, highlight=False,
                  soft_wrap=True, **kwargs)
