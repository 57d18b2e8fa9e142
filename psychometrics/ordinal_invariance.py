"""Measurement invariance of ordinal items (WLSMV), as semTools' ``measEq.syntax`` with
Wu & Estabrook's (2016) identification fitted by lavaan.

``pm.invariance(data, model, group, estimator="WLSMV")`` fits four nested multi-group
models, each one parameter table of the engine (:mod:`psychometrics.engine.measeq`):
**configural** (each group its own thresholds and loadings; latent-response intercepts 0
and scales 1), **thresholds** (thresholds equal; intercepts and scales free in the other
groups), **loadings** (+ loadings equal; factor variances free in the other groups),
**intercepts** (+ intercepts equal; factor means free in the other groups). R::

    syn <- measEq.syntax(model, data = d, ordered = items, group = "g",
                         parameterization = "delta", ID.fac = "std.lv",
                         ID.cat = "Wu.Estabrook.2016",
                         group.equal = c("thresholds", "loadings", "intercepts"))
    fit <- cfa(as.character(syn), data = d, ordered = items, group = "g",
               estimator = "WLSMV")
    lavTestLRT(fit_previous, fit, method = "satorra.2000")

Each step is compared with the one before it by Satorra's (2000) scaled difference test.
The sequence a reviewer expects: when a step fails (difference test p < ``alpha``), each
item's constraints of that step are released one item at a time and tested the same way
(Satorra 2000 against the failing model, p-values adjusted over the items); the item with
the largest significant statistic is released, the model refitted, and the search goes on
while the step still fails (never releasing a factor's last equal loading or intercept).
The partial model is row ``<step>_partial`` and the next steps keep its releases. ``partial=[...]`` instead releases named constraints at every
step (lavaan's ``group.partial``) and nothing is located automatically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychometrics._checks import check_choice, check_fraction, check_int
from psychometrics.engine import dwls, estimate, measeq
from psychometrics.engine.core import single_thread
from psychometrics.engine.indices import FitWarning
from psychometrics.engine.model import parse_model
from psychometrics.errors import PsychometricsError
from psychometrics.invariance import adjust_p

__all__ = ["STEPS", "OrdinalInvariance", "merge_empty_categories", "ordinal_invariance",
           "ordinal_summary"]

#: The steps, each with the parameters equal across groups.
STEPS = {
    "configural": frozenset(),
    "thresholds": frozenset({"thresholds"}),
    "loadings": frozenset({"thresholds", "loadings"}),
    "intercepts": frozenset({"thresholds", "loadings", "intercepts"}),
}

RULE = (
    "Ordinal items (WLSMV, Wu & Estabrook 2016 identification, {param} parameterization): "
    "configural -> thresholds -> loadings -> intercepts, each compared with the previous "
    "model by Satorra's (2000) scaled chi-square difference test (lavTestLRT, "
    "method = 'satorra.2000'). A step fails when p < {alpha}; its constraints are then "
    "released one item at a time and tested the same way against the failing model "
    "(p adjusted over the items, {adjust}); the item with the largest significant "
    "statistic (adjusted p < {alpha}) is flagged and released, and the search repeats while "
    "the step still fails (one equal loading and one equal intercept kept per factor); the "
    "next steps keep those releases. cheung_rensvold_2002 is False when the scaled CFI "
    "drops by .010 or more."
)


@dataclass(frozen=True)
class OrdinalInvariance:
    """Result of ``pm.invariance(..., estimator="WLSMV")``.

    Attributes
    ----------
    table : DataFrame
        Rows ``configural, thresholds, loadings, intercepts`` (and ``<step>_partial`` after
        a step whose items were released); columns ``chisq df chisq_scaled df_scaled
        pvalue_scaled cfi_scaled tli_scaled rmsea_scaled cfi tli rmsea npar`` (lavaan's
        ``fitMeasures`` with ``_`` for ``.``), ``compared_with chisq_diff df_diff p_diff``
        (Satorra 2000 scaled difference test), ``delta_cfi delta_rmsea`` (scaled),
        ``cheung_rensvold_2002``, ``released`` (the constraints free at that row).
    items : DataFrame
        One row per item tested at a failing step and round: ``step item factor parameter
        released X2 df p p_adj round flagged`` (each round releases the flagged item, the
        largest significant statistic, then tests the others again).
    flagged : list of str
        Items judged non-invariant (at any step).
    released : list of (item, parameter)
        The constraints freed (``parameter`` is ``thresholds``, ``loading`` or ``intercept``).
    fits : dict of str -> OrdinalFit
    group, groups, group_sizes, parameterization, rule
    estimator : ``"WLSMV"``
    """

    table: pd.DataFrame
    items: pd.DataFrame
    flagged: list[str]
    released: list[tuple[str, str]]
    fits: dict
    group: str
    groups: tuple
    group_sizes: pd.Series
    parameterization: str
    rule: str
    estimator: str = "WLSMV"

    @property
    def warnings(self) -> tuple[tuple[str, FitWarning], ...]:
        return tuple((name, FitWarning("not-converged", "the DWLS fit did not converge"))
                     for name, fit in self.fits.items() if not fit.converged)

    def summary(self) -> str:
        cols = ["chisq_scaled", "df", "cfi_scaled", "tli_scaled", "rmsea_scaled", "chisq_diff",
                "df_diff", "p_diff"]
        sizes = ", ".join(f"{g} (n={n})" for g, n in self.group_sizes.items())
        return "\n".join([
            f"Ordinal measurement invariance (WLSMV, {self.parameterization}) across "
            f"{self.group!r}: {sizes}",
            self.table[cols].to_string(float_format=lambda v: f"{v:.3f}"),
            "", "Flagged items: " + (", ".join(self.flagged) if self.flagged else "none"),
        ])


# --------------------------------------------------------------------------- data


def _stats(data, items, group, min_group_size, func) -> tuple[list, tuple, list]:
    """Each group's sample statistics by the engine (:func:`psychometrics.engine.estimate.prepare`
    and :func:`~psychometrics.engine.estimate.discrepancies`: complete rows, groups in order of
    appearance, every category answered in every group); returns the groups' DWLS
    discrepancies, labels and sizes."""
    d = estimate.prepare(data, items, group, "listwise", func, min_group_size=min_group_size,
                         estimator="WLSMV")
    return estimate.discrepancies(d, False, func), tuple(d.labels), d.sizes


def _info(spec, stats, labels) -> measeq.Measurement:
    items = spec.items
    factors = list(spec.factors)
    pattern = np.array([[it in spec.factors[f] for f in factors] for it in items])
    pos = {it: i for i, it in enumerate(items)}
    return measeq.Measurement(
        items=tuple(items), factors=tuple(factors), pattern=pattern,
        rcov=tuple((pos[a], pos[b]) for a, b in spec.residual_covariances),
        n_th=tuple(int(stats[0].n_categories[it]) - 1 for it in items),
        groups=tuple(map(str, labels)),
        th_start=np.stack([st.thresholds.to_numpy() for st in stats]))


# --------------------------------------------------------------------------- steps


def _constraint(step: str, item: str, info: measeq.Measurement) -> list[str]:
    """The names that release one item's constraints of a step."""
    if step == "thresholds":
        return [f"{item}|t"]
    if step == "loadings":
        i = info.items.index(item)
        return [f"{info.factors[f]}=~{item}" for f in np.flatnonzero(info.pattern[i])]
    return [f"{item}~1"]


def _row(fit: measeq.OrdinalFit, prev: measeq.OrdinalFit | None, prev_name: str | None, discs,
         released: frozenset) -> dict:
    row = {k: fit.fit[k] for k in ("chisq", "df", "chisq_scaled", "df_scaled", "pvalue_scaled",
                                   "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi", "tli",
                                   "rmsea", "npar")}
    row["compared_with"] = prev_name
    if prev is not None:
        t = measeq.difference_test(prev, fit, discs)
        d_cfi = fit.fit["cfi_scaled"] - prev.fit["cfi_scaled"]
        row.update(chisq_diff=t["chisq_diff"], df_diff=t["df_diff"], p_diff=t["pvalue"],
                   delta_cfi=d_cfi, delta_rmsea=fit.fit["rmsea_scaled"] - prev.fit["rmsea_scaled"],
                   cheung_rensvold_2002=not d_cfi <= -0.010)
    row["released"] = ", ".join(sorted(released))
    return row


def _locate(step, fit, info, discs, released, theta, base, adjust) -> pd.DataFrame:
    """Release each item's constraints of ``step`` alone and test it against ``fit``."""
    rows = []
    for item in info.items:
        names = [n for n in _constraint(step, item, info) if n not in released]
        if not names:
            continue
        lay = measeq.table(info, STEPS[step], released | frozenset(names), theta)
        if lay.npar == fit.table.npar:
            continue
        # no fit measures, a few iterations from the failing model: enough to rank the items
        part = measeq.fit(lay, discs, None, previous=fit, max_iter=4)
        t = measeq.difference_test(part, fit, discs)
        i = info.items.index(item)
        rows.append({"step": step, "item": item,
                     "factor": info.factors[int(np.flatnonzero(info.pattern[i])[0])],
                     "parameter": {"thresholds": "thresholds", "loadings": "loading"}.get(step, "intercept"),
                     "released": ", ".join(names), "X2": t["chisq_diff"], "df": t["df_diff"],
                     "p": t["pvalue"]})
    frame = pd.DataFrame(rows, columns=["step", "item", "factor", "parameter", "released", "X2", "df", "p"])
    frame["p_adj"] = adjust_p(frame["p"].to_numpy(), adjust)
    return frame



def _last_equal(step: str, item: str, info: measeq.Measurement, released: frozenset) -> bool:
    """Would releasing ``item`` leave a factor with no equal loading / intercept?"""
    if step == "thresholds":
        return False
    i = info.items.index(item)
    for f in np.flatnonzero(info.pattern[i]):
        others = [it for k, it in enumerate(info.items) if info.pattern[k, f] and it != item
                  and not set(_constraint(step, it, info)) <= released]
        if not others:
            return True
    return False


def _release(step, fit, prev_fit, info, discs, released, theta, base, adjust, alpha):
    """Release the most significant item of a failing step, refit, and repeat while the
    step still fails against ``prev_fit`` and an item is significant."""
    frames = []
    while True:
        frame = _locate(step, fit, info, discs, released, theta, base, adjust)
        frame["round"] = len(frames) + 1
        frame["flagged"] = False
        ok = frame[(frame["p_adj"] < alpha)
                   & ~frame["item"].map(lambda it, r=released: _last_equal(step, it, info, r))]
        frames.append(frame)
        if ok.empty:
            break
        best = ok["X2"].idxmax()
        frame.loc[best, "flagged"] = True
        released = released | frozenset(frame.loc[best, "released"].split(", "))
        fit = measeq.fit(measeq.table(info, STEPS[step], released, theta), discs, base,
                            previous=fit)
        if not measeq.difference_test(prev_fit, fit, discs)["pvalue"] < alpha:
            break
    return frames, released, fit


def ordinal_invariance(data: pd.DataFrame, model, group: str, *, parameterization: str = "delta",
                       partial: Sequence[str] | None = None, alpha: float = 0.05,
                       adjust: str = "holm", min_group_size: int = 30,
                       residual_covariances: Sequence[tuple[str, str]] | None = None,
                       second_order=None, func: str = "invariance") -> OrdinalInvariance:
    """Ordinal measurement invariance (see the module docstring); usually called as
    ``pm.invariance(data, model, group, estimator="WLSMV")``.

    ``parameterization``: ``"delta"`` (lavaan's default; scale factors free) or ``"theta"``
    (residual variances free); same fit. ``partial``: constraint names to release at
    every step (``"y3|t"`` or ``"y3|t1"``: the thresholds of y3; ``"F1=~y3"``: a loading;
    ``"y3~1"``: an intercept); when given, nothing is released automatically.
    """
    check_choice(parameterization, name="parameterization", choices=("delta", "theta"), func=func)
    alpha = check_fraction(alpha, name="alpha", func=func)
    check_choice(adjust, name="adjust", choices=("holm", "bonferroni", "none"), func=func)
    min_group_size = check_int(min_group_size, name="min_group_size", minimum=2, func=func)
    spec = parse_model(model, second_order, residual_covariances, func)
    if spec.second_order:
        raise PsychometricsError("not-implemented", f"{func}(..., estimator='WLSMV'): second-order "
                                                    "factors are not supported for ordinal invariance.")
    with single_thread():
        discs, labels, sizes = _stats(data, spec.items, group, min_group_size, func)
        info = _info(spec, [disc.stats for disc in discs], labels)
        fixed = _partial_names(partial, info, func)
        rows, located, fits = _steps(info, discs, fixed, parameterization == "theta", alpha,
                                     adjust, dwls.baseline(discs))
    return _result(rows, located, fits, group, labels, sizes, parameterization, alpha, adjust)


def _steps(info, discs, fixed, theta, alpha, adjust, base):
    fits, rows, located = {}, {}, []
    released = fixed if fixed is not None else frozenset()
    prev = None
    for step in STEPS:
        fit = measeq.fit(measeq.table(info, STEPS[step], released, theta), discs, base,
                            previous=fits.get(prev))
        fits[step] = fit
        rows[step] = _row(fit, fits.get(prev), prev, discs, released)
        if fixed is None and step != "configural" and rows[step]["p_diff"] < alpha:
            frames, new, part = _release(step, fit, fits[prev], info, discs, released, theta,
                                         base, adjust, alpha)
            located += frames
            if new != released:
                released = new
                fits[f"{step}_partial"] = part
                rows[f"{step}_partial"] = _row(part, fits[prev], prev, discs, released)
                step = f"{step}_partial"
        prev = step
    return rows, located, fits


def _partial_names(partial, info: measeq.Measurement, func: str) -> frozenset | None:
    if partial is None:
        return None
    if isinstance(partial, str):
        partial = [partial]
    known = {n for step in ("thresholds", "loadings", "intercepts") for it in info.items
             for n in _constraint(step, it, info)}
    out = set()
    for name in partial:
        norm = name.replace(" ", "")
        if "|t" in norm:
            norm = norm.split("|t")[0] + "|t"
        if norm not in known:
            raise PsychometricsError(
                "invalid-value", f"The 'partial' parameter of {func} takes 'item|t' (thresholds), "
                                 f"'F=~item' (loading) or 'item~1' (intercept) of the model; got {name!r}.")
        out.add(norm)
    return frozenset(out)


def _result(rows, located, fits, group, labels, sizes, param, alpha, adjust) -> OrdinalInvariance:
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    for c in ("df", "df_scaled", "npar"):
        table[c] = table[c].astype(int)
    items = (pd.concat(located, ignore_index=True) if located else
             pd.DataFrame(columns=["step", "item", "factor", "parameter", "released", "X2", "df",
                                   "p", "p_adj", "round", "flagged"]))
    flagged_rows = items[items["flagged"].astype(bool)] if not items.empty else items
    return OrdinalInvariance(
        table=table, items=items,
        flagged=list(dict.fromkeys(flagged_rows["item"])),
        released=[(r.item, r.parameter) for r in flagged_rows.itertuples()],
        fits=fits, group=group, groups=tuple(labels),
        group_sizes=pd.Series(sizes, index=pd.Index(labels, name=group), name="n"),
        parameterization=param,
        rule=RULE.format(param=param, alpha=alpha, adjust=adjust))


# --------------------------------------------------------------------------- report


def _json(v):
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer | int):
        return int(v)
    if isinstance(v, np.floating | float):
        return float(v) if np.isfinite(v) else None
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else v


def _records(frame: pd.DataFrame) -> dict:
    return {str(k): {c: _json(v) for c, v in row.items()} for k, row in frame.iterrows()}


def merge_empty_categories(data: pd.DataFrame, items, group: str) -> tuple[pd.DataFrame, dict]:
    """Each item's categories that some group never uses, merged in every group with the
    next category toward the middle of the scale, until every group uses every category
    (or two are left): what a researcher does before lavaan, which refuses such data
    ("some categories of variable x are empty in group g"), as :func:`ordinal_invariance`
    does. Returns the recoded data and, per item merged, its ``[category, merged into]``
    pairs in the order they were merged."""
    out, merged = data.copy(), {}
    groups = [data[group] == g for g in pd.unique(data[group].dropna())]
    for item in items:
        col = out[item]
        while True:
            levels = sorted(col.dropna().unique())
            empty = [k for k, lv in enumerate(levels) if any(not (col[g] == lv).any() for g in groups)]
            if not empty or len(levels) <= 2:
                break
            k = empty[0]
            into = levels[k + 1] if k < (len(levels) - 1) / 2 else levels[k - 1]
            col = col.where(col != levels[k], into)
            merged.setdefault(item, []).append([_category(levels[k]), _category(into)])
        out[item] = col
    return out, merged


def _category(v):
    return int(v) if float(v).is_integer() else float(v)


def ordinal_summary(data: pd.DataFrame, model: dict, group: str, *, min_group_size: int = 30,
                    rows_per_item: int = 5, alpha: float = 0.05) -> dict:
    """Ordinal invariance for a validation report (``results.json``
    ``invariance.<group>.ordinal``): groups below ``min_group_size`` set aside; the whole
    model when every group has ``rows_per_item`` complete rows per item, else each scale of
    3 or more items on its own; categories some group never uses are merged first
    (:func:`merge_empty_categories`, ``merged_categories``). Each fit gives ``table``
    (rows configural, thresholds, loadings, intercepts, and ``<step>_partial``),
    ``flagged``, ``released``, ``items``;
    a fit that cannot be made gives ``skipped`` (the error code) and ``reason``."""
    col = data[group]
    sizes = col.value_counts(dropna=True)
    kept = [g for g in pd.unique(col.dropna()) if sizes[g] >= min_group_size]
    out: dict = {"estimator": "WLSMV", "parameterization": "delta",
                 "identification": "Wu & Estabrook (2016)", "fits": {}}
    if len(kept) < 2:
        return {**out, "skipped": "too-few-groups",
                "reason": f"Fewer than 2 groups of {group!r} have {min_group_size} respondents."}
    items = [i for v in model.values() for i in v]
    sub, merged = merge_empty_categories(data[col.isin(kept)], items, group)
    if merged:
        out["merged_categories"] = merged
    complete = sub[items].notna().all(axis=1).groupby(sub[group]).sum()
    whole = bool((complete >= max(min_group_size, rows_per_item * len(items))).all())
    plan = {"model": model} if whole else {f: {f: v} for f, v in model.items() if len(v) >= 3}
    out["mode"] = "model" if whole else "per-scale"
    for name, m in plan.items():
        try:
            inv = ordinal_invariance(sub, m, group, alpha=alpha, min_group_size=min_group_size)
        except PsychometricsError as e:
            out["fits"][name] = {"skipped": e.code, "reason": str(e)}
            continue
        out["fits"][name] = {
            "table": _records(inv.table), "flagged": inv.flagged,
            "released": [list(r) for r in inv.released],
            "items": [{c: _json(v) for c, v in r.items()} for r in inv.items.to_dict("records")],
            "groups": {str(k): int(v) for k, v in inv.group_sizes.items()},
            "converged": all(f.converged for f in inv.fits.values())}
        out["rule"] = inv.rule
    out["flagged"] = list(dict.fromkeys(i for f in out["fits"].values() for i in f.get("flagged", [])))
    return out
