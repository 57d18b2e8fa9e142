"""Normal-theory estimators: ML on complete data and FIML with missing data.

Each is a discrepancy of :mod:`psychometrics.engine.core` (one per group), with the
log-likelihoods lavaan reports (``logLik``, the saturated h1 and the independence model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from psychometrics.engine.core import Evaluation, Jacobian

__all__ = ["FIMLDiscrepancy", "MLDiscrepancy", "em_saturated", "missing_patterns"]

_LOG2PI = float(np.log(2.0 * np.pi))


def _chol_inv(sigma: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Inverse and log-determinant of a positive-definite matrix; None otherwise (numpy's
    Cholesky: scipy's wrappers cost more than the work on matrices this small)."""
    if not np.all(np.isfinite(sigma)):
        return None
    try:
        c = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    d = np.diag(c)
    if not np.all(d > 0):
        return None
    ci = np.linalg.inv(c)
    inv = ci.T @ ci
    return (inv + inv.T) / 2.0, 2.0 * float(np.log(d).sum())


class MLDiscrepancy:
    """Normal-theory ML on complete data (lavaan ``likelihood = "normal"``: S divides by n).

    ``f = n [log|Sigma| + tr(S Sigma^-1) - log|S| - p + (ybar - mu)' Sigma^-1 (ybar - mu)]``,
    so ``f`` at the optimum is this group's chi-square contribution.
    """

    def __init__(self, s: np.ndarray, ybar: np.ndarray, n: int, meanstructure: bool):
        self.s, self.ybar, self.n, self.meanstructure = s, ybar, int(n), meanstructure
        self.p = s.shape[0]
        sign, self.logdet_s = np.linalg.slogdet(s)
        if sign <= 0:
            raise np.linalg.LinAlgError("sample covariance matrix is not positive definite")

    def evaluate(self, sigma, mu, jac: Jacobian | None = None, want: str = "f") -> Evaluation:
        ci = _chol_inv(sigma)
        if ci is None:
            return Evaluation(np.inf)
        inv, logdet = ci
        n = self.n
        f = logdet + float(np.sum(self.s * inv)) - self.logdet_s - self.p
        if self.meanstructure:
            d = self.ybar - mu
            inv_d = inv @ d
            f += float(d @ inv_d)
        f *= n
        if want == "f":
            return Evaluation(f)
        m = self.s + np.outer(d, d) if self.meanstructure else self.s
        g_sigma = n * (inv - inv @ m @ inv)
        grad = jac.trace_with(g_sigma)
        if self.meanstructure:
            grad = grad - 2.0 * n * (jac.dmu @ inv_d)
        info = self._info(inv, jac, jac) if want == "fgi" else None
        return Evaluation(f, grad, info)

    def _info(self, inv, a: Jacobian, b: Jacobian) -> np.ndarray:
        info = self.n * a.info(inv, b)
        if self.meanstructure:
            info = info + 2.0 * self.n * ((a.dmu @ inv) @ b.dmu.T)
        return info

    def information(self, sigma, mu, a: Jacobian, b: Jacobian | None = None) -> np.ndarray:
        """Expected information (Hessian of ``f``) between entries ``a`` and ``b``."""
        inv, _ = _chol_inv(sigma)
        return self._info(inv, a, a if b is None else b)

    def information_diag(self, sigma, mu, a: Jacobian) -> np.ndarray:
        inv, _ = _chol_inv(sigma)
        out = self.n * a.info_diag(inv)
        if self.meanstructure:
            out = out + 2.0 * self.n * np.einsum("ap,pq,aq->a", a.dmu, inv, a.dmu)
        return out

    def loglik(self, sigma, mu) -> float:
        ci = _chol_inv(sigma)
        if ci is None:
            return -np.inf
        inv, logdet = ci
        q = float(np.sum(self.s * inv))
        if self.meanstructure:
            d = self.ybar - mu
            q += float(d @ inv @ d)
        return -0.5 * self.n * (self.p * _LOG2PI + logdet + q)

    def loglik_saturated(self) -> float:
        return -0.5 * self.n * (self.p * _LOG2PI + self.logdet_s + self.p)

    def loglik_independence(self, covariates: list[int] = ()) -> float:
        """Independence model: variances only, but the ``covariates`` keep their sample
        covariances (lavaan's baseline with ``fixed.x``)."""
        y = [i for i in range(self.p) if i not in covariates]
        logdet = float(np.log(np.diag(self.s)[y]).sum())
        if len(covariates):
            logdet += float(np.linalg.slogdet(self.s[np.ix_(covariates, covariates)])[1])
        return -0.5 * self.n * (self.p * _LOG2PI + logdet + self.p)

    def h1(self) -> tuple[np.ndarray, np.ndarray]:
        """Unrestricted (saturated) moments: sample covariance (biased) and means."""
        return self.s, self.ybar


@dataclass
class _Pattern:
    obs: np.ndarray  # indices of the observed variables
    n: int
    ybar: np.ndarray
    s: np.ndarray  # biased covariance of the rows of this pattern
    rows: np.ndarray  # row indices into the data


def missing_patterns(y: np.ndarray) -> list[_Pattern]:
    """Group the rows of ``y`` (NaN = missing) by missing-data pattern; empty rows dropped."""
    seen = ~np.isnan(y)
    keys, inverse = np.unique(seen, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).ravel()
    out = []
    for k, key in enumerate(keys):
        if not key.any():
            continue
        rows = np.flatnonzero(inverse == k)
        obs = np.flatnonzero(key)
        x = y[np.ix_(rows, obs)]
        ybar = x.mean(axis=0)
        xc = x - ybar
        out.append(_Pattern(obs, len(rows), ybar, xc.T @ xc / len(rows), rows))
    return out


class _Patterns:
    """Missing-data patterns of one group as stacked, embedded arrays (pattern k's
    statistics on its observed variables, zeros elsewhere), processed in chunks."""

    def __init__(self, y: np.ndarray):
        self.p = y.shape[1]
        pats = missing_patterns(y)
        self.list = pats
        k = len(pats)
        p = self.p
        self.mask = np.zeros((k, p), dtype=bool)
        self.n = np.array([pt.n for pt in pats], dtype=float)
        self.ybar = np.zeros((k, p))
        self.s = np.zeros((k, p, p))
        for j, pt in enumerate(pats):
            self.mask[j, pt.obs] = True
            self.ybar[j, pt.obs] = pt.ybar
            self.s[j][np.ix_(pt.obs, pt.obs)] = pt.s
        self.nobs = self.mask.sum(axis=1)
        size = max(1, int(2_000_000 // (p * p)))
        self.chunks = [slice(a, min(a + size, k)) for a in range(0, k, size)]

    def inverses(self, sigma: np.ndarray, sl: slice):
        """Embedded inverses of Sigma_oo (zeros outside o) and log det Sigma_oo, for the
        patterns ``sl``; ``None`` when one Sigma_oo is not positive definite."""
        mask = self.mask[sl]
        both = mask[:, :, None] & mask[:, None, :]
        eye = np.eye(self.p)
        m = np.where(both, sigma, 0.0) + (~mask)[:, :, None] * eye
        try:
            chol = np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            return None
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        inv = np.linalg.inv(m) - (~mask)[:, :, None] * eye
        inv = (inv + inv.transpose(0, 2, 1)) / 2.0
        return inv, logdet


def _q_info(q: np.ndarray, w: np.ndarray, a: tuple, b: tuple) -> np.ndarray:
    """sum_k w_k tr(P_k dS_a P_k dS_b) from Q_k = Z P_k Z' and the factored Jacobians
    ``(u_id, v_id, c)`` of ``a`` and ``b`` (rows of Z).

    With ``N_b[y, z] = sum_k w_k Q_k[y, u_b] Q_k[z, v_b]`` (one matrix product over the
    patterns per entry b of the smaller side), the trace is ``N_b[u_a, v_a] +
    N_b[v_a, u_a]``. Entries with ``c = 0`` (means) contribute nothing and are skipped.
    """
    swap = len(a[0]) < len(b[0])
    if swap:
        a, b = b, a
    ua, va, ca = a
    ub, vb, cb = b
    out = np.zeros((len(ua), len(ub)))
    ka, kb = np.flatnonzero(ca != 0), np.flatnonzero(cb != 0)
    if len(ka) and len(kb):
        nz = q.shape[1]
        ubk, vbk = ub[kb], vb[kb]
        m = np.zeros((len(kb), nz, nz))
        per = max(1, int(4_000_000 // (len(kb) * nz)))
        for s in range(0, len(q), per):
            qs = q[s:s + per]
            x = qs[:, :, ubk] * w[s:s + per, None, None]  # (k, nz, nb)
            y = qs[:, :, vbk]
            m += np.matmul(x.transpose(2, 1, 0), y.transpose(2, 0, 1))
        sub = m[:, ua[ka], va[ka]] + m[:, va[ka], ua[ka]]  # (nb, na)
        out[np.ix_(ka, kb)] = sub.T
    out *= 2.0 * np.outer(ca, cb)
    return out.T if swap else out


def _q_info_diag(q: np.ndarray, w: np.ndarray, a: tuple) -> np.ndarray:
    ua, va, ca = a
    t = q[:, ua, ua] * q[:, va, va] + q[:, ua, va] ** 2
    return 2.0 * ca**2 * (w @ t)


class FIMLDiscrepancy:
    """Full-information ML with missing data (lavaan ``missing = "ml"``), one group.

    ``f = -2 log L`` summed over missing-data patterns (each row's observed variables),
    computed pattern-batched: each Sigma_oo^-1 embedded in a p x p matrix.
    """

    meanstructure = True

    def __init__(self, y: np.ndarray):
        y = y[~np.isnan(y).all(axis=1)]
        self.p = y.shape[1]
        self.pat = _Patterns(y)
        self.patterns = self.pat.list
        self.n = int(self.pat.n.sum())
        self._h1: tuple[np.ndarray, np.ndarray, float, int] | None = None
        self._y = y
        self._cache: tuple[bytes, list | None] | None = None

    def _moments(self, sigma, mu, want_q: Jacobian | None = None, pool=None):
        """f, dF/dSigma, dF/dmu and (optionally) Q_k for the information."""
        pat, p = self.pat, self.p
        f = 0.0
        g_sigma = np.zeros((p, p))
        g_mu = np.zeros(p)
        w_bar = np.zeros((p, p))
        qs = []
        invs = self._inverses(sigma)
        if invs is None:
            return None
        for sl, (inv, logdet) in zip(pat.chunks, invs, strict=True):
            n = pat.n[sl]
            d = (pat.ybar[sl] - mu) * pat.mask[sl]
            inv_d = np.einsum("kij,kj->ki", inv, d)
            f += float(n @ (pat.nobs[sl] * _LOG2PI + logdet
                            + np.einsum("kij,kij->k", inv, pat.s[sl])
                            + np.einsum("ki,ki->k", d, inv_d)))
            m = pat.s[sl] + d[:, :, None] * d[:, None, :]
            g_sigma += np.einsum("k,kij->ij", n, inv - inv @ m @ inv)
            g_mu += -2.0 * (n @ inv_d)
            w_bar += np.einsum("k,kij->ij", n, inv)
            if pool is not None:
                qs.append(pool @ inv @ pool.T)
        q = np.concatenate(qs) if qs else None
        return f, g_sigma, g_mu, w_bar, q

    def _inverses(self, sigma):
        """Per chunk of patterns: embedded Sigma_oo^-1 and log det, for the last Sigma
        asked (a line search's accepted point is evaluated again with derivatives)."""
        key = sigma.tobytes()
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        out = []
        for sl in self.pat.chunks:
            res = self.pat.inverses(sigma, sl)
            if res is None:
                out = None
                break
            out.append(res)
        self._cache = (key, out)
        return out

    def evaluate(self, sigma, mu, jac: Jacobian | None = None, want: str = "f") -> Evaluation:
        if want == "f":
            res = self._moments(sigma, mu)
            return Evaluation(np.inf) if res is None else Evaluation(res[0])
        pool, fa = jac.factor() if want == "fgi" else (None, None)
        res = self._moments(sigma, mu, pool=pool)
        if res is None:
            return Evaluation(np.inf)
        f, g_sigma, g_mu, w_bar, q = res
        grad = jac.trace_with(g_sigma) + jac.dmu @ g_mu
        info = None
        if want == "fgi":
            info = _q_info(q, self.pat.n, fa, fa) + 2.0 * (jac.dmu @ w_bar) @ jac.dmu.T
        return Evaluation(f, grad, info)

    def information(self, sigma, mu, a: Jacobian, b: Jacobian | None = None) -> np.ndarray:
        """Expected information (Hessian of ``f``) between entries ``a`` and ``b``,
        summed over missing-data patterns."""
        b = a if b is None else b
        both = Jacobian.concat([a, b])
        pool, (u, v, c) = both.factor()
        na = len(a)
        _, _, _, w_bar, q = self._moments(sigma, mu, pool=pool)
        fa, fb = (u[:na], v[:na], c[:na]), (u[na:], v[na:], c[na:])
        return _q_info(q, self.pat.n, fa, fb) + 2.0 * (a.dmu @ w_bar) @ b.dmu.T

    def information_diag(self, sigma, mu, a: Jacobian) -> np.ndarray:
        pool, fa = a.factor()
        _, _, _, w_bar, q = self._moments(sigma, mu, pool=pool)
        return _q_info_diag(q, self.pat.n, fa) + 2.0 * np.einsum(
            "ap,pq,aq->a", a.dmu, w_bar, a.dmu)

    def loglik(self, sigma, mu) -> float:
        f = self.evaluate(sigma, mu).f
        return -0.5 * f

    def h1_fit(self) -> tuple[np.ndarray, np.ndarray, float, int]:
        """Saturated model by EM: (sigma, mu, log L, iterations)."""
        if self._h1 is None:
            self._h1 = em_saturated(self._y, self.pat)
        return self._h1

    def loglik_saturated(self) -> float:
        return self.h1_fit()[2]

    def h1(self) -> tuple[np.ndarray, np.ndarray]:
        s, mu, _, _ = self.h1_fit()
        return s, mu

    def loglik_independence(self, covariates: list[int] = ()) -> float:
        """Independence model (means and variances free): the likelihood factorises by
        variable, so each variable's observed mean and (biased) variance are the ML
        estimates; the ``covariates`` (complete) keep their sample covariances."""
        ll = 0.0
        if len(covariates):
            x = self._y[:, covariates]
            ll += -0.5 * len(x) * (len(covariates) * (_LOG2PI + 1.0)
                                   + float(np.linalg.slogdet(np.cov(x, rowvar=False, bias=True)
                                                             .reshape(len(covariates), -1))[1]))
        for j in (j for j in range(self.p) if j not in covariates):
            x = self._y[:, j]
            x = x[~np.isnan(x)]
            ll += -0.5 * len(x) * (_LOG2PI + np.log(x.var()) + 1.0)
        return float(ll)


def em_saturated(
    y: np.ndarray, pat: _Patterns | None = None, tol: float = 1e-8, max_iter: int = 10000
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Unrestricted means and covariance by EM with missing data (lavaan's h1 model,
    started like lavaan from the observed means and variances); returns
    ``(sigma, mu, log L, iterations)``. Stops when no moment moves by more than ``tol``.

    E-step per pattern with ``A = Sigma P`` (``P`` the embedded Sigma_oo^-1): expected
    row ``mu + A (ybar - mu)``, conditional covariance ``Sigma - A Sigma``.
    """
    y = y[~np.isnan(y).all(axis=1)]
    if pat is None:
        pat = _Patterns(y)
    p = y.shape[1]
    n_tot = pat.n.sum()
    mu = np.nanmean(y, axis=0)
    yc = y - mu
    sigma = np.diag(np.nanmean(yc * yc, axis=0))
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 (it is used after the loop)
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for sl in pat.chunks:
            res = pat.inverses(sigma, sl)
            if res is None:
                raise np.linalg.LinAlgError("EM: covariance matrix not positive definite")
            inv, _ = res
            n = pat.n[sl]
            a = sigma @ inv
            d = (pat.ybar[sl] - mu) * pat.mask[sl]
            m = mu + np.einsum("kij,kj->ki", a, d)
            t1 += n @ m
            cond = sigma - a @ sigma
            t2 += np.einsum("k,kij->ij", n, m[:, :, None] * m[:, None, :]
                            + a @ pat.s[sl] @ a.transpose(0, 2, 1) + cond)
        mu_new = t1 / n_tot
        sigma_new = t2 / n_tot - np.outer(mu_new, mu_new)
        sigma_new = (sigma_new + sigma_new.T) / 2.0
        delta = max(np.abs(mu_new - mu).max(), np.abs(sigma_new - sigma).max())
        mu, sigma = mu_new, sigma_new
        if delta < tol:
            break
    ll = 0.0
    for sl in pat.chunks:
        inv, logdet = pat.inverses(sigma, sl)
        d = (pat.ybar[sl] - mu) * pat.mask[sl]
        ll += -0.5 * float(pat.n[sl] @ (pat.nobs[sl] * _LOG2PI + logdet
                                         + np.einsum("kij,kij->k", inv, pat.s[sl])
                                         + np.einsum("ki,kij,kj->k", d, inv, d)))
    return sigma, mu, float(ll), it


