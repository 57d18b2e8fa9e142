"""The validation of a set of scales, as one nested result: every analysis a report needs.

``pm.validate(data, keys)`` runs, on any DataFrame with a psych-style key (no files, no
forms; the report itself is written by ``instrument.validation``):

1. **Sample**: careless responding (:func:`psychometrics.careless` on the raw answers of
   every row received); by default the straightliners and low-variability respondents
   (:data:`EXCLUDED_FLAGS`) are then left out of every analysis below (screen, then
   analyze); rows received, excluded and analyzed, complete rows, missing answers per item
   and per respondent, group sizes.
2. **Items**: distribution, floor and ceiling (reported; near-constant items flagged), and
   for every scale the item-rest correlation and alpha if deleted
   (:func:`psychometrics.alpha`).
3. **Reliability** per scale (and the floor/ceiling effect of its score, Terwee et al.
   2007): alpha (Feldt's interval, psych::alpha) and omega total
   (one-factor minres, psych::omega) with percentile bootstrap intervals
   (:func:`psychometrics.bootstrap_reliability`, seeded), and ordinal alpha and omega
   (polychoric correlations) when the items are ordinal.
4. **Factorability and dimensionality** of the items of the measurement model: KMO,
   Bartlett, eigenvalues, parallel analysis, Velicer's MAP.
5. **EFA**: minres + oblimin, as many factors as the model has (parallel analysis'
   suggestion reported beside), on polychoric correlations when the items are ordinal.
6. **CFA**: ML (FIML when answers are missing), and WLSMV for ordinal items when the
   engine provides it; standardized loadings, local misfit (residual correlations,
   modification indices), AVE, Fornell-Larcker, HTMT.
7. **Invariance** across each group column (:func:`psychometrics.invariance.report_entry`):
   configural, metric, scalar in order; a failing step releases its constraints one at a
   time by Holm-adjusted score tests (partial invariance), the sequence stops at a step
   that still fails; the released constraints are the non-invariant items. For ordinal
   items also by WLSMV (``invariance.<group>.ordinal``: Wu & Estabrook 2016 steps, scaled
   difference tests, :func:`psychometrics.ordinal_invariance.ordinal_summary`), the ML
   results labelled ``estimator: "ML"`` beside it.
8. **Flags**: items and respondents with stable codes, and scales not ready, each judged
   against a named threshold (:data:`THRESHOLDS`) with its published source.

An analysis that cannot run on the data (too few rows, a constant item, too small a
group...) is recorded in ``results["notes"]`` with its code and message, and the others go
on: a validation never stops half-way because one step does not apply.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from psychometrics._checks import as_items
from psychometrics.cfa import cfa
from psychometrics.contagion import contagion_summary, role_column
from psychometrics.correlation import bartlett, kmo
from psychometrics.errors import PsychometricsError
from psychometrics.factor import efa, map_test, parallel_analysis
from psychometrics.invariance import report_entry
from psychometrics.items import item_analysis
from psychometrics.keys import Keys, load_keys
from psychometrics.nesting import nesting
from psychometrics.ordinal_invariance import ordinal_summary
from psychometrics.reliability import alpha, bootstrap_reliability, omega, ordinal_reliability
from psychometrics.scoring import careless, reverse_key, score
from psychometrics.thresholds import (  # noqa: F401  (Threshold and THRESHOLDS: public here too)
    ALPHA_IF_DELETED_GAIN,
    ALPHA_MIN,
    AVE_MIN,
    BARTLETT_P_MAX,
    CATEGORY_MAX,
    CFI_MIN,
    CROSS_LOADING_GAP,
    CROSS_LOADING_MIN,
    FACTOR_R_MAX,
    FLOOR_CEILING_MAX,
    HTMT_MAX,
    INVARIANCE_P,
    INVARIANCE_ROWS_PER_ITEM,
    ITEM_REST_MIN,
    KMO_MIN,
    LOADING_MIN,
    MIN_CELL,
    MIN_GROUP_SIZE,
    MISSING_MAX,
    OMEGA_MIN,
    ORDINAL_MAX_CATEGORIES,
    OUTLIER_ROWS_PER_ITEM,
    RESIDUAL_MAX,
    RMSEA_MAX,
    SRMR_MAX,
    THRESHOLDS,
    TLI_MIN,
    Threshold,
)

__all__ = [
    "EXCLUDED_FLAGS",
    "ITEM_FLAGS",
    "RESPONDENT_FLAGS",
    "SCALE_FLAGS",
    "THRESHOLDS",
    "Threshold",
    "Validation",
    "validate",
]


def _cell_count(n) -> int | None:
    """A group's size as results.json gives it: None (suppressed) below :data:`MIN_CELL`."""
    return int(n) if n >= MIN_CELL.value else None


#: Item flag codes, in the order they are listed.
ITEM_FLAGS = (
    "low-item-rest-r", "raises-alpha-if-deleted", "low-loading", "cross-loading", "heywood",
    "non-invariant", "near-constant", "high-missing",
)
#: Respondent flag codes (psychometrics.careless).
RESPONDENT_FLAGS = ("straightlining", "low-irv", "multivariate-outlier", "too-few-answers")
#: Respondents flagged with ALL of these codes are left out of the analyses by default
#: (``exclude_careless=True``): a long string of identical answers that also hardly varies
#: over mixed-keyed items is not an answer to the items (Meade & Craig 2012; Curran 2016:
#: screen, then analyze, and ask two indices to agree before dropping anyone: on a short
#: form an attentive respondent can give half the items the same answer and still vary). Multivariate outliers and respondents with too few answers are only flagged
#: (an outlier may be a real, unusual respondent; missing answers are handled by each
#: analysis).
EXCLUDED_FLAGS = ("straightlining", "low-irv")
#: Reasons a scale is not ready.
SCALE_FLAGS = ("too-few-rows", "no-reliability", "low-alpha", "low-omega", "floor-ceiling", "cfa-fit", "low-ave",
               "high-htmt")
#: Largest WLSMV CFA run by validate, in respondents x item pairs (~1 GB at the bound; 25,000 x 40 items).
MAX_WLSMV_CELLS = 20_000_000
#: Fewest complete rows for a scale's reliability to be judged at all (a scale on 3 rows is not "ready").
MIN_SCALE_N = 30

FIT_CUTOFFS = {"cfi": CFI_MIN, "tli": TLI_MIN, "rmsea": RMSEA_MAX, "srmr": SRMR_MAX}

N_BOOT = 1000
N_ITER = 100
TOP_MISFIT = 10


@dataclass(frozen=True)
class Validation:
    """The result of :func:`validate`.

    Attributes
    ----------
    results : dict
        Everything, JSON-ready (numbers as floats, NaN as None), following the
        ``results.json`` contract of DESIGN.md: ``n``, ``scales.<name>`` (``alpha``,
        ``ci_low``, ``ci_high``, ``omega_total``, ``items.<item>`` with ``item_rest_r`` and
        ``alpha_if_deleted``...), ``items``, ``sample``, ``kmo``, ``bartlett``,
        ``dimensionality``, ``efa``, ``cfa`` (``fit``...), ``invariance.<group>``,
        ``flags``, ``thresholds``, ``notes``.
    flags : dict
        ``items``: list of ``{"item", "reason", ...}``; ``respondents``: list of
        ``{"respondent", "reason", ...}``; ``scales``: list of ``{"scale", "reason", ...}``
        (the scales not ready). The same lists as ``results["flags"]``.
    labels : dict
        Display labels of items and scales as given (text, or ``{"fr": ..., "en": ...}``).
    """

    results: dict
    flags: dict
    labels: dict = field(default_factory=dict)

    def summary(self) -> str:
        r = self.results
        sample = r.get("sample") or {}
        received = sample.get("n_received", r["n"])
        lines = [f"Validation of {len(r['scales'])} scale(s), {r['n_items']} items, n = {r['n']}"
                 + (f" ({received} received, {sample.get('n_excluded', 0)} careless "
                    "respondent(s) left out)" if received != r["n"] else "")]
        for name, s in r["scales"].items():
            lines.append(f"  {name:<24} alpha {_fmt(s.get('alpha'))}  omega {_fmt(s.get('omega_total'))}"
                         + ("" if s.get("ready", True)
                            else f"  NOT READY ({', '.join(s.get('not_ready') or [])})"))
        fit = (r.get("cfa") or {}).get("fit")
        if fit:
            lines.append(f"  CFA: CFI {_fmt(fit.get('cfi'))} TLI {_fmt(fit.get('tli'))} "
                         f"RMSEA {_fmt(fit.get('rmsea'))} SRMR {_fmt(fit.get('srmr'))}")
        lines.append(f"  item flags: {len(self.flags['items'])}, respondent flags: "
                     f"{len(self.flags['respondents'])}, scales not ready: "
                     f"{len({f['scale'] for f in self.flags['scales']})}")
        return "\n".join(lines)


def _fmt(v) -> str:
    return "NA" if v is None else f"{v:.3f}"


# --------------------------------------------------------------------------- helpers


def _num(v):
    """A JSON-ready number: float (or int), None for NaN/inf."""
    if v is None:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return f if math.isfinite(f) else None


def _clean(obj):
    """Recursively turn numpy/pandas values into JSON-ready Python objects."""
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, pd.Series):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return {str(i): {str(c): _clean(v) for c, v in row.items()} for i, row in obj.iterrows()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [_clean(v) for v in obj]
    if isinstance(obj, str) or obj is None:
        return obj
    if isinstance(obj, bool | np.bool_ | int | float | np.integer | np.floating):
        return _num(obj)
    return str(obj)


class _Notes:
    """Collect the analyses that could not run, and run the others."""

    def __init__(self):
        self.items: list[dict] = []

    def attempt(self, step: str, fn: Callable, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PsychometricsError as e:
            self.items.append({"step": step, "code": e.code, "message": str(e)})
            return None
        except np.linalg.LinAlgError as e:
            self.items.append({"step": step, "code": "numerical-error", "message": str(e)})
            return None

    def add(self, step: str, code: str, message: str):
        self.items.append({"step": step, "code": code, "message": message})


def _as_keys(keys, columns) -> Keys:
    """The keys checked against the data's columns: a :class:`Keys` object is checked as
    it is, a path or mapping is read once (:func:`psychometrics.load_keys`)."""
    if isinstance(keys, Keys):
        return keys.check_columns(columns)
    if isinstance(keys, Mapping) and "scales" not in keys:
        keys = {"scales": dict(keys)}
    return load_keys(keys, columns=columns)


def _disjoint(scales: dict[str, list[str]]) -> dict[str, list[str]]:
    """The measurement model: every scale when no item is in two scales; otherwise the
    smallest scales first, each kept when it shares no item with those already kept."""
    seen: set[str] = set()
    if sum(len(v) for v in scales.values()) == len({i for v in scales.values() for i in v}):
        return {k: list(v) for k, v in scales.items()}
    out = {}
    for name in sorted(scales, key=lambda s: (len(scales[s]), list(scales).index(s))):
        items = scales[name]
        if not seen.intersection(items):
            out[name] = list(items)
            seen.update(items)
    return {k: out[k] for k in scales if k in out}


def _match_factors(loadings: pd.DataFrame, model: dict[str, list[str]]) -> dict[str, str]:
    """EFA factor -> the model scale whose items load most on it (optimal assignment)."""
    from scipy.optimize import linear_sum_assignment

    factors = list(loadings.columns)
    scales = list(model)
    gain = np.array([[np.abs(loadings.loc[[i for i in model[s] if i in loadings.index], f]).sum()
                      for s in scales] for f in factors])
    rows, cols = linear_sum_assignment(-gain)
    return {factors[r]: scales[c] for r, c in zip(rows, cols, strict=True)}


# --------------------------------------------------------------------------- validate


def validate(
    data: pd.DataFrame,
    keys,
    *,
    groups: Sequence[str] = (),
    clusters: Sequence[str] | None = None,
    ties: pd.DataFrame | None = None,
    labels: Mapping | None = None,
    model: Mapping[str, Sequence[str]] | None = None,
    n_boot: int = N_BOOT,
    n_iter: int = N_ITER,
    seed: int | None = 1,
    exclude_careless: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Validation:
    """Validate the scales of ``keys`` on ``data``: every analysis of a validation report.

    Parameters
    ----------
    data : DataFrame
        One column per item (raw answers, reverse-keyed items NOT recoded, missing as NA),
        plus the group columns and, optionally, the respondent id column (``keys.id``, else a
        column named ``respondent``, else the index).
    keys : Keys, keys mapping or path
        The psych-style key (``{"scales": {...}, "min": 1, "max": 5}``, see
        :func:`psychometrics.load_keys`). Without ``min``/``max`` the response range is the
        smallest and largest answer observed.
    groups : list of str
        Columns to test measurement invariance across (e.g. ``["lang"]``).
    clusters : list of str, optional
        Nesting columns, innermost first (``["org", "consortium"]``; default: the keys'
        ``cluster``): ICCs, agreement, design effect and the two-level CFA go into
        ``results["nesting"]``, ``results["clusters"]`` and ``results["cfa_twolevel"]``
        (:func:`psychometrics.nesting.nesting`).
    ties : DataFrame, optional
        Collaboration ties between organizations (columns ``from``, ``to``: codes of the
        innermost cluster). With it, or when the data have a role column (the keys'
        ``role``, else ``role``), ``results["contagion"]`` holds the role contrasts, the
        lnam rho of each scale and what the design can and cannot conclude
        (:func:`psychometrics.contagion.contagion_summary`).
    labels : mapping, optional
        Display labels of items and scales (a text, or ``{"fr": ..., "en": ...}``); kept
        for the report.
    model : mapping factor -> items, optional
        The measurement model for the EFA, CFA and invariance (scale names of ``keys``
        or new factors, items without sign). Default: the scales of ``keys`` when no
        item is in two of them; otherwise the smallest scales that share no item.
    n_boot : int
        Bootstrap resamples for the intervals of alpha and omega.
    n_iter : int
        Simulated data sets for parallel analysis.
    seed : int or None
        Seed of the bootstrap and of parallel analysis (same seed, same numbers).
    exclude_careless : bool
        Screen, then analyze (Meade & Craig 2012; Curran 2016): respondents flagged
        both ``straightlining`` and ``low-irv`` (:data:`EXCLUDED_FLAGS`) by
        :func:`psychometrics.careless` on every row received are left out of every
        analysis (items, reliability, EFA, CFA, validity, invariance). ``results["n"]`` is
        then the number analyzed; ``results["sample"]`` gives ``n_received``,
        ``n_flagged``, ``n_excluded`` and the ``excluded`` respondents, and
        ``flags["respondents"]`` still lists every flagged respondent (``excluded``: True
        or False). Multivariate outliers are flagged, never excluded. ``False`` keeps
        everyone (the sensitivity analysis: do the conclusions change?).
    progress : callable, optional
        Called with the name of each step as it starts (for a progress display).

    Returns
    -------
    Validation
        ``.results`` (the nested dict written as ``results.json``), ``.flags``.

    Examples
    --------
    >>> v = pm.validate(df, "consortium_dev.json", groups=["lang"], n_boot=200)  # doctest: +SKIP
    >>> v.results["scales"]["TRU"]["alpha"], v.flags["items"]                    # doctest: +SKIP

    The same analyses in R: ``psych::alpha``, ``psych::omega(nfactors = 1)``,
    ``psych::KMO``, ``psych::cortest.bartlett``, ``psych::fa.parallel``, ``psych::vss``,
    ``psych::fa(fm = "minres", rotate = "oblimin", cor = "poly")``, ``lavaan::cfa``,
    ``semTools::AVE``, ``semTools::htmt``, ``lavaan::cfa(group.equal = ...)`` with
    ``lavTestScore``, ``careless::longstring``.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a scikit-learn dependency, normally present
        import contextlib

        limit = contextlib.nullcontext()
    else:  # small matrices: one BLAS thread is several times faster, more on a busy machine
        limit = threadpool_limits(1, user_api="blas")
    # degenerate data (a constant item, a 3-row scale) are judged in the results (notes, flags):
    # NumPy's RuntimeWarnings about them would only leak to the terminal
    with limit, np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _validate(data, keys, groups=groups, clusters=clusters, ties=ties, labels=labels, model=model, n_boot=n_boot,
                         n_iter=n_iter, seed=seed, exclude_careless=exclude_careless,
                         progress=progress)


@dataclass(frozen=True)
class _Input:
    """The checked input of :func:`validate`: the keys, the data and its item answers."""

    keys: Keys
    data: pd.DataFrame
    raw: pd.DataFrame  # the item answers as floats, in the data's column order
    groups: list
    clusters: list
    low: float
    high: float
    id_col: str | None
    ids: pd.Series  # the respondent of each row (the id column, else the index)

    @property
    def items(self) -> list[str]:
        return list(self.raw.columns)

    @property
    def keyed(self) -> dict[str, list[str]]:
        return {s: list(v) for s, v in self.keys.scales.items()}

    @property
    def scales(self) -> dict[str, list[str]]:
        return {s: [i.removeprefix("-") for i in v] for s, v in self.keys.scales.items()}

    @property
    def reverse(self) -> set[str]:
        return {i.removeprefix("-") for v in self.keys.scales.values() for i in v if i.startswith("-")}


def _validate(data, keys, *, groups, clusters, ties, labels, model, n_boot, n_iter, seed, exclude_careless,
              progress) -> Validation:
    step = progress or (lambda _name: None)
    notes = _Notes()
    inp = _check_input(data, keys, groups, clusters, n_boot, n_iter)
    step("sample")
    inp, care, outliers_ok, excluded = _screen(inp, exclude_careless, notes)
    results = _header(inp, n_boot, n_iter, seed, exclude_careless)
    results["sample"] = _sample(inp.raw, inp.data, inp.groups, care, inp.keyed, inp.low, inp.high)
    results["sample"].update(
        n_received=len(inp.raw) + len(excluded), n_excluded=len(excluded), n_analyzed=len(inp.raw),
        excluded=excluded, excluded_for=list(EXCLUDED_FLAGS) if exclude_careless else [],
        outliers_checked=outliers_ok)
    step("items")
    results["items"] = _items(inp, notes)
    step("reliability")
    results["scales"] = _reliabilities(inp, results["ordinal"], n_boot, seed, notes)
    model = _measurement_model(model, inp)
    scored = reverse_key(inp.raw[_model_items(model)], [("-" + i) if i in inp.reverse else i
                                                       for i in _model_items(model)], inp.low, inp.high)
    corr = "polychoric" if results["ordinal"] else "pearson"
    missing = "pairwise" if scored.isna().any().any() else "listwise"
    results["model"] = model
    results["n_complete"] = int(scored.notna().all(axis=1).sum())
    step("factorability")
    results.update(_factorability(scored, notes))
    step("dimensionality")
    results["dimensionality"], pa = _dimensionality(scored, corr, missing, n_iter, seed, notes)
    step("efa")
    results["efa"] = _efa(efa, scored, model, pa, corr, missing, notes)
    step("cfa")
    results["cfa"] = _cfa(scored, model, results["ordinal"], missing == "pairwise", notes, step)
    results["invariance"] = _invariances(scored, inp, model, results["ordinal"], notes, step)
    if inp.clusters:
        step("nesting")
        results.update(_nesting(inp, model, seed, notes))
    if ties is not None or role_column(inp.data, inp.keys.role) in inp.data.columns:
        step("contagion")
        found = notes.attempt("contagion", contagion_summary, inp.data, inp.keys, role=inp.keys.role,
                              cluster=inp.clusters, ties=ties)
        if found is not None:
            results["contagion"] = found
    step("flags")
    _flags(results, model, care, inp.ids, outliers_ok, excluded)
    results["notes"] = notes.items
    results = _clean(results)
    return Validation(results=results, flags=results["flags"], labels=dict(labels or {}))


# --------------------------------------------------------------------------- steps


def _check_input(data, keys, groups, clusters, n_boot, n_iter) -> _Input:
    """Every check of validate's input, in one place (the command line checks none again):
    a DataFrame, the keys against its columns, the group and cluster columns, the
    ``n_boot``/``n_iter`` counts, numeric item answers within the response range."""
    if not isinstance(data, pd.DataFrame):
        raise PsychometricsError(
            "not-a-dataframe",
            f"The 'data' parameter of validate must be a pandas DataFrame; got {type(data).__name__}.",
        )
    k = _as_keys(keys, list(map(str, data.columns)))
    groups = list(dict.fromkeys([groups] if isinstance(groups, str) else groups))
    clusters = list(k.cluster if clusters is None else [clusters] if isinstance(clusters, str) else clusters)
    for name, columns in (("groups", groups), ("clusters", clusters)):
        for g in columns:
            if g not in data.columns:
                raise PsychometricsError(
                    "missing-column",
                    f"The {name!r} parameter of validate names column {g!r}, which is not in the "
                    f"data (columns: {', '.join(map(str, data.columns[:12]))}"
                    f"{'...' if data.shape[1] > 12 else ''}).",
                )
    for name, v in (("n_boot", n_boot), ("n_iter", n_iter)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 2:
            raise PsychometricsError(
                "invalid-value", f"The {name!r} parameter of validate must be an integer >= 2; got {v!r}.")
    order = {c: j for j, c in enumerate(map(str, data.columns))}
    items = sorted(k.items, key=lambda i: order[i])
    raw = as_items(data[items], name="data", func="validate", min_rows=3, min_items=2,
                   check_constant=False)
    low, high = _response_range(raw, k)
    id_col = k.id or ("respondent" if "respondent" in data.columns else None)
    ids = (data[id_col].astype(str) if id_col and id_col in data.columns
           else pd.Series([str(i) for i in data.index], index=data.index))
    ids.index = raw.index
    return _Input(keys=k, data=data, raw=raw, groups=groups, clusters=clusters, low=low, high=high,
                  id_col=id_col, ids=ids)


def _response_range(raw: pd.DataFrame, k: Keys) -> tuple[float, float]:
    """The keys' min and max (else the smallest and largest answer); every answer within."""
    values = raw.to_numpy()
    low = float(k.min) if k.min is not None else float(np.nanmin(values))
    high = float(k.max) if k.max is not None else float(np.nanmax(values))
    with np.errstate(invalid="ignore"):
        bad = (values < low) | (values > high)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        i = int(np.flatnonzero(bad[:, j])[0])
        raise PsychometricsError(
            "out-of-range",
            f"The 'data' parameter of validate must hold answers between {low:g} and {high:g} "
            f"(the keys' min and max); column {raw.columns[j]!r} holds {values[i, j]:g} at row "
            f"{raw.index[i]!r} ({int(bad.sum())} value(s) out of range in all).",
        )
    return low, high


def _screen(inp: _Input, exclude_careless: bool, notes: _Notes):
    """Careless responding judged on every row received; the respondents flagged with all
    of :data:`EXCLUDED_FLAGS` are then left out of every analysis (screen, then analyze).
    Returns ``(input kept, careless result, outliers checked, excluded respondents)``."""
    raw, items = inp.raw, inp.items
    n_received = len(raw)
    care = notes.attempt("careless", careless, raw, items, low=inp.low, high=inp.high)
    outliers_ok = n_received >= OUTLIER_ROWS_PER_ITEM.value * len(items)
    if care is not None and not outliers_ok:
        notes.add("careless", "outliers-not-checked",
                  f"Only {n_received} respondents for {len(items)} items (fewer than "
                  f"{OUTLIER_ROWS_PER_ITEM.value:g} per item): the covariance matrix is too "
                  "unstable for Mahalanobis distances, so no respondent is flagged "
                  "multivariate-outlier.")
    if exclude_careless and care is not None:
        drop = care.table["flags"].str.split(";").map(
            lambda codes: set(EXCLUDED_FLAGS) <= set(codes)).to_numpy(dtype=bool)
    else:
        drop = np.zeros(n_received, dtype=bool)
    if n_received - int(drop.sum()) < 3:
        raise PsychometricsError(
            "too-few-rows",
            f"The 'data' parameter of validate must keep at least 3 respondents after leaving "
            f"out the careless ones ({', '.join(EXCLUDED_FLAGS)}); {n_received} received, "
            f"{int(drop.sum())} flagged. Pass exclude_careless=False to analyze everyone.",
        )
    excluded = [str(x) for x in inp.ids[drop]]
    if drop.any():
        inp = replace(inp, raw=raw.loc[~drop], data=inp.data.loc[~drop])
    return inp, care, outliers_ok, excluded


def _header(inp: _Input, n_boot, n_iter, seed, exclude_careless) -> dict:
    """The first entries of results.json: sizes, keys, range, whether the items are
    ordinal (whole numbers, at most :data:`ORDINAL_MAX_CATEGORIES` categories), settings."""
    values = inp.raw.to_numpy()
    answered = ~np.isnan(values)
    categories = [np.unique(values[answered[:, j], j]) for j in range(values.shape[1])]
    n_cat = max(len(c) for c in categories)
    ordinal = bool(n_cat <= ORDINAL_MAX_CATEGORIES.value
                   and all(np.all(c == np.round(c)) for c in categories))
    return {
        "schema": "intangibles-validation/1",
        "n": len(inp.raw),
        "n_items": len(inp.items),
        "item_order": inp.items,
        "keys": {"scales": inp.keyed, "min": inp.low, "max": inp.high, "id": inp.id_col},
        "response_range": {"low": inp.low, "high": inp.high},
        "ordinal": ordinal,
        "max_categories": n_cat,
        "settings": {"n_boot": int(n_boot), "n_iter": int(n_iter), "seed": seed, "ci": 0.95,
                     "bootstrap": "percentile", "exclude_careless": bool(exclude_careless)},
        "thresholds": {t.name: {"value": t.value, "rule": t.rule, "source": t.source}
                       for t in THRESHOLDS.values()},
    }


def _items(inp: _Input, notes: _Notes) -> dict:
    """Per item: its scales, whether reverse keyed, its distribution and modal answer."""
    ia = notes.attempt("items", item_analysis, inp.raw, {}, inp.low, inp.high)
    scales, reverse = inp.scales, inp.reverse
    out = {}
    for i in inp.items:
        entry = {"scales": [s for s, v in scales.items() if i in v], "reverse": i in reverse}
        if ia is not None:
            row = ia.table.loc[i]
            for c in ("n", "missing_pct", "mean", "sd", "skew", "kurtosis", "floor_pct", "ceiling_pct"):
                entry[c] = _num(row[c])
            entry["frequencies"] = {str(v): int(n) for v, n in ia.frequencies.loc[i].items()}
            total = sum(entry["frequencies"].values())
            if total:
                value, count = max(entry["frequencies"].items(), key=lambda kv: kv[1])
                entry["modal_value"] = _num(float(value))
                entry["modal_pct"] = 100.0 * count / total
        out[i] = entry
    return out


def _reliabilities(inp: _Input, ordinal: bool, n_boot, seed, notes: _Notes) -> dict:
    """Every scale's reliability (a scale with the same items as one before, e.g. a
    construct measured by one facet, gets a copy of its numbers) and score floor/ceiling."""
    out: dict = {}
    done: dict[tuple, str] = {}
    for s, keyed_items in inp.keyed.items():
        same = done.get(tuple(keyed_items))
        if same is not None:
            out[s] = copy.deepcopy(out[same])
            continue
        out[s] = _reliability(inp.raw, keyed_items, inp.low, inp.high, ordinal, n_boot, seed, notes, s)
        done[tuple(keyed_items)] = s
    _scale_floor_ceiling(out, inp.raw, inp.keyed, inp.low, inp.high, notes)
    return out


def _measurement_model(model, inp: _Input) -> dict[str, list[str]]:
    """The model of the EFA, CFA and invariance: the caller's (its items must be items of
    the keys), else the scales that share no item (:func:`_disjoint`)."""
    if model is None:
        return _disjoint(inp.scales)
    model = {str(f): [str(i).removeprefix("-") for i in v] for f, v in model.items()}
    for f, v in model.items():
        missing = [i for i in v if i not in inp.items]
        if missing:
            raise PsychometricsError(
                "missing-column",
                f"The 'model' parameter of validate: factor {f!r} names item "
                f"{missing[0]!r}, which is not an item of the keys.",
            )
    return model


def _model_items(model: dict) -> list[str]:
    return list(dict.fromkeys(i for v in model.values() for i in v))


def _factorability(scored: pd.DataFrame, notes: _Notes) -> dict:
    """KMO and Bartlett's test on the reverse-keyed items of the model."""
    km = notes.attempt("kmo", kmo, scored)
    bt = notes.attempt("bartlett", bartlett, scored)
    return {
        "kmo": None if km is None else {
            "overall": _num(km.overall), "items": _clean(km.items), "n": km.n,
            "ok": KMO_MIN.ok(km.overall)},
        "bartlett": None if bt is None else {
            "chi2": _num(bt.chi2), "df": bt.df, "p": _num(bt.p), "n": bt.n,
            "ok": BARTLETT_P_MAX.ok(bt.p)},
    }


def _dimensionality(scored, corr, missing, n_iter, seed, notes: _Notes):
    """``(entry, parallel analysis)``: eigenvalues, parallel analysis, Velicer's MAP."""
    pa = notes.attempt("parallel", parallel_analysis, scored, n_iter=int(n_iter), seed=seed,
                       corr=corr, missing=missing)
    mp = notes.attempt("map", map_test, scored, corr=corr, missing=missing)
    entry = {
        "corr": corr,
        "missing": missing,
        "eigenvalues": None if pa is None else _clean(pa.eigenvalues.to_numpy()),
        "parallel": None if pa is None else {
            "n_factors": pa.n_factors, "sim_mean": _clean(pa.table["sim_mean"].to_numpy()),
            "threshold": _clean(pa.table["threshold"].to_numpy()), "quantile": pa.quantile,
            "n_iter": pa.n_iter, "method": pa.method, "n": pa.n},
        "map": None if mp is None else {
            "values": _clean(mp.values.to_numpy()), "n_factors": mp.n_factors, "n": mp.n},
    }
    return entry, pa


def _invariances(scored, inp: _Input, model, ordinal: bool, notes: _Notes, step) -> dict:
    """Invariance across each group column (ML; for ordinal items WLSMV beside it)."""
    out = {}
    for g in inp.groups:
        step(f"invariance:{g}")
        frame = scored.copy()
        frame[g] = inp.data[g].to_numpy()
        out[g] = _invariance(frame, model, g, notes)
        if ordinal:  # ordinal items: WLSMV invariance (Wu & Estabrook 2016) beside ML
            out[g]["estimator"] = "ML"
            out[g]["ordinal"] = notes.attempt(
                f"invariance:{g}:ordinal", ordinal_summary, frame, model, g,
                min_group_size=int(MIN_GROUP_SIZE.value),
                rows_per_item=int(INVARIANCE_ROWS_PER_ITEM.value))
    return out


def _flags(results: dict, model, care, ids, outliers_ok: bool, excluded: list) -> None:
    """``results["flags"]`` (items, respondents, scales), the careless counts of the
    sample, and each scale's ``ready`` / ``not_ready``."""
    flags = {
        "items": _item_flags(results, model),
        "respondents": _respondent_flags(care, ids, outliers_ok, set(excluded)),
        "scales": _scale_flags(results, model),
    }
    flagged = len({f["respondent"] for f in flags["respondents"]})
    if "careless" in results["sample"]:
        results["sample"]["careless"]["counts"] = {
            code: sum(f["reason"] == code for f in flags["respondents"]) for code in RESPONDENT_FLAGS}
        results["sample"]["careless"]["n_flagged"] = flagged
    results["sample"]["n_flagged"] = flagged
    not_ready: dict[str, list] = {}
    for f in flags["scales"]:
        not_ready.setdefault(f["scale"], []).append(f["reason"])
    for s, entry in results["scales"].items():
        entry["not_ready"] = list(dict.fromkeys(not_ready.get(s, [])))
        entry["ready"] = not entry["not_ready"]
    results["flags"] = flags


def _nesting(inp: _Input, model, seed, notes) -> dict:
    data, k = inp.data, inp.keys
    out = notes.attempt("nesting", nesting, data, k, inp.clusters, low=inp.low, high=inp.high, model=model,
                        id=inp.id_col if inp.id_col in data.columns else None, role=k.role,
                        roles=k.roles, seed=seed)
    return out or {}


def _sample(raw, data, groups, care, keyed, low, high) -> dict:
    answered = raw.notna()
    n, k = raw.shape
    per_resp = answered.sum(axis=1)
    out = {
        "n": n,
        "n_complete": int(answered.all(axis=1).sum()),
        "missing_pct": float(100 * (1 - answered.to_numpy().mean())),
        "missing_items": {c: float(100 * (1 - answered[c].mean())) for c in raw.columns},
        "answered_per_respondent": {str(m): int(c) for m, c in
                                    per_resp.value_counts().sort_index().items()},
        "missing_respondents": {
            "none": int((per_resp == k).sum()),
            "under_10pct": int(((per_resp < k) & (per_resp >= 0.9 * k)).sum()),
            "10_to_50pct": int(((per_resp < 0.9 * k) & (per_resp >= 0.5 * k)).sum()),
            "over_50pct": int((per_resp < 0.5 * k).sum()),
        },
        "groups": {},
    }
    if care is not None:
        table = care.table
        out["careless"] = {
            "longstring_cut": care.longstring_cut, "irv_cut": care.irv_cut,
            "p_cut": care.p_cut, "min_answered": care.min_answered,
            "longstring_max": int(table["longstring"].max()) if len(table) else 0,
        }
    scores = None
    try:
        scores = score(raw, keyed, low, high, counts=False)
    except PsychometricsError:
        scores = None
    for g in groups:
        col = data[g]
        levels = {}
        for level in pd.unique(col.dropna()):
            rows = (col == level).to_numpy()
            if rows.sum() < MIN_CELL.value:  # small cell: no count, no statistic
                levels[str(level)] = {"n": None, "suppressed": True}
                continue
            entry = {"n": int(rows.sum()),
                     "missing_pct": float(100 * (1 - answered.to_numpy()[rows].mean()))}
            if scores is not None:
                entry["means"] = {s: _num(scores.loc[rows, s].mean()) for s in keyed}
            levels[str(level)] = entry
        if col.isna().any():
            levels["NA"] = {"n": int(col.isna().sum())}  # unknown group: not a cell of people
        out["groups"][g] = levels
    return out


def _scale_floor_ceiling(entries: dict, raw, keyed, low, high, notes) -> None:
    """% of the respondents with a scale score at the lowest / highest possible value
    (Terwee et al. 2007), the score being the mean of the answered items (pm.score)."""
    try:
        scores = score(raw, keyed, low, high, counts=False)
    except PsychometricsError as e:
        notes.add("floor-ceiling", e.code, str(e))
        return
    for s, entry in entries.items():
        x = scores[s].to_numpy(dtype=float)
        x = x[~np.isnan(x)]
        entry["n_scored"] = len(x)
        if len(x):
            entry["floor_pct"] = 100.0 * float(np.isclose(x, low, rtol=0, atol=1e-9).mean())
            entry["ceiling_pct"] = 100.0 * float(np.isclose(x, high, rtol=0, atol=1e-9).mean())


def _reliability(raw, keyed_items, low, high, ordinal, n_boot, seed, notes, name) -> dict:

    cols = [i.removeprefix("-") for i in keyed_items]
    x = reverse_key(raw[cols], list(keyed_items), low, high)[cols]
    entry: dict = {"items": {i: {"reverse": k.startswith("-")} for i, k in zip(cols, keyed_items, strict=True)},
                   "n_items": len(cols)}
    if len(cols) < 2:
        notes.add(f"reliability:{name}", "too-few-items",
                  f"Scale {name!r} has {len(cols)} item; reliability needs at least 2.")
        return entry
    a = notes.attempt(f"alpha:{name}", alpha, x)
    if a is not None:
        entry.update(n=a.n, alpha=a.alpha, std_alpha=a.std_alpha, g6=a.g6,
                     average_r=a.average_r, feldt_low=a.ci_low, feldt_high=a.ci_high)
        for i in cols:
            entry["items"][i].update(
                item_rest_r=_num(a.items.loc[i, "item_rest_r"]),
                alpha_if_deleted=_num(a.items.loc[i, "alpha_if_deleted"]),
                item_total_r=_num(a.items.loc[i, "item_total_r"]),
            )
    o = notes.attempt(f"omega:{name}", omega, x)
    if o is not None:
        entry.update(omega_total=o.omega_total, omega_cfa=o.omega_cfa)
    if a is not None and o is not None:
        b = notes.attempt(f"bootstrap:{name}", bootstrap_reliability, x, n_boot=int(n_boot),
                          seed=seed, statistics=("alpha", "omega"), bca=False)
        if b is not None:
            t = b.table
            entry.update(ci_low=t.loc[("scale", "alpha"), "ci_low"],
                         ci_high=t.loc[("scale", "alpha"), "ci_high"],
                         omega_ci_low=t.loc[("scale", "omega"), "ci_low"],
                         omega_ci_high=t.loc[("scale", "omega"), "ci_high"],
                         alpha_se=t.loc[("scale", "alpha"), "se"],
                         omega_se=t.loc[("scale", "omega"), "se"])
    if ordinal:
        r = notes.attempt(f"ordinal:{name}", ordinal_reliability, x)
        if r is not None:
            entry.update(ordinal_alpha=r.alpha, ordinal_omega=r.omega_total)
    return entry


def _efa(efa, scored, model, pa, corr, missing, notes) -> dict | None:
    def _dof(p: int, k: int) -> int:  # psych's degrees of freedom of a k-factor model
        return ((p - k) ** 2 - (p + k)) // 2

    p = scored.shape[1]
    wanted = len(model) if len(model) >= 1 else (pa.n_factors if pa is not None else 1)
    most = max((j for j in range(1, p) if _dof(p, j) >= 0), default=0)
    n_factors = min(wanted, most)
    if n_factors < 1:
        notes.add("efa", "too-few-items", f"An EFA of {p} items cannot have a factor with "
                  "non-negative degrees of freedom.")
        return None
    if n_factors < wanted:
        notes.add("efa", "too-many-factors",
                  f"The model has {wanted} factors but {p} items allow at most {most}; the EFA "
                  f"extracts {most}.")
    fit = notes.attempt("efa", efa, scored, n_factors, method="minres", rotation="oblimin",
                        corr=corr, missing=missing)
    if fit is None:
        return None
    match = _match_factors(fit.loadings, model) if len(model) == n_factors else {}
    lo = fit.loadings
    absl = lo.abs().to_numpy()
    srt = np.sort(absl, axis=1)[:, ::-1]
    primary = [lo.columns[j] for j in absl.argmax(axis=1)]
    return {
        "n_factors": n_factors,
        "n_factors_source": "model" if n_factors == len(model) else "limited by the items",
        "parallel_suggests": None if pa is None else pa.n_factors,
        "method": fit.method, "rotation": fit.rotation, "corr": fit.corr, "missing": fit.missing,
        "n": fit.n, "converged": fit.converged, "rms": fit.rms,
        "factors": list(lo.columns),
        "factor_scales": match,
        "loadings": _clean(lo),
        "primary": {i: {"factor": f, "loading": _num(lo.loc[i, f]),
                        "second": _num(srt[j, 1]) if lo.shape[1] > 1 else None}
                    for j, (i, f) in enumerate(zip(lo.index, primary, strict=True))},
        "communalities": _clean(fit.communalities),
        "phi": _clean(fit.phi),
        "variance": _clean(fit.variance),
        "heywood": list(fit.heywood),
        "warnings": list(fit.warnings),
    }


def _cfa_entry(fit, model) -> dict:
    lo = fit.loadings
    own = {}
    for f, its in model.items():
        for i in its:
            own.setdefault(i, {})[f] = _num(lo.loc[i, f]) if (i in lo.index and f in lo.columns) else None
    resid = fit.residuals
    top_resid = []
    if resid is not None and not resid.empty:
        r = resid.to_numpy()
        iu, ju = np.triu_indices(r.shape[0], 1)
        vals = r[iu, ju]
        order = np.argsort(-np.abs(vals), kind="stable")[:TOP_MISFIT]
        top_resid = [{"item1": resid.index[iu[o]], "item2": resid.columns[ju[o]],
                      "residual": _num(vals[o])} for o in order]
    mi = fit.modindices
    top_mi = [] if mi is None or mi.empty else [
        {"lhs": row["lhs"], "op": row["op"], "rhs": row["rhs"], "mi": _num(row["mi"]),
         "epc": _num(row["epc"]), "sepc_all": _num(row["sepc_all"])}
        for _, row in mi.dropna(subset=["mi"]).head(TOP_MISFIT).iterrows()]
    fitd = {key: _num(v) for key, v in fit.fit.items()}
    return {
        "estimator": fit.estimator, "missing": fit.missing, "n": fit.n,
        "converged": fit.converged,
        "fit": fitd,
        "meets": {key: t.ok(fitd.get(key)) if fitd.get(key) is not None else None
                  for key, t in FIT_CUTOFFS.items()},
        "loadings": own,
        "factor_correlations": _clean(fit.factor_correlations),
        "r_squared": _clean(fit.r_squared),
        "ave": _clean(fit.ave),
        "reliability": _clean(fit.reliability),
        "fornell_larcker": _clean(fit.fornell_larcker),
        "htmt": _clean(fit.htmt),
        "residuals": top_resid,
        "modindices": top_mi,
        "warnings": [{"code": w.code, "message": w.message, "variable": w.variable}
                     for w in fit.warnings],
    }


def _cfa(scored, model, ordinal, has_missing, notes, step) -> dict | None:
    if any(len(v) < 2 for v in model.values()) or (len(model) == 1 and len(next(iter(model.values()))) < 3):
        notes.add("cfa", "not-identified",
                  "The CFA needs at least 3 items for a lone factor and 2 per factor otherwise.")
        return None
    missing = "fiml" if has_missing else "listwise"
    ml = notes.attempt("cfa", cfa, scored, model, estimator="ML", missing=missing)
    if ml is None:
        return None
    out = _cfa_entry(ml, model)
    p = sum(len(v) for v in model.values())
    cells = len(scored) * p * (p - 1) // 2
    if ordinal and cells > MAX_WLSMV_CELLS:  # its weight matrix holds every respondent's moment contributions
        out["wlsmv"] = {"skipped": "too-large", "message": f"WLSMV needs one row of {p * (p - 1) // 2:,} moment "
                        f"contributions per respondent ({len(scored):,} x {p * (p - 1) // 2:,} > {MAX_WLSMV_CELLS:,}, "
                        "several GB); the ML fit above is kept (with this many respondents it differs little)."}
    elif ordinal:
        step("cfa:wlsmv")
        try:
            w = cfa(scored, model, estimator="WLSMV")
        except PsychometricsError as e:
            out["wlsmv"] = {"skipped": e.code, "message": str(e)}
        else:
            out["wlsmv"] = _cfa_entry(w, model)
    return out


def _invariance(frame: pd.DataFrame, model: dict, g: str, notes: _Notes) -> dict:
    """Invariance across ``g``: one call to :func:`psychometrics.invariance.report_entry`
    (the step sequence, its thresholds below), its notes added to the report's."""
    entry, found = report_entry(
        frame, model, g, min_group_size=int(MIN_GROUP_SIZE.value),
        rows_per_item=INVARIANCE_ROWS_PER_ITEM.value, alpha=INVARIANCE_P.value,
        min_cell=int(MIN_CELL.value), top=TOP_MISFIT)
    for note in found:
        notes.add(note["step"], note["code"], note["message"])
    return _clean(entry)


# --------------------------------------------------------------------------- flags


def _item_flags(results: dict, model: dict) -> list[dict]:
    flags: dict[tuple[str, str], dict] = {}

    def add(item, reason, value, threshold, where):
        key = (item, reason)
        if key in flags:
            if where not in flags[key]["where"]:
                flags[key]["where"].append(where)
            return
        flags[key] = {"item": item, "reason": reason, "value": _num(value),
                      "threshold": threshold, "where": [where]}

    for s, entry in results["scales"].items():
        a = entry.get("alpha")
        for i, it in entry["items"].items():
            r = it.get("item_rest_r")
            if r is not None and not ITEM_REST_MIN.ok(r):
                add(i, "low-item-rest-r", r, ITEM_REST_MIN.value, s)
            d = it.get("alpha_if_deleted")
            if a is not None and d is not None and d - a > ALPHA_IF_DELETED_GAIN.value:
                add(i, "raises-alpha-if-deleted", d, ALPHA_IF_DELETED_GAIN.value, s)
    efa = results.get("efa")
    if efa:
        for i, pr in efa["primary"].items():
            main, second = abs(pr["loading"] or 0), pr["second"]
            if not LOADING_MIN.ok(main):
                add(i, "low-loading", pr["loading"], LOADING_MIN.value, "efa")
            if second is not None and second >= CROSS_LOADING_MIN.value and main - second < CROSS_LOADING_GAP.value:
                add(i, "cross-loading", second, CROSS_LOADING_MIN.value, "efa")
        for i in efa["heywood"]:
            add(i, "heywood", None, None, "efa")
    cfa = results.get("cfa")
    if cfa:
        for i, per in cfa["loadings"].items():
            for f, v in per.items():
                if v is not None and not LOADING_MIN.ok(abs(v)):
                    add(i, "low-loading", v, LOADING_MIN.value, f"cfa:{f}")
        items = {i for v in model.values() for i in v}
        for w in cfa["warnings"]:
            if w["code"] == "heywood" and w["variable"] in items:
                add(w["variable"], "heywood", None, None, "cfa")
    for g, inv in results.get("invariance", {}).items():
        for i in inv.get("flagged", []):
            add(i, "non-invariant", None, None, g)
    for i, it in results["items"].items():
        top = it.get("modal_pct")
        if top is not None and not CATEGORY_MAX.ok(top):
            add(i, "near-constant", top, CATEGORY_MAX.value, f"{it.get('modal_value'):g}")
        m = it.get("missing_pct")
        if m is not None and not MISSING_MAX.ok(m):
            add(i, "high-missing", m, MISSING_MAX.value, "answers")
    order = {i: j for j, i in enumerate(results["item_order"])}
    return sorted(flags.values(), key=lambda f: (order.get(f["item"], 1 << 30), ITEM_FLAGS.index(f["reason"])))


def _respondent_flags(care, ids: pd.Series, outliers: bool = True,
                      excluded: set | frozenset = frozenset()) -> list[dict]:
    if care is None:
        return []
    out = []
    table = care.table
    for idx in care.flagged:
        row = table.loc[idx]
        for code in str(row["flags"]).split(";"):
            if not code or (code == "multivariate-outlier" and not outliers):
                continue
            value = {"straightlining": row["longstring"], "low-irv": row["irv"],
                     "multivariate-outlier": row["d2_p"], "too-few-answers": row["n_answered"]}[code]
            who = str(ids.loc[idx])
            out.append({"respondent": who, "reason": code, "value": _num(value),
                        "excluded": who in excluded})
    return out


def _scale_flags(results: dict, model: dict) -> list[dict]:
    out = []
    for s, e in results["scales"].items():
        if e.get("n") is not None and e["n"] < MIN_SCALE_N:
            out.append({"scale": s, "reason": "too-few-rows", "value": e["n"], "threshold": MIN_SCALE_N})
        if e.get("alpha") is None or e.get("omega_total") is None:  # a constant item, too few items or rows
            out.append({"scale": s, "reason": "no-reliability", "value": None, "threshold": None})
        if e.get("alpha") is not None and not ALPHA_MIN.ok(e["alpha"]):
            out.append({"scale": s, "reason": "low-alpha", "value": e["alpha"], "threshold": ALPHA_MIN.value})
        if e.get("omega_total") is not None and not OMEGA_MIN.ok(e["omega_total"]):
            out.append({"scale": s, "reason": "low-omega", "value": e["omega_total"],
                        "threshold": OMEGA_MIN.value})
        fl, ce = e.get("floor_pct"), e.get("ceiling_pct")
        if fl is not None and ce is not None and not FLOOR_CEILING_MAX.ok(max(fl, ce)):
            out.append({"scale": s, "reason": "floor-ceiling", "value": max(fl, ce),
                        "threshold": FLOOR_CEILING_MAX.value,
                        "end": "floor" if fl >= ce else "ceiling"})
    cfa = results.get("cfa")
    if cfa:
        failed = [key for key, ok in cfa["meets"].items() if ok is False]
        if failed:
            for f in model:
                if f in results["scales"]:
                    out.append({"scale": f, "reason": "cfa-fit", "value": None, "threshold": None,
                                "indices": {key: cfa["fit"][key] for key in failed}})
        ave = cfa.get("ave") or {}
        for f, v in ave.items():
            if v is not None and not AVE_MIN.ok(v):
                out.append({"scale": f, "reason": "low-ave", "value": v, "threshold": AVE_MIN.value})
        htmt = cfa.get("htmt") or {}
        names = list(htmt)
        for a_i, a in enumerate(names):
            for b in names[a_i + 1:]:
                v = htmt[a].get(b)
                if v is not None and not HTMT_MAX.ok(v):
                    out.append({"scale": a, "reason": "high-htmt", "value": v,
                                "threshold": HTMT_MAX.value, "other": b})
                    out.append({"scale": b, "reason": "high-htmt", "value": v,
                                "threshold": HTMT_MAX.value, "other": a})
    order = {s: j for j, s in enumerate(results["scales"])}
    return sorted(out, key=lambda f: (order.get(f["scale"], 1 << 30), SCALE_FLAGS.index(f["reason"])))
