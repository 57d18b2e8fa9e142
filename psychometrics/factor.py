"""Exploratory factor analysis and the number of factors, matching R's psych.

* :func:`efa`: ``psych::fa`` with ``fm = "minres"``, ``"ml"`` or ``"pa"`` and rotation
  ``oblimin``, ``varimax``, ``promax``, ``geominQ`` or none.
* :func:`map_test`: Velicer's minimum average partial, as ``psych::vss(x)$map``.
* :func:`parallel_analysis`: Horn's parallel analysis, as ``psych::fa.parallel`` (simulated
  normal data), vectorized.
* :func:`scree`: eigenvalues of the correlation matrix.

How psych::fa proceeds, and therefore how :func:`efa` proceeds
---------------------------------------------------------------
1. Correlations (Pearson, or polychoric), squared multiple correlations (SMC) as the start.
2. Extraction.
   ``minres``: the uniquenesses ``psi`` minimize the sum of squared off-diagonal residuals of
   ``R - L L'`` where ``L`` holds the first ``k`` eigenvectors of ``R - diag(psi)`` scaled by
   the square roots of their eigenvalues; L-BFGS-B from ``psi = 1 - SMC`` within
   ``[0.005, 1]``, with psych's gradient, parameter scale 0.01, ``factr = 1e7``, 5 memory
   pairs and 100 iterations (R ``optim``'s defaults as psych calls it).
   ``ml``: the same optimizer on the maximum likelihood discrepancy.
   ``pa``: iterated principal axes: SMC on the diagonal, eigen-decompose, put the new
   communalities on the diagonal, stop when their sum changes by less than 0.001 (at most
   50 iterations). (factor_analyzer's "principal" is a one-step principal components
   solution, not this.)
3. Each column's sign is set so that its sum is positive; rotation (see
   :mod:`psychometrics.rotation`); signs set positive again; factors are named
   ``MR1..MRk`` / ``ML1..`` / ``PA1..`` in that (rotated) order, then **sorted** by the
   variance they account for (``diag(Phi L'L)``). Names thus follow psych exactly, e.g.
   ``MR2, MR1, MR3`` when the second rotated factor is the largest.
4. Communalities are ``diag(L Phi L')``; uniquenesses ``1 - communality``.

Heywood cases are detected and reported, never clipped: an item whose communality reaches 1
(ultra-Heywood above 1), or whose uniqueness sits at the optimizer's lower bound (0.005),
is listed in ``EFA.heywood`` and explained in ``EFA.warnings``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from psychometrics._checks import as_items, check_choice, check_int, complete_items
from psychometrics.errors import PsychometricsError
from psychometrics.rotation import OBLIQUE, rotate

__all__ = ["EFA", "MAP", "Parallel", "efa", "map_test", "parallel_analysis", "scree"]

METHODS = ("minres", "ml", "pa")
ROTATIONS = ("oblimin", "varimax", "promax", "geomin", None)
CORRS = ("pearson", "polychoric")
MISSING = ("listwise", "pairwise")
_PREFIX = {"minres": "MR", "ml": "ML", "pa": "PA"}
_LOWER = 0.005  # psych's lower bound on uniquenesses (minres, ml)
_EPS = np.finfo(float).eps


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class EFA:
    """Result of :func:`efa` (labelled like ``psych::fa``)."""

    loadings: pd.DataFrame  # items x factors (pattern matrix), columns MR2, MR1, ... as psych
    communalities: pd.Series  # diag(L Phi L'), psych's ``communality``
    uniquenesses: pd.Series  # 1 - communality
    phi: pd.DataFrame  # factor correlations (identity for orthogonal / no rotation)
    structure: pd.DataFrame  # L Phi
    variance: pd.DataFrame  # rows ss_loadings, proportion, cumulative, proportion_explained,
    #                         cumulative_proportion (psych's Vaccounted)
    eigenvalues: pd.Series  # of the correlation matrix (psych's e.values)
    correlation: pd.DataFrame  # the matrix analysed
    heywood: list[str]  # items with communality >= 1 or uniqueness at the 0.005 bound
    warnings: list[str]  # plain-language notes: Heywood cases, non-convergence
    n: int  # rows used (listwise: complete rows; pairwise: rows with >= 2 answers)
    n_factors: int
    method: str
    rotation: str | None
    corr: str
    missing: str
    converged: bool  # extraction (and rotation) converged
    iterations: int  # extraction iterations (optimizer iterations, or pa cycles)
    dof: int  # p(p-1)/2 - pk + k(k-1)/2
    rms: float  # root mean square of the off-diagonal residuals (psych's ``rms``)
    extra: dict = field(default_factory=dict, repr=False)

    @property
    def oblique(self) -> bool:
        return self.rotation in OBLIQUE and self.n_factors > 1

    def summary(self, cut: float = 0.0, digits: int = 2) -> str:
        """Plain-text report like ``print(psych::fa(...))``: loadings with h2/u2, variance, phi."""
        rot = self.rotation or "none"
        lines = [
            f"Factor analysis: method = {self.method}, rotation = {rot}, "
            f"{self.n_factors} factor(s), n = {self.n} ({self.missing}, {self.corr} correlations)",
            "",
        ]
        table = self.loadings.copy()
        if cut > 0:
            table = table.where(table.abs() >= cut)
        table["h2"] = self.communalities
        table["u2"] = self.uniquenesses
        lines.append(table.to_string(float_format=lambda v: f"{v:.{digits}f}", na_rep=""))
        lines += ["", self.variance.to_string(float_format=lambda v: f"{v:.{digits}f}")]
        if self.oblique:
            lines += ["", "Factor correlations (phi):",
                      self.phi.to_string(float_format=lambda v: f"{v:.{digits}f}")]
        lines += ["", f"Degrees of freedom: {self.dof}; RMSR: {self.rms:.{digits + 1}f}; "
                  f"converged: {self.converged}"]
        if self.warnings:
            lines += ["", "Warnings:", *[f"  - {w}" for w in self.warnings]]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True)
class MAP:
    """Result of :func:`map_test`: Velicer's average squared partial correlation."""

    values: pd.Series  # index 1..k: average squared partial r after removing i components
    n_factors: int  # index of the smallest value
    n: int


@dataclass(frozen=True)
class Parallel:
    """Result of :func:`parallel_analysis`."""

    n_factors: int  # leading observed eigenvalues above the simulated threshold
    eigenvalues: pd.Series  # observed (index 1..p)
    simulated: pd.DataFrame  # columns mean, quantile (index 1..p)
    table: pd.DataFrame  # observed, sim_mean, sim_quantile, threshold, retained
    method: str  # "pc" or "fa"
    quantile: float | str  # 0.95, or "mean"
    n_iter: int
    n: int
    seed: int | None


# --------------------------------------------------------------------------- input


def _single_threaded(func):
    """Run with one BLAS thread: the matrices here are small (items x items), and with
    numpy's and scipy's OpenBLAS pools both spinning, threads made a 32-item fit ~10x slower
    on a busy 2-core machine."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


def _check_options(func: str, **options) -> None:
    allowed = {"method": METHODS, "rotation": ROTATIONS, "corr": CORRS, "missing": MISSING}
    for name, value in options.items():
        check_choice(value, name=name, choices=allowed[name], func=func)


def _pairwise_pearson(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``cor(x, use = "pairwise")``: each pair on its jointly answered rows."""
    m = ~np.isnan(values)
    x = np.where(m, values, 0.0)
    mf = m.astype(float)
    n = mf.T @ mf
    sx = x.T @ mf  # sx[i, j]: sum of item i over rows where j answered (and i answered)
    sxx = (x**2).T @ mf
    sxy = x.T @ x
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        var_i = sxx - sx**2 / n
        r = cov / np.sqrt(var_i * var_i.T)
    np.fill_diagonal(r, 1.0)
    return r, n


def _prepare(data, func: str, corr: str, missing: str, min_items: int = 2):
    """Checked data -> (correlation matrix, item names, rows used, pairwise counts or None)."""
    if missing == "listwise":
        x, _ = complete_items(data, name="data", func=func, min_items=min_items, min_rows=3)
        n = len(x)
        r = np.corrcoef(x.to_numpy(), rowvar=False) if corr == "pearson" else _polychoric(x)
        counts = None
    else:
        x = as_items(data, name="data", func=func, min_items=min_items, min_rows=3)
        values = x.to_numpy()
        if corr == "pearson":
            r, counts = _pairwise_pearson(values)
            least = int(counts.min())
            if least < 3:
                i, j = np.unravel_index(np.argmin(counts), counts.shape)
                raise PsychometricsError(
                    "too-few-rows",
                    f"The 'data' parameter of {func} must have at least 3 rows answering both "
                    f"items of every pair for pairwise correlations; columns "
                    f"{str(x.columns[i])!r} and {str(x.columns[j])!r} share {least}.",
                )
        else:
            r = _polychoric(x)
            mf = np.isfinite(values).astype(float)
            counts = mf.T @ mf
        n = int((np.isfinite(values).sum(axis=1) >= 2).sum())
    r = np.asarray(r, dtype=float)
    if not np.isfinite(r).all():
        i, j = np.argwhere(~np.isfinite(r))[0]
        raise PsychometricsError(
            "undefined-correlation",
            f"The 'data' parameter of {func} gives no correlation between columns "
            f"{str(x.columns[i])!r} and {str(x.columns[j])!r} (an item is constant on the rows "
            "they share); drop one of them or use missing='listwise'.",
        )
    return r, list(x.columns), n, counts


def _polychoric(x: pd.DataFrame) -> np.ndarray:
    from psychometrics.correlation import polychoric

    return polychoric(x).loc[x.columns, x.columns].to_numpy(dtype=float)


def _eigh_desc(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w, v = np.linalg.eigh(a)
    return w[::-1], v[:, ::-1]


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlations ``1 - 1/diag(R^+)`` clipped to [0, 1] (psych::smc)."""
    s = 1 - 1 / np.diag(np.linalg.pinv(r, hermitian=True))
    return np.clip(s, 0.0, 1.0)


# --------------------------------------------------------------------------- extraction


def _minres_fn(psi, r, k):
    s = r.copy()
    np.fill_diagonal(s, 1 - psi)
    w, v = _eigh_desc(s)
    w = np.where(w < _EPS, 100 * _EPS, w)
    load = v[:, :k] * np.sqrt(w[:k])
    res = (s - load @ load.T)[np.tril_indices_from(s, -1)]
    return float(res @ res)


def _minres_gr(psi, r, k):
    w, v = _eigh_desc(r - np.diag(psi))
    load = v[:, :k] * np.sqrt(np.maximum(w[:k], 0))
    return (load**2).sum(axis=1) + psi - np.diag(r)


def _ml_load(psi, r, k):
    sc = 1 / np.sqrt(psi)
    w, v = _eigh_desc(r * sc[:, None] * sc[None, :])
    load = v[:, :k] * np.sqrt(np.maximum(w[:k] - 1, 0))
    return load * np.sqrt(psi)[:, None], w


def _ml_fn(psi, r, k):
    sc = 1 / np.sqrt(psi)
    e = np.linalg.eigvalsh(r * sc[:, None] * sc[None, :])[::-1][k:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(-(np.sum(np.log(e) - e) - k + r.shape[0]))


def _ml_gr(psi, r, k):
    load, _ = _ml_load(psi, r, k)
    g = (load**2).sum(axis=1) + psi - np.diag(r)
    return g / psi**2


def _optimize(fn, gr, r, k):
    """psych's call: optim(start, fn, gr, "L-BFGS-B", lower = .005, upper = 1,
    control = list(parscale = rep(.01, p))) (factr 1e7, lmm 5, maxit 100)."""
    start = 1 - smc(r)
    upper = max(float(smc(r).max()), 1.0)
    scale = 0.01

    def fun(z):
        psi = z * scale
        return fn(psi, r, k), gr(psi, r, k) * scale

    res = minimize(
        fun, start / scale, jac=True, method="L-BFGS-B",
        bounds=[(_LOWER / scale, upper / scale)] * len(start),
        options={"maxcor": 5, "ftol": 1e7 * _EPS, "gtol": 0.0, "maxiter": 100},
    )
    psi = res.x * scale
    return psi, res


def _extract(r: np.ndarray, k: int, method: str):
    """Unrotated loadings, psi (or None), converged, iterations, notes."""
    notes: list[str] = []
    if method == "minres":
        psi, res = _optimize(_minres_fn, _minres_gr, r, k)
        w, v = _eigh_desc(r - np.diag(psi))
        load = v[:, :k] * np.sqrt(np.maximum(w[:k], 0))
        return load, psi, _optim_ok(res, notes), int(res.nit), notes
    if method == "ml":
        psi, res = _optimize(_ml_fn, _ml_gr, r, k)
        load, _ = _ml_load(psi, r, k)
        return load, psi, _optim_ok(res, notes), int(res.nit), notes
    # principal axis, iterated (psych: min.err = .001, max.iter = 50)
    rm = r.copy()
    np.fill_diagonal(rm, smc(r))
    comm = float(np.trace(rm))
    converged = False
    load = None
    it = 0
    for it in range(1, 51):
        w, v = _eigh_desc(rm)
        if (w[:k] < 0).any():
            raise PsychometricsError(
                "pa-failed",
                f"The 'method' parameter of efa is 'pa', which failed: at iteration {it} the "
                f"reduced correlation matrix has a negative eigenvalue among its first {k} "
                "(imaginary loadings; psych::fa stops here too). Use a smaller 'n_factors' "
                "or method='minres'.",
            )
        load = v[:, :k] * np.sqrt(w[:k])
        new = (load**2).sum(axis=1)
        comm1 = float(new.sum())
        np.fill_diagonal(rm, new)
        if abs(comm - comm1) <= 0.001:
            converged = True
            break
        comm = comm1
    if not converged:
        notes.append("principal axis iterations did not converge in 50 cycles (psych's limit).")
    return load, None, converged, it, notes


def _optim_ok(res, notes: list[str]) -> bool:
    if res.status == 1:
        notes.append(f"the optimizer stopped at its iteration limit ({res.nit}) before converging.")
        return False
    if res.status not in (0,):
        # R's optim returns the same L-BFGS-B code ("ABNORMAL_TERMINATION_IN_LNSRCH") and psych
        # keeps the estimate; it happens when psych's approximate minres gradient stalls.
        notes.append(f"the optimizer stopped early: {res.message}.")
    return True


# --------------------------------------------------------------------------- efa


def _dof(p: int, k: int) -> int:
    return ((p - k) ** 2 - (p + k)) // 2


@_single_threaded
def efa(
    data: pd.DataFrame,
    n_factors: int,
    method: str = "minres",
    rotation: str | None = "oblimin",
    corr: str = "pearson",
    missing: str = "listwise",
) -> EFA:
    """Exploratory factor analysis, as ``psych::fa``.

    Parameters
    ----------
    data : DataFrame, one numeric column per item (missing as NA), already reverse keyed.
    n_factors : number of factors, at least 1, with non-negative degrees of freedom
        ``((p - k)^2 - (p + k)) / 2 >= 0`` (otherwise the model has more parameters than
        correlations and is not identified).
    method : ``"minres"`` (psych's default), ``"ml"`` or ``"pa"`` (iterated principal axis).
    rotation : ``"oblimin"`` (GPArotation quartimin, psych's default), ``"varimax"``,
        ``"promax"`` (psych's, power 4), ``"geomin"`` (GPArotation geominQ, delta 0.01), or
        ``None``.
    corr : ``"pearson"`` or ``"polychoric"``.
    missing : ``"listwise"`` (complete rows) or ``"pairwise"`` (each correlation on the rows
        answering both items, as R's ``use = "pairwise"``).

    Returns
    -------
    EFA with ``loadings``, ``communalities``, ``uniquenesses``, ``phi``, ``variance``,
    ``heywood``, ``warnings``, ``n``, ``converged`` ... and ``summary()``.

    Examples
    --------
    >>> import psychometrics as pm
    >>> fit = pm.efa(items, 4, method="minres", rotation="oblimin")  # doctest: +SKIP
    >>> fit.loadings.round(2)                                         # doctest: +SKIP

    R: ``psych::fa(items, nfactors = 4, fm = "minres", rotate = "oblimin")``
    (``rotation="geomin"`` is ``rotate = "geominQ"``; ``method="pa"`` is ``fm = "pa"``).
    """
    if isinstance(rotation, str) and rotation.lower() == "none":
        rotation = None
    _check_options("efa", method=method, rotation=rotation, corr=corr, missing=missing)
    k = check_int(n_factors, name="n_factors", minimum=1, func="efa")
    r, names, n, counts = _prepare(data, "efa", corr, missing)
    p = len(names)
    dof = _check_factor_count(r, k, method, corr, missing)
    load, psi, converged, iterations, notes = _extract(r, k, method)
    load = load * _col_signs(load)
    rot = rotate(load, rotation)
    if not rot.converged:
        notes.append(f"the {rotation} rotation did not converge.")
    lr, phi, order = _oriented(rot, oblique=rotation in OBLIQUE and k > 1)
    cols = [f"{_PREFIX[method]}{j + 1}" for j in order]

    h2 = np.diag(load @ load.T).copy()
    u2 = np.diag(r) - h2
    heywood, hw_notes = _heywood(names, h2, psi)
    return EFA(
        loadings=pd.DataFrame(lr, index=names, columns=cols),
        communalities=pd.Series(h2, index=names, name="communality"),
        uniquenesses=pd.Series(u2, index=names, name="uniqueness"),
        phi=pd.DataFrame(phi, index=cols, columns=cols),
        structure=pd.DataFrame(lr @ phi, index=names, columns=cols),
        variance=_variance_table(lr, phi, float(np.sum(h2 + u2)), cols),
        eigenvalues=pd.Series(_eigh_desc(r)[0], index=pd.RangeIndex(1, p + 1), name="eigenvalue"),
        correlation=pd.DataFrame(r, index=names, columns=names),
        heywood=heywood,
        warnings=hw_notes + notes,
        n=n,
        n_factors=k,
        method=method,
        rotation=rotation,
        corr=corr,
        missing=missing,
        converged=bool(converged and rot.converged),
        iterations=iterations,
        dof=dof,
        rms=_rms(r - lr @ phi @ lr.T, counts),
        extra={"uniqueness_estimates": None if psi is None else pd.Series(psi, index=names),
               "rotation_matrix": rot.rotmat[:, order]},
    )


def _check_factor_count(r: np.ndarray, k: int, method: str, corr: str, missing: str) -> int:
    """The model's degrees of freedom, or an error when ``k`` factors cannot be fitted to ``r``."""
    p = r.shape[0]
    dof = _dof(p, k)
    if k >= p or dof < 0:
        most = max(j for j in range(0, p) if _dof(p, j) >= 0)
        raise PsychometricsError(
            "too-many-factors",
            f"The 'n_factors' parameter of efa must leave non-negative degrees of freedom, "
            f"(p - k)^2 - (p + k) >= 0: at most {most} factor(s) for {p} items; got {k}.",
        )
    if method == "ml" and np.linalg.eigvalsh(r)[0] <= 0:
        raise PsychometricsError(
            "not-positive-definite",
            "The 'method' parameter of efa is 'ml', which needs a positive definite "
            f"correlation matrix; the {corr} correlations ({missing}) are not. Use "
            "method='minres' or missing='listwise'.",
        )
    return dof


def _oriented(rot, oblique: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rotated loadings and phi with positive column sums, factors by variance explained
    (as psych orders them); ``order`` maps new columns to the extraction's."""
    lr, phi = rot.loadings, rot.phi
    s = _col_signs(lr)
    lr = lr * s
    phi = phi * s[:, None] * s[None, :]
    ev = np.diag(phi @ lr.T @ lr) if oblique else (lr**2).sum(axis=0)
    order = np.argsort(-ev, kind="stable")
    lr = lr[:, order]
    phi = phi[np.ix_(order, order)] if oblique else np.eye(lr.shape[1])
    return lr, phi, order


def _rms(resid: np.ndarray, counts: np.ndarray | None) -> float:
    """psych's root mean square off-diagonal residual (weighted by pairwise n when given)."""
    p = resid.shape[0]
    off = ~np.eye(p, dtype=bool)
    if counts is None:
        return float(np.sqrt(np.sum(resid[off] ** 2) / (p * (p - 1))))
    # psych weights each residual by its pairwise n, over their harmonic mean
    nh = counts.size / np.sum(1 / counts)
    return float(np.sqrt(np.sum(resid[off] ** 2 * counts[off]) / (nh * p * (p - 1))))


def _variance_table(lr: np.ndarray, phi: np.ndarray, vtotal: float, cols: list) -> pd.DataFrame:
    """psych's ``Vaccounted``: SS loadings and the proportions of variance they explain."""
    vx = np.diag(phi @ lr.T @ lr)
    return pd.DataFrame(
        [vx, vx / vtotal, np.cumsum(vx / vtotal), vx / vx.sum(), np.cumsum(vx / vx.sum())],
        index=["ss_loadings", "proportion", "cumulative", "proportion_explained",
               "cumulative_proportion"],
        columns=cols,
    )


def _col_signs(a: np.ndarray) -> np.ndarray:
    s = np.sign(a.sum(axis=0))
    s[s == 0] = 1
    return s


def _heywood(names, h2, psi) -> tuple[list[str], list[str]]:
    items, notes = [], []
    for j, name in enumerate(names):
        if h2[j] > 1:
            items.append(str(name))
            notes.append(f"ultra-Heywood case: item {name!s} has communality {h2[j]:.4f} > 1 "
                         "(negative uniqueness); the solution is improper.")
        elif h2[j] >= 1 - 1e-9:
            items.append(str(name))
            notes.append(f"Heywood case: item {name!s} has communality 1 (uniqueness 0).")
        elif psi is not None and psi[j] <= _LOWER + 1e-8:
            items.append(str(name))
            notes.append(f"Heywood case: the uniqueness of item {name!s} is at the estimation "
                         f"bound {_LOWER} (communality {h2[j]:.4f}); the unbounded estimate "
                         "would be 0 or negative.")
    return items, notes


# --------------------------------------------------------------------------- MAP, scree


@_single_threaded
def map_test(
    data: pd.DataFrame,
    max_factors: int = 8,
    corr: str = "pearson",
    missing: str = "listwise",
) -> MAP:
    """Velicer's minimum average partial (MAP) test, as ``psych::vss(x, n = 8)$map``.

    For ``i = 1 .. min(max_factors, p - 1)`` the first ``i`` principal components are
    partialled out of the correlation matrix; the value is the mean squared off-diagonal
    partial correlation. The suggested number of factors is the ``i`` with the smallest value.

    Examples
    --------
    >>> pm.map_test(items).values  # doctest: +SKIP

    R: ``psych::vss(items, n = 8, plot = FALSE)$map``
    """
    _check_options("map_test", corr=corr, missing=missing)
    kmax = check_int(max_factors, name="max_factors", minimum=1, func="map_test")
    r, _, n, _ = _prepare(data, "map_test", corr, missing, min_items=3)
    p = r.shape[0]
    m = min(kmax, p - 1)
    w, v = _eigh_desc(r)
    comp = v * np.sqrt(w)
    values = np.empty(m)
    off = ~np.eye(p, dtype=bool)
    for i in range(1, m + 1):
        c = r - comp[:, :i] @ comp[:, :i].T
        d = 1 / np.sqrt(np.diag(c))
        rs = c * d[:, None] * d[None, :]
        values[i - 1] = np.sum(rs[off] ** 2) / (p * (p - 1))
    series = pd.Series(values, index=pd.RangeIndex(1, m + 1, name="n_factors"), name="map")
    return MAP(values=series, n_factors=int(np.nanargmin(values)) + 1, n=n)


@_single_threaded
def scree(data: pd.DataFrame, corr: str = "pearson", missing: str = "listwise") -> pd.DataFrame:
    """Eigenvalues of the correlation matrix with the proportion and cumulative proportion.

    R: ``eigen(cor(items))$values``
    """
    _check_options("scree", corr=corr, missing=missing)
    r, _, _, _ = _prepare(data, "scree", corr, missing)
    w = _eigh_desc(r)[0]
    prop = w / w.sum()
    return pd.DataFrame(
        {"eigenvalue": w, "proportion": prop, "cumulative": np.cumsum(prop)},
        index=pd.RangeIndex(1, len(w) + 1, name="component"),
    )


# --------------------------------------------------------------------------- parallel


def _simulated_correlations(rng: np.random.Generator, n: int, p: int, n_iter: int) -> np.ndarray:
    """``n_iter`` correlation matrices of ``n`` independent standard normal rows (stacked).

    The centred cross-product matrix of ``n`` N(0, I_p) rows is Wishart(n - 1, I_p); it is
    drawn directly by Bartlett's decomposition ``W = T T'`` (T lower triangular, chi
    variates with ``n - 1 - i`` degrees of freedom on the diagonal, N(0, 1) below), which
    has exactly the distribution of ``cor(matrix(rnorm(n * p), n))`` in psych::fa.parallel
    at O(p^2) per replicate instead of O(n p^2). When ``n - 1 < p`` the data are drawn.
    """
    df = n - 1
    if df >= p:
        t = np.zeros((n_iter, p, p))
        rows, cols = np.tril_indices(p, -1)
        t[:, rows, cols] = rng.standard_normal((n_iter, rows.size))
        diag = np.arange(p)
        t[:, diag, diag] = np.sqrt(rng.chisquare(df - diag, size=(n_iter, p)))
        w = t @ t.transpose(0, 2, 1)
    else:
        x = rng.standard_normal((n_iter, n, p))
        x -= x.mean(axis=1, keepdims=True)
        w = x.transpose(0, 2, 1) @ x
    d = 1 / np.sqrt(np.einsum("kii->ki", w))
    return w * d[:, :, None] * d[:, None, :]


def _reduce_smc(c: np.ndarray, full_rank: bool = False) -> np.ndarray:
    """Put SMCs on the diagonal of one or a stack of correlation matrices (psych::smc uses
    the pseudo-inverse; a plain inverse is used for matrices known to be full rank)."""
    out = c.copy()
    inv = np.linalg.inv(c) if full_rank else np.linalg.pinv(c, hermitian=True)
    inv_diag = np.einsum("...ii->...i", inv)
    s = np.clip(1 - 1 / inv_diag, 0.0, 1.0)
    idx = np.arange(c.shape[-1])
    out[..., idx, idx] = s
    return out


@_single_threaded
def parallel_analysis(
    data: pd.DataFrame,
    n_iter: int = 100,
    seed: int | None = None,
    *,
    method: str = "pc",
    quantile: float | str = 0.95,
    corr: str = "pearson",
    missing: str = "listwise",
) -> Parallel:
    """Horn's parallel analysis, as ``psych::fa.parallel`` (simulated data), vectorized.

    The observed eigenvalues are compared with those of ``n_iter`` correlation matrices of
    normal data of the same size (drawn as one batch, see ``_simulated_correlations``;
    seeded with ``numpy.random.default_rng(seed)``).

    * ``method="pc"``: eigenvalues of the correlation matrix (psych's components line).
    * ``method="fa"``: eigenvalues of the reduced matrix with SMCs on the diagonal, for the
      observed and the simulated matrices alike: ``psych::fa.parallel(x, SMC = TRUE)``.
      (psych's default instead places one-factor minres communalities on the diagonal,
      which requires one fit per replicate.)

    Decision rule (psych's): the number of factors is the number of leading observed
    eigenvalues that are greater than the simulated threshold, counting up to the first
    that is not. The threshold is the ``quantile`` (default 0.95, psych's ``quant``; R's
    type-7 quantile) of the simulated eigenvalues at the same position, or their mean with
    ``quantile="mean"`` (Horn's original rule). With ``corr="polychoric"`` the observed
    eigenvalues come from polychoric correlations and the simulated ones from Pearson
    correlations of normal data, as in psych's simulated line.

    Examples
    --------
    >>> pm.parallel_analysis(items, n_iter=100, seed=1).n_factors  # doctest: +SKIP

    R: ``psych::fa.parallel(items, n.iter = 100, fa = "pc", quant = .95)$ncomp``
    """
    _check_options("parallel_analysis", corr=corr, missing=missing)
    check_choice(method, name="method", choices=("pc", "fa"), func="parallel_analysis")
    n_iter = check_int(n_iter, name="n_iter", minimum=1, func="parallel_analysis")
    if not (quantile == "mean" or (isinstance(quantile, int | float) and not isinstance(
            quantile, bool) and 0 < quantile < 1)):
        raise PsychometricsError(
            "invalid-value",
            "The 'quantile' parameter of parallel_analysis must be a number strictly between "
            f"0 and 1 or 'mean'; got {quantile!r}.",
        )
    if seed is not None and not isinstance(seed, int | np.integer):
        raise PsychometricsError(
            "invalid-value",
            f"The 'seed' parameter of parallel_analysis must be an integer or None; got {seed!r}.",
        )
    r, _, n, _ = _prepare(data, "parallel_analysis", corr, missing, min_items=2)
    p = r.shape[0]
    rng = np.random.default_rng(seed)
    sims = _simulated_correlations(rng, n, p, n_iter)
    if method == "fa":
        r = _reduce_smc(r)
        sims = _reduce_smc(sims, full_rank=n - 1 >= p)
    observed = np.linalg.eigvalsh(r)[::-1]
    sim_values = np.linalg.eigvalsh(sims)[:, ::-1]
    sim_mean = sim_values.mean(axis=0)
    if quantile == "mean":
        sim_q = sim_mean
        threshold = sim_mean
    else:
        sim_q = np.quantile(sim_values, float(quantile), axis=0)
        threshold = sim_q
    above = observed > threshold
    n_factors = p if above.all() else int(np.argmin(above))
    index = pd.RangeIndex(1, p + 1, name="factor" if method == "fa" else "component")
    simulated = pd.DataFrame({"mean": sim_mean, "quantile": sim_q}, index=index)
    retained = np.arange(p) < n_factors
    table = pd.DataFrame(
        {"observed": observed, "sim_mean": sim_mean, "sim_quantile": sim_q,
         "threshold": threshold, "retained": retained},
        index=index,
    )
    return Parallel(
        n_factors=n_factors,
        eigenvalues=pd.Series(observed, index=index, name="eigenvalue"),
        simulated=simulated,
        table=table,
        method=method,
        quantile=quantile if quantile == "mean" else float(quantile),
        n_iter=n_iter,
        n=n,
        seed=None if seed is None else int(seed),
    )
