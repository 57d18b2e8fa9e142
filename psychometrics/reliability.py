"""Reliability of a scale: Cronbach's alpha, McDonald's omega, bootstrap and ordinal versions.

``items`` holds the columns of ONE scale, already reverse keyed (see ``pm.reverse_key``).
Rows with a missing item are dropped (listwise) unless a function says otherwise; every
result reports ``n``, the rows used. Numbers match R's psych (and semTools for
``omega_cfa``); each docstring gives the R call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from psychometrics._checks import (
    as_items,
    check_choice,
    check_columns,
    check_fraction,
    check_int,
    complete_items,
)
from psychometrics.errors import PsychometricsError

__all__ = [
    "Alpha",
    "BootstrapReliability",
    "Omega",
    "OrdinalReliability",
    "alpha",
    "alpha_numbers",
    "bootstrap_reliability",
    "omega",
    "omega_total_numbers",
    "ordinal_reliability",
]

_PSI_MIN = 0.005  # psych's lower bound on uniquenesses (fa, minres / ml)


# --------------------------------------------------------------------------- helpers


def _cov2cor(c: np.ndarray) -> np.ndarray:
    d = 1.0 / np.sqrt(np.diagonal(c, axis1=-2, axis2=-1))
    return c * d[..., :, None] * d[..., None, :]


def _smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations, 1 - 1/diag(R^-1), clipped to [0, 1] (psych::smc)."""
    inv = np.linalg.pinv(r, hermitian=True)
    return np.clip(1.0 - 1.0 / np.diagonal(inv, axis1=-2, axis2=-1), 0.0, 1.0)


def _alpha_parts(c: np.ndarray, r: np.ndarray) -> dict[str, float]:
    """psych's alpha.1: raw and standardized alpha, G6(smc), average r (one matrix)."""
    k = c.shape[0]
    sum_c, sum_r = c.sum(), r.sum()
    return {
        "alpha": (1 - np.trace(c) / sum_c) * k / (k - 1),
        "std_alpha": (1 - k / sum_r) * k / (k - 1),
        "g6": 1 - (k - _smc(r).sum()) / sum_r,
        "average_r": (sum_r - k) / (k * (k - 1)),
    }


def _feldt(a: float, n: int, k: int, ci: float) -> tuple[float, float]:
    """Feldt's F-based interval for alpha (psych::alpha.ci with p.val = 1 - ci)."""
    p = 1 - ci
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1 - (1 - a) * stats.f.ppf(1 - p / 2, df1, df2)
    high = 1 - (1 - a) * stats.f.ppf(p / 2, df1, df2)
    return float(low), float(high)


def _minres(r: np.ndarray, n_factors: int) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-residual (ULS) factor analysis of a correlation matrix, as psych::fa(fm="minres").

    Minimizes the sum of squared residuals over the uniquenesses psi (L-BFGS-B, bounds
    [0.005, 1] as psych), the loadings being the first eigenvectors of R - diag(psi)
    scaled by the root of their eigenvalues. Each factor's signs are set so its loadings
    sum to a positive number (psych). Returns (loadings p x m, uniquenesses).
    """
    p = r.shape[0]

    def loadings(psi):
        vals, vecs = np.linalg.eigh(r - np.diag(psi))
        vals, vecs = vals[::-1][:n_factors], vecs[:, ::-1][:, :n_factors]
        return vecs * np.sqrt(np.maximum(vals, 0.0))

    def fun(psi):
        lam = loadings(psi)
        resid = r - np.diag(psi) - lam @ lam.T
        return float((resid**2).sum()), -2.0 * np.diag(resid)

    start = np.clip(1.0 - _smc(r), _PSI_MIN, 1.0)
    res = optimize.minimize(
        fun, start, jac=True, method="L-BFGS-B", bounds=[(_PSI_MIN, 1.0)] * p,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000},
    )
    lam = loadings(res.x)
    lam = lam * np.where(lam.sum(axis=0) < 0, -1.0, 1.0)
    return lam, 1.0 - (lam**2).sum(axis=1)


def _ml_one_factor(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-factor maximum likelihood factor analysis of a correlation matrix.

    Joreskog's concentrated likelihood over the uniquenesses (as stats::factanal), with a
    tiny lower bound so that the result equals an unconstrained ML CFA (lavaan) whenever
    no uniqueness is negative. Returns standardized (loadings, uniquenesses).
    """
    p = r.shape[0]

    def parts(psi):
        s = 1.0 / np.sqrt(psi)
        vals, vecs = np.linalg.eigh(r * s[:, None] * s[None, :])
        return vals[::-1], vecs[:, ::-1]

    def fun(psi):
        vals, vecs = parts(psi)
        e = vals[1:]
        f = -(np.sum(np.log(e) - e) - 1 + p)
        lam = np.sqrt(psi) * vecs[:, 0] * np.sqrt(max(vals[0] - 1, 0.0))
        g = (lam**2 + psi - np.diag(r)) / psi**2
        return float(f), g

    start = np.clip(1.0 - _smc(r), 1e-3, 1.0)
    res = optimize.minimize(
        fun, start, jac=True, method="L-BFGS-B", bounds=[(1e-6, 1.0)] * p,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000},
    )
    vals, vecs = parts(res.x)
    lam = np.sqrt(res.x) * vecs[:, 0] * np.sqrt(max(vals[0] - 1, 0.0))
    if lam.sum() < 0:
        lam = -lam
    return lam, res.x


def _oblimin(a: np.ndarray, eps: float = 1e-8, maxit: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """Direct quartimin (oblimin, gamma = 0) by gradient projection, as GPArotation::oblimin.

    Returns (pattern loadings, factor correlations Phi). Not normalized (GPArotation's default).
    """
    m = a.shape[1]
    off = 1.0 - np.eye(m)

    def crit(lam):
        x = (lam**2) @ off
        return float((lam**2 * x).sum() / 4), lam * x

    t = np.eye(m)
    lam = a.copy()
    f, gq = crit(lam)
    g = -(lam.T @ gq @ np.linalg.inv(t)).T
    al = 1.0
    for _ in range(maxit):
        gp = g - t * (t * g).sum(axis=0)
        s = np.sqrt((gp**2).sum())
        if s < eps:
            break
        al *= 2
        for _ in range(11):
            x = t - al * gp
            tt = x / np.sqrt((x**2).sum(axis=0))
            lam_t = a @ np.linalg.inv(tt).T
            ft, gqt = crit(lam_t)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2
        t, lam, f = tt, lam_t, ft
        g = -(lam.T @ gqt @ np.linalg.inv(t)).T
    return lam, t.T @ t


def _target_rotation(a: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares oblique rotation towards a 0/1 target, as psych::target.rot."""
    u = np.linalg.lstsq(a, target, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u * np.sqrt(d)
    ui = np.linalg.inv(u)
    return a @ u, ui @ ui.T


# --------------------------------------------------------------------------- alpha


@dataclass(frozen=True)
class Alpha:
    """Cronbach's alpha of one scale, as psych::alpha.

    Attributes
    ----------
    alpha : raw alpha (from the covariances)
    std_alpha : standardized alpha (from the correlations)
    g6 : Guttman's lambda 6 (from squared multiple correlations)
    average_r : mean inter-item correlation
    ci_low, ci_high : Feldt's interval at level ``ci``
    ci : the confidence level
    n : rows used (complete rows when ``missing="listwise"``)
    items : DataFrame, one row per item: ``item_rest_r`` (r.drop, the item's correlation with
        the sum of the other items), ``alpha_if_deleted`` (raw), ``std_alpha_if_deleted``,
        ``g6_if_deleted``, ``average_r_if_deleted``, ``item_total_r`` (raw.r),
        ``std_r``, ``r_cor`` (corrected for overlap, psych's r.cor), ``mean``, ``sd``, ``n``.
    """

    alpha: float
    std_alpha: float
    g6: float
    average_r: float
    ci_low: float
    ci_high: float
    n: int
    items: pd.DataFrame
    ci: float = 0.95
    missing: str = "listwise"

    def summary(self) -> str:
        head = (
            f"Cronbach's alpha (n = {self.n}, {len(self.items)} items, {self.missing})\n"
            f"  alpha {self.alpha:.3f}  [{self.ci:.0%} Feldt CI {self.ci_low:.3f}, {self.ci_high:.3f}]\n"
            f"  std. alpha {self.std_alpha:.3f}   G6(smc) {self.g6:.3f}   average r {self.average_r:.3f}\n"
        )
        cols = ["item_rest_r", "alpha_if_deleted", "mean", "sd"]
        return head + self.items[cols].round(3).to_string()


def alpha(items: pd.DataFrame, ci: float = 0.95, missing: str = "listwise") -> Alpha:
    """Cronbach's alpha with Feldt's confidence interval and item statistics (psych::alpha).

    ``missing="listwise"`` (default) uses the rows where every item is answered;
    ``"pairwise"`` uses pairwise-complete covariances (psych's own default), ``n`` then
    being the rows with at least one answer. Items must already be reverse keyed.

    Example
    -------
    >>> a = pm.alpha(df[["A1", "A2", "A3", "A4", "A5"]])
    >>> a.alpha, a.ci_low, a.ci_high, a.items["item_rest_r"]
    >>> # R: a <- psych::alpha(df[, c("A1", "A2", "A3", "A4", "A5")], check.keys = FALSE)
    >>> # R: a$total$raw_alpha; a$feldt$lower.ci; a$item.stats$r.drop; a$alpha.drop$raw_alpha
    """
    check_fraction(ci, name="ci", func="alpha")
    check_choice(missing, name="missing", choices=("listwise", "pairwise"), func="alpha")
    if missing == "listwise":
        x, _ = complete_items(items, name="items", func="alpha", min_rows=3, min_items=2)
        c = np.cov(x.to_numpy(), rowvar=False)
        n = len(x)
    else:
        x = as_items(items, name="items", func="alpha", min_rows=3, min_items=2)
        c = x.cov(min_periods=2).to_numpy()
        if np.isnan(c).any():
            raise PsychometricsError(
                "too-few-rows",
                "The 'items' parameter of alpha must have at least 2 rows answering both "
                "items of every pair for pairwise covariances.",
            )
        n = int(x.notna().any(axis=1).sum())
    k = c.shape[0]
    r = _cov2cor(c)
    total = _alpha_parts(c, r)
    low, high = _feldt(total["alpha"], n, k, ci)
    return Alpha(
        alpha=float(total["alpha"]),
        std_alpha=float(total["std_alpha"]),
        g6=float(total["g6"]),
        average_r=float(total["average_r"]),
        ci_low=low,
        ci_high=high,
        n=int(n),
        items=_item_table(x, c, r),
        ci=float(ci),
        missing=missing,
    )


def _item_table(x: pd.DataFrame, c: np.ndarray, r: np.ndarray) -> pd.DataFrame:
    k = c.shape[0]
    cs = c.sum(axis=0)
    diag = np.diag(c)
    rest_var = c.sum() - 2 * cs + diag
    item_rest = (cs - diag) / np.sqrt(diag * rest_var)
    drop = {key: np.full(k, np.nan) for key in ("alpha", "std_alpha", "g6", "average_r")}
    if k > 2:
        for i in range(k):
            keep = np.arange(k) != i
            parts = _alpha_parts(c[np.ix_(keep, keep)], r[np.ix_(keep, keep)])
            for key in drop:
                drop[key][i] = parts[key]
    rc = r.copy()
    np.fill_diagonal(rc, _smc(r))
    total = x.mean(axis=1)  # psych: rowMeans, na.rm
    return pd.DataFrame(
        {
            "item_rest_r": item_rest,
            "alpha_if_deleted": drop["alpha"],
            "std_alpha_if_deleted": drop["std_alpha"],
            "g6_if_deleted": drop["g6"],
            "average_r_if_deleted": drop["average_r"],
            "item_total_r": x.corrwith(total).to_numpy(),
            "std_r": r.sum(axis=0) / np.sqrt(r.sum()),
            "r_cor": rc.sum(axis=0) / np.sqrt(rc.sum()),
            "mean": x.mean().to_numpy(),
            "sd": x.std().to_numpy(),
            "n": x.notna().sum().to_numpy(),
        },
        index=pd.Index(x.columns, name="item"),
    )


# --------------------------------------------------------------------------- omega


@dataclass(frozen=True)
class Omega:
    """McDonald's omega of one scale.

    Attributes
    ----------
    omega_total : psych's omega total, (sum(R) - sum(u2)) / sum(R), from a minres factor
        model of the correlations: one factor by default (psych::omega(nfactors = 1)),
        or the Schmid-Leiman solution with ``n_groups`` / ``facets``.
    omega_h : omega hierarchical, (sum of general loadings)^2 / sum(R); NaN for one factor.
    omega_cfa : composite reliability of a one-factor ML model, (sum lambda)^2 over the
        observed variance of the sum score (semTools::compRelSEM of a one-factor lavaan CFA,
        ``obs.var = TRUE``).
    alpha : standardized alpha of the same correlation matrix (psych::omega's alpha)
    loadings : DataFrame items x [g, F1*...] (Schmid-Leiman) or [g] (one factor), plus
        ``h2``, ``u2``
    groups : DataFrame per factor (g first) of omega total / general / group (psych's
        omega.group); empty for one factor.
    n : rows used (listwise)
    n_factors : group factors (1 for the one-factor model)
    """

    omega_total: float
    omega_h: float
    omega_cfa: float
    alpha: float
    loadings: pd.DataFrame
    n: int
    n_factors: int = 1
    groups: pd.DataFrame = field(default_factory=pd.DataFrame)
    rotation: str = "none"

    def summary(self) -> str:
        lines = [f"McDonald's omega (n = {self.n}, {len(self.loadings)} items)"]
        lines.append(f"  omega total {self.omega_total:.3f}   omega (ML CFA) {self.omega_cfa:.3f}"
                     f"   alpha (std) {self.alpha:.3f}")
        if self.n_factors > 1:
            lines.append(f"  omega hierarchical {self.omega_h:.3f}  ({self.n_factors} group "
                         f"factors, {self.rotation} rotation)")
        return "\n".join(lines) + "\n" + self.loadings.round(3).to_string()


def omega(
    items: pd.DataFrame,
    n_groups: int | None = None,
    facets: Mapping[str, Sequence[str]] | None = None,
) -> Omega:
    """McDonald's omega total (one-factor) or hierarchical (Schmid-Leiman), as psych::omega.

    With neither ``n_groups`` nor ``facets``: a one-factor minres model of the correlation
    matrix gives ``omega_total`` (psych::omega(x, nfactors = 1, fm = "minres")$omega.tot)
    and a one-factor ML model gives ``omega_cfa`` (semTools::compRelSEM of
    lavaan::cfa("F =~ ...", std.lv = TRUE)). Listwise rows.

    ``n_groups=k``: k minres factors rotated by oblimin, a general factor from their
    correlations, then the Schmid-Leiman transformation: ``omega_h`` and ``omega_total``
    of psych::omega(x, nfactors = k, fm = "minres"). With k = 2 the two general loadings
    are set equal (psych's ``option = "equal"``; psych warns that three factors are
    needed for identification).

    ``facets={"f1": [...], "f2": [...]}``: the same with a target rotation towards the
    given item-facet structure instead of oblimin, as
    psych::omega(x, nfactors = k, rotate = "target", keys = <items x facets 0/1 matrix>).

    Example
    -------
    >>> pm.omega(df[cols]).omega_total
    >>> # R: psych::omega(df[, cols], nfactors = 1, fm = "minres")$omega.tot
    >>> pm.omega(df[cols], n_groups=3).omega_h
    >>> # R: psych::omega(df[, cols], nfactors = 3, fm = "minres")$omega_h
    """
    if n_groups is not None and facets is not None:
        raise PsychometricsError(
            "invalid-option",
            "The 'n_groups' and 'facets' parameters of omega cannot both be given; got "
            f"n_groups={n_groups!r} and facets with {len(facets)} facets.",
        )
    x, _ = complete_items(items, name="items", func="omega", min_rows=3, min_items=2)
    names = list(x.columns)
    k = len(names)
    c = np.cov(x.to_numpy(), rowvar=False)
    r = _cov2cor(c)
    n = len(x)
    omega_cfa = _omega_cfa(c, r)
    std_alpha = (1 - k / r.sum()) * k / (k - 1)
    if n_groups is None and facets is None:
        lam, u2 = _minres(r, 1)
        if lam[:, 0].sum() < 0:
            lam = -lam
        vt = _flip_total(r, lam[:, 0])
        total = (vt - u2.sum()) / vt
        load = pd.DataFrame({"g": lam[:, 0], "h2": 1 - u2, "u2": u2}, index=names)
        load.index.name = "item"
        return Omega(
            omega_total=float(total), omega_h=float("nan"), omega_cfa=float(omega_cfa),
            alpha=float(std_alpha), loadings=load, n=n,
        )
    if facets is not None:
        target, factor_names = _facet_target(facets, names)
        m = target.shape[1]
        rotation = "target"
    else:
        m = check_int(n_groups, name="n_groups", minimum=2, func="omega")
        factor_names = [f"F{i + 1}" for i in range(m)]
        rotation = "oblimin"
        target = None
    if k < m + 1:
        raise PsychometricsError(
            "too-few-items",
            f"The 'items' parameter of omega must have more items than group factors "
            f"({m}); got {k}.",
        )
    return _schmid_leiman(r, names, m, factor_names, target, rotation, n, omega_cfa, std_alpha)


def _flip_total(r: np.ndarray, g: np.ndarray) -> float:
    """sum(R) after reversing items whose general loading is negative (psych's flip)."""
    key = np.where(g < 0, -1.0, 1.0)
    return float((r * key[:, None] * key[None, :]).sum())


def _facet_target(facets, names):
    if not isinstance(facets, Mapping) or len(facets) < 2:
        raise PsychometricsError(
            "invalid-value",
            "The 'facets' parameter of omega must map at least 2 facet names to lists of "
            f"item columns; got {facets!r}.",
        )
    target = np.zeros((len(names), len(facets)))
    seen = {}
    for j, (facet, cols) in enumerate(facets.items()):
        cols = check_columns(pd.DataFrame(columns=names), cols, name="facets", func="omega")
        for col in cols:
            if col in seen:
                raise PsychometricsError(
                    "invalid-value",
                    f"The 'facets' parameter of omega must put each item in one facet; "
                    f"{col!r} is in {seen[col]!r} and {facet!r}.",
                )
            seen[col] = facet
            target[names.index(col), j] = 1.0
    unassigned = [c for c in names if c not in seen]
    if unassigned:
        raise PsychometricsError(
            "invalid-value",
            "The 'facets' parameter of omega must assign every item to a facet; missing: "
            f"{', '.join(map(repr, unassigned))}.",
        )
    return target, [str(f) for f in facets]


def _schmid_leiman(r, names, m, factor_names, target, rotation, n, omega_cfa, std_alpha):
    orth, _ = _minres(r, m)
    if target is None:
        pattern, phi = _oblimin(orth)
    else:
        pattern, phi = _target_rotation(orth, target)
    signs = np.where(pattern.sum(axis=0) < 0, -1.0, 1.0)
    pattern = pattern * signs
    phi = phi * signs[:, None] * signs[None, :]
    if m > 2:
        gload, _ = _minres(phi, 1)
        gload = gload[:, 0]
    else:
        g = np.sqrt(abs(phi[0, 1]))
        gload = np.array([g, np.sign(phi[0, 1]) * g])
    general = pattern @ gload
    h2 = (orth**2).sum(axis=1)
    u2 = 1.0 - h2
    group = np.sign(pattern) * np.sqrt(np.clip(pattern**2 * (1 - gload**2), 0.0, None))
    key = np.where(general < 0, -1.0, 1.0)
    rf = r * key[:, None] * key[None, :]
    general = general * key
    group = group * key[:, None]
    vt = rf.sum()
    omega_h = general.sum() ** 2 / vt
    total = (vt - u2.sum()) / vt
    load = pd.DataFrame(group, index=names, columns=[f"{f}*" for f in factor_names])
    load.insert(0, "g", general)
    load["h2"] = h2
    load["u2"] = u2
    load.index.name = "item"
    # psych's omega.group: each item belongs to the group factor it loads most on
    owner = np.abs(group).argmax(axis=1)
    rows = {"g": (total, general.sum() ** 2 / vt, np.nan)}
    grs = 0.0
    for j, fname in enumerate(factor_names):
        idx = np.flatnonzero(owner == j)
        if len(idx) == 0:
            rows[f"{fname}*"] = (np.nan, np.nan, np.nan)
            continue
        vg = rf[np.ix_(idx, idx)].sum()
        gr = group[idx, j].sum()
        gg = general[idx].sum()
        grs += gr**2
        rows[f"{fname}*"] = ((gr**2 + gg**2) / vg, gg**2 / vg, gr**2 / vg)
    rows["g"] = (total, general.sum() ** 2 / vt, grs / vt)
    groups = pd.DataFrame.from_dict(rows, orient="index", columns=["total", "general", "group"])
    return Omega(
        omega_total=float(total), omega_h=float(omega_h), omega_cfa=float(omega_cfa),
        alpha=float(std_alpha), loadings=load, n=n, n_factors=m, groups=groups,
        rotation=rotation,
    )


def _omega_cfa(c: np.ndarray, r: np.ndarray) -> float:
    """(sum lambda)^2 / sum(S) with ML one-factor loadings on the covariance metric.

    ML is scale invariant, so the loadings on the covariance matrix are the standardized
    ML loadings times the item SDs; the ratio does not depend on the n or n - 1 divisor.
    """
    lam, _ = _ml_one_factor(r)
    sd = np.sqrt(np.diag(c))
    return float((lam * sd).sum() ** 2 / c.sum())


# --------------------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class BootstrapReliability:
    """Bootstrap confidence intervals of reliability coefficients.

    Attributes
    ----------
    table : DataFrame indexed by (scale, statistic) with ``estimate`` (full sample),
        ``boot_mean``, ``se`` (SD of the replicates), ``ci_low``/``ci_high`` (percentile)
        and ``bca_low``/``bca_high`` (bias-corrected and accelerated, when ``bca``).
    replicates : DataFrame n_boot x (scale, statistic)
    n : rows used (listwise over all the items analysed)
    n_boot, ci, seed : as given
    """

    table: pd.DataFrame
    replicates: pd.DataFrame
    n: int
    n_boot: int
    ci: float
    seed: int | None

    def summary(self) -> str:
        return (
            f"Bootstrap reliability ({self.n_boot} resamples, n = {self.n}, {self.ci:.0%} CI)\n"
            + self.table.round(3).to_string()
        )


_BOOT_STATS = ("alpha", "std_alpha", "average_r", "omega")


def bootstrap_reliability(
    items: pd.DataFrame,
    n_boot: int = 1000,
    seed: int | None = None,
    ci: float = 0.95,
    statistics: Sequence[str] = ("alpha", "omega"),
    scales: Mapping[str, Sequence[str]] | None = None,
    bca: bool = True,
) -> BootstrapReliability:
    """Bootstrap CIs of alpha / standardized alpha / average r / omega total, vectorized.

    Rows are resampled with replacement ``n_boot`` times (listwise-complete rows); the
    resamples are held as an (n_boot x n) array of row counts, and every covariance
    matrix comes from one matrix product, for all resamples (and all ``scales``) at
    once. ``omega`` in each resample is psych's one-factor omega total, the minres fit
    being solved for all resamples at once by batched Newton steps on the loadings from
    the full-sample solution (to 1e-10; bounded principal-axis iterations for the rare
    resample with a Heywood case or no Newton convergence). This is the minres optimum
    itself, not an approximation: it equals :func:`omega` up to the convergence
    tolerance (tested to 1e-6). Percentile intervals (numpy's default quantile, R's type 7)
    and BCa intervals (jackknife acceleration) when ``bca``.

    ``items`` is one scale, or with ``scales={"TRU": [...], ...}`` a DataFrame holding
    the columns of several scales (rows complete on all of them are used).

    Example
    -------
    >>> b = pm.bootstrap_reliability(df[cols], n_boot=1000, seed=1)
    >>> b.table.loc[("scale", "alpha"), ["ci_low", "ci_high"]]
    >>> # R: psych::alpha(df[, cols], n.iter = 1000)$boot.ci
    """
    func = "bootstrap_reliability"
    n_boot = check_int(n_boot, name="n_boot", minimum=2, func=func)
    ci = check_fraction(ci, name="ci", func=func)
    statistics = _boot_statistics(statistics, func)
    x, scales = _boot_items(items, scales, func)
    values = x.to_numpy()
    names = list(x.columns)
    covs = _resampled_covs(values, n_boot, seed)  # (B, p, p)
    full = np.cov(values, rowvar=False)[None]
    # jackknife (leave one row out) covariances for BCa
    jack = _jackknife_covs(values) if bca else None

    est, reps, jacks = {}, {}, {}
    for sname, cols in scales.items():
        pos = [names.index(c) for c in cols]
        cf = full[np.ix_(np.arange(1), pos, pos)]
        start = None
        if "omega" in statistics:
            lam, psi = _minres(_cov2cor(cf[0]), 1)
            start = (lam[:, 0], np.clip(psi, _PSI_MIN, 1.0))
        for stat in statistics:
            est[(sname, stat)] = _batch_stat(stat, cf, start)[0]
            reps[(sname, stat)] = _batch_stat(stat, covs[:, pos][:, :, pos], start)
            if bca:
                jacks[(sname, stat)] = _batch_stat(stat, jack[:, pos][:, :, pos], start)
    keys = list(est)
    index = pd.MultiIndex.from_tuples(keys, names=["scale", "statistic"])
    rep = pd.DataFrame({k: reps[k] for k in keys})
    rep.columns = index
    rows = [_boot_row(reps[k], est[k], jacks.get(k), ci) for k in keys]
    return BootstrapReliability(
        table=pd.DataFrame(rows, index=index), replicates=rep, n=len(values), n_boot=n_boot,
        ci=ci, seed=seed,
    )


def _boot_statistics(statistics, func: str) -> tuple:
    """The statistics asked for, each one of ``_BOOT_STATS``, at least one."""
    if isinstance(statistics, str):
        statistics = (statistics,)
    statistics = tuple(statistics)
    if not statistics:
        raise PsychometricsError(
            "invalid-value", f"The 'statistics' parameter of {func} must name at least one "
            f"of {', '.join(map(repr, _BOOT_STATS))}; got none.")
    for s in statistics:
        check_choice(s, name="statistics", choices=_BOOT_STATS, func=func)
    return statistics


def _boot_items(items, scales, func: str) -> tuple[pd.DataFrame, Mapping]:
    """The complete rows of every scale's items, and the scales (one of all columns by default)."""
    if scales is None:
        x, _ = complete_items(items, name="items", func=func, min_rows=3, min_items=2)
        return x, {"scale": list(x.columns)}
    if not isinstance(items, pd.DataFrame):
        as_items(items, name="items", func=func)
    cols = []
    for s, v in scales.items():
        check_columns(items, v, name="scales", func=func)
        if len(v) < 2:
            raise PsychometricsError(
                "too-few-items", f"The 'scales' parameter of {func} must give each scale "
                f"at least 2 items; {s!r} has {len(v)}.")
        cols += [c for c in v if c not in cols]
    x, _ = complete_items(items[cols], name="items", func=func, min_rows=3, min_items=2)
    return x, scales


def _boot_row(b: np.ndarray, estimate: float, jack: np.ndarray | None, ci: float) -> dict:
    """One row of the bootstrap table: estimate, mean, se, percentile (and BCa) interval."""
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    ok = np.isfinite(b)
    row = {
        "estimate": estimate,
        "boot_mean": float(np.mean(b[ok])),
        "se": float(np.std(b[ok], ddof=1)),
        "ci_low": float(np.quantile(b[ok], lo_q)),
        "ci_high": float(np.quantile(b[ok], hi_q)),
    }
    if jack is not None:
        row["bca_low"], row["bca_high"] = _bca(b[ok], estimate, jack, lo_q, hi_q)
    return row


#: Most resampled row counts held at once (resamples x rows): the bootstrap runs in chunks
#: of resamples, so 1,000 resamples of 100,000 rows take ~50 MB, not 3.5 GB.
_BOOT_CELLS = 2_000_000


def _resampled_covs(values: np.ndarray, n_boot: int, seed) -> np.ndarray:
    """The covariance matrix of each of ``n_boot`` resamples of the rows, drawn in chunks of
    resamples (the same draws, in the same order, as one draw of ``(n_boot, n)`` indices)."""
    n, p = values.shape
    rng = np.random.default_rng(seed)
    centred = values - values.mean(axis=0)
    outer = (centred[:, :, None] * centred[:, None, :]).reshape(n, p * p)
    step = max(1, _BOOT_CELLS // max(n, 1))
    covs = np.empty((n_boot, p, p))
    for start in range(0, n_boot, step):
        b = min(step, n_boot - start)
        idx = rng.integers(0, n, size=(b, n))
        counts = np.bincount((idx + n * np.arange(b)[:, None]).ravel(), minlength=n * b).reshape(b, n).astype(float)
        covs[start : start + b] = _weighted_covs(centred, counts, outer)
    return covs


def _weighted_covs(centred: np.ndarray, counts: np.ndarray, outer: np.ndarray) -> np.ndarray:
    """Covariance matrices (n - 1 divisor) of every resample given as row counts (B x n), from
    the centred rows and their outer products (n x p*p)."""
    n, p = centred.shape
    sums = counts @ centred  # (B, p)
    cross = (counts @ outer).reshape(-1, p, p)
    return (cross - sums[:, :, None] * sums[:, None, :] / n) / (n - 1)


def _jackknife_covs(values: np.ndarray) -> np.ndarray:
    """Covariance matrices with each row left out in turn (n x p x p)."""
    n = values.shape[0]
    centred = values - values.mean(axis=0)
    total = centred.T @ centred
    outer = centred[:, :, None] * centred[:, None, :]
    m = n - 1
    # left-out row i: sum of the others is -centred[i]; cross products total - outer_i
    sums = -centred
    return (total[None] - outer - sums[:, :, None] * sums[:, None, :] / m) / (m - 1)


def _batch_stat(stat: str, c: np.ndarray, start: tuple | None) -> np.ndarray:
    k = c.shape[-1]
    r = _cov2cor(c)
    sum_r = r.sum(axis=(1, 2))
    if stat == "alpha":
        return (1 - np.trace(c, axis1=1, axis2=2) / c.sum(axis=(1, 2))) * k / (k - 1)
    if stat == "std_alpha":
        return (1 - k / sum_r) * k / (k - 1)
    if stat == "average_r":
        return (sum_r - k) / (k * (k - 1))
    psi = _batch_one_factor(r, *start)
    return (sum_r - psi.sum(axis=1)) / sum_r


def _batch_one_factor(
    r: np.ndarray, lam_start: np.ndarray, psi_start: np.ndarray, tol: float = 1e-10
) -> np.ndarray:
    """Uniquenesses of one-factor minres fits to a stack of correlation matrices (B x k x k).

    Batched Newton iterations on the loadings for the off-diagonal least-squares
    criterion sum_{i != j} (r_ij - l_i l_j)^2 (psych's minres criterion), from the
    full-sample solution: quadratic convergence, a few batched k x k solves. Matrices
    where Newton fails, or whose solution breaks psych's bound (uniqueness < 0.005, a
    Heywood case), are refitted by bounded principal-axis iterations instead.
    """
    b, k, _ = r.shape
    lam = np.broadcast_to(lam_start, (b, k)).copy()
    eye = np.eye(k, dtype=bool)
    off = np.where(eye, 0.0, r)
    ok = np.zeros(b, dtype=bool)
    active = np.arange(b)
    for _ in range(50):
        lm = lam[active]
        ro = off[active]
        outer = lm[:, :, None] * lm[:, None, :]
        sq = (lm**2).sum(axis=1, keepdims=True) - lm**2  # sum over j != i of l_j^2
        grad = sq * lm - np.einsum("bij,bj->bi", ro, lm)
        hess = np.where(eye, 0.0, 2 * outer - ro)
        hess[:, eye] = sq
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                break
        bad = ~np.all(np.isfinite(step), axis=1)
        step[bad] = 0.0
        lam[active] = lm - step
        moved = np.abs(step).max(axis=1)
        done = (moved < tol) & ~bad
        ok[active[done]] = True
        active = active[~done & ~bad]
        if active.size == 0:
            break
    lam2 = lam**2
    ok &= np.all(lam2 <= 1.0 - _PSI_MIN, axis=1) & np.all(np.isfinite(lam2), axis=1)
    psi = np.diagonal(r, axis1=1, axis2=2) - lam2
    redo = np.flatnonzero(~ok)
    if redo.size:
        psi[redo] = _batch_principal_axis(r[redo], psi_start)
    return psi


def _batch_principal_axis(
    r: np.ndarray, psi_start: np.ndarray, tol: float = 1e-9, maxit: int = 2000
) -> np.ndarray:
    """Bounded principal-axis iterations (the fallback of :func:`_batch_one_factor`)."""
    b, k, _ = r.shape
    psi = np.broadcast_to(psi_start, (b, k)).copy()
    active = np.arange(b)
    eye = np.eye(k)
    for _ in range(maxit):
        rr = r[active] - psi[active][:, :, None] * eye
        vals, vecs = np.linalg.eigh(rr)
        lam2 = vecs[:, :, -1] ** 2 * np.maximum(vals[:, -1], 0.0)[:, None]
        new = np.clip(np.diagonal(r[active], axis1=1, axis2=2) - lam2, _PSI_MIN, 1.0)
        moved = np.abs(new - psi[active]).max(axis=1)
        psi[active] = new
        active = active[moved >= tol]
        if active.size == 0:
            break
    return psi


def _bca(boot, estimate, jack, lo_q, hi_q):
    """Bias-corrected and accelerated percentile interval (Efron 1987)."""
    prop = np.mean(boot < estimate) + 0.5 * np.mean(boot == estimate)
    if prop <= 0 or prop >= 1 or not np.all(np.isfinite(jack)):
        return float("nan"), float("nan")
    z0 = special.ndtri(prop)
    d = jack.mean() - jack
    denom = 6 * (d**2).sum() ** 1.5
    acc = (d**3).sum() / denom if denom > 0 else 0.0
    out = []
    for q in (lo_q, hi_q):
        z = special.ndtri(q)
        adj = special.ndtr(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        out.append(float(np.quantile(boot, adj)))
    return out[0], out[1]


# --------------------------------------------------------------------------- ordinal


@dataclass(frozen=True)
class OrdinalReliability:
    """Ordinal alpha and omega from the polychoric correlations (Zumbo et al. 2007).

    Attributes
    ----------
    alpha : ordinal alpha, the standardized-alpha formula on the polychoric matrix
    omega_total : psych's one-factor omega total of the polychoric matrix
    average_r : mean polychoric correlation
    loadings : Series, one-factor minres loadings on the polychoric matrix
    rho : DataFrame, the polychoric matrix used
    n : rows used (listwise)
    """

    alpha: float
    omega_total: float
    average_r: float
    loadings: pd.Series
    rho: pd.DataFrame
    n: int

    def summary(self) -> str:
        return (
            f"Ordinal reliability (polychoric, n = {self.n}, {len(self.loadings)} items)\n"
            f"  ordinal alpha {self.alpha:.3f}   ordinal omega {self.omega_total:.3f}   "
            f"average r {self.average_r:.3f}"
        )


def ordinal_reliability(items: pd.DataFrame) -> OrdinalReliability:
    """Ordinal alpha and omega (Zumbo, Gadermann & Zeisser 2007) of one scale.

    The polychoric matrix (see ``pm.polychoric_full``) of the listwise-complete rows
    replaces the Pearson one: ordinal alpha = k/(k-1) (1 - k / sum(R_poly)), ordinal
    omega = psych's one-factor minres omega total of R_poly.

    Example
    -------
    >>> pm.ordinal_reliability(df[cols]).alpha
    >>> # R: pc <- psych::polychoric(df[, cols], correct = 0)$rho
    >>> # R: psych::alpha(pc)$total$raw_alpha; psych::omega(pc, nfactors = 1)$omega.tot
    """
    from psychometrics.correlation import polychoric_full

    x, _ = complete_items(items, name="items", func="ordinal_reliability", min_rows=3, min_items=2)
    pc = polychoric_full(x)
    r = pc.rho.to_numpy()
    k = r.shape[0]
    lam, u2 = _minres(r, 1)
    vt = _flip_total(r, lam[:, 0])
    return OrdinalReliability(
        alpha=float((1 - k / r.sum()) * k / (k - 1)),
        omega_total=float((vt - u2.sum()) / vt),
        average_r=float((r.sum() - k) / (k * (k - 1))),
        loadings=pd.Series(lam[:, 0], index=pc.rho.index, name="loading"),
        rho=pc.rho,
        n=len(x),
    )


# --------------------------------------------------------------------------- numbers only


def _complete_covariance(x: np.ndarray) -> np.ndarray | None:
    """Covariance of the complete rows of ``x``; None when alpha/omega would refuse them
    (fewer than 3 complete rows, an item constant on them)."""
    x = x[~np.isnan(x).any(axis=1)]
    if len(x) < 3 or x.shape[1] < 2 or (x.min(axis=0) == x.max(axis=0)).any():
        return None
    return np.cov(x, rowvar=False)


def alpha_numbers(x: np.ndarray, ci: float = 0.95) -> tuple[float, float, float] | None:
    """``pm.alpha(items)``'s ``alpha, ci_low, ci_high`` from an array (rows x items, NaN for
    a blank; listwise), without the item table: what a Monte Carlo replication needs, the
    same numbers. None when ``pm.alpha`` would refuse the rows: call it for its coded error."""
    c = _complete_covariance(x)
    if c is None:
        return None
    a = _alpha_parts(c, _cov2cor(c))["alpha"]
    n = int((~np.isnan(x).any(axis=1)).sum())
    return (float(a), *_feldt(a, n, c.shape[0], ci))


def omega_total_numbers(x: np.ndarray) -> float | None:
    """``pm.omega(items).omega_total`` from an array (as :func:`alpha_numbers`; the
    one-factor ML ``omega_cfa`` is not computed). None when ``pm.omega`` would refuse the rows."""
    c = _complete_covariance(x)
    if c is None:
        return None
    r = _cov2cor(c)
    lam, u2 = _minres(r, 1)
    if lam[:, 0].sum() < 0:
        lam = -lam
    vt = _flip_total(r, lam[:, 0])
    return float((vt - u2.sum()) / vt)
