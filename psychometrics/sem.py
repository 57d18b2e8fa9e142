"""A small structural-equation engine for confirmatory factor analysis (private).

Used by :mod:`psychometrics.cfa` (pm.cfa) and :mod:`psychometrics.invariance`; nothing here is
public API. The model is lavaan's LISREL "all-y" form, per group ``g``::

    eta   = alpha + B eta + zeta          (latent variables; B holds higher-order loadings)
    y     = nu + Lambda eta + epsilon
    Sigma = Lambda A Psi A' Lambda' + Theta,   A = (I - B)^-1
    mu    = nu + Lambda A alpha

A :class:`Structure` holds the parameter table (one row per matrix entry, fixed or free;
equality constraints across groups are parameter *sharing*: entries with the same free
id). A *discrepancy* per group turns model moments into a fit function value ``f`` (on
the chi-square scale: ``-2 log L`` up to a constant), its gradient and its expected
(Fisher) information; :func:`fisher_scoring` minimises the sum over groups.

New estimators plug in as a discrepancy: an object with ``n`` (rows), ``evaluate(sigma,
mu, jac, want)`` returning :class:`Evaluation`, ``loglik(sigma, mu)`` (or ``None``) and
``p``. The Jacobian handed to it is :class:`Jacobian` (rank-2 form of dSigma, dense
dmu), so a weighted-least-squares discrepancy (e.g. DWLS for WLSMV, with its own weight
matrix on the sample statistics) only needs ``jac.dense()`` and its weights.

Derivatives use that every free entry moves Sigma by a rank-2 symmetric matrix
``c (u v' + v u')``; traces such as ``tr(W dS_a W dS_b)`` then reduce to products of the
small matrices ``U W U'``, ``V W V'``, ``U W V'`` (no p x p x q arrays).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

__all__ = [
    "ALPHA",
    "BETA",
    "LAMBDA",
    "NU",
    "PSI",
    "THETA",
    "Evaluation",
    "FIMLDiscrepancy",
    "Jacobian",
    "MLDiscrepancy",
    "OptimResult",
    "Structure",
    "em_saturated",
    "fisher_scoring",
]

LAMBDA, BETA, PSI, THETA, NU, ALPHA = range(6)
_LOG2PI = float(np.log(2.0 * np.pi))


# --------------------------------------------------------------------------- structure


@dataclass
class Structure:
    """Parameter table of a (multi-group) factor model.

    Arrays are aligned, one element per matrix entry that is free or fixed to a
    non-default value: ``group``, ``mat`` (``LAMBDA`` ...), ``row``, ``col``, ``free``
    (shared free id, -1 when fixed), ``value`` (fixed value, or start value when free),
    and the labels ``lhs``, ``op``, ``rhs`` (lavaan's syntax, e.g. ``F =~ x1``).
    Entries not listed are 0. Psi and Theta entries are listed once (row >= col).
    """

    observed: list[str]
    latent: list[str]
    ngroups: int
    meanstructure: bool
    group: np.ndarray
    mat: np.ndarray
    row: np.ndarray
    col: np.ndarray
    free: np.ndarray
    value: np.ndarray
    lhs: list[str]
    op: list[str]
    rhs: list[str]
    npar: int = field(init=False)

    def __post_init__(self) -> None:
        self.npar = int(self.free.max()) + 1 if (self.free >= 0).any() else 0
        self._rows = [np.flatnonzero(self.group == g) for g in range(self.ngroups)]
        self.has_beta = bool((self.mat == BETA).any())

    @property
    def p(self) -> int:
        return len(self.observed)

    @property
    def m(self) -> int:
        return len(self.latent)

    def start(self) -> np.ndarray:
        """Start values of the free parameters (first entry of each shared id)."""
        theta = np.zeros(self.npar)
        idx = np.flatnonzero(self.free >= 0)
        # the first entry wins (reverse so that earlier rows overwrite later ones)
        theta[self.free[idx[::-1]]] = self.value[idx[::-1]]
        return theta

    def rows(self, g: int) -> np.ndarray:
        return self._rows[g]

    def free_rows(self, g: int) -> np.ndarray:
        r = self._rows[g]
        return r[self.free[r] >= 0]

    def matrices(self, theta: np.ndarray, g: int) -> Matrices:
        p, m = self.p, self.m
        lam, beta, psi = np.zeros((p, m)), np.zeros((m, m)), np.zeros((m, m))
        th, nu, alpha = np.zeros((p, p)), np.zeros(p), np.zeros(m)
        r = self._rows[g]
        val = np.where(self.free[r] >= 0, theta[np.maximum(self.free[r], 0)], self.value[r])
        mat, i, j = self.mat[r], self.row[r], self.col[r]
        for code, target in ((LAMBDA, lam), (BETA, beta), (PSI, psi), (THETA, th)):
            k = mat == code
            target[i[k], j[k]] = val[k]
            if code in (PSI, THETA):
                target[j[k], i[k]] = val[k]
        k = mat == NU
        nu[i[k]] = val[k]
        k = mat == ALPHA
        alpha[i[k]] = val[k]
        return Matrices(lam, beta, psi, th, nu, alpha)

    def implied(self, theta: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, Matrices]:
        mats = self.matrices(theta, g)
        return mats.sigma, mats.mu, mats


@dataclass
class Matrices:
    """Model matrices of one group and what follows from them."""

    lam: np.ndarray
    beta: np.ndarray
    psi: np.ndarray
    theta: np.ndarray
    nu: np.ndarray
    alpha: np.ndarray

    def __post_init__(self) -> None:
        m = self.beta.shape[0]
        if self.beta.any():
            self.a = np.linalg.inv(np.eye(m) - self.beta)
        else:
            self.a = np.eye(m)
        self.phi = self.a @ self.psi @ self.a.T  # covariance of the latent variables
        self.lam_a = self.lam @ self.a
        self.sigma = self.lam_a @ self.psi @ self.lam_a.T + self.theta
        self.sigma = (self.sigma + self.sigma.T) / 2.0
        self.a_alpha = self.a @ self.alpha  # latent means
        self.mu = self.nu + self.lam @ self.a_alpha

    def jacobian(self, mat: np.ndarray, row: np.ndarray, col: np.ndarray) -> Jacobian:
        """Derivatives of Sigma and mu with respect to the entries ``(mat, row, col)``."""
        n, p = len(mat), self.lam.shape[0]
        u, v = np.zeros((n, p)), np.zeros((n, p))
        c = np.ones(n)
        dmu = np.zeros((n, p))
        lam_phi = self.lam @ self.phi
        k = np.flatnonzero(mat == LAMBDA)
        u[k, row[k]] = 1.0
        v[k] = lam_phi[:, col[k]].T
        dmu[k, row[k]] = self.a_alpha[col[k]]
        k = np.flatnonzero(mat == BETA)
        u[k] = self.lam_a[:, row[k]].T
        v[k] = lam_phi[:, col[k]].T
        dmu[k] = self.lam_a[:, row[k]].T * self.a_alpha[col[k]][:, None]
        k = np.flatnonzero(mat == PSI)
        u[k] = self.lam_a[:, row[k]].T
        v[k] = self.lam_a[:, col[k]].T
        c[k] = np.where(row[k] == col[k], 0.5, 1.0)
        k = np.flatnonzero(mat == THETA)
        u[k, row[k]] = 1.0
        v[k, col[k]] = 1.0
        c[k] = np.where(row[k] == col[k], 0.5, 1.0)
        k = np.flatnonzero(mat == NU)
        c[k] = 0.0
        dmu[k, row[k]] = 1.0
        k = np.flatnonzero(mat == ALPHA)
        c[k] = 0.0
        dmu[k] = self.lam_a[:, row[k]].T
        return Jacobian(u, v, c, dmu)


@dataclass
class Jacobian:
    """dSigma/dtheta_a = c_a (u_a v_a' + v_a u_a'), dmu/dtheta_a = dmu[a]."""

    u: np.ndarray
    v: np.ndarray
    c: np.ndarray
    dmu: np.ndarray

    def __len__(self) -> int:
        return len(self.c)

    def dense(self) -> np.ndarray:
        """dSigma as a dense (q, p, p) array (for discrepancies that need it)."""
        d = self.c[:, None, None] * (self.u[:, :, None] * self.v[:, None, :])
        return d + d.transpose(0, 2, 1)

    def take(self, idx: np.ndarray) -> Jacobian:
        """The entries ``idx``."""
        return Jacobian(self.u[idx], self.v[idx], self.c[idx], self.dmu[idx])

    def restrict(self, cols: np.ndarray) -> Jacobian:
        """Only the observed variables ``cols`` (a missing-data pattern)."""
        return Jacobian(self.u[:, cols], self.v[:, cols], self.c, self.dmu[:, cols])

    def factor(self) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Pool the distinct u and v vectors: ``(Z, (u_id, v_id, c))`` with
        ``u = Z[u_id]``, ``v = Z[v_id]`` (few distinct vectors: unit vectors, columns of
        Lambda A and Lambda Phi), so that traces need only ``Z P Z'``."""
        z, inverse = np.unique(np.vstack([self.u, self.v]), axis=0, return_inverse=True)
        inverse = np.asarray(inverse).ravel()
        n = len(self.c)
        return z, (inverse[:n], inverse[n:], self.c)

    @staticmethod
    def concat(parts: list[Jacobian]) -> Jacobian:
        return Jacobian(
            np.vstack([j.u for j in parts]), np.vstack([j.v for j in parts]),
            np.concatenate([j.c for j in parts]), np.vstack([j.dmu for j in parts]),
        )

    def trace_with(self, g: np.ndarray) -> np.ndarray:
        """tr(G dSigma_a) for a symmetric G, for every a."""
        return 2.0 * self.c * np.einsum("ap,pq,aq->a", self.u, g, self.v)

    def info(self, w: np.ndarray, other: Jacobian | None = None) -> np.ndarray:
        """tr(W dS_a W dS_b) for a symmetric W (rows a of self, columns b of ``other``)."""
        o = self if other is None else other
        uw, vw = self.u @ w, self.v @ w
        uu, vv = uw @ o.u.T, vw @ o.v.T
        uv, vu = uw @ o.v.T, vw @ o.u.T
        return 2.0 * np.outer(self.c, o.c) * (uu * vv + uv * vu)

    def info_diag(self, w: np.ndarray) -> np.ndarray:
        """The diagonal of :meth:`info` (W symmetric)."""
        uw, vw = self.u @ w, self.v @ w
        uu = np.einsum("ap,ap->a", uw, self.u)
        vv = np.einsum("ap,ap->a", vw, self.v)
        uv = np.einsum("ap,ap->a", uw, self.v)
        return 2.0 * self.c**2 * (uu * vv + uv * uv)


# --------------------------------------------------------------------------- discrepancies


@dataclass
class Evaluation:
    """Fit function value (chi-square scale), gradient and expected information."""

    f: float
    grad: np.ndarray | None = None
    info: np.ndarray | None = None


def _chol_inv(sigma: np.ndarray) -> tuple[np.ndarray, float] | None:
    try:
        c, low = linalg.cho_factor(sigma, lower=True, check_finite=False)
    except (linalg.LinAlgError, ValueError):
        return None
    d = np.diag(c)
    if not np.all(d > 0) or not np.all(np.isfinite(d)):
        return None
    inv = linalg.cho_solve((c, low), np.eye(len(sigma)), check_finite=False)
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

    def loglik_independence(self) -> float:
        return -0.5 * self.n * (self.p * _LOG2PI + float(np.log(np.diag(self.s)).sum()) + self.p)

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

    def loglik_independence(self) -> float:
        """Independence model (means and variances free): the likelihood factorises by
        variable, so each variable's observed mean and (biased) variance are the ML
        estimates."""
        ll = 0.0
        for j in range(self.p):
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


# --------------------------------------------------------------------------- optimiser


@dataclass
class OptimResult:
    theta: np.ndarray
    f: float
    grad: np.ndarray
    info: np.ndarray
    iterations: int
    converged: bool
    message: str


def evaluate(structure: Structure, discrepancies, theta: np.ndarray, want: str = "fgi"):
    """Sum over groups: (f, gradient, information) in the shared parameter space."""
    q = structure.npar
    f = 0.0
    grad = np.zeros(q) if want != "f" else None
    info = np.zeros((q, q)) if want == "fgi" else None
    for g, disc in enumerate(discrepancies):
        mats = structure.matrices(theta, g)
        rows = structure.free_rows(g)
        jac = None
        if want != "f":
            jac = mats.jacobian(structure.mat[rows], structure.row[rows], structure.col[rows])
        ev = disc.evaluate(mats.sigma, mats.mu, jac, want)
        if not np.isfinite(ev.f):
            return Evaluation(np.inf)
        f += ev.f
        if want != "f":
            ids = structure.free[rows]
            np.add.at(grad, ids, ev.grad)
            if want == "fgi":
                info[np.ix_(ids, ids)] += ev.info  # ids are unique within a group
    return Evaluation(f, grad, info)


def _solve(info: np.ndarray, grad: np.ndarray) -> np.ndarray:
    try:
        c = linalg.cho_factor(info, lower=True, check_finite=False)
        return linalg.cho_solve(c, grad, check_finite=False)
    except (linalg.LinAlgError, ValueError):
        step, *_ = np.linalg.lstsq(info, grad, rcond=None)
        return step


def fisher_scoring(
    structure: Structure,
    discrepancies,
    theta0: np.ndarray,
    *,
    max_iter: int = 500,
    tol: float = 1e-20,
    info_every: int = 1,
) -> OptimResult:
    """Minimise the summed discrepancy by Fisher scoring (Gauss-Newton with the expected
    information) with a backtracking line search.

    Converged when the Newton decrement ``g' H^-1 g`` (chi-square units) is below
    ``tol * max(1, f)``: the default asks for the optimum to machine precision (score
    tests and modification indices are first-order sensitive to the estimates). Steps
    with a decrement below ``1e-9 f`` are taken whole (no line search: the change in
    ``f`` is then below its rounding error). With ``info_every > 1`` the information is
    recomputed only every so many iterations after the first three (when it is costly,
    as with FIML), and once more at the solution.
    """
    theta = theta0.copy()
    ev = evaluate(structure, discrepancies, theta, "fgi")
    if not np.isfinite(ev.f):
        return OptimResult(theta, np.inf, np.zeros_like(theta), np.eye(len(theta)), 0, False,
                           "the start values give an implied covariance matrix that is not "
                           "positive definite")
    message = "maximum number of iterations reached"
    converged = False
    fresh = True
    it = 0
    for it in range(1, max_iter + 1):
        step = _solve(ev.info, ev.grad)
        decrement = float(ev.grad @ step)
        scale = max(1.0, abs(ev.f))
        if decrement < tol * scale:
            converged, message = True, "converged"
            break
        if decrement < 1e-9 * scale:
            # near the optimum f differences drown in rounding: take the full step
            trial = theta - step
            if not np.isfinite(evaluate(structure, discrepancies, trial, "f").f):
                message = "line search failed"
                break
        else:
            t = 1.0
            accepted = False
            for _ in range(40):
                trial = theta - t * step
                f_new = evaluate(structure, discrepancies, trial, "f").f
                if np.isfinite(f_new) and f_new <= ev.f - 1e-4 * t * decrement:
                    accepted = True
                    break
                t *= 0.5
            if not accepted:
                message = "line search failed"
                break
        theta = trial
        if it < 3 or it % info_every == 0:
            ev = evaluate(structure, discrepancies, theta, "fgi")
            fresh = True
        else:
            info = ev.info
            ev = evaluate(structure, discrepancies, theta, "fg")
            ev.info = info
            fresh = False
    if not fresh:
        ev = evaluate(structure, discrepancies, theta, "fgi")
    return OptimResult(theta, ev.f, ev.grad, ev.info, it, converged, message)


# --------------------------------------------------------------------------- CFA builder

#: group.equal keywords (lavaan's names) -> what they constrain
EQUAL_KINDS = (
    "loadings", "intercepts", "means", "residuals", "residual.covariances",
    "lv.variances", "lv.covariances",
)


def _kind(mat: int, row: int, col: int) -> str:
    if mat in (LAMBDA, BETA):
        return "loadings"
    if mat == NU:
        return "intercepts"
    if mat == ALPHA:
        return "means"
    if mat == THETA:
        return "residuals" if row == col else "residual.covariances"
    return "lv.variances" if row == col else "lv.covariances"


def _factor_starts(
    s: np.ndarray, items: list[int], std_lv: bool
) -> tuple[np.ndarray, float, np.ndarray]:
    """Start loadings, factor variance and uniquenesses of one factor from the first
    principal component of its items' correlations (scaled to the marker, or std.lv)."""
    sd = np.sqrt(np.diag(s)[items])
    if len(items) == 1:
        lam = np.array([sd[0] if std_lv else 1.0])
        return lam, (1.0 if std_lv else 0.5 * sd[0] ** 2), 0.5 * sd**2
    r = s[np.ix_(items, items)] / np.outer(sd, sd)
    vals, vecs = np.linalg.eigh(r)
    vec = vecs[:, -1] * (1.0 if vecs[:, -1].sum() >= 0 else -1.0)
    std = np.clip(vec * np.sqrt(vals[-1]), -0.95, 0.95)
    raw = std * sd
    uniq = np.maximum(sd**2 - raw**2, 0.1 * sd**2)
    if std_lv:
        return raw, 1.0, uniq
    marker = raw[0] if abs(raw[0]) > 1e-3 * sd[0] else sd[0]
    return raw / marker, marker**2, uniq


def cfa_structure(
    factors: dict[str, list[str]],
    observed: list[str],
    moments: list[tuple[np.ndarray, np.ndarray]],
    *,
    meanstructure: bool,
    second_order: dict[str, list[str]] | None = None,
    std_lv: bool = False,
    residual_covariances: tuple[tuple[str, str], ...] = (),
    group_equal: tuple[str, ...] = (),
    group_partial: frozenset[tuple[str, str, str]] = frozenset(),
) -> Structure:
    """Parameter table of a (multi-group) CFA with lavaan's defaults.

    ``factors`` maps each first-order factor to its items (the first one is the marker,
    loading fixed to 1, unless ``std_lv``); ``second_order`` maps higher-order factors to
    first-order factors. Exogenous latent variables covary freely; residual variances
    are free; ``residual_covariances`` adds free observed residual covariances. With a
    mean structure the intercepts are free and the latent means fixed to 0, except that
    when ``"intercepts"`` (but not ``"means"``) is in ``group_equal`` the means (or
    intercepts) of the first-order factors are free in every group but the first
    (lavaan's ``group.equal``; lavaan also frees the higher-order factors' means, which
    are then not identified: here they stay 0, same fit, one parameter less). ``group_partial`` lists ``(lhs, op, rhs)`` entries left free across
    groups (lavaan's ``group.partial``). ``moments`` gives each group's (S, ybar) for the
    start values.
    """
    second_order = second_order or {}
    latent = list(factors) + [h for h in second_order if h not in factors]
    lv = {name: j for j, name in enumerate(latent)}
    ov = {name: i for i, name in enumerate(observed)}
    endogenous = {f for facets in second_order.values() for f in facets}
    exogenous = [name for name in latent if name not in endogenous]
    ngroups = len(moments)
    cols: dict[str, list] = {k: [] for k in ("group", "mat", "row", "col", "free", "value",
                                             "lhs", "op", "rhs")}
    first_ids: dict[tuple[int, int, int], int] = {}
    next_id = 0

    def add(g, mat, row, col, free, value, lhs, op, rhs):
        nonlocal next_id
        pid = -1
        if free:
            key = (mat, row, col)
            shared = (
                g > 0
                and _kind(mat, row, col) in group_equal
                and (lhs, op, rhs) not in group_partial
                and key in first_ids
            )
            if shared:
                pid = first_ids[key]
            else:
                pid = next_id
                next_id += 1
                if g == 0:
                    first_ids[key] = pid
        for k, v in zip(cols, (g, mat, row, col, pid, value, lhs, op, rhs), strict=True):
            cols[k].append(v)

    for g, (s, ybar) in enumerate(moments):
        lv_var = {}
        uniq_start = 0.5 * np.diag(s)
        seen: set[int] = set()
        for f, items in factors.items():
            idx = [ov[i] for i in items]
            lam, var, uniq = _factor_starts(s, idx, std_lv)
            lv_var[f] = var
            for k, i in enumerate(idx):
                if i not in seen and len(idx) > 1:
                    uniq_start[i] = uniq[k]
                seen.add(i)
            for k, item in enumerate(items):
                fixed = k == 0 and not std_lv
                add(g, LAMBDA, ov[item], lv[f], not fixed, lam[k] if not fixed else 1.0,
                    f, "=~", item)
        for h, facets in second_order.items():
            for k, f in enumerate(facets):
                fixed = k == 0 and not std_lv
                add(g, BETA, lv[f], lv[h], not fixed, 1.0, h, "=~", f)
        for i, item in enumerate(observed):
            add(g, THETA, i, i, True, uniq_start[i], item, "~~", item)
        for a, b in residual_covariances:
            i, j = sorted((ov[a], ov[b]), reverse=True)
            add(g, THETA, i, j, True, 0.0, a, "~~", b)
        for h, facets in second_order.items():
            base = float(np.mean([lv_var[f] for f in facets]))
            lv_var[h] = 0.5 * base
            for f in facets:
                lv_var[f] = 0.5 * lv_var[f]
        for f in latent:
            fixed = std_lv and f in exogenous
            add(g, PSI, lv[f], lv[f], not fixed, 1.0 if fixed else lv_var[f], f, "~~", f)
        for a_i, a in enumerate(exogenous):
            for b in exogenous[a_i + 1:]:
                i, j = sorted((lv[a], lv[b]), reverse=True)
                add(g, PSI, i, j, True, 0.0, a, "~~", b)
        if meanstructure:
            for i, item in enumerate(observed):
                add(g, NU, i, 0, True, ybar[i], item, "~1", "")
            free_means = g > 0 and "intercepts" in group_equal and "means" not in group_equal
            for f in latent:
                free = free_means and f in factors
                add(g, ALPHA, lv[f], 0, free, 0.0, f, "~1", "")
    arr = {k: np.asarray(v) for k, v in cols.items() if k not in ("lhs", "op", "rhs")}
    return Structure(
        observed=list(observed), latent=latent, ngroups=ngroups, meanstructure=meanstructure,
        group=arr["group"].astype(int), mat=arr["mat"].astype(int), row=arr["row"].astype(int),
        col=arr["col"].astype(int), free=arr["free"].astype(int),
        value=arr["value"].astype(float), lhs=cols["lhs"], op=cols["op"], rhs=cols["rhs"],
    )


@dataclass
class GroupDerivatives:
    """One group's derivatives at ``theta`` in the unconstrained (per-group) space."""

    rows: np.ndarray  # partable rows of the group's free entries
    ids: np.ndarray  # their shared free ids
    grad: np.ndarray
    info: np.ndarray
    matrices: Matrices


def group_derivatives(structure: Structure, discrepancies, theta: np.ndarray):
    """Per group: gradient and expected information of that group's ``f`` with respect
    to its own free entries (each entry its own parameter: the full space in which the
    score tests of equality constraints and modification indices are computed)."""
    out = []
    for g, disc in enumerate(discrepancies):
        mats = structure.matrices(theta, g)
        rows = structure.free_rows(g)
        jac = mats.jacobian(structure.mat[rows], structure.row[rows], structure.col[rows])
        ev = disc.evaluate(mats.sigma, mats.mu, jac, "fgi")
        out.append(GroupDerivatives(rows, structure.free[rows], ev.grad, ev.info, mats))
    return out
