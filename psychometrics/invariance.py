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
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics._checks import check_choice, check_fraction, check_int
from psychometrics.engine import estimate
from psychometrics.engine.core import BETA, LAMBDA, NU, single_thread
from psychometrics.engine.indices import CFA
from psychometrics.engine.model import parse_model
from psychometrics.errors import PsychometricsError

__all__ = ["Invariance", "invariance"]

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


def _holm(p: np.ndarray) -> np.ndarray:
    order = np.argsort(p, kind="stable")
    m = len(p)
    adj = np.empty(m)
    running = 0.0
    for rank, k in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[k]))
        adj[k] = running
    return adj


def _adjust(p: np.ndarray, method: str) -> np.ndarray:
    if method == "holm":
        return _holm(p)
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
    frame["factor"] = [f if f is not None else owner.get(i) for f, i in
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
                                  min_group_size=min_group_size,
                                  residual_covariances=residual_covariances)
    missing = estimate.check_options(estimator, missing, func, group=group)
    min_group_size = check_int(min_group_size, name="min_group_size", minimum=2, func=func)
    alpha = check_fraction(alpha, name="alpha", func=func)
    check_choice(adjust, name="adjust", choices=("holm", "bonferroni", "none"), func=func)
    if group is None or isinstance(group, list | tuple | dict):
        raise PsychometricsError(
            "invalid-value",
            f"The 'group' parameter of {func} must name one column of the data; got {group!r}.",
        )
    spec = parse_model(model, second_order, residual_covariances, func)
    d = estimate.prepare(data, spec.items, group, missing, func, min_group_size=min_group_size)
    with single_thread():
        discs = estimate.discrepancies(d, True, func)  # sample statistics (FIML: EM) once
        fits = {
            "configural": estimate.fit(d, spec, func=func, extras=False, discs=discs),
            "metric": estimate.fit(d, spec, func=func, group_equal=("loadings",), extras=False,
                           discs=discs),
            "scalar": estimate.fit(d, spec, func=func, group_equal=("loadings", "intercepts"),
                           extras=False, discs=discs),
        }
        items = score_tests(fits["scalar"])
        if not items.empty:
            items["p_adj"] = _adjust(items["p"].to_numpy(), adjust)
            items["flagged"] = items["p_adj"] < alpha
        else:
            items["p_adj"] = pd.Series(dtype=float)
            items["flagged"] = pd.Series(dtype=bool)
        released = _released(items, spec.factors) if not items.empty else []
        if released:
            partial = frozenset(
                (f, "=~", i) if kind == "loading" else (i, "~1", "")
                for f, i, kind in released
            )
            fits["partial"] = estimate.fit(d, spec, func=func, group_equal=("loadings", "intercepts"),
                                   group_partial=partial, extras=False, discs=discs)
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
    flagged = list(dict.fromkeys(items.loc[items["flagged"], "item"])) if not items.empty else []
    return Invariance(
        table=table,
        items=items,
        flagged=flagged,
        released=[(i, kind) for _, i, kind in released],
        fits=fits,
        group=group,
        groups=tuple(d.labels),
        group_sizes=pd.Series(d.sizes, index=pd.Index(d.labels, name=group), name="n"),
        rule=RULE.format(adjust=adjust, alpha=alpha),
    )
