"""Sample statistics of ordinal items for WLSMV, as lavaan computes them (lavaan 0.6-14).

Thresholds of each item from its marginal proportions; polychoric correlations by
two-step ML (thresholds held fixed); and ``Gamma``, the asymptotic covariance matrix of
``sqrt(N)`` times the stacked statistics (thresholds, then correlations), from casewise
scores as in Muthén (1984): with ``SC`` the per-case scores of the univariate threshold
likelihoods and of each bivariate polychoric likelihood, ``A`` the two-step Jacobian (each
block an outer product of scores, as lavaan builds it) and ``B = SC'SC``,
``Gamma = N A^-1 B A^-T`` (R: ``lavInspect(fit, "sampstat")``, ``lavInspect(fit,
"gamma")``, ``lavInspect(fit, "wls.v")``). The DWLS fit and the WLSMV test that use them
are in :mod:`psychometrics.engine.dwls`.

Nothing here copies lavaan's code; the formulas are those of Muthén (1984) and Muthén, du
Toit & Spisic (1997).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special, stats

from psychometrics._checks import as_items, check_int
from psychometrics.correlation import bvn_cdf, bvn_pdf
from psychometrics.engine.core import single_thread
from psychometrics.errors import PsychometricsError

__all__ = ["BIG", "OrdinalStats", "category_codes", "ordinal_stats", "polychorics",
           "two_step_gamma"]

BIG = 8.0  # Phi(-8) ~ 6e-16: the threshold grid ends stand for -inf / +inf
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
    with single_thread():
        return compute(x, max_categories, "ordinal_stats")


def compute(x: pd.DataFrame, max_categories: int, func: str) -> OrdinalStats:
    """Thresholds, polychorics and their Gamma (lavaan's two-step estimates and the
    casewise influence of each row): the steps below, in order."""
    names = [str(c) for c in x.columns]
    values = x.to_numpy(dtype=float)
    n, p = values.shape
    if n < 3:
        raise PsychometricsError(
            "too-few-rows",
            f"The 'data' parameter of {func} must have at least 3 complete rows (no missing "
            f"item); got {n}.",
        )
    t = _tables(values, names, max_categories, func)
    rho = polychorics(_zero_add(t.tables[t.iu, t.ju], t.n_cat[t.iu], t.n_cat[t.ju], names, t.iu, t.ju, func),
                      t.grid[t.iu], t.grid[t.ju])
    sc_th = _threshold_scores(t)
    sc_cor, a21_i, a21_j = _pair_scores(t, rho)
    gamma = _gamma(t, sc_th, sc_cor, a21_i, a21_j, names, func)
    th_names = [f"{names[j]}|t{s + 1}" for j, s in zip(t.th_item, t.th_slot, strict=True)]
    labels = th_names + [f"{names[i]}~~{names[j]}" for i, j in zip(t.iu, t.ju, strict=True)]
    r = np.eye(p)
    r[t.iu, t.ju] = rho
    r[t.ju, t.iu] = rho
    return OrdinalStats(
        thresholds=pd.Series(t.grid[t.th_item, t.th_slot + 1], index=th_names),
        rho=pd.DataFrame(r, index=names, columns=names),
        gamma=pd.DataFrame(gamma, index=labels, columns=labels),
        n=int(n),
        n_categories=pd.Series(t.n_cat, index=names),
        levels={name: lv for name, lv in zip(names, t.levels, strict=True)},
    )


@dataclass(frozen=True)
class _Tables:
    """Category codes, the pairs' contingency tables and the thresholds (step 1)."""

    codes: np.ndarray       # n, p: category 0..K_j - 1
    levels: list
    n_cat: np.ndarray       # p
    k: int                  # the most categories
    tables: np.ndarray      # p, p, k, k
    grid: np.ndarray        # p, k + 1: -inf, t1.., +inf, +inf..
    tmask: np.ndarray       # p, k - 1: which threshold slots exist
    th_item: np.ndarray     # lavaan's order: item by item, t1, t2...
    th_slot: np.ndarray
    iu: np.ndarray          # the pairs i < j
    ju: np.ndarray


def _tables(values: np.ndarray, names: list[str], max_categories: int, func: str) -> _Tables:
    """Step 1: codes, tables, and the thresholds from the marginal proportions."""
    n, p = values.shape
    codes, levels = category_codes(values, names, max_categories, func)
    n_cat = np.array([len(lv) for lv in levels])
    k = int(n_cat.max())
    onehot = np.zeros((n, p * k))
    onehot[np.repeat(np.arange(n), p), (np.arange(p) * k + codes).ravel()] = 1.0
    counts = onehot.sum(axis=0).reshape(p, k)
    tables = (onehot.T @ onehot).reshape(p, k, p, k).transpose(0, 2, 1, 3)
    cum = np.cumsum(counts, axis=1) / n
    grid = np.full((p, k + 1), np.inf)
    grid[:, 0] = -np.inf
    tmask = np.zeros((p, k - 1), dtype=bool)
    for j in range(p):
        grid[j, 1 : n_cat[j]] = special.ndtri(cum[j, : n_cat[j] - 1])
        tmask[j, : n_cat[j] - 1] = True
    th_item, th_slot = np.nonzero(tmask)
    iu, ju = np.triu_indices(p, 1)
    return _Tables(codes, levels, n_cat, k, tables, grid, tmask, th_item, th_slot, iu, ju)


def _threshold_scores(t: _Tables) -> np.ndarray:
    """Casewise scores of the thresholds: d log P(y_j = c) / d tau_{j,s} (n, thresholds)."""
    k = t.k
    dens = stats.norm.pdf(t.grid)  # 0 at the infinite ends
    prob = np.diff(special.ndtr(t.grid), axis=1)  # p, k (0 past the last category)
    safe = np.where(prob > 0, prob, 1.0)
    uni = np.zeros((len(t.n_cat), k, k - 1))  # item, category, threshold slot
    cat = np.arange(k)
    for s in range(k - 1):
        uni[:, s, s] = dens[:, s + 1] / safe[:, s]  # upper bound of category s
        uni[:, s + 1, s] = -dens[:, s + 1] / safe[:, s + 1]  # lower bound of category s + 1
    uni = uni * t.tmask[:, None, :] * (cat[None, :, None] < t.n_cat[:, None, None])
    return uni[t.th_item[None, :], t.codes[:, t.th_item], t.th_slot[None, :]]


def _pair_scores(t: _Tables, rho: np.ndarray):
    """Casewise scores of the polychorics (n, pairs) and, per pair, the cross terms of
    the two-step Jacobian with the thresholds of its first / second item (pairs, slots)."""
    k, iu, ju, grid = t.k, t.iu, t.ju, t.grid
    a = np.clip(grid[iu], -BIG, BIG)[:, :, None]
    b = np.clip(grid[ju], -BIG, BIG)[:, None, :]
    r3 = rho[:, None, None]
    cdf = bvn_cdf(a, b, r3)
    pdf = bvn_pdf(a, b, r3)
    pi = cdf[:, 1:, 1:] - cdf[:, :-1, 1:] - cdf[:, 1:, :-1] + cdf[:, :-1, :-1]
    dpi = pdf[:, 1:, 1:] - pdf[:, :-1, 1:] - pdf[:, 1:, :-1] + pdf[:, :-1, :-1]
    used = pi > 1e-300
    pi_safe = np.where(used, pi, 1.0)
    s_rho = np.where(used, dpi / pi_safe, 0.0)  # pairs, k, k
    cells = (np.arange(len(iu)) * k * k)[None, :] + t.codes[:, iu] * k + t.codes[:, ju]
    sc_cor = s_rho.ravel()[cells]
    # derivatives of log pi_ab with respect to the thresholds of the first / second item
    sq = np.sqrt(1.0 - rho**2)[:, None, None]
    d1 = _dpi_dtau(grid[iu][:, 1:-1], grid[ju], rho, sq)  # pairs, slot, category of j
    d2 = _dpi_dtau(grid[ju][:, 1:-1], grid[iu], rho, sq)
    # A21: sum over cells n_ab * (d log pi / d rho) * (d log pi / d tau)
    w = np.where(used, t.tables[iu, ju] * s_rho / pi_safe, 0.0)
    # category a of item i has tau_{i,a} as upper (+) and tau_{i,a-1} as lower (-) bound
    a21_i = np.einsum("rsb,rsb->rs", w[:, :-1, :] - w[:, 1:, :], d1)
    a21_j = np.einsum("ras,rsa->rs", w[:, :, :-1] - w[:, :, 1:], d2)
    return sc_cor, a21_i, a21_j


def _gamma(t: _Tables, sc_th, sc_cor, a21_i, a21_j, names: list[str], func: str) -> np.ndarray:
    """The cross terms of the thresholds and correlations placed in the two-step Jacobian's
    block A21 (pairs x thresholds), then :func:`two_step_gamma`."""
    k, iu, ju = t.k, t.iu, t.ju
    n_th, n_pairs = len(t.th_item), len(iu)
    th_index = np.full((len(t.n_cat), k - 1), -1)
    th_index[t.th_item, t.th_slot] = np.arange(n_th)
    a21 = np.zeros((n_pairs, n_th))
    rows = np.repeat(np.arange(n_pairs), k - 1)
    ok = th_index[iu].ravel() >= 0
    a21[rows[ok], th_index[iu].ravel()[ok]] += a21_i.ravel()[ok]
    ok = th_index[ju].ravel() >= 0
    a21[rows[ok], th_index[ju].ravel()[ok]] += a21_j.ravel()[ok]
    pairs = [(names[i], names[j]) for i, j in zip(iu, ju, strict=True)]
    return two_step_gamma(sc_th, t.th_item, sc_cor, a21, pairs, func)


def two_step_gamma(sc1: np.ndarray, owner: np.ndarray, sc_cor: np.ndarray, a21: np.ndarray,
                   pairs: list[tuple[str, str]], func: str) -> np.ndarray:
    """Gamma of the two-step estimates (Muthén 1984): ``sc1`` the casewise scores of the
    univariate parameters (n x q1; ``owner`` the item of each column), ``sc_cor`` those of
    the correlations (n x pairs), ``a21`` their cross terms (pairs x q1). The Jacobian A is
    block-triangular: A11 the outer product of the scores within each item (lavaan's
    "sparse" A11), A22 the diagonal of the correlations' outer product; each case's
    influence is ``SC A^-T`` and ``Gamma = N IF'IF``."""
    a11 = sc1.T @ sc1
    a11 = np.where(owner[:, None] == owner[None, :], a11, 0.0)
    a11_inv = np.linalg.inv(a11)
    a22 = np.einsum("nr,nr->r", sc_cor, sc_cor)
    if np.any(a22 <= 0):
        bad = int(np.argmax(a22 <= 0))
        raise PsychometricsError(
            "degenerate-table",
            f"The 'data' parameter of {func}: the table of items {pairs[bad][0]!r} x "
            f"{pairs[bad][1]!r} carries no information on their polychoric correlation.",
        )
    a21_inv = -(a21 / a22[:, None]) @ a11_inv
    infl = np.hstack([sc1 @ a11_inv, sc1 @ a21_inv.T + sc_cor / a22[None, :]])
    return len(sc1) * (infl.T @ infl)


def category_codes(values: np.ndarray, names: list[str], max_categories: int, func: str):
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


def polychorics(tables: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ML correlation of each table, thresholds fixed: vectorized Newton on the exact
    log-likelihood (second derivative from the cell probabilities), bounded by +-0.999.

    ``tables`` (r, ..., ka, kb) with the bounds ``a`` (r, ..., ka + 1) and ``b`` (r, ...,
    kb + 1): one correlation per leading index, the log-likelihood summed over the other
    axes (a table per pair; or, given covariates, one 1 x 1 cell per case with its own
    bounds: :mod:`psychometrics.engine.conditional`)."""
    ac = np.clip(a, -BIG, BIG)[..., :, None]
    bc = np.clip(b, -BIG, BIG)[..., None, :]
    axes = tuple(range(1, tables.ndim))
    rho = np.zeros(len(tables))
    for _ in range(200):
        r3 = rho.reshape((-1,) + (1,) * (tables.ndim - 1))
        cdf = bvn_cdf(ac, bc, r3)
        pdf = bvn_pdf(ac, bc, r3)
        pi = cdf[..., 1:, 1:] - cdf[..., :-1, 1:] - cdf[..., 1:, :-1] + cdf[..., :-1, :-1]
        dpi = pdf[..., 1:, 1:] - pdf[..., :-1, 1:] - pdf[..., 1:, :-1] + pdf[..., :-1, :-1]
        # d phi2 / d rho = phi2 * g(h, k, rho)
        s2 = 1.0 - r3**2
        g = (r3 / s2 + (ac * bc) / s2
             - r3 * (ac**2 - 2 * r3 * ac * bc + bc**2) / s2**2) * pdf
        g = np.where(np.abs(ac) >= BIG, 0.0, g)
        g = np.where(np.abs(bc) >= BIG, 0.0, g)
        d2pi = g[..., 1:, 1:] - g[..., :-1, 1:] - g[..., 1:, :-1] + g[..., :-1, :-1]
        used = pi > 1e-300
        safe = np.where(used, pi, 1.0)
        score = np.where(used, tables * dpi / safe, 0.0).sum(axis=axes)
        hess = np.where(used, tables * (d2pi / safe - (dpi / safe) ** 2), 0.0).sum(axis=axes)
        info = np.where(used, tables * (dpi / safe) ** 2, 0.0).sum(axis=axes)
        # Newton where the log-likelihood is concave, the outer product of the scores otherwise
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


