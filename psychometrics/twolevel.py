"""Two-level confirmatory factor analysis by maximum likelihood, as lavaan's
``cfa(model, data, cluster = "org")`` with ``level: 1`` / ``level: 2`` blocks.

The front door is ``pm.cfa(data, model, cluster="org")``, which calls
:func:`twolevel_cfa`. Every observed item is split into a within-cluster part and a
between-cluster part, ``y_ij = mu + b_j + w_ij``, with ``cov(w) = Sigma_W`` given by the
``level: 1`` factor model and ``cov(b) = Sigma_B`` by the ``level: 2`` one (the item means
``mu`` are free at the between level). For a cluster of size ``n`` the stacked answers
have covariance ``I (x) Sigma_W + J (x) Sigma_B``; an orthogonal (Helmert) rotation splits
them into ``n - 1`` within deviations with covariance ``Sigma_W`` and the cluster mean,
whose covariance is ``Sigma_W / n + Sigma_B``. Hence lavaan's log-likelihood::

    -2 logL = N p log(2 pi) + (N - J) log|Sigma_W| + tr(Sigma_W^-1 S_pw)
              + sum_j [ log|Sigma_W + n_j Sigma_B| + n_j (ybar_j - mu)' (Sigma_W + n_j Sigma_B)^-1 (ybar_j - mu) ]

(``S_pw`` the pooled within-cluster sums of squares and cross-products), computed once
per distinct cluster size. ``mu`` is profiled out (its generalized least-squares value),
the rest is minimised with an analytic gradient. The saturated model (unrestricted
``Sigma_W``, ``Sigma_B``) gives ``chisq = 2 (logl_h1 - logl)``; the baseline model
(diagonal ``Sigma_W`` and ``Sigma_B``) gives CFI and TLI; RMSEA uses the total number of
rows; ``srmr_within`` / ``srmr_between`` compare the saturated and implied correlation
matrices of each level (lavaan's ``lav_fit_srmr_twolevel``, with its eigenvalue floor on a
non-positive-definite implied between matrix). AIC and BIC use the total number of rows.

Complete rows by default (lavaan's listwise default); ``missing="fiml"`` uses every row with
an answer (:mod:`psychometrics.twolevel_fiml`, lavaan's ``missing = "ml"``). Standard
errors come from the observed information, lavaan's default for two-level ML: the Hessian
of ``-2 logL`` in every free parameter, the means included, by central differences of the
analytic gradient (as lavaan's, numerical). Checked against lavaan 0.6-14 in
``tests/test_twolevel.py`` and ``tests/test_twolevel_se.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from threadpoolctl import threadpool_limits

from psychometrics import twolevel_fiml
from psychometrics._checks import as_items, check_choice, check_columns
from psychometrics.engine import core, indices
from psychometrics.errors import PsychometricsError

__all__ = ["LevelModel", "TwoLevelCFA", "parse_levels", "twolevel_cfa"]

LEVELS = ("within", "between")
_LEVEL = re.compile(r"^\s*level\s*:\s*(\S+)\s*$", re.IGNORECASE)
_LINE = re.compile(r"^\s*([^\s=~]+)\s*(=~|~~)\s*(.+?)\s*$")


@dataclass(frozen=True)
class LevelModel:
    """The factor model of one level: factors (first item = marker, loading 1) and
    residual covariances between items."""

    factors: dict[str, list[str]]
    residual_covariances: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TwoLevelCFA:
    """A fitted two-level CFA (``pm.cfa(data, model, cluster=...)``).

    Attributes
    ----------
    fit : dict
        lavaan's ``fitMeasures`` names: ``chisq df pvalue cfi tli rmsea rmsea_ci_lower
        rmsea_ci_upper srmr_within srmr_between aic bic logl`` plus ``logl_h1 npar n clusters baseline_chisq
        baseline_df``.
    loadings : dict
        ``{"within": DataFrame, "between": DataFrame}``, standardized (``std.all``)
        loadings, items x factors of that level (0 where an item does not load). A
        between value above 1 comes with a negative residual variance (a Heywood case, as
        lavaan reports it).
    params : DataFrame
        Every parameter: ``level lhs op rhs free est se z pvalue ci_lower ci_upper
        std_all`` (means ``op == "~1"`` at the between level; fixed ones with se 0 and no
        z, as lavaan's ``parameterEstimates(fit, standardized = TRUE)``; 95% normal
        intervals from the observed information).
    implied : dict
        ``{"within": Sigma_W, "between": Sigma_B, "mean": mu}`` (DataFrames / Series).
    converged : bool
    n, clusters : int
        Complete rows used and the number of clusters they fall in.
    cluster : str
        The cluster column.
    model : dict
        ``{"within": {factor: items}, "between": {factor: items}}``.
    warnings : tuple of str
        Plain messages (non-convergence, negative residual variances).
    """

    fit: dict
    loadings: dict
    params: pd.DataFrame
    implied: dict
    converged: bool
    n: int
    clusters: int
    cluster: str
    model: dict
    warnings: tuple[str, ...]

    @property
    def estimates(self) -> pd.DataFrame:
        """``params`` in the column order of ``pm.sem``'s estimates (``level`` after ``rhs``)."""
        return self.params[["lhs", "op", "rhs", "level", "est", "se", "z", "pvalue",
                            "ci_lower", "ci_upper", "std_all"]]

    def summary(self) -> str:
        """Fit measures and standardized loadings per level, as plain text."""
        f = self.fit
        lines = [
            f"Two-level CFA (ML) on {self.n} rows in {self.clusters} clusters of {self.cluster!r}"
            + ("" if self.converged else "  [NOT CONVERGED]"),
            f"  chisq = {f['chisq']:.3f}, df = {f['df']}, p = {f['pvalue']:.4g}",
            f"  CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f}, "
            f"SRMR within = {f['srmr_within']:.3f}, between = {f['srmr_between']:.3f}",
            f"  AIC = {f['aic']:.2f}, BIC = {f['bic']:.2f}, logLik = {f['logl']:.2f}",
        ]
        for level in LEVELS:
            lines += ["", f"Standardized loadings ({level}):", self.loadings[level].round(3).to_string()]
        lines += [f"  [warning] {w}" for w in self.warnings]
        return "\n".join(lines)


# --------------------------------------------------------------------------- model


def _invalid(func: str, why: str) -> PsychometricsError:
    return PsychometricsError("invalid-model", f"The 'model' parameter of {func}: {why}")


def _parse_block(lines: list[str], level: str, func: str) -> LevelModel:
    factors: dict[str, list[str]] = {}
    covs: list[tuple[str, str]] = []
    for line in lines:
        m = _LINE.match(line)
        if not m:
            raise _invalid(func, f"cannot read {line.strip()!r} at the {level} level; "
                                 "expected 'F =~ a + b + c' or 'a ~~ b'.")
        lhs, op, rhs = m.groups()
        terms = [t.strip() for t in rhs.split("+")]
        if op == "=~":
            factors.setdefault(lhs, []).extend(terms)
        else:
            covs += [(lhs, t) for t in terms if t != lhs]
    if not factors:
        raise _invalid(func, f"the {level} level has no factor ('F =~ ...' line).")
    return LevelModel(factors, tuple(covs))


def parse_levels(model: str | Mapping, func: str = "cfa") -> dict[str, LevelModel]:
    """``{"within": LevelModel, "between": LevelModel}`` from lavaan syntax with
    ``level: 1`` and ``level: 2`` blocks, from ``{"within": {...}, "between": {...}}``,
    or from a plain ``{factor: items}`` mapping (the same factors at both levels, named
    ``<factor>w`` and ``<factor>b`` as in ``make_reference_nested.R``)."""
    if isinstance(model, Mapping):
        if set(model) == set(LEVELS):
            return {lv: LevelModel({str(f): list(v) for f, v in model[lv].items()}) for lv in LEVELS}
        return {lv: LevelModel({f"{f}{lv[0]}": list(v) for f, v in model.items()}) for lv in LEVELS}
    if not isinstance(model, str):
        raise _invalid(func, f"expected lavaan syntax or a mapping; got {type(model).__name__}.")
    blocks: dict[str, list[str]] = {}
    current = None
    for raw in re.split(r"[\n;]", model):
        line = raw.split("#")[0].strip()
        if not line:
            continue
        m = _LEVEL.match(line)
        if m:
            key = {"1": "within", "within": "within", "2": "between"}.get(m.group(1).lower(), "between")
            current = blocks.setdefault(key, [])
        elif current is None:
            raise _invalid(func, "a two-level model starts with 'level: 1' (within) and has a "
                                 "'level: 2' (between) block.")
        else:
            current.append(line)
    if set(blocks) != set(LEVELS):
        raise _invalid(func, "a two-level model needs both a 'level: 1' and a 'level: 2' block.")
    return {lv: _parse_block(blocks[lv], lv, func) for lv in LEVELS}


class _Structure:
    """Parameters of one level's factor model -> its implied covariance matrix, and the
    gradient of a function of that matrix mapped back to the parameters."""

    def __init__(self, lm: LevelModel, items: list[str]):
        self.items, self.factors = items, list(lm.factors)
        p, m = len(items), len(self.factors)
        pos = {v: i for i, v in enumerate(items)}
        self.lam_free = [(pos[v], k) for k, f in enumerate(self.factors) for v in lm.factors[f][1:]]
        self.markers = [(pos[lm.factors[f][0]], k) for k, f in enumerate(self.factors)]
        self.phi_free = [(k, j) for k in range(m) for j in range(k + 1)]
        self.theta_free = [(i, i) for i in range(p)] + [
            (max(pos[a], pos[b]), min(pos[a], pos[b])) for a, b in lm.residual_covariances]
        self.sizes = (len(self.lam_free), len(self.phi_free), len(self.theta_free))
        self.p, self.m = p, m

    @property
    def npar(self) -> int:
        return sum(self.sizes)

    def matrices(self, x: np.ndarray):
        a, b, _ = self.sizes
        lam = np.zeros((self.p, self.m))
        for i, k in self.markers:
            lam[i, k] = 1.0
        for (i, k), v in zip(self.lam_free, x[:a], strict=True):
            lam[i, k] = v
        phi = np.zeros((self.m, self.m))
        for (k, j), v in zip(self.phi_free, x[a:a + b], strict=True):
            phi[k, j] = phi[j, k] = v
        theta = np.zeros((self.p, self.p))
        for (i, j), v in zip(self.theta_free, x[a + b:], strict=True):
            theta[i, j] = theta[j, i] = v
        return lam, phi, theta

    def sigma(self, x: np.ndarray) -> np.ndarray:
        lam, phi, theta = self.matrices(x)
        return lam @ phi @ lam.T + theta

    def gradient(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        """d f / d x given g = d f / d Sigma (symmetric, entries treated as distinct)."""
        lam, phi, _ = self.matrices(x)
        d_lam = 2 * g @ lam @ phi
        d_phi = lam.T @ g @ lam
        out = [d_lam[i, k] for i, k in self.lam_free]
        out += [d_phi[k, j] * (1 if k == j else 2) for k, j in self.phi_free]
        out += [g[i, j] * (1 if i == j else 2) for i, j in self.theta_free]
        return np.asarray(out)

    def start(self, s: np.ndarray) -> np.ndarray:
        """Half of each marker's variance for its factor, loadings from the covariances
        with the marker, the rest of each item's variance as residual."""
        d = np.clip(np.diag(s), 1e-3, None)
        phi = np.array([0.5 * d[self.markers[k][0]] for k in range(self.m)])
        lam = np.array([np.clip(s[i, self.markers[k][0]] / phi[k], 0.2, 2) for i, k in self.lam_free])
        lam_all = np.zeros(self.p)
        for (i, k), v in zip(self.lam_free, lam, strict=True):
            lam_all[i] = max(lam_all[i], v**2 * phi[k])
        theta = [max(d[i] - lam_all[i], 0.2 * d[i]) if i == j else 0.0 for i, j in self.theta_free]
        return np.concatenate([lam, [phi[k] if k == j else 0.0 for k, j in self.phi_free], theta])


class _Diagonal(twolevel_fiml.Cholesky):
    """A diagonal covariance matrix (the baseline model) through its square root: the
    Cholesky parametrization restricted to the diagonal."""

    def __init__(self, p: int):
        self.p = p
        self.idx = (np.arange(p), np.arange(p))
        self.npar = p

    def start(self, s):
        return np.sqrt(np.clip(np.diag(s), 1e-3, None))


# --------------------------------------------------------------------------- likelihood


@dataclass(frozen=True)
class _Clusters:
    """Sufficient statistics: per distinct cluster size ``s`` (arrays over sizes) the
    number of clusters ``k``, the sum of their means ``s1`` and of their outer products
    ``s2``."""

    n: int
    j: int
    s_pw: np.ndarray                    # pooled within sums of squares and cross-products
    yy: np.ndarray                      # raw sums of squares and cross-products
    s: np.ndarray                       # (K,) distinct cluster sizes
    k: np.ndarray                       # (K,) clusters of each size
    s1: np.ndarray                      # (K, p)
    s2: np.ndarray                      # (K, p, p)
    ybar: np.ndarray                    # (J, p) every cluster mean (for start values)


def _clusters(y: np.ndarray, ids: np.ndarray) -> _Clusters:
    codes, inverse = np.unique(ids, return_inverse=True)
    counts = np.bincount(inverse)
    sums = np.zeros((len(codes), y.shape[1]))
    np.add.at(sums, inverse, y)
    ybar = sums / counts[:, None]
    dev = y - ybar[inverse]
    sizes, size_of = np.unique(counts, return_inverse=True)
    k = np.bincount(size_of)
    s1 = np.stack([ybar[size_of == i].sum(axis=0) for i in range(len(sizes))])
    s2 = np.stack([ybar[size_of == i].T @ ybar[size_of == i] for i in range(len(sizes))])
    return _Clusters(len(y), len(codes), dev.T @ dev, y.T @ y, sizes.astype(float),
                     k.astype(float), s1, s2, ybar)


def _centered(c: _Clusters, mu: np.ndarray) -> np.ndarray:
    """Per size, the sum over clusters of (ybar - mu)(ybar - mu)'."""
    cross = c.s1[:, :, None] * mu[None, None, :]
    return c.s2 - cross - cross.transpose(0, 2, 1) + c.k[:, None, None] * np.outer(mu, mu)


def _inv_logdet(a: np.ndarray):
    low = np.linalg.cholesky(a)
    il = np.linalg.inv(low)
    logdet = 2 * np.log(np.diagonal(low, axis1=-2, axis2=-1)).sum(axis=-1)
    return np.swapaxes(il, -1, -2) @ il, logdet


def _objective(c: _Clusters, sw: np.ndarray, sb: np.ndarray, want_grad: bool, mu=None):
    """-2 logL (without the constant) at ``mu`` (by default the profiled mean), its
    gradients with respect to Sigma_W and Sigma_B, and the mean."""
    try:
        inv_w, logdet_w = _inv_logdet(sw)
        inv_b, logdet_b = _inv_logdet(sw[None] + c.s[:, None, None] * sb[None])
    except np.linalg.LinAlgError:
        return np.inf, None, None, None
    if mu is None:
        info = np.einsum("k,kab->ab", c.s * c.k, inv_b)
        mu = np.linalg.solve(info, np.einsum("k,kab,kb->a", c.s, inv_b, c.s1))
    cs = c.s[:, None, None] * _centered(c, mu)
    f = (c.n - c.j) * logdet_w + np.sum(inv_w * c.s_pw) + c.k @ logdet_b + np.sum(inv_b * cs)
    if not want_grad:
        return f, None, None, mu
    gs = c.k[:, None, None] * inv_b - inv_b @ cs @ inv_b
    gw = (c.n - c.j) * inv_w - inv_w @ c.s_pw @ inv_w + gs.sum(axis=0)
    gb = np.einsum("k,kab->ab", c.s, gs)
    return f, gw, gb, mu


def _minimize(c: _Clusters, within, between, x0: np.ndarray):
    nw = within.npar

    def fun(x):
        sw, sb = within.sigma(x[:nw]), between.sigma(x[nw:])
        f, gw, gb, _ = _objective(c, sw, sb, True)
        if not np.isfinite(f):
            return 1e10, np.zeros_like(x)
        g = np.concatenate([within.gradient(x[:nw], gw), between.gradient(x[nw:], gb)])
        return f / c.n, g / c.n

    for _ in range(4):  # BFGS restarts with a fresh Hessian when its line search stalls
        res = optimize.minimize(fun, x0, jac=True, method="BFGS",
                                options={"gtol": 1e-7, "maxiter": 20000})
        converged = bool(res.success or np.max(np.abs(res.jac)) < 1e-6)
        if converged:
            break
        x0 = res.x
    return res.x, res.fun * c.n, converged


def _em_step(c: _Clusters, sw, sb, mw, mb):
    """One EM step for the saturated model, the cluster effects b as missing data:
    E(b | ybar) = a (ybar - mu) + mb with a = Sigma_B (Sigma_W / s + Sigma_B)^-1."""
    a = sb[None] @ np.linalg.inv(sw[None] / c.s[:, None, None] + sb[None])        # (K, p, p)
    mu = mw + mb
    d1 = c.s1 - c.k[:, None] * mu                                                # sum of ybar - mu
    at = np.swapaxes(a, 1, 2)
    cov = c.k[:, None, None] * (sb[None] - a @ sb[None])
    ad = np.einsum("kab,kb->ka", a, d1)
    evv = ((cov + np.swapaxes(cov, 1, 2)) / 2 + a @ _centered(c, mu) @ at
           + ad[:, :, None] * mb + mb[:, None] * ad[:, None, :] + c.k[:, None, None] * np.outer(mb, mb))
    sum_ev = ad + c.k[:, None] * mb                                              # (K, p)
    m_ev = (c.s2 - c.s1[:, :, None] * mu[None, None, :]) @ at + c.s1[:, :, None] * mb   # sum ybar ev'
    s3 = c.s[:, None, None]
    cw2 = (s3 * (evv - m_ev - np.swapaxes(m_ev, 1, 2))).sum(axis=0)
    mw = (c.s[:, None] * (c.s1 - sum_ev)).sum(axis=0) / c.n
    mb = sum_ev.sum(axis=0) / c.j
    sw = (c.yy + cw2) / c.n - np.outer(mw, mw)
    sb = evv.sum(axis=0) / c.j - np.outer(mb, mb)
    low = np.diag(sw) < 1e-5
    sw[low, :] = sw[:, low] = 0
    sw[low, low] = 1e-5
    return sw, sb, mw, mb


def _saturated_em(c: _Clusters, p: int, tol: float = 1e-4, max_iter: int = 5000):
    """The saturated (h1) model as lavaan fits it: EM from identity matrices and zero
    means, stopped when the log-likelihood gains less than ``tol`` (lavaan's
    ``lav_mvnorm_cluster_em_sat`` settings). lavaan's chisq, CFI, TLI and SRMR all rest on
    this h1, which is a little short of the true maximum when a between covariance
    matrix is nearly singular: the EM is reproduced, not the maximum, to give its numbers."""
    sw, sb, mw, mb = np.eye(p), np.eye(p), np.zeros(p), np.zeros(p)
    f_old = _objective(c, sw, sb, False, mw + mb)[0]
    for _ in range(max_iter):
        sw, sb, mw, mb = _em_step(c, sw, sb, mw, mb)
        f = _objective(c, sw, sb, False, mw + mb)[0]
        if (f_old - f) / 2 < tol:
            break
        f_old = f
    return sw, sb, f


# --------------------------------------------------------------------------- fit measures


def _force_pd(s: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """lavaan's lav_matrix_symmetric_force_pd: floor the eigenvalues at tol x the largest."""
    ev, vec = np.linalg.eigh(s)
    top = abs(ev[-1])
    ev = np.where(ev / top < tol, tol * top, ev)
    return (vec * ev) @ vec.T


def _cor(s: np.ndarray) -> np.ndarray:
    d = 1 / np.sqrt(np.diag(s))
    return s * np.outer(d, d)


def _srmr(sample: np.ndarray, implied: np.ndarray) -> float:
    r = _cor(sample) - _cor(implied)
    low = np.tril_indices(len(r))
    return float(np.sqrt(np.mean(r[low] ** 2)))


# --------------------------------------------------------------------------- public


def _prepare(data, levels, cluster, func, fiml: bool):
    items = list(dict.fromkeys(v for lm in levels.values() for vs in lm.factors.values() for v in vs))
    for lv in LEVELS:
        seen = {v for vs in levels[lv].factors.values() for v in vs}
        names = set(levels[lv].factors)
        if seen & names:
            raise _invalid(func, f"factors measured by factors ({sorted(seen & names)}) are not "
                                 "supported in two-level models.")
        if set(items) - seen:
            raise _invalid(func, f"items {sorted(set(items) - seen)} appear at one level only; "
                                 "every item needs a factor at level 1 and at level 2.")
    check_columns(data, [*items, cluster], name="data", func=func)
    x = as_items(data[items], name="data", func=func, min_rows=3)
    answered = x.notna().any(axis=1) if fiml else x.notna().all(axis=1)
    keep = answered & data[cluster].notna()
    return items, x.loc[keep].to_numpy(float), data.loc[keep, cluster].to_numpy()


def _check_clusters(c: _Clusters, between: _Structure, cluster: str, func: str) -> None:
    need = between.npar + between.p
    if c.j <= need:
        raise PsychometricsError(
            "too-few-clusters",
            f"The 'cluster' parameter of {func}: the between-level model has {need} free "
            f"parameters (means included) and needs more clusters than that; the complete "
            f"rows fall in {c.j} clusters of {cluster!r}. Use a simpler between model (one "
            "factor) or more clusters.")


def _sd(v: np.ndarray) -> np.ndarray:
    """Standard deviations, NaN for a non-positive variance."""
    return np.sqrt(np.where(v > 0, v, np.nan))


def _std_loadings(st: _Structure, x: np.ndarray, items: list[str]) -> pd.DataFrame:
    lam, phi, theta = st.matrices(x)
    sigma = lam @ phi @ lam.T + theta
    std = lam * _sd(np.diag(phi))[None, :] / _sd(np.diag(sigma))[:, None]
    return pd.DataFrame(std, index=items, columns=st.factors)


def _params(structs: dict, xs: dict, mu: np.ndarray, items: list[str], cov: np.ndarray) -> pd.DataFrame:
    """Every parameter with its standard error from ``cov`` (the covariance of the free
    parameters in the order within, between, means)."""
    rows = []
    offset = 0
    for lv in LEVELS:
        st, x = structs[lv], xs[lv]
        lam, phi, theta = st.matrices(x)
        sd_f = _sd(np.diag(phi))
        sd_y = _sd(np.diag(lam @ phi @ lam.T + theta))
        a, b, _ = st.sizes
        free_lam = {pos: offset + k for k, pos in enumerate(st.lam_free)}
        for i, k in sorted(st.markers + st.lam_free, key=lambda t: (t[1], t[0])):
            rows.append((lv, st.factors[k], "=~", items[i], free_lam.get((i, k), -1),
                         lam[i, k], lam[i, k] * sd_f[k] / sd_y[i]))
        for n, (k, j) in enumerate(st.phi_free):
            rows.append((lv, st.factors[j], "~~", st.factors[k], offset + a + n, phi[k, j],
                         phi[k, j] / (sd_f[k] * sd_f[j])))
        for n, (i, j) in enumerate(st.theta_free):
            rows.append((lv, items[j], "~~", items[i], offset + a + b + n, theta[i, j],
                         theta[i, j] / (sd_y[i] * sd_y[j])))
        if lv == "between":
            sd_b = sd_y
        offset += st.npar
    rows += [("between", v, "~1", "", offset + i, m, m / sd_b[i]) for i, (v, m) in enumerate(zip(items, mu, strict=True))]
    out = pd.DataFrame(rows, columns=["level", "lhs", "op", "rhs", "index", "est", "std_all"])
    index = out.pop("index").to_numpy()
    var = np.diag(cov)
    se = np.where(index >= 0, np.sqrt(np.where(var > 0, var, np.nan))[np.maximum(index, 0)], 0.0)
    frame = indices.estimates_frame(out.assign(free=index + 1, se=se)).drop(columns="label")
    frame.insert(0, "level", out["level"])
    frame.insert(4, "free", index >= 0)
    return frame


def _covariance(gradient, x: np.ndarray) -> np.ndarray:
    """Covariance of the estimates: the inverse observed information, ``2 H^-1`` with H
    the Hessian of ``-2 logL`` (a pseudo-inverse when H is singular)."""
    h = core.central_differences(gradient, x)
    h = (h + h.T) / 2.0
    try:
        return 2.0 * np.linalg.inv(h)
    except np.linalg.LinAlgError:
        return 2.0 * np.linalg.pinv(h)


def _complete_gradient(c: _Clusters, within, between):
    """Gradient of -2 logL (complete rows) in (within, between, means)."""
    nw, nb = within.npar, between.npar

    def grad(x):
        sw, sb, mu = within.sigma(x[:nw]), between.sigma(x[nw:nw + nb]), x[nw + nb:]
        _, gw, gb, _ = _objective(c, sw, sb, True, mu)
        inv_b, _ = _inv_logdet(sw[None] + c.s[:, None, None] * sb[None])
        gmu = -2.0 * np.einsum("k,kab,kb->a", c.s, inv_b, c.s1 - c.k[:, None] * mu[None, :])
        return np.concatenate([within.gradient(x[:nw], gw), between.gradient(x[nw:nw + nb], gb), gmu])

    return grad


def _fit_model(c, within, between, s_w, s_b):
    x0 = np.concatenate([within.start(s_w), between.start(s_b)])
    return _minimize(c, within, between, x0)


def _check_options(estimator, missing, func) -> bool:
    """True for full-information ML (``missing="fiml"`` or ``"ml"``)."""
    check_choice(estimator, name="estimator", choices=("ML", "WLSMV"), func=func)
    check_choice(missing, name="missing", choices=("listwise", "fiml", "ml"), func=func)
    if estimator != "ML":
        raise PsychometricsError(
            "not-implemented",
            f"{func}(..., cluster=...): two-level models are fitted by ML (complete rows or "
            f"FIML); got estimator={estimator!r}.")
    return missing != "listwise"


def twolevel_cfa(data: pd.DataFrame, model, cluster: str, *, estimator: str = "ML",
                 missing: str = "listwise") -> TwoLevelCFA:
    """Two-level CFA by maximum likelihood on the complete rows (lavaan's
    ``cfa(model, data, cluster = cluster)``); the usual call is
    ``pm.cfa(data, model, cluster="org")``.

    Parameters
    ----------
    data : DataFrame
        One numeric column per item (already reverse keyed) and the cluster column.
    model : str or mapping
        lavaan syntax with ``level: 1`` (within) and ``level: 2`` (between) blocks of
        ``F =~ a + b`` (and ``a ~~ b``) lines; or ``{"within": {F: items}, "between":
        {F: items}}``; or a plain ``{F: items}`` (the same factors at both levels, named
        ``Fw`` and ``Fb``). Every item must load at both levels; the first item of each
        factor is its marker.
    cluster : str
        The column that identifies the clusters (organizations...).
    estimator, missing : ``"ML"``; ``"listwise"`` or ``"fiml"`` (``"ml"``)
        FIML uses every row with at least one answer (lavaan ``missing = "ml"``).

    Returns
    -------
    TwoLevelCFA
        ``.fit`` (``chisq df pvalue cfi tli rmsea srmr_within srmr_between aic bic logl``),
        ``.loadings["within"]`` / ``.loadings["between"]`` (std.all), ``.params``.

    Raises
    ------
    PsychometricsError
        ``invalid-model``, ``missing-column``, ``non-numeric``, ``constant-item``,
        ``too-few-rows``, ``not-implemented``, ``too-few-clusters`` (not more clusters than the between
        model's free parameters, means included).

    Examples
    --------
    >>> model = '''level: 1
    ... TRUw =~ TRU1 + TRU2 + TRU3 + TRU4
    ... level: 2
    ... TRUb =~ TRU1 + TRU2 + TRU3 + TRU4'''
    >>> fit = pm.cfa(people, model, cluster="org")
    >>> fit.fit["srmr_within"], fit.fit["srmr_between"]

    In R: ``fitMeasures(lavaan::cfa(model, data = people, cluster = "org"),
    c("chisq", "df", "cfi", "srmr_within", "srmr_between"))``.
    """
    func = "cfa"
    fiml = _check_options(estimator, missing, func)
    levels = parse_levels(model, func)
    items, y, ids = _prepare(data, levels, cluster, func, fiml)
    structs = {lv: _Structure(levels[lv], items) for lv in LEVELS}
    p = len(items)
    filled = np.where(np.isnan(y), np.nanmean(y, axis=0), y)
    c = _clusters(filled, ids)                      # complete rows, or start values for FIML
    _check_clusters(c, structs["between"], cluster, func)
    s_w = c.s_pw / (c.n - c.j)
    s_b = np.cov(c.ybar.T, bias=True) - s_w / np.mean(c.s)
    s_b = _force_pd(s_b) if np.linalg.eigvalsh(s_b)[0] <= 0 else s_b
    with threadpool_limits(1, user_api="blas"):   # p x p matrices: threads only cost
        if fiml and np.isnan(y).any():
            return _fiml(y, ids, structs, items, cluster, levels, s_w, s_b)
        x, f, converged = _fit_model(c, structs["within"], structs["between"], s_w, s_b)
        h1_w, h1_b, f_h1 = _saturated_em(c, p)
        _, f_b, _ = _fit_model(c, _Diagonal(p), _Diagonal(p), s_w, s_b)
        nw = structs["within"].npar
        mu = _objective(c, structs["within"].sigma(x[:nw]), structs["between"].sigma(x[nw:]), False)[3]
        cov = _covariance(_complete_gradient(c, structs["within"], structs["between"]),
                          np.concatenate([x, mu]))
    counts = {"n": c.n, "j": c.j, "values": c.n * p}
    return _results(counts, structs, items, cluster, (x, f, converged, mu, cov), (h1_w, h1_b, f_h1),
                    f_b, levels)


def _fiml(y, ids, structs, items, cluster, levels, s_w, s_b) -> TwoLevelCFA:
    p = len(items)
    cm = twolevel_fiml.missing_clusters(y, ids)
    mu0 = np.nanmean(y, axis=0)
    x, mu, f, converged = twolevel_fiml.fit(cm, structs["within"], structs["between"], s_w, s_b, mu0)
    sat = twolevel_fiml.Cholesky(p)
    xh, _, f_h1, _ = twolevel_fiml.fit(cm, sat, sat, s_w, s_b, mu0)
    _, _, f_b, _ = twolevel_fiml.fit(cm, _Diagonal(p), _Diagonal(p), s_w, s_b, mu0)
    h1 = (sat.sigma(xh[:sat.npar]), sat.sigma(xh[sat.npar:]), f_h1)
    cov = _covariance(twolevel_fiml.gradient(cm, structs["within"], structs["between"]),
                      np.concatenate([x, mu]))
    counts = {"n": cm.n, "j": cm.j, "values": cm.n_values}
    return _results(counts, structs, items, cluster, (x, f, converged, mu, cov), h1, f_b, levels)


def _results(counts, structs, items, cluster, model_fit, h1_fit, f_base, levels) -> TwoLevelCFA:
    """``counts``: rows ``n``, clusters ``j``, observed ``values``; ``model_fit``: (x, -2 logL
    without its constant, converged, means, covariance of x and the means); ``h1_fit``:
    (Sigma_W, Sigma_B, its -2 logL)."""
    x, f, converged, mu, cov = model_fit
    p, n = len(items), counts["n"]
    nw = structs["within"].npar
    xs = {"within": x[:nw], "between": x[nw:]}
    sig = {lv: structs[lv].sigma(xs[lv]) for lv in LEVELS}
    h1 = {"within": h1_fit[0], "between": h1_fit[1]}
    npar = structs["within"].npar + structs["between"].npar + p
    moments = p * (p + 1) + p
    df = moments - npar
    x2, x2b, dfb = f - h1_fit[2], f_base - h1_fit[2], moments - 3 * p
    const = counts["values"] * np.log(2 * np.pi)
    logl = -0.5 * (const + f)
    fit = {"chisq": float(x2), "df": int(df), "pvalue": indices.pvalue(x2, df),
           "cfi": indices.cfi(x2, df, x2b, dfb), "tli": indices.tli(x2, df, x2b, dfb),
           "rmsea": indices.rmsea(x2, df, n),
           **dict(zip(("rmsea_ci_lower", "rmsea_ci_upper"), indices.rmsea_ci(x2, df, n), strict=True)),
           "srmr_within": _srmr(h1["within"], sig["within"]),
           "srmr_between": _srmr(h1["between"], _force_pd(sig["between"])),
           "aic": float(-2 * logl + 2 * npar), "bic": float(-2 * logl + npar * np.log(n)),
           "logl": float(logl), "logl_h1": float(-0.5 * (const + h1_fit[2])), "npar": int(npar),
           "n": n, "clusters": counts["j"], "baseline_chisq": float(x2b), "baseline_df": int(dfb)}
    params = _params(structs, xs, mu, items, cov)
    neg = params[(params["op"] == "~~") & (params["lhs"] == params["rhs"]) & (params["est"] < 0)]
    warns = [f"negative variance of {r.lhs} at the {r.level} level ({r.est:.3g})" for r in neg.itertuples()]
    if not converged:
        warns.insert(0, "the optimizer did not converge")
    return TwoLevelCFA(
        fit=fit,
        loadings={lv: _std_loadings(structs[lv], xs[lv], items) for lv in LEVELS},
        params=params,
        implied={"within": pd.DataFrame(sig["within"], items, items),
                 "between": pd.DataFrame(sig["between"], items, items),
                 "mean": pd.Series(mu, index=items)},
        converged=converged, n=n, clusters=counts["j"], cluster=cluster,
        model={lv: {f: list(v) for f, v in levels[lv].factors.items()} for lv in LEVELS},
        warnings=tuple(warns),
    )
