"""WLSMV for ordinal items, as lavaan computes it (``estimator = "WLSMV"``, ``ordered = ...``).

Three steps, each matching lavaan 0.6-14:

1. **Sample statistics** (:func:`ordinal_stats`; R: ``lavInspect(fit, "sampstat")``,
   ``lavInspect(fit, "gamma")``, ``lavInspect(fit, "wls.v")``). Thresholds of each item
   from its marginal proportions; polychoric correlations by two-step ML (thresholds held
   fixed); and ``Gamma``, the asymptotic covariance matrix of ``sqrt(N)`` times the
   stacked statistics (thresholds, then correlations), from casewise scores as in Muthén
   (1984): with ``SC`` the per-case scores of the univariate threshold likelihoods and of
   each bivariate polychoric likelihood, ``A`` the two-step Jacobian (each block an outer
   product of scores, as lavaan builds it) and ``B = SC'SC``,
   ``Gamma = N A^-1 B A^-T``.
2. **DWLS fit** (:func:`fit_wlsmv`): minimize ``F = (s - sigma)' W_D (s - sigma)`` with
   ``W_D = diag(Gamma)^-1`` under the "delta" parameterization (latent response variances
   fixed to 1, so the implied correlations are the off-diagonal of ``Lambda Phi Lambda'``
   and the residual variances ``1 - diag(Lambda Phi Lambda')``; thresholds are free and,
   with a diagonal weight matrix, equal their sample values).
3. **Tests and fit indices**: ``chisq = (N - 1) F`` (lavaan's scaling for WLS estimators); the mean-and-variance adjusted
   "scaled-shifted" statistic (lavaan's default for WLSMV) from the traces of ``U Gamma``
   with ``U = W - W Delta (Delta' W Delta)^-1 Delta' W``; the same for the independence
   baseline (thresholds free, correlations zero); CFI, TLI, RMSEA (with ``N - 1`` as
   lavaan does for DWLS), their scaled versions, and SRMR on the correlations.

Nothing here copies lavaan's code; the formulas are those of Muthén (1984), Muthén, du
Toit & Spisic (1997) and Asparouhov & Muthén (2010).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

# private module paths (not .correlation or .cfa): pm.correlation and pm.cfa stay functions
from psychometrics._checks import as_items, check_columns, check_int
from psychometrics.correlation import bvn_cdf, bvn_pdf
from psychometrics.errors import PsychometricsError

__all__ = ["WLSMV", "OrdinalStats", "fit_wlsmv", "ordinal_stats"]

_BIG = 8.0  # Phi(-8) ~ 6e-16: the threshold grid ends stand for -inf / +inf
_RHO_BOUND = 0.999  # lavaan's bound on a polychoric (nlminb lower/upper)


# --------------------------------------------------------------------------- sample statistics


@dataclass(frozen=True)
class OrdinalStats:
    """Sample statistics of ordinal items for WLS estimation (lavaan's "sampstat" + "gamma").

    Attributes
    ----------
    thresholds : Series
        Thresholds, indexed ``"item|t1"``, ``"item|t2"``... in item order (lavaan's names).
    rho : DataFrame
        items x items polychoric correlations (two-step ML; never smoothed).
    gamma : DataFrame
        Asymptotic covariance of ``sqrt(N)`` times the statistics, thresholds first, then
        the correlations ``"a~~b"`` in lavaan's order (``lavInspect(fit, "gamma")``).
    n : int
        Rows used (complete on every item).
    n_categories : Series
        Observed categories per item.
    levels : dict
        Item -> the observed values, in order (category ``k`` is ``levels[item][k]``).
    """

    thresholds: pd.Series
    rho: pd.DataFrame
    gamma: pd.DataFrame
    n: int
    n_categories: pd.Series
    levels: dict = field(repr=False)

    @property
    def weights(self) -> pd.Series:
        """DWLS weights ``1 / diag(gamma)`` (R: ``diag(lavInspect(fit, "wls.v"))``)."""
        return 1.0 / pd.Series(np.diag(self.gamma.to_numpy()), index=self.gamma.index)

    @property
    def correlations(self) -> pd.Series:
        """The correlations as one vector, lavaan's order (``"a~~b"``)."""
        r = self.rho.to_numpy()
        iu, ju = np.triu_indices(r.shape[0], 1)
        names = self.rho.index
        return pd.Series(r[iu, ju], index=[f"{names[i]}~~{names[j]}" for i, j in zip(iu, ju, strict=True)])

    def summary(self) -> str:
        return (
            f"Ordinal sample statistics: {self.rho.shape[0]} items, n = {self.n}, "
            f"{len(self.thresholds)} thresholds, {self.rho.shape[0] * (self.rho.shape[0] - 1) // 2} "
            "polychoric correlations\n" + self.rho.round(3).to_string()
        )


def ordinal_stats(data: pd.DataFrame, max_categories: int = 15) -> OrdinalStats:
    """Thresholds, polychoric correlations and their asymptotic covariance (Gamma).

    Rows with a missing item are dropped (listwise, lavaan's default for WLSMV). Each item
    is ordinal: its observed values, sorted, are its categories (an unused answer code is
    not a category, as in lavaan). A 2 x 2 table with one empty cell gets 0.5 added to
    each cell of the diagonal holding the empty cell and 0.5 taken from the other one (the
    margins are kept; lavaan's ``zero.add = c(0.5, 0)``, ``zero.keep.margins = TRUE``)
    before its tetrachoric is estimated; larger tables are used as they are.

    Example
    -------
    >>> st = ordinal_stats(df[["TRU1", "TRU2", "TRU4"]])
    >>> st.thresholds, st.rho, st.gamma
    >>> # R: fit <- lavaan::cfa("F =~ TRU1 + TRU2 + TRU4", data = df, ordered = TRUE,
    >>> #                       estimator = "WLSMV")
    >>> #    lavInspect(fit, "sampstat"); lavInspect(fit, "gamma")
    """
    x = as_items(data, func="ordinal_stats", min_rows=3, min_items=2)
    x = x.loc[x.notna().all(axis=1).to_numpy()]
    check_int(max_categories, name="max_categories", minimum=2, func="ordinal_stats")
    with _one_blas_thread():
        return _ordinal_stats(x, max_categories, "ordinal_stats")


def _one_blas_thread():
    """BLAS on one thread: these matrices are a few hundred wide, and a multi-threaded
    BLAS is then slower (several times slower on a busy machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a scikit-learn dependency, normally present
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _ordinal_stats(x: pd.DataFrame, max_categories: int, func: str) -> OrdinalStats:
    names = [str(c) for c in x.columns]
    values = x.to_numpy(dtype=float)
    n, p = values.shape
    if n < 3:
        raise PsychometricsError(
            "too-few-rows",
            f"The 'data' parameter of {func} must have at least 3 complete rows (no missing "
            f"item); got {n}.",
        )
    codes, levels = _codes(values, names, max_categories, func)
    n_cat = np.array([len(lv) for lv in levels])
    k = int(n_cat.max())
    onehot = np.zeros((n, p * k))
    onehot[np.repeat(np.arange(n), p), (np.arange(p) * k + codes).ravel()] = 1.0
    counts = onehot.sum(axis=0).reshape(p, k)
    tables = (onehot.T @ onehot).reshape(p, k, p, k).transpose(0, 2, 1, 3)

    # step 1: thresholds from the marginal proportions; grid[j] = -inf, t1.., +inf, +inf..
    cum = np.cumsum(counts, axis=1) / n
    grid = np.full((p, k + 1), np.inf)
    grid[:, 0] = -np.inf
    tmask = np.zeros((p, k - 1), dtype=bool)  # which of the k - 1 threshold slots exist
    for j in range(p):
        grid[j, 1 : n_cat[j]] = special.ndtri(cum[j, : n_cat[j] - 1])
        tmask[j, : n_cat[j] - 1] = True
    th_item, th_slot = np.nonzero(tmask)  # lavaan's order: item by item, t1, t2...
    th_names = [f"{names[j]}|t{s + 1}" for j, s in zip(th_item, th_slot, strict=True)]
    n_th = len(th_item)

    # step 2: polychoric of each pair, thresholds fixed
    iu, ju = np.triu_indices(p, 1)
    pair_tables = tables[iu, ju]
    rho = _polychorics(_zero_add(pair_tables, n_cat[iu], n_cat[ju], names, iu, ju, func),
                       grid[iu], grid[ju])
    n_pairs = len(iu)

    # casewise scores. Univariate: d log P(y_j = c) / d tau_{j,s}
    dens = stats.norm.pdf(grid)  # 0 at the infinite ends
    prob = np.diff(special.ndtr(grid), axis=1)  # p, k (0 past the last category)
    safe = np.where(prob > 0, prob, 1.0)
    uni = np.zeros((p, k, k - 1))  # item, category, threshold slot
    cat = np.arange(k)
    for s in range(k - 1):
        uni[:, s, s] = dens[:, s + 1] / safe[:, s]  # upper bound of category s
        uni[:, s + 1, s] = -dens[:, s + 1] / safe[:, s + 1]  # lower bound of category s + 1
    uni = uni * tmask[:, None, :] * (cat[None, :, None] < n_cat[:, None, None])
    sc_th = uni[th_item[None, :], codes[:, th_item], th_slot[None, :]]  # n, n_th

    # bivariate: per pair, cell probabilities and the log-likelihood derivatives per cell
    a = np.clip(grid[iu], -_BIG, _BIG)[:, :, None]
    b = np.clip(grid[ju], -_BIG, _BIG)[:, None, :]
    r3 = rho[:, None, None]
    cdf = bvn_cdf(a, b, r3)
    pdf = bvn_pdf(a, b, r3)
    pi = cdf[:, 1:, 1:] - cdf[:, :-1, 1:] - cdf[:, 1:, :-1] + cdf[:, :-1, :-1]
    dpi = pdf[:, 1:, 1:] - pdf[:, :-1, 1:] - pdf[:, 1:, :-1] + pdf[:, :-1, :-1]
    used = pi > 1e-300
    pi_safe = np.where(used, pi, 1.0)
    s_rho = np.where(used, dpi / pi_safe, 0.0)  # pairs, k, k
    cells = (np.arange(n_pairs) * k * k)[None, :] + codes[:, iu] * k + codes[:, ju]
    sc_cor = s_rho.ravel()[cells]  # n, pairs

    # derivatives of log pi_ab with respect to the thresholds of the first / second item
    sq = np.sqrt(1.0 - rho**2)[:, None, None]
    t1 = grid[iu][:, 1:-1]  # pairs, k - 1 (thresholds slots of item i; +inf if absent)
    t2 = grid[ju][:, 1:-1]
    d1 = _dpi_dtau(t1, grid[ju], rho, sq)  # pairs, k - 1 (slot), k (category of j)
    d2 = _dpi_dtau(t2, grid[iu], rho, sq)
    # A21: sum over cells n_ab * (d log pi / d rho) * (d log pi / d tau)
    w = pair_tables * s_rho / pi_safe  # n_ab * dpi_rho / pi^2
    w = np.where(used, w, 0.0)
    # category a of item i has tau_{i,a} as upper (+) and tau_{i,a-1} as lower (-) bound
    a21_i = np.einsum("rsb,rsb->rs", w[:, :-1, :] - w[:, 1:, :], d1)
    a21_j = np.einsum("ras,rsa->rs", w[:, :, :-1] - w[:, :, 1:], d2)

    # the two-step Jacobian A (lavaan: blocks of outer products of the scores) and B = SC'SC
    th_index = np.full((p, k - 1), -1)
    th_index[th_item, th_slot] = np.arange(n_th)
    a11 = sc_th.T @ sc_th
    block = th_item[:, None] == th_item[None, :]
    a11 = np.where(block, a11, 0.0)
    a11_inv = np.linalg.inv(a11)
    a21 = np.zeros((n_pairs, n_th))
    rows = np.repeat(np.arange(n_pairs), k - 1)
    ok = th_index[iu].ravel() >= 0
    a21[rows[ok], th_index[iu].ravel()[ok]] += a21_i.ravel()[ok]
    ok = th_index[ju].ravel() >= 0
    a21[rows[ok], th_index[ju].ravel()[ok]] += a21_j.ravel()[ok]
    a22 = np.einsum("nr,nr->r", sc_cor, sc_cor)
    if np.any(a22 <= 0):
        bad = int(np.argmax(a22 <= 0))
        raise PsychometricsError(
            "degenerate-table",
            f"The 'data' parameter of {func}: the table of items {names[iu[bad]]!r} x "
            f"{names[ju[bad]]!r} carries no information on their polychoric correlation.",
        )
    a21_inv = -(a21 / a22[:, None]) @ a11_inv
    # influence of each case: IF = SC B^-T; Gamma = N IF'IF
    inf_th = sc_th @ a11_inv
    inf_cor = sc_th @ a21_inv.T + sc_cor / a22[None, :]
    infl = np.hstack([inf_th, inf_cor])
    gamma = n * (infl.T @ infl)
    cor_names = [f"{names[i]}~~{names[j]}" for i, j in zip(iu, ju, strict=True)]
    labels = th_names + cor_names
    r = np.eye(p)
    r[iu, ju] = rho
    r[ju, iu] = rho
    return OrdinalStats(
        thresholds=pd.Series(grid[th_item, th_slot + 1], index=th_names),
        rho=pd.DataFrame(r, index=names, columns=names),
        gamma=pd.DataFrame(gamma, index=labels, columns=labels),
        n=int(n),
        n_categories=pd.Series(n_cat, index=names),
        levels={name: lv for name, lv in zip(names, levels, strict=True)},
    )


def _codes(values: np.ndarray, names: list[str], max_categories: int, func: str):
    """Category codes 0..K_j - 1 of each item (its sorted observed values)."""
    n, p = values.shape
    codes = np.empty((n, p), dtype=np.int64)
    levels = []
    for j in range(p):
        lv, inv = np.unique(values[:, j], return_inverse=True)
        if len(lv) > max_categories:
            raise PsychometricsError(
                "too-many-categories",
                f"The 'data' parameter of {func} must hold ordinal items with at most "
                f"{max_categories} distinct values (max_categories); column {names[j]!r} has "
                f"{len(lv)}.",
            )
        if len(lv) < 2:
            raise PsychometricsError(
                "constant-item",
                f"The 'data' parameter of {func} must have at least 2 distinct values per item "
                f"on the complete rows; column {names[j]!r} has 1 ({lv[0]!r}).",
            )
        codes[:, j] = inv
        levels.append([v.item() for v in lv])
    return codes, levels


def _zero_add(tables, ncat_i, ncat_j, names, iu, ju, func):
    """lavaan's zero.add = c(0.5, 0) with zero.keep.margins on 2 x 2 tables."""
    out = tables.copy()
    two = np.nonzero((ncat_i == 2) & (ncat_j == 2))[0]
    for r in two:
        t = out[r, :2, :2]
        zero = t == 0
        if zero.sum() >= 2:
            raise PsychometricsError(
                "degenerate-table",
                f"The 'data' parameter of {func}: binary items {names[iu[r]]!r} and "
                f"{names[ju[r]]!r} have two empty cells in their 2 x 2 table (perfect "
                "association); their tetrachoric correlation is +-1 and WLS cannot use it.",
            )
        if zero.sum() == 1:
            sign = 1.0 if (zero[0, 0] or zero[1, 1]) else -1.0
            t += sign * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    return out


def _polychorics(tables: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ML correlation of each table, thresholds fixed: vectorized Newton on the exact
    log-likelihood (second derivative from the cell probabilities), bounded by +-0.999."""
    ac = np.clip(a, -_BIG, _BIG)[:, :, None]
    bc = np.clip(b, -_BIG, _BIG)[:, None, :]
    n = tables.sum(axis=(1, 2))
    rho = np.zeros(len(tables))
    for _ in range(200):
        r3 = rho[:, None, None]
        cdf = bvn_cdf(ac, bc, r3)
        pdf = bvn_pdf(ac, bc, r3)
        pi = cdf[:, 1:, 1:] - cdf[:, :-1, 1:] - cdf[:, 1:, :-1] + cdf[:, :-1, :-1]
        dpi = pdf[:, 1:, 1:] - pdf[:, :-1, 1:] - pdf[:, 1:, :-1] + pdf[:, :-1, :-1]
        # d phi2 / d rho = phi2 * g(h, k, rho)
        s2 = 1.0 - r3**2
        g = (r3 / s2 + (ac * bc) / s2
             - r3 * (ac**2 - 2 * r3 * ac * bc + bc**2) / s2**2) * pdf
        g = np.where(np.abs(ac) >= _BIG, 0.0, g)
        g = np.where(np.abs(bc) >= _BIG, 0.0, g)
        d2pi = g[:, 1:, 1:] - g[:, :-1, 1:] - g[:, 1:, :-1] + g[:, :-1, :-1]
        used = pi > 1e-300
        safe = np.where(used, pi, 1.0)
        score = np.where(used, tables * dpi / safe, 0.0).sum(axis=(1, 2))
        hess = np.where(used, tables * (d2pi / safe - (dpi / safe) ** 2), 0.0).sum(axis=(1, 2))
        info = n * np.where(used, dpi**2 / safe, 0.0).sum(axis=(1, 2))
        # Newton where the log-likelihood is concave, Fisher scoring otherwise
        curv = np.where(hess < 0, -hess, info)
        step = np.where(curv > 0, score / np.where(curv > 0, curv, 1.0), 0.0)
        step = np.clip(step, -0.5, 0.5)
        new = np.clip(rho + step, -_RHO_BOUND, _RHO_BOUND)
        done = np.abs(new - rho) < 1e-12
        rho = new
        if done.all():
            break
    return rho


def _dpi_dtau(t: np.ndarray, other: np.ndarray, rho: np.ndarray, sq: np.ndarray) -> np.ndarray:
    """d Phi2(t_s, other_b) / d t_s - d Phi2(t_s, other_{b-1}) / d t_s for each threshold
    slot s of one item and each category b of the other: phi(t_s) [Phi((o_b - r t_s)/sq)
    - Phi((o_{b-1} - r t_s)/sq)]. Shape pairs, slots, categories of the other item."""
    ts = np.where(np.isfinite(t), t, 0.0)[:, :, None]
    o = other[:, None, :]
    with np.errstate(invalid="ignore"):
        z = (o - rho[:, None, None] * ts) / sq
    z = np.where(np.isnan(z), np.inf, z)  # +inf - finite stays +inf; only inf - inf is NaN
    c = special.ndtr(z)
    out = stats.norm.pdf(ts) * np.diff(c, axis=2)
    return np.where(np.isfinite(t)[:, :, None], out, 0.0)


# --------------------------------------------------------------------------- DWLS fit


@dataclass(frozen=True)
class WLSMV:
    """A CFA of ordinal items by DWLS with the mean-and-variance adjusted test (WLSMV).

    Attributes
    ----------
    fit : dict
        lavaan's ``fitMeasures`` names: ``chisq df pvalue chisq.scaled df.scaled
        pvalue.scaled chisq.scaling.factor chisq.shift baseline.chisq baseline.df
        baseline.chisq.scaled cfi tli rmsea cfi.scaled tli.scaled rmsea.scaled srmr fmin
        npar ntotal`` (``chisq`` is the DWLS statistic ``(N - 1) F``; ``*.scaled`` the
        scaled-shifted one).
    loadings : DataFrame
        Standardized loadings (std.all), items x factors, 0 where an item does not load.
    estimates : DataFrame
        Unstandardized loadings, items x factors: the first loading of each factor fixed to
        1 (lavaan's default), or unit factor variances with ``std_lv``.
    phi : DataFrame
        Factor covariance matrix (same scaling as ``estimates``).
    factor_cor : DataFrame
        Factor correlations (std.all).
    residual_variances : Series
        ``1 - diag(Lambda Phi Lambda')`` (variances of the latent responses' residuals,
        also their std.all values); negative means a Heywood case.
    thresholds : Series
        Thresholds (``"item|t1"``...), equal to the sample thresholds.
    implied : DataFrame
        Model-implied correlation matrix of the latent responses.
    params : DataFrame
        ``lhs op rhs free est se z pvalue std_all`` for the loadings (``=~``), thresholds
        (``|``), residual variances (``~~``, fixed by the parameterization) and factor
        (co)variances, as lavaan's ``parameterEstimates`` + ``standardizedSolution``;
        robust (sandwich) standard errors (lavaan's ``se = "robust.sem"``).
    warnings : tuple
        ``(code, message, variable)``: ``not-converged``, ``heywood`` (a residual variance
        below 0), ``non-positive-definite-phi``.
    stats : OrdinalStats
        The sample statistics (thresholds, polychorics, Gamma).
    n : int
        Rows used (listwise complete).
    converged : bool
    iterations : int
    """

    fit: dict
    loadings: pd.DataFrame
    estimates: pd.DataFrame
    phi: pd.DataFrame
    factor_cor: pd.DataFrame
    residual_variances: pd.Series
    thresholds: pd.Series
    implied: pd.DataFrame
    params: pd.DataFrame
    warnings: tuple
    stats: OrdinalStats = field(repr=False)
    n: int
    converged: bool
    iterations: int

    def summary(self) -> str:
        f = self.fit
        head = (
            f"CFA of ordinal items (WLSMV), n = {self.n}, "
            f"{'converged' if self.converged else 'NOT converged'}\n"
            f"chi2 = {f['chisq']:.3f}, df = {f['df']:g}; scaled-shifted chi2 = "
            f"{f['chisq.scaled']:.3f}, p = {f['pvalue.scaled']:.4g}\n"
            f"CFI = {f['cfi.scaled']:.3f}, TLI = {f['tli.scaled']:.3f}, "
            f"RMSEA = {f['rmsea.scaled']:.3f} (scaled); SRMR = {f['srmr']:.3f}\n"
        )
        return head + "Standardized loadings:\n" + self.loadings.round(3).to_string()


def fit_wlsmv(
    data: pd.DataFrame,
    model: Mapping[str, Sequence[str]],
    *,
    std_lv: bool = False,
    max_categories: int = 15,
) -> WLSMV:
    """Confirmatory factor analysis of ordinal items by WLSMV (lavaan's defaults).

    ``model`` maps each factor to its items (``{"TRU": ["TRU1", "TRU2", ...], ...}``); an
    item may load on several factors; factors covary freely. Every item of the model is
    treated as ordinal (its sorted observed values are its categories); rows with a
    missing item are dropped (listwise). Identification as lavaan's default: the first
    loading of each factor is fixed to 1 (``std.lv = FALSE``), or the factor variances
    when ``std_lv``; the latent response variances are 1 ("delta" parameterization).
    Standardized results and fit do not depend on the choice.

    Example
    -------
    >>> res = fit_wlsmv(df, {"TRU": ["TRU1", "TRU2", "TRU3"], "SOC": ["SOC1", "SOC2", "SOC3"]})
    >>> res.fit["cfi.scaled"], res.loadings
    >>> # R: fit <- lavaan::cfa("TRU =~ TRU1 + TRU2 + TRU3\\n SOC =~ SOC1 + SOC2 + SOC3",
    >>> #                       data = df, ordered = TRUE, estimator = "WLSMV")
    >>> #    fitMeasures(fit); standardizedSolution(fit)
    """
    return _fit_wlsmv(data, model, std_lv, max_categories, "fit_wlsmv")


def _fit_wlsmv(data, model, std_lv: bool, max_categories: int, func: str) -> WLSMV:
    factors, items, pattern = _check_model(data, model, func)
    check_int(max_categories, name="max_categories", minimum=2, func=func)
    x = as_items(data[items], func=func, min_rows=3, min_items=2)
    x = x.loc[x.notna().all(axis=1).to_numpy()]
    with _one_blas_thread():
        st = _ordinal_stats(x, max_categories, func)
        return _fit(st, factors, items, pattern, bool(std_lv), func)


def _check_model(data, model, func):
    if not isinstance(model, Mapping) or not model:
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} must be a non-empty mapping of factor name to a "
            f"list of items; got {type(model).__name__}.",
        )
    factors = [str(f) for f in model]
    items: list[str] = []
    for f, its in model.items():
        if isinstance(its, str) or not isinstance(its, Sequence) or len(its) < 1:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} must give each factor a list of items; "
                f"factor {f!r} has {its!r}.",
            )
        if len(set(its)) != len(its):
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} lists an item twice under factor {f!r}.",
            )
        for it in its:
            if it not in items:
                items.append(it)
    if isinstance(data, pd.DataFrame):
        check_columns(data, items, name="model", func=func)
    else:
        as_items(data, func=func)  # raises not-a-dataframe
    if len(items) < 3:
        raise PsychometricsError(
            "too-few-items",
            f"The 'model' parameter of {func} must name at least 3 items; got {len(items)}.",
        )
    pattern = np.zeros((len(items), len(factors)), dtype=bool)
    for c, its in enumerate(model.values()):
        for it in its:
            pattern[items.index(it), c] = True
    return factors, items, pattern


def _jacobian(lam, phi, li, lf, fi, fj, iu, ju) -> np.ndarray:
    """d sigma / d theta for the correlations sigma_ij = (Lambda Phi Lambda')_ij, i < j,
    with theta the loadings (li, lf) then the Phi entries (fi, fj) (fi >= fj)."""
    lp = lam @ phi  # d sigma_ij / d lam_if = (Lambda Phi)_jf when i is the row (and vice versa)
    d = np.empty((len(iu), len(li) + len(fi)))
    for c, (i, f) in enumerate(zip(li, lf, strict=True)):
        d[:, c] = np.where(iu == i, lp[ju, f], 0.0) + np.where(ju == i, lp[iu, f], 0.0)
    for c, (f, g) in enumerate(zip(fi, fj, strict=True)):
        col = lam[iu, f] * lam[ju, g]
        if f != g:
            col = col + lam[iu, g] * lam[ju, f]
        d[:, len(li) + c] = col
    return d


def _fit(st: OrdinalStats, factors: list[str], items: list[str], pattern: np.ndarray,
         std_lv: bool, func: str = "fit_wlsmv") -> WLSMV:
    p, m = pattern.shape
    n = st.n
    iu, ju = np.triu_indices(p, 1)
    r_obs = st.rho.to_numpy()[iu, ju]
    n_th = len(st.thresholds)
    gamma = st.gamma.to_numpy()
    g_rr = gamma[n_th:, n_th:]
    w = 1.0 / np.diag(g_rr)
    sw = np.sqrt(w)
    # fitted with unit factor variances (std.lv: every loading free, Phi a correlation
    # matrix), then rescaled to lavaan's marker identification: the same model
    li, lf = np.nonzero(pattern)
    fi, fj = np.tril_indices(m, -1)
    n_load = len(li)
    q = n_load + len(fi)

    def unpack(theta):
        lam = np.zeros((p, m))
        lam[li, lf] = theta[:n_load]
        phi = np.eye(m)
        phi[fi, fj] = theta[n_load:]
        phi[fj, fi] = theta[n_load:]
        return lam, phi

    def residual(theta):
        lam, phi = unpack(theta)
        return sw * (r_obs - (lam @ phi @ lam.T)[iu, ju])

    def jac(theta):
        lam, phi = unpack(theta)
        return -sw[:, None] * _jacobian(lam, phi, li, lf, fi, fj, iu, ju)

    if len(iu) < q:
        raise PsychometricsError(
            "not-identified",
            f"The model given to {func} has more free parameters in its correlation "
            f"structure ({q}) than polychoric correlations ({len(iu)}): it is not identified "
            f"(df = {len(iu) - q}).",
        )
    start = _start(st.rho.to_numpy(), pattern, li, lf, len(fi))
    sol = optimize.least_squares(
        residual, start, jac=jac, method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14,
        max_nfev=2000,
    )
    lam, phi = unpack(sol.x)
    grad = jac(sol.x).T @ residual(sol.x)
    converged = bool(sol.success) and float(np.max(np.abs(grad))) < 1e-6
    # sign: the marker (first item) of each factor loads positively, as with lavaan's fixed 1
    marker = np.array([int(np.flatnonzero(pattern[:, f])[0]) for f in range(m)])
    sign = np.where(lam[marker, np.arange(m)] < 0, -1.0, 1.0)
    lam = lam * sign[None, :]
    phi = phi * np.outer(sign, sign)
    sigma = lam @ phi @ lam.T
    resid = r_obs - sigma[iu, ju]
    f_min = float(np.sum(w * resid**2))

    # lavaan's identification: marker (loading 1, Phi * marker^2) or std.lv (unit variances)
    is_marker = np.zeros_like(pattern)
    is_marker[marker, np.arange(m)] = True
    pi_, pj = np.tril_indices(m)
    order = np.lexsort((pi_, pj, pi_ != pj))  # variances, then covariances column by column
    pi_, pj = pi_[order], pj[order]
    if std_lv:
        lam_o, phi_o = lam, phi
        free_load = pattern
        free_phi = pi_ != pj
    else:
        scale = lam[marker, np.arange(m)]
        lam_o = lam / scale[None, :]
        phi_o = phi * np.outer(scale, scale)
        free_load = pattern & ~is_marker
        free_phi = np.ones(len(pi_), dtype=bool)
    mf, mi = np.nonzero(free_load.T)  # factor by factor, items in order (lavaan's order)
    delta = _jacobian(lam_o, phi_o, mi, mf, pi_[free_phi], pj[free_phi], iu, ju)

    # tests: U restricted to the correlations (the thresholds are saturated)
    wd = w[:, None] * delta
    info = delta.T @ wd
    ev = np.linalg.eigvalsh(info)
    singular = ev[0] <= 1e-10 * max(ev[-1], 1e-300)
    info_inv = np.linalg.pinv(info) if singular else np.linalg.inv(info)
    u = np.diag(w) - wd @ info_inv @ wd.T
    ug = u @ g_rr
    tr1, tr2 = float(np.trace(ug)), float(np.sum(ug * ug.T))
    df = len(iu) - q
    chisq = (n - 1) * f_min  # lavaan: fmin = (N - 1) / (2 N) F for WLS estimators, X2 = 2 N fmin
    scaled, a, shift = _scaled_shifted(chisq, df, tr1, tr2)
    wg = w[:, None] * g_rr
    base_chisq = (n - 1) * float(np.sum(w * r_obs**2))
    base_df = len(iu)
    base_scaled, base_a, _ = _scaled_shifted(base_chisq, base_df, float(np.trace(wg)),
                                             float(np.sum(wg * wg.T)))
    n_rmsea = n - 1  # lavaan: N - (number of groups) for estimators other than ML
    ci = _rmsea_ci(chisq, df, n_rmsea)
    ci_scaled = _rmsea_ci(scaled, df, n_rmsea)
    fit = {
        "npar": n_th + q,
        "ntotal": n,
        "fmin": f_min * (n - 1) / (2 * n),
        "chisq": chisq,
        "df": float(df),
        "pvalue": _pvalue(chisq, df),
        "chisq.scaled": scaled,
        "df.scaled": float(df),
        "pvalue.scaled": _pvalue(scaled, df),
        "chisq.scaling.factor": 1.0 / a if df > 0 else np.nan,
        "chisq.shift": shift,
        "baseline.chisq": base_chisq,
        "baseline.df": float(base_df),
        "baseline.pvalue": _pvalue(base_chisq, base_df),
        "baseline.chisq.scaled": base_scaled,
        "baseline.chisq.scaling.factor": 1.0 / base_a,
        "cfi": _cfi(chisq, df, base_chisq, base_df),
        "tli": _tli(chisq, df, base_chisq, base_df),
        "rmsea": _rmsea(chisq, df, n_rmsea),
        "rmsea.ci.lower": ci[0],
        "rmsea.ci.upper": ci[1],
        "cfi.scaled": _cfi(scaled, df, base_scaled, base_df),
        "tli.scaled": _tli(scaled, df, base_scaled, base_df),
        "rmsea.scaled": _rmsea(scaled, df, n_rmsea),
        "rmsea.ci.lower.scaled": ci_scaled[0],
        "rmsea.ci.upper.scaled": ci_scaled[1],
        # lavaan's srmr for categorical data: SRMR (Bentler) on the correlations, diagonal
        # residuals (all 0) counted in the mean
        "srmr": float(np.sqrt(np.sum(resid**2) / (p * (p + 1) / 2))),
    }

    # robust (sandwich) standard errors, lavaan's se = "robust.sem":
    # Var = (DWD)^-1 DW Gamma WD (DWD)^-1 / (N - 1); thresholds: diag(Gamma_tt) / (N - 1)
    cov = info_inv @ (wd.T @ g_rr @ wd) @ info_inv / (n - 1)
    se_free = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    se_th = np.sqrt(np.diag(gamma)[:n_th] / (n - 1))
    res_var = 1.0 - np.diag(sigma)
    sd_f = np.sqrt(np.abs(np.diag(phi_o)))
    n_free = len(mi) + int(free_phi.sum())
    rows = []
    for f in range(m):
        for i in np.flatnonzero(pattern[:, f]):
            k = np.flatnonzero((mi == i) & (mf == f))
            free = int(k[0]) + 1 if len(k) else 0
            se = float(se_free[k[0]]) if len(k) else np.nan
            rows.append((factors[f], "=~", items[i], free, lam_o[i, f], se, lam[i, f]))
    th_items = [t.rsplit("|", 1) for t in st.thresholds.index]
    for s_, (item, label) in enumerate(th_items):
        value = float(st.thresholds.iloc[s_])
        rows.append((item, "|", label, n_free + s_ + 1, value, float(se_th[s_]), value))
    for i in range(p):
        rows.append((items[i], "~~", items[i], 0, res_var[i], np.nan, res_var[i]))
    k = len(mi)
    for f, g, free in zip(pi_, pj, free_phi, strict=True):
        std = phi_o[f, g] / (sd_f[f] * sd_f[g])
        se = float(se_free[k]) if free else np.nan
        rows.append((factors[g], "~~", factors[f], k + 1 if free else 0, phi_o[f, g], se, std))
        k += int(free)
    params = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "free", "est", "se", "std_all"])
    with np.errstate(divide="ignore", invalid="ignore"):
        params["z"] = params["est"] / params["se"]
    params["pvalue"] = 2.0 * stats.norm.sf(np.abs(params["z"]))
    params = params[["lhs", "op", "rhs", "free", "est", "se", "z", "pvalue", "std_all"]]

    warnings = []
    if not converged:
        warnings.append(("not-converged", "the DWLS fit did not converge (the fit measures "
                         "and loadings are not trustworthy).", None))
    for i in np.flatnonzero(res_var < 0):
        warnings.append(("heywood", f"negative residual variance of the latent response of "
                         f"item {items[i]!r} ({res_var[i]:.4g}): a Heywood case.", items[i]))
    if singular:
        warnings.append(("not-identified", "the information matrix is singular: the model "
                         "may not be identified (standard errors and the scaled test are not "
                         "trustworthy).", None))
    if np.linalg.eigvalsh(phi)[0] <= 0:
        warnings.append(("non-positive-definite-phi", "the factor correlation matrix is not "
                         "positive definite (a factor correlation at or beyond 1).", None))
    implied_full = sigma.copy()
    np.fill_diagonal(implied_full, 1.0)
    return WLSMV(
        fit=fit,
        loadings=pd.DataFrame(np.where(pattern, lam, 0.0), index=items, columns=factors),
        estimates=pd.DataFrame(np.where(pattern, lam_o, 0.0), index=items, columns=factors),
        phi=pd.DataFrame(phi_o, index=factors, columns=factors),
        factor_cor=pd.DataFrame(phi, index=factors, columns=factors),
        residual_variances=pd.Series(res_var, index=items),
        thresholds=st.thresholds.copy(),
        implied=pd.DataFrame(implied_full, index=items, columns=items),
        params=params,
        warnings=tuple(warnings),
        stats=st,
        n=n,
        converged=converged,
        iterations=int(sol.nfev),
    )


def _start(r: np.ndarray, pattern, li, lf, n_cov) -> np.ndarray:
    """Start values: each factor's first principal axis of its items' correlations."""
    p, m = pattern.shape
    lam = np.zeros((p, m))
    for f in range(m):
        idx = np.nonzero(pattern[:, f])[0]
        if len(idx) == 1:
            lam[idx, f] = 0.7
            continue
        vals, vecs = np.linalg.eigh(r[np.ix_(idx, idx)])
        v = vecs[:, -1] * np.sqrt(max(vals[-1], 1e-6))
        if v[0] < 0:
            v = -v
        lam[idx, f] = np.clip(v, -0.95, 0.95)
    return np.concatenate([lam[li, lf], np.zeros(n_cov)])


def _scaled_shifted(chisq: float, df: int, tr1: float, tr2: float) -> tuple[float, float, float]:
    """lavaan's "scaled.shifted" statistic: a X2 + (df - a tr(UG)), a = sqrt(df / tr(UG^2))."""
    if df <= 0:
        return chisq, 1.0, 0.0
    a = np.sqrt(df / tr2)
    shift = df - a * tr1
    return float(a * chisq + shift), float(a), float(shift)


def _pvalue(chisq: float, df: int) -> float:
    return float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan


def _cfi(x2, df, x2b, dfb) -> float:
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2b - dfb, 0.0)
    if np.isclose(t1, 0.0, rtol=0, atol=1.5e-8) and np.isclose(t2, 0.0, rtol=0, atol=1.5e-8):
        return 1.0
    return float(1.0 - t1 / t2)


def _tli(x2, df, x2b, dfb) -> float:
    t1 = (x2 - df) * dfb
    t2 = (x2b - dfb) * df
    if df > 0 and abs(t2) > 0:
        return float(1.0 - t1 / t2)
    return 1.0


def _rmsea_ci(x2: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """90% interval of the RMSEA: the noncentralities where the observed statistic sits at
    the 95th / 5th percentile of the noncentral chi-square (lavaan's lav_fit_rmsea_ci)."""
    if df < 1 or not np.isfinite(x2):
        return 0.0, 0.0
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam):
        return stats.chi2.cdf(x2, df) if lam <= 0 else stats.ncx2.cdf(x2, df, lam)

    lo = 0.0
    if cdf(0.0) >= upper_p:
        lam = optimize.brentq(lambda v: cdf(v) - upper_p, 0.0, x2, xtol=1e-12)
        lo = float(np.sqrt(lam / (n * df)))
    hi = 0.0
    top = max(n, 4 * x2)
    if cdf(top) <= lower_p and cdf(0.0) >= lower_p:
        lam = optimize.brentq(lambda v: cdf(v) - lower_p, 0.0, top, xtol=1e-12)
        hi = float(np.sqrt(lam / (n * df)))
    return lo, hi


def _rmsea(x2, df, n) -> float:
    if df <= 0:
        return 0.0
    return float(np.sqrt(max(x2 / n / df - 1.0 / n, 0.0)))


# --------------------------------------------------------------------------- pm.cfa


def wlsmv_cfa(
    data: pd.DataFrame,
    factors: Mapping[str, Sequence[str]],
    *,
    missing: str = "listwise",
    group: str | None = None,
    second_order: Mapping | None = None,
    residual_covariances: Sequence | None = None,
    std_lv: bool = False,
    htmt2: bool = True,
):
    """``pm.cfa(data, model, estimator="WLSMV")``: :func:`fit_wlsmv` as a ``CFA`` result.

    Called by :func:`psychometrics.cfa.cfa` with the parsed factors; the fields of ``CFA``
    are filled with their categorical counterparts:

    - ``fit``: every ML key, with lavaan's ``fitMeasures`` meaning for WLSMV (``chisq``,
      ``cfi``, ``tli``, ``rmsea`` and its interval are the plain DWLS values) plus the
      scaled-shifted ones ``chisq_scaled df_scaled pvalue_scaled chisq_scaling_factor
      chisq_shift cfi_scaled tli_scaled rmsea_scaled rmsea_ci_lower_scaled
      rmsea_ci_upper_scaled baseline_chisq_scaled`` (what is usually reported for
      WLSMV); ``aic``, ``bic``, ``loglik``, ``loglik_h1`` are NaN (no likelihood).
    - ``r_squared``: ``lavInspect(fit, "rsquare")`` (latent responses);
      ``ave``: ``semTools::AVE`` (mean squared std.all loading); ``reliability``: omega on
      the latent-response scale, ``semTools::compRelSEM(fit, ord.scale = FALSE)`` (the
      denominator is the sum of the polychoric block); ``htmt``: ``semTools::htmt(model,
      data, ordered = TRUE)`` (polychoric correlations); ``residuals``: polychoric minus
      implied correlations (``residuals(fit, type = "cor")``).
    - ``modindices``: empty (not computed for WLSMV); ``params``: see :class:`WLSMV`.
    """
    from psychometrics.cfa import CFA, FitWarning

    func = "cfa"
    unsupported = [
        ("group", group is not None), ("second_order", bool(second_order)),
        ("residual_covariances", bool(residual_covariances)),
    ]
    for name, used in unsupported:
        if used:
            raise PsychometricsError(
                "not-implemented",
                f"The {name!r} parameter of {func} is not implemented with estimator='WLSMV' "
                "(single-group first-order models only); use estimator='ML' or drop it.",
            )
    if missing != "listwise":
        raise PsychometricsError(
            "invalid-option",
            f"The 'missing' parameter of {func} must be 'listwise' with estimator='WLSMV' "
            f"(lavaan's default for ordinal data); got {missing!r}.",
        )
    res = _fit_wlsmv(data, factors, bool(std_lv), 15, func)
    names = list(res.loadings.columns)
    items = list(res.loadings.index)
    lam = res.loadings.to_numpy()
    pattern = np.zeros(lam.shape, dtype=bool)
    for c, f in enumerate(names):
        pattern[[items.index(i) for i in factors[f]], c] = True
    f = res.fit
    fit = {
        "chisq": f["chisq"], "df": int(f["df"]), "pvalue": f["pvalue"], "cfi": f["cfi"],
        "tli": f["tli"], "rmsea": f["rmsea"], "rmsea_ci_lower": f["rmsea.ci.lower"],
        "rmsea_ci_upper": f["rmsea.ci.upper"], "srmr": f["srmr"], "aic": np.nan,
        "bic": np.nan, "loglik": np.nan, "loglik_h1": np.nan, "npar": int(f["npar"]),
        "n": res.n, "ngroups": 1, "baseline_chisq": f["baseline.chisq"],
        "baseline_df": int(f["baseline.df"]), "baseline_pvalue": f["baseline.pvalue"],
    }
    for key in ("chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
                "chisq.shift", "cfi.scaled", "tli.scaled", "rmsea.scaled",
                "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "baseline.chisq.scaled"):
        fit[key.replace(".", "_")] = f[key]
    fit["df_scaled"] = int(fit["df_scaled"])
    rho = res.stats.rho.to_numpy()
    cross = pattern.sum(axis=1) > 1
    ave, rel = {}, {}
    for c, name in enumerate(names):
        idx = np.flatnonzero(pattern[:, c])
        ave[name] = np.nan if cross[idx].any() or len(idx) < 2 else float(np.mean(lam[idx, c] ** 2))
        rel[name] = (np.nan if len(idx) < 2
                     else float(lam[idx, c].sum() ** 2 / rho[np.ix_(idx, idx)].sum()))
    ave_s, rel_s = pd.Series(ave), pd.Series(rel)
    fl = res.factor_cor.copy()
    for name in names:
        fl.loc[name, name] = np.sqrt(ave[name]) if ave[name] >= 0 else np.nan
    warnings = tuple(FitWarning(code, msg, var) for code, msg, var in res.warnings)
    return CFA(
        fit=fit,
        loadings=res.loadings,
        factor_correlations=res.factor_cor,
        r_squared=1.0 - res.residual_variances,
        ave=ave_s,
        reliability=rel_s,
        fornell_larcker=fl,
        htmt=_htmt(rho, pattern, names, htmt2),
        residuals=res.stats.rho - res.implied,
        modindices=pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_all"]),
        params=res.params,
        second_order_loadings=None,
        warnings=warnings,
        converged=res.converged,
        n=res.n,
        groups=(),
        group_sizes=None,
        estimator="WLSMV",
        missing="listwise",
        model={name: list(factors[name]) for name in names},
    )


def _htmt(r: np.ndarray, pattern: np.ndarray, names: list[str], htmt2: bool) -> pd.DataFrame:
    """Heterotrait-monotrait ratio (semTools::htmt) on a correlation matrix: the mean
    absolute correlation between two factors' items over the geometric mean of the mean
    absolute correlations within each (geometric means of the correlations when htmt2)."""
    a = np.abs(r)

    def mean(block: np.ndarray) -> float:
        if block.size == 0:
            return np.nan
        return float(np.exp(np.mean(np.log(block)))) if htmt2 else float(block.mean())

    idx = [np.flatnonzero(pattern[:, c]) for c in range(len(names))]
    within = []
    for ix in idx:
        sub = a[np.ix_(ix, ix)]
        within.append(mean(sub[np.triu_indices(len(ix), 1)]))
    out = np.eye(len(names))
    for c in range(len(names)):
        for d in range(c):
            out[c, d] = out[d, c] = mean(a[np.ix_(idx[c], idx[d])].ravel()) / np.sqrt(
                within[c] * within[d])
    return pd.DataFrame(out, index=names, columns=names)
