"""The nested structure of a validation sample, JSON-ready: what ``validate`` reports when
the data have clusters (people in organizations in consortia).

One call, :func:`nesting`, gives three entries of ``results.json``:

- ``nesting.<level>.<scale>``: ICC(1), ICC(2) and their intervals, the mixed-model ICC,
  the design effect, the verdict on aggregation, the rwg(j) summary and, per group,
  ``rwg_j rwg_j_lindell rwg awg ad_mean ad_median`` (:func:`psychometrics.agreement`);
  ``variance``: the score's variance split between people and every level (person /
  organization / consortium; :func:`psychometrics.variance.variance_split`, lme4's
  ``lmer(score ~ 1 + (1 | consortium/org))``), the same under each level;
- ``clusters``: the levels, the cluster sizes (small cells suppressed), the roles, and the
  input problems (codes and rows, :func:`psychometrics.agreement.nesting_issues`);
- ``cfa_twolevel``: the two-level CFA of the measurement model with the innermost level as
  cluster (:func:`psychometrics.cfa` with ``cluster=``) when there are enough clusters,
  otherwise ``fitted: false`` and the reason.

Thresholds (each with its source, in ``clusters.thresholds``; defined in
:mod:`psychometrics.thresholds`, ``NESTING_THRESHOLDS``): ICC(2) >= .70 for reliable
group means and rwg(j) >= .70 for agreement (LeBreton & Senter 2008; Bliese 2000); AD <=
A/6 (Burke & Dunlap 2002); the one-way ANOVA F test for a group effect (Bliese 2000); 50
clusters for a two-level CFA (Maas & Hox 2005). The design effect is Kish's 1 + (k - 1)
ICC(1), k the mean cluster size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from psychometrics.agreement import agreement, nesting_issues
from psychometrics.cfa import cfa
from psychometrics.errors import PsychometricsError
from psychometrics.scoring import reverse_key
from psychometrics.thresholds import AD_MAX, NESTING_THRESHOLDS, TWOLEVEL_CLUSTERS_MIN
from psychometrics.thresholds import MIN_CELL as CELL
from psychometrics.variance import variance_split

__all__ = ["DEFAULT_ROLES", "THRESHOLDS", "nesting"]

#: Roles a keys file may declare (``"roles"``) when it does not list its own.
DEFAULT_ROLES = ("member", "colleague", "nonmember")

#: The thresholds of :mod:`psychometrics.thresholds` used here, as results.json writes them.
THRESHOLDS = {t.name: {"value": t.shown or t.value, "rule": t.rule, "source": t.source}
              for t in NESTING_THRESHOLDS.values()}
MIN_CELL = int(CELL.value)
MIN_TWOLEVEL_CLUSTERS = int(TWOLEVEL_CLUSTERS_MIN.value)
MAX_ROWS_LISTED = 50


def nesting(data: pd.DataFrame, keys, levels: Sequence[str], *, low: float, high: float,
            model: dict | None = None, id: str | None = None, role: str | None = None,
            roles: Sequence[str] | None = None, seed=1) -> dict:
    """``{"nesting": ..., "clusters": ..., "cfa_twolevel": ...}`` for ``results.json``.

    ``data``: raw answers (reverse-keyed items not recoded) with the level columns;
    ``keys``: a :class:`psychometrics.keys.Keys`; ``levels`` innermost first; ``model``:
    factor -> items of the measurement model for the two-level CFA (default: the scales).
    """
    levels = list(levels)
    a = agreement(data, keys, levels, low=low, high=high, id=id, seed=seed)
    icc = a.icc if isinstance(a.icc, dict) else {levels[0]: a.icc}
    by_group = a.by_group if "level" in a.by_group else a.by_group.assign(level=levels[0])
    options = high - low + 1
    split = variance_split(data, keys, levels, low=low, high=high, id=id)
    out = {level: {scale: _scale_entry(icc[level].loc[scale],
                                       by_group[(by_group["level"] == level)
                                                & (by_group["scale"] == scale)], options)
                   | {"variance": _variance(split.loc[scale], levels)}
                   for scale in icc[level].index}
           for level in levels}
    issues = a.issues
    if role is not None and role in data:
        issues = pd.concat([issues, nesting_issues(data, [], role=role,
                                                   roles=list(roles or DEFAULT_ROLES))])
    clusters = {
        "levels": levels,
        "sizes": {level: _sizes(by_group[by_group["level"] == level]) for level in levels},
        "roles": _roles(data, role, roles),
        "issues": [_issue(r) for r in issues.itertuples(index=False)],
        "null_variance": a.null_variance,
        "thresholds": THRESHOLDS,
    }
    model = model or {s: [i.removeprefix("-") for i in v] for s, v in keys.scales.items()}
    twolevel = _twolevel(data, keys, model, levels[0], low, high)
    return {"nesting": out, "clusters": clusters, "cfa_twolevel": twolevel}


def _num(v):
    if v is None or v is pd.NA:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _scale_entry(row: pd.Series, groups: pd.DataFrame, options: float) -> dict:
    usable = groups[groups["n"] >= 2]
    rwg = usable["rwg_j"].dropna()
    k = row["mean_size"]
    deff = 1 + (k - 1) * row["icc1"] if np.isfinite(k) and np.isfinite(row["icc1"]) else np.nan
    below = usable[(usable["rwg_j"] < THRESHOLDS["rwg_j"]["value"]) | (~usable["ad_ok"].fillna(True))]
    return {
        "icc1": _num(row["icc1"]), "icc2": _num(row["icc2"]),
        "icc1_ci": [_num(row["icc1_ci_low"]), _num(row["icc1_ci_high"])],
        "icc2_ci": [_num(row["icc2_ci_low"]), _num(row["icc2_ci_high"])],
        "icc1_mixed": _num(row["icc1_mixed"]), "icc2_mixed": _num(row["icc2_mixed"]),
        "f": _num(row["f"]), "df1": _num(row["df1"]), "df2": _num(row["df2"]), "p": _num(row["p"]),
        "n": int(row["n"]), "n_groups": int(row["groups"]), "mean_size": _num(k),
        "design_effect": _num(deff),
        "effective_n": _num(row["n"] / deff) if np.isfinite(deff) and deff > 0 else None,
        "verdict": _verdict(row, rwg),
        "rwg_j": _summary(rwg, THRESHOLDS["rwg_j"]["value"]),
        "awg": _summary(usable["awg"].dropna()),
        "ad_mean": _summary(usable["ad_mean"].dropna()) | {"cutoff": options / AD_MAX.value,
                                                            "n_above": int((~usable["ad_ok"].fillna(True)).sum())},
        "below_threshold": [str(g) for g in below["group"]],
        # groups whose agreement random answers reach 5% of the time (rwg.j.sim, by size)
        "n_within_null95": int((usable["rwg_j"] <= usable["rwg_j_null95"]).sum()),
        "groups": {str(r.group): _group_entry(r) for r in groups.itertuples(index=False)},
    }


def _variance(row: pd.Series, levels: list[str]) -> dict:
    """The scale's variance split between people and the levels (one model for every level,
    repeated under each): components, shares, and the lme4 call it matches."""
    parts = ["person", *levels]
    nested = "/".join(reversed(levels))
    return {"levels": parts, "var": {k: _num(row[f"var_{k}"]) for k in parts},
            "share": {k: _num(row[f"share_{k}"]) for k in parts}, "n": int(row["n"]),
            "reml_loglik": _num(row["reml_loglik"]), "converged": bool(row["converged"]),
            "model": f"lmer(score ~ 1 + (1 | {nested}), REML = TRUE)"}


def _verdict(row: pd.Series, rwg: pd.Series) -> dict:
    """Aggregation is supported when there is a group effect (F test), the group means are
    reliable (ICC(2)) and the members agree (median rwg(j)); otherwise the first reason."""
    median = float(rwg.median()) if len(rwg) else float("nan")
    checks = [
        ("no-group-effect", np.isfinite(row["p"]) and row["p"] < THRESHOLDS["f_test_p"]["value"]),
        ("low-agreement", np.isfinite(median) and median >= THRESHOLDS["rwg_j"]["value"]),
        ("unreliable-group-means", np.isfinite(row["icc2"]) and row["icc2"] >= THRESHOLDS["icc2"]["value"]),
    ]
    failed = [code for code, ok in checks if not ok]
    return {"aggregate": not failed, "reasons": failed, "median_rwg_j": _num(median)}


def _summary(values: pd.Series, threshold: float | None = None) -> dict:
    out = {"n_groups": len(values), "mean": _num(values.mean()) if len(values) else None,
           "median": _num(values.median()) if len(values) else None,
           "sd": _num(values.std()) if len(values) > 1 else None,
           "min": _num(values.min()) if len(values) else None,
           "max": _num(values.max()) if len(values) else None}
    if threshold is not None:
        out["n_below"] = int((values < threshold).sum())
        out["quartiles"] = [_num(q) for q in values.quantile([0.25, 0.5, 0.75])] if len(values) else []
    return out


def _group_entry(r) -> dict:
    """One group's agreement; its size is given only from :data:`MIN_CELL` people up."""
    entry = {"n": int(r.n) if r.n >= MIN_CELL else None, "small": bool(r.n < MIN_CELL)}
    for c in ("rwg_j", "rwg_j_lindell", "rwg", "awg", "ad_mean", "ad_median", "rwg_j_null95"):
        entry[c] = _num(getattr(r, c))
    entry["reason"] = r.reason
    return entry


def _sizes(groups: pd.DataFrame) -> dict:
    n = groups.drop_duplicates("group")["n"]
    counts = n.value_counts().sort_index()
    return {"n_groups": len(n), "n_people": int(n.sum()), "mean": _num(n.mean()),
            "median": _num(n.median()), "min": int(n.min()) if len(n) else None,
            "max": int(n.max()) if len(n) else None, "singletons": int((n == 1).sum()),
            "distribution": {str(int(size)): int(c) for size, c in counts.items()},
            "n_small": int((n < MIN_CELL).sum())}


def _roles(data: pd.DataFrame, role: str | None, roles) -> dict | None:
    if role is None or role not in data:
        return None
    counts = data[role].value_counts(dropna=False)
    return {"column": role, "declared": list(roles or DEFAULT_ROLES),
            "counts": {str(k): (int(v) if v >= MIN_CELL else None) for k, v in counts.items()}}


def _issue(r) -> dict:
    rows = [str(x) for x in r.rows]
    return {"code": r.code, "level": r.level, "column": r.column,
            "value": None if pd.isna(r.value) else str(r.value), "n_rows": len(rows),  # NaN: no code
            "rows": rows[:MAX_ROWS_LISTED], "message": r.message}


def _twolevel(data, keys, model: dict, level: str, low, high) -> dict:
    """The two-level CFA on the innermost level, or why it was not fitted."""
    items = list(dict.fromkeys(i for v in model.values() for i in v))
    signed = [k for v in keys.scales.values() for k in v if k.removeprefix("-") in items]
    x = reverse_key(data[items], list(dict.fromkeys(signed)), low, high)
    x[level] = data[level].to_numpy()
    x = x.dropna()
    n_clusters = int(x[level].nunique())
    base = {"cluster": level, "clusters": n_clusters, "n": len(x), "model": model}
    if n_clusters < MIN_TWOLEVEL_CLUSTERS:
        return base | {"fitted": False, "code": "too-few-clusters",
                       "reason": f"{n_clusters} clusters of {level!r} with complete answers; a "
                                 f"two-level CFA needs at least {MIN_TWOLEVEL_CLUSTERS} (Maas & "
                                 "Hox 2005)."}
    try:
        fit = cfa(x, model, cluster=level)
    except (PsychometricsError, np.linalg.LinAlgError) as e:
        return base | {"fitted": False, "code": getattr(e, "code", "numerical-error"),
                       "reason": str(e)}
    return base | {"fitted": True, "fit": {k: _num(v) for k, v in fit.fit.items()},
                   "loadings": {lv: {f"{f}=~{i}": _num(v) for i, row in tab.iterrows()
                                     for f, v in row.items() if _num(v)}
                                for lv, tab in fit.loadings.items()},
                   "converged": bool(fit.converged), "negative_variances": _heywood(fit.params)}


def _heywood(params: pd.DataFrame) -> list[dict]:
    """Residual variances estimated below zero (Heywood cases), per level."""
    neg = params[(params["op"] == "~~") & (params["lhs"] == params["rhs"]) & (params["est"] < 0)]
    return [{"item": r.lhs, "level": r.level, "est": _num(r.est)} for r in neg.itertuples()]
