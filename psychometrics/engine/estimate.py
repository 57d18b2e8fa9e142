"""Fit a model with an estimator named by the caller, and turn the fit into results.

The front doors (:func:`psychometrics.cfa`, :func:`psychometrics.sem`,
:func:`psychometrics.invariance`) call :func:`prepare` (the data, checked), then
:func:`fit`. The estimator is chosen by name: ``"ML"`` (complete rows, or ``missing =
"fiml"``: full-information ML, lavaan's ``missing = "ml"``) and ``"WLSMV"`` (ordinal items:
DWLS on the polychoric correlations with the mean-and-variance adjusted test). Every
estimator fills the same :class:`~psychometrics.engine.indices.CFA` result; its fit
indices come from :mod:`psychometrics.engine.indices`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics._checks import as_items, check_choice, check_columns
from psychometrics.engine import conditional, core, dwls, indices, ml, ordinal
from psychometrics.engine.core import BETA, LAMBDA, NU, PSI, SCALE, TAU, THETA
from psychometrics.engine.indices import CFA, FitWarning
from psychometrics.engine.model import Paths, Spec, build_structure
from psychometrics.engine.syntax import Term
from psychometrics.errors import PsychometricsError

__all__ = ["ESTIMATORS", "Data", "State", "check_options", "check_rows", "covariance",
           "discrepancies", "fit", "fit_measures", "fit_state", "observed_information",
           "params_frame", "prepare", "std_all", "warnings"]

#: the estimators, by lavaan's names
ESTIMATORS = ("ML", "WLSMV")
_LOG2PI = float(np.log(2.0 * np.pi))


def check_options(estimator, missing, func, *, group=None) -> str:
    """The estimator and missing-data options, checked; returns ``listwise`` or ``fiml``."""
    check_choice(estimator, name="estimator", choices=ESTIMATORS, func=func)
    check_choice(missing, name="missing", choices=("listwise", "fiml", "ml"), func=func)
    if estimator == "WLSMV" and missing != "listwise":
        raise PsychometricsError(
            "invalid-option",
            f"The 'missing' parameter of {func} must be 'listwise' with estimator='WLSMV' "
            f"(lavaan's default for ordinal data); got {missing!r}.",
        )
    return "fiml" if missing == "ml" else missing

# --------------------------------------------------------------------------- data


@dataclass
class Data:
    """The rows used, per group (``labels`` empty without groups)."""

    items: list[str]
    labels: tuple
    arrays: list[np.ndarray]
    missing: str
    group: str | None
    estimator: str = "ML"

    @property
    def sizes(self) -> list[int]:
        return [len(a) for a in self.arrays]


def prepare(data, items, group, missing, func, min_group_size=None, estimator="ML") -> Data:
    """Check the data and split it by group (lavaan's order: first appearance)."""
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
    _check_rows(arrays, items, labels, group, missing, func, min_group_size)
    if estimator == "WLSMV" and len(items) < 3:
        raise PsychometricsError(
            "too-few-items",
            f"The 'model' parameter of {func} must name at least 3 items with "
            f"estimator='WLSMV'; got {len(items)}.",
        )
    return Data(list(items), labels, arrays, missing, group, estimator)


def _check_rows(arrays, items, labels, group, missing, func, min_group_size) -> None:
    """Enough rows and answers in each group, and no constant item."""
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


def check_rows(d: Data, func: str) -> None:
    """The checks :func:`prepare` makes of the rows used (enough rows and answers, no
    constant item), for data already split into arrays (a Monte Carlo replication)."""
    _check_rows(d.arrays, d.items, d.labels, d.group, d.missing, func, None)


# --------------------------------------------------------------------------- fitting


@dataclass
class State:
    """A fitted model: what later computations (score tests, modification indices) need."""

    structure: core.Structure
    discrepancies: list
    result: core.OptimResult
    data: Data
    spec: Spec | None  # the measurement model (None for pm.sem)
    group_equal: tuple[str, ...]
    group_partial: frozenset
    std_lv: bool
    mats: list[core.Matrices]
    h1: list[tuple[np.ndarray, np.ndarray]]
    _inv: np.ndarray | None = None

    def derivatives(self) -> list[core.GroupDerivatives]:
        return core.group_derivatives(self.structure, self.discrepancies, self.result.theta)

    def info_inverse(self) -> np.ndarray:
        if self._inv is None:
            self._inv = _pinv_sym(self.result.info)
        return self._inv


def _pinv_sym(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(a)


def discrepancies(d: Data, meanstructure: bool, func: str,
                  covariates: tuple[str, ...] = ()) -> list:
    """One discrepancy per group for the estimator ``d.estimator`` (sample statistics
    computed once: FIML's EM, WLSMV's polychorics and Gamma; with ``covariates``, WLSMV
    given them, lavaan's ``conditional.x``)."""
    if d.estimator == "WLSMV" and covariates:
        return _conditional_discrepancies(d, covariates, func)
    if d.estimator == "WLSMV":
        stats = [ordinal.compute(pd.DataFrame(y, columns=d.items), 15, func) for y in d.arrays]
        _check_categories(stats, d, func)
        return [dwls.DWLSDiscrepancy(st) for st in stats]
    out = []
    for k, y in enumerate(d.arrays):
        where = f" in group {d.labels[k]!r}" if d.labels else ""
        if d.missing == "fiml":
            disc = ml.FIMLDiscrepancy(y)
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
            disc = ml.MLDiscrepancy(s, y.mean(axis=0), len(y), meanstructure)
        out.append(disc)
    return out


def _conditional_discrepancies(d: Data, covariates: tuple[str, ...], func: str) -> list:
    """WLSMV given the covariates: each group's thresholds, slopes and residual
    polychorics (:mod:`psychometrics.engine.conditional`) and their DWLS discrepancy."""
    yi = [i for i, name in enumerate(d.items) if name not in covariates]
    xi = [d.items.index(name) for name in covariates]
    out = []
    for y in d.arrays:
        items = pd.DataFrame(y[:, yi], columns=[d.items[i] for i in yi])
        st = conditional.conditional_stats(items, pd.DataFrame(y[:, xi], columns=list(covariates)),
                                           15, func)
        out.append(dwls.ConditionalDWLS(st, np.array(yi), np.array(xi)))
    _check_categories([disc.stats for disc in out], d, func)
    return out


def _check_categories(stats: list, d: Data, func: str) -> None:
    """Every category of an ordinal item answered in every group (lavaan refuses "some
    categories of variable x are empty in group g": its thresholds would not line up)."""
    for item in stats[0].levels:  # the ordinal items (not the covariates)
        every = sorted(set().union(*(st.levels[item] for st in stats)))
        for st, label in zip(stats, d.labels, strict=False):
            if list(st.levels[item]) != every:
                raise PsychometricsError(
                    "empty-category",
                    f"The 'data' parameter of {func}: item {item!r} has categories {every} but "
                    f"group {label!r} of column {d.group!r} answers only {list(st.levels[item])}; "
                    "estimator='WLSMV' with groups needs every category answered in every group "
                    "(merge rare categories first).",
                )


def _degrees_of_freedom(d: Data, structure: core.Structure, func: str, discs: list) -> int:
    """Sample moments (ML: covariances and, with a mean structure, means; WLSMV: the
    statistics fitted, polychoric correlations and, given covariates, slopes, thresholds
    being saturated) minus free parameters; the covariates' own moments are fixed, not
    counted (lavaan's ``fixed.x``)."""
    p, ngroups, nx = len(d.items), len(d.arrays), len(structure.covariates)
    if d.estimator == "WLSMV":
        moments = sum(len(disc.s) for disc in discs)
    else:
        per_group = p * (p + 1) // 2 - nx * (nx + 1) // 2
        moments = ngroups * (per_group + (p - nx if structure.meanstructure else 0))
    df = moments - structure.npar
    if df < 0:
        raise PsychometricsError(
            "not-identified",
            f"The model given to {func} has more free parameters ({structure.npar}) than "
            f"sample moments ({moments}): it is not identified (df = {df}).",
        )
    return df


def fit(
    d: Data,
    spec: Spec,
    *,
    func: str = "cfa",
    group_equal: tuple[str, ...] = (),
    group_partial: frozenset = frozenset(),
    std_lv: bool = False,
    extras: bool = True,
    htmt2: bool = True,
    discs: list | None = None,
    information: str = "expected",
) -> CFA:
    """Fit the measurement model ``spec`` to ``d`` with lavaan's defaults and return the
    :class:`CFA` result (``discs``: the groups' discrepancies when already computed;
    ``information``: behind the standard errors, see :func:`covariance`)."""
    so = spec.second_order
    terms = [Term(f, "=~", i) for f, items in spec.factors.items() for i in items]
    terms += [Term(h, "=~", f) for h, facets in so.items() for f in facets]
    terms += [Term(a, "~~", b) for a, b in spec.residual_covariances]
    latent = list(spec.factors) + [h for h in so if h not in spec.factors]
    state, df = fit_state(d, terms, latent, func=func, group_equal=group_equal,
                          group_partial=group_partial, std_lv=std_lv, discs=discs, spec=spec)
    return _results(state, df, extras=extras, htmt2=htmt2, information=information)


def fit_state(d: Data, terms: list, latent: list[str], *, func: str, std_lv: bool = False,
              group_equal: tuple[str, ...] = (), group_partial: frozenset = frozenset(),
              discs: list | None = None, spec: Spec | None = None,
              paths: Paths | None = None) -> tuple[State, int]:
    """Build the parameter table of ``terms`` (:func:`~psychometrics.engine.model.build_structure`),
    minimise the estimator's discrepancy; returns the fitted state and the model's df."""
    ngroups = len(d.arrays)
    ordinal_items = d.estimator == "WLSMV"
    meanstructure = (ngroups > 1 or d.missing == "fiml") and not ordinal_items
    discs = discs or discrepancies(d, meanstructure, func, paths.covariates if paths else ())
    h1 = [disc.h1() for disc in discs]
    structure = build_structure(terms, d.items, latent, h1, meanstructure=meanstructure,
                                std_lv=std_lv, group_equal=group_equal,
                                group_partial=group_partial, delta=ordinal_items, paths=paths)
    df = _degrees_of_freedom(d, structure, func, discs)
    result = core.fisher_scoring(structure, discs, structure.start(),
                                 info_every=3 if d.missing == "fiml" else 1)
    mats = [structure.matrices(result.theta, g) for g in range(ngroups)]
    state = State(structure, discs, result, d, spec, group_equal, group_partial, std_lv,
                  mats, h1)
    return state, df


def _srmr(state: State) -> float:
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


def _srmr_conditional(state: State) -> float:
    """lavaan's ``srmr`` of WLSMV given covariates: in each group the residual polychorics
    minus the implied residual correlations, squared and summed over the pairs, over
    ``p (p + 1) / 2 + nx`` (the count lavaan 0.6-14 divides by; checked on four models);
    groups weighted by their size."""
    n_tot = sum(disc.n for disc in state.discrepancies)
    out = 0.0
    for disc, mats in zip(state.discrepancies, state.mats, strict=True):
        resid = disc.r - disc.implied(mats.sigma)[disc.n_sl:]
        p, nx = disc.p, len(disc.xi)
        out += disc.n / n_tot * np.sqrt(np.sum(resid**2) / (p * (p + 1) / 2 + nx))
    return float(out)


def fit_measures(state: State, df: int) -> dict:
    """lavaan's ``fitMeasures`` (``_`` for ``.``) for the estimator of the fit."""
    if state.data.estimator == "WLSMV":
        discs = state.discrepancies
        deltas = dwls.deltas(state.structure, discs, state.result.theta)
        out = dwls.wlsmv_measures(discs, deltas, state.result.f,
                                  state.structure.npar + sum(disc.n_th for disc in discs))
        out["srmr"] = _srmr_conditional(state) if state.structure.covariates else _srmr(state)
        return out
    return _ml_measures(state, df)


def _ml_measures(state: State, df: int) -> dict:
    discs = state.discrepancies
    g = len(discs)
    n = int(sum(disc.n for disc in discs))
    loglik = float(sum(disc.loglik(m.sigma, m.mu) for disc, m in zip(discs, state.mats, strict=True)))
    loglik_h1 = float(sum(disc.loglik_saturated() for disc in discs))
    st = state.structure
    xs = [st.observed.index(x) for x in st.covariates]
    loglik_b = float(sum(disc.loglik_independence(xs) for disc in discs))
    if xs:  # lavaan's logl with fixed.x: conditional on the covariates
        loglik_x = sum(-0.5 * disc.n * (len(xs) * (_LOG2PI + 1.0)
                                        + np.linalg.slogdet(s[np.ix_(xs, xs)])[1])
                       for disc, (s, _) in zip(discs, state.h1, strict=True))
        loglik, loglik_h1, loglik_b = (v - float(loglik_x) for v in (loglik, loglik_h1, loglik_b))
    chisq = max(2.0 * (loglik_h1 - loglik), 0.0) if state.data.missing == "fiml" else float(state.result.f)
    p = len(state.data.items)
    df_b = g * (p * (p - 1) // 2 - len(xs) * (len(xs) - 1) // 2)
    chisq_b = 2.0 * (loglik_h1 - loglik_b)
    lo, hi = indices.rmsea_ci(chisq, df, n, g)
    npar = state.structure.npar
    return {
        "chisq": float(chisq), "df": int(df), "pvalue": indices.pvalue(chisq, df),
        "cfi": indices.cfi(chisq, df, chisq_b, df_b), "tli": indices.tli(chisq, df, chisq_b, df_b),
        "rmsea": indices.rmsea(chisq, df, n, g), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "srmr": _srmr(state),
        "aic": -2.0 * loglik + 2.0 * npar, "bic": float(-2.0 * loglik + npar * np.log(n)),
        "loglik": loglik, "loglik_h1": loglik_h1, "npar": int(npar), "n": n, "ngroups": g,
        "baseline_chisq": float(chisq_b), "baseline_df": int(df_b),
        "baseline_pvalue": indices.pvalue(chisq_b, df_b),
    }



# --------------------------------------------------------------------------- results


def std_all(structure: core.Structure, mats: list[core.Matrices], est: np.ndarray) -> np.ndarray:
    """lavaan's ``std.all`` of every entry ``est`` of the table: observed variables (the
    latent responses of ordinal items: variance ``diag(Sigma)``) and latent variables
    standardized; residual covariances as correlations of the residuals; thresholds over
    their item's standard deviation, scale factors times it (1 at the solution)."""
    out = np.full(len(est), np.nan)
    for k in range(len(est)):
        m = mats[structure.group[k]]
        i, j, code = structure.row[k], structure.col[k], structure.mat[k]
        sig, phi = np.diag(m.sigma), np.diag(m.phi)
        if code == LAMBDA:
            out[k] = est[k] * np.sqrt(phi[j]) / np.sqrt(sig[i])
        elif code == BETA:
            out[k] = est[k] * np.sqrt(phi[j]) / np.sqrt(phi[i])
        elif code == THETA:
            out[k] = est[k] / (sig[i] if i == j else np.sqrt(m.theta[i, i] * m.theta[j, j]))
        elif code == PSI:
            out[k] = est[k] / (phi[i] if i == j else np.sqrt(m.psi[i, i] * m.psi[j, j]))
        elif code == NU:
            out[k] = est[k] / np.sqrt(sig[i])
        elif code == TAU:
            out[k] = est[k] / np.sqrt(sig[structure.th_item[i]])
        elif code == SCALE:
            out[k] = est[k] * np.sqrt(sig[i])
        else:
            out[k] = est[k] / np.sqrt(phi[i])
    return out


def _pooled_correlation(state: State) -> np.ndarray:
    if len(state.h1) == 1:
        s = state.h1[0][0]
        sd = np.sqrt(np.diag(s))
        return s / np.outer(sd, sd)
    y = np.vstack(state.data.arrays)
    if state.data.estimator == "WLSMV":  # polychorics of the pooled rows
        x = pd.DataFrame(y, columns=state.data.items)
        return ordinal.compute(x, 15, "cfa").rho.to_numpy()
    if state.data.missing == "fiml":
        s, _, _, _ = ml.em_saturated(y)
    else:
        s = np.cov(y, rowvar=False, bias=True)
    sd = np.sqrt(np.diag(s))
    return s / np.outer(sd, sd)


def _modindices(state: State) -> pd.DataFrame:
    """lavaan::modindices for fixed-to-zero loadings, residual and latent covariances."""
    st = state.structure
    a_inv = state.info_inverse()
    frames = []
    for g, (disc, mats) in enumerate(zip(state.discrepancies, state.mats, strict=True)):
        cand = _candidates(st, g)
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
        frame = pd.DataFrame({
            "lhs": [st.latent[j] if c == LAMBDA else (st.observed[i] if c == THETA else st.latent[i])
                    for c, i, j in zip(cm, ci, cj, strict=True)],
            "op": ["=~" if c == LAMBDA else "~~" for c in cm],
            "rhs": [st.observed[i] if c == LAMBDA else (st.observed[j] if c == THETA else st.latent[j])
                    for c, i, j in zip(cm, ci, cj, strict=True)],
            "mi": mi, "epc": epc, "sepc_all": _sepc_all(mats, cm, ci, cj, epc),
        })
        if state.data.labels:
            frame.insert(3, "group", state.data.labels[g])
        frames.append(frame)
    cols = ["lhs", "op", "rhs"] + (["group"] if state.data.labels else []) + ["mi", "epc", "sepc_all"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("mi", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


def _candidates(st: core.Structure, g: int) -> list[tuple[int, int, int]]:
    """The entries of group ``g`` fixed to zero: loadings, residual and latent covariances."""
    p, m = st.p, st.m
    rows = st.rows(g)
    present = set(zip(st.mat[rows], st.row[rows], st.col[rows], strict=True))
    cand = [(LAMBDA, i, j) for j in range(m) for i in range(p) if (LAMBDA, i, j) not in present]
    cand += [(THETA, i, j) for i in range(p) for j in range(i) if (THETA, i, j) not in present]
    cand += [(PSI, i, j) for i in range(m) for j in range(i) if (PSI, i, j) not in present]
    return cand


def _sepc_all(mats: core.Matrices, cm, ci, cj, epc: np.ndarray) -> np.ndarray:
    """The expected parameter changes, completely standardized (lavaan's ``sepc.all``)."""
    sig, phi = np.diag(mats.sigma), np.diag(mats.phi)
    th, ps = np.diag(mats.theta), np.diag(mats.psi)
    sepc = np.full(len(cm), np.nan)
    k = cm == LAMBDA
    sepc[k] = epc[k] * np.sqrt(phi[cj[k]]) / np.sqrt(sig[ci[k]])
    k = cm == THETA
    with np.errstate(invalid="ignore"):
        sepc[k] = epc[k] / np.sqrt(th[ci[k]] * th[cj[k]])
        k = cm == PSI
        sepc[k] = epc[k] / np.sqrt(ps[ci[k]] * ps[cj[k]])
    return sepc


def warnings(state: State) -> list[FitWarning]:
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


def covariance(state: State, information: str = "expected") -> np.ndarray:
    """Covariance of the free parameters: inverse expected information (ML), or inverse
    observed information (``information="observed"``: lavaan's default with FIML), the
    robust sandwich (WLSMV, lavaan's ``se = "robust.sem"``)."""
    if state.data.estimator == "WLSMV":
        discs = state.discrepancies
        return dwls.robust_covariance(discs, dwls.deltas(state.structure, discs, state.result.theta))
    if information == "observed":
        return 2.0 * _pinv_sym(observed_information(state.structure, state.discrepancies,
                                                    state.result.theta))
    return 2.0 * state.info_inverse()


def observed_information(structure: core.Structure, discs: list, theta: np.ndarray) -> np.ndarray:
    """Hessian of the discrepancy at ``theta``: central differences of the analytic
    gradient (lavaan's ``information = "observed"``, also numerical)."""
    out = core.central_differences(lambda t: core.evaluate(structure, discs, t, "fg").grad, theta)
    return (out + out.T) / 2.0


def params_frame(state: State, information: str = "expected",
                 cov: np.ndarray | None = None) -> pd.DataFrame:
    """Every parameter: ``lhs op rhs [group] free est se z pvalue std_all`` (WLSMV adds
    the thresholds ``item | t1``..., free, with their own standard errors; ``information``
    as :func:`covariance`, or its result ``cov``)."""
    st, d = state.structure, state.data
    theta = state.result.theta
    est = np.where(st.free >= 0, theta[np.maximum(st.free, 0)], st.value)
    if st.delta:  # the residual variances follow from the model
        diag = (st.mat == THETA) & (st.row == st.col)
        est[diag] = [state.mats[g].theta[i, i] for g, i in zip(st.group[diag], st.row[diag], strict=True)]
    var = np.diag(covariance(state, information) if cov is None else cov)
    se_free = np.sqrt(np.where(var > 0, var, np.nan))
    se = np.where(st.free >= 0, se_free[np.maximum(st.free, 0)], np.nan)
    frame = pd.DataFrame({
        "lhs": st.lhs, "op": st.op, "rhs": st.rhs, "free": st.free + 1, "est": est, "se": se,
        "std_all": std_all(st, state.mats, est),
    })
    groups = list(st.group)
    if d.estimator == "WLSMV":
        frame, groups = _with_thresholds(state, frame, groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        frame["z"] = frame["est"] / frame["se"]
    frame["pvalue"] = 2.0 * stats.norm.sf(np.abs(frame["z"]))
    if d.labels:
        frame.insert(3, "group", [d.labels[g] for g in groups])
    cols = ["lhs", "op", "rhs"] + (["group"] if d.labels else [])
    return frame[[*cols, "free", "est", "se", "z", "pvalue", "std_all"]]


def _with_thresholds(state: State, frame: pd.DataFrame, groups: list[int]):
    """The (saturated) thresholds ``item | t1``... of each group after the parameters,
    with their own standard errors; returns the frame and the group of every row."""
    parts, free = [frame], state.structure.npar + 1
    observed = state.structure.observed
    for g, disc in enumerate(state.discrepancies):
        th = disc.stats.thresholds
        lhs, rhs = zip(*(name.rsplit("|", 1) for name in th.index), strict=True)
        sd = np.sqrt(np.diag(state.mats[g].sigma)[[observed.index(v) for v in lhs]])
        parts.append(pd.DataFrame({
            "lhs": lhs, "op": "|", "rhs": rhs, "free": free + np.arange(len(th)),
            "est": th.to_numpy(), "se": dwls.threshold_se(disc), "std_all": th.to_numpy() / sd,
        }))
        free += len(th)
        groups = groups + [g] * len(th)
    return pd.concat(parts, ignore_index=True), groups


def _group_frames(state: State, g: int, params: pd.DataFrame) -> dict:
    """One group's standardized loadings, latent correlations, R2, residuals, validity."""
    st, items, factors = state.structure, state.data.items, list(state.spec.factors)
    mats = state.mats[g]
    sig, phi = np.diag(mats.sigma), mats.phi
    sd_lv = np.sqrt(np.abs(np.diag(phi)))
    std_lam = mats.lam * sd_lv[None, :] / np.sqrt(sig)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = pd.DataFrame(phi / np.outer(sd_lv, sd_lv), index=st.latent, columns=st.latent)
    s, _ = state.h1[g]
    sd_s = np.sqrt(np.diag(s))
    resid = s / np.outer(sd_s, sd_s) - mats.sigma / np.outer(np.sqrt(sig), np.sqrt(sig))
    ave, rel = indices.composite_validity(mats.lam[:, : len(factors)], np.diag(phi), s, factors)
    out = {
        "loadings": pd.DataFrame(std_lam[:, : len(factors)], index=items, columns=factors),
        "corr": corr, "r2": pd.Series(1.0 - np.diag(mats.theta) / sig, index=items),
        "resid": pd.DataFrame(resid, index=items, columns=items), "ave": ave, "rel": rel,
        "fl": indices.fornell_larcker(corr, ave), "second": None,
    }
    if state.spec.second_order:
        so = pd.DataFrame(0.0, index=factors, columns=list(state.spec.second_order))
        for k in st.rows(g):
            if st.mat[k] == BETA:
                so.loc[st.latent[st.row[k]], st.latent[st.col[k]]] = params["std_all"].iloc[k]
        out["second"] = so
    return out


def _results(state: State, df: int, *, extras: bool, htmt2: bool, information: str = "expected") -> CFA:
    d = state.data
    multi = bool(d.labels)
    params = params_frame(state, information)
    parts = [_group_frames(state, g, params) for g in range(len(state.mats))]

    def stack(key):
        frames = [part[key] for part in parts]
        if not multi:
            return frames[0]
        return pd.concat(frames, keys=list(d.labels), names=["group", None])

    def by_group(key):
        if not multi:
            return parts[0][key]
        return pd.DataFrame([part[key] for part in parts], index=pd.Index(d.labels, name="group"))

    factors = list(state.spec.factors)
    htmt = pd.DataFrame(np.nan, index=factors, columns=factors)
    mi = pd.DataFrame(columns=["lhs", "op", "rhs", "mi", "epc", "sepc_all"])
    if extras:
        htmt = indices.htmt(_pooled_correlation(state), state.spec.factors, d.items, htmt2)
        if d.estimator == "ML":
            mi = _modindices(state)
    return CFA(
        fit=fit_measures(state, df),
        loadings=stack("loadings"),
        factor_correlations=stack("corr"),
        r_squared=stack("r2"),
        ave=by_group("ave"),
        reliability=by_group("rel"),
        fornell_larcker=stack("fl"),
        htmt=htmt,
        residuals=stack("resid"),
        modindices=mi,
        params=params,
        second_order_loadings=stack("second") if state.spec.second_order else None,
        warnings=tuple(warnings(state)),
        converged=bool(state.result.converged),
        n=int(sum(d.sizes)),
        groups=tuple(d.labels),
        group_sizes=pd.Series(d.sizes, index=pd.Index(d.labels, name="group"), name="n") if multi else None,
        estimator=d.estimator,
        missing=d.missing,
        model={f: list(v) for f, v in state.spec.factors.items()},
        state=state,
    )
