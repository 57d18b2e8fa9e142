"""Confirmatory factor analysis and construct validity, as R's lavaan and semTools.

``pm.cfa(data, {"TRU": ["TRU1", ...], ...})`` fits the model by maximum likelihood with
lavaan's defaults (first loading of each factor fixed to 1, free factor covariances,
free residual variances), on the listwise-complete rows or by full-information ML
(``missing="fiml"``, lavaan's ``missing = "ml"``), in one group or several
(``group="lang"``: the configural model). The engine is :mod:`psychometrics.sem`.

Every number follows lavaan 0.6 / semTools 0.5 (see ``tests/test_cfa.py`` for the R
calls): ``chisq = N F_ML`` with the biased (N) covariance, CFI/TLI against the
independence model, RMSEA with lavaan's sqrt(G) multi-group factor and its 90% interval,
SRMR as lavaan's ``srmr`` (Bentler's, on the correlation metric, means included when the
model has a mean structure), ``logLik``, AIC and BIC on lavaan's scale, standardized
(``std.all``) estimates, modification indices (``modindices``), ``semTools::AVE``,
``semTools::compRelSEM`` and ``semTools::htmt``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from psychometrics import sem
from psychometrics._checks import as_items, check_choice, check_columns
from psychometrics.errors import PsychometricsError

__all__ = ["CFA", "FitWarning", "cfa"]

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
    _state: object = field(default=None, repr=False, compare=False)

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


# --------------------------------------------------------------------------- model spec


@dataclass(frozen=True)
class _Spec:
    factors: dict[str, list[str]]
    second_order: dict[str, list[str]]
    residual_covariances: tuple[tuple[str, str], ...]

    @property
    def items(self) -> list[str]:
        seen: dict[str, None] = {}
        for items in self.factors.values():
            for i in items:
                seen.setdefault(i, None)
        return list(seen)


_LINE = re.compile(r"^\s*([^\s=~]+)\s*(=~|~~)\s*(.+?)\s*$")


def _parse_string(model: str, func: str):
    factors: dict[str, list[str]] = {}
    covs: list[tuple[str, str]] = []
    for raw in re.split(r"[\n;]", model):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LINE.match(line)
        if not m:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} accepts lines 'F =~ x1 + x2 + x3' and "
                f"'x1 ~~ x2' (residual covariance); got {line!r}.",
            )
        lhs, op, rhs = m.groups()
        terms = [t.strip() for t in rhs.split("+")]
        if any(not t or re.search(r"[\s*]", t) for t in terms):
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} takes plain item names (no labels or "
                f"fixed values such as '1*x1'); got {line!r}.",
            )
        if op == "=~":
            factors.setdefault(lhs, []).extend(terms)
        else:
            covs.extend((lhs, t) for t in terms)
    return factors, covs


def _parse_model(model, second_order, residual_covariances, func: str) -> _Spec:
    covs: list[tuple[str, str]] = []
    if isinstance(model, str):
        factors, covs = _parse_string(model, func)
    elif isinstance(model, Mapping):
        factors = {}
        for name, items in model.items():
            if isinstance(items, str) or not isinstance(items, Sequence):
                raise PsychometricsError(
                    "invalid-model",
                    f"The 'model' parameter of {func} maps each factor to a list of item "
                    f"names; factor {name!r} maps to {items!r}.",
                )
            factors[str(name)] = [str(i) for i in items]
    else:
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} must be a mapping factor -> items (e.g. "
            f"{{'TRU': ['TRU1', 'TRU2', 'TRU3']}}) or lavaan syntax; got "
            f"{type(model).__name__}.",
        )
    if not factors:
        raise PsychometricsError(
            "invalid-model", f"The 'model' parameter of {func} must define at least one factor; got none."
        )
    higher = {str(k): [str(f) for f in v] for k, v in (second_order or {}).items()}
    # in lavaan syntax a factor measured by factors is a higher-order factor
    for name in list(factors):
        if all(t in factors for t in factors[name]) and name not in higher:
            higher[name] = factors.pop(name)
    for name, items in factors.items():
        if not items:
            raise PsychometricsError(
                "invalid-model", f"The 'model' parameter of {func}: factor {name!r} has no items."
            )
        dup = {i for i in items if items.count(i) > 1}
        if dup:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func}: factor {name!r} lists {sorted(dup)[0]!r} twice.",
            )
        rev = [i for i in items if i.startswith("-")]
        if rev:
            raise PsychometricsError(
                "reverse-keyed-item",
                f"The 'model' parameter of {func} names items, not keys; got {rev[0]!r} in "
                f"factor {name!r}. Recode reverse-keyed items first (pm.reverse_key).",
            )
    items = {i for v in factors.values() for i in v}
    clash = sorted(items & (set(factors) | set(higher)))
    if clash:
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} uses {clash[0]!r} both as a factor and an item.",
        )
    used: dict[str, str] = {}
    for h, facets in higher.items():
        if h in factors:
            raise PsychometricsError(
                "invalid-model",
                f"The 'second_order' parameter of {func}: {h!r} is already a first-order factor.",
            )
        unknown = [f for f in facets if f not in factors]
        if unknown:
            raise PsychometricsError(
                "invalid-model",
                f"The 'second_order' parameter of {func}: {h!r} names {unknown[0]!r}, which is "
                f"not a first-order factor of the model ({', '.join(factors)}).",
            )
        if len(facets) < 2:
            raise PsychometricsError(
                "invalid-model",
                f"The 'second_order' parameter of {func}: {h!r} needs at least 2 first-order "
                f"factors; got {len(facets)}.",
            )
        for f in facets:
            if f in used:
                raise PsychometricsError(
                    "invalid-model",
                    f"The 'second_order' parameter of {func}: {f!r} is under both "
                    f"{used[f]!r} and {h!r}.",
                )
            used[f] = h
    pairs = list(covs) + [tuple(map(str, c)) for c in (residual_covariances or ())]
    clean: list[tuple[str, str]] = []
    for pair in pairs:
        if len(pair) != 2 or pair[0] == pair[1] or any(x not in items for x in pair):
            raise PsychometricsError(
                "invalid-model",
                f"The 'residual_covariances' parameter of {func} takes pairs of two distinct "
                f"items of the model; got {pair!r}.",
            )
        if {tuple(pair), tuple(pair[::-1])} & set(clean):
            continue
        clean.append((pair[0], pair[1]))
    return _Spec(factors, higher, tuple(clean))


# --------------------------------------------------------------------------- data


@dataclass
class _Data:
    items: list[str]
    labels: tuple
    arrays: list[np.ndarray]
    missing: str
    group: str | None

    @property
    def sizes(self) -> list[int]:
        return [len(a) for a in self.arrays]


def _prepare(data, items, group, missing, func, min_group_size=None) -> _Data:
    if not isinstance(data, pd.DataFrame):
        as_items(data, name="data", func=func)  # raises not-a-dataframe
    check_columns(data, items, name="model", func=func)
    if group is not None:
        check_columns(data, [group], name="group", func=func)
        if group in items:
            raise PsychometricsError(
                "invalid-value",
                f"The 'group' parameter of {func} names {group!r}, which is an item of the model.",
            )
    x = as_items(data[items], name="data", func=func, min_rows=2, min_items=1)
    values = x.to_numpy()
    answered = ~np.isnan(values)
    keep = answered.all(axis=1) if missing == "listwise" else answered.any(axis=1)
    if group is not None:
        g = data[group]
        keep &= g.notna().to_numpy()
        labels = tuple(pd.unique(g[keep]))
        if len(labels) < 2:
            raise PsychometricsError(
                "too-few-groups",
                f"The 'group' parameter of {func}: column {group!r} must hold at least 2 "
                f"groups on the rows used; got {len(labels)} ({', '.join(map(str, labels))}).",
            )
        gv = g.to_numpy()
        arrays = [values[keep & (gv == lab)] for lab in labels]
    else:
        labels = ()
        arrays = [values[keep]]
    p = len(items)
    need = max(p + 1, 2) if missing == "listwise" else 2
    for k, y in enumerate(arrays):
        where = f"group {labels[k]!r} of column {group!r}" if group is not None else "the data"
        floor = need
        if min_group_size is not None and group is not None:
            floor = max(need, min_group_size)
        if len(y) < floor:
            rule = (
                f"at least {floor} rows (the minimum group size)"
                if floor > need
                else f"more rows than items ({p}) "
                + ("with every item answered" if missing == "listwise" else "")
            ).strip()
            raise PsychometricsError(
                "too-few-rows",
                f"{func} needs {rule} in {where}; got {len(y)}.",
            )
        if missing == "fiml":
            answered_k = ~np.isnan(y)
            empty = np.flatnonzero(answered_k.sum(axis=0) < 2)
            if len(empty):
                raise PsychometricsError(
                    "too-few-rows",
                    f"{func} needs at least 2 answers to item {items[empty[0]]!r} in {where}; "
                    f"got {int(answered_k[:, empty[0]].sum())}.",
                )
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanmin(y, axis=0), np.nanmax(y, axis=0)
        const = np.flatnonzero(lo == hi)
        if len(const):
            raise PsychometricsError(
                "constant-item",
                f"{func} needs items that vary in {where}; item {items[const[0]]!r} has the "
                f"single value {lo[const[0]]:g}.",
            )
    return _Data(list(items), labels, arrays, missing, group)


# --------------------------------------------------------------------------- fitting


@dataclass
class _State:
    """What later computations (score tests, modification indices) need."""

    structure: sem.Structure
    discrepancies: list
    result: sem.OptimResult
    data: _Data
    spec: _Spec
    group_equal: tuple[str, ...]
    group_partial: frozenset
    std_lv: bool
    mats: list[sem.Matrices]
    h1: list[tuple[np.ndarray, np.ndarray]]
    _inv: np.ndarray | None = None

    def derivatives(self) -> list[sem.GroupDerivatives]:
        return sem.group_derivatives(self.structure, self.discrepancies, self.result.theta)

    def info_inverse(self) -> np.ndarray:
        if self._inv is None:
            self._inv = _pinv_sym(self.result.info)
        return self._inv


def _pinv_sym(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def _discrepancies(d: _Data, meanstructure: bool, func: str):
    out = []
    for k, y in enumerate(d.arrays):
        where = f" in group {d.labels[k]!r}" if d.labels else ""
        if d.missing == "fiml":
            disc = sem.FIMLDiscrepancy(y)
            try:
                s, _ = disc.h1()
            except np.linalg.LinAlgError:
                s = np.zeros((len(d.items), len(d.items)))  # reported just below
        else:
            s = np.cov(y, rowvar=False, bias=True).reshape(len(d.items), len(d.items))
            disc = None
        ev = np.linalg.eigvalsh(s)
        if ev[0] <= 1e-10 * max(ev[-1], 1e-300):
            raise PsychometricsError(
                "singular-covariance",
                f"{func} needs a positive-definite item covariance matrix{where}; it is "
                f"singular (an item is a linear combination of others, or too few rows).",
            )
        if disc is None:
            disc = sem.MLDiscrepancy(s, y.mean(axis=0), len(y), meanstructure)
        out.append(disc)
    return out


def _fit(
    d: _Data,
    spec: _Spec,
    *,
    func: str = "cfa",
    group_equal: tuple[str, ...] = (),
    group_partial: frozenset = frozenset(),
    std_lv: bool = False,
    extras: bool = True,
    htmt2: bool = True,
    discrepancies: list | None = None,
) -> CFA:
    ngroups = len(d.arrays)
    meanstructure = ngroups > 1 or d.missing == "fiml"
    discs = discrepancies or _discrepancies(d, meanstructure, func)
    h1 = [disc.h1() for disc in discs]
    structure = sem.cfa_structure(
        spec.factors, d.items, h1, meanstructure=meanstructure,
        second_order=spec.second_order, std_lv=std_lv,
        residual_covariances=spec.residual_covariances,
        group_equal=group_equal, group_partial=group_partial,
    )
    p = len(d.items)
    moments = ngroups * (p * (p + 1) // 2 + (p if meanstructure else 0))
    df = moments - structure.npar
    if df < 0:
        raise PsychometricsError(
            "not-identified",
            f"The model given to {func} has more free parameters ({structure.npar}) than "
            f"sample moments ({moments}): it is not identified (df = {df}).",
        )
    result = sem.fisher_scoring(structure, discs, structure.start(),
                                info_every=3 if d.missing == "fiml" else 1)
    mats = [structure.matrices(result.theta, g) for g in range(ngroups)]
    state = _State(structure, discs, result, d, spec, group_equal, group_partial, std_lv,
                   mats, h1)
    return _results(state, df, extras=extras, htmt2=htmt2)


# --------------------------------------------------------------------------- fit measures


def _rmsea_ci(x2: float, df: int, n: int, ngroups: int, level: float = 0.90):
    """lavaan's lav_fit_rmsea_ci: invert the noncentral chi-square in its noncentrality."""
    if not (np.isfinite(x2) and df >= 1):
        return np.nan, np.nan
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(lam):
        return stats.chi2.cdf(x2, df) if lam <= 0 else stats.ncx2.cdf(x2, df, lam)

    if cdf(0.0) - upper_p < 0:
        lo = 0.0
    else:
        lam = optimize.brentq(lambda v: cdf(v) - upper_p, 0.0, x2, xtol=1e-10)
        lo = np.sqrt(lam / (n * df)) * np.sqrt(ngroups)
    top = max(n, 4 * x2)
    if cdf(top) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        hi = 0.0
    else:
        lam = optimize.brentq(lambda v: cdf(v) - lower_p, 0.0, top, xtol=1e-10)
        hi = np.sqrt(lam / (n * df)) * np.sqrt(ngroups)
    return float(lo), float(hi)


def _srmr(state: _State) -> float:
    """lavaan's ``srmr`` (Bentler): residuals scaled by the observed standard deviations,
    means included with a mean structure; groups weighted by their size."""
    n_tot = sum(disc.n for disc in state.discrepancies)
    out = 0.0
    for disc, (s, ybar), mats in zip(state.discrepancies, state.h1, state.mats, strict=True):
        sd = 1.0 / np.sqrt(np.diag(s))
        r = (s - mats.sigma) * np.outer(sd, sd)
        p = len(sd)
        total = float(np.sum(np.tril(r) ** 2))
        e = p * (p + 1) / 2
        if state.structure.meanstructure:
            total += float(np.sum(((ybar - mats.mu) * sd) ** 2))
            e += p
        out += disc.n / n_tot * np.sqrt(total / e)
    return float(out)


def _fit_measures(state: _State, df: int) -> dict:
    discs = state.discrepancies
    g = len(discs)
    n = int(sum(disc.n for disc in discs))
    loglik = float(sum(disc.loglik(m.sigma, m.mu) for disc, m in zip(discs, state.mats, strict=True)))
    loglik_h1 = float(sum(disc.loglik_saturated() for disc in discs))
    loglik_b = float(sum(disc.loglik_independence() for disc in discs))
    chisq = max(2.0 * (loglik_h1 - loglik), 0.0) if state.data.missing == "fiml" else float(state.result.f)
    p = len(state.data.items)
    df_b = g * p * (p - 1) // 2
    chisq_b = 2.0 * (loglik_h1 - loglik_b)
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, chisq_b - df_b, 0.0)
    cfi = 1.0 if (abs(t1) < 1.5e-8 and abs(t2) < 1.5e-8) else 1.0 - t1 / t2
    tt1, tt2 = (chisq - df) * df_b, (chisq_b - df_b) * df
    tli = 1.0 - tt1 / tt2 if (df > 0 and abs(tt2) > 0) else 1.0
    rmsea = float(np.sqrt(max(chisq / n / df - 1.0 / n, 0.0)) * np.sqrt(g)) if df > 0 else 0.0
    lo, hi = _rmsea_ci(chisq, df, n, g)
    npar = state.structure.npar
    return {
        "chisq": float(chisq),
        "df": int(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "cfi": float(cfi),
        "tli": float(tli),
        "rmsea": rmsea,
        "rmsea_ci_lower": lo,
        "rmsea_ci_upper": hi,
        "srmr": _srmr(state),
        "aic": -2.0 * loglik + 2.0 * npar,
        "bic": float(-2.0 * loglik + npar * np.log(n)),
        "loglik": loglik,
        "loglik_h1": loglik_h1,
        "npar": int(npar),
        "n": n,
        "ngroups": g,
        "baseline_chisq": float(chisq_b),
        "baseline_df": int(df_b),
        "baseline_pvalue": float(stats.chi2.sf(chisq_b, df_b)),
    }


# --------------------------------------------------------------------------- results


def _std_all(structure: sem.Structure, mats: list[sem.Matrices], est: np.ndarray) -> np.ndarray:
    out = np.full(len(est), np.nan)
    for k in range(len(est)):
        m = mats[structure.group[k]]
        i, j, code = structure.row[k], structure.col[k], structure.mat[k]
        sig, phi = np.diag(m.sigma), np.diag(m.phi)
        if code == sem.LAMBDA:
            out[k] = est[k] * np.sqrt(phi[j]) / np.sqrt(sig[i])
        elif code == sem.BETA:
            out[k] = est[k] * np.sqrt(phi[j]) / np.sqrt(phi[i])
        elif code == sem.THETA:
            out[k] = est[k] / (sig[i] if i == j else np.sqrt(m.theta[i, i] * m.theta[j, j]))
        elif code == sem.PSI:
            out[k] = est[k] / (phi[i] if i == j else np.sqrt(m.psi[i, i] * m.psi[j, j]))
        elif code == sem.NU:
            out[k] = est[k] / np.sqrt(sig[i])
        else:
            out[k] = est[k] / np.sqrt(phi[i])
    return out


def _htmt(r: np.ndarray, factors: dict[str, list[str]], items: list[str], htmt2: bool) -> pd.DataFrame:
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


def _pooled_correlation(state: _State) -> np.ndarray:
    if len(state.h1) == 1:
        s = state.h1[0][0]
        sd = np.sqrt(np.diag(s))
        return s / np.outer(sd, sd)
    y = np.vstack(state.data.arrays)
    if state.data.missing == "fiml":
        s, _, _, _ = sem.em_saturated(y)
    else:
        s = np.cov(y, rowvar=False, bias=True)
    sd = np.sqrt(np.diag(s))
    return s / np.outer(sd, sd)


def _modindices(state: _State) -> pd.DataFrame:
    """lavaan::modindices for fixed-to-zero loadings, residual and latent covariances."""
    st = state.structure
    p, m = st.p, st.m
    a_inv = state.info_inverse()
    frames = []
    for g, (disc, mats) in enumerate(zip(state.discrepancies, state.mats, strict=True)):
        rows = st.rows(g)
        present = set(zip(st.mat[rows], st.row[rows], st.col[rows], strict=True))
        cand = [(sem.LAMBDA, i, j) for j in range(m) for i in range(p)
                if (sem.LAMBDA, i, j) not in present]
        cand += [(sem.THETA, i, j) for i in range(p) for j in range(i)
                 if (sem.THETA, i, j) not in present]
        cand += [(sem.PSI, i, j) for i in range(m) for j in range(i)
                 if (sem.PSI, i, j) not in present]
        if not cand:
            continue
        cm, ci, cj = (np.array(v) for v in zip(*cand, strict=True))
        jac_c = mats.jacobian(cm, ci, cj)
        free = st.free_rows(g)
        jac_f = mats.jacobian(st.mat[free], st.row[free], st.col[free])
        grad = disc.evaluate(mats.sigma, mats.mu, jac_c, "fg").grad
        cross = np.zeros((len(cand), st.npar))
        cross[:, st.free[free]] = disc.information(mats.sigma, mats.mu, jac_c, jac_f)
        v = disc.information_diag(mats.sigma, mats.mu, jac_c) - np.einsum(
            "ap,pq,aq->a", cross, a_inv, cross
        )
        ok = v > np.finfo(float).eps ** (1 / 3)
        mi = np.where(ok, grad**2 / (2.0 * np.where(ok, v, 1.0)), np.nan)
        epc = np.where(ok, -grad / np.where(ok, v, 1.0), np.nan)
        sig, phi = np.diag(mats.sigma), np.diag(mats.phi)
        th, ps = np.diag(mats.theta), np.diag(mats.psi)
        sepc = np.full(len(cand), np.nan)
        k = cm == sem.LAMBDA
        sepc[k] = epc[k] * np.sqrt(phi[cj[k]]) / np.sqrt(sig[ci[k]])
        k = cm == sem.THETA
        with np.errstate(invalid="ignore"):
            sepc[k] = epc[k] / np.sqrt(th[ci[k]] * th[cj[k]])
            k = cm == sem.PSI
            sepc[k] = epc[k] / np.sqrt(ps[ci[k]] * ps[cj[k]])
        lhs = [st.latent[j] if c == sem.LAMBDA else (st.observed[i] if c == sem.THETA else st.latent[i])
               for c, i, j in zip(cm, ci, cj, strict=True)]
        rhs = [st.observed[i] if c == sem.LAMBDA else (st.observed[j] if c == sem.THETA else st.latent[j])
               for c, i, j in zip(cm, ci, cj, strict=True)]
        frame = pd.DataFrame({
            "lhs": lhs,
            "op": ["=~" if c == sem.LAMBDA else "~~" for c in cm],
            "rhs": rhs,
            "mi": mi, "epc": epc, "sepc_all": sepc,
        })
        if state.data.labels:
            frame.insert(3, "group", state.data.labels[g])
        frames.append(frame)
    cols = ["lhs", "op", "rhs"] + (["group"] if state.data.labels else []) + ["mi", "epc", "sepc_all"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("mi", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def _warnings(state: _State) -> list[FitWarning]:
    out: list[FitWarning] = []
    res = state.result
    st = state.structure
    if not res.converged:
        out.append(FitWarning(
            "not-converged",
            f"the optimizer did not converge after {res.iterations} iterations "
            f"({res.message}); the estimates are not trustworthy.",
        ))
    info = res.info
    if info.size:
        ev = np.linalg.eigvalsh(info)
        if ev[0] <= 1e-10 * max(ev[-1], 1e-300):
            out.append(FitWarning(
                "not-identified",
                "the information matrix is singular: the model may not be identified "
                "(standard errors are not trustworthy).",
            ))
    for g, mats in enumerate(state.mats):
        where = f" in group {state.data.labels[g]!r}" if state.data.labels else ""
        for i, item in enumerate(st.observed):
            if mats.theta[i, i] < 0:
                out.append(FitWarning(
                    "heywood",
                    f"negative residual variance of item {item!r}{where} "
                    f"({mats.theta[i, i]:.4g}): a Heywood case.",
                    item,
                ))
        for j, f in enumerate(st.latent):
            if mats.psi[j, j] < 0:
                out.append(FitWarning(
                    "heywood",
                    f"negative variance of latent variable {f!r}{where} ({mats.psi[j, j]:.4g}).",
                    f,
                ))
        phi_ev = np.linalg.eigvalsh(mats.phi)
        if phi_ev[0] <= 0:
            out.append(FitWarning(
                "non-positive-definite-phi",
                f"the covariance matrix of the latent variables{where} is not positive "
                "definite (a factor correlation at or beyond 1, or a negative variance).",
            ))
    return out


def _results(state: _State, df: int, *, extras: bool, htmt2: bool) -> CFA:
    st = state.structure
    d = state.data
    multi = bool(d.labels)
    labels = d.labels if multi else (None,)
    theta = state.result.theta
    est = np.where(st.free >= 0, theta[np.maximum(st.free, 0)], st.value)
    cov = 2.0 * state.info_inverse()
    var = np.diag(cov)
    se_free = np.sqrt(np.where(var > 0, var, np.nan))
    se = np.where(st.free >= 0, se_free[np.maximum(st.free, 0)], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    std = _std_all(st, state.mats, est)
    params = pd.DataFrame({
        "lhs": st.lhs, "op": st.op, "rhs": st.rhs,
        "free": st.free + 1, "est": est, "se": se, "z": z,
        "pvalue": 2.0 * stats.norm.sf(np.abs(z)), "std_all": std,
    })
    if multi:
        params.insert(3, "group", [d.labels[g] for g in st.group])

    factors = list(state.spec.factors)
    items = d.items
    load_frames, corr_frames, r2_parts, resid_frames = [], [], [], []
    ave_rows, rel_rows, fl_frames = [], [], []
    second = []
    for g, mats in enumerate(state.mats):
        sig = np.diag(mats.sigma)
        phi = mats.phi
        sd_lv = np.sqrt(np.abs(np.diag(phi)))
        std_lam = mats.lam * sd_lv[None, :] / np.sqrt(sig)[:, None]
        load_frames.append(pd.DataFrame(std_lam[:, : len(factors)], index=items, columns=factors))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = phi / np.outer(sd_lv, sd_lv)
        corr_frames.append(pd.DataFrame(corr, index=st.latent, columns=st.latent))
        r2_parts.append(pd.Series(1.0 - np.diag(mats.theta) / sig, index=items))
        s, _ = state.h1[g]
        sd_s = np.sqrt(np.diag(s))
        resid = s / np.outer(sd_s, sd_s) - mats.sigma / np.outer(np.sqrt(sig), np.sqrt(sig))
        resid_frames.append(pd.DataFrame(resid, index=items, columns=items))
        ave, rel = {}, {}
        nonzero = mats.lam[:, : len(factors)] != 0
        cross = np.round(mats.lam[:, : len(factors)], 5).astype(bool).sum(axis=1) > 1
        for j, f in enumerate(factors):
            idx = np.flatnonzero(nonzero[:, j])
            lam_f = mats.lam[idx, j]
            ave[f] = (np.nan if cross[idx].any() or len(idx) < 2
                      else float(np.sum(lam_f**2) * phi[j, j] / np.sum(np.diag(s)[idx])))
            rel[f] = (np.nan if len(idx) < 2
                      else float(lam_f.sum() ** 2 * phi[j, j] / np.sum(s[np.ix_(idx, idx)])))
        ave_rows.append(pd.Series(ave))
        rel_rows.append(pd.Series(rel))
        fl = corr_frames[-1].loc[factors, factors].copy()
        for f in factors:
            fl.loc[f, f] = np.sqrt(ave[f]) if ave[f] >= 0 else np.nan
        fl_frames.append(fl)
        if state.spec.second_order:
            rows = [k for k in st.rows(g) if st.mat[k] == sem.BETA]
            so = pd.DataFrame(0.0, index=factors, columns=list(state.spec.second_order))
            for k in rows:
                so.loc[st.latent[st.row[k]], st.latent[st.col[k]]] = std[k]
            second.append(so)

    def stack(frames):
        if not multi:
            return frames[0]
        return pd.concat(frames, keys=list(d.labels), names=["group", None])

    if multi:
        ave_out = pd.DataFrame(ave_rows, index=pd.Index(d.labels, name="group"))
        rel_out = pd.DataFrame(rel_rows, index=pd.Index(d.labels, name="group"))
        sizes = pd.Series(d.sizes, index=pd.Index(d.labels, name="group"), name="n")
    else:
        ave_out, rel_out, sizes = ave_rows[0], rel_rows[0], None
    del labels
    if extras:
        htmt = _htmt(_pooled_correlation(state), state.spec.factors, items, htmt2)
        mi = _modindices(state)
    else:
        htmt = pd.DataFrame(np.nan, index=factors, columns=factors)
        mi = pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_all"])
    return CFA(
        fit=_fit_measures(state, df),
        loadings=stack(load_frames),
        factor_correlations=stack(corr_frames),
        r_squared=pd.concat(r2_parts, keys=list(d.labels), names=["group", None]) if multi else r2_parts[0],
        ave=ave_out,
        reliability=rel_out,
        fornell_larcker=stack(fl_frames),
        htmt=htmt,
        residuals=stack(resid_frames),
        modindices=mi,
        params=params,
        second_order_loadings=stack(second) if second else None,
        warnings=tuple(_warnings(state)),
        converged=bool(state.result.converged),
        n=int(sum(d.sizes)),
        groups=tuple(d.labels),
        group_sizes=sizes,
        estimator="ML",
        missing=d.missing,
        model={f: list(v) for f, v in state.spec.factors.items()},
        _state=state,
    )


# --------------------------------------------------------------------------- public


def single_thread():
    """Limit BLAS to one thread: the matrices here are small (items, parameters), and
    multi-threaded BLAS is then slower, and much slower on a busy machine."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def _check_options(estimator, missing, func):
    check_choice(estimator, name="estimator", choices=("ML", "WLSMV"), func=func)
    check_choice(missing, name="missing", choices=("listwise", "fiml", "ml"), func=func)
    if estimator == "WLSMV":
        raise PsychometricsError(
            "not-implemented",
            f"The 'estimator' parameter of {func}: 'WLSMV' (ordinal items, polychoric "
            "correlations) is not implemented yet; use estimator='ML'.",
        )
    return "fiml" if missing == "ml" else missing


def cfa(
    data: pd.DataFrame,
    model,
    estimator: str = "ML",
    missing: str = "listwise",
    *,
    group: str | None = None,
    second_order: Mapping[str, Sequence[str]] | None = None,
    residual_covariances: Sequence[tuple[str, str]] | None = None,
    std_lv: bool = False,
    htmt2: bool = True,
    cluster: str | None = None,
) -> CFA:
    """Confirmatory factor analysis by maximum likelihood (lavaan's ``cfa``).

    Parameters
    ----------
    data : DataFrame
        One numeric column per item (already reverse keyed), missing as NA; other
        columns are ignored.
    model : mapping factor -> list of items, or lavaan syntax
        ``{"TRU": ["TRU1", "TRU2", "TRU3"], ...}`` or ``"TRU =~ TRU1 + TRU2 + TRU3"``
        (``x1 ~~ x2`` lines add residual covariances; a factor measured by factors is a
        second-order factor). The first item of each factor is the marker (loading 1).
    estimator : ``"ML"`` or ``"WLSMV"``
        ``"WLSMV"``: ordinal items, lavaan's ``ordered = items, estimator = "WLSMV"``
        (one group, first-order factors, listwise; see :func:`psychometrics.wls.wlsmv_cfa`).
    missing : ``"listwise"`` or ``"fiml"``
        Complete rows only, or full-information ML on every row with at least one answer
        (lavaan ``missing = "ml"``; the saturated model by EM).
    group : column name, optional
        Fit the configural multi-group model (same pattern, all parameters free per
        group; groups in order of first appearance, as lavaan).
    second_order : mapping, optional
        Higher-order factors over first-order ones, e.g. ``{"G": ["F1", "F2", "F3"]}``.
    residual_covariances : list of item pairs, optional
    std_lv : bool
        Identify by fixing factor variances to 1 instead of first loadings (``std.lv``).
    htmt2 : bool
        HTMT with geometric means (semTools' default), else arithmetic means.
    cluster : column name, optional
        Two-level CFA (lavaan's ``cluster =``): ``model`` then has ``level: 1`` and
        ``level: 2`` blocks (or is ``{"within": {...}, "between": {...}}``, or a plain
        factor mapping used at both levels) and the result is a
        :class:`psychometrics.twolevel.TwoLevelCFA` (ML, complete rows).

    Returns
    -------
    CFA
        ``.fit`` (lavaan's fit measures), ``.loadings`` (std.all), ``.ave``, ``.htmt``,
        ``.reliability``, ``.fornell_larcker``, ``.modindices``, ``.params``,
        ``.warnings`` ... (see :class:`CFA`).

    Raises
    ------
    PsychometricsError
        ``invalid-model``, ``reverse-keyed-item``, ``missing-column``, ``non-numeric``,
        ``constant-item``, ``too-few-rows``, ``too-few-groups``, ``singular-covariance``,
        ``not-identified``, ``invalid-option``, ``not-implemented``.

    Examples
    --------
    >>> import psychometrics as pm
    >>> fit = pm.cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
    ...                   "speed": ["x7", "x8", "x9"]})
    >>> round(fit.fit["chisq"], 3), fit.fit["df"]
    (85.306, 24)

    In R: ``fitMeasures(lavaan::cfa("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6;
    speed =~ x7 + x8 + x9", data = hs))``.
    """
    func = "cfa"
    if cluster is not None:
        from psychometrics.twolevel import twolevel_cfa

        return twolevel_cfa(data, model, cluster, estimator=estimator, missing=missing)
    if estimator == "WLSMV":
        from psychometrics import wls

        check_choice(missing, name="missing", choices=("listwise", "fiml", "ml"), func=func)
        spec = _parse_model(model, second_order, residual_covariances, func)
        return wls.wlsmv_cfa(data, spec.factors, missing=missing, group=group,
                             second_order=spec.second_order,
                             residual_covariances=spec.residual_covariances,
                             std_lv=bool(std_lv), htmt2=bool(htmt2))
    missing = _check_options(estimator, missing, func)
    spec = _parse_model(model, second_order, residual_covariances, func)
    d = _prepare(data, spec.items, group, missing, func)
    with single_thread():
        return _fit(d, spec, func=func, std_lv=bool(std_lv), htmt2=bool(htmt2))
