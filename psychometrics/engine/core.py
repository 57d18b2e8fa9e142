"""The engine's core: parameter table, model matrices, derivatives and the optimizer.

The model is lavaan's LISREL "all-y" form, per group ``g``::

    eta   = alpha + B eta + zeta          (latent variables; B holds regressions and
                                           higher-order loadings)
    y     = nu + Lambda eta + epsilon
    Sigma = Lambda A Psi A' Lambda' + Theta,   A = (I - B)^-1
    mu    = nu + Lambda A alpha

A :class:`Structure` holds the parameter table (one row per matrix entry, fixed or free;
equality constraints across groups are parameter *sharing*: entries with the same free
id). An *estimator* is a discrepancy per group that turns model moments into a fit
function value ``f`` (chi-square scale), its gradient and its expected information
(:mod:`psychometrics.engine.ml` for ML and FIML, :mod:`psychometrics.engine.dwls` for
DWLS); :func:`fisher_scoring` minimises the sum over groups.

A discrepancy is an object with ``n`` (rows), ``p``, ``evaluate(sigma, mu, jac, want)``
returning :class:`Evaluation`. The Jacobian handed to it is :class:`Jacobian` (rank-2 form
of dSigma, dense dmu).

Derivatives use that every free entry moves Sigma by a rank-2 symmetric matrix
``c (u v' + v u')``; traces such as ``tr(W dS_a W dS_b)`` then reduce to products of the
small matrices ``U W U'``, ``V W V'``, ``U W V'`` (no p x p x q arrays).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg

__all__ = [
    "ALPHA", "BETA", "LAMBDA", "NU", "PSI", "SCALE", "TAU", "THETA", "Evaluation", "GroupDerivatives",
    "Jacobian", "Matrices", "OptimResult", "Structure", "central_differences", "evaluate",
    "evaluate_group", "fisher_scoring",
    "group_derivatives", "single_thread",
]

LAMBDA, BETA, PSI, THETA, NU, ALPHA, TAU, SCALE = range(8)

# --------------------------------------------------------------------------- structure


@dataclass
class Structure:
    """Parameter table of a (multi-group) factor model.

    Arrays are aligned, one element per matrix entry that is free or fixed to a
    non-default value: ``group``, ``mat`` (``LAMBDA`` ...), ``row``, ``col``, ``free``
    (shared free id, -1 when fixed), ``value`` (fixed value, or start value when free),
    and the labels ``lhs``, ``op``, ``rhs`` (lavaan's syntax, e.g. ``F =~ x1``) and
    ``label`` (the user's label, ``a`` in ``Y ~ a*X``, or None).
    Entries not listed are 0. Psi and Theta entries are listed once (row >= col).
    With ``delta`` (the "delta" parameterization of ordinal items) the residual variances
    are not parameters: Theta's diagonal is ``1 / scale^2 - diag(Lambda A Psi A' Lambda')``
    so that Sigma's diagonal is the latent responses' variance ``1 / scale^2`` (a
    correlation matrix when no scale is a parameter). That diagonal has no derivative: the
    DWLS discrepancies use the off-diagonal only.

    Ordinal items whose thresholds are parameters (ordinal invariance,
    :mod:`psychometrics.engine.measeq`) add two kinds of entries: ``TAU`` (row: the
    threshold's index; ``th_item`` gives its item) and ``SCALE`` (row: the item; the scale
    factor ``1 / sd`` of its latent response, 1 when not listed). They do not move Sigma or
    mu; a discrepancy on thresholds reads them from :class:`Matrices` (``tau``, ``scale``).

    Observed variables in regressions (``F ~ x1``, ``m ~ F``) are carried, as in lavaan,
    by a latent twin of the same name (loading 1, residual variance 0, intercept 0: rows
    marked ``hidden``, not shown in the estimates); ``covariates`` names the exogenous ones,
    whose variances, covariances and means are fixed at their sample values (lavaan's
    ``fixed.x = TRUE``; rows marked ``fixed_x``). With ``delta`` and covariates (WLSMV
    given covariates, lavaan's ``conditional.x``) the latent responses' variance *given
    the covariates* is ``1 / scale^2``.
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
    label: list[str | None] | None = None
    delta: bool = False
    hidden: np.ndarray | None = None
    fixed_x: np.ndarray | None = None
    covariates: tuple[str, ...] = ()
    th_item: np.ndarray | None = None
    npar: int = field(init=False)

    def __post_init__(self) -> None:
        if self.hidden is None:
            self.hidden = np.zeros(len(self.mat), dtype=bool)
        if self.fixed_x is None:
            self.fixed_x = np.zeros(len(self.mat), dtype=bool)
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

    def with_covariate_moments(self, moments: list[tuple[np.ndarray, np.ndarray]]) -> Structure:
        """The same model with the covariates' fixed moments taken from each group's
        ``(S, ybar)`` (a bootstrap resample refits with its own, as lavaan's ``fixed.x``)."""
        value = self.value.copy()
        ov = {name: i for i, name in enumerate(self.observed)}
        for k in np.flatnonzero(self.fixed_x):
            s, ybar = moments[self.group[k]]
            i = ov[self.lhs[k]]
            value[k] = ybar[i] if self.mat[k] == ALPHA else s[i, ov[self.rhs[k]]]
        return dataclasses.replace(self, value=value)

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
        tau = np.zeros(0 if self.th_item is None else len(self.th_item))
        scale = np.ones(p)
        k = mat == TAU
        tau[i[k]] = val[k]
        k = mat == SCALE
        scale[i[k]] = val[k]
        if self.delta:
            th[np.diag_indices(p)] = self._delta_residuals(lam, beta, psi, scale)
        return Matrices(lam, beta, psi, th, nu, alpha, tau, scale)

    def _delta_residuals(self, lam, beta, psi, scale) -> np.ndarray:
        """Theta's diagonal in the delta parameterization: the latent responses' variance
        is ``1 / scale^2``; with covariates it is their variance *given* the covariates
        (lavaan's conditional.x), so the covariates' share is left out; the covariates
        themselves have no residual."""
        m = beta.shape[0]
        la = lam @ np.linalg.inv(np.eye(m) - beta) if beta.any() else lam
        if not self.covariates:
            return 1.0 / scale**2 - np.einsum("ij,jk,ik->i", la, psi, la)
        lv = [self.latent.index(x) for x in self.covariates]
        ov = [self.observed.index(x) for x in self.covariates]
        given = psi.copy()
        given[lv, :] = 0.0
        given[:, lv] = 0.0
        out = 1.0 / scale**2 - np.einsum("ij,jk,ik->i", la, given, la)
        out[ov] = 0.0
        return out

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
    tau: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale: np.ndarray | None = None

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
        """Derivatives of Sigma and mu with respect to the entries ``(mat, row, col)``
        (``TAU`` and ``SCALE`` entries move neither: the Jacobian keeps ``mat`` and ``row``
        for a discrepancy that reads them)."""
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
        c[(mat == TAU) | (mat == SCALE)] = 0.0
        return Jacobian(u, v, c, dmu, mat, row)


@dataclass
class Jacobian:
    """dSigma/dtheta_a = c_a (u_a v_a' + v_a u_a'), dmu/dtheta_a = dmu[a]; ``mat`` and
    ``row`` name each entry (``TAU``, ``SCALE``: see :class:`Structure`)."""

    u: np.ndarray
    v: np.ndarray
    c: np.ndarray
    dmu: np.ndarray
    mat: np.ndarray | None = None
    row: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.c)

    def dense(self) -> np.ndarray:
        """dSigma as a dense (q, p, p) array (for discrepancies that need it)."""
        d = self.c[:, None, None] * (self.u[:, :, None] * self.v[:, None, :])
        return d + d.transpose(0, 2, 1)

    def take(self, idx: np.ndarray) -> Jacobian:
        """The entries ``idx``."""
        mat = None if self.mat is None else self.mat[idx]
        row = None if self.row is None else self.row[idx]
        return Jacobian(self.u[idx], self.v[idx], self.c[idx], self.dmu[idx], mat, row)

    def restrict(self, cols: np.ndarray) -> Jacobian:
        """Only the observed variables ``cols`` (a missing-data pattern)."""
        return Jacobian(self.u[:, cols], self.v[:, cols], self.c, self.dmu[:, cols],
                        self.mat, self.row)

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
            *((np.concatenate([j.mat for j in parts]), np.concatenate([j.row for j in parts]))
              if all(j.mat is not None for j in parts) else ()),
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


@dataclass
class Evaluation:
    """Fit function value (chi-square scale), gradient and expected information."""

    f: float
    grad: np.ndarray | None = None
    info: np.ndarray | None = None


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


def evaluate_group(disc, mats: Matrices, jac: Jacobian | None, want: str) -> Evaluation:
    """One group's discrepancy at its model matrices: most read Sigma and mu only
    (``evaluate(sigma, mu, jac, want)``); one that fits thresholds too reads the matrices
    (``evaluate_model(mats, jac, want)``: :class:`psychometrics.engine.dwls.ThresholdDWLS`)."""
    if hasattr(disc, "evaluate_model"):
        return disc.evaluate_model(mats, jac, want)
    return disc.evaluate(mats.sigma, mats.mu, jac, want)


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
        ev = evaluate_group(disc, mats, jac, want)
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


def _line_search(structure, discrepancies, theta, step, ev, decrement, want, whole):
    """Backtracking (Armijo) along ``-step``; the full step is evaluated with ``want`` at
    once (it is usually accepted). ``whole``: near the optimum, where differences in ``f``
    drown in rounding, the full step is taken if ``f`` is finite. Returns ``(theta, its
    evaluation)`` or None."""
    trial = theta - step
    new = evaluate(structure, discrepancies, trial, want)
    if np.isfinite(new.f) and (whole or new.f <= ev.f - 1e-4 * decrement):
        return trial, new
    if whole:
        return None
    t = 0.5
    for _ in range(39):
        trial = theta - t * step
        f_new = evaluate(structure, discrepancies, trial, "f").f
        if np.isfinite(f_new) and f_new <= ev.f - 1e-4 * t * decrement:
            return trial, evaluate(structure, discrepancies, trial, want)
        t *= 0.5
    return None


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
    converged, fresh = False, True
    it = 0
    for it in range(1, max_iter + 1):
        step = _solve(ev.info, ev.grad)
        decrement = float(ev.grad @ step)
        scale = max(1.0, abs(ev.f))
        if decrement < tol * scale:
            converged, message = True, "converged"
            break
        want = "fgi" if it < 3 or it % info_every == 0 else "fg"
        found = _line_search(structure, discrepancies, theta, step, ev, decrement,
                             want, whole=decrement < 1e-9 * scale)
        if found is None:
            message = "line search failed"
            break
        theta, new = found
        fresh = want == "fgi"
        if not fresh:
            new.info = ev.info
        ev = new
    if not fresh:
        ev = evaluate(structure, discrepancies, theta, "fgi")
    return OptimResult(theta, ev.f, ev.grad, ev.info, it, converged, message)


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
        ev = evaluate_group(disc, mats, jac, "fgi")
        out.append(GroupDerivatives(rows, structure.free[rows], ev.grad, ev.info, mats))
    return out


def central_differences(f, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Jacobian of the vector function ``f`` at ``x`` by central differences, column ``j``
    with the step ``step * max(1, |x_j|)``: of an analytic gradient, the observed
    information (symmetrize it); of defined parameters, their delta-method gradient."""
    cols = []
    for j in range(len(x)):
        h = step * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        cols.append((np.asarray(f(up)) - np.asarray(f(down))) / (2.0 * h))
    return np.column_stack(cols) if cols else np.zeros((len(np.asarray(f(x))), 0))


def single_thread():
    """Limit BLAS to one thread: the matrices here are small (items, parameters), and
    multi-threaded BLAS is then slower, and much slower on a busy machine.

    The BLAS libraries are looked up once (``ThreadpoolController``, cached): the look-up
    reads the process's loaded libraries, ~10 ms, as long as a small fit in a Monte Carlo
    replication (numpy's and scipy's BLAS are loaded by then: the engine imports scipy)."""
    return _blas_controller().limit(limits=1, user_api="blas")


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()
