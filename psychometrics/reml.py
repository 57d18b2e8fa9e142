"""Nested random-intercept models fitted by REML as lme4 fits them, for the variance split
(:func:`psychometrics.variance.variance_split`) and the mixed-model ICC
(:func:`psychometrics.agreement.agreement`): one fitter for both.

lme4 minimizes the profiled REML criterion over the levels' relative standard deviations
theta >= 0 (bounded, so a level without variance reaches 0 exactly). statsmodels' MixedLM,
the field's library, stops with a singular matrix there (simulated or real data without a
cluster effect) and its optimizers can stop on the boundary where lme4 does not; this
module follows lme4 and is tested against it (tests/reference/variance, tests/reference/nested).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, sparse
from threadpoolctl import threadpool_limits

__all__ = ["REMLFit", "fit", "random_intercepts"]


@dataclass(frozen=True)
class REMLFit:
    """A REML fit of ``y ~ X + (1 | levels[-1]/.../levels[0])``.

    ``var``: ``{"person": sigma2, level: tau, ...}``; ``beta``, ``cov``: the fixed effects and
    their covariance ``sigma2 (X' V^-1 X)^-1`` (lme4's ``fixef``, ``vcov``); ``loglik``: the
    REML log-likelihood (lme4's ``logLik(fit)``); ``converged``: the optimizer's verdict.
    """

    var: dict
    beta: np.ndarray
    cov: np.ndarray
    loglik: float
    converged: bool


def fit(y: np.ndarray, codes: pd.DataFrame, levels: list[str],
        x: np.ndarray | None = None) -> REMLFit:
    """Nested random intercepts for ``levels`` (innermost first; a code is taken within its
    parents' codes, as lme4's ``consortium/org``) and fixed effects ``x`` (n x p, default the
    intercept alone), by lme4's method: the relative standard deviations theta >= 0 of the
    levels (each over the residual's) maximize the profiled restricted likelihood, with
    sigma2 and beta profiled out."""
    x = np.ones((len(y), 1)) if x is None else np.asarray(x, dtype=float)
    blocks = _blocks(np.asarray(y, dtype=float), x, codes, levels)
    best = None
    for start in (0.2, 1.0):  # two starts, the better optimum kept
        with threadpool_limits(limits=1, user_api="blas"):  # a pool for a few numbers only spins
            res = optimize.minimize(_deviance, np.full(len(levels), start), args=(blocks,),
                                    method="L-BFGS-B", bounds=[(0, None)] * len(levels))
        if best is None or res.fun < best.fun:
            best = res
    sigma2, crit, beta, xvx = _profile(best.x, blocks)
    var = {"person": sigma2} | {lv: sigma2 * th ** 2 for lv, th in zip(levels, best.x, strict=True)}
    return REMLFit(var, beta, sigma2 * np.linalg.inv(xvx), -crit / 2, bool(best.success))


def random_intercepts(score: np.ndarray, codes: pd.DataFrame,
                      levels: list[str]) -> tuple[dict, float, bool]:
    """The REML variances of ``score ~ 1 + (1 | levels[-1]/.../levels[0])`` (see :func:`fit`):
    ``({'person': sigma2, level: tau, ...}, REML log-likelihood, converged)``."""
    res = fit(score, codes, levels)
    return res.var, res.loglik, res.converged


def _blocks(y: np.ndarray, x: np.ndarray, codes: pd.DataFrame, levels: list[str]) -> tuple:
    """The data and, level by level, the sparse matrix summing the units of the level below
    into their groups (people first; a code within its parents' codes)."""
    ids = [codes.groupby(levels[i:], sort=False).ngroup().to_numpy() for i in range(len(levels))]
    maps = [ids[0]]
    for below, above in itertools.pairwise(ids):
        up = np.zeros(below.max() + 1, dtype=int)
        up[below] = above
        maps.append(up)
    sums = [sparse.csr_matrix((np.ones(len(m)), (m, np.arange(len(m))))) for m in maps]
    return y, x, sums


def _profile(theta: np.ndarray, blocks: tuple) -> tuple[float, float, np.ndarray, np.ndarray]:
    """The residual variance, lme4's REML criterion (-2 log-likelihood), beta and X'V^-1 X at
    ``theta`` (V relative to sigma2).

    V = I + sum theta_l^2 Z_l Z_l' is inverted level by level, innermost first: each group
    adds a rank-one term to the (block-diagonal) matrix of its members, so 1'V^-1 1,
    1'V^-1 [X y], [X y]'V^-1 [X y] and log|V| follow from the Sherman-Morrison formula and
    the matrix determinant lemma in O(n p^2), without forming V."""
    y, x, sums = blocks
    n, p = x.shape
    z = np.column_stack([x, y])                      # per unit: [X y]
    a = np.ones(n)                                   # 1'V^-1 1
    b = z                                            # 1'V^-1 [X y]
    c = np.einsum("ni,nj->nij", z, z).reshape(n, -1)  # [X y]'V^-1 [X y], flattened
    logdet = 0.0
    for m, th in zip(sums, theta, strict=True):
        a, b, c = m @ a, m @ b, m @ c
        d = 1 + th ** 2 * a
        logdet += np.log(d).sum()
        c = c - th ** 2 * np.einsum("gi,gj->gij", b, b).reshape(len(d), -1) / d[:, None]
        a, b = a / d, b / d[:, None]
    zz = c.sum(axis=0).reshape(p + 1, p + 1)
    xvx, xvy, yvy = zz[:p, :p], zz[:p, p], zz[p, p]
    beta = np.linalg.solve(xvx, xvy)
    q = yvy - xvy @ beta
    dof = n - p
    crit = logdet + np.linalg.slogdet(xvx)[1] + dof * (1 + np.log(2 * np.pi * q / dof))
    return q / dof, crit, beta, xvx


def _deviance(theta: np.ndarray, blocks: tuple) -> float:
    return _profile(theta, blocks)[1]
