"""Full-information ML for the two-level CFA (lavaan's ``cluster =`` with
``missing = "ml"``): every row with at least one answer counts.

A cluster's answers, stacked, have covariance ``I (x) Sigma_W + J (x) Sigma_B`` and mean
``1 (x) mu``; with missing answers the log-likelihood of each cluster is that of its
observed entries (the rows and columns of the missing ones dropped). ``-2 logL`` and its
gradient with respect to ``Sigma_W``, ``Sigma_B`` and ``mu`` are summed cluster by
cluster (``G = V^-1 - V^-1 d d' V^-1`` scattered back onto the person x item grid: its
diagonal person blocks give ``Sigma_W``, all its blocks ``Sigma_B``). The saturated model
is fitted by the same optimizer with unrestricted (Cholesky) ``Sigma_W`` and ``Sigma_B``,
as lavaan does when data are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = ["Cholesky", "MissingClusters", "fit", "gradient", "missing_clusters", "objective"]


@dataclass(frozen=True)
class MissingClusters:
    """Per cluster: its observed answers (a vector), the item of each, the pair index
    ``item_k * p + item_l`` of each pair of them and whether a pair is one person's."""

    n: int
    j: int
    n_values: int
    p: int
    values: tuple[np.ndarray, ...]
    items: tuple[np.ndarray, ...]
    pairs: tuple[np.ndarray, ...]
    same: tuple[np.ndarray, ...]


def missing_clusters(y: np.ndarray, ids: np.ndarray) -> MissingClusters:
    codes, inverse = np.unique(ids, return_inverse=True)
    p = y.shape[1]
    values, items, pairs, same = [], [], [], []
    for k in range(len(codes)):
        block = y[inverse == k]
        person, item = np.nonzero(~np.isnan(block))
        values.append(block[person, item])
        items.append(item)
        pairs.append((item[:, None] * p + item[None, :]).ravel())
        same.append(person[:, None] == person[None, :])
    return MissingClusters(len(y), len(codes), int(sum(len(v) for v in values)), p,
                           tuple(values), tuple(items), tuple(pairs), tuple(same))


def objective(c: MissingClusters, sw, sb, mu, want_grad: bool):
    """-2 logL without its constant and (when asked) its gradients (Sigma_W, Sigma_B, mu)."""
    p = c.p
    f = 0.0
    gw, gb, gmu = np.zeros(p * p), np.zeros(p * p), np.zeros(p)
    for v, it, pair, same in zip(c.values, c.items, c.pairs, c.same, strict=True):
        ix = np.ix_(it, it)
        cov = sb[ix] + same * sw[ix]
        d = v - mu[it]
        try:
            low = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            return np.inf, None, None, None
        il = np.linalg.inv(low)
        v_inv = il.T @ il
        a = v_inv @ d
        f += 2 * np.log(np.diag(low)).sum() + d @ a
        if want_grad:
            g = v_inv - np.outer(a, a)
            gb += np.bincount(pair, weights=g.ravel(), minlength=p * p)
            gw += np.bincount(pair, weights=(g * same).ravel(), minlength=p * p)
            gmu -= 2 * np.bincount(it, weights=a, minlength=p)
    return f, gw.reshape(p, p), gb.reshape(p, p), gmu


class Cholesky:
    """An unrestricted covariance matrix through its Cholesky factor (the saturated model),
    with the ``sigma`` / ``gradient`` / ``start`` interface of the level structures."""

    def __init__(self, p: int):
        self.p = p
        self.idx = np.tril_indices(p)
        self.npar = len(self.idx[0])

    def sigma(self, x):
        low = np.zeros((self.p, self.p))
        low[self.idx] = x
        return low @ low.T

    def gradient(self, x, g):
        low = np.zeros((self.p, self.p))
        low[self.idx] = x
        return (2 * g @ low)[self.idx]

    def start(self, s):
        s = s + np.eye(self.p) * 1e-3 * np.mean(np.diag(s))
        return np.linalg.cholesky(s)[self.idx]


def gradient(c: MissingClusters, within, between):
    """The gradient of -2 logL in (within, between, means), as a function."""
    nw, nb = within.npar, between.npar

    def grad(x):
        sw, sb = within.sigma(x[:nw]), between.sigma(x[nw:nw + nb])
        _, gw, gb, gmu = objective(c, sw, sb, x[nw + nb:], True)
        return np.concatenate([within.gradient(x[:nw], gw), between.gradient(x[nw:nw + nb], gb), gmu])

    return grad


def fit(c: MissingClusters, within, between, s_w, s_b, mu0):
    """Minimise -2 logL over the two levels' parameters and the means (BFGS, analytic
    gradient); returns (x without the means, means, f, converged)."""
    nw, nb = within.npar, between.npar
    x0 = np.concatenate([within.start(s_w), between.start(s_b), mu0])

    def fun(x):
        sw, sb = within.sigma(x[:nw]), between.sigma(x[nw:nw + nb])
        f, gw, gb, gmu = objective(c, sw, sb, x[nw + nb:], True)
        if not np.isfinite(f):
            return 1e10, np.zeros_like(x)
        g = np.concatenate([within.gradient(x[:nw], gw), between.gradient(x[nw:nw + nb], gb), gmu])
        return f / c.n, g / c.n

    for _ in range(4):
        res = optimize.minimize(fun, x0, jac=True, method="BFGS", options={"gtol": 1e-7, "maxiter": 20000})
        converged = bool(res.success or np.max(np.abs(res.jac)) < 1e-6)
        if converged:
            break
        x0 = res.x
    return res.x[:nw + nb], res.x[nw + nb:], res.fun * c.n, converged
