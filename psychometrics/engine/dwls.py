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
``se = "robust.sem"``). Formulas of Muthén, du Toit & Spisic (1997) and Asparouhov &
Muthén (2010); no lavaan code is copied.
"""

from __future__ import annotations

import numpy as np

from psychometrics.engine import indices
from psychometrics.engine.core import Evaluation, Jacobian
from psychometrics.engine.ordinal import OrdinalStats

__all__ = ["DWLSDiscrepancy", "robust_covariance", "wlsmv_measures"]


class DWLSDiscrepancy:
    """Diagonally weighted least squares on the polychoric correlations of one group."""

    meanstructure = False

    def __init__(self, st: OrdinalStats):
        self.stats = st
        self.n = int(st.n)
        self.p = st.rho.shape[0]
        self.iu, self.ju = np.triu_indices(self.p, 1)
        self.r = st.rho.to_numpy()[self.iu, self.ju]
        self.n_th = len(st.thresholds)
        gamma = st.gamma.to_numpy()
        self.gamma_rr = gamma[self.n_th:, self.n_th:]
        self.gamma_diag = np.diag(gamma)
        self.w = 1.0 / np.diag(self.gamma_rr)

    def delta(self, jac: Jacobian) -> np.ndarray:
        """d sigma_ij / d theta_a for the correlations i < j: (pairs, entries)."""
        iu, ju = self.iu, self.ju
        return (jac.c[:, None] * (jac.u[:, iu] * jac.v[:, ju] + jac.v[:, iu] * jac.u[:, ju])).T

    def evaluate(self, sigma, mu, jac: Jacobian | None = None, want: str = "f") -> Evaluation:
        resid = self.r - sigma[self.iu, self.ju]
        k = self.n - 1
        f = k * float(np.sum(self.w * resid**2))
        if want == "f":
            return Evaluation(f)
        d = self.delta(jac)
        wd = self.w[:, None] * d
        grad = -2.0 * k * (wd.T @ resid)
        info = 2.0 * k * (d.T @ wd) if want == "fgi" else None
        return Evaluation(f, grad, info)

    def h1(self) -> tuple[np.ndarray, np.ndarray]:
        """The unrestricted statistics: polychoric correlations (no means)."""
        return self.stats.rho.to_numpy(), np.zeros(self.p)


def _stack(discs: list[DWLSDiscrepancy], deltas: list[np.ndarray]):
    """The groups as one system: ``Delta`` stacked, ``W`` with group weights ``k_g / K``
    and ``Gamma`` with ``K / k_g`` (``k_g = N_g - 1``; lavaan's ``N_g / N`` weighting, under
    which ``U Gamma`` is the per-group one for parameters that no two groups share)."""
    k = np.array([disc.n - 1 for disc in discs], dtype=float)
    share = k / k.sum()
    w = np.concatenate([s * disc.w for s, disc in zip(share, discs, strict=True)])
    delta = np.vstack(deltas)
    sizes = [len(disc.w) for disc in discs]
    gamma = np.zeros((sum(sizes), sum(sizes)))
    at = 0
    for s, disc, m in zip(share, discs, sizes, strict=True):
        gamma[at:at + m, at:at + m] = disc.gamma_rr / s
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
    (``deltas``: per group, pairs x free parameters; one group: ``K = N - 1``)."""
    w, delta, gamma, k = _stack(discs, deltas)
    bread, wd, _ = _bread(w, delta)
    return bread @ (wd.T @ gamma @ wd) @ bread / k


def threshold_se(disc: DWLSDiscrepancy) -> np.ndarray:
    """Standard errors of the (saturated) thresholds: ``sqrt(diag(Gamma_tt) / (N - 1))``."""
    return np.sqrt(disc.gamma_diag[: disc.n_th] / (disc.n - 1))


def wlsmv_measures(discs: list[DWLSDiscrepancy], deltas: list[np.ndarray], f: float, npar: int) -> dict:
    """lavaan's ``fitMeasures`` of a WLSMV fit (one group or several), with ``_`` for ``.``.

    ``f`` is the minimum of the summed :class:`DWLSDiscrepancy` (= the DWLS ``chisq``),
    ``deltas`` each group's pairs x free-parameters Jacobian at the solution, ``npar`` the
    free parameters (thresholds included)."""
    g = len(discs)
    n = sum(disc.n for disc in discs)
    w, delta, gamma, _ = _stack(discs, deltas)
    bread, wd, _ = _bread(w, delta)
    ug = (np.diag(w) - wd @ bread @ wd.T) @ gamma
    df = len(w) - delta.shape[1]
    chisq = float(f)
    scaled, a, shift = indices.scaled_shifted(chisq, df, float(np.trace(ug)), float(np.sum(ug * ug.T)))
    wg = w[:, None] * gamma
    base = float(sum((disc.n - 1) * np.sum(disc.w * disc.r**2) for disc in discs))
    base_df = len(w)
    base_scaled, base_a, _ = indices.scaled_shifted(base, base_df, float(np.trace(wg)),
                                                    float(np.sum(wg * wg.T)))
    n_rmsea = n - g  # lavaan: N - (number of groups) for estimators other than ML
    ci = indices.rmsea_ci(chisq, df, n_rmsea, g)
    ci_scaled = indices.rmsea_ci(scaled, df, n_rmsea, g)
    return {
        "chisq": chisq, "df": int(df), "pvalue": indices.pvalue(chisq, df),
        "cfi": indices.cfi(chisq, df, base, base_df), "tli": indices.tli(chisq, df, base, base_df),
        "rmsea": indices.rmsea(chisq, df, n_rmsea, g),
        "rmsea_ci_lower": ci[0], "rmsea_ci_upper": ci[1],
        "aic": np.nan, "bic": np.nan, "loglik": np.nan, "loglik_h1": np.nan,
        "npar": int(npar), "n": n, "ngroups": g,
        "baseline_chisq": base, "baseline_df": int(base_df),
        "baseline_pvalue": indices.pvalue(base, base_df),
        "chisq_scaled": scaled, "df_scaled": int(df), "pvalue_scaled": indices.pvalue(scaled, df),
        "chisq_scaling_factor": 1.0 / a if df > 0 else np.nan, "chisq_shift": shift,
        "cfi_scaled": indices.cfi(scaled, df, base_scaled, base_df),
        "tli_scaled": indices.tli(scaled, df, base_scaled, base_df),
        "rmsea_scaled": indices.rmsea(scaled, df, n_rmsea, g),
        "rmsea_ci_lower_scaled": ci_scaled[0], "rmsea_ci_upper_scaled": ci_scaled[1],
        "baseline_chisq_scaled": base_scaled, "baseline_chisq_scaling_factor": 1.0 / base_a,
        "fmin": chisq / (2 * n),
    }
