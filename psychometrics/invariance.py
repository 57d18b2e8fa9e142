"""Measurement invariance across groups (configural, metric, scalar, partial), as lavaan.

``pm.invariance(data, model, group="lang")`` fits the three nested multi-group CFA
models of lavaan's ``group.equal`` (equal loadings, then equal loadings and
intercepts, latent means free in every group but the first), compares them (likelihood
ratio test as ``lavaan::anova``; changes in CFI, RMSEA and SRMR against Chen's 2007
cut-offs), runs the univariate score test of every equality constraint of the scalar
model (``lavaan::lavTestScore``) to find the items whose loading or intercept differs,
and refits the scalar model with those constraints released (partial invariance,
lavaan's ``group.partial``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics._checks import check_choice, check_fraction, check_int
from psychometrics.engine import estimate
from psychometrics.engine.core import BETA, LAMBDA, NU, single_thread
from psychometrics.engine.indices import CFA
from psychometrics.engine.model import parse_model
from psychometrics.errors import PsychometricsError

__all__ = ["Invariance", "adjust_p", "holm", "invariance", "report_entry", "score_tests", "stepwise"]

#: Chen (2007): non-invariance when CFI drops by .010 or more AND RMSEA rises by .015 or
#: more or SRMR rises by .030 (loadings) / .010 (intercepts) or more.
CHEN_2007 = {"delta_cfi": -0.010, "delta_rmsea": 0.015, "delta_srmr_metric": 0.030,
             "delta_srmr_scalar": 0.010}
#: Cheung & Rensvold (2002): non-invariance when CFI drops by more than .01.
CHEUNG_RENSVOLD_2002 = -0.010

RULE = (
    "Items: the univariate score test (lavaan::lavTestScore) of each equality constraint "
    "of the scalar model (each non-marker loading and each intercept, each group against "
    "the first group), p-values adjusted over all the constraints tested ({adjust}); an "
    "item is flagged when one of its constraints has an adjusted p < {alpha}. The partial "
    "model frees the flagged loadings/intercepts in every group (lavaan group.partial), "
    "keeping at least one equal intercept per factor. Models: chen_2007 is False when "
    "delta CFI <= -.010 together with delta RMSEA >= .015 or delta SRMR >= .030 (metric) "
    "/ .010 (scalar, partial) (Chen 2007); cheung_rensvold_2002 is False when delta CFI "
    "<= -.010 (Cheung & Rensvold 2002). Each model is compared with the previous one "
    "(partial with metric)."
)


@dataclass(frozen=True)
class Invariance:
    """Result of :func:`invariance`.

    Attributes
    ----------
    table : DataFrame
        Rows ``configural``, ``metric``, ``scalar`` (and ``partial`` when items were
        released); columns ``chisq df pvalue cfi tli rmsea rmsea_ci_lower rmsea_ci_upper
        srmr aic bic`` (lavaan ``fitMeasures``), ``compared_with``, ``chisq_diff
        df_diff p_diff`` (``lavaan::anova`` likelihood-ratio test), ``delta_cfi
        delta_rmsea delta_srmr``, and the verdicts ``chen_2007``,
        ``cheung_rensvold_2002`` (True: invariance holds at that step).
    items : DataFrame
        One row per equality constraint of the scalar model: ``item factor parameter
        group reference_group X2 df p p_adj flagged`` (``parameter`` is ``loading`` or
        ``intercept``; ``group`` is compared with ``reference_group``, the first group).
    flagged : list of str
        Items judged non-invariant (see ``rule``).
    released : list of (item, parameter)
        The constraints freed in the partial model.
    fits : dict of str -> CFA
        The fitted models.
    group : str
    groups : tuple
    group_sizes : Series
    rule : str
        How items are flagged and models judged.
    """

    table: pd.DataFrame
    items: pd.DataFrame
    flagged: list[str]
    released: list[tuple[str, str]]
    fits: dict[str, CFA]
    group: str
    groups: tuple
    group_sizes: pd.Series
    rule: str

    @property
    def warnings(self) -> tuple[tuple[str, object], ...]:
        """``(model, FitWarning)`` for every warning of the fitted models."""
        return tuple((name, w) for name, fit in self.fits.items() for w in fit.warnings)

    def summary(self) -> str:
        cols = ["chisq", "df", "cfi", "tli", "rmsea", "srmr", "delta_cfi", "delta_rmsea",
                "p_diff", "chen_2007"]
        sizes = ", ".join(f"{g} (n={n})" for g, n in self.group_sizes.items())
        lines = [
            f"Measurement invariance across {self.group!r}: {sizes}",
            self.table[cols].to_string(float_format=lambda v: f"{v:.3f}"),
            "",
            "Flagged items: " + (", ".join(self.flagged) if self.flagged else "none"),
        ]
        lines += [f"[{model}] {w.code}: {w.message}" for model, w in self.warnings]
        return "\n".join(lines)


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's (1979) step-down adjusted p-values (R: p.adjust(p, "holm")); NaN counts as 1."""
    p = np.where(np.isnan(p), 1.0, np.asarray(p, dtype=float))
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def adjust_p(p: np.ndarray, method: str) -> np.ndarray:
    """p-values adjusted over a family (``holm``, ``bonferroni`` or ``none``; R's
    ``p.adjust``): the item tests of ML and ordinal invariance."""
    if method == "holm":
        return holm(p)
    if method == "bonferroni":
        return np.minimum(1.0, p * len(p))
    return p.copy()


def score_tests(fit: CFA) -> pd.DataFrame:
    """Univariate score tests of the across-group equality constraints of a fitted
    multi-group model (``lavaan::lavTestScore(fit)$uni``): for each constrained
    parameter, releasing the copy of group ``h`` from the first group's value.

    ``X2 = g_b^2 / (2 (H_bb - h_b' H^-1 h_b))`` where ``g_b`` is the gradient of the fit
    function (-2 log L) with respect to the released copy, ``H`` the expected information
    of the constrained model and ``h_b`` its cross-information with the copy; this is
    lavaan's bordered-information formula with one constraint removed.
    """
    state = fit.state
    st = state.structure
    derivs = state.derivatives()
    a_inv = state.info_inverse()
    labels = state.data.labels
    first = {}
    for k in st.free_rows(0):
        first[st.free[k]] = k
    out = []
    by_id: dict[int, list[tuple[int, int]]] = {}
    for g in range(1, st.ngroups):
        for pos, k in enumerate(derivs[g].rows):
            pid = st.free[k]
            if pid in first:
                by_id.setdefault(pid, []).append((g, pos))
    for pid in sorted(by_id, key=lambda i: first[i]):
        k0 = first[pid]
        for g, pos in by_id[pid]:
            d = derivs[g]
            cross = np.zeros(st.npar)
            cross[d.ids] = d.info[:, pos]
            v = d.info[pos, pos] - cross @ a_inv @ cross
            x2 = d.grad[pos] ** 2 / (2.0 * v) if v > 0 else np.nan
            code = st.mat[k0]
            if code == NU:
                item, factor, parameter = st.observed[st.row[k0]], None, "intercept"
            elif code == LAMBDA:
                item, factor, parameter = st.observed[st.row[k0]], st.latent[st.col[k0]], "loading"
            elif code == BETA:
                item, factor, parameter = st.latent[st.row[k0]], st.latent[st.col[k0]], "loading"
            else:
                item, factor, parameter = st.lhs[k0], None, st.op[k0]
            out.append({
                "item": item, "factor": factor, "parameter": parameter,
                "group": labels[g], "reference_group": labels[0],
                "lhs": st.lhs[k0], "op": st.op[k0], "rhs": st.rhs[k0],
                "X2": float(x2), "df": 1,
                "p": float(stats.chi2.sf(x2, 1)) if np.isfinite(x2) else np.nan,
            })
    cols = ["item", "factor", "parameter", "group", "reference_group", "lhs", "op", "rhs",
            "X2", "df", "p"]
    frame = pd.DataFrame(out, columns=cols)
    if frame.empty:
        return frame
    # the item owning each intercept: its first factor
    owner = {i: f for f, items in reversed(list(state.spec.factors.items())) for i in items}
    frame["factor"] = [owner.get(i) if pd.isna(f) else f for f, i in
                       zip(frame["factor"], frame["item"], strict=True)]
    return frame


def _compare(table: pd.DataFrame, row: str, prev: str, step: str) -> dict:
    a, b = table.loc[row], table.loc[prev]
    dchi, ddf = a["chisq"] - b["chisq"], int(a["df"] - b["df"])
    dcfi, drmsea, dsrmr = a["cfi"] - b["cfi"], a["rmsea"] - b["rmsea"], a["srmr"] - b["srmr"]
    srmr_cut = CHEN_2007["delta_srmr_metric" if step == "metric" else "delta_srmr_scalar"]
    worse = dcfi <= CHEN_2007["delta_cfi"] and (
        drmsea >= CHEN_2007["delta_rmsea"] or dsrmr >= srmr_cut
    )
    return {
        "compared_with": prev,
        "chisq_diff": dchi,
        "df_diff": ddf,
        "p_diff": float(stats.chi2.sf(max(dchi, 0.0), ddf)) if ddf > 0 else np.nan,
        "delta_cfi": dcfi,
        "delta_rmsea": drmsea,
        "delta_srmr": dsrmr,
        "chen_2007": not worse,
        "cheung_rensvold_2002": not dcfi <= CHEUNG_RENSVOLD_2002,
    }


def _released(items: pd.DataFrame, spec_factors: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """Constraints to free: flagged (factor, item, parameter), keeping one equal
    intercept per factor (the least significant) so that latent means stay identified."""
    flagged = items[items["flagged"]]
    free: dict[tuple[str, str, str], float] = {}
    for row in flagged.itertuples():
        key = (row.factor, row.item, row.parameter)
        free[key] = max(free.get(key, 0.0), row.X2)
    for f, members in spec_factors.items():
        ints = [(k, x2) for k, x2 in free.items() if k[2] == "intercept" and k[0] == f]
        if ints and len(ints) >= len(members):
            keep = min(ints, key=lambda kv: kv[1])[0]
            free.pop(keep)
    return list(free)


def invariance(
    data: pd.DataFrame,
    model,
    group: str,
    *,
    min_group_size: int = 30,
    alpha: float = 0.05,
    adjust: str = "holm",
    missing: str = "listwise",
    estimator: str = "ML",
    second_order: Mapping[str, Sequence[str]] | None = None,
    residual_covariances: Sequence[tuple[str, str]] | None = None,
    parameterization: str = "delta",
    partial: Sequence[str] | None = None,
):
    """Configural, metric and scalar invariance across the groups of a column.

    Parameters
    ----------
    data : DataFrame
        Items (already reverse keyed) and the grouping column.
    model : mapping factor -> items, or lavaan syntax (see :func:`psychometrics.cfa`)
    group : str
        The grouping column (e.g. ``"lang"``); rows without a group are dropped. Groups
        come in order of first appearance (lavaan's order); the first is the reference
        group (latent means fixed to 0).
    min_group_size : int
        Refuse (``too-few-rows``) a group with fewer rows; every group also needs more
        complete rows than items.
    alpha : float
        Level for flagging items (after adjustment).
    adjust : ``"holm"``, ``"bonferroni"`` or ``"none"``
        Multiple-testing adjustment over all the constraints tested.
    missing : ``"listwise"`` or ``"fiml"``
    estimator : ``"ML"`` or ``"WLSMV"``
        ``"WLSMV"``: ordinal items, Wu & Estabrook (2016) steps configural, thresholds,
        loadings, intercepts (:func:`psychometrics.ordinal_invariance.ordinal_invariance`,
        which returns an ``OrdinalInvariance`` with the scaled fit measures).
    parameterization, partial
        WLSMV only: ``"delta"`` or ``"theta"``; constraints to release at every step
        (``"y3|t"``, ``"F1=~y3"``, ``"y3~1"``).

    Returns
    -------
    Invariance
        ``.table`` (one row per model), ``.items`` (score tests), ``.flagged``,
        ``.released``, ``.fits``, ``.rule``.

    Examples
    --------
    >>> inv = pm.invariance(hs, {"visual": ["x1", "x2", "x3"],
    ...                          "textual": ["x4", "x5", "x6"],
    ...                          "speed": ["x7", "x8", "x9"]}, group="school")
    >>> inv.table.loc["scalar", ["chisq", "df"]].tolist()   # 164.103, 60
    >>> inv.flagged                                        # ['x3', 'x7']

    In R: ``cfa(model, data = hs, group = "school", group.equal = c("loadings",
    "intercepts"))`` and ``lavTestScore()`` on it.
    """
    func = "invariance"
    if estimator == "WLSMV":
        from psychometrics.ordinal_invariance import ordinal_invariance

        check_choice(missing, name="missing", choices=("listwise",), func=func)
        return ordinal_invariance(data, model, group, parameterization=parameterization,
                                  partial=partial, alpha=alpha, adjust=adjust,
                                  min_group_size=min_group_size, second_order=second_order,
                                  residual_covariances=residual_covariances)
    missing, min_group_size, alpha = _checked_options(estimator, missing, group, min_group_size,
                                                      alpha, adjust, func)
    spec = parse_model(model, second_order, residual_covariances, func)
    d = estimate.prepare(data, spec.items, group, missing, func, min_group_size=min_group_size)
    with single_thread():
        fits, items, released = _fit_models(d, spec, adjust, alpha, func)
    flagged = list(dict.fromkeys(items.loc[items["flagged"], "item"])) if not items.empty else []
    return Invariance(
        table=_comparison_table(fits),
        items=items,
        flagged=flagged,
        released=[(i, kind) for _, i, kind in released],
        fits=fits,
        group=group,
        groups=tuple(d.labels),
        group_sizes=pd.Series(d.sizes, index=pd.Index(d.labels, name=group), name="n"),
        rule=RULE.format(adjust=adjust, alpha=alpha),
    )


def _checked_options(estimator, missing, group, min_group_size, alpha, adjust, func):
    """The ML options, checked: ``(missing, min_group_size, alpha)``."""
    missing = estimate.check_options(estimator, missing, func, group=group)
    min_group_size = check_int(min_group_size, name="min_group_size", minimum=2, func=func)
    alpha = check_fraction(alpha, name="alpha", func=func)
    check_choice(adjust, name="adjust", choices=("holm", "bonferroni", "none"), func=func)
    if group is None or isinstance(group, list | tuple | dict):
        raise PsychometricsError(
            "invalid-value",
            f"The 'group' parameter of {func} must name one column of the data; got {group!r}.",
        )
    return missing, min_group_size, alpha


def _fit_models(d, spec, adjust: str, alpha: float, func: str):
    """The configural, metric and scalar models, the score tests of the scalar model's
    constraints, and the partial model freeing the flagged ones: ``(fits, items,
    released)``."""
    discs = estimate.discrepancies(d, True, func)  # sample statistics (FIML: EM) once
    steps = {"configural": (), "metric": ("loadings",), "scalar": ("loadings", "intercepts")}
    fits = {name: estimate.fit(d, spec, func=func, group_equal=equal, extras=False, discs=discs)
            for name, equal in steps.items()}
    items = _flag_items(score_tests(fits["scalar"]), adjust, alpha)
    released = _released(items, spec.factors) if not items.empty else []
    if released:
        partial = frozenset((f, "=~", i) if kind == "loading" else (i, "~1", "")
                            for f, i, kind in released)
        fits["partial"] = estimate.fit(d, spec, func=func, group_equal=steps["scalar"],
                                       group_partial=partial, extras=False, discs=discs)
    return fits, items, released


def _flag_items(items: pd.DataFrame, adjust: str, alpha: float) -> pd.DataFrame:
    """The score tests with their adjusted p-values and the flag ``p_adj < alpha``."""
    if items.empty:
        items["p_adj"] = pd.Series(dtype=float)
        items["flagged"] = pd.Series(dtype=bool)
    else:
        items["p_adj"] = adjust_p(items["p"].to_numpy(), adjust)
        items["flagged"] = items["p_adj"] < alpha
    return items


def _comparison_table(fits: dict) -> pd.DataFrame:
    """One row per model: its fit measures, then the comparison with the previous model
    (the partial model with the metric one)."""
    cols = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
            "rmsea_ci_upper", "srmr", "aic", "bic"]
    table = pd.DataFrame({name: {c: f.fit[c] for c in cols} for name, f in fits.items()}).T
    table["df"] = table["df"].astype(int)
    extra = {"configural": {}}
    extra["metric"] = _compare(table, "metric", "configural", "metric")
    extra["scalar"] = _compare(table, "scalar", "metric", "scalar")
    if "partial" in fits:
        extra["partial"] = _compare(table, "partial", "metric", "scalar")
    extra_cols = ["compared_with", "chisq_diff", "df_diff", "p_diff", "delta_cfi",
                  "delta_rmsea", "delta_srmr", "chen_2007", "cheung_rensvold_2002"]
    ext = pd.DataFrame([extra[name] for name in table.index], index=table.index,
                       columns=extra_cols)
    table = pd.concat([table, ext], axis=1)
    table.index.name = "model"
    return table


# --------------------------------------------------------------------------- the step sequence

STEP_RULE = (
    "Steps, in order: configural; metric (equal loadings), compared with configural; scalar "
    "(equal intercepts too), compared with the metric model retained. A step fails when the "
    "fit worsens beyond Chen's (2007) cut-offs (delta CFI <= -.010 together with delta RMSEA "
    ">= .015 or delta SRMR >= .030 (metric) / .010 (scalar)) or when the score test "
    "(lavaan::lavTestScore) of one of its equality constraints is significant after Holm's "
    "(1979) correction over the family of that step's constraints for this grouping column "
    "({family}; all the scales together when each is tested on its own), p < {alpha}. At a "
    "failing step the constraint with the largest significant test is released (partial "
    "invariance, lavaan group.partial), the model refitted and the family's tests adjusted "
    "again, until the step holds (Yoon & Millsap 2007: one biased intercept also makes the "
    "other intercepts of its factor misfit, so constraints are released one at a time). "
    "If the fit still fails with no significant test left, the step fails and the sequence "
    "stops there. The next step starts from the partial model. The non-invariant items are "
    "those whose constraints were released."
)

#: which constraints each step adds, and the models' names
STEPS = {"metric": ("loading", ("loadings",)), "scalar": ("intercept", ("loadings", "intercepts"))}


@dataclass
class _Trail:
    """One model under test (the whole model, or one scale) along the steps."""

    model: dict[str, list[str]]
    d: object  # engine data
    discs: list
    fits: dict  # model name -> CFA
    released: list = field(default_factory=list)  # dicts: step item factor parameter X2 p_adj
    stopped: str | None = None
    first_pass: list = field(default_factory=list)

    def partial(self) -> frozenset:
        return frozenset((r["factor"], "=~", r["item"]) if r["parameter"] == "loading"
                         else (r["item"], "~1", "") for r in self.released)

    def refit(self, step: str) -> CFA:
        spec = parse_model(self.model, None, None, "invariance")
        fit = estimate.fit(self.d, spec, func="invariance", group_equal=STEPS[step][1],
                           group_partial=self.partial(), extras=False, discs=self.discs)
        name = step if not any(r["step"] == step for r in self.released) else f"{step}_partial"
        self.fits[name] = fit
        return fit

    def retained(self, step: str) -> str:
        return f"{step}_partial" if f"{step}_partial" in self.fits else step


def _step_tests(trails: dict[str, _Trail], step: str) -> pd.DataFrame:
    """Score tests of the constraints a step adds, pooled over the trails, with Holm's
    adjustment over them (``p_adj``)."""
    kind = STEPS[step][0]
    parts = []
    for name, trail in trails.items():
        if trail.stopped is None:
            tests = score_tests(trail.fits[trail.retained(step)])
            parts.append(tests[tests["parameter"] == kind].assign(scale=name))
    cols = ["scale", "item", "factor", "parameter", "group", "reference_group", "X2", "p"]
    pool = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    pool["p_adj"] = holm(pool["p"].to_numpy(dtype=float))
    return pool


def _releasable(trail: _Trail, row) -> bool:
    """An intercept can be released while its factor keeps another equal intercept (the
    latent mean stays identified); an item is released once per step."""
    done = {(r["item"], r["parameter"]) for r in trail.released}
    if (row["item"], row["parameter"]) in done:
        return False
    if row["parameter"] != "intercept":
        return True
    free = {r["item"] for r in trail.released if r["parameter"] == "intercept"}
    return len([i for i in trail.model[row["factor"]] if i not in free and i != row["item"]]) >= 1


def _release(trails: dict[str, _Trail], step: str, alpha: float, notes: list):
    """Release the largest significant constraint of the step, one at a time; returns
    the step's first pooled tests and its last."""
    pool = first = _step_tests(trails, step)
    family = len(pool)
    for name in trails:
        sig = pool[(pool["scale"] == name) & (pool["p_adj"] < alpha)]
        trails[name].first_pass += list(dict.fromkeys(sig["item"]))
    for _ in range(family):
        sig = pool[pool["p_adj"] < alpha].sort_values("X2", ascending=False, kind="stable")
        sig = sig[[_releasable(trails[r["scale"]], r) for _, r in sig.iterrows()]]
        if sig.empty:
            break
        top = sig.iloc[0]
        trail = trails[top["scale"]]
        trail.released.append({"step": step, "item": top["item"], "factor": top["factor"],
                               "parameter": top["parameter"], "X2": float(top["X2"]),
                               "p_adj": float(top["p_adj"])})
        try:
            trail.refit(step)
        except PsychometricsError as e:
            notes.append({"step": f"invariance:{top['scale']}", "code": e.code, "message": str(e)})
            trail.stopped = step
        pool = _step_tests(trails, step)
    return first, pool


def _table(trail: _Trail) -> pd.DataFrame:
    cols = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper",
            "srmr", "aic", "bic"]
    table = pd.DataFrame({name: {c: f.fit[c] for c in cols} for name, f in trail.fits.items()}).T
    table["df"] = table["df"].astype(int)
    extra = {}
    for name in table.index:
        step = name.split("_")[0]
        if step in STEPS:
            prev = "configural" if step == "metric" else trail.retained("metric")
            extra[name] = _compare(table, name, prev, step)
    ext = pd.DataFrame([extra.get(name, {}) for name in table.index], index=table.index)
    table = pd.concat([table, ext], axis=1)
    table.index.name = "model"
    return table


def _holds(trail: _Trail, step: str, last: pd.DataFrame, name: str, alpha: float) -> bool:
    """The retained model of the step keeps Chen's fit and no significant test is left."""
    row = _table(trail).loc[trail.retained(step)]
    left = last[(last["scale"] == name) & (last["p_adj"] < alpha)]
    return bool(row["chen_2007"]) and left.empty


def stepwise(data: pd.DataFrame, plan: dict, group: str, *, min_group_size: int = 30,
             alpha: float = 0.05):
    """The step sequence of :data:`STEP_RULE` for each model of ``plan`` (name -> factor
    mapping; one name for the whole model, or one per scale), the score tests pooled over
    them. Returns ``(trails, first_tests, notes)``: the models along the steps, each step's
    first pooled score tests (``step`` column), and notes (``step code message``)."""
    func = "invariance"
    trails, notes, firsts = {}, [], []
    for name, model in plan.items():
        try:
            spec = parse_model(model, None, None, func)
            d = estimate.prepare(data, spec.items, group, "listwise", func, min_group_size=min_group_size)
            discs = estimate.discrepancies(d, True, func)
            trail = _Trail(spec.factors, d, discs, {})
            trail.fits["configural"] = estimate.fit(d, spec, func=func, extras=False, discs=discs)
            trail.refit("metric")
        except PsychometricsError as e:
            notes.append({"step": f"invariance:{group}:{name}", "code": e.code, "message": str(e),
                          "scale": name})
            continue
        trails[name] = trail
    for step in STEPS:
        for trail in trails.values():
            if step == "scalar" and trail.stopped is None:
                trail.refit("scalar")
        first, last = _release(trails, step, alpha, notes)
        firsts.append(first.assign(step=step))
        for name, trail in trails.items():
            if trail.stopped is None and not _holds(trail, step, last, name, alpha):
                trail.stopped = step
                notes.append({"step": f"invariance:{group}:{name}", "code": "invariance-step-failed",
                              "message": f"{step.capitalize()} invariance does not hold for {name!r}"
                              + (" even with the constraints released" if trail.released else "")
                              + ("; the scalar step is not tested." if step == "metric" else ".")})
    return trails, pd.concat(firsts, ignore_index=True), notes


def _steps_view(trail: _Trail, table: pd.DataFrame) -> list[dict]:
    out = []
    for step in STEPS:
        if step not in trail.fits:
            break
        row = trail.retained(step)
        released = [{k: r[k] for k in ("item", "factor", "parameter", "X2", "p_adj")}
                    for r in trail.released if r["step"] == step]
        verdict = "fails" if trail.stopped == step else ("partial" if released else "holds")
        out.append({"step": step, "model": row, "compared_with": table.loc[row, "compared_with"],
                    "verdict": verdict, "released": released})
    return out


def _plan(sub: pd.DataFrame, model: dict, g: str, minimum: int, rows_per_item: float, out: dict):
    """The whole model when every group has enough complete rows, else scale by scale."""
    items = [i for v in model.values() for i in v]
    per_group = sub[items].notna().all(axis=1).groupby(sub[g]).sum()
    need = max(minimum, rows_per_item * len(items), len(items) + 1)
    out["model_rows_needed"] = int(need)
    if (per_group >= need).all():
        out["mode"] = "model"
        return {"model": model}, {}
    out["mode"] = "per-scale"
    out["mode_reason"] = (
        f"Too few complete rows per group for the whole model ({len(items)} items need "
        f"{int(need)} per group; complete rows: "
        f"{', '.join(f'{k}={int(v)}' for k, v in per_group.items())}): "
        "each scale is tested on its own (one-factor models).")
    skipped = {f: {"skipped": "too-few-items",
                   "reason": f"Scale {f!r} has {len(v)} items; a one-factor test needs 3."}
               for f, v in model.items() if len(v) < 3}
    return {f: {f: v} for f, v in model.items() if len(v) >= 3}, skipped


def _fit_entry(name: str, trail: _Trail) -> dict:
    table = _table(trail)
    # the step's verdict on each model: the retained model of a step that holds (or holds
    # partially) holds; a model whose constraints had to be released does not
    table["holds"] = [None if n == "configural"
                      else n == trail.retained(n.split("_")[0]) and trail.stopped != n.split("_")[0]
                      for n in table.index]
    released = list(trail.released)
    return {
        "table": table, "groups": {str(k): int(v) for k, v in zip(trail.d.labels, trail.d.sizes, strict=True)},
        "steps": _steps_view(trail, table), "stopped_at": trail.stopped,
        "flagged": list(dict.fromkeys(r["item"] for r in released)),
        "flagged_first_pass": list(dict.fromkeys(trail.first_pass)),
        "purification": [{"scale": name, **r} for r in released],
        "released": [[r["item"], r["parameter"]] for r in released],
    }


def report_entry(frame: pd.DataFrame, model: dict, g: str, *, min_group_size: int = 30,
                 rows_per_item: float = 5, alpha: float = 0.05, min_cell: int = 5,
                 top: int = 10) -> tuple[dict, list[dict]]:
    """The validation report's invariance across column ``g`` (results.json
    ``invariance.<g>``) and its notes: groups below ``min_group_size`` left out, the whole
    model or scale by scale (``rows_per_item`` complete rows per item and group), then
    :func:`stepwise`. Each fit gives its table (``configural``, ``metric``,
    ``metric_partial``, ``scalar``, ``scalar_partial`` as fitted), its ``steps`` (verdict
    ``holds``/``partial``/``fails`` and what was released at that step) and ``flagged``
    (the items released): the text, the table and results.json read the same list.
    Counts under ``min_cell`` are None (suppressed)."""
    col = frame[g]
    sizes = col.value_counts(dropna=True)
    levels = list(pd.unique(col.dropna()))
    kept = [lvl for lvl in levels if sizes[lvl] >= min_group_size]

    def cell(n):
        return int(n) if n >= min_cell else None

    out: dict = {"group": g, "sizes": {str(k): cell(sizes[k]) for k in levels},
                 "excluded": {str(k): cell(sizes[k]) for k in levels if k not in kept},
                 "min_group_size": min_group_size}
    if len(kept) < 2:
        shown = ", ".join(f"{k}={'<5' if v is None else v}" for k, v in out["sizes"].items())
        out["skipped"] = "too-few-groups"
        out["reason"] = (f"Fewer than 2 groups of column {g!r} have at least {min_group_size} "
                         f"respondents (sizes: {shown}).")
        return out, [{"step": f"invariance:{g}", "code": "too-few-groups", "message": out["reason"]}]
    sub = frame[col.isin(kept)]
    plan, fits = _plan(sub, model, g, min_group_size, rows_per_item, out)
    trails, first, notes = stepwise(sub, plan, g, min_group_size=min_group_size, alpha=alpha)
    for note in notes:
        if "scale" in note:
            fits[note.pop("scale")] = {"skipped": note["code"], "reason": note["message"]}
    fits.update({name: _fit_entry(name, trail) for name, trail in trails.items()})
    out["fits"] = fits
    out["alpha"] = alpha
    out["family_size"] = len(first)
    out["family_sizes"] = {step: int((first["step"] == step).sum()) for step in STEPS}
    out["rule"] = STEP_RULE.format(alpha=alpha, family=", ".join(
        f"{n} {step} tests" for step, n in out["family_sizes"].items()))
    if out["mode"] == "model" and "table" in fits.get("model", {}):
        out["table"] = fits["model"]["table"]
    released = {(r["scale"], r["item"], r["parameter"]) for t in fits.values() for r in t.get("purification", [])}
    head = first.sort_values("X2", ascending=False, kind="stable").head(top)
    out["score_tests"] = [
        {"scale": r["scale"], "step": r["step"], "item": r["item"], "parameter": r["parameter"],
         "group": str(r["group"]), "reference_group": str(r["reference_group"]), "X2": r["X2"],
         "p": r["p"], "p_adj": r["p_adj"],
         "flagged": (r["scale"], r["item"], r["parameter"]) in released} for _, r in head.iterrows()]
    out["flagged"] = list(dict.fromkeys(i for t in trails for i in fits[t]["flagged"]))
    out["purification"] = [r for t in trails for r in fits[t]["purification"]]
    return out, notes
