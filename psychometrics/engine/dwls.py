"""DWLS for ordinal items and the WLSMV test, as lavaan computes them (lavaan 0.6-14).

The estimator plugs into :func:`psychometrics.engine.core.fisher_scoring` like ML: a
discrepancy per group. With ``s`` the polychoric correlations of a group (thresholds
saturated, free in each group: with a diagonal weight matrix they equal their sample
values), ``sigma(theta)`` the implied correlations under the "delta" parameterization
(latent response variances 1) and ``W_D = diag(Gamma_rr)^-1``::

    F = sum_g (N_g - 1) (s_g - sigma_g)' W_D,g (s_g - sigma_g)      (lavaan: X2 = 2 N fmin)

With several groups the test and the robust covariance use the groups stacked, ``W`` and
``Gamma`` weighted by ``(N_g - 1) / K`` and its inverse (lavaan's ``N_g / N``), so that
labels shared by groups (equality constraints) are handled as lavaan does.

Fisher scoring is then Gauss-Newton with ``info = 2 (N - 1) Delta' W_D Delta``.

:func:`wlsmv_measures` gives the "scaled-shifted" mean-and-variance adjusted test
(lavaan's default for WLSMV) from the traces of ``U Gamma`` with
``U = W - W Delta (Delta' W Delta)^-1 Delta' W``, the same for the independence baseline
(thresholds free, correlations zero), CFI, TLI, RMSEA (with ``N - 1``) and their scaled
versions; :func:`robust_covariance` the sandwich covariance of the estimates (lavaan's
``se = "robust.sem"``). The pieces are public for fits whose statistics include the
thresholds (ordinal invariance, :class:`ThresholdDWLS`, :mod:`psychometrics.engine.measeq`)
or slopes on covariates (:class:`ConditionalDWLS`, lavaan's ``conditional.x``):
:func:`u_gamma_traces`, :func:`baseline`, :func:`scaled_measures`, and
:func:`satorra_2000`, the scaled difference test of nested fits (``lavTestLRT(method =
"satorra.2000")``). Formulas of Muthén, du Toit & Spisic (1997) and Asparouhov &
Muthén (2010); no lavaan code is copied.
"""

from __future__ import annotations

import numpy as np

from psychometrics.engine import indices
from psychometrics.engine.core import SCALE, TAU, Evaluation, Jacobian, Matrices, Structure
from psychometrics.engine.ordinal import OrdinalStats

__all__ = ["ConditionalDWLS", "DWLSDiscrepancy", "ThresholdDWLS", "baseline", "deltas",
           "robust_covariance", "satorra_2000",
           "scaled_measures", "threshold_se", "u_gamma_traces", "wlsmv_measures"]


class DWLSDiscrepancy:
    """Diagonally weighted least squares on the polychoric correlations of one group.

    ``s`` are the statistics fitted, ``w_s`` their weights and ``gamma_s`` their Gamma
    (here the correlations ``r``, weights ``w`` and ``gamma_rr``, which the independence
    baseline uses whatever is fitted); :meth:`implied` and :meth:`delta` give the model's
    statistics and their derivatives (:class:`ConditionalDWLS` fits slopes too)."""

    meanstructure = False

    def __init__(self, st: OrdinalStats):
        self.stats = st
        self.n = int(st.n)
        self.p = st.rho.shape[0]
        self.iu, self.ju = np.triu_indices(self.p, 1)
        self.r = st.rho.to_numpy()[self.iu, self.ju]
        self.n_th = len(st.thresholds)
        self.gamma = st.gamma.to_numpy()
        self.gamma_diag = np.diag(self.gamma)
        n_uni = len(self.gamma) - len(self.r)   # thresholds (and slopes)
        self.gamma_rr = self.gamma[n_uni:, n_uni:]
        self.w = 1.0 / np.diag(self.gamma_rr)
        # thresholds and correlations with their DWLS weights: the statistics of a model
        # whose thresholds are parameters too (ordinal invariance)
        self.s_all = np.concatenate([st.thresholds.to_numpy(), self.r])
        self.w_all = 1.0 / self.gamma_diag
        self.s, self.w_s = self.r, self.w
        self.gamma_s = self.gamma_rr    # Gamma of the statistics fitted (the correlations)

    def implied(self, sigma: np.ndarray) -> np.ndarray:
        return sigma[self.iu, self.ju]

    def delta(self, jac: Jacobian, mats: Matrices | None = None) -> np.ndarray:
        """d (statistics) / d entries at the matrices ``mats``: (statistics, entries)."""
        return self.delta_at(jac, None if mats is None else mats.sigma)

    def delta_at(self, jac: Jacobian, sigma: np.ndarray | None) -> np.ndarray:
        """d sigma_ij / d theta_a for the correlations i < j: (pairs, entries)."""
        iu, ju = self.iu, self.ju
        return (jac.c[:, None] * (jac.u[:, iu] * jac.v[:, ju] + jac.v[:, iu] * jac.u[:, ju])).T

    def evaluate(self, sigma, mu, jac: Jacobian | None = None, want: str = "f") -> Evaluation:
        resid = self.s - self.implied(sigma)
        k = self.n - 1
        f = k * float(np.sum(self.w_s * resid**2))
        if want == "f":
            return Evaluation(f)
        d = self.delta_at(jac, sigma)
        wd = self.w_s[:, None] * d
        grad = -2.0 * k * (wd.T @ resid)
        info = 2.0 * k * (d.T @ wd) if want == "fgi" else None
        return Evaluation(f, grad, info)

    def h1(self) -> tuple[np.ndarray, np.ndarray]:
        """The unrestricted statistics: polychoric correlations (no means)."""
        return self.stats.rho.to_numpy(), np.zeros(self.p)


class ConditionalDWLS(DWLSDiscrepancy):
    """DWLS on the slopes and residual polychorics of ordinal items given observed
    covariates (lavaan's ``conditional.x``; statistics from
    :func:`psychometrics.engine.conditional.conditional_stats`).

    The model carries the covariates as fixed latent twins (``fixed.x``), so its implied
    slopes and residual covariances follow from ``Sigma`` over items ``y`` and covariates
    ``x``: ``Pi = Sigma_yx Sigma_xx^-1`` (= Lambda (I - B)^-1 Gamma_x) and ``Sigma_yy -
    Pi Sigma_xy``, the latent responses' variance given ``x`` being 1 (delta
    parameterization, :class:`~psychometrics.engine.core.Structure`). Fitted: the slopes
    (covariate by covariate), then the correlations; thresholds stay saturated."""

    def __init__(self, st, yi: np.ndarray, xi: np.ndarray):
        super().__init__(st)
        self.yi, self.xi = np.asarray(yi), np.asarray(xi)
        slopes = st.slopes.to_numpy()
        self.n_sl = slopes.size
        self.s = np.concatenate([slopes.T.ravel(), self.r])
        self.gamma_s = self.gamma[self.n_th:, self.n_th:]
        self.w_s = 1.0 / np.diag(self.gamma_s)
        self.p_all = len(self.yi) + len(self.xi)

    def _parts(self, sigma: np.ndarray):
        y, x = self.yi, self.xi
        pi = np.linalg.solve(sigma[np.ix_(x, x)], sigma[np.ix_(x, y)]).T
        return pi, sigma[np.ix_(y, y)] - pi @ sigma[np.ix_(x, y)]

    def implied(self, sigma: np.ndarray) -> np.ndarray:
        pi, res = self._parts(sigma)
        return np.concatenate([pi.T.ravel(), res[self.iu, self.ju]])

    def delta_at(self, jac: Jacobian, sigma: np.ndarray | None) -> np.ndarray:
        """d (slopes, residual correlations) / d entries: ``dPi = dSigma_yx Sigma_xx^-1``,
        ``dR = dSigma_yy - dSigma_yx Pi' - Pi dSigma_xy`` (``Sigma_xx`` is fixed)."""
        y, x = self.yi, self.xi
        pi, _ = self._parts(sigma)
        ds = jac.dense()
        d_yx = ds[:, y][:, :, x]
        d_pi = d_yx @ np.linalg.inv(sigma[np.ix_(x, x)])
        d_r = ds[:, y][:, :, y] - d_yx @ pi.T - np.einsum("ik,akj->aij", pi, ds[:, x][:, :, y])
        return np.hstack([d_pi.transpose(0, 2, 1).reshape(len(ds), -1), d_r[:, self.iu, self.ju]]).T

    def h1(self) -> tuple[np.ndarray, np.ndarray]:
        """Start moments over items and covariates (model order): the residual
        polychorics plus the covariates' share, ``Pi S_xx``, ``S_xx``, the covariates' means
        (their fixed values, lavaan's ``fixed.x``; S_xx with divisor N - 1 as lavaan's
        categorical sample statistics)."""
        st, y, x = self.stats, self.yi, self.xi
        sxx = st.cov_x.to_numpy()
        pi = st.slopes.to_numpy()
        s = np.zeros((self.p_all, self.p_all))
        s[np.ix_(y, y)] = st.rho.to_numpy() + pi @ sxx @ pi.T
        s[np.ix_(y, x)] = pi @ sxx
        s[np.ix_(x, y)] = (pi @ sxx).T
        s[np.ix_(x, x)] = sxx
        mean = np.zeros(self.p_all)
        mean[x] = st.mean_x.to_numpy()
        return s, mean


class ThresholdDWLS:
    """DWLS on the thresholds *and* the polychoric correlations of one group: the
    discrepancy of models whose thresholds, latent-response intercepts and scales are
    parameters (ordinal invariance, :mod:`psychometrics.engine.measeq`).

    Implied statistics, per item ``i`` with latent response ``y*_i``: thresholds
    ``(tau_k - mu_i) / sd_i`` and correlations ``Sigma_ij / (sd_i sd_j)``, with ``sd_i =
    1 / scale_i`` (the "delta" parameterization: ``SCALE`` entries) or ``sd_i =
    sqrt(Sigma_ii)`` ("theta": residual variances are parameters). ``F = (N - 1) (s -
    sigma)' W (s - sigma)`` with ``W = diag(Gamma)^-1`` (``DWLSDiscrepancy.s_all`` and
    ``w_all``); Fisher scoring is Gauss-Newton, ``info = 2 (N - 1) Delta' W Delta``."""

    meanstructure = True

    def __init__(self, disc: DWLSDiscrepancy, th_item: np.ndarray, theta: bool):
        self.n, self.p, self.gamma = disc.n, disc.p, disc.gamma
        self.gamma_s = disc.gamma        # Gamma of the statistics fitted (all of them)
        self.s, self.w = disc.s_all, disc.w_all
        self.w_s = self.w
        self.iu, self.ju = disc.iu, disc.ju
        self.th_item, self.theta = th_item, theta

    def _sd(self, mats: Matrices) -> np.ndarray:
        return np.sqrt(np.diag(mats.sigma)) if self.theta else 1.0 / mats.scale

    def implied(self, mats: Matrices) -> np.ndarray:
        """Thresholds then correlations implied by the group's matrices."""
        sd, i = self._sd(mats), self.th_item
        th = (mats.tau - mats.mu[i]) / sd[i]
        return np.concatenate([th, mats.sigma[self.iu, self.ju] / (sd[self.iu] * sd[self.ju])])

    def delta(self, jac: Jacobian, mats: Matrices) -> np.ndarray:
        """d (thresholds, correlations) / d entries: (statistics, entries)."""
        sd, i, iu, ju = self._sd(mats), self.th_item, self.iu, self.ju
        n = len(jac)
        if self.theta:   # d sd_i = d Sigma_ii / (2 sd_i), d Sigma_ii = 2 c u_i v_i
            dsd = jac.c[:, None] * jac.u * jac.v / sd
        else:            # sd = 1 / scale
            dsd = np.zeros((n, self.p))
            k = np.flatnonzero(jac.mat == SCALE)
            dsd[k, jac.row[k]] = -sd[jac.row[k]] ** 2
        dtau = np.zeros((n, len(i)))
        k = np.flatnonzero(jac.mat == TAU)
        dtau[k, jac.row[k]] = 1.0
        stat = self.implied(mats)
        th, r = stat[: len(i)], stat[len(i):]
        dth = (dtau - jac.dmu[:, i] - th * dsd[:, i]) / sd[i]
        dsig = jac.c[:, None] * (jac.u[:, iu] * jac.v[:, ju] + jac.v[:, iu] * jac.u[:, ju])
        dr = dsig / (sd[iu] * sd[ju]) - r * (dsd[:, iu] / sd[iu] + dsd[:, ju] / sd[ju])
        return np.hstack([dth, dr]).T

    def evaluate_model(self, mats: Matrices, jac: Jacobian | None = None, want: str = "f") -> Evaluation:
        with np.errstate(invalid="ignore", divide="ignore"):
            resid = self.s - self.implied(mats)
        k = self.n - 1
        f = k * float(np.sum(self.w * resid**2))
        if want == "f" or not np.isfinite(f):
            return Evaluation(f if np.isfinite(f) else np.inf)
        d = self.delta(jac, mats)
        wd = self.w[:, None] * d
        grad = -2.0 * k * (wd.T @ resid)
        info = 2.0 * k * (d.T @ wd) if want == "fgi" else None
        return Evaluation(f, grad, info)


def deltas(structure: Structure, discs: list, theta: np.ndarray) -> list[np.ndarray]:
    """Per group: d (statistics) / d (free parameters) at ``theta``, the discrepancy's
    derivatives by entry summed into the shared free ids (statistics x parameters)."""
    out = []
    for g, disc in enumerate(discs):
        mats, rows = structure.matrices(theta, g), structure.free_rows(g)
        jac = mats.jacobian(structure.mat[rows], structure.row[rows], structure.col[rows])
        by_entry = disc.delta(jac, mats)
        delta = np.zeros((by_entry.shape[0], structure.npar))
        np.add.at(delta.T, structure.free[rows], by_entry.T)
        out.append(delta)
    return out


def _stack(discs: list[DWLSDiscrepancy], deltas: list[np.ndarray]):
    """The groups as one system: ``Delta`` stacked, ``W`` with group weights ``k_g / K``
    and ``Gamma`` with ``K / k_g`` (``k_g = N_g - 1``; lavaan's ``N_g / N`` weighting, under
    which ``U Gamma`` is the per-group one for parameters that no two groups share)."""
    k = np.array([disc.n - 1 for disc in discs], dtype=float)
    share = k / k.sum()
    w = np.concatenate([s * disc.w_s for s, disc in zip(share, discs, strict=True)])
    delta = np.vstack(deltas)
    sizes = [len(disc.w_s) for disc in discs]
    gamma = np.zeros((sum(sizes), sum(sizes)))
    at = 0
    for s, disc, m in zip(share, discs, sizes, strict=True):
        gamma[at:at + m, at:at + m] = disc.gamma_s / s
        at += m
    return w, delta, gamma, float(k.sum())


def _bread(w: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(Delta' W Delta)^-1`` (pseudo-inverse when singular), ``W Delta``, singular?"""
    wd = w[:, None] * delta
    info = delta.T @ wd
    ev = np.linalg.eigvalsh(info) if info.size else np.ones(1)
    singular = bool(ev[0] <= 1e-10 * max(ev[-1], 1e-300))
    return (np.linalg.pinv(info) if singular else np.linalg.inv(info)), wd, singular


def robust_covariance(discs: list[DWLSDiscrepancy], deltas: list[np.ndarray]) -> np.ndarray:
    """Sandwich covariance ``(D'WD)^-1 D'W Gamma W D (D'WD)^-1 / K`` of the free parameters
    (``deltas``: per group, fitted statistics x free parameters; one group: ``K = N - 1``;
    ``discs``: :class:`DWLSDiscrepancy` or :class:`ThresholdDWLS`)."""
    w, delta, gamma, k = _stack(discs, deltas)
    bread, wd, _ = _bread(w, delta)
    return bread @ (wd.T @ gamma @ wd) @ bread / k


def threshold_se(disc: DWLSDiscrepancy) -> np.ndarray:
    """Standard errors of the (saturated) thresholds: ``sqrt(diag(Gamma_tt) / (N - 1))``."""
    return np.sqrt(disc.gamma_diag[: disc.n_th] / (disc.n - 1))


def u_gamma_traces(deltas: list[np.ndarray], ws: list[np.ndarray], gammas: list[np.ndarray],
                   share: np.ndarray) -> tuple[float, float]:
    """``tr(U Gamma)`` and ``tr((U Gamma)^2)`` of the mean-and-variance adjusted test, the
    groups stacked: group ``g`` has the Jacobian ``deltas[g]`` (statistics x free
    parameters), the DWLS weights ``ws[g]`` (the diagonal of ``W_g``) and ``gammas[g]``;
    ``W_g`` is weighted by ``share[g]`` and ``Gamma_g`` by its inverse. With ``Wf`` the
    weighted ``W``, ``P = D' Wf D`` and ``U = Wf - Wf D P^-1 D' Wf``, expanded so that only
    q x q and n x q products are formed (``C = D' Wf Gamma W D``, ``E = D' Wf Gamma W Wf
    Gamma W D``, per-group blocks ``K_g = Gamma_g W_g D_g``). Shared by
    :func:`wlsmv_measures` and the thresholds-and-correlations fits of ordinal invariance
    (:class:`ThresholdDWLS`)."""
    d = np.vstack(deltas)
    wf = np.concatenate([s * w for s, w in zip(share, ws, strict=True)])
    k = np.vstack([gam @ (w[:, None] * dg) for dg, w, gam in zip(deltas, ws, gammas, strict=True)])
    p_inv, wd, _ = _bread(wf, d)
    c = wd.T @ k
    e = (wf[:, None] * k).T @ k
    wg = [w[:, None] * gam for w, gam in zip(ws, gammas, strict=True)]
    pc = p_inv @ c
    tr1 = sum(float(np.trace(x)) for x in wg) - float(np.trace(pc))
    tr2 = (sum(float(np.sum(x * x.T)) for x in wg) - 2 * float(np.sum(p_inv * e.T))
           + float(np.sum(pc * pc.T)))
    return tr1, tr2


def baseline(discs: list[DWLSDiscrepancy]) -> dict:
    """The independence model (thresholds free, correlations 0 in every group): ``chisq``,
    ``df``, ``chisq_scaled`` and its ``scaling_factor`` (scaled-shifted)."""
    chisq = float(sum((disc.n - 1) * np.sum(disc.w * disc.r**2) for disc in discs))
    df = sum(len(disc.w) for disc in discs)
    wg = [disc.w[:, None] * disc.gamma_rr for disc in discs]
    tr1 = sum(float(np.trace(x)) for x in wg)
    tr2 = sum(float(np.sum(x * x.T)) for x in wg)
    scaled, a, _ = indices.scaled_shifted(chisq, df, tr1, tr2)
    return {"chisq": chisq, "df": int(df), "chisq_scaled": scaled, "scaling_factor": 1.0 / a}


def scaled_measures(chisq: float, df: int, traces: tuple[float, float], base: dict, n: int,
                    ngroups: int) -> dict:
    """The WLSMV test and the indices that follow from it (``_`` for ``.``): ``chisq``,
    the scaled-shifted ``chisq_scaled`` from the ``traces`` of :func:`u_gamma_traces`,
    their p values, CFI, TLI against :func:`baseline` ``base``, RMSEA with ``n - ngroups``
    (lavaan's rule for estimators other than ML), scaled and not."""
    scaled, a, shift = indices.scaled_shifted(chisq, df, *traces)
    n_rmsea = n - ngroups
    return {
        "chisq": chisq, "df": int(df), "pvalue": indices.pvalue(chisq, df),
        "cfi": indices.cfi(chisq, df, base["chisq"], base["df"]),
        "tli": indices.tli(chisq, df, base["chisq"], base["df"]),
        "rmsea": indices.rmsea(chisq, df, n_rmsea, ngroups),
        "chisq_scaled": scaled, "df_scaled": int(df), "pvalue_scaled": indices.pvalue(scaled, df),
        "chisq_scaling_factor": 1.0 / a if df > 0 else np.nan, "chisq_shift": shift,
        "cfi_scaled": indices.cfi(scaled, df, base["chisq_scaled"], base["df"]),
        "tli_scaled": indices.tli(scaled, df, base["chisq_scaled"], base["df"]),
        "rmsea_scaled": indices.rmsea(scaled, df, n_rmsea, ngroups),
    }


def _complement(h: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the orthogonal complement of the column space of ``h``."""
    u, sv, _ = np.linalg.svd(h, full_matrices=True)
    rank = int(np.sum(sv > sv.max() * 1e-8)) if sv.size else 0
    return u[:, rank:]


def satorra_2000(t_diff: float, m: int, d1: np.ndarray, d0: np.ndarray, ws: list[np.ndarray],
                 gammas: list[np.ndarray], share: np.ndarray) -> dict:
    """Satorra's (2000) scaled-shifted difference test of a restricted model against a less
    restricted one (lavaan's ``lavTestLRT(free, restricted, method = "satorra.2000")``,
    ``A.method = "delta"``, evaluated at the free model): ``t_diff`` and ``m`` the
    differences of their DWLS chi-squares and df, ``d1`` and ``d0`` their Jacobians (groups
    stacked, statistics x free parameters), ``ws``, ``gammas`` and ``share`` as in
    :func:`u_gamma_traces`. The constraints ``A`` are recovered from the two Jacobians;
    with ``M = P^-1 A'(A P^-1 A')^- A P^-1`` and ``C = D' Wf Gamma W D``,
    ``tr(UG) = tr(M C)`` and ``tr((UG)^2) = tr(M C M C)``."""
    if m <= 0:
        return {"chisq_diff": t_diff, "df_diff": int(m), "pvalue": np.nan}
    a = _complement(np.linalg.pinv(d1.T @ d1) @ (d1.T @ d0)).T
    wf = np.concatenate([s * w for s, w in zip(share, ws, strict=True)])
    p_inv = np.linalg.pinv(d1.T @ (wf[:, None] * d1))
    mid = p_inv @ a.T @ np.linalg.pinv(a @ p_inv @ a.T) @ a @ p_inv
    parts = np.split(d1, np.cumsum([len(w) for w in ws])[:-1])
    k = np.concatenate([s * gam @ (w[:, None] * dg)
                        for s, w, gam, dg in zip(share, ws, gammas, parts, strict=True)])
    c = (np.concatenate(ws)[:, None] * d1).T @ k
    mc = mid @ c
    tr1, tr2 = float(np.trace(mc)), float(np.sum(mc * mc.T))
    scale = np.sqrt(m / tr2)
    stat = t_diff * scale + (m - scale * tr1)
    return {"chisq_diff": float(stat), "df_diff": int(m), "pvalue": indices.pvalue(stat, m),
            "chisq_diff_unscaled": float(t_diff)}


def wlsmv_measures(discs: list[DWLSDiscrepancy], deltas: list[np.ndarray], f: float, npar: int) -> dict:
    """lavaan's ``fitMeasures`` of a WLSMV fit (one group or several), with ``_`` for ``.``.

    ``f`` is the minimum of the summed :class:`DWLSDiscrepancy` (= the DWLS ``chisq``),
    ``deltas`` each group's pairs x free-parameters Jacobian at the solution, ``npar`` the
    free parameters (thresholds included)."""
    g = len(discs)
    n = sum(disc.n for disc in discs)
    k = np.array([disc.n - 1 for disc in discs], dtype=float)
    df = sum(len(disc.w_s) for disc in discs) - deltas[0].shape[1]
    chisq = float(f)
    traces = u_gamma_traces(deltas, [disc.w_s for disc in discs],
                            [disc.gamma_s for disc in discs], k / k.sum())
    base = baseline(discs)
    out = scaled_measures(chisq, df, traces, base, n, g)
    ci = indices.rmsea_ci(chisq, df, n - g, g)
    ci_scaled = indices.rmsea_ci(out["chisq_scaled"], df, n - g, g)
    return {  # lavaan's order: the unscaled test and indices first
        **{key: out.pop(key) for key in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea")},
        "rmsea_ci_lower": ci[0], "rmsea_ci_upper": ci[1],
        "aic": np.nan, "bic": np.nan, "loglik": np.nan, "loglik_h1": np.nan,
        "npar": int(npar), "n": n, "ngroups": g,
        "baseline_chisq": base["chisq"], "baseline_df": base["df"],
        "baseline_pvalue": indices.pvalue(base["chisq"], base["df"]),
        **out, "rmsea_ci_lower_scaled": ci_scaled[0], "rmsea_ci_upper_scaled": ci_scaled[1],
        "baseline_chisq_scaled": base["chisq_scaled"],
        "baseline_chisq_scaling_factor": base["scaling_factor"],
        "fmin": chisq / (2 * n),
    }
