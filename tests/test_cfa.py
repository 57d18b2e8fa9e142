"""pm.cfa against lavaan 0.6-14 / semTools 0.5-6.

Golden values: ../shared/reference/ref_<name>.json (make_reference.R) and
tests/reference/cfa_extra.json (tests/reference/make_cfa_extra.R). The R call that
produced each expected number is written beside it. Data are prepared as
make_reference.R does (conftest.load_reference: listwise rows on items and group
columns, reverse keyed max + min - x; FIML on every row with at least one answer).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATASETS, load_reference

import psychometrics as pm
from psychometrics.errors import PsychometricsError

EXTRA = json.loads((Path(__file__).parent / "reference" / "cfa_extra.json").read_text())
HS_MODEL = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]}
FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper",
            "srmr", "aic", "bic")


def _factors(cfg):
    return {s: [k.lstrip("-") for k in keys] for s, keys in cfg["scales"].items()}


def _fiml_rows(raw, cfg):
    """Every row with at least one answer, reverse keyed (make_reference.R's xf)."""
    factors = _factors(cfg)
    items = [i for v in factors.values() for i in v]
    xf = raw[items].astype(float).copy()
    for keys in cfg["scales"].values():
        for k in keys:
            if k.startswith("-"):
                xf[k[1:]] = cfg["max"] + cfg["min"] - xf[k[1:]]
    return xf[xf.notna().any(axis=1)]


@pytest.fixture(scope="module")
def hs():
    return load_reference("hs1939")[3]


@pytest.fixture(scope="module", params=DATASETS)
def ml_fit(request):
    _raw, cfg, ref, x = load_reference(request.param)
    return request.param, ref, pm.cfa(x, _factors(cfg))


# --------------------------------------------------------------------------- ML, listwise


def test_ml_fit_measures(ml_fit):
    # R: fitMeasures(cfa(model, data = x), c("chisq", "df", "pvalue", "cfi", "tli", "rmsea",
    #    "rmsea.ci.lower", "rmsea.ci.upper", "srmr", "aic", "bic"))  -> ref$cfa_ml$fit
    _name, ref, fit = ml_fit
    expected = ref["cfa_ml"]["fit"]
    assert fit.converged
    assert fit.fit["chisq"] == pytest.approx(expected["chisq"], abs=1e-2)
    assert fit.fit["df"] == expected["df"]
    for key in FIT_KEYS[2:]:
        tol = 1e-2 if key in ("aic", "bic") else 1e-3
        assert fit.fit[key.replace(".", "_")] == pytest.approx(expected[key], abs=tol), key


def test_ml_standardized_loadings_ave_htmt(ml_fit):
    _name, ref, fit = ml_fit
    # R: s <- standardizedSolution(fit); s[s$op == "=~", "est.std"]  -> ref$cfa_ml$std_loadings
    std = ref["cfa_ml"]["std_loadings"]
    assert len(std) == fit.loadings.shape[0]
    for key, value in std.items():
        factor, item = key.split("=~")
        assert fit.loadings.loc[item, factor] == pytest.approx(value, abs=1e-3), key
    # R: semTools::AVE(fit)  -> ref$cfa_ml$ave
    for factor, value in ref["cfa_ml"]["ave"].items():
        assert fit.ave[factor] == pytest.approx(value, abs=1e-3), factor
    # R: semTools::htmt(model, data = x)  (htmt2 = TRUE, its default)  -> ref$cfa_ml$htmt
    np.testing.assert_allclose(fit.htmt.to_numpy(), np.array(ref["cfa_ml"]["htmt"]), atol=1e-3)
    assert list(fit.htmt.index) == list(fit.model)


def test_composite_reliability_and_fornell_larcker(ml_fit):
    name, _ref, fit = ml_fit
    extra = {"hs1939": EXTRA["hs1939_ml"], "bfi": EXTRA["bfi_ml"],
             "consortium_dev": EXTRA["consortium_dev_ml"]}[name]
    # R: semTools::compRelSEM(cfa(model, data = x))
    for factor, value in extra["comprelsem"].items():
        assert fit.reliability[factor] == pytest.approx(value, abs=1e-3), factor
    fl = fit.fornell_larcker
    for f in fit.model:
        assert fl.loc[f, f] == pytest.approx(np.sqrt(fit.ave[f]))
    off = fl.to_numpy()[~np.eye(len(fl), dtype=bool)]
    corr = fit.factor_correlations.to_numpy()[~np.eye(len(fl), dtype=bool)]
    np.testing.assert_allclose(off, corr)


def test_htmt_arithmetic_means():
    _raw, cfg, _ref, x = load_reference("bfi")
    fit = pm.cfa(x, _factors(cfg), htmt2=False)
    # R: semTools::htmt(model, data = x, htmt2 = FALSE)
    np.testing.assert_allclose(fit.htmt.to_numpy(), np.array(EXTRA["bfi_ml"]["htmt_arith"]), atol=1e-6)


def test_hs1939_classic_values(hs):
    fit = pm.cfa(hs, HS_MODEL)
    assert fit.fit["chisq"] == pytest.approx(85.306, abs=1e-3)  # R: fitMeasures(fit, "chisq")
    assert fit.fit["df"] == 24  # R: fitMeasures(fit, "df")
    assert fit.fit["npar"] == 21  # R: fitMeasures(fit, "npar")
    assert fit.fit["loglik"] == pytest.approx(EXTRA["hs1939_ml"]["fit"]["logl"], abs=1e-4)  # R: fitMeasures(fit, "logl")
    assert fit.fit["loglik_h1"] == pytest.approx(EXTRA["hs1939_ml"]["fit"]["unrestricted.logl"], abs=1e-4)
    assert fit.fit["baseline_chisq"] == pytest.approx(918.852, abs=1e-3)  # R: fitMeasures(fit, "baseline.chisq")
    assert fit.fit["baseline_df"] == 36  # R: fitMeasures(fit, "baseline.df")
    assert fit.n == 301
    assert fit.warnings == ()
    json.dumps(fit.fit)  # plain Python numbers (results.json)
    assert all(type(v) in (int, float) for v in fit.fit.values())
    same = pm.cfa(hs, HS_MODEL, "ML", "listwise")  # DESIGN order: estimator, missing
    assert same.fit["chisq"] == fit.fit["chisq"]
    text = fit.summary()
    assert "85.306" in text and "x9" in text


def _match_params(params, expected, keys=("est", "se", "std_all"), atol=1e-3, group_labels=None):
    """Compare our params table with lavaan's parameterEstimates rows (lhs, op, rhs[, group])."""
    ours = params.copy()
    ours["rhs"] = ours["rhs"].fillna("")
    ours["op"] = ours["op"].replace({"~1": "~1"})
    n = 0
    for k in range(len(expected["lhs"])):
        lhs, op, rhs = expected["lhs"][k], expected["op"][k], expected["rhs"][k]
        sel = (ours["lhs"] == lhs) & (ours["op"] == op) & (ours["rhs"] == rhs)
        if group_labels is not None:
            sel &= ours["group"] == group_labels[expected["group"][k] - 1]
        row = ours[sel]
        if row.empty and op == "~1" and lhs in ("visual", "textual", "speed"):
            continue
        assert len(row) == 1, (lhs, op, rhs)
        for key in keys:
            want = expected[key][k]
            got = row[key].iloc[0]
            if want is None or (key == "se" and want == 0):
                assert not np.isfinite(got) or got == 0, (lhs, op, rhs, key)
            else:
                assert got == pytest.approx(want, abs=atol), (lhs, op, rhs, key, got, want)
        n += 1
    assert n >= len(expected["lhs"]) - 3


def test_parameter_estimates_and_standard_errors(hs):
    # R: parameterEstimates(fit)[, c("est", "se")], standardizedSolution(fit)$est.std
    fit = pm.cfa(hs, HS_MODEL)
    _match_params(fit.params, EXTRA["hs1939_ml"]["params"])
    assert len(fit.params) == len(EXTRA["hs1939_ml"]["params"]["lhs"])


def test_modification_indices(hs):
    fit = pm.cfa(hs, HS_MODEL)
    mi = fit.modindices
    top = mi.iloc[0]
    # R: modindices(fit, sort. = TRUE)[1, ]: visual =~ x9, mi 36.411, epc 0.577, sepc.all 0.515
    assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")
    assert top["mi"] == pytest.approx(36.411, abs=1e-3)
    assert top["epc"] == pytest.approx(0.577, abs=1e-3)
    ref = EXTRA["hs1939_ml"]["modindices"]  # R: modindices(fit)
    assert len(mi) == len(ref["lhs"])
    for k in range(len(ref["lhs"])):
        lhs, op, rhs = ref["lhs"][k], ref["op"][k], ref["rhs"][k]
        sel = mi[(mi["op"] == op) & (((mi["lhs"] == lhs) & (mi["rhs"] == rhs))
                                     | ((mi["lhs"] == rhs) & (mi["rhs"] == lhs)))]
        assert len(sel) == 1, (lhs, op, rhs)
        assert sel["mi"].iloc[0] == pytest.approx(ref["mi"][k], abs=1e-3), (lhs, op, rhs)
        assert sel["epc"].iloc[0] == pytest.approx(ref["epc"][k], abs=1e-3), (lhs, op, rhs)
        assert sel["sepc_all"].iloc[0] == pytest.approx(ref["sepc_all"][k], abs=1e-3), (lhs, op, rhs)


def test_residual_correlations_and_r_squared(hs):
    fit = pm.cfa(hs, HS_MODEL)
    # R: residuals(fit, type = "cor")$cov
    np.testing.assert_allclose(fit.residuals.to_numpy(), np.array(EXTRA["hs1939_ml"]["residuals_cor"]), atol=1e-5)
    # R: inspect(fit, "r2")  (1 - std.all residual variance)
    p = EXTRA["hs1939_ml"]["params"]
    for k in range(len(p["lhs"])):
        if p["op"][k] == "~~" and p["lhs"][k] == p["rhs"][k] and p["lhs"][k].startswith("x"):
            assert fit.r_squared[p["lhs"][k]] == pytest.approx(1 - p["std_all"][k], abs=1e-4)


def test_std_lv_identification(hs):
    # R: cfa(model, data = x, std.lv = TRUE)
    fit = pm.cfa(hs, HS_MODEL, std_lv=True)
    ref = EXTRA["hs1939_stdlv"]
    assert fit.fit["chisq"] == pytest.approx(ref["fit"]["chisq"], abs=1e-3)
    _match_params(fit.params, ref["params"])


def test_second_order(hs):
    # R: cfa("<model>\ng =~ visual + textual + speed", data = x)
    ref = EXTRA["hs1939_second_order"]
    fit = pm.cfa(hs, HS_MODEL, second_order={"g": ["visual", "textual", "speed"]})
    assert fit.fit["chisq"] == pytest.approx(ref["fit"]["chisq"], abs=1e-2)
    assert fit.fit["df"] == ref["fit"]["df"]
    for k, key in enumerate(ref["params"]["lhs"]):
        if key == "g" and ref["params"]["op"][k] == "=~":
            facet = ref["params"]["rhs"][k]
            assert fit.second_order_loadings.loc[facet, "g"] == pytest.approx(
                ref["params"]["std_all"][k], abs=1e-3)
    _match_params(fit.params, ref["params"], keys=("est", "std_all"))
    # the same model in lavaan syntax
    syntax = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
              "g =~ visual + textual + speed")
    fit2 = pm.cfa(hs, syntax)
    assert fit2.fit["chisq"] == pytest.approx(fit.fit["chisq"], abs=1e-6)


def test_residual_covariance(hs):
    # R: cfa("<model>\nx7 ~~ x8", data = x)
    ref = EXTRA["hs1939_rescov"]
    fit = pm.cfa(hs, HS_MODEL, residual_covariances=[("x7", "x8")])
    for key in ("chisq", "cfi", "rmsea", "srmr", "aic"):
        assert fit.fit[key] == pytest.approx(ref["fit"][key], abs=1e-3), key
    assert fit.fit["df"] == 23
    _match_params(fit.params, ref["params"])
    fit2 = pm.cfa(hs, "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6\n"
                  "speed =~ x7 + x8 + x9  # comment\nx7 ~~ x8")
    assert fit2.fit["chisq"] == pytest.approx(fit.fit["chisq"], abs=1e-8)


# --------------------------------------------------------------------------- FIML


@pytest.mark.parametrize("name", DATASETS)
def test_fiml_fit_measures(name):
    # R: fitMeasures(cfa(model, data = xf, missing = "ml"), fm_names) -> ref$cfa_fiml$fit,
    #    xf = every row with at least one answer
    raw, cfg, ref, _ = load_reference(name)
    xf = _fiml_rows(raw, cfg)
    fit = pm.cfa(xf, _factors(cfg), missing="fiml")
    assert fit.n == ref["cfa_fiml"]["n"]
    expected = ref["cfa_fiml"]["fit"]
    assert fit.fit["df"] == expected["df"]
    for key in FIT_KEYS:
        want = expected[key]
        assert fit.fit[key.replace(".", "_")] == pytest.approx(want, abs=1e-2), key


def test_fiml_estimates_with_missing_data():
    # R: cfa(model, data = xf, missing = "ml", information = "expected") on bfi (731 NA)
    raw, cfg, _ref, _ = load_reference("bfi")
    xf = _fiml_rows(raw, cfg)
    assert xf.isna().to_numpy().any()
    fit = pm.cfa(xf, _factors(cfg), missing="fiml")
    extra = EXTRA["bfi_fiml"]
    for key in ("logl", "unrestricted.logl", "baseline.chisq"):
        ours = {"logl": "loglik", "unrestricted.logl": "loglik_h1", "baseline.chisq": "baseline_chisq"}[key]
        assert fit.fit[ours] == pytest.approx(extra["fit"][key], abs=1e-2), key
    _match_params(fit.params, extra["params"])
    # R: modindices(fit)  (expected information); lavaan stops its optimizer ~1e-5 away
    # from the optimum (estimates agree to 1e-5), so the indices agree to ~2e-5 relative
    mi = fit.modindices.set_index(["lhs", "op", "rhs"])["mi"]
    ref_mi = extra["modindices"]
    checked = 0
    for k in np.argsort(ref_mi["mi"])[::-1][:20]:
        key = (ref_mi["lhs"][k], ref_mi["op"][k], ref_mi["rhs"][k])
        alt = (key[2], key[1], key[0])
        got = mi[key] if key in mi.index else mi[alt]
        assert got == pytest.approx(ref_mi["mi"][k], rel=1e-4), key
        checked += 1
    assert checked == 20


def test_fiml_equals_ml_on_complete_data(hs):
    # R: cfa(model, data = x, missing = "ml", information = "expected"): same chisq as ML,
    #    SRMR with means (0.0595), AIC with the 9 intercepts (7535.49)
    fit = pm.cfa(hs, HS_MODEL, missing="fiml")
    ref = EXTRA["hs1939_fiml"]
    assert fit.fit["chisq"] == pytest.approx(85.3055, abs=1e-3)
    assert fit.fit["srmr"] == pytest.approx(ref["fit"]["srmr"], abs=1e-4)
    assert fit.fit["aic"] == pytest.approx(ref["fit"]["aic"], abs=1e-2)
    _match_params(fit.params, ref["params"])


# --------------------------------------------------------------------------- groups


def test_configural_multigroup(hs):
    raw, _cfg, ref, x = load_reference("hs1939")
    data = x.assign(school=raw.loc[x.index, "school"].to_numpy())
    fit = pm.cfa(data, HS_MODEL, group="school")
    # R: fitMeasures(cfa(model, data, group = "school"), c("chisq", "df", ...))
    expected = ref["invariance"]["school"]["configural"]
    assert fit.fit["chisq"] == pytest.approx(115.851, abs=1e-2)
    assert fit.fit["df"] == 48
    for key in ("cfi", "tli", "rmsea", "srmr"):
        assert fit.fit[key] == pytest.approx(expected[key], abs=1e-3), key
    # R: lavInspect(fit, "group.label")
    assert list(fit.groups) == EXTRA["hs1939_invariance"]["group_label"]
    assert fit.loadings.index.nlevels == 2
    assert fit.ave.shape == (2, 3)
    _match_params(fit.params, EXTRA["hs1939_invariance"]["configural_params"],
                  group_labels=list(fit.groups))
    # R: modindices(cfa(model, data, group = "school"))
    ref_mi = EXTRA["hs1939_invariance"]["configural_modindices"]
    mi = fit.modindices.set_index(["lhs", "op", "rhs", "group"])["mi"]
    for k in np.argsort(ref_mi["mi"])[::-1][:10]:
        g = fit.groups[ref_mi["group"][k] - 1]
        key = (ref_mi["lhs"][k], ref_mi["op"][k], ref_mi["rhs"][k], g)
        alt = (key[2], key[1], key[0], g)
        got = mi[key] if key in mi.index else mi[alt]
        # lavaan's estimates are ~1e-5 from the optimum: indices agree to ~6e-5 relative
        assert got == pytest.approx(ref_mi["mi"][k], rel=2e-4), key


# --------------------------------------------------------------------------- warnings, errors


def _exact_sample(cov: np.ndarray, n: int, seed: int = 1) -> pd.DataFrame:
    """n rows whose (biased) sample covariance is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, len(cov)))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False, bias=True))).T
    x = z @ np.linalg.cholesky(cov).T
    return pd.DataFrame(x, columns=[f"y{i + 1}" for i in range(len(cov))])


def test_heywood_case_is_reported():
    # one factor, three items, r12 = r13 = .8, r23 = .5: theta_1 = 1 - .64/.5 = -0.28
    r = np.array([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    fit = pm.cfa(_exact_sample(r, 200), {"F": ["y1", "y2", "y3"]})
    assert fit.converged
    heywood = [w for w in fit.warnings if w.code == "heywood"]
    assert heywood and heywood[0].variable == "y1"
    assert fit.params.query("lhs == 'y1' and op == '~~'")["est"].iloc[0] == pytest.approx(-0.28, abs=1e-6)
    assert fit.loadings.loc["y1", "F"] > 1


def test_factor_correlation_beyond_one_is_reported():
    # items correlate .30 within and .45 across the two factors: the implied factor
    # correlation is .45 / .30 = 1.5 (lavaan warns "covariance matrix of latent variables
    # is not positive definite")
    r = np.full((6, 6), 0.45)
    r[:3, :3] = r[3:, 3:] = 0.3
    np.fill_diagonal(r, 1.0)
    fit = pm.cfa(_exact_sample(r, 300), {"A": ["y1", "y2", "y3"], "B": ["y4", "y5", "y6"]})
    assert fit.converged
    assert [w.code for w in fit.warnings] == ["non-positive-definite-phi"]
    assert fit.factor_correlations.loc["A", "B"] == pytest.approx(1.5, abs=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"model": {"F": ["x1", "nope", "x3"]}}, "missing-column", "nope"),
        ({"model": {"F": ["x1", "-x2", "x3"]}}, "reverse-keyed-item", "-x2"),
        ({"model": {"F": ["x1", "x2"]}}, "not-identified", "df = -1"),
        ({"model": {}}, "invalid-model", "at least one factor"),
        ({"model": "F <- x1"}, "invalid-model", "F <- x1"),
        ({"model": {"F": "x1"}}, "invalid-model", "'F'"),
        ({"model": HS_MODEL, "missing": "pairwise"}, "invalid-option", "pairwise"),
        ({"model": HS_MODEL, "estimator": "GLS"}, "invalid-option", "GLS"),
        ({"model": HS_MODEL, "second_order": {"g": ["visual"]}}, "invalid-model", "at least 2"),
        ({"model": HS_MODEL, "second_order": {"g": ["visual", "nope"]}}, "invalid-model", "nope"),
        ({"model": HS_MODEL, "residual_covariances": [("x1", "x1")]}, "invalid-model", "x1"),
        ({"model": HS_MODEL, "group": "x1"}, "invalid-value", "x1"),
    ],
)
def test_bad_input(hs, kwargs, code, words):
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(hs, **kwargs)
    assert e.value.code == code
    assert words in str(e.value)


def test_bad_data(hs):
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(hs.to_numpy(), HS_MODEL)
    assert e.value.code == "not-a-dataframe"
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(hs.head(8), HS_MODEL)
    assert e.value.code == "too-few-rows" and "got 8" in str(e.value)
    const = hs.assign(x2=3.0)
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(const, HS_MODEL)
    assert e.value.code == "constant-item" and "x2" in str(e.value)
    dup = hs.assign(x3=hs["x1"] + hs["x2"], x6=hs["x4"] * 2)
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(dup.assign(x5=dup["x4"] * 2), HS_MODEL)
    assert e.value.code == "singular-covariance"
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(hs.assign(g="a"), HS_MODEL, group="g")
    assert e.value.code == "too-few-groups"
    text = hs.astype(object)
    text.iloc[3, 0] = "n/a?"
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(text, HS_MODEL)
    assert e.value.code == "non-numeric" and "x1" in str(e.value)


def test_listwise_drops_incomplete_rows(hs):
    holes = hs.copy()
    holes.iloc[:5, 0] = np.nan
    fit = pm.cfa(holes, HS_MODEL)
    assert fit.n == len(hs) - 5
    assert fit.fit["chisq"] != pytest.approx(85.3055, abs=1e-3)
