"""Shared input checks for ``psychometrics`` functions (private; imported by its modules).

Every check raises :class:`psychometrics.errors.PsychometricsError` with a stable code and a
message that names the parameter (and column), the rule, and the value received::

    from psychometrics._checks import as_items, complete_items, listwise

    x = as_items(data, name="items", func="alpha", min_items=2)   # float DataFrame, NA kept
    x, n_dropped = listwise(x)                                    # complete rows only
    x, n_dropped = complete_items(data, name="items", func="alpha", min_items=2, min_rows=3)

Codes raised here
-----------------
``not-a-dataframe``  the data is not a pandas DataFrame
``no-columns``       the DataFrame has no columns
``duplicate-column`` two columns share a name
``non-numeric``      a column holds a value that is not a number (names the column and value)
``non-finite``       a column holds +inf or -inf
``empty-column``     a column has no answer at all
``constant-item``    a column has a single distinct value (zero variance)
``too-few-items``    fewer columns than the analysis needs
``too-few-rows``     fewer (complete) rows than the analysis needs
``missing-values``   missing values where the analysis cannot use them
``missing-column``   a column named by the caller is not in the data
``invalid-option``   a parameter is not one of the allowed choices
``invalid-value``    a numeric parameter is out of its allowed range
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from psychometrics.errors import PsychometricsError

__all__ = [
    "as_items",
    "check_choice",
    "check_columns",
    "check_fraction",
    "check_int",
    "complete_items",
    "listwise",
    "numeric_column",
    "pairwise_counts",
]


def _where(name: str, func: str | None) -> str:
    return f"The {name!r} parameter of {func}" if func else f"The {name!r} parameter"


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_items(
    data: object,
    *,
    name: str = "data",
    func: str | None = None,
    min_rows: int = 2,
    min_items: int = 1,
    allow_missing: bool = True,
    check_constant: bool = True,
) -> pd.DataFrame:
    """Check a response matrix and return it as a float DataFrame (missing as NaN).

    Rules, in order: a pandas DataFrame; at least one column; unique column names; every
    value numeric (numbers, booleans, numeric strings such as ``"3"``; NA allowed when
    ``allow_missing``); no infinite value; no column without any answer; at least
    ``min_items`` columns; at least ``min_rows`` rows with at least one answer; no
    constant column (when ``check_constant``). The index and column labels are kept.
    """
    where = _where(name, func)
    if not isinstance(data, pd.DataFrame):
        raise PsychometricsError(
            "not-a-dataframe",
            f"{where} must be a pandas DataFrame with one column per item; "
            f"got {type(data).__name__}.",
        )
    if data.shape[1] == 0:
        raise PsychometricsError("no-columns", f"{where} must have at least one column; got none.")
    dup = data.columns[data.columns.duplicated()]
    if len(dup):
        raise PsychometricsError(
            "duplicate-column",
            f"{where} must have unique column names; {str(dup[0])!r} appears more than once.",
        )
    columns = {}
    for col in data.columns:
        columns[col] = numeric_column(data[col], col, where)
    out = pd.DataFrame(columns, index=data.index)
    out.columns = data.columns
    values = out.to_numpy()
    if np.isinf(values).any():
        col = out.columns[np.isinf(values).any(axis=0)][0]
        raise PsychometricsError(
            "non-finite",
            f"{where} must hold finite numbers; column {str(col)!r} holds an infinite value.",
        )
    missing = np.isnan(values)
    empty = missing.all(axis=0)
    if empty.any():
        col = out.columns[empty][0]
        raise PsychometricsError(
            "empty-column",
            f"{where} must have at least one answer in every column; column {str(col)!r} is empty.",
        )
    if not allow_missing and missing.any():
        col = out.columns[missing.any(axis=0)][0]
        raise PsychometricsError(
            "missing-values",
            f"{where} must have no missing values here; column {str(col)!r} has "
            f"{int(missing[:, list(out.columns).index(col)].sum())}.",
        )
    if out.shape[1] < min_items:
        raise PsychometricsError(
            "too-few-items",
            f"{where} must have at least {min_items} item columns; got {out.shape[1]}"
            + (f" ({', '.join(map(str, out.columns))})." if out.shape[1] else "."),
        )
    n_rows = int((~missing.all(axis=1)).sum())
    if n_rows < min_rows:
        raise PsychometricsError(
            "too-few-rows",
            f"{where} must have at least {min_rows} rows with an answer; got {n_rows}.",
        )
    if check_constant:
        _check_constant(out, where)
    return out


def numeric_column(col: pd.Series, label: object, where: str) -> pd.Series:
    """One column as float64, or a ``non-numeric`` error naming the column and a bad value."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype("float64")
    if pd.api.types.is_numeric_dtype(col.dtype):
        # nullable integer/float dtypes: pd.NA -> NaN
        return pd.Series(col.to_numpy(dtype="float64", na_value=np.nan), index=col.index)
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    converted = pd.to_numeric(col, errors="coerce")
    bad = converted.isna() & col.notna()
    if bad.any():
        value = col[bad].iloc[0]
        # an empty or blank string counts as missing, anything else is an error
        blank = bad & col.map(lambda v: isinstance(v, str) and not v.strip())
        if (bad & ~blank).any():
            value = col[bad & ~blank].iloc[0]
            raise PsychometricsError(
                "non-numeric",
                f"{where} must hold numbers (missing as NA); column {str(label)!r} holds "
                f"{_short(value)} (row {_short(col.index[bad & ~blank][0])}).",
            )
    return pd.Series(converted.to_numpy(dtype="float64", na_value=np.nan), index=col.index)


def _check_constant(df: pd.DataFrame, where: str) -> None:
    values = df.to_numpy()
    with np.errstate(invalid="ignore"):
        lo = np.nanmin(values, axis=0)
        hi = np.nanmax(values, axis=0)
    constant = lo == hi
    if constant.any():
        i = int(np.flatnonzero(constant)[0])
        raise PsychometricsError(
            "constant-item",
            f"{where} must have items that vary; column {str(df.columns[i])!r} has the "
            f"single value {lo[i]:g} (zero variance).",
        )


def listwise(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Keep the rows without any missing value: ``(complete rows, number of rows dropped)``."""
    keep = df.notna().all(axis=1).to_numpy()
    return df.loc[keep], int((~keep).sum())


def complete_items(
    data: object,
    *,
    name: str = "data",
    func: str | None = None,
    min_rows: int = 2,
    min_items: int = 1,
    check_constant: bool = True,
) -> tuple[pd.DataFrame, int]:
    """:func:`as_items`, then :func:`listwise`, then the row and constant checks again.

    Returns ``(complete float DataFrame, number of rows dropped)``. A ``too-few-rows`` error
    says how many rows were complete out of how many.
    """
    x = as_items(
        data, name=name, func=func, min_rows=min_rows, min_items=min_items,
        check_constant=check_constant,
    )
    where = _where(name, func)
    complete, dropped = listwise(x)
    if len(complete) < min_rows:
        raise PsychometricsError(
            "too-few-rows",
            f"{where} must have at least {min_rows} complete rows (no missing item) for "
            f"listwise deletion; got {len(complete)} of {len(x)}.",
        )
    if check_constant and dropped:
        _check_constant(complete, where + " (complete rows)")
    return complete, dropped


def pairwise_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Number of rows where both items of each pair are answered (items x items)."""
    present = df.notna().to_numpy(dtype="float64")
    return pd.DataFrame(present.T @ present, index=df.columns, columns=df.columns).astype("int64")


def check_columns(
    data: pd.DataFrame, columns: Iterable[object], *, name: str, func: str | None = None
) -> list:
    """Check that every label in ``columns`` is a column of ``data``; return them as a list."""
    cols = list(columns)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise PsychometricsError(
            "missing-column",
            f"{_where(name, func)} names columns that are not in the data: "
            f"{', '.join(map(repr, missing[:10]))}"
            + (" ..." if len(missing) > 10 else "")
            + ".",
        )
    return cols


def check_choice(value: object, *, name: str, choices: Sequence[object], func: str | None = None):
    """Check that ``value`` is one of ``choices`` (``invalid-option``); return it."""
    if value not in choices:
        raise PsychometricsError(
            "invalid-option",
            f"{_where(name, func)} must be one of {', '.join(map(repr, choices))}; "
            f"got {_short(value)}.",
        )
    return value


def check_fraction(value: object, *, name: str, func: str | None = None) -> float:
    """Check a number strictly between 0 and 1 (a confidence level, a proportion)."""
    ok = isinstance(value, int | float | np.floating) and not isinstance(value, bool)
    if not ok or not 0.0 < float(value) < 1.0:
        raise PsychometricsError(
            "invalid-value",
            f"{_where(name, func)} must be a number strictly between 0 and 1; got {_short(value)}.",
        )
    return float(value)


def check_int(value: object, *, name: str, minimum: int, func: str | None = None) -> int:
    """Check an integer ``>= minimum`` (``invalid-value``)."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or int(value) < minimum:
        raise PsychometricsError(
            "invalid-value",
            f"{_where(name, func)} must be an integer >= {minimum}; got {_short(value)}.",
        )
    return int(value)
