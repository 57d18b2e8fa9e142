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

import numpy as np
import pandas as pd
from scipy import optimize
from threadpoolctl import threadpool_limits

__all__ = ["random_intercepts"]


def random_intercepts(score: np.ndarray, codes: pd.DataFrame,
                      levels: list[str]) -> tuple[dict, float, bool]:
    """The REML variances of ``score ~ 1 + (1 | levels[-1]/.../levels[0])``, as lme4: the
    relative standard deviations theta >= 0 of the levels (each over the residual's)
    maximize the profiled restricted likelihood. Returns ``({'person': sigma2, level: tau,
    ...}, REML log-likelihood, converged)``."""
    blocks = _blocks(score, codes, levels)
    n = len(score)
    best = None
    for start in (0.2, 1.0):  # two starts, the better optimum kept
        with threadpool_limits(limits=1, user_api="blas"):  # a pool for 2 numbers only spins
            res = optimize.minimize(_deviance, np.full(len(levels), start), args=(blocks, n),
                                    method="L-BFGS-B", bounds=[(0, None)] * len(levels))
        if best is None or res.fun < best.fun:
            best = res
    sigma2, crit = _profile(best.x, blocks, n)
    var = {"person": sigma2} | {lv: sigma2 * th ** 2 for lv, th in zip(levels, best.x, strict=True)}
    return var, -crit / 2, bool(best.success)


def _blocks(score: np.ndarray, codes: pd.DataFrame, levels: list[str]) -> tuple:
    """The scores and, level by level, which group each unit of the level below belongs to
    (people first; a code within its parents' codes, as lme4's ``consortium/org``)."""
    ids = [codes.groupby(levels[i:], sort=False).ngroup().to_numpy() for i in range(len(levels))]
    maps = [ids[0]]
    for below, above in itertools.pairwise(ids):
        up = np.zeros(below.max() + 1, dtype=int)
        up[below] = above
        maps.append(up)
    return score, maps


def _profile(theta: np.ndarray, blocks: tuple, n: int) -> tuple[float, float]:
    """The residual variance and lme4's REML criterion (-2 log-likelihood) at ``theta``.

    V = I + sum theta_l^2 Z_l Z_l' is inverted level by level, innermost first: each group
    adds a rank-one term to the (block-diagonal) matrix of its members, so 1'V^-1 1,
    1'V^-1 y, y'V^-1 y and log|V| follow from the Sherman-Morrison formula and the matrix
    determinant lemma in O(n), without forming V."""
    y, maps = blocks
    s11, s1y, syy, logdet = np.ones(len(y)), y, y * y, 0.0
    for up, th in zip(maps, theta, strict=True):
        s11, s1y, syy = (np.bincount(up, w, minlength=up.max() + 1) for w in (s11, s1y, syy))
        c = 1 + th ** 2 * s11
        logdet += np.log(c).sum()
        syy = syy - th ** 2 * s1y ** 2 / c
        s11, s1y = s11 / c, s1y / c
    xvx, xvy, yvy = s11.sum(), s1y.sum(), syy.sum()
    q = yvy - xvy ** 2 / xvx
    dof = n - 1
    return q / dof, logdet + np.log(xvx) + dof * (1 + np.log(2 * np.pi * q / dof))


def _deviance(theta: np.ndarray, blocks: tuple, n: int) -> float:
    return _profile(theta, blocks, n)[1]
