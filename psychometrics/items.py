"""Item analysis: descriptive statistics, floor/ceiling, response frequencies, item-rest r.

One table per call, like psych::describe + psych::alpha's item statistics +
psych::response.frequencies, for the items of one or several scales.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from psychometrics._checks import as_items, check_columns, listwise
from psychometrics.errors import PsychometricsError

__all__ = ["ItemAnalysis", "item_analysis"]


@dataclass(frozen=True)
class ItemAnalysis:
    """Item statistics of a response matrix.

    Attributes
    ----------
    table : DataFrame, one row per item:
        ``scale`` (the scale the item belongs to, or "" when none),
        ``n`` (answers), ``missing_pct`` (% of rows without an answer),
        ``mean``, ``sd`` (n - 1), ``skew`` and ``kurtosis`` (psych::describe's default
        type 3: b1 = m3 / s^3 and b2 = m4 / s^4 - 3 with s the n - 1 standard deviation),
        ``min``, ``max``, ``floor_pct`` / ``ceiling_pct`` (% of answers at ``low`` / ``high``),
        ``item_rest_r`` (correlation with the sum of the other items of its scale) and
        ``alpha_if_deleted`` (raw alpha of its scale without it), both on the rows
        complete on that scale (as psych::alpha after listwise deletion).
    frequencies : DataFrame items x observed values: counts of each answer.
    proportions : DataFrame items x observed values: share of the item's answers
        (psych::response.frequencies without its ``miss`` column).
    scale_alpha : Series, raw alpha of each scale (listwise rows of that scale).
    scale_n : Series, complete rows of each scale.
    n : rows in the data
    low, high : the response range used for floor and ceiling
    """

    table: pd.DataFrame
    frequencies: pd.DataFrame
    proportions: pd.DataFrame
    n: int
    low: float
    high: float
    scale_alpha: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    scale_n: pd.Series = field(default_factory=lambda: pd.Series(dtype="int64"))

    def summary(self) -> str:
        cols = ["n", "missing_pct", "mean", "sd", "skew", "floor_pct", "ceiling_pct",
                "item_rest_r", "alpha_if_deleted"]
        head = f"Item analysis: {len(self.table)} items, n = {self.n}, range {self.low:g}-{self.high:g}\n"
        return head + self.table[cols].round(3).to_string()


def item_analysis(
    data: pd.DataFrame,
    scales: Mapping[str, Sequence[str]] | None = None,
    low: float | None = None,
    high: float | None = None,
) -> ItemAnalysis:
    """Per-item statistics: n, % missing, mean, sd, skew, kurtosis, floor/ceiling %,
    response frequencies, item-rest correlation and alpha if deleted.

    ``scales`` maps scale names to their item columns (already reverse keyed); without
    it, all columns form one scale named ``"scale"``. Items outside every scale get no
    item-rest r. ``low`` / ``high`` are the ends of the response range (e.g. 1 and 5);
    by default the smallest and largest answer observed in the data.

    Example
    -------
    >>> ia = pm.item_analysis(df, scales={"TRU": ["TRU1", "TRU2", "TRU3"]}, low=1, high=5)
    >>> ia.table[["mean", "sd", "skew", "item_rest_r"]]
    >>> # R: psych::describe(df)$skew ; psych::alpha(df[, c("TRU1", "TRU2", "TRU3")])$item.stats$r.drop
    >>> # R: psych::response.frequencies(df)
    """
    func = "item_analysis"
    x = as_items(data, name="data", func=func, min_rows=2, min_items=1, check_constant=False)
    values = x.to_numpy()
    low, high = _response_range(values, low, high, func)
    scales = _check_scales(x, scales, func)
    table = _describe(values, low, high, pd.Index(x.columns, name="item"))
    scale_alpha, scale_n = {}, {}
    for s, cols in scales.items():
        complete, _ = listwise(x[list(cols)])
        table.loc[list(cols), "scale"] = str(s)
        scale_n[s] = len(complete)
        scale_alpha[s] = np.nan
        if len(complete) >= 3:
            r_drop, scale_alpha[s], if_deleted = _alpha_parts(complete.to_numpy())
            table.loc[list(cols), "item_rest_r"] = r_drop
            table.loc[list(cols), "alpha_if_deleted"] = if_deleted
    freq, prop = _frequencies(values, table.index)
    return ItemAnalysis(
        table=table,
        frequencies=freq,
        proportions=prop,
        n=len(x),
        low=low,
        high=high,
        scale_alpha=pd.Series(scale_alpha, name="alpha", dtype=float),
        scale_n=pd.Series(scale_n, name="n", dtype="int64"),
    )


def _response_range(values: np.ndarray, low, high, func: str) -> tuple[float, float]:
    """The ends of the response range: as given, else the smallest and largest answer."""
    low = float(np.nanmin(values)) if low is None else _number(low, "low")
    high = float(np.nanmax(values)) if high is None else _number(high, "high")
    if low >= high:
        raise PsychometricsError(
            "invalid-value",
            f"The 'low' and 'high' parameters of {func} must satisfy low < high; "
            f"got low={low:g}, high={high:g}.",
        )
    return low, high


def _check_scales(x: pd.DataFrame, scales, func: str) -> Mapping:
    """``scales`` checked (mapping, known columns, 2+ items each); default one scale of all."""
    if scales is None:
        return {"scale": list(x.columns)} if x.shape[1] >= 2 else {}
    if not isinstance(scales, Mapping):
        raise PsychometricsError(
            "invalid-value",
            f"The 'scales' parameter of {func} must map scale names to lists of item "
            f"columns; got {type(scales).__name__}.",
        )
    for s, cols in scales.items():
        check_columns(x, cols, name="scales", func=func)
        if len(cols) < 2:
            raise PsychometricsError(
                "too-few-items",
                f"The 'scales' parameter of {func} must give each scale at least 2 "
                f"items; {s!r} has {len(cols)}.",
            )
    return scales


def _describe(values: np.ndarray, low: float, high: float, index: pd.Index) -> pd.DataFrame:
    """Per-item n, missing %, moments (psych::describe type 3 skew/kurtosis), floor/ceiling %."""
    n_ans = (~np.isnan(values)).sum(axis=0)
    mean = np.nanmean(values, axis=0)
    dev = values - mean
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.nansum(dev**2, axis=0) / (n_ans - 1))
        skew = np.nansum(dev**3, axis=0) / (n_ans * sd**3)
        kurt = np.nansum(dev**4, axis=0) / (n_ans * sd**4) - 3
    return pd.DataFrame(
        {
            "scale": "",
            "n": n_ans.astype("int64"),
            "missing_pct": 100.0 * (1 - n_ans / len(values)),
            "mean": mean,
            "sd": sd,
            "skew": skew,
            "kurtosis": kurt,
            "min": np.nanmin(values, axis=0),
            "max": np.nanmax(values, axis=0),
            "floor_pct": 100.0 * (values == low).sum(axis=0) / n_ans,
            "ceiling_pct": 100.0 * (values == high).sum(axis=0) / n_ans,
            "item_rest_r": np.nan,
            "alpha_if_deleted": np.nan,
        },
        index=index,
    )


def _alpha_parts(complete: np.ndarray) -> tuple[np.ndarray, float, np.ndarray | float]:
    """Item-rest r, alpha and alpha if each item is deleted, from one covariance matrix."""
    c = np.cov(complete, rowvar=False)
    k = c.shape[0]
    total = c.sum()
    diag = np.diag(c)
    cs = c.sum(axis=0)
    if_deleted = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        r_drop = (cs - diag) / np.sqrt(diag * (total - 2 * cs + diag))
        alpha = (1 - np.trace(c) / total) * k / (k - 1)
        if k > 2:
            rest_total = total - 2 * cs + diag
            rest_trace = np.trace(c) - diag
            if_deleted = (1 - rest_trace / rest_total) * (k - 1) / (k - 2)
    return r_drop, alpha, if_deleted


def _frequencies(values: np.ndarray, index: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and proportions of each observed answer value, per item."""
    answered = ~np.isnan(values)
    n_ans = answered.sum(axis=0)
    levels = np.unique(values[answered])
    counts = np.stack([(values == v).sum(axis=0) for v in levels], axis=1)
    freq = pd.DataFrame(counts, index=index, columns=[_label(v) for v in levels]).astype("int64")
    freq.columns.name = "value"
    with np.errstate(invalid="ignore", divide="ignore"):
        prop = pd.DataFrame(counts / n_ans[:, None], index=index, columns=freq.columns)
    return freq, prop


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise PsychometricsError(
            "invalid-value",
            f"The {name!r} parameter of item_analysis must be a number; got {value!r}.",
        )
    if not np.isfinite(value):
        raise PsychometricsError(
            "invalid-value", f"The {name!r} parameter of item_analysis must be finite; got {value!r}.")
    return float(value)


def _label(v: float):
    return int(v) if float(v).is_integer() else float(v)
