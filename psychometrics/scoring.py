"""Reverse keying, scale scores and careless-responding indices, like R's psych and careless.

Every function takes a DataFrame with one column per item (numbers, missing as NA), keeps
its index, and never modifies it::

    import psychometrics as pm
    x = pm.reverse_key(data, ["TRU1", "-TRU2"], low=1, high=5)
    scores = pm.score(data, {"TRU": ["TRU1", "-TRU2", "TRU3"]}, low=1, high=5)
    pm.careless(data, items, low=1, high=5).flagged
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics._checks import check_columns, numeric_column
from psychometrics.errors import PsychometricsError
from psychometrics.keys import Keys, KeysError, check_scales, load_keys

__all__ = ["Careless", "careless", "reverse_key", "score"]

#: Tukey's (1977) "far out" fence, in interquartile ranges above the third quartile.
OUTLIER_FENCE = 3.0

#: Flag codes of :func:`careless`, in the order they are joined.
FLAGS = ("straightlining", "low-irv", "multivariate-outlier", "too-few-answers")


def reverse_key(data: pd.DataFrame, keys, low=None, high=None) -> pd.DataFrame:
    """Recode the reverse-keyed items (``high + low - x``); every other column is kept as is.

    Parameters
    ----------
    data : DataFrame
        One column per item; other columns are allowed and left untouched.
    keys : list of str, mapping scale -> list of str, or Keys
        Keyed items, a leading ``-`` marking reverse keying (``["TRU1", "-TRU2"]``).
    low, high : number
        The response range (default: ``keys.min``/``keys.max`` of a :class:`Keys`).

    Returns
    -------
    DataFrame
        A copy of ``data`` with the reverse-keyed columns recoded (as float; NA kept).

    Raises
    ------
    PsychometricsError
        ``missing-column`` (a keyed item is not in ``data``), ``conflicting-key`` (an item
        keyed both ways), ``non-numeric`` or ``out-of-range`` (in a recoded column).

    Examples
    --------
    >>> import pandas as pd, psychometrics as pm
    >>> d = pd.DataFrame({"TRU1": [1, 5], "TRU2": [2, None]})
    >>> pm.reverse_key(d, ["TRU1", "-TRU2"], low=1, high=5)["TRU2"].tolist()
    [4.0, nan]

    In R: ``psych::reverse.code(c(1, -1), d, mini = 1, maxi = 5)``.
    """
    if isinstance(keys, list | tuple):
        keys = {"keys": list(keys)}
    scales, kmin, kmax = _scales(keys, "reverse_key")
    low, high = _range(low, high, kmin, kmax, "reverse_key")
    sign: dict[str, str] = {}
    for keyed in scales.values():
        for k in keyed:
            item, rev = k.removeprefix("-"), k.startswith("-")
            if sign.setdefault(item, rev) != rev:
                raise PsychometricsError(
                    "conflicting-key",
                    f"The 'keys' parameter of reverse_key keys item {item!r} both ways "
                    "('-' in one scale, not in another); recode per scale with score() instead.",
                )
    rev = [item for item, r in sign.items() if r]
    x = _matrix(data, list(sign), low, high, "reverse_key")
    out = data.copy()
    pos = {item: j for j, item in enumerate(sign)}
    for item in rev:
        out[item] = high + low - x[:, pos[item]]
    return out


def score(
    data: pd.DataFrame, keys, low=None, high=None, min_answered: float = 0.5, *, counts=True
) -> pd.DataFrame:
    """Scale scores: the mean of each respondent's answered items, reverse keyed.

    A score is reported when the share of the scale's ``k`` items answered is at least
    ``min_answered`` (``answered / k >= min_answered``, i.e. at least
    ``ceil(min_answered * k)`` items) and at least one item is answered; otherwise NA.
    The default 0.5 needs 4 of 8 items, 3 of 5. ``min_answered=0`` scores any row with one
    answered item, which is ``psych::scoreItems(impute = "none")``.

    Parameters
    ----------
    data : DataFrame
        One column per item (numbers, missing as NA); other columns are ignored.
    keys : mapping scale -> list of str, or Keys
        A leading ``-`` marks a reverse-keyed item (recoded ``high + low - x``).
    low, high : number
        The response range (default: ``keys.min``/``keys.max`` of a :class:`Keys`).
        Any value outside it is an error.
    min_answered : float in [0, 1]
        The share of a scale's items that must be answered for a score.
    counts : bool
        Add, after the score columns, one ``<scale>_n`` column per scale: the number of
        items answered.

    Returns
    -------
    DataFrame
        Indexed like ``data``: the scale means (float), in key order, then the counts (int).

    Raises
    ------
    PsychometricsError
        ``missing-column`` (key items not in ``data``, all named), ``non-numeric``,
        ``out-of-range`` (names the column and a row), bad keys (see :class:`KeysError`).

    Examples
    --------
    >>> import pandas as pd, psychometrics as pm
    >>> d = pd.DataFrame({"TRU1": [5, 4, None], "TRU2": [1, None, None]})
    >>> pm.score(d, {"TRU": ["TRU1", "-TRU2"]}, low=1, high=5)
       TRU  TRU_n
    0  5.0      2
    1  4.0      1
    2  NaN      0

    In R (with ``min_answered=0``)::

        psych::scoreItems(list(TRU = c("TRU1", "-TRU2")), d, impute = "none",
                          totals = FALSE, min = 1, max = 5)$scores
    """
    if isinstance(keys, list | tuple):
        raise PsychometricsError(
            "bad-keys",
            "The 'keys' parameter of score must map each scale name to its items, e.g. "
            f"{{'TRU': ['TRU1', '-TRU2']}}; got a {type(keys).__name__}.",
        )
    scales, kmin, kmax = _scales(keys, "score")
    low, high = _range(low, high, kmin, kmax, "score")
    share = _share(min_answered, "min_answered", "score")
    if counts:
        clash = set(scales) & {f"{s}_n" for s in scales}
        if clash:
            raise PsychometricsError(
                "duplicate-column",
                f"The 'keys' parameter of score names a scale {sorted(clash)[0]!r} that clashes "
                "with the count column of another scale; rename it or pass counts=False.",
            )
    items = list(dict.fromkeys(k.removeprefix("-") for ks in scales.values() for k in ks))
    x = _matrix(data, items, low, high, "score")
    pos = {item: j for j, item in enumerate(items)}
    means, ns = {}, {}
    for scale, keyed in scales.items():
        xs = x[:, [pos[k.removeprefix("-")] for k in keyed]]
        rev = np.array([k.startswith("-") for k in keyed])
        xs = np.where(rev, high + low - xs, xs)
        answered = ~np.isnan(xs)
        n = answered.sum(axis=1)
        total = np.where(answered, xs, 0.0).sum(axis=1)
        ok = (n > 0) & (n / len(keyed) >= share)
        means[scale] = np.divide(total, n, out=np.full(len(n), np.nan), where=ok)
        ns[f"{scale}_n"] = n.astype("int64")
    out = pd.DataFrame(means, index=data.index)
    if counts:
        out = pd.concat([out, pd.DataFrame(ns, index=data.index)], axis=1)
    return out


@dataclass(frozen=True)
class Careless:
    """Careless-responding indices, one row per respondent (see :func:`careless`).

    Attributes
    ----------
    table : DataFrame
        Indexed like the data: ``n_answered``, ``longstring``, ``longstring_avg``, ``irv``,
        ``d2``, ``d2_df``, ``d2_p``, and ``flags`` (codes joined by ``";"``, ``""`` if none).
    flagged : Index
        The respondents with at least one flag.
    longstring_cut, irv_cut, p_cut, min_answered : float
        The thresholds used.
    """

    table: pd.DataFrame
    flagged: pd.Index
    longstring_cut: int
    irv_cut: float
    p_cut: float
    min_answered: float


def careless(
    data: pd.DataFrame,
    items=None,
    *,
    low=None,
    high=None,
    longstring_share: float = 0.5,
    irv_cut: float | None = None,
    p_cut: float = 0.001,
    min_answered: float = 0.5,
    outlier: str = "fence",
) -> Careless:
    """Screen respondents for careless (insufficient-effort) responding.

    Indices, per respondent, over the ``k`` items in the order given (questionnaire order;
    raw answers, *not* reverse keyed):

    - ``longstring``: the longest run of identical consecutive answers; a missing answer
      breaks a run (0 when nothing is answered). ``longstring_avg``: the mean length of
      the runs of answered items (Johnson 2005; Meade & Craig 2012).
    - ``irv``: intra-individual response variability, the standard deviation (n - 1
      denominator, as R's ``sd``) of the answered items; NA with fewer than 2 answers
      (Dunn, Heggestad, Shanock & Theilgard 2018).
    - ``d2``: the squared Mahalanobis distance from the item means, with the means and the
      pairwise-complete covariance (n - 1) of all rows (of the complete rows when that
      matrix is not positive definite); a row with missing answers is measured on its
      answered items only (the matching sub-block of that covariance),
      ``d2_df`` the number of items used, ``d2_p`` its chi-square upper tail. NA for all
      rows when there are no more complete rows than items or the covariance is singular
      (too few respondents to judge).
    - ``n_answered``: the number of items answered.

    Flags (stable codes, joined by ``";"`` in this order):

    - ``straightlining``: ``longstring >= longstring_cut``, the smallest whole number of
      items ``>= longstring_share * k`` (at least 2). The default 0.5 is Curran's (2016)
      rule of thumb: a string of identical answers of half the scale length or more.
    - ``low-irv``: ``irv < irv_cut``. IRV has no published universal cut (Dunn et al. 2018
      advise inspecting the low tail); the default is 10% of the response range,
      ``0.1 * (high - low)`` (0.4 on a 1-5 scale), or of the observed range when ``low``
      and ``high`` are not given: answers that hardly vary across mixed-keyed items.
    - ``multivariate-outlier``: with ``outlier="fence"`` (default), ``d2`` (carried to the
      full item count through its p-value) beyond Tukey's (1977) far-out fence of this
      sample, ``Q3 + 3 IQR``; with ``outlier="chi2"``, ``d2_p < p_cut`` (.001, Tabachnick &
      Fidell 2013). Likert answers are discrete and bounded, so D² has a far heavier tail
      than the chi-square: in this project's simulations of a 40-item form (n = 300), the
      chi-square rule flagged about 11% of attentive respondents, the fence about 0.3%. A
      flag asks for a look, not for deletion; random responders are better caught by
      ``irv``/``longstring`` when items are mixed-keyed (Meade & Craig 2012).
    - ``too-few-answers``: ``n_answered / k < min_answered`` (the rule of :func:`score`).

    Parameters
    ----------
    data : DataFrame
    items : list of str, optional
        The item columns, in questionnaire order (default: every column).
    low, high : number, optional
        The response range; when given, any value outside it is an error.

    Returns
    -------
    Careless

    Examples
    --------
    >>> res = pm.careless(data, items, low=1, high=5)  # doctest: +SKIP
    >>> res.table.loc[res.flagged, "flags"]  # doctest: +SKIP

    In R (package careless; ``stats::mahalanobis`` on complete data)::

        careless::longstring(x, avg = TRUE); careless::irv(x)
        d2 <- mahalanobis(x, colMeans(x), cov(x)); p <- pchisq(d2, ncol(x), lower.tail = FALSE)
    """
    items = _careless_items(data, items)
    if low is not None or high is not None:
        low, high = _range(low, high, None, None, "careless")
    share = _share(longstring_share, "longstring_share", "careless")
    min_share = _share(min_answered, "min_answered", "careless")
    p_cut = _share(p_cut, "p_cut", "careless")
    x = _matrix(data, items, low, high, "careless")
    k = x.shape[1]
    ind = _careless_indices(x)
    is_outlier = _outliers(ind["d2_p"], ~np.isnan(ind["d2"]), k, outlier, p_cut)
    ls_cut = max(2, _at_least(share, k))
    if irv_cut is None:
        seen = x[~np.isnan(x)]
        span = (high - low) if low is not None else float(np.ptp(seen)) if seen.size else 0.0
        irv_cut = 0.1 * span
    reasons = np.stack([ind["longstring"] >= ls_cut, ind["irv"] < irv_cut,  # NaN -> False
                        is_outlier, ind["n_answered"] / k < min_share], axis=1)
    codes = np.array(FLAGS, dtype=object)
    flags = [";".join(codes[r]) for r in reasons]  # text assembly only; the numbers are vectorized
    table = pd.DataFrame({**ind, "flags": flags}, index=data.index)
    flagged = data.index[reasons.any(axis=1)]
    return Careless(table, flagged, int(ls_cut), float(irv_cut), p_cut, min_share)


def _careless_indices(x: np.ndarray) -> dict:
    """The indices of :func:`careless`, per row of ``x`` (NaN = not answered), in the
    order of its table: ``n_answered longstring longstring_avg irv d2 d2_df d2_p``."""
    answered = ~np.isnan(x)
    n_ans = answered.sum(axis=1)
    longest, ls_avg = _longstring(x, n_ans)
    d2, d2_df = _mahalanobis(x, answered)
    d2_p = np.full(len(x), np.nan)
    has = ~np.isnan(d2)
    d2_p[has] = stats.chi2.sf(d2[has], d2_df[has])
    return {"n_answered": n_ans.astype("int64"), "longstring": longest.astype("int64"),
            "longstring_avg": ls_avg, "irv": _irv(x, answered, n_ans), "d2": d2,
            "d2_df": d2_df.astype("int64"), "d2_p": d2_p}


def _careless_items(data: object, items) -> list:
    """The item columns :func:`careless` screens (every column by default), at least two."""
    if not isinstance(data, pd.DataFrame):
        raise PsychometricsError(
            "not-a-dataframe",
            f"The 'data' parameter of careless must be a pandas DataFrame; got {type(data).__name__}.",
        )
    items = list(data.columns) if items is None else list(items)
    if len(items) < 2:
        raise PsychometricsError(
            "too-few-items",
            f"The 'items' parameter of careless must name at least 2 items; got {len(items)}.",
        )
    return items


def _longstring(x: np.ndarray, n_ans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longest run of equal consecutive answers and mean run length, per row (NaN breaks runs)."""
    n, k = x.shape
    same = x[:, 1:] == x[:, :-1]
    run = np.cumsum(same, axis=1)
    run = run - np.maximum.accumulate(np.where(same, 0, run), axis=1)  # reset at breaks
    longest = np.where(n_ans > 0, 1 + (run.max(axis=1) if k > 1 else 0), 0)
    # each equal neighbour pair joins two answers into one run: runs = answered - pairs
    n_runs = n_ans - same.sum(axis=1)
    ls_avg = np.divide(n_ans, n_runs, out=np.full(n, np.nan), where=n_runs > 0)
    return longest, ls_avg


def _irv(x: np.ndarray, answered: np.ndarray, n_ans: np.ndarray) -> np.ndarray:
    """Intra-individual response variability: sd (n - 1) of each row's answered items."""
    n = x.shape[0]
    filled = np.where(answered, x, 0.0)
    mean = np.divide(filled.sum(axis=1), n_ans, out=np.full(n, np.nan), where=n_ans > 0)
    dev2 = np.where(answered, (x - mean[:, None]) ** 2, 0.0).sum(axis=1)
    return np.sqrt(np.divide(dev2, n_ans - 1, out=np.full(n, np.nan), where=n_ans > 1))


def _outliers(d2_p: np.ndarray, has: np.ndarray, k: int, outlier: str, p_cut: float) -> np.ndarray:
    """Multivariate outliers by the chi-square rule or Tukey's far-out fence on D² (see careless)."""
    n = d2_p.shape[0]
    if outlier == "chi2":
        return d2_p < p_cut
    if outlier != "fence":
        raise PsychometricsError(
            "bad-parameter",
            f"The 'outlier' parameter of careless must be one of 'fence', 'chi2'; got {outlier!r}.",
        )
    # D² on the full-item scale (same p-value), then Tukey's far-out fence of this sample
    q = np.full(n, np.nan)
    q[has] = stats.chi2.isf(np.clip(d2_p[has], 1e-300, 1.0), k)
    if has.sum() < 4:
        return np.zeros(n, dtype=bool)
    q1, q3 = np.nanpercentile(q, [25, 75])
    return q > q3 + OUTLIER_FENCE * (q3 - q1)  # NaN -> False


def _mahalanobis(x: np.ndarray, answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """D² of every row on its answered items.

    The mean and covariance come from every row (pairwise-complete covariance), so that a
    row with a missing answer is measured against the same sample as a complete one; when
    that matrix is not positive definite, from the complete rows only. NA when neither is
    usable (no more rows than items, or a singular covariance).
    """
    n, k = x.shape
    d2, df = np.full(n, np.nan), np.zeros(n, dtype="int64")
    if n <= k:
        return d2, df
    frame = pd.DataFrame(x)
    mu = frame.mean().to_numpy()
    cov = frame.cov(min_periods=max(3, k // 2)).to_numpy()
    if not _positive_definite(cov):
        complete = x[answered.all(axis=1)]
        if len(complete) <= k:
            return d2, df
        mu, cov = complete.mean(axis=0), np.cov(complete, rowvar=False)
        if not _positive_definite(cov):
            return d2, df
    patterns, which = np.unique(answered, axis=0, return_inverse=True)
    which = which.reshape(-1)
    for j, pat in enumerate(patterns):  # one pass per missing-data pattern, not per row
        if not pat.any():
            continue
        rows = which == j
        dev = x[np.ix_(rows, pat)] - mu[pat]
        sol = np.linalg.solve(cov[np.ix_(pat, pat)], dev.T).T
        d2[rows] = np.einsum("ij,ij->i", dev, sol)
        df[rows] = pat.sum()
    return d2, df


def _positive_definite(cov: np.ndarray) -> bool:
    if not np.isfinite(cov).all():
        return False
    try:
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return False
    return np.linalg.eigvalsh(cov)[0] > 1e-10 * max(1.0, float(np.trace(cov)))


def _at_least(share: float, k: int) -> int:
    """The smallest whole number m with m / k >= share."""
    m = int(np.ceil(share * k))
    return m - 1 if m > 0 and (m - 1) / k >= share else m


def _scales(keys, func: str) -> tuple[dict, float | None, float | None]:
    """(scale -> keyed items, keys min, keys max) from a Keys, a keys document or a mapping."""
    if isinstance(keys, Keys):
        return keys.scales, keys.min, keys.max
    if isinstance(keys, Mapping) and isinstance(keys.get("scales"), Mapping):
        k = load_keys(keys)
        return k.scales, k.min, k.max
    problems: list = []
    scales = check_scales(keys, problems, f"in the 'keys' parameter of {func}")
    if problems:
        raise KeysError(f"parameter of {func}", problems)
    return scales, None, None


def _range(low, high, kmin, kmax, func: str) -> tuple[float, float]:
    low = kmin if low is None else low
    high = kmax if high is None else high
    for name, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not np.isfinite(v):
            raise PsychometricsError(
                "invalid-value",
                f"The {name!r} parameter of {func} must be a finite number (the response "
                f"range; or give keys with min/max); got {v!r}.",
            )
    if not low < high:
        raise PsychometricsError(
            "invalid-value",
            f"The 'low' and 'high' parameters of {func} must satisfy low < high; got "
            f"low={low!r}, high={high!r}.",
        )
    return float(low), float(high)


def _share(v, name: str, func: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating) or not 0 <= v <= 1:
        raise PsychometricsError(
            "invalid-value",
            f"The {name!r} parameter of {func} must be a number between 0 and 1; got {v!r}.",
        )
    return float(v)


def _matrix(data, items: list, low, high, func: str) -> np.ndarray:
    """The item columns as a float array (NaN for missing), numeric and within [low, high]."""
    where = f"The 'data' parameter of {func}"
    if not isinstance(data, pd.DataFrame):
        raise PsychometricsError(
            "not-a-dataframe",
            f"{where} must be a pandas DataFrame with one column per item; got {type(data).__name__}.",
        )
    check_columns(data, items, name="keys" if func != "careless" else "items", func=func)
    dup = [c for c in items if isinstance(data[c], pd.DataFrame)]
    if dup:
        raise PsychometricsError(
            "duplicate-column", f"{where} must have unique column names; {dup[0]!r} appears twice."
        )
    x = np.column_stack([numeric_column(data[c], c, where).to_numpy() for c in items]) \
        if items else np.empty((len(data), 0))
    if low is None:
        bad = np.isinf(x)
        rule = "finite numbers"
    else:
        with np.errstate(invalid="ignore"):
            bad = (x < low) | (x > high)
        rule = f"values between {low:g} and {high:g} (missing as NA)"
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        i = int(np.flatnonzero(bad[:, j])[0])
        more = int(bad.sum()) - 1
        raise PsychometricsError(
            "out-of-range" if low is not None else "non-finite",
            f"{where} must hold {rule}; column {items[j]!r} holds {x[i, j]:g} at row "
            f"{data.index[i]!r}" + (f" ({more} other value{'s' * (more > 1)} too)." if more else "."),
        )
    return x
