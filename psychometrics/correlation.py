"""Correlation matrices and factorability: Pearson/Spearman, polychoric, KMO, Bartlett.

Every function takes a DataFrame with one numeric column per item (missing as NA) and
returns labelled pandas objects, matching R's psych (and lavaan for the polychoric).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from psychometrics._checks import (
    as_items,
    check_choice,
    complete_items,
    pairwise_counts,
)
from psychometrics.errors import PsychometricsError

__all__ = [
    "KMO",
    "Bartlett",
    "Polychoric",
    "bartlett",
    "correlation",
    "kmo",
    "polychoric",
    "polychoric_full",
]

_MAX_RHO = 0.9999  # bound of the polychoric search (psych searches (-1, 1))


# --------------------------------------------------------------------------- Pearson


def correlation(
    data: pd.DataFrame, method: str = "pearson", missing: str = "listwise"
) -> pd.DataFrame:
    """Item correlation matrix (items x items).

    ``method``: ``"pearson"`` or ``"spearman"``. ``missing``: ``"listwise"`` (rows with
    every item answered, the default) or ``"pairwise"`` (each pair on the rows where both
    are answered). The number of rows used is in ``result.attrs["n"]`` (an int for
    listwise, an items x items DataFrame of counts for pairwise).

    Example
    -------
    >>> r = pm.correlation(df[["A1", "A2", "A3"]], missing="pairwise")
    >>> # R: cor(df[, c("A1", "A2", "A3")], use = "pairwise")
    """
    check_choice(method, name="method", choices=("pearson", "spearman"), func="correlation")
    check_choice(missing, name="missing", choices=("listwise", "pairwise"), func="correlation")
    if missing == "listwise":
        x, _ = complete_items(data, func="correlation", min_rows=3, min_items=2)
        values = x.to_numpy()
        if method == "spearman":
            values = np.apply_along_axis(stats.rankdata, 0, values)
        r = np.corrcoef(values, rowvar=False)
        out = pd.DataFrame(r, index=x.columns, columns=x.columns)
        out.attrs["n"] = len(x)
        return out
    x = as_items(data, func="correlation", min_rows=3, min_items=2)
    if method == "spearman":
        x = x.rank()
    counts = pairwise_counts(x)
    if (counts.to_numpy() < 3).any():
        i, j = np.argwhere(counts.to_numpy() < 3)[0]
        raise PsychometricsError(
            "too-few-rows",
            f"The 'data' parameter of correlation must have at least 3 rows answering both "
            f"items of every pair; {x.columns[i]!r} and {x.columns[j]!r} share "
            f"{counts.iat[i, j]}.",
        )
    out = x.corr(method="pearson", min_periods=3)
    out.attrs["n"] = counts
    return out


# --------------------------------------------------------------------------- KMO, Bartlett


@dataclass(frozen=True)
class KMO:
    """Kaiser-Meyer-Olkin measure of sampling adequacy (psych::KMO).

    ``overall`` is the overall MSA, ``items`` the MSA of each item, ``n`` the rows used.
    """

    overall: float
    items: pd.Series
    n: int

    def summary(self) -> str:
        lines = [f"Kaiser-Meyer-Olkin MSA (n = {self.n}): overall {self.overall:.3f}"]
        lines += [f"  {name:<12} {v:.3f}" for name, v in self.items.items()]
        return "\n".join(lines)


def kmo(data: pd.DataFrame) -> KMO:
    """Kaiser-Meyer-Olkin measure of sampling adequacy on the Pearson correlations.

    Rows with a missing item are dropped (listwise), as make_reference.R does.
    MSA = sum r^2 / (sum r^2 + sum q^2) over the off-diagonal correlations r and partial
    correlations q (anti-image), overall and per item.

    Example
    -------
    >>> pm.kmo(df).overall
    >>> # R: psych::KMO(cor(df))$MSA ;  $MSAi per item
    """
    x, _ = complete_items(data, func="kmo", min_rows=3, min_items=2)
    r = np.corrcoef(x.to_numpy(), rowvar=False)
    q = _inverse(r, "kmo")
    d = 1.0 / np.sqrt(np.diag(q))
    partial = q * d[:, None] * d[None, :]
    np.fill_diagonal(partial, 0.0)
    r0 = r.copy()
    np.fill_diagonal(r0, 0.0)
    r2, q2 = r0**2, partial**2
    overall = float(r2.sum() / (r2.sum() + q2.sum()))
    per_item = r2.sum(axis=0) / (r2.sum(axis=0) + q2.sum(axis=0))
    return KMO(overall=overall, items=pd.Series(per_item, index=x.columns, name="msa"), n=len(x))


@dataclass(frozen=True)
class Bartlett:
    """Bartlett's test that the correlation matrix is an identity (psych::cortest.bartlett)."""

    chi2: float
    df: int
    p: float
    n: int

    def summary(self) -> str:
        return f"Bartlett's test of sphericity: chi2({self.df}) = {self.chi2:.2f}, p = {self.p:.3g}, n = {self.n}"


def bartlett(data: pd.DataFrame) -> Bartlett:
    """Bartlett's test of sphericity on the Pearson correlations of listwise rows.

    chi2 = -(n - 1 - (2p + 5) / 6) log|R|, df = p(p - 1) / 2.

    Example
    -------
    >>> pm.bartlett(df).chi2
    >>> # R: psych::cortest.bartlett(cor(df), n = nrow(df))$chisq
    """
    x, _ = complete_items(data, func="bartlett", min_rows=3, min_items=2)
    n, p = x.shape
    r = np.corrcoef(x.to_numpy(), rowvar=False)
    sign, logdet = np.linalg.slogdet(r)
    if sign <= 0:
        raise PsychometricsError(
            "singular-matrix",
            "The 'data' parameter of bartlett gives a singular correlation matrix (an item "
            "is a linear combination of others); Bartlett's test is undefined.",
        )
    chi2 = -logdet * (n - 1 - (2 * p + 5) / 6)
    df = p * (p - 1) // 2
    return Bartlett(chi2=float(chi2), df=int(df), p=float(stats.chi2.sf(chi2, df)), n=int(n))


def _inverse(r: np.ndarray, func: str) -> np.ndarray:
    try:
        q = np.linalg.inv(r)
    except np.linalg.LinAlgError:
        q = None
    if q is None or not np.all(np.isfinite(q)) or np.any(np.diag(q) <= 0):
        raise PsychometricsError(
            "singular-matrix",
            f"The 'data' parameter of {func} gives a singular correlation matrix (an item is "
            "a linear combination of others); it cannot be inverted.",
        )
    return q


# --------------------------------------------------------------------------- polychoric


@dataclass(frozen=True)
class Polychoric:
    """Polychoric correlations and thresholds (two-step ML, as psych::polychoric / lavCor).

    Attributes
    ----------
    rho : DataFrame
        items x items polychoric correlations (smoothed when ``smoothed``).
    thresholds : DataFrame
        items x ``t1..tK``: normal thresholds of each item (NaN past an item's categories).
    n : int
        Rows with at least one answer (all rows when complete).
    pairwise_n : DataFrame
        items x items: rows answering both items (the table each rho comes from).
    is_pd : bool
        Whether the raw (unsmoothed) matrix is positive definite.
    smoothed : bool
        Whether ``rho`` was smoothed (psych::cor.smooth) because it was not positive definite.
    min_eigenvalue : float
        Smallest eigenvalue of the raw matrix.
    """

    rho: pd.DataFrame
    thresholds: pd.DataFrame
    n: int
    pairwise_n: pd.DataFrame
    is_pd: bool
    smoothed: bool
    min_eigenvalue: float

    def summary(self) -> str:
        state = "positive definite" if self.is_pd else (
            "NOT positive definite" + (" (smoothed)" if self.smoothed else ""))
        return (
            f"Polychoric correlations: {self.rho.shape[0]} items, n = {self.n}, {state}, "
            f"smallest eigenvalue {self.min_eigenvalue:.4g}\n" + self.rho.round(3).to_string()
        )


def polychoric(data: pd.DataFrame, smooth: bool = True) -> pd.DataFrame:
    """Polychoric correlation matrix (items x items); see :func:`polychoric_full`.

    Example
    -------
    >>> pm.polychoric(df)
    >>> # R: psych::polychoric(df, correct = 0)$rho
    """
    return polychoric_full(data, smooth=smooth).rho


def polychoric_full(data: pd.DataFrame, smooth: bool = True, max_categories: int = 12) -> Polychoric:
    """Polychoric correlations with thresholds, by two-step maximum likelihood.

    1. Thresholds of each item: ``qnorm`` of its cumulative category proportions, over
       every row where the item is answered (psych's ``global = TRUE``). Only observed
       values are categories: an unused answer code merges with its neighbour, as in
       psych and lavaan.
    2. Each rho maximizes the bivariate-normal likelihood of the pair's contingency table
       (rows answering both items), thresholds held fixed; no continuity correction for
       empty cells (psych ``correct = 0``). All pairs are solved at once by vectorized
       Fisher scoring, with Genz's (2004) bivariate normal CDF.

    If the matrix is not positive definite, ``is_pd`` is False and, when ``smooth``
    (default, as psych), ``rho`` is smoothed as psych::cor.smooth does (eigenvalues below
    1e-12 set to 1e-10, rescaled to sum to the number of items, back to a correlation
    matrix). Items must have 2 to ``max_categories`` distinct values.

    Example
    -------
    >>> pc = pm.polychoric_full(df)
    >>> pc.rho, pc.thresholds
    >>> # R: p <- psych::polychoric(df, correct = 0); p$rho; p$tau
    >>> # R: lavaan::lavCor(df, ordered = names(df))
    """
    x = as_items(data, func="polychoric", min_rows=3, min_items=2)
    names = list(x.columns)
    values = x.to_numpy()
    p = values.shape[1]
    codes = np.full(values.shape, -1, dtype=np.int64)
    n_cat = np.zeros(p, dtype=np.int64)
    for j in range(p):
        ok = ~np.isnan(values[:, j])
        levels, inv = np.unique(values[ok, j], return_inverse=True)
        if len(levels) > max_categories:
            raise PsychometricsError(
                "too-many-categories",
                f"The 'data' parameter of polychoric must hold ordinal items with at most "
                f"{max_categories} distinct values (max_categories); column {names[j]!r} has "
                f"{len(levels)}.",
            )
        codes[ok, j] = inv
        n_cat[j] = len(levels)
    k = int(n_cat.max())
    # one-hot coding: a row missing an item has no 1 for it, so O'O holds every
    # pairwise-complete contingency table at once
    onehot = np.zeros((values.shape[0], p * k), dtype=np.float64)
    rows, cols = np.nonzero(codes >= 0)
    onehot[rows, cols * k + codes[rows, cols]] = 1.0
    tables = (onehot.T @ onehot).reshape(p, k, p, k).transpose(0, 2, 1, 3)  # p, p, k, k
    # thresholds from each item's marginal counts (all its answered rows)
    marg = onehot.sum(axis=0).reshape(p, k)
    cum = np.cumsum(marg, axis=1) / marg.sum(axis=1, keepdims=True)
    tau = np.full((p, k - 1), np.nan)
    grid = np.full((p, k + 1), np.inf)  # -inf, t1..t(K_j - 1), +inf, +inf...
    grid[:, 0] = -np.inf
    for j in range(p):
        t = special.ndtri(cum[j, : n_cat[j] - 1])
        tau[j, : n_cat[j] - 1] = t
        grid[j, 1 : n_cat[j]] = t
    iu, ju = np.triu_indices(p, 1)
    pair_counts = np.einsum("ijkl->ij", tables)
    thin = np.flatnonzero(pair_counts[iu, ju] < 3)
    if thin.size:
        i, j = iu[thin[0]], ju[thin[0]]
        raise PsychometricsError(
            "too-few-rows",
            f"The 'data' parameter of polychoric must have at least 3 rows answering both "
            f"items of every pair; {names[i]!r} and {names[j]!r} share {int(pair_counts[i, j])}.",
        )
    rho_pairs = _polychoric_pairs(tables[iu, ju], grid[iu], grid[ju])
    raw = np.eye(p)
    raw[iu, ju] = rho_pairs
    raw[ju, iu] = rho_pairs
    min_eig = float(np.linalg.eigvalsh(raw)[0])
    is_pd = min_eig > np.finfo(float).eps
    rho = raw if (is_pd or not smooth) else _cor_smooth(raw)
    pair_n = pd.DataFrame(np.round(pair_counts).astype(np.int64), index=names, columns=names)
    return Polychoric(
        rho=pd.DataFrame(rho, index=names, columns=names),
        thresholds=pd.DataFrame(tau, index=names, columns=[f"t{i + 1}" for i in range(k - 1)]),
        n=int((codes >= 0).any(axis=1).sum()),
        pairwise_n=pair_n,
        is_pd=bool(is_pd),
        smoothed=bool(smooth and not is_pd),
        min_eigenvalue=min_eig,
    )


def _cor_smooth(r: np.ndarray, eig_tol: float = 1e-12) -> np.ndarray:
    """psych::cor.smooth: lift tiny eigenvalues, rescale, back to a correlation matrix."""
    values, vectors = np.linalg.eigh(r)
    values = np.where(values < eig_tol, 100 * eig_tol, values)
    values = values * r.shape[0] / values.sum()
    c = (vectors * values) @ vectors.T
    d = 1.0 / np.sqrt(np.diag(c))
    out = c * d[:, None] * d[None, :]
    np.fill_diagonal(out, 1.0)
    return out


def _polychoric_pairs(tables: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """ML rho of many contingency tables at once, thresholds fixed.

    tables: (P, K, K) counts; a, b: (P, K + 1) threshold grids (with -inf/+inf ends; +inf
    repeated past an item's last category, giving empty zero-probability cells).
    Fisher scoring on rho, which is well behaved for this one-parameter likelihood.
    """
    big = 8.0  # Phi(-8) ~ 6e-16: the grid ends stand for -inf / +inf
    ac = np.clip(a, -big, big)[:, :, None]
    bc = np.clip(b, -big, big)[:, None, :]
    n = tables.sum(axis=(1, 2))
    # start at the Pearson correlation of the category midpoints' normal scores
    rho = _start_values(tables, a, b)
    for _ in range(100):
        cdf = bvn_cdf(ac, bc, rho[:, None, None])
        pdf = bvn_pdf(ac, bc, rho[:, None, None])
        pi = cdf[:, 1:, 1:] - cdf[:, :-1, 1:] - cdf[:, 1:, :-1] + cdf[:, :-1, :-1]
        dpi = pdf[:, 1:, 1:] - pdf[:, :-1, 1:] - pdf[:, 1:, :-1] + pdf[:, :-1, :-1]
        used = pi > 1e-300
        safe = np.where(used, pi, 1.0)
        score = np.where(used, tables * dpi / safe, 0.0).sum(axis=(1, 2))
        info = n * np.where(used, dpi**2 / safe, 0.0).sum(axis=(1, 2))
        step = np.where(info > 0, score / np.where(info > 0, info, 1.0), 0.0)
        new = np.clip(rho + step, -_MAX_RHO, _MAX_RHO)
        done = np.abs(new - rho) < 1e-10
        rho = new
        if done.all():
            break
    return rho


def _start_values(tables: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of normal scores at the middle of each category (per table)."""
    def mids(g):
        lo = np.clip(g[:, :-1], -3.0, 3.0)
        hi = np.clip(g[:, 1:], -3.0, 3.0)
        return (lo + hi) / 2

    sa, sb = mids(a), mids(b)
    n = tables.sum(axis=(1, 2))
    pa = tables.sum(axis=2) / n[:, None]
    pb = tables.sum(axis=1) / n[:, None]
    ma = (pa * sa).sum(1)
    mb = (pb * sb).sum(1)
    va = (pa * (sa - ma[:, None]) ** 2).sum(1)
    vb = (pb * (sb - mb[:, None]) ** 2).sum(1)
    cov = np.einsum("pij,pi,pj->p", tables / n[:, None, None], sa - ma[:, None], sb - mb[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov / np.sqrt(va * vb)
    return np.clip(np.nan_to_num(r), -0.95, 0.95)


# Gauss-Legendre nodes and weights on [-1, 1] for 6, 12 and 20 points (Genz 2004 uses
# the same three orders); computed once, lazily.
_GL: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _gauss_legendre(m: int) -> tuple[np.ndarray, np.ndarray]:
    if m not in _GL:
        _GL[m] = np.polynomial.legendre.leggauss(m)
    return _GL[m]


def bvn_pdf(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Standard bivariate normal density phi2(h, k; r), broadcast (= d Phi2 / d r)."""
    s = 1.0 - r * r
    return np.exp(-(h * h - 2 * r * h * k + k * k) / (2 * s)) / (2 * np.pi * np.sqrt(s))


def bvn_cdf(h: np.ndarray, k: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Standard bivariate normal CDF P(X < h, Y < k) with correlation r, vectorized.

    Genz's (2004) method: for |r| < 0.925 Gauss-Legendre quadrature of Plackett's
    integral over asin(r); for |r| >= 0.925 Drezner & Wesolowsky's expansion around
    |r| = 1 plus a quadrature of the remainder. Absolute error about 1e-15.
    Works on finite h, k (use about +-8 for infinite limits).
    """
    h, k, r = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float), np.asarray(r, float))
    # P(X < h, Y < k) = L(-h, -k, r) with L the upper orthant probability
    uh, uk = -h, -k
    out = np.empty(h.shape)
    ar = np.abs(r)
    low = ar < 0.925
    if low.any():
        out[low] = _bvn_upper_low(uh[low], uk[low], r[low])
    high = ~low
    if high.any():
        out[high] = _bvn_upper_high(uh[high], uk[high], r[high])
    return np.clip(out, 0.0, 1.0)


def _bvn_upper_low(h, k, r):
    """Upper orthant P(X > h, Y > k) for |r| < 0.925 (Plackett's integral over asin r)."""
    x, w = _gauss_legendre(20)
    hk = h * k
    hs = (h * h + k * k) / 2
    asr = np.arcsin(r)
    # nodes mapped from [-1, 1] to [0, asr]
    theta = asr[..., None] * (x + 1) / 2
    sn = np.sin(theta)
    terms = w * np.exp((sn * hk[..., None] - hs[..., None]) / (1 - sn * sn))
    return terms.sum(-1) * asr / (4 * np.pi) + special.ndtr(-h) * special.ndtr(-k)


def _bvn_upper_high(h, k, r):
    """Upper orthant P(X > h, Y > k) for |r| >= 0.925 (Drezner-Wesolowsky / Genz)."""
    x, w = _gauss_legendre(20)
    neg = r < 0
    k = np.where(neg, -k, k)
    hk = h * k
    bvn = np.zeros(h.shape)
    lt1 = np.abs(r) < 1
    as_ = (1 - r) * (1 + r)
    a = np.sqrt(np.where(lt1, as_, 1.0))
    bs = (h - k) ** 2
    c = (4 - hk) / 8
    d = (12 - hk) / 16
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        asafe = np.where(lt1, as_, 1.0)
        val = a * np.exp(-(bs / asafe + hk) / 2) * (
            1 - c * (bs - asafe) * (1 - d * bs / 5) / 3 + c * d * asafe * asafe / 5
        )
        b = np.sqrt(bs)
        corr = (
            np.exp(-hk / 2) * np.sqrt(2 * np.pi) * special.ndtr(-b / a) * b
            * (1 - c * bs * (1 - d * bs / 5) / 3)
        )
        val = np.where(hk > -160, val - corr, val)
        half = a / 2
        xs = (half[..., None] * (x + 1)) ** 2  # nodes on (0, a)
        rs = np.sqrt(1 - xs)
        asr = -(bs[..., None] / xs + hk[..., None]) / 2
        term = np.where(
            asr > -100,
            half[..., None] * w * np.exp(asr)
            * (np.exp(-hk[..., None] * (1 - rs) / (2 * (1 + rs))) / rs
               - (1 + c[..., None] * xs * (1 + d[..., None] * xs))),
            0.0,
        )
        val = val + term.sum(-1)
    bvn = np.where(lt1, -val / (2 * np.pi), 0.0)
    pos = ~neg
    bvn = np.where(pos, bvn + special.ndtr(-np.maximum(h, k)), bvn)
    # r < 0 (k was negated above): P(X > h, Y > k) = P(X > h, -Y < -k) pieces
    negval = np.where(k > h, -bvn + special.ndtr(k) - special.ndtr(h), -bvn)
    return np.where(neg, negval, bvn)
