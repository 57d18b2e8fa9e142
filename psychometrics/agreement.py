"""Nested designs: ICC(1)/ICC(2), within-group agreement, and aggregation to groups.

People answer within organizations, organizations within consortia. Whether a group's mean
may stand for the group is judged on two kinds of evidence (Bliese 2000; LeBreton & Senter
2008): reliability of group means (ICC(1), ICC(2)) and within-group agreement (rwg(j),
r*wg(j), awg, AD)::

    import psychometrics as pm
    a = pm.agreement(data, keys, group=["org", "consortium"], low=1, high=5)
    a.icc["org"]          # scale x (icc1 icc2 icc1_ci_low icc1_ci_high ... icc1_mixed)
    a.by_group            # scale group n rwg_j rwg_j_lindell rwg awg ad_mean ad_median level
    pm.aggregate(scores, by="org", low=1, high=5)

Every index is computed for all groups at once (pandas ``groupby``), with R's formulas:

=================  =========================================================================
``icc1 icc2``      ``multilevel::ICC1(aov(score ~ as.factor(group)))``, ``ICC2``: one-way
                   ANOVA, k = N / J (mean group size)
``icc1_ci_*``      ``psych::statsBy(..., alpha = .05)$ci1`` (F-based, Shrout & Fleiss 1979);
                   ``icc2_ci_*``: ``$ci2``
``icc1_mixed``     ``lme4::lmer(score ~ 1 + (1 | group))`` (REML) tau / (tau + sigma^2),
                   fitted as lme4 does (:mod:`psychometrics.reml`); ``icc2_mixed`` as
                   ``multilevel::mult.icc``
``rwg_j``          ``multilevel::rwg.j(items, group, ranvar)`` (James, Demaree & Wolf 1984)
``rwg_j_lindell``  ``multilevel::rwg.j.lindell`` (Lindell, Brandt & Whitney 1999)
``rwg``            ``multilevel::rwg(score, group, ranvar)`` (on the scale score)
``awg``            ``multilevel::awg(items, group, range = c(low, high))`` (Brown & Hauenstein
                   2005)
``ad_mean``        ``multilevel::ad.m(items, group, type = "mean")`` (Burke, Finkelstein &
                   Dusig 1999); ``ad_median``: ``type = "median"``; agreement when AD <= A/6
``rwg_j_null95``   the 95th percentile of ``multilevel::rwg.j.sim(gsize, nitems, nresp)``
                   for the group's size (simulated here, so equal in law, not draw by draw)
=================  =========================================================================

Mind the ``psych::statsBy`` trap: its ``rwg`` is the *within-group correlation* of the
variables, not an agreement index; agreement comes from ``multilevel``.

A group of one person has no agreement: its indices are NA with the reason
``single-member-group`` in ``by_group.reason`` (never 0). Rows with a missing group code,
or of a person found in two groups of one level, are left out of that level and reported
in ``issues`` (see :func:`nesting_issues`); the analysis goes on for the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics.errors import PsychometricsError
from psychometrics.keys import Keys, load_keys
from psychometrics.reml import random_intercepts
from psychometrics.scoring import reverse_key
from psychometrics.thresholds import AD_MAX

__all__ = [
    "NULL_PROPORTIONS",
    "Agreement",
    "RwgSim",
    "aggregate",
    "agreement",
    "level_codes",
    "nesting_issues",
    "null_variance",
    "response_range",
    "rwg_j_sim",
]

#: Skewed null distributions of a 5-point scale (James, Demaree & Wolf 1984; LeBreton &
#: Senter 2008, table 3): proportions of answers 1..5, variances 1.34 and 0.90.
NULL_PROPORTIONS = {
    "slight": (0.05, 0.15, 0.20, 0.35, 0.25),
    "moderate": (0.00, 0.10, 0.15, 0.40, 0.35),
}

BY_GROUP_COLUMNS = ["scale", "group", "n", "rwg_j", "rwg_j_lindell", "rwg", "awg", "ad_mean",
                    "ad_median", "ad_ok", "rwg_j_null95", "reason"]
ICC_COLUMNS = ["icc1", "icc2", "icc1_ci_low", "icc1_ci_high", "icc2_ci_low", "icc2_ci_high",
               "icc1_mixed", "icc2_mixed", "f", "df1", "df2", "p", "n", "groups", "mean_size"]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class RwgSim:
    """A simulated null distribution of rwg(j), as ``multilevel::rwg.j.sim``.

    ``values`` (one rwg(j) per simulated group of ``gsize`` people answering ``nitems``
    items uniformly at random on ``nresp`` options), ``rwg_95`` (R's rule: the value after
    the first one whose cumulative proportion reaches .95), ``quantile_95`` (the plain
    95th percentile).
    """

    values: np.ndarray
    gsize: int
    nitems: int
    nresp: int
    rwg_95: float
    quantile_95: float


@dataclass(frozen=True)
class Agreement:
    """The result of :func:`agreement`.

    Attributes
    ----------
    icc : DataFrame or dict of DataFrame
        Indexed by scale, columns :data:`ICC_COLUMNS`; a dict keyed by level when several
        grouping levels were given.
    by_group : DataFrame
        One row per scale and group: ``scale group n rwg_j rwg_j_lindell rwg awg ad_mean
        ad_median ad_ok rwg_j_null95 reason`` (and ``level`` first when several levels).
    issues : DataFrame
        ``code level column value rows message``: the input problems found (see
        :func:`nesting_issues`), each with the rows concerned.
    levels : tuple of str
        The grouping columns, innermost first.
    low, high : float
        The response range; ``null_variance`` the variance of the null distribution.
    """

    icc: object
    by_group: pd.DataFrame
    issues: pd.DataFrame
    levels: tuple
    low: float
    high: float
    null_variance: float

    def summary(self) -> str:
        """ICCs per level and scale, and the median rwg(j) per level and scale."""
        lines = [f"Agreement on {len(self.levels)} level(s), response range {self.low:g}-"
                 f"{self.high:g}, null variance {self.null_variance:.3f}"]
        tables = self.icc if isinstance(self.icc, dict) else {self.levels[0]: self.icc}
        for level, table in tables.items():
            lines.append(f"  {level}:")
            for scale, row in table.iterrows():
                bg = self.by_group[self.by_group["scale"] == scale]
                if "level" in bg:
                    bg = bg[bg["level"] == level]
                lines.append(f"    {scale:<12} ICC1 {row.icc1:.3f} [{row.icc1_ci_low:.3f}, "
                             f"{row.icc1_ci_high:.3f}]  ICC2 {row.icc2:.3f}  median rwg(j) "
                             f"{bg['rwg_j'].median():.3f}")
        if len(self.issues):
            lines.append(f"  input issues: {', '.join(sorted(set(self.issues['code'])))}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- null models


def null_variance(low: float, high: float, null="uniform") -> float:
    """Variance of the null ("no agreement") distribution of answers on ``low..high``.

    ``"uniform"``: (A^2 - 1) / 12 with A = high - low + 1 options (James et al. 1984);
    ``"slight"``/``"moderate"``: the skewed distributions of :data:`NULL_PROPORTIONS`
    (5-point scales only: 1.34 and 0.90); a number: that variance.
    """
    if isinstance(null, int | float) and not isinstance(null, bool):
        if not null > 0:
            raise PsychometricsError("invalid-value", "The 'null' parameter of agreement must be "
                                     f"a positive variance; got {null!r}.")
        return float(null)
    options = round(high - low + 1)
    if null == "uniform":
        return (options**2 - 1) / 12
    if null in NULL_PROPORTIONS and options == 5:
        p = np.asarray(NULL_PROPORTIONS[null])
        x = np.arange(1, 6)
        return float(p @ x**2 - (p @ x) ** 2)
    if null in NULL_PROPORTIONS:
        raise PsychometricsError("invalid-option", f"The 'null' parameter of agreement: the "
                                 f"{null!r} skewed null is tabled for 5 options only; got "
                                 f"{options}. Give its variance as a number instead.")
    raise PsychometricsError("invalid-option", "The 'null' parameter of agreement must be one "
                             f"of 'uniform', 'slight', 'moderate' or a variance; got {null!r}.")


def rwg_j_sim(gsize: int, nitems: int, nresp: int, nrep: int = 10000, seed=None) -> RwgSim:
    """Null distribution of rwg(j) by simulation, as ``multilevel::rwg.j.sim``.

    Groups of ``gsize`` people answer ``nitems`` items uniformly at random on ``nresp``
    options (all ``nrep`` groups drawn at once).

    Examples
    --------
    >>> s = rwg_j_sim(5, 4, 5, nrep=2000, seed=1)      # doctest: +SKIP

    In R: ``multilevel::rwg.j.sim(gsize = 5, nitems = 4, nresp = 5, nrep = 2000)``.
    """
    if gsize < 2:
        raise PsychometricsError("invalid-value", "The 'gsize' parameter of rwg_j_sim must be "
                                 f"an integer >= 2; got {gsize!r}.")
    rng = np.random.default_rng(seed)
    x = rng.integers(1, nresp + 1, size=(nrep, gsize, nitems)).astype(float)
    s = np.minimum(x.var(axis=1, ddof=1).mean(axis=1), (nresp**2 - 1) / 12)
    values = _rwg_j(s, nitems, (nresp**2 - 1) / 12)
    return RwgSim(values=values, gsize=int(gsize), nitems=int(nitems), nresp=int(nresp),
                  rwg_95=_r_rwg_95(values), quantile_95=float(np.quantile(values, 0.95)))


def _r_rwg_95(values: np.ndarray) -> float:
    """``rwg.95`` of ``rwg.j.sim``: distinct values with cumulative proportion ``c``; the
    value whose ``c > .95`` and whose predecessor's ``c >= .95`` while the one before that
    is ``< .95`` (so: the value after the first one reaching .95)."""
    uniq, counts = np.unique(values, return_counts=True)
    cum = np.cumsum(counts) / len(values)
    lag1 = np.r_[np.nan, cum[:-1]]
    lag2 = np.r_[np.nan, lag1[:-1]]
    with np.errstate(invalid="ignore"):
        hit = (cum > 0.95) & (lag1 >= 0.95) & (lag2 < 0.95)
    return float(uniq[hit][0]) if hit.any() else float("nan")


def _rwg_j(s, nitems: int, ranvar: float):
    r = np.asarray(s) / ranvar
    return nitems * (1 - r) / (nitems * (1 - r) + r)


# --------------------------------------------------------------------------- input checks


def nesting_issues(data: pd.DataFrame, levels: Sequence[str], *, id: str | None = None,
                   role: str | None = None, roles: Sequence[str] | None = None) -> pd.DataFrame:
    """The problems of a nested design, one row each: ``code level column value rows message``.

    Codes: ``missing-cluster-code`` (rows without a code at a level),
    ``person-in-two-clusters`` (one ``id`` under two codes of a level, e.g. a person in two
    organizations), ``cluster-in-two-parents`` (a code of a level under two codes of the
    next level, e.g. an organization under two consortia), ``undeclared-role`` (a role
    outside ``roles``). ``rows`` lists the index labels concerned.
    """
    out: list[dict] = []
    for i, level in enumerate(levels):
        codes = data[level]
        missing = codes.isna() | codes.astype("string").str.strip().eq("")
        if missing.any():
            out.append(_issue("missing-cluster-code", level, level, None, data.index[missing],
                              f"{int(missing.sum())} row(s) have no {level!r} code; left out at "
                              "this level."))
        if id is not None and id in data:
            out += _split_members(data[~missing], id, level)
        if i + 1 < len(levels):
            out += _two_parents(data[~missing], level, levels[i + 1])
    if role is not None and roles is not None and role in data:
        bad = data[role].notna() & ~data[role].isin(list(roles))
        for value, rows in data.index[bad].groupby(data.loc[bad, role]).items():
            out.append(_issue("undeclared-role", None, role, value, rows,
                              f"role {value!r} is not one of {', '.join(map(repr, roles))}."))
    return pd.DataFrame(out, columns=["code", "level", "column", "value", "rows", "message"])


def _issue(code, level, column, value, rows, message) -> dict:
    return {"code": code, "level": level, "column": column, "value": value,
            "rows": list(rows), "message": message}


def _split_members(data: pd.DataFrame, id: str, level: str) -> list[dict]:
    n_codes = data.groupby(id, sort=True)[level].nunique()
    out = []
    for person in n_codes.index[n_codes > 1]:
        rows = data.index[data[id] == person]
        codes = sorted(map(str, data.loc[rows, level].unique()))
        out.append(_issue("person-in-two-clusters", level, id, person, rows,
                          f"{id} {person!r} is listed under {len(codes)} {level!r} codes "
                          f"({', '.join(codes)}); left out at this level."))
    return out


def _two_parents(data: pd.DataFrame, level: str, parent: str) -> list[dict]:
    d = data[data[parent].notna()]
    n_parents = d.groupby(level, sort=True)[parent].nunique()
    out = []
    for code in n_parents.index[n_parents > 1]:
        rows = d.index[d[level] == code]
        parents = sorted(map(str, d.loc[rows, parent].unique()))
        out.append(_issue("cluster-in-two-parents", level, level, code, rows,
                          f"{level} {code!r} appears under {len(parents)} {parent!r} codes "
                          f"({', '.join(parents)}); each row keeps its own {parent!r}."))
    return out


# --------------------------------------------------------------------------- agreement


def agreement(data: pd.DataFrame, keys, group, *, low=None, high=None, null="uniform",
              id: str | None = None, n_sim: int = 1000, seed=1, mixed: bool = True) -> Agreement:
    """ICC(1)/ICC(2) per scale and within-group agreement per group, at each grouping level.

    Parameters
    ----------
    data : DataFrame
        Raw answers (reverse-keyed items not recoded), one column per item, plus the group
        columns (and ``id``).
    keys : Keys, keys mapping or path
        The psych-style key; every scale is analysed on its complete rows (all its items
        answered), as ``multilevel``'s ``na.exclude``.
    group : str or list of str
        Grouping column(s), innermost first (``["org", "consortium"]``).
    low, high : number
        Response range (default: the key's ``min``/``max``).
    null : "uniform", "slight", "moderate" or float
        The null distribution of rwg(j) and r*wg(j) (see :func:`null_variance`).
    id : str, optional
        Person identifier, to find a person listed in two groups of a level.
    n_sim : int
        Simulated null groups per group size for ``rwg_j_null95`` (0: not simulated).
    seed : int or None
        Seed of the simulation.
    mixed : bool
        Also fit the mixed model (``icc1_mixed``, ``icc2_mixed``).

    Returns
    -------
    Agreement

    Examples
    --------
    >>> a = pm.agreement(df, keys, group=["org", "consortium"], low=1, high=5)  # doctest: +SKIP
    >>> a.icc["org"].loc["TRU", "icc1"]                                          # doctest: +SKIP

    In R (``multilevel``)::

        ICC1(aov(score ~ as.factor(org))); rwg.j(items, org, ranvar = (5^2 - 1) / 12)
        awg(items, org, range = c(1, 5)); ad.m(items, org, type = "mean")
    """
    keys = keys if isinstance(keys, Keys) else load_keys(keys, columns=data.columns)
    low, high = response_range(low, high, keys)
    levels = [group] if isinstance(group, str) else list(group)
    missing = [g for g in levels if g not in data.columns]
    if not levels or missing:
        raise PsychometricsError("missing-column", "The 'group' parameter of agreement must "
                                 f"name data columns; not found: {missing or levels!r}.")
    ranvar = null_variance(low, high, null)
    issues = nesting_issues(data, levels, id=id)
    x = reverse_key(data, keys, low, high)
    icc, tables = {}, []
    for level in levels:
        codes = level_codes(data, level, issues)
        icc[level], bg = _one_level(x, keys, codes, low, high, ranvar, mixed)
        bg.insert(0, "level", level)
        tables.append(bg)
    by_group = pd.concat(tables, ignore_index=True)
    by_group["rwg_j_null95"] = _null95(by_group, keys, low, high, n_sim, seed)
    by_group = by_group[["level", *BY_GROUP_COLUMNS]]
    if len(levels) == 1:
        by_group = by_group.drop(columns="level")
    return Agreement(icc=icc if len(levels) > 1 else icc[levels[0]], by_group=by_group,
                     issues=issues, levels=tuple(levels), low=low, high=high,
                     null_variance=ranvar)


def response_range(low, high, keys: Keys, func: str = "agreement") -> tuple[float, float]:
    """The response range: ``low`` and ``high``, else the key's ``min`` and ``max``."""
    low = keys.min if low is None else low
    high = keys.max if high is None else high
    if low is None or high is None or not low < high:
        raise PsychometricsError("bad-range", f"The 'low' and 'high' parameters of {func} "
                                 "(or the key's min/max) must give the response range, low < "
                                 f"high; got low={low!r}, high={high!r}.")
    return float(low), float(high)


def level_codes(data: pd.DataFrame, level: str, issues: pd.DataFrame) -> pd.Series:
    """The level's codes (text stripped; numbers kept, so they sort as numbers), NA for the
    rows left out (no code, a person in two groups)."""
    codes = data[level]
    if not pd.api.types.is_numeric_dtype(codes):
        codes = codes.astype("string").str.strip().replace("", pd.NA).astype(object)
    codes = codes.copy()
    drop = issues[(issues["level"] == level) & (issues["code"] == "person-in-two-clusters")]
    for rows in drop["rows"]:
        codes.loc[rows] = None
    return codes


def _one_level(x, keys, codes, low, high, ranvar, mixed) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, tables = {}, []
    for scale, keyed in keys.scales.items():
        items = [k.removeprefix("-") for k in keyed]
        block = x[items].astype(float)
        ok = block.notna().all(axis=1) & codes.notna()
        block, g = block[ok], codes[ok]
        score = block.mean(axis=1)
        rows[scale] = _icc(score, g, mixed)
        table = _by_group(block, score, g, low, high, ranvar)
        table.insert(0, "scale", scale)
        tables.append(table)
    icc = pd.DataFrame.from_dict(rows, orient="index")[ICC_COLUMNS]
    icc.index.name = "scale"
    return icc, pd.concat(tables, ignore_index=True)


def _icc(score: pd.Series, g: pd.Series, mixed: bool) -> dict:
    """One-way ANOVA ICC(1), ICC(2) and their F-based intervals (psych::statsBy)."""
    n_total, sizes = len(score), score.groupby(g).size()
    groups = len(sizes)
    out = dict.fromkeys(ICC_COLUMNS, np.nan) | {"n": n_total, "groups": groups}
    if groups < 2 or n_total <= groups:
        return out
    means = score.groupby(g).transform("mean")
    msb = float(((means - score.mean()) ** 2).sum()) / (groups - 1)
    msw = float(((score - means) ** 2).sum()) / (n_total - groups)
    k = n_total / groups
    df1, df2 = groups - 1, n_total - groups
    f = msb / msw if msw > 0 else np.inf
    f_low = f / stats.f.ppf(0.975, df1, df2)
    f_up = f * stats.f.ppf(0.975, df2, df1)
    out.update(icc1=(msb - msw) / (msb + (k - 1) * msw), icc2=(msb - msw) / msb,
               icc1_ci_low=(f_low - 1) / (f_low + k - 1), icc1_ci_high=(f_up - 1) / (f_up + k - 1),
               icc2_ci_low=1 - 1 / f_low, icc2_ci_high=1 - 1 / f_up, f=f, df1=df1, df2=df2,
               p=float(stats.f.sf(f, df1, df2)), mean_size=k)
    if mixed:
        icc1 = _mixed_icc(score, g)
        out.update(icc1_mixed=icc1, icc2_mixed=k * icc1 / (1 + (k - 1) * icc1))
    return out


def _mixed_icc(score: pd.Series, g: pd.Series) -> float:
    """tau / (tau + sigma^2) of the REML random-intercept model ``lmer(score ~ 1 + (1 | g))``
    (lme4's default), fitted by :func:`psychometrics.reml.random_intercepts`: 0 exactly when
    the groups have no variance of their own, as lme4 gives it."""
    var, _, _ = random_intercepts(score.to_numpy(dtype=float), pd.DataFrame({"g": g.to_numpy()}), ["g"])
    return var["g"] / (var["g"] + var["person"])


def _by_group(block: pd.DataFrame, score: pd.Series, g: pd.Series, low, high,
              ranvar) -> pd.DataFrame:
    """rwg(j), r*wg(j), rwg, awg, AD of every group at once (multilevel's formulas)."""
    grouped = block.groupby(g)
    n = grouped.size()
    nitems = block.shape[1]
    s = grouped.var(ddof=1).mean(axis=1)
    v = score.groupby(g).var(ddof=1)
    out = pd.DataFrame({"group": n.index.to_numpy(dtype=object), "n": n.to_numpy()})
    out["rwg_j"] = _rwg_j(np.minimum(s.to_numpy(), ranvar), nitems, ranvar)
    out["rwg_j_lindell"] = (1 - s / ranvar).to_numpy()
    out["rwg"] = (1 - np.minimum(v, ranvar) / ranvar).to_numpy()
    out["awg"] = _awg(grouped, n, low, high).to_numpy()
    for kind in ("mean", "median"):
        centre = block.groupby(g).transform(kind)
        out[f"ad_{kind}"] = (block - centre).abs().groupby(g).mean().mean(axis=1).to_numpy()
    out["ad_ok"] = out["ad_mean"] <= (high - low + 1) / AD_MAX.value
    single = out["n"] < 2
    out.loc[single, ["rwg_j", "rwg_j_lindell", "rwg", "awg", "ad_mean", "ad_median"]] = np.nan
    out["ad_ok"] = out["ad_ok"].astype("boolean").mask(single)
    out["reason"] = np.where(single, "single-member-group", None)
    return out


def _awg(grouped, n: pd.Series, low, high) -> pd.Series:
    """awg of each item, then their mean over items with NA removed (``multilevel::awg``)."""
    k = n.to_numpy(dtype=float)[:, None]
    return _awg_values(grouped.mean(), grouped.var(ddof=1), k, low, high).mean(axis=1, skipna=True)


def _awg_values(m, var, k, low, high):
    """Brown & Hauenstein's awg from group means, variances and sizes: NA when the mean
    leaves the maximum variance undefined, 1 when the mean sits on a bound."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = 1 - 2 * var / (((high + low) * m - m**2 - high * low) * (k / (k - 1)))
    a = a.mask((m < (low * (k - 1) + high) / k) | (m > (high * (k - 1) + low) / k))
    return a.mask((m == high) | (m == low), 1.0)


def _null95(by_group: pd.DataFrame, keys: Keys, low, high, n_sim: int, seed) -> pd.Series:
    """The simulated 95th percentile of rwg(j) under the uniform null, per group size."""
    out = pd.Series(np.nan, index=by_group.index)
    if n_sim <= 0:
        return out
    options = round(high - low + 1)
    rng = np.random.default_rng(seed)
    nitems = by_group["scale"].map({s: len(k) for s, k in keys.scales.items()})
    for (size, j), rows in by_group.groupby([by_group["n"], nitems]).groups.items():
        if size >= 2:
            sim = rwg_j_sim(int(size), int(j), options, nrep=n_sim, seed=rng)
            out.loc[rows] = sim.quantile_95
    return out


# --------------------------------------------------------------------------- aggregation


def aggregate(scores: pd.DataFrame, by, *, scales: Sequence[str] | None = None, low=None,
              high=None, min_size: int = 5) -> pd.DataFrame:
    """Scale scores at the group level: mean, SD, n and agreement of each group.

    Parameters
    ----------
    scores : DataFrame
        One row per person, one column per scale score, plus the ``by`` column(s).
    by : str or list of str
        The group column(s) (``"org"``, or ``["consortium", "org"]``).
    scales : list of str, optional
        Score columns (default: every numeric column not in ``by``).
    low, high : number, optional
        The response range; when given, the agreement of each group on each score:
        ``rwg`` (``multilevel::rwg``), ``awg`` and ``ad`` (AD about the mean).
    min_size : int
        Groups with fewer people are suppressed: their row says ``suppressed`` and gives no
        number (not even n), so no small group can be singled out.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``n``, ``suppressed``, then ``<scale>_mean``, ``<scale>_sd``
        (and ``<scale>_rwg``, ``<scale>_awg``, ``<scale>_ad``) for every scale.

    Examples
    --------
    >>> pm.aggregate(scores, by="org", low=1, high=5)          # doctest: +SKIP

    In R: ``aggregate(scores, list(org), mean)``; ``multilevel::rwg(score, org, ranvar)``.
    """
    by = [by] if isinstance(by, str) else list(by)
    missing = [b for b in by if b not in scores.columns]
    if not by or missing:
        raise PsychometricsError("missing-column", "The 'by' parameter of aggregate must name "
                                 f"columns of the scores; not found: {missing or by!r}.")
    if scales is None:
        scales = [c for c in scores.columns if c not in by
                  and pd.api.types.is_numeric_dtype(scores[c]) and not pd.api.types.is_bool_dtype(scores[c])]
    if not scales:
        raise PsychometricsError("too-few-items", "aggregate needs at least one numeric score "
                                 "column besides the 'by' columns; got none.")
    d = scores.dropna(subset=by)
    grouped = d.groupby(by, sort=True)
    size = grouped.size().rename("n")
    parts = [size]
    for s in scales:   # the columns gathered, then joined once (no fragmented frame)
        parts += [grouped[s].mean().rename(f"{s}_mean"), grouped[s].std(ddof=1).rename(f"{s}_sd")]
        if low is not None and high is not None:
            parts.append(_score_agreement(d, by, s, float(low), float(high)))
    table = pd.concat(parts, axis=1).reindex(size.index)
    small = (size < min_size).rename("suppressed")
    values = table.astype(float).mask(small, axis=0)
    return pd.concat([values["n"].astype("Int64"), small, values.drop(columns="n")],
                     axis=1).reset_index()


def _score_agreement(d: pd.DataFrame, by: list, s: str, low: float, high: float) -> pd.DataFrame:
    ranvar = null_variance(low, high)
    x = d[[*by, s]].dropna()
    grouped = x.groupby(by, sort=True)[s]
    n, v, m = grouped.size(), grouped.var(ddof=1), grouped.mean()
    centre = grouped.transform("mean")
    ad = (x[s] - centre).abs().groupby([x[b] for b in by]).mean()
    awg = _awg_values(m, v, n.astype(float), low, high)
    out = pd.DataFrame({f"{s}_rwg": 1 - np.minimum(v, ranvar) / ranvar, f"{s}_awg": awg,
                        f"{s}_ad": ad})
    return out.mask(n < 2)
