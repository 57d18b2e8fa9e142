"""The engine's tables for ordinal invariance (psychometrics/engine/measeq.py) and the
discrepancy on thresholds and correlations (psychometrics/engine/dwls.py ThresholdDWLS).

The fit measures and difference tests are checked against lavaan in
tests/test_ordinal_invariance.py; here: every step's parameter estimates against lavaan's
(tests/reference/ordinal_invariance/ordinal_estimates.json, written by
make_ordinal_estimates.R beside it: per case and step ``measEq.syntax(ID.fac = "std.lv",
ID.cat = "Wu.Estabrook.2016", group.equal = <step>)``, ``cfa(ordered = TRUE, estimator =
"WLSMV", parameterization = p)``, ``parameterEstimates(fit, standardized = TRUE)``), the
parameters each step frees, and the analytic derivatives of the implied thresholds and
correlations (delta and theta parameterizations) against central differences.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.engine import dwls, estimate, measeq
from psychometrics.ordinal_invariance import STEPS

HERE = Path(__file__).parent / "reference" / "ordinal_invariance"
DATA = HERE / "sim2g.csv"
YS = [f"y{i}" for i in range(1, 9)]
CASES = {   # as make_ordinal_estimates.R fits them
    "sim_delta": ("sim2g.csv", "grp", {"F1": YS[:4], "F2": YS[4:]}, "delta"),
    "sim_theta": ("sim2g.csv", "grp", {"F1": YS[:4], "F2": YS[4:]}, "theta"),
    "cat_cross": ("datcat.csv", "g", "FU1 =~ u1 + u2 + u3 + u4\nFU2 =~ u5 + u6 + u7 + u8 + u3\n"
                  "u7 ~~ u8", "delta"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_match_lavaan(case):
    """Every row of lavaan's parameterEstimates (free, fixed and derived: 138 or 142 per
    step) is in ours; est, robust se and std.all agree to 1e-4 (observed: est 2e-5, se
    3e-6, std.all 5e-6; lavaan stops its optimizer earlier)."""
    ref = json.loads((HERE / "ordinal_estimates.json").read_text())[case]["steps"]
    csv, group, model, param = CASES[case]
    inv = pm.invariance(pd.read_csv(HERE / csv), model, group, estimator="WLSMV",
                        parameterization=param, partial=[])
    for step, rows in ref.items():
        want = pd.DataFrame(rows).astype({"group": str})
        got = inv.fits[step].estimates
        assert list(got.columns) == ["lhs", "op", "rhs", "group", "label", "est", "se", "z",
                                     "pvalue", "ci_lower", "ci_upper", "std_all"]
        both = want.merge(got, on=["lhs", "op", "rhs", "group"], how="left", suffixes=("_r", ""))
        assert len(got) == len(want) and both["est"].notna().all(), (case, step)
        for ours, theirs in (("est", "est_r"), ("se", "se_r"), ("std_all", "std.all")):
            np.testing.assert_allclose(both[ours], both[theirs], atol=1e-4, err_msg=f"{case} {step} {ours}")


@pytest.fixture(scope="module")
def setup():
    d = estimate.prepare(pd.read_csv(DATA), YS, "grp", "listwise", "test", estimator="WLSMV")
    groups = estimate.discrepancies(d, False, "test")
    pattern = np.zeros((8, 2), dtype=bool)
    pattern[:4, 0] = pattern[4:, 1] = True
    pattern[2, 1] = True                       # a cross-loading
    info = measeq.Measurement(
        items=tuple(YS), factors=("F1", "F2"), pattern=pattern, rcov=((6, 7),),
        n_th=tuple(int(groups[0].stats.n_categories[y]) - 1 for y in YS), groups=("A", "B"),
        th_start=np.stack([g.stats.thresholds.to_numpy() for g in groups]))
    return info, groups


def test_names_follow_the_steps(setup):
    info, _ = setup
    conf = measeq.table(info, STEPS["configural"], frozenset(), theta=False)
    assert "y3|t1.g1" in conf.names and "y3|t1.g2" in conf.names and "y3~1.g2" not in conf.names
    th = measeq.table(info, STEPS["thresholds"], frozenset(), theta=False)
    assert {"y3|t1", "y3~1.g2", "y3~*~y3.g2"} <= set(th.names) and "F1~~F1.g2" not in th.names
    # the delta parameterization frees scales, the theta one residual variances
    assert "y3~~y3.g2" in measeq.table(info, STEPS["thresholds"], frozenset(), theta=True).names
    load = measeq.table(info, STEPS["loadings"], frozenset({"F2=~y3"}), theta=False)
    assert {"F1=~y3", "F2=~y3.g1", "F2=~y3.g2", "F1~~F1.g2"} <= set(load.names)
    icpt = measeq.table(info, STEPS["intercepts"], frozenset({"y5~1"}), theta=False)
    assert {"F1~1.g2", "y5~1.g2"} <= set(icpt.names) and "y4~1.g2" not in icpt.names
    # each step adds constraints: fewer free parameters
    assert conf.npar > th.npar > load.npar + 1 > icpt.npar


@pytest.mark.parametrize("theta", [False, True])
@pytest.mark.parametrize("step", ["thresholds", "intercepts"])
def test_derivatives_match_central_differences(setup, step, theta):
    info, groups = setup
    tab = measeq.table(info, STEPS[step], frozenset(), theta=theta)
    fit = measeq.fit(tab, groups, None, max_iter=3)
    rng = np.random.default_rng(1)
    x = fit.x + rng.normal(0, 0.05, len(fit.x))       # away from the solution
    moved = measeq.fit(tab, groups, None, previous=_at(fit, x), max_iter=0)
    st = tab.structure
    for g, grp in enumerate(groups):
        disc = dwls.ThresholdDWLS(grp, st.th_item, theta)
        h = 1e-6
        numeric = np.column_stack([
            (disc.implied(st.matrices(x + h * e, g)) - disc.implied(st.matrices(x - h * e, g))) / (2 * h)
            for e in np.eye(len(x))])
        np.testing.assert_allclose(moved.delta[g], numeric, atol=1e-7)


def test_fit_is_a_stationary_point(setup):
    info, groups = setup
    tab = measeq.table(info, STEPS["intercepts"], frozenset(), theta=False)
    fit = measeq.fit(tab, groups, dwls.baseline(groups))
    assert fit.converged and fit.fit["npar"] == tab.npar
    resid = [g.s_all - dwls.ThresholdDWLS(g, tab.structure.th_item, False).implied(
        tab.structure.matrices(fit.x, k)) for k, g in enumerate(groups)]
    grad = sum((g.n - 1) * fit.delta[k].T @ (g.w_all * resid[k]) for k, g in enumerate(groups))
    assert np.max(np.abs(grad)) < 1e-8
    est = fit.estimates
    assert set(est.loc[est["se"] > 0, "label"]) == set(tab.names)


def _at(fit: measeq.OrdinalFit, x: np.ndarray) -> measeq.OrdinalFit:
    """The same fit with other estimates (a start for measeq.fit)."""
    return measeq.OrdinalFit(fit.table, x, fit.delta, fit.fit, fit.converged)
