"""pm.invariance(..., estimator="WLSMV") against lavaan 0.6-14 / semTools 0.5-6.

Golden values: tests/reference/ordinal_invariance/ordinal_invariance.json, written by
make_ordinal_invariance.R beside it (data: semTools' datCat, and sim2g.csv, 2 x 400
simulated 5-point answers whose item y3 has its thresholds shifted by -0.6 in group B).
R calls, per case and step (configural, thresholds, loadings, intercepts):

    syn <- measEq.syntax(model, data = d, ordered = items, group = g, parameterization = p,
                         ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016",
                         group.equal = <step>, group.partial = <partial>)
    fit <- cfa(as.character(syn), data = d, ordered = items, group = g,
               estimator = "WLSMV", parameterization = p)
    fitMeasures(fit, c("chisq", "df", "chisq.scaled", "df.scaled", "cfi.scaled",
                       "tli.scaled", "rmsea.scaled", "npar"))
    lavTestLRT(fit_previous_step, fit, method = "satorra.2000")
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.errors import PsychometricsError
from psychometrics.ordinal_invariance import OrdinalInvariance

HERE = Path(__file__).parent / "reference" / "ordinal_invariance"
REF = json.loads((HERE / "ordinal_invariance.json").read_text())
YS = [f"y{i}" for i in range(1, 9)]
SIM_MODEL = {"F1": YS[:4], "F2": YS[4:]}
CAT_MODEL = "FU1 =~ u1 + u2 + u3 + u4\nFU2 =~ u5 + u6 + u7 + u8"
CROSS_MODEL = "FU1 =~ u1 + u2 + u3 + u4\nFU2 =~ u5 + u6 + u7 + u8 + u3\nu7 ~~ u8"
STEPS = ("configural", "thresholds", "loadings", "intercepts")
CASES = {
    "sim_delta": ("sim2g.csv", "grp", SIM_MODEL, "delta", []),
    "sim_theta": ("sim2g.csv", "grp", SIM_MODEL, "theta", []),
    "sim_partial": ("sim2g.csv", "grp", SIM_MODEL, "delta", ["y3|t1", "y3|t2", "y3|t3", "y3|t4"]),
    "cat_delta": ("datcat.csv", "g", CAT_MODEL, "delta", []),
    "cat_theta": ("datcat.csv", "g", CAT_MODEL, "theta", []),
    "cat_cross": ("datcat.csv", "g", CROSS_MODEL, "delta", []),
    # three unequal groups (150, 250, 300 rows of sim2g): the groups' weights N_g / N
    "sim3_unequal": ("sim3", "grp", SIM_MODEL, "delta", []),
}


def _data(csv):
    if csv == "sim3":   # as make_ordinal_invariance.R builds it from sim2g.csv
        d = pd.read_csv(HERE / "sim2g.csv")
        grp = ["A1"] * 150 + ["A2"] * 250 + ["B"] * 300
        return d.iloc[:700].assign(grp=grp)
    return pd.read_csv(HERE / csv)


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    csv, group, model, param, partial = CASES[request.param]
    # partial=[] : the four steps exactly as measEq.syntax builds them (no automatic release)
    inv = pm.invariance(_data(csv), model, group, estimator="WLSMV", parameterization=param,
                        partial=partial)
    return request.param, inv


def test_steps_match_lavaan(case):
    name, inv = case
    assert isinstance(inv, OrdinalInvariance)
    assert list(inv.table.index) == list(STEPS)
    for step in STEPS:
        want, got = REF[name]["fit"][step], inv.table.loc[step]
        assert got["df"] == want["df"] and got["df_scaled"] == want["df.scaled"], (name, step)
        assert got["npar"] == want["npar"], (name, step)
        assert got["chisq"] == pytest.approx(want["chisq"], rel=1e-3), (name, step)
        assert got["chisq_scaled"] == pytest.approx(want["chisq.scaled"], rel=1e-3), (name, step)
        for key in ("cfi_scaled", "tli_scaled", "rmsea_scaled"):
            assert got[key] == pytest.approx(want[key.replace("_", ".")], abs=1e-3), (name, step, key)
    assert all(f.converged for f in inv.fits.values())


def test_difference_tests_match_lavtestlrt(case):
    name, inv = case
    for step in STEPS[1:]:
        want, got = REF[name]["lrt"][step], inv.table.loc[step]
        assert got["df_diff"] == want["df_diff"], (name, step)
        assert got["chisq_diff"] == pytest.approx(want["chisq_diff"], rel=1e-3, abs=1e-3), (name, step)
        assert got["p_diff"] == pytest.approx(want["pvalue"], abs=1e-3), (name, step)


def test_theta_and_delta_give_the_same_fit():
    d = _data("datcat.csv")
    a = pm.invariance(d, CAT_MODEL, "g", estimator="WLSMV", partial=[])
    b = pm.invariance(d, CAT_MODEL, "g", estimator="WLSMV", partial=[], parameterization="theta")
    cols = ["chisq", "chisq_scaled", "cfi_scaled", "rmsea_scaled"]
    pd.testing.assert_frame_equal(a.table[cols], b.table[cols], atol=1e-6)


def test_shifted_item_is_located_and_released():
    # y3's thresholds are shifted in group B: a uniform shift, which the Wu & Estabrook
    # thresholds step absorbs in y3's latent intercept, so it fails at the intercepts step
    inv = pm.invariance(_data("sim2g.csv"), SIM_MODEL, "grp", estimator="WLSMV")
    assert "y3" in inv.flagged
    assert ("y3", "intercept") in inv.released
    assert "intercepts_partial" in inv.table.index
    part = inv.table.loc["intercepts_partial"]
    assert "y3~1" in part["released"]
    assert part["p_diff"] >= 0.05
    assert part["compared_with"] == inv.table.loc["intercepts", "compared_with"]
    items = inv.items[inv.items["step"] == "intercepts"]
    assert items.loc[items["X2"].idxmax(), "item"] == "y3"
    assert "Flagged items:" in inv.summary()


def test_no_release_when_every_step_holds():
    inv = pm.invariance(_data("datcat.csv"), CAT_MODEL, "g", estimator="WLSMV")
    assert list(inv.table.index) == list(STEPS)
    assert inv.flagged == [] and inv.items.empty


def test_errors():
    d = _data("datcat.csv")
    with pytest.raises(PsychometricsError) as err:
        pm.invariance(d, CAT_MODEL, "g", estimator="WLSMV", partial=["u9|t1"])
    assert err.value.code == "invalid-value"
    sparse = d.copy()
    sparse.loc[(sparse["g"] == "male") & (sparse["u1"] == 5), "u1"] = 4
    with pytest.raises(PsychometricsError) as err:
        pm.invariance(sparse, CAT_MODEL, "g", estimator="WLSMV")
    assert err.value.code == "empty-category" and "'u1'" in str(err.value)
    with pytest.raises(PsychometricsError) as err:
        pm.invariance(d.assign(g="one"), CAT_MODEL, "g", estimator="WLSMV")
    assert err.value.code == "too-few-groups"
    with pytest.raises(PsychometricsError) as err:
        pm.invariance(d, CAT_MODEL, "g", estimator="WLSMV", missing="fiml")
    assert err.value.code == "invalid-option"
    with pytest.raises(PsychometricsError) as err:
        pm.invariance(d, CAT_MODEL, "g", estimator="WLSMV", parameterization="gamma")
    assert err.value.code == "invalid-option"
    with pytest.raises(PsychometricsError) as err:
        pm.invariance(d, CAT_MODEL, "g", estimator="WLSMV", second_order={"G": ["FU1", "FU2"]})
    assert err.value.code == "not-implemented"
