"""The leaf of the engine: result types and fit indices, each rule written once.

Nothing here fits a model; every estimator (ML, FIML, DWLS) hands its statistics to these
functions, so the edge cases (df < 1, a negative non-centrality, an empty block) are
decided in one place, as lavaan 0.6 decides them (``lav_fit_cfi``, ``lav_fit_rmsea``...):

- ``cfi = 1 - max(X2 - df, 0) / max(X2 - df, X2_b - df_b, 0)``, 1 when both are 0;
- ``tli = 1 - (X2 - df) df_b / ((X2_b - df_b) df)``, 1 when df = 0;
- ``rmsea = sqrt(max(X2 / (N df) - 1 / N, 0)) sqrt(G)``, 0 when df = 0, and its 90%
  interval 0, 0 when df < 1 (lavaan prints 0.000 0.000 for a saturated model);
- the p-value of a chi-square is NaN when df = 0;
- semTools' ``AVE`` (NaN for a factor with a cross-loading item), ``compRelSEM``,
  ``htmt`` and the Fornell-Larcker table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = [
    "CFA",
    "FIT_KEYS",
    "SEM",
    "FitWarning",
    "cfi",
    "composite_validity",
    "estimates_frame",
    "fornell_larcker",
    "htmt",
    "pvalue",
    "rmsea",
    "rmsea_ci",
    "scaled_shifted",
    "tli",
]

FIT_KEYS = (
    "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
    "srmr", "aic", "bic", "loglik", "loglik_h1", "npar", "n", "ngroups",
    "baseline_chisq", "baseline_df", "baseline_pvalue",
)


@dataclass(frozen=True)
class FitWarning:
    """A problem with a fitted model: ``code`` (``not-converged``, ``heywood``,
    ``non-positive-definite-phi``, ``not-identified``), the message, and the item or
    factor concerned (``None`` when it is the whole model)."""

    code: str
    message: str
    variable: str | None = None


def estimates_frame(p: pd.DataFrame, labels=None, level: float = 0.95) -> pd.DataFrame:
    """lavaan's ``parameterEstimates(fit, standardized = TRUE)`` from a table of every
    parameter (``lhs op rhs [group] [label] est se std_all``; with a ``free`` column, 0
    when fixed, fixed parameters get se 0): ``lhs op rhs [group] label est se z pvalue
    ci_lower ci_upper std_all``, no z where se is 0, normal intervals at ``level``;
    ``labels`` (else the table's ``label`` column, else "")."""
    keys = ["lhs", "op", "rhs"] + (["group"] if "group" in p else [])
    se = p["se"].to_numpy(dtype=float)
    if "free" in p:
        se = np.where(p["free"].to_numpy() > 0, se, 0.0)
    est = p["est"].to_numpy(dtype=float)
    if labels is None:
        labels = p["label"].to_numpy() if "label" in p else ""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, est / se, np.nan)
    q = stats.norm.ppf(1 - (1 - level) / 2)
    return p[keys].assign(label=labels, est=est, se=se, z=z,
                          pvalue=2.0 * stats.norm.sf(np.abs(z)), ci_lower=est - q * se,
                          ci_upper=est + q * se, std_all=p["std_all"].to_numpy())


@dataclass(frozen=True)
class CFA:
    """A fitted confirmatory factor model (``pm.cfa``).

    Attributes
    ----------
    fit : dict
        ``chisq df pvalue cfi tli rmsea rmsea_ci_lower rmsea_ci_upper srmr aic bic``
        plus ``loglik loglik_h1 npar n ngroups baseline_chisq baseline_df
        baseline_pvalue`` (lavaan's ``fitMeasures``; ``rmsea_ci_*`` is the 90% interval).
    loadings : DataFrame
        Standardized (``std.all``) loadings, items x factors (0 where an item does not
        load). With groups, the rows are ``(group, item)``.
    factor_correlations : DataFrame
        Correlations of the latent variables (factors x factors; rows ``(group,
        factor)`` with groups).
    r_squared : Series
        Variance of each item explained by the factors.
    ave : Series
        Average variance extracted per first-order factor (``semTools::AVE``; NaN for a
        factor with a cross-loading item). With groups: DataFrame groups x factors.
    reliability : Series
        Composite reliability (omega) per first-order factor (``semTools::compRelSEM``).
        With groups: DataFrame groups x factors.
    fornell_larcker : DataFrame
        sqrt(AVE) on the diagonal, factor correlations off it: discriminant validity
        holds for a pair when both diagonal values exceed their correlation.
    htmt : DataFrame
        Heterotrait-monotrait ratio (``semTools::htmt``, HTMT2: geometric means of the
        absolute item correlations), factors x factors, on all the rows used (pooled
        over groups; the EM correlations with FIML).
    residuals : DataFrame
        Correlation residuals: observed minus implied correlations (lavaan
        ``residuals(fit, type = "cor")``).
    modindices : DataFrame
        Modification indices for the fixed cross-loadings and residual covariances,
        largest first: ``lhs op rhs [group] mi epc sepc_all`` (``lavaan::modindices``).
    params : DataFrame
        Every parameter: ``lhs op rhs [group] free est se z pvalue std_all``
        (``parameterEstimates`` + ``standardizedSolution``; ``free`` is the shared
        parameter number, 0 when fixed; standard errors from the expected information).
        ``.estimates`` gives them as ``pm.sem`` does (label, CIs; se 0 when fixed).
    second_order_loadings : DataFrame or None
        Standardized loadings of the first-order factors on the higher-order ones.
    warnings : tuple of FitWarning
        Non-convergence, Heywood cases, a non-positive-definite factor covariance
        matrix, an information matrix that cannot be inverted.
    converged : bool
    n : int
        Rows used (all groups).
    groups : tuple
        Group labels in lavaan's order (first appearance), empty without groups.
    group_sizes : Series or None
    estimator, missing : str
    model : dict
        The first-order factors and their items.
    state : engine state
        The fitted engine (:class:`psychometrics.engine.estimate.State`) for score tests
        and modification indices; not part of the comparison or the repr.
    """

    fit: dict
    loadings: pd.DataFrame
    factor_correlations: pd.DataFrame
    r_squared: pd.Series
    ave: pd.Series | pd.DataFrame
    reliability: pd.Series | pd.DataFrame
    fornell_larcker: pd.DataFrame
    htmt: pd.DataFrame
    residuals: pd.DataFrame
    modindices: pd.DataFrame
    params: pd.DataFrame
    second_order_loadings: pd.DataFrame | None
    warnings: tuple[FitWarning, ...]
    converged: bool
    n: int
    groups: tuple
    group_sizes: pd.Series | None
    estimator: str
    missing: str
    model: dict
    state: object = field(default=None, repr=False, compare=False)

    @property
    def estimates(self) -> pd.DataFrame:
        """Every parameter as ``pm.sem``'s estimates (lavaan's ``parameterEstimates(fit,
        standardized = TRUE)``): ``lhs op rhs [group] label est se z pvalue ci_lower
        ci_upper std_all``, fixed parameters with se 0 and no z, 95% normal intervals."""
        return estimates_frame(self.params)

    def summary(self) -> str:
        """Fit measures, standardized loadings and warnings as plain text."""
        f = self.fit
        lines = [
            f"CFA ({self.estimator}, missing={self.missing}) on {self.n} rows"
            + (f", groups {', '.join(map(str, self.groups))}" if self.groups else "")
            + ("" if self.converged else "  [NOT CONVERGED]"),
            f"  chisq = {f['chisq']:.3f}, df = {f['df']}, p = {f['pvalue']:.4g}",
            f"  CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} "
            f"[{f['rmsea_ci_lower']:.3f}, {f['rmsea_ci_upper']:.3f}], SRMR = {f['srmr']:.3f}",
            f"  AIC = {f['aic']:.2f}, BIC = {f['bic']:.2f}, logLik = {f['loglik']:.2f}, "
            f"npar = {f['npar']}",
            "",
            "Standardized loadings:",
            self.loadings.round(3).to_string(),
        ]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  [{w.code}] {w.message}" for w in self.warnings]
        return "\n".join(lines)



@dataclass(frozen=True)
class SEM:
    """A fitted structural equation model (``pm.sem``).

    Attributes
    ----------
    fit : dict
        lavaan's ``fitMeasures`` with ``_`` for ``.``: ``chisq df pvalue cfi tli rmsea
        rmsea_ci_lower rmsea_ci_upper srmr aic bic loglik npar n ...``; WLSMV adds
        ``chisq_scaled df_scaled pvalue_scaled cfi_scaled tli_scaled rmsea_scaled`` ...
    estimates : DataFrame
        Shaped like ``parameterEstimates(fit, standardized = TRUE)``: ``lhs op rhs
        [group] label est se z pvalue ci_lower ci_upper std_all``, one row per parameter;
        fixed parameters have se 0 and no z; defined parameters (``:=``) last, with
        ``lhs`` their name, delta-method standard errors, and, with ``n_boot``, percentile
        bootstrap confidence intervals.
    bootstrap : DataFrame or None
        The defined parameters in each bootstrap replication (``n_boot`` rows; failed
        replications dropped).
    warnings : tuple of FitWarning
    converged : bool
    n : int
    groups : tuple
    estimator, missing : str
    model : str
        The model syntax.
    r_squared : Series or DataFrame
        lavaan's ``lavInspect(fit, "r2")``: explained variance of every indicator and of
        every dependent variable (latent, or observed in a regression); with groups, one
        row per group.
    state : engine state (not compared, not shown)
    """

    fit: dict
    estimates: pd.DataFrame
    bootstrap: pd.DataFrame | None
    warnings: tuple[FitWarning, ...]
    converged: bool
    n: int
    groups: tuple
    estimator: str
    missing: str
    model: str
    r_squared: pd.Series | pd.DataFrame | None = None
    state: object = field(default=None, repr=False, compare=False)

    def summary(self) -> str:
        """Fit measures and the estimates table as plain text."""
        f = self.fit
        scaled = "_scaled" if "chisq_scaled" in f else ""
        lines = [
            f"SEM ({self.estimator}, missing={self.missing}) on {self.n} rows"
            + ("" if self.converged else "  [NOT CONVERGED]"),
            f"  chisq{scaled} = {f['chisq' + scaled]:.3f}, df = {f['df']}, "
            f"p = {f['pvalue' + scaled]:.4g}; CFI = {f['cfi' + scaled]:.3f}, "
            f"TLI = {f['tli' + scaled]:.3f}, RMSEA = {f['rmsea' + scaled]:.3f}, SRMR = {f['srmr']:.3f}",
            "",
            self.estimates.round(3).to_string(),
        ]
        lines += [f"[{w.code}] {w.message}" for w in self.warnings]
        return "\n".join(lines)


# --------------------------------------------------------------------------- fit indices


def pvalue(chisq: float, df: float) -> float:
    """Upper tail of the chi-square; NaN when df = 0."""
    return float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan


def cfi(x2: float, df: float, x2_b: float, df_b: float) -> float:
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2_b - df_b, 0.0)
    if abs(t1) < 1.5e-8 and abs(t2) < 1.5e-8:
        return 1.0
    return float(1.0 - t1 / t2)


def tli(x2: float, df: float, x2_b: float, df_b: float) -> float:
    t1, t2 = (x2 - df) * df_b, (x2_b - df_b) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    return 1.0


def rmsea(x2: float, df: float, n: float, ngroups: int = 1) -> float:
    """``n``: N for ML, N - G for the WLS estimators (lavaan)."""
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(x2 / n / df - 1.0 / n, 0.0)) * np.sqrt(ngroups))


def rmsea_ci(x2: float, df: float, n: float, ngroups: int = 1, level: float = 0.90):
    """lavaan's lav_fit_rmsea_ci: the non-centralities where the observed statistic sits at
    the 95th / 5th percentile of the non-central chi-square; (0, 0) when df < 1."""
    if df < 1 or not np.isfinite(x2):
        return 0.0, 0.0
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam):
        return stats.chi2.cdf(x2, df) if lam <= 0 else stats.ncx2.cdf(x2, df, lam)

    def bound(p, top):
        lam = optimize.brentq(lambda v: cdf(v) - p, 0.0, top, xtol=1e-12)
        return float(np.sqrt(lam / (n * df)) * np.sqrt(ngroups))

    lo = bound(upper_p, x2) if cdf(0.0) >= upper_p else 0.0
    top = max(n, 4 * x2)
    hi = bound(lower_p, top) if cdf(top) <= lower_p <= cdf(0.0) else 0.0
    return lo, hi


def scaled_shifted(chisq: float, df: float, tr1: float, tr2: float) -> tuple[float, float, float]:
    """lavaan's "scaled.shifted" statistic (WLSMV): ``a X2 + (df - a tr(UG))`` with
    ``a = sqrt(df / tr(UG^2))``; returns (statistic, a, shift); unchanged when df = 0."""
    if df <= 0:
        return chisq, 1.0, 0.0
    a = np.sqrt(df / tr2)
    shift = df - a * tr1
    return float(a * chisq + shift), float(a), float(shift)


# --------------------------------------------------------------------------- validity


def composite_validity(lam: np.ndarray, phi_diag: np.ndarray, s: np.ndarray,
                       names: list[str]) -> tuple[pd.Series, pd.Series]:
    """``semTools::AVE`` and ``semTools::compRelSEM`` per factor (columns of ``lam``):
    AVE = sum(lambda^2) phi / sum of the items' observed variances (NaN when an item of
    the factor loads on another factor, or with fewer than 2 items); omega =
    (sum lambda)^2 phi / sum of the items' observed covariance block. With WLSMV ``s``
    is the polychoric matrix (the latent-response scale)."""
    nonzero = lam != 0
    cross = np.round(lam, 5).astype(bool).sum(axis=1) > 1
    ave, rel = {}, {}
    for j, f in enumerate(names):
        idx = np.flatnonzero(nonzero[:, j])
        lam_f = lam[idx, j]
        few = len(idx) < 2
        ave[f] = (np.nan if few or cross[idx].any()
                  else float(np.sum(lam_f**2) * phi_diag[j] / np.sum(np.diag(s)[idx])))
        rel[f] = np.nan if few else float(lam_f.sum() ** 2 * phi_diag[j] / np.sum(s[np.ix_(idx, idx)]))
    return pd.Series(ave, dtype=float), pd.Series(rel, dtype=float)


def fornell_larcker(corr: pd.DataFrame, ave: pd.Series) -> pd.DataFrame:
    """sqrt(AVE) on the diagonal, factor correlations off it."""
    out = corr.loc[list(ave.index), list(ave.index)].copy()
    for f, value in ave.items():
        out.loc[f, f] = np.sqrt(value) if value >= 0 else np.nan
    return out


def htmt(r: np.ndarray, factors: dict[str, list[str]], items: list[str], htmt2: bool) -> pd.DataFrame:
    """semTools::htmt on a correlation matrix: mean heterotrait over the geometric mean of
    the two monotrait means (absolute correlations; geometric means when ``htmt2``)."""
    pos = {i: k for k, i in enumerate(items)}
    a = np.abs(r).astype(float)
    np.fill_diagonal(a, np.nan)

    def mean(block):
        v = block[~np.isnan(block)]
        if v.size == 0:
            return np.nan
        with np.errstate(divide="ignore"):
            return float(np.exp(np.mean(np.log(v)))) if htmt2 else float(v.mean())

    idx = {f: [pos[i] for i in v] for f, v in factors.items()}
    names = list(factors)
    within = {f: mean(a[np.ix_(idx[f], idx[f])]) for f in names}
    out = pd.DataFrame(np.nan, index=names, columns=names)
    for f in names:
        for h in names:
            out.loc[f, h] = mean(a[np.ix_(idx[f], idx[h])]) / np.sqrt(within[f] * within[h])
    return out
