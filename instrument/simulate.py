"""Synthetic respondents from a known measurement model built from a form.

Used by the demo, the tests and the benchmarks, and useful to plan a study: simulate the
sample size you can hope for, then see whether alpha, the CFA and the invariance tests
would be precise enough (``intangibles simulate FORM --n 150`` then ``intangibles validate``).

The model (all documented in :class:`Design`):

- one factor per facet of the form (items of a facet load on it), standardized loadings
  drawn around ``loading`` (uniform ± ``spread``); ``weak_items`` load ``weak_loading``;
- factor correlations: ``within`` between facets of one construct, ``between`` across
  benefit constructs, ``drawback_r`` between a drawback and a benefit facet;
- a latent response ``y* = Λη + ε`` (unit variance) cut at thresholds that give the
  answer shares ``shares`` (agreement scales are usually skewed towards agreement);
- a reverse-keyed item is a negative statement: its answer is ``high + low - x``;
- ``non_invariant``: one item whose intercept differs in one group (``y* + shift``), the
  classic failure of scalar invariance between language versions;
- missingness: blank answers (MCAR, ``missing``), "don't know" (``dont_know``) and
  "not applicable" (``not_applicable``) codes;
- careless respondents (``careless`` share): half straightliners (one answer repeated),
  half random responders (uniform answers).

Same design, ``n`` and ``seed``: same respondents, byte for byte.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from instrument.model import Form

__all__ = ["Design", "Sample", "patch_cells", "simulate", "simulate_command"]


@dataclass(frozen=True)
class Design:
    """What to simulate. Defaults give a realistic, well-behaved member survey."""

    loading: float = 0.72
    spread: float = 0.08
    weak_items: tuple[str, ...] = ()
    weak_loading: float = 0.15
    within: float = 0.6
    between: float = 0.35
    drawback_r: float = -0.2
    shares: tuple[float, ...] = (0.06, 0.12, 0.24, 0.34, 0.24)
    missing: float = 0.01
    dont_know: float = 0.01
    not_applicable: float = 0.005
    careless: float = 0.0
    groups: dict = field(
        default_factory=lambda: {
            "lang": {"fr": 0.6, "en": 0.4},
            "sector": {"public": 0.4, "community": 0.4, "private": 0.2},
        }
    )
    non_invariant: tuple = ()  # (item id, group column, group value, shift), e.g. ("lrkoi2", "lang", "en", 1.0)


@dataclass(frozen=True)
class Sample:
    """Simulated respondents with the truth behind them.

    ``responses``: one row per respondent (``respondent``, ``lang``, ``sector`` and the other
    context answers, then the items as the respondent would answer them: raw codes, reverse-
    keyed items not recoded, missing codes kept). ``loadings``: items x facets (true,
    standardized). ``phi``: true factor correlations. ``careless``: codes of the careless
    respondents and their kind.
    """

    responses: pd.DataFrame
    loadings: pd.DataFrame
    phi: pd.DataFrame
    careless: pd.Series


def _facets(form: Form) -> list:
    return [s for s in form.scales if s.kind == "facet"]


def _phi(form: Form, facets, design: Design) -> np.ndarray:
    construct = {}
    kinds = {}
    for s in facets:
        item = next(it for it in form.items if it.id == s.items[0])
        construct[s.name] = item.construct
        kinds[s.name] = form.bank.constructs[item.construct].kind if form.bank else "benefit"
    k = len(facets)
    phi = np.eye(k)
    for a in range(k):
        for b in range(a + 1, k):
            fa, fb = facets[a].name, facets[b].name
            if construct[fa] == construct[fb]:
                r = design.within
            elif "drawback" in (kinds[fa], kinds[fb]) and kinds[fa] != kinds[fb]:
                r = design.drawback_r
            else:
                r = design.between
            phi[a, b] = phi[b, a] = r
    # keep it a correlation matrix even for unusual settings
    w, v = np.linalg.eigh(phi)
    if w.min() < 1e-6:
        phi = v @ np.diag(np.clip(w, 1e-6, None)) @ v.T
        d = np.sqrt(np.diag(phi))
        phi = phi / np.outer(d, d)
    return phi


def simulate(form: Form, n: int, *, seed: int = 1, design: Design | None = None) -> Sample:
    """Simulate ``n`` respondents answering ``form`` (see the module docstring)."""
    if n < 1:
        raise ValueError(f"The 'n' parameter of simulate must be at least 1; got {n}.")
    design = design or Design()
    rng = np.random.default_rng(seed)
    facets = _facets(form)
    items = list(form.item_ids)
    facet_of = {i: s.name for s in facets for i in s.items}
    scored_items = [i for i in items if i in facet_of]
    names = [s.name for s in facets]
    lam = np.zeros((len(items), len(facets)))
    for j, item in enumerate(items):
        if item in facet_of:
            value = design.weak_loading if item in design.weak_items else design.loading + rng.uniform(-design.spread, design.spread)
            lam[j, names.index(facet_of[item])] = value
    phi = _phi(form, facets, design)

    # who answers: groups and context
    context = pd.DataFrame(index=range(n))
    for col, shares in design.groups.items():
        levels, p = list(shares), np.array(list(shares.values()), float)
        context[col] = rng.choice(levels, size=n, p=p / p.sum())

    eta = rng.multivariate_normal(np.zeros(len(facets)), phi, size=n, method="cholesky") if facets else np.zeros((n, 0))
    unique = np.sqrt(np.clip(1 - (lam**2 * 1.0).sum(axis=1) - _cross(lam, phi), 0.05, None))
    ystar = eta @ lam.T + rng.standard_normal((n, len(items))) * unique
    # items outside any facet (tangible outcomes): independent, moderately related to the mean factor
    for j, item in enumerate(items):
        if item not in facet_of:
            ystar[:, j] = 0.4 * (eta.mean(axis=1) if facets else 0) + rng.standard_normal(n) * 0.9
    if design.non_invariant:
        item, col, value, shift = design.non_invariant
        j = items.index(item)
        ystar[:, j] += np.where(context[col].to_numpy() == value, shift, 0.0)

    rs = form.response_set
    codes = np.array(rs.codes)
    shares = np.asarray(design.shares[: len(codes)], float)
    cuts = _normal_quantiles(np.cumsum(shares / shares.sum())[:-1])
    x = codes[np.searchsorted(cuts, ystar)]  # thresholds -> ordinal codes
    reverse = np.array([form.bank.item(i).reverse if form.bank else False for i in items]) if items else np.zeros(0, bool)
    for j, item in enumerate(items):
        if item in facet_of and any(k == f"-{item}" for s in facets for k in s.keys):
            reverse[j] = True
    x = np.where(reverse, rs.high + rs.low - x, x).astype(float)

    # careless respondents
    kind = np.array([""] * n, dtype=object)
    n_care = round(design.careless * n)
    if n_care:
        who = rng.choice(n, size=n_care, replace=False)
        straight, rand = who[: (n_care + 1) // 2], who[(n_care + 1) // 2 :]
        x[straight] = rng.choice(codes, size=len(straight))[:, None]
        x[rand] = rng.choice(codes, size=(len(rand), len(items)))
        kind[straight], kind[rand] = "straightlining", "random"
    # missing answers and missing codes (never for careless respondents, who answer everything)
    u = rng.random(x.shape)
    keep = (kind == "")[:, None]
    missing_codes = rs.missing_codes
    if missing_codes:
        x = np.where(keep & (u < design.dont_know), missing_codes[0], x)
        if len(missing_codes) > 1:
            x = np.where(keep & (u >= design.dont_know) & (u < design.dont_know + design.not_applicable), missing_codes[1], x)
    lo = design.dont_know + design.not_applicable
    x = np.where(keep & (u >= lo) & (u < lo + design.missing), np.nan, x)

    width = max(4, len(str(n)))
    respondent = [f"R{i + 1:0{width}d}" for i in range(n)]
    frame = pd.DataFrame({"respondent": respondent})
    frame = pd.concat([frame, context.reset_index(drop=True)], axis=1)
    for q in form.context_block:
        if q.id in frame:
            continue
        if q.type == "select_one" and q.choices:
            frame[q.id] = rng.choice([c.code for c in q.choices], size=n)
        elif q.type == "integer":
            lo_, hi_ = q.minimum or 0, min(q.maximum or 30, 30)
            frame[q.id] = rng.integers(lo_, hi_ + 1, size=n)
        else:
            frame[q.id] = rng.choice([f"C{c:02d}" for c in range(1, 6)], size=n)
    items_frame = pd.DataFrame(x, columns=items).astype("Int64")
    responses = pd.concat([frame, items_frame], axis=1)
    return Sample(
        responses=responses,
        loadings=pd.DataFrame(lam, index=items, columns=names).loc[scored_items] if items else pd.DataFrame(),
        phi=pd.DataFrame(phi, index=names, columns=names),
        careless=pd.Series(kind, index=respondent, name="careless")[kind != ""],
    )


def _cross(lam: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Variance from correlated factors beyond the diagonal (zero for simple structure)."""
    full = np.einsum("if,fg,ig->i", lam, phi, lam)
    return full - (lam**2).sum(axis=1)


def _normal_quantiles(p: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    return norm.ppf(p)


# ----------------------------------------------------------------------------- workbooks
_CELL = re.compile(r'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*?)(?:/>|>(?:.*?)</c>)', re.S)


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell_xml(ref: str, attrs: str, value) -> str:
    attrs = re.sub(r'\s+t="[^"]*"', "", attrs).rstrip()
    if isinstance(value, int | float | np.integer | np.floating):
        return f'<c r="{ref}"{attrs}><v>{float(value):g}</v></c>'
    return f'<c r="{ref}"{attrs} t="inlineStr"><is><t xml:space="preserve">{_xml_text(str(value))}</t></is></c>'


def patch_cells(xlsx: bytes, part: str, values: dict) -> bytes:
    """Return a copy of the workbook ``xlsx`` with cells of one sheet part filled.

    ``values``: A1 address -> number or text (text is written as an inline string; None or
    NaN leaves the cell as it is). The cells must exist in the sheet XML (an empty, styled
    cell as openpyxl writes it). This is how :func:`simulate_command` fills thousands of
    workbooks from one template in a few milliseconds each, instead of re-building each
    with openpyxl.
    """
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    xml = src.read(part).decode("utf-8")
    todo = {ref: v for ref, v in values.items() if v is not None and not (isinstance(v, float) and np.isnan(v))}
    seen = set()

    def fill(m):
        ref = m.group(1)
        if ref not in todo:
            return m.group(0)
        seen.add(ref)
        return _cell_xml(ref, m.group(2), todo[ref])

    xml = _CELL.sub(fill, xml)
    if len(seen) != len(todo):
        raise KeyError(f"cells {sorted(set(todo) - seen)[:5]} are not in {part}")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = xml.encode("utf-8") if info.filename == part else src.read(info.filename)
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def simulate_command(spec, *, n, out, seed, grid=False, console=None) -> int:  # pragma: no cover - filled below
    raise NotImplementedError
