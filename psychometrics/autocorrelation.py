"""Network autocorrelation: the linear network autocorrelation model (``sna::lnam``) and
Moran's I of an outcome on a network.

The model, as in sna 2.7::

    y = rho1 W1 y + X beta + e,    e = rho2 W2 e + nu,    nu ~ N(0, sigma^2 I)

fitted by maximum likelihood. ``X`` includes the intercept column (the caller adds it, as
in R). The log-determinants log|I - rho W| come from the eigenvalues of W, computed once
(``sum(log|1 - rho lambda|)``); the products with W use sparse matrices. The estimates are
the joint maximum (sna alternates beta and rho until the deviance moves less than 1e-10);
the standard errors come from the exact Hessian of the negative log-likelihood in
``(beta, rho1, rho2, sigma^2)`` (sna differentiates it numerically with numDeriv), so they
agree to about 1e-6. R equivalent::

    fit <- lnam(y, X, W1 = W)    # fit$rho1 fit$rho1.se fit$beta fit$beta.se fit$sigma fit$lnlik.model
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, sparse, stats
from threadpoolctl import threadpool_limits

from psychometrics.errors import PsychometricsError

__all__ = ["LNAM", "Moran", "eigenvalues", "lnam", "moran"]


@dataclass(frozen=True)
class LNAM:
    """A fitted network autocorrelation model (sna::lnam).

    Attributes
    ----------
    rho1, rho1_se : autocorrelation of y on W1 y and its standard error (NaN without W1)
    rho2, rho2_se : autocorrelation of the disturbances on W2 (NaN without W2)
    beta, beta_se : Series of the coefficients of X (named by X's columns, else X1..Xp)
    sigma : ML standard deviation of the disturbances (sqrt(nu'nu / n))
    loglik : log-likelihood; aic, bic : -2 loglik + 2 k and + log(n) k, k = p + #rho + 1
        (sna's summary)
    n : observations
    table : DataFrame term x (estimate, se, z, p), the rho terms first
    status : ``ok``, or a code: ``no-ties`` (W1 and W2 all zero: rho is not identified,
        beta is OLS), ``rho-at-bound`` (the maximum sits where I - rho W turns singular),
        ``singular-information`` (no standard errors)
    """

    rho1: float
    rho1_se: float
    rho2: float
    rho2_se: float
    beta: pd.Series
    beta_se: pd.Series
    sigma: float
    loglik: float
    aic: float
    bic: float
    n: int
    table: pd.DataFrame
    status: str

    def to_dict(self) -> dict:
        """Plain numbers for results.json (NaN as None)."""

        def num(x):
            return None if not np.isfinite(x) else float(x)

        return {
            "n": self.n,
            "status": self.status,
            **{
                k: num(getattr(self, k))
                for k in ("rho1", "rho1_se", "rho2", "rho2_se", "sigma", "loglik", "aic", "bic")
            },
            "table": {
                t: {c: num(v) for c, v in row.items()}
                for t, row in self.table.to_dict("index").items()
            },
        }


@dataclass(frozen=True)
class Moran:
    """Moran's I of an outcome on a weight matrix, with its test under normality.

    Attributes
    ----------
    i : (n / S0) z'Wz / z'z, z the centred outcome
    expected : -1 / (n - 1)
    variance : (n^2 S1 - n S2 + 3 S0^2) / ((n^2 - 1) S0^2) - expected^2 (Cliff and Ord)
    z, p : standardized I and its two-sided normal p-value
    n : observations
    """

    i: float
    expected: float
    variance: float
    z: float
    p: float
    n: int

    def to_dict(self) -> dict:
        return {k: float(getattr(self, k)) for k in ("i", "expected", "variance", "z", "p")} | {
            "n": self.n
        }


def _as_matrix(w: object, n: int, name: str, labels: pd.Index | None) -> sparse.csr_array:
    if isinstance(w, pd.DataFrame):
        if labels is not None and set(w.index) == set(labels):
            w = w.loc[labels, labels]
        w = w.to_numpy(dtype=float)
    try:
        m = sparse.csr_array(w, dtype=float)
    except (TypeError, ValueError) as exc:
        raise PsychometricsError(
            "non-numeric", f"The {name!r} parameter of lnam must be a numeric matrix ({exc})."
        ) from None
    if m.shape != (n, n):
        raise PsychometricsError(
            "bad-shape",
            f"The {name!r} parameter of lnam must be {n} x {n} (one row per observation of y); "
            f"got {m.shape[0]} x {m.shape[1]}.",
        )
    if not np.all(np.isfinite(m.data)):
        raise PsychometricsError("non-finite", f"The {name!r} parameter of lnam has NaN or inf.")
    return m


def eigenvalues(w: sparse.csr_array) -> np.ndarray:
    """Eigenvalues of W (complex in general). A row-normalized symmetric network
    (W = D^-1 A) is similar to the symmetric D^-1/2 A D^-1/2, whose eigenvalues are real
    and cheaper: that case is detected and used. BLAS is held to one thread: on a shared
    machine its thread pool otherwise spins against other work (8x slower measured)."""
    s = _symmetric_form(w)
    with threadpool_limits(1, user_api="blas"):
        if s is not None:
            return linalg.eigvalsh(s, driver="evr").astype(complex)
        return linalg.eigvals(w.toarray())


def _symmetric_form(w: sparse.csr_array) -> np.ndarray | None:
    """S = D^1/2 W D^-1/2 when W = D^-1 A with A symmetric, else None.

    w_ij / w_ji = d_j / d_i on every tie; d is the row sum of A up to one factor per
    component, so d_i = 1 / w_ij fits binary ties; the check below accepts only a W that
    S reproduces exactly."""
    wt = w.T.tocsr()
    if (w != 0).sum() != ((w != 0).multiply(wt != 0)).sum():
        return None
    nz = w.max(axis=1).toarray().ravel()
    d = np.divide(1.0, nz, out=np.ones_like(nz), where=nz > 0)  # A = D W with d_i = 1 / max_j w_ij
    a = sparse.diags_array(d) @ w
    if abs(a - a.T).max() > 1e-12 * max(1.0, abs(a).max()):
        return None
    r = np.sqrt(d)
    return (sparse.diags_array(r) @ w @ sparse.diags_array(1 / r)).toarray()


def _design(y: object, x: object) -> tuple[np.ndarray, np.ndarray, list[str], pd.Index | None]:
    labels = y.index if isinstance(y, pd.Series) else None
    yv = np.asarray(y, dtype=float).ravel()
    if x is None:
        raise PsychometricsError(
            "missing-covariates", "The 'X' parameter of lnam is required (at least the intercept)."
        )
    names = [str(c) for c in x.columns] if isinstance(x, pd.DataFrame) else None
    xv = np.asarray(x, dtype=float)
    xv = xv.reshape(-1, 1) if xv.ndim == 1 else xv
    names = names or [f"X{i + 1}" for i in range(xv.shape[1])]
    if xv.shape[0] != len(yv):
        raise PsychometricsError(
            "bad-shape", f"The 'X' parameter of lnam has {xv.shape[0]} rows; y has {len(yv)}."
        )
    if not (np.all(np.isfinite(yv)) and np.all(np.isfinite(xv))):
        raise PsychometricsError(
            "missing-values", "The 'y' and 'X' parameters of lnam must be complete (no NA, no inf)."
        )
    if np.linalg.matrix_rank(xv) < xv.shape[1]:
        raise PsychometricsError(
            "collinear-covariates",
            f"The columns of 'X' in lnam are collinear ({', '.join(names)}): drop one.",
        )
    if len(yv) < xv.shape[1] + 2:
        raise PsychometricsError(
            "too-few-nodes",
            f"lnam needs more nodes than parameters (the {xv.shape[1]} columns of 'X', rho, sigma); "
            f"got {len(yv)} node(s).",
        )
    return yv, xv, names, labels


def _check_residual(yv: np.ndarray, xv: np.ndarray) -> None:
    """Refuse y fitted exactly by X (a constant outcome): sigma would be 0, the likelihood infinite."""
    e = yv - xv @ np.linalg.lstsq(xv, yv, rcond=None)[0]
    if not np.any(np.abs(e) > 1e-12 * max(1.0, float(np.abs(yv).max()))):
        raise PsychometricsError(
            "perfect-fit",
            "'X' fits y exactly in lnam (no residual variance, e.g. a constant outcome): nothing to estimate.",
        )


class _Model:
    """The log-likelihood of lnam and its exact derivatives; W1 and/or W2 may be None."""

    def __init__(self, y, x, w1, w2):
        self.y, self.x, self.n = y, x, len(y)
        self.ws = [w for w in (w1, w2)]
        self.lam = [None if w is None else eigenvalues(w) for w in self.ws]
        self.w1y = None if w1 is None else w1 @ y

    def bounds(self, k: int) -> tuple[float, float]:
        lam = self.lam[k]
        real = lam.real[np.abs(lam.imag) < 1e-10]
        lo = 1 / real.min() if real.min() < -1e-12 else -1e3
        hi = 1 / real.max() if real.max() > 1e-12 else 1e3
        return lo, hi

    def parts(self, rho1: float, rho2: float):
        """Ay (y - rho1 W1 y) and the filter B = I - rho2 W2 as a function."""
        ay = self.y if self.w1y is None else self.y - rho1 * self.w1y
        w2 = self.ws[1]
        return ay, (lambda v: v) if w2 is None else (lambda v: v - rho2 * (w2 @ v))

    def beta(self, rho1: float, rho2: float) -> np.ndarray:
        ay, b = self.parts(rho1, rho2)
        bx = np.column_stack([b(c) for c in self.x.T])
        return np.linalg.lstsq(bx, b(ay), rcond=None)[0]

    def logdet(self, rho1: float, rho2: float) -> float:
        out = 0.0
        for lam, rho in zip(self.lam, (rho1, rho2), strict=True):
            if lam is not None:
                out += float(np.sum(np.log(np.abs(1 - rho * lam))))
        return out

    def profile(self, rho1: float, rho2: float) -> float:
        """Negative log-likelihood with beta and sigma^2 at their maximum given rho."""
        ay, b = self.parts(rho1, rho2)
        e = b(ay - self.x @ self.beta(rho1, rho2))
        s2 = e @ e / self.n
        return 0.5 * self.n * (np.log(2 * np.pi) + np.log(s2) + 1) - self.logdet(rho1, rho2)

    def hessian(self, beta, rho1, rho2, s2) -> np.ndarray:
        """Exact Hessian of the negative log-likelihood in (beta, rho1?, rho2?, sigma^2)."""
        ay, b = self.parts(rho1, rho2)
        u = ay - self.x @ beta
        e = b(u)
        cols = [-b(c) for c in self.x.T]
        w1, w2 = self.ws
        if w1 is not None:
            cols.append(-b(self.w1y))
        if w2 is not None:
            cols.append(-(w2 @ u))
        jac = np.column_stack(cols)
        h = jac.T @ jac
        p = self.x.shape[1]
        # second derivatives of e: d2e/dbeta drho2 = W2 X, d2e/drho1 drho2 = W2 W1 y
        if w2 is not None:
            k2 = h.shape[0] - 1
            second = [w2 @ c for c in self.x.T] + ([w2 @ self.w1y] if w1 is not None else [])
            for k, v in enumerate(second):
                h[k, k2] += e @ v
                h[k2, k] += e @ v
        h = h / s2
        for k, (lam, rho) in enumerate(zip(self.lam, (rho1, rho2), strict=True)):
            if lam is not None:
                idx = p + (k if w1 is not None else 0)
                h[idx, idx] += float(np.sum((lam**2 / (1 - rho * lam) ** 2).real))
        g = -(jac.T @ e) / s2**2
        ss = e @ e / s2**3 - self.n / (2 * s2**2)
        return np.block([[h, g[:, None]], [g[None, :], np.array([[ss]])]])


def lnam(y: object, X: object, W1: object = None, W2: object = None) -> LNAM:
    """Fit the network autocorrelation model of ``sna::lnam`` by maximum likelihood.

    ``y``: outcome (Series or array); ``X``: covariates with the intercept column
    (DataFrame or array); ``W1`` (autocorrelation of y) and ``W2`` (of the disturbances):
    n x n arrays, SciPy sparse matrices or DataFrames (reordered to y's index when both are
    labelled), e.g. from :func:`psychometrics.weights`. At least one of W1 / W2.
    """
    yv, xv, names, labels = _design(y, X)
    n = len(yv)
    if W1 is None and W2 is None:
        raise PsychometricsError("missing-weights", "lnam needs W1, W2 or both.")
    w1 = None if W1 is None else _as_matrix(W1, n, "W1", labels)
    w2 = None if W2 is None else _as_matrix(W2, n, "W2", labels)
    _check_residual(yv, xv)
    if all(w is None or w.nnz == 0 for w in (w1, w2)):
        return _ols(yv, xv, names, "no-ties", w1 is not None, w2 is not None)
    model = _Model(
        yv, xv, None if w1 is None or w1.nnz == 0 else w1, None if w2 is None or w2.nnz == 0 else w2
    )
    rho, status = _maximize(model)
    return _result(model, rho, names, status, w1 is not None, w2 is not None)


def _maximize(model: _Model) -> tuple[list[float], str]:
    active = [k for k in (0, 1) if model.ws[k] is not None]
    bounds = [model.bounds(k) for k in active]
    shrink = [(lo + 1e-9 * abs(lo), hi - 1e-9 * abs(hi)) for lo, hi in bounds]

    def f(r):
        rho = [0.0, 0.0]
        for k, v in zip(active, np.atleast_1d(r), strict=True):
            rho[k] = float(v)
        return model.profile(*rho)

    if len(active) == 1:
        res = optimize.minimize_scalar(
            f, bounds=shrink[0], method="bounded", options={"xatol": 1e-12, "maxiter": 2000}
        )
        best = np.atleast_1d(res.x)
    else:
        res = optimize.minimize(
            f,
            np.zeros(2),
            method="L-BFGS-B",
            bounds=shrink,
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
        )
        res = optimize.minimize(
            f,
            res.x,
            method="Nelder-Mead",
            bounds=shrink,
            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000},
        )
        best = res.x
    at_bound = any(
        min(abs(v - lo), abs(hi - v)) < 1e-6 * max(1, abs(v))
        for v, (lo, hi) in zip(best, shrink, strict=True)
    )
    rho = [0.0, 0.0]
    for k, v in zip(active, best, strict=True):
        rho[k] = float(v)
    return rho, "rho-at-bound" if at_bound else "ok"


def _result(model: _Model, rho, names, status, has1: bool, has2: bool) -> LNAM:
    n, p = model.n, model.x.shape[1]
    beta = model.beta(*rho)
    ay, b = model.parts(*rho)
    e = b(ay - model.x @ beta)
    s2 = float(e @ e / n)
    loglik = -0.5 * n * (np.log(2 * np.pi) + np.log(s2) + 1) + model.logdet(*rho)
    active = [k for k in (0, 1) if model.ws[k] is not None]
    se = np.full(p + len(active) + 1, np.nan)
    if status == "ok":
        try:
            se = np.sqrt(np.diag(np.linalg.inv(model.hessian(beta, *rho, s2))))
        except np.linalg.LinAlgError:
            status = "singular-information"
    rse = [np.nan, np.nan]
    for j, k in enumerate(active):
        rse[k] = se[p + j]
    k_par = p + has1 + has2 + 1
    return _pack(names, beta, se[:p], rho, rse, s2, loglik, n, k_par, status, has1, has2)


def _pack(names, beta, beta_se, rho, rse, s2, loglik, n, k_par, status, has1, has2) -> LNAM:
    r1, r2 = (rho[0] if has1 else np.nan), (rho[1] if has2 else np.nan)
    s1, s2se = (rse[0] if has1 else np.nan), (rse[1] if has2 else np.nan)
    terms = (["rho1"] if has1 else []) + (["rho2"] if has2 else []) + list(names)
    est = np.array(([r1] if has1 else []) + ([r2] if has2 else []) + list(beta), float)
    ses = np.array(([s1] if has1 else []) + ([s2se] if has2 else []) + list(beta_se), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / ses
    table = pd.DataFrame(
        {"estimate": est, "se": ses, "z": z, "p": 2 * stats.norm.sf(np.abs(z))},
        index=pd.Index(terms, name="term"),
    )
    return LNAM(
        rho1=float(r1),
        rho1_se=float(s1),
        rho2=float(r2),
        rho2_se=float(s2se),
        beta=pd.Series(beta, index=names, dtype=float),
        beta_se=pd.Series(beta_se, index=names, dtype=float),
        sigma=float(np.sqrt(s2)),
        loglik=float(loglik),
        aic=float(-2 * loglik + 2 * k_par),
        bic=float(-2 * loglik + np.log(n) * k_par),
        n=n,
        table=table,
        status=status,
    )


def _ols(y, x, names, status, has1, has2) -> LNAM:
    """No tie at all: rho is not identified; beta and sigma are those of OLS (rho = 0)."""
    n = len(y)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    e = y - x @ beta
    s2 = float(e @ e / n)
    loglik = -0.5 * n * (np.log(2 * np.pi) + np.log(s2) + 1)
    cov = s2 * np.linalg.inv(x.T @ x)
    return _pack(
        names,
        beta,
        np.sqrt(np.diag(cov)),
        [np.nan, np.nan],
        [np.nan, np.nan],
        s2,
        loglik,
        n,
        x.shape[1] + 1,
        status,
        has1,
        has2,
    )


def moran(y: object, W: object) -> Moran:
    """Moran's I of ``y`` on the weight matrix ``W`` (array, sparse or DataFrame), with the
    test under normality (Cliff and Ord 1981), as ``ape::Moran.I``.
    ``sna::nacf(A, y, lag.max = 1, type = "moran")[2]`` is the I of the binary W = A."""
    yv = np.asarray(y, dtype=float).ravel()
    n = len(yv)
    if not np.all(np.isfinite(yv)):
        raise PsychometricsError("missing-values", "The 'y' parameter of moran must be complete.")
    w = _as_matrix(W, n, "W", y.index if isinstance(y, pd.Series) else None)
    s0 = float(w.sum())
    z = yv - yv.mean()
    if s0 == 0 or n < 3 or z @ z == 0:
        nan = float("nan")
        return Moran(
            i=nan, expected=-1 / (n - 1) if n > 1 else nan, variance=nan, z=nan, p=nan, n=n
        )
    i = n / s0 * float(z @ (w @ z)) / float(z @ z)
    s1 = 0.5 * float(((w + w.T) ** 2).sum())
    s2 = float(np.sum((np.asarray(w.sum(axis=1)).ravel() + np.asarray(w.sum(axis=0)).ravel()) ** 2))
    e = -1 / (n - 1)
    var = (n**2 * s1 - n * s2 + 3 * s0**2) / ((n**2 - 1) * s0**2) - e**2
    zz = (i - e) / np.sqrt(var)
    return Moran(i=i, expected=e, variance=var, z=zz, p=float(2 * stats.norm.sf(abs(zz))), n=n)
