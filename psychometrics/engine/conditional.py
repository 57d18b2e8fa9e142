"""Sample statistics of ordinal items given observed covariates, as lavaan computes them
with ``conditional.x = TRUE`` (its default for ordered items and exogenous covariates).

The three stages of Muthén (1984), the covariates held fixed:

1. each item's ordered probit regression on the covariates, ``P(y_i <= c | x) =
   Phi(tau_ic - x' beta_i)``: thresholds and slopes (:func:`ordered_probit`);
2. each pair's residual polychoric correlation: the bivariate probit of the two items with
   their linear predictors ``x' beta`` held at the step-1 values (one 1 x 1 "table" per
   case for :func:`psychometrics.engine.ordinal.polychorics`);
3. ``Gamma``, the asymptotic covariance of ``sqrt(N)`` times (thresholds, slopes,
   correlations), from the casewise scores with the two-step correction
   (:func:`psychometrics.engine.ordinal.two_step_gamma`).

R: ``lavInspect(fit, "sampstat")`` (``res.th``, ``res.slopes``, ``res.cov``) and
``lavInspect(fit, "gamma")`` of ``sem(model, ordered = , estimator = "WLSMV")``. The DWLS
fit on them is :class:`psychometrics.engine.dwls.ConditionalDWLS`. The formulas are
those of Muthén (1984); nothing here copies lavaan's code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from psychometrics.correlation import bvn_cdf, bvn_pdf
from psychometrics.engine.ordinal import BIG, category_codes, polychorics, two_step_gamma
from psychometrics.errors import PsychometricsError

__all__ = ["ConditionalStats", "Probit", "conditional_stats", "ordered_probit"]

_CHUNK = 10_000


@dataclass(frozen=True)
class ConditionalStats:
    """Thresholds, slopes and residual polychorics of ordinal items given covariates.

    ``gamma`` is indexed thresholds (``"y|t1"``), slopes (``"y~x"``, covariate by
    covariate, lavaan's order) and correlations (``"a~~b"``); ``cov_x`` and ``mean_x`` are
    the covariates' moments (lavaan's ``fixed.x`` values: with ordered items its sample
    covariances have the divisor N - 1)."""

    thresholds: pd.Series
    slopes: pd.DataFrame
    rho: pd.DataFrame
    gamma: pd.DataFrame
    n: int
    n_categories: pd.Series
    cov_x: pd.DataFrame
    mean_x: pd.Series
    levels: dict = field(repr=False)


@dataclass(frozen=True)
class Probit:
    """One item's ordered probit fit: ``theta`` (thresholds then slopes), each case's
    bounds ``lo``/``hi`` of its latent response's residual, their derivatives ``d_lo``,
    ``d_hi`` (n x parameters), the casewise ``scores``, and whether Newton converged."""

    theta: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    d_lo: np.ndarray
    d_hi: np.ndarray
    scores: np.ndarray
    converged: bool = False


def _probit_terms(theta, codes, k, x):
    """Bounds, their derivatives, log-likelihood, scores and Hessian at ``theta``."""
    n = len(codes)
    grid = np.concatenate([[-np.inf], theta[: k - 1], [np.inf]])
    eta = x @ theta[k - 1:]
    hi, lo = grid[codes + 1] - eta, grid[codes] - eta
    d_hi, d_lo = np.zeros((n, len(theta))), np.zeros((n, len(theta)))
    up, down = codes < k - 1, codes > 0
    d_hi[np.flatnonzero(up), codes[up]] = 1.0
    d_lo[np.flatnonzero(down), codes[down] - 1] = 1.0
    d_hi[:, k - 1:] = d_lo[:, k - 1:] = -x
    prob = special.ndtr(hi) - special.ndtr(lo)
    h, lw = np.where(up, hi, 0.0), np.where(down, lo, 0.0)  # the finite bounds
    f_hi = np.where(up, stats.norm.pdf(h), 0.0)
    f_lo = np.where(down, stats.norm.pdf(lw), 0.0)
    scores = (f_hi[:, None] * d_hi - f_lo[:, None] * d_lo) / prob[:, None]
    c_hi, c_lo = -h * f_hi / prob, lw * f_lo / prob
    hess = (d_hi.T * c_hi) @ d_hi + (d_lo.T * c_lo) @ d_lo - scores.T @ scores
    with np.errstate(divide="ignore"):
        loglik = float(np.sum(np.log(prob)))
    return Probit(theta, lo, hi, d_lo, d_hi, scores), loglik, hess


def ordered_probit(codes: np.ndarray, k: int, x: np.ndarray) -> Probit:
    """ML ordered probit of one item (categories ``0..k-1``) on the covariates ``x``:
    Newton's method with the exact Hessian and step halving (thresholds kept in order),
    from the marginal thresholds and zero slopes; converged when a step is below 1e-10."""
    cum = np.cumsum(np.bincount(codes, minlength=k))[:-1] / len(codes)
    theta = np.concatenate([special.ndtri(cum), np.zeros(x.shape[1])])
    fit, loglik, hess = _probit_terms(theta, codes, k, x)
    for _ in range(100):
        try:
            step = np.linalg.solve(-hess, fit.scores.sum(axis=0))
        except np.linalg.LinAlgError:
            break
        t = 1.0
        while t > 1e-10:
            trial = theta + t * step
            if np.all(np.diff(trial[: k - 1]) > 0):
                new = _probit_terms(trial, codes, k, x)
                if new[1] >= loglik - 1e-12 * abs(loglik):
                    break
            t /= 2
        else:
            break
        theta = trial
        fit, loglik, hess = new
        if np.max(np.abs(t * step)) < 1e-10:
            return dataclasses.replace(fit, converged=bool(np.isfinite(loglik)))
    return fit


def _pair_bounds(fits: list[Probit], iu, ju):
    """Each pair's per-case bounds (pairs, n, 2) for the first and the second item."""
    lo = np.stack([f.lo for f in fits])
    hi = np.stack([f.hi for f in fits])
    return np.stack([lo[iu], hi[iu]], axis=-1), np.stack([lo[ju], hi[ju]], axis=-1)


def _dpi_dbound(own: np.ndarray, other: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """d pi / d (lower, upper) bound of one item, per pair and case: ``+-phi(t) [Phi((o_hi -
    r t)/s) - Phi((o_lo - r t)/s)]`` (0 at an infinite bound)."""
    r = rho[:, None, None, None]
    t = np.clip(own, -BIG, BIG)[..., :, None]
    o = np.clip(other, -BIG, BIG)[..., None, :]
    c = special.ndtr((o - r * t) / np.sqrt(1.0 - r**2))
    out = stats.norm.pdf(t[..., 0]) * (c[..., 1] - c[..., 0])
    out = np.where(np.isfinite(own), out, 0.0)
    return out * np.array([-1.0, 1.0])


def _pair_scores(fits: list[Probit], rho, iu, ju, layout: list[np.ndarray], q1: int):
    """Casewise scores of the correlations (n, pairs) and the block A21 of the two-step
    Jacobian (pairs x the ``q1`` univariate parameters; ``layout[j]``: item j's columns)."""
    a, b = _pair_bounds(fits, iu, ju)
    ac, bc = np.clip(a, -BIG, BIG)[..., :, None], np.clip(b, -BIG, BIG)[..., None, :]
    r3 = rho[:, None, None, None]
    cdf, pdf = bvn_cdf(ac, bc, r3), bvn_pdf(ac, bc, r3)
    pi = cdf[..., 1, 1] - cdf[..., 0, 1] - cdf[..., 1, 0] + cdf[..., 0, 0]
    dpi = pdf[..., 1, 1] - pdf[..., 0, 1] - pdf[..., 1, 0] + pdf[..., 0, 0]
    sc_cor = dpi / pi  # pairs, n
    da, db = _dpi_dbound(a, b, rho) / pi[..., None], _dpi_dbound(b, a, rho) / pi[..., None]
    a21 = np.zeros((len(iu), q1))
    for r, (i, j) in enumerate(zip(iu, ju, strict=True)):
        for item, d in ((i, da[r]), (j, db[r])):
            f = fits[item]
            dlog = d[:, :1] * f.d_lo + d[:, 1:] * f.d_hi  # n x item's parameters
            a21[r, layout[item]] += sc_cor[r] @ dlog
    return sc_cor.T, a21


def _layout(n_cat: np.ndarray, nx: int) -> list[np.ndarray]:
    """Each item's columns among the univariate parameters: the thresholds of every item
    first, then the slopes covariate by covariate (lavaan's order)."""
    p, n_th = len(n_cat), int(np.sum(n_cat - 1))
    start = np.concatenate([[0], np.cumsum(n_cat - 1)])
    return [np.concatenate([np.arange(start[j], start[j + 1]), n_th + np.arange(nx) * p + j])
            for j in range(p)]


def conditional_stats(y: pd.DataFrame, x: pd.DataFrame, max_categories: int,
                      func: str) -> ConditionalStats:
    """The three stages on complete rows: ``y`` the ordinal items, ``x`` the covariates."""
    names, xnames = [str(c) for c in y.columns], [str(c) for c in x.columns]
    codes, levels = category_codes(y.to_numpy(dtype=float), names, max_categories, func)
    xv = x.to_numpy(dtype=float)
    n, p = codes.shape
    n_cat = np.array([len(lv) for lv in levels])
    _check_covariates(xv, xnames, func)
    fits = [ordered_probit(codes[:, j], int(n_cat[j]), xv) for j in range(p)]
    for name, f in zip(names, fits, strict=True):
        if not f.converged:
            raise PsychometricsError(
                "not-converged",
                f"{func}: the ordered probit regression of item {name!r} on the covariates "
                f"({', '.join(xnames)}) did not converge (a covariate may separate its "
                "categories: merge rare categories or drop that covariate).",
            )
    layout = _layout(n_cat, len(xnames))
    q1 = int(np.sum(n_cat - 1)) + len(xnames) * p
    owner, sc1 = np.zeros(q1, dtype=int), np.zeros((n, q1))
    for j, f in enumerate(fits):
        owner[layout[j]] = j
        sc1[:, layout[j]] = f.scores
    iu, ju = np.triu_indices(p, 1)
    sc_cor, a21, rho = [], [], []
    # pairs in chunks of about _CHUNK cases x pairs (memory: the bivariate normal's
    # quadrature holds 80 numbers per case and pair)
    for c in np.array_split(np.arange(len(iu)), max(1, len(iu) * n // _CHUNK)):
        a, b = _pair_bounds(fits, iu[c], ju[c])
        rho.append(polychorics(np.ones((len(c), n, 1, 1)), a, b))
        sc, a2 = _pair_scores(fits, rho[-1], iu[c], ju[c], layout, q1)
        sc_cor.append(sc)
        a21.append(a2)
    sc_cor, a21, rho = np.hstack(sc_cor), np.vstack(a21), np.concatenate(rho)
    pairs = [(names[i], names[j]) for i, j in zip(iu, ju, strict=True)]
    gamma = two_step_gamma(sc1, owner, sc_cor, a21, pairs, func)
    return _stats_frame(fits, rho, gamma, names, xnames, n_cat, levels, xv)


def _check_covariates(xv: np.ndarray, xnames: list[str], func: str) -> None:
    """Covariates whose covariance matrix is positive definite."""
    s = np.atleast_2d(np.cov(xv, rowvar=False))
    ev = np.linalg.eigvalsh(s)
    if ev[0] <= 1e-10 * max(ev[-1], 1e-300):
        raise PsychometricsError(
            "singular-covariance",
            f"{func} needs covariates ({', '.join(xnames)}) whose covariance matrix is positive "
            "definite; it is singular (a covariate is constant or a combination of others).",
        )


def _stats_frame(fits, rho, gamma, names, xnames, n_cat, levels, xv) -> ConditionalStats:
    """The statistics labelled as lavaan names them."""
    p, nx = len(names), len(xnames)
    iu, ju = np.triu_indices(p, 1)
    th_names = [f"{name}|t{s + 1}" for name, k in zip(names, n_cat, strict=True)
                for s in range(k - 1)]
    sl_names = [f"{name}~{xn}" for xn in xnames for name in names]
    labels = th_names + sl_names + [f"{names[i]}~~{names[j]}" for i, j in zip(iu, ju, strict=True)]
    r = np.eye(p)
    r[iu, ju] = r[ju, iu] = rho
    th = np.concatenate([f.theta[: k - 1] for f, k in zip(fits, n_cat, strict=True)])
    slopes = np.array([f.theta[k - 1:] for f, k in zip(fits, n_cat, strict=True)]).reshape(p, nx)
    return ConditionalStats(
        thresholds=pd.Series(th, index=th_names),
        slopes=pd.DataFrame(slopes, index=names, columns=xnames),
        rho=pd.DataFrame(r, index=names, columns=names),
        gamma=pd.DataFrame(gamma, index=labels, columns=labels),
        n=len(xv), n_categories=pd.Series(n_cat, index=names),
        cov_x=pd.DataFrame(np.atleast_2d(np.cov(xv, rowvar=False)), index=xnames, columns=xnames),
        mean_x=pd.Series(xv.mean(axis=0), index=xnames),
        levels={name: lv for name, lv in zip(names, levels, strict=True)},
    )
