"""WLSMV for ordinal items (the engine's DWLS estimator, pm.cfa(..., estimator="WLSMV"))
against lavaan 0.6-14.

Expected numbers come from ``tests/reference/make_wlsmv_reference.R`` (wlsmv_extra.json:
``lavInspect(fit, "sampstat")``, ``lavInspect(fit, "gamma")``, ``lavInspect(fit, "wls.v")``,
``fitMeasures``, ``parameterEstimates``, ``standardizedSolution``, semTools) and from
``../shared/reference`` (``cfa_wlsmv``: ``lavaan::cfa(model, data = x, ordered = items,
estimator = "WLSMV")``). Data prepared as make_reference.R does (``load_reference``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference

import psychometrics as pm
from psychometrics.engine.ordinal import ordinal_stats, polychorics
from psychometrics.errors import PsychometricsError

HERE = Path(__file__).parent / "reference"
EXTRA = json.loads((HERE / "wlsmv_extra.json").read_text())


def fit_wlsmv(data, model, std_lv=False):
    return pm.cfa(data, model, estimator="WLSMV", std_lv=std_lv)


def wlsmv_cfa(data, model, **options):
    return pm.cfa(data, model, estimator="WLSMV", **options)


def _stats(res):
    return res.state.discrepancies[0].stats


def _est(res, lhs, op, rhs, col="est"):
    return res.params.set_index(["lhs", "op", "rhs"]).loc[(lhs, op, rhs), col]


def _model(cfg):
    return {f: [k.lstrip("-") for k in keys] for f, keys in cfg["scales"].items()}


@pytest.fixture(scope="module")
def consortium():
    _, cfg, ref, x = load_reference("consortium_dev")
    return cfg, ref, x


@pytest.fixture(scope="module")
def consortium_fit(consortium):
    cfg, _, x = consortium
    return fit_wlsmv(x, _model(cfg))


@pytest.fixture(scope="module")
def bfi_fit():
    _, cfg, ref, x = load_reference("bfi")
    return fit_wlsmv(x, _model(cfg)), ref


@pytest.fixture(scope="module")
def mixed4(consortium):
    # x4$TRU2 <- c(1, 1, 2, 3, 3)[x4$TRU2]; x4$TRU4 <- as.integer(x4$TRU4 >= 4)
    x4 = consortium[2][["TRU1", "TRU2", "TRU4", "TRU5"]].copy()
    x4["TRU2"] = np.array([1, 1, 2, 3, 3])[x4["TRU2"].astype(int) - 1]
    x4["TRU4"] = (x4["TRU4"] >= 4).astype(int)
    return x4


@pytest.fixture(scope="module")
def zero_cell():
    return pd.read_csv(HERE / "wlsmv_zero_cell.csv")


def _fits(name, consortium_fit, bfi_fit, mixed4, zero_cell):
    if name == "consortium_dev":
        return consortium_fit
    if name == "bfi":
        return bfi_fit[0]
    if name == "mixed4":
        return fit_wlsmv(mixed4, {"F": ["TRU1", "TRU2", "TRU4", "TRU5"]})
    return fit_wlsmv(zero_cell, {"F": ["B1", "B2", "B3", "B4", "B5"]})


# --------------------------------------------------------------------------- sample statistics


def test_sampstat_and_full_gamma_three_items(consortium):
    # R: fit <- lavaan::cfa("F =~ TRU1 + TRU2 + TRU4", data = x[, c("TRU1", "TRU2", "TRU4")],
    #                       ordered = TRUE, estimator = "WLSMV")
    #    lavInspect(fit, "sampstat")$th; lavInspect(fit, "sampstat")$cov; lavInspect(fit, "gamma")
    ref = EXTRA["small3"]
    st = ordinal_stats(consortium[2][["TRU1", "TRU2", "TRU4"]])
    assert list(st.thresholds.index) == ref["threshold_names"]
    np.testing.assert_allclose(st.thresholds.to_numpy(), list(ref["thresholds"].values()),
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(st.rho.to_numpy(), ref["cor"], rtol=0, atol=1e-8)
    assert list(st.gamma.index) == ref["gamma_names"] == list(st.gamma.columns)
    gamma = np.array(ref["gamma"])
    np.testing.assert_allclose(st.gamma.to_numpy(), gamma, rtol=0, atol=1e-8 * np.abs(gamma).max())
    # R: diag(lavInspect(fit, "wls.v")): the DWLS weights
    np.testing.assert_allclose(st.weights.to_numpy(), ref["wls_v_diag"], rtol=1e-8)
    assert st.n == ref["n"] == 800


def test_gamma_items_with_2_3_and_5_categories(mixed4):
    # R: lavInspect(lavaan::cfa("F =~ TRU1 + TRU2 + TRU4 + TRU5", data = x4, ordered = TRUE,
    #                           estimator = "WLSMV"), "gamma")
    ref = EXTRA["mixed4"]
    st = ordinal_stats(mixed4)
    assert st.n_categories.tolist() == [5, 3, 2, 5]
    assert list(st.gamma.index) == ref["gamma_names"]
    np.testing.assert_allclose(st.thresholds.to_numpy(), list(ref["thresholds"].values()),
                               rtol=0, atol=1e-10)
    gamma = np.array(ref["gamma"])
    np.testing.assert_allclose(st.gamma.to_numpy(), gamma, rtol=0, atol=1e-7 * np.abs(gamma).max())
    assert st.levels["TRU4"] == [0, 1]
    assert st.correlations.index[0] == "TRU1~~TRU2"


def test_empty_cell_in_2x2_table_gets_half_added_keeping_margins(zero_cell):
    # R: lavaan's zero.add = c(0.5, 0), zero.keep.margins = TRUE on the B1 x B3 table
    ref = EXTRA["zero_cell"]
    table = pd.crosstab(zero_cell["B1"], zero_cell["B3"]).to_numpy()
    assert table.tolist() == ref["table_B1_B3"] and (table == 0).sum() == 1
    st = ordinal_stats(zero_cell)
    np.testing.assert_allclose(st.rho.to_numpy(), ref["cor"], rtol=0, atol=1e-6)
    gamma = np.array(ref["gamma"])
    np.testing.assert_allclose(st.gamma.to_numpy(), gamma, rtol=0, atol=1e-6 * np.abs(gamma).max())
    # the adjustment matters: the raw table's ML estimate is elsewhere (at the bound)
    grid = np.array([[-np.inf, st.thresholds["B1|t1"], np.inf]])
    grid3 = np.array([[-np.inf, st.thresholds["B3|t1"], np.inf]])
    raw = polychorics(table[None].astype(float), grid, grid3)[0]
    assert abs(raw - st.rho.loc["B1", "B3"]) > 0.05


def test_gamma_is_symmetric_positive_definite_and_diag_matches(consortium_fit):
    # R: diag(lavInspect(fit, "gamma")) and a few entries, 4-factor model on consortium_dev
    ref = EXTRA["consortium_dev"]
    g = _stats(consortium_fit).gamma.to_numpy()
    assert g.shape == (624, 624)
    np.testing.assert_allclose(g, g.T, rtol=0, atol=1e-12)
    assert np.linalg.eigvalsh(g)[0] > 0
    np.testing.assert_allclose(np.diag(g), ref["gamma_diag"], rtol=1e-6)
    for i, j, value in ref["gamma_entries"]:
        assert g[int(i) - 1, int(j) - 1] == pytest.approx(value, rel=1e-6)
    assert list(_stats(consortium_fit).gamma.index) == ref["gamma_names"]


# --------------------------------------------------------------------------- fit and tests

FIT_CASES = ["mixed4", "zero_cell", "consortium_dev", "bfi"]


@pytest.mark.parametrize("name", FIT_CASES)
def test_fit_measures_match_lavaan(name, consortium_fit, bfi_fit, mixed4, zero_cell):
    # R: fitMeasures(fit, c("fmin", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled",
    #    "pvalue.scaled", "chisq.scaling.factor", "baseline.chisq", "baseline.df",
    #    "baseline.pvalue", "baseline.chisq.scaled", "baseline.chisq.scaling.factor", "cfi",
    #    "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "cfi.scaled", "tli.scaled",
    #    "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "srmr", "npar"))
    ref = EXTRA[name]
    res = _fits(name, consortium_fit, bfi_fit, mixed4, zero_cell)
    assert res.converged
    for key, expected in ref["fit"].items():
        got = res.fit[key.replace(".", "_")]
        if key in ("df", "df.scaled", "baseline.df", "npar"):
            assert got == expected, key
        elif key.split(".")[0] in ("pvalue", "baseline", "cfi", "tli", "rmsea", "srmr") and (
            "chisq" not in key
        ):
            assert got == pytest.approx(expected, rel=1e-6, abs=1e-6), key
        else:
            assert got == pytest.approx(expected, rel=1e-6), key
    # lavInspect(fit, "test")$scaled.shifted$shift.parameter
    assert res.fit["chisq_shift"] == pytest.approx(ref["shift"], rel=1e-6)


@pytest.mark.parametrize("name", FIT_CASES)
def test_estimates_and_standard_errors_match_lavaan(name, consortium_fit, bfi_fit, mixed4, zero_cell):
    # R: parameterEstimates(fit) (est, se: robust.sem) and standardizedSolution(fit)$est.std
    ref = EXTRA[name]
    res = _fits(name, consortium_fit, bfi_fit, mixed4, zero_cell)
    p = res.params.set_index(["lhs", "op", "rhs"])
    for key, value in ref["std_loadings"].items():
        f, item = key.split("=~")
        assert res.loadings.loc[item, f] == pytest.approx(value, abs=1e-5), key
    for key, value in ref["loadings"].items():
        f, item = key.split("=~")
        assert _est(res, f, "=~", item) == pytest.approx(value, abs=2e-5), key
        if value != 1:
            assert p.loc[(f, "=~", item), "se"] == pytest.approx(ref["se_loadings"][key], rel=1e-5)
    for key, value in ref["lv_cov"].items():
        a, b = key.split("~~")
        assert _est(res, a, "~~", b) == pytest.approx(value, abs=2e-5), key
        assert p.loc[(a, "~~", b), "se"] == pytest.approx(ref["se_lv_cov"][key], rel=1e-5), key
        assert p.loc[(a, "~~", b), "std_all"] == pytest.approx(ref["std_lv_cov"][key], abs=1e-5)
    for key, value in ref["se_thresholds"].items():
        item, t = key.split("|")
        assert p.loc[(item, "|", t), "se"] == pytest.approx(value, rel=1e-8), key
    for item, value in ref["residual_variances"].items():
        assert _est(res, item, "~~", item) == pytest.approx(value, abs=1e-5), item
    assert (res.params["op"] == "|").sum() == len(ref["thresholds"])


def test_std_lv_identification(mixed4):
    # R: parameterEstimates(lavaan::cfa(..., data = x4, ordered = TRUE, estimator = "WLSMV",
    #                                   std.lv = TRUE))
    ref = EXTRA["mixed4_std_lv"]
    marker = fit_wlsmv(mixed4, {"F": ["TRU1", "TRU2", "TRU4", "TRU5"]})
    res = fit_wlsmv(mixed4, {"F": ["TRU1", "TRU2", "TRU4", "TRU5"]}, std_lv=True)
    p = res.params.set_index(["lhs", "op", "rhs"])
    for item, value in ref["loadings"].items():
        assert _est(res, "F", "=~", item) == pytest.approx(value, abs=1e-6)
        assert p.loc[("F", "=~", item), "se"] == pytest.approx(ref["se"][item], rel=1e-5)
    assert p.loc[("F", "~~", "F"), "free"] == 0 and p.loc[("F", "~~", "F"), "est"] == 1.0
    assert res.fit["chisq_scaled"] == pytest.approx(marker.fit["chisq_scaled"], rel=1e-9)
    pd.testing.assert_frame_equal(res.loadings, marker.loadings, atol=1e-7)


@pytest.mark.parametrize("name", ["consortium_dev", "bfi"])
def test_shared_reference_cfa_wlsmv(name, consortium_fit, bfi_fit):
    # R (../shared/reference/make_reference.R): fo <- lavaan::cfa(model, data = x,
    #    ordered = items, estimator = "WLSMV"); fitMeasures(fo, c("chisq", "df", "chisq.scaled",
    #    "df.scaled", "pvalue.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "cfi",
    #    "tli", "rmsea")); standardizedSolution(fo) for "=~"
    if name == "consortium_dev":
        ref = load_reference(name)[2]["cfa_wlsmv"]
        res = consortium_fit
    else:
        res, full = bfi_fit
        ref = full["cfa_wlsmv"]
    fit = ref["fit"]
    assert res.fit["df"] == fit["df"] and res.fit["df_scaled"] == fit["df.scaled"]
    for key in ("chisq", "chisq.scaled"):
        assert res.fit[key.replace(".", "_")] == pytest.approx(fit[key], rel=1e-6), key
    for key in ("pvalue.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "cfi",
                "tli", "rmsea"):
        assert res.fit[key.replace(".", "_")] == pytest.approx(fit[key], abs=1e-6), key
    assert len(ref["std_loadings"]) == int(res.loadings.astype(bool).sum().sum())
    for key, value in ref["std_loadings"].items():
        f, item = key.split("=~")
        assert res.loadings.loc[item, f] == pytest.approx(value, abs=1e-5), key


# --------------------------------------------------------------------------- CFA result


def test_cfa_result_fields(consortium):
    # R: semTools::AVE(fo); semTools::compRelSEM(fo, ord.scale = FALSE);
    #    semTools::htmt(model, data = x, ordered = TRUE); lavInspect(fo, "rsquare")
    cfg, _, x = consortium
    ref = EXTRA["consortium_dev"]
    res = wlsmv_cfa(x, _model(cfg))
    assert res.estimator == "WLSMV" and res.missing == "listwise" and res.n == 800
    for f, value in ref["ave"].items():
        assert res.ave[f] == pytest.approx(value, abs=1e-6), f
        assert res.fornell_larcker.loc[f, f] == pytest.approx(np.sqrt(value), abs=1e-6)
    for f, value in ref["omega_latent"].items():
        assert res.reliability[f] == pytest.approx(value, abs=1e-6), f
    np.testing.assert_allclose(res.htmt.to_numpy(), ref["htmt_ordered"], rtol=0, atol=1e-6)
    for item, value in ref["rsquare"].items():
        assert res.r_squared[item] == pytest.approx(value, abs=1e-6), item
    fit = ref["fit"]
    assert res.fit["chisq_scaled"] == pytest.approx(fit["chisq.scaled"], rel=1e-6)
    assert res.fit["cfi_scaled"] == pytest.approx(fit["cfi.scaled"], abs=1e-6)
    assert res.fit["rmsea_ci_upper_scaled"] == pytest.approx(fit["rmsea.ci.upper.scaled"], abs=1e-6)
    assert res.fit["chisq"] == pytest.approx(fit["chisq"], rel=1e-6)
    assert res.fit["df"] == 458 and np.isnan(res.fit["aic"])
    assert res.residuals.shape == (32, 32)
    assert abs(np.diag(res.residuals.to_numpy())).max() == 0.0
    assert res.warnings == ()


def test_pm_cfa_dispatches_wlsmv(consortium):
    # R: lavaan::cfa(model, data = x, ordered = items, estimator = "WLSMV")
    import psychometrics as pm

    cfg, ref, x = consortium
    res = pm.cfa(x, _model(cfg), estimator="WLSMV")
    assert res.estimator == "WLSMV"
    assert res.fit["chisq_scaled"] == pytest.approx(ref["cfa_wlsmv"]["fit"]["chisq.scaled"], rel=1e-6)
    assert res.fit["cfi_scaled"] == pytest.approx(ref["cfa_wlsmv"]["fit"]["cfi.scaled"], abs=1e-6)


def test_cfa_options_not_available_with_wlsmv(consortium):
    # groups work under WLSMV since issue 12 (tests/test_wlsmv_groups.py); FIML does not
    cfg, _, x = consortium
    with pytest.raises(PsychometricsError) as e:
        wlsmv_cfa(x, _model(cfg), missing="fiml")
    assert e.value.code == "invalid-option" and "'fiml'" in str(e.value)


# --------------------------------------------------------------------------- properties


def test_invariant_to_codes_row_order_and_missing_rows(mixed4):
    model = {"F": ["TRU1", "TRU2", "TRU4", "TRU5"]}
    base = fit_wlsmv(mixed4, model)
    recoded = fit_wlsmv(mixed4 * 10 + 3, model)  # other codes, same order
    shuffled = fit_wlsmv(mixed4.sample(frac=1.0, random_state=3), model)
    extra = pd.concat([mixed4, pd.DataFrame({"TRU1": [np.nan, 2.0], "TRU2": [1.0, np.nan],
                                             "TRU4": [0.0, 1.0], "TRU5": [3.0, 3.0]})])
    with_missing = fit_wlsmv(extra, model)
    assert with_missing.n == base.n == len(mixed4)
    for other in (recoded, shuffled, with_missing):
        for key in ("chisq", "chisq_scaled", "cfi_scaled", "rmsea_scaled", "srmr"):
            assert other.fit[key] == pytest.approx(base.fit[key], rel=1e-7, abs=1e-10)
        pd.testing.assert_frame_equal(other.loadings, base.loadings, atol=1e-8)
    assert _stats(recoded).levels["TRU4"] == [3, 13]


def test_reversed_item_gets_negative_loading_and_same_fit(mixed4):
    model = {"F": ["TRU1", "TRU2", "TRU4", "TRU5"]}
    base = fit_wlsmv(mixed4, model)
    flipped = mixed4.copy()
    flipped["TRU5"] = 6 - flipped["TRU5"]
    res = fit_wlsmv(flipped, model)
    assert res.loadings.loc["TRU5", "F"] == pytest.approx(-base.loadings.loc["TRU5", "F"], abs=1e-7)
    assert res.fit["chisq_scaled"] == pytest.approx(base.fit["chisq_scaled"], rel=1e-7)


def test_heywood_case_is_flagged():
    # latent correlations 0.8, 0.8, 0.5: a one-factor model needs loading^2 = 0.8*0.8/0.5 > 1
    rng = np.random.default_rng(7)
    r = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    z = rng.multivariate_normal(np.zeros(3), r, size=3000)
    x = pd.DataFrame(np.digitize(z, [-1.0, 0.0, 1.0]), columns=["a", "b", "c"])
    res = fit_wlsmv(x, {"F": ["a", "b", "c"]})
    codes = [w.code for w in res.warnings]
    assert codes == ["heywood"] and res.warnings[0].variable == "a"
    assert _est(res, "a", "~~", "a") < 0 and res.fit["df"] == 0


def test_two_correlated_factors_recover_the_simulated_model():
    rng = np.random.default_rng(11)
    f = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=3000)
    lam = np.array([0.8, 0.7, 0.6, 0.75, 0.65, 0.7])
    load = np.zeros((6, 2))
    load[:3, 0] = lam[:3]
    load[3:, 1] = lam[3:]
    ystar = f @ load.T + rng.standard_normal((3000, 6)) * np.sqrt(1 - lam**2)
    x = pd.DataFrame(np.digitize(ystar, [-0.8, 0.3, 1.2]) + 1, columns=[f"y{i}" for i in range(6)])
    res = fit_wlsmv(x, {"A": ["y0", "y1", "y2"], "B": ["y3", "y4", "y5"]})
    assert res.converged and res.fit["df"] == 8
    assert res.factor_correlations.loc["A", "B"] == pytest.approx(0.4, abs=0.08)
    np.testing.assert_allclose(res.loadings.to_numpy()[load != 0], lam, atol=0.06)
    assert res.fit["chisq_scaling_factor"] > 0 and res.fit["pvalue_scaled"] > 0.001


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("data", "model", "code", "words"),
    [
        ([[1, 2]], {"F": ["a", "b", "c"]}, "not-a-dataframe", "DataFrame"),
        (None, {"F": ["a", "b", "zz"]}, "missing-column", "'zz'"),
        (None, {}, "invalid-model", "at least one factor"),
        (None, {"F": "abc"}, "invalid-model", "'F'"),
        (None, {"F": ["a", "a", "b"]}, "invalid-model", "twice"),
        (None, {"F": ["a", "b"]}, "too-few-items", "at least 3"),
    ],
)
def test_bad_model_or_data(data, model, code, words):
    if data is None:
        data = pd.DataFrame({"a": [1, 2, 3, 1], "b": [1, 2, 2, 3], "c": [2, 1, 3, 3]})
    with pytest.raises(PsychometricsError) as e:
        fit_wlsmv(data, model)
    assert e.value.code == code and words in str(e.value)


def test_continuous_item_is_refused():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.integers(1, 5, 50), "b": rng.integers(1, 5, 50),
                      "c": rng.standard_normal(50)})
    with pytest.raises(PsychometricsError) as e:
        fit_wlsmv(x, {"F": ["a", "b", "c"]})
    assert e.value.code == "too-many-categories" and "'c'" in str(e.value)


def test_item_constant_on_complete_rows_is_refused():
    x = pd.DataFrame({"a": [1, 2, 1, 2, np.nan], "b": [1, 2, 2, 1, 2], "c": [3, 3, 3, 3, 1]})
    with pytest.raises(PsychometricsError) as e:
        fit_wlsmv(x, {"F": ["a", "b", "c"]})
    assert e.value.code == "constant-item" and "'c'" in str(e.value)


def test_perfectly_associated_binary_items_are_refused():
    x = pd.DataFrame({"a": [0, 0, 1, 1, 0, 1] * 5, "b": [0, 0, 1, 1, 0, 1] * 5,
                      "c": [0, 1, 1, 0, 0, 1] * 5})
    with pytest.raises(PsychometricsError) as e:
        ordinal_stats(x)
    assert e.value.code == "degenerate-table" and "'a'" in str(e.value)


def test_model_with_more_parameters_than_correlations_is_refused():
    x = pd.DataFrame({"a": [1, 2, 3, 1, 2, 3] * 5, "b": [1, 2, 2, 1, 3, 3] * 5,
                      "c": [2, 1, 3, 3, 2, 1] * 5})
    with pytest.raises(PsychometricsError) as e:
        fit_wlsmv(x, {"F": ["a", "b", "c"], "G": ["b", "c"]})
    assert e.value.code == "not-identified" and "df = -3" in str(e.value)


def test_empirically_underidentified_model_is_flagged():
    # two 2-item factors that do not correlate: each factor's two loadings are not separable
    rng = np.random.default_rng(3)
    z = rng.standard_normal((500, 4))
    z[:, 1] += z[:, 0]
    z[:, 3] += z[:, 2]
    x = pd.DataFrame(np.digitize(z, [-1, 0, 1]), columns=list("abcd"))
    res = fit_wlsmv(x, {"F": ["a", "b"], "G": ["c", "d"]})
    assert "not-identified" in [w.code for w in res.warnings]


def test_public_functions_are_not_shadowed_by_submodules(consortium):
    # the engine imports psychometrics.correlation: pm.cfa and pm.correlation must stay
    # the functions (the package imports them eagerly)
    import subprocess
    import sys

    code = (
        "import psychometrics as pm, psychometrics.engine.estimate, inspect, pandas as pd\n"
        "x = pd.DataFrame({'a': [1, 2, 3, 1, 2, 3, 2] * 9, 'b': [1, 2, 2, 1, 3, 3, 1] * 9,"
        " 'c': [2, 1, 3, 3, 2, 1, 1] * 9, 'd': [1, 1, 2, 3, 3, 2, 2] * 9})\n"
        "pm.cfa(x, {'F': ['a', 'b', 'c', 'd']}, estimator='WLSMV')\n"
        "print(inspect.isfunction(pm.cfa), inspect.isfunction(pm.correlation))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_pm_cfa_errors_name_cfa_and_continuous_data_is_refused():
    import psychometrics as pm

    _, _, _, hs = load_reference("hs1939")
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(hs, {"visual": ["x1", "x2", "x3"]}, estimator="WLSMV")
    assert e.value.code == "too-many-categories" and "of cfa" in str(e.value)
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(hs, {"visual": ["x1", "x2", "x3"]}, estimator="WLSMV", missing="ml")
    assert e.value.code == "invalid-option"
