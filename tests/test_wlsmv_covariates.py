"""WLSMV with observed covariates (``pm.sem(..., estimator="WLSMV")`` with ``F ~ x``):
lavaan 0.6-14's ``conditional.x = TRUE``, its default for ordered items with exogenous
covariates.

Expected numbers: ``tests/reference/sem/make_wlsmv_covariates_reference.R``
(wlsmv_covariates.json) on wlsmv_covariates.csv (six 5-point items, x1 continuous, x2 a
dummy, n = 500), each by ``sem(model, data = d, ordered = items, estimator = "WLSMV")``:

- ``mimic``: ``F =~ y1 + y2 + y3 + y4; F ~ x1 + x2``;
- ``two_factors``: ``F1 =~ y1 + y2 + y3; F2 =~ y4 + y5 + y6; F1 ~ x1; F2 ~ x1; y4 ~ x2`` (a
  covariate's direct effect on an item; lavaan's ``auto.cov.y`` frees ``F1 ~~ F2``);
- ``one_covariate``: ``F1 =~ y1 + y2 + y3; F1 ~ x1``;
- ``binary``: ``F =~ y1 + ... + y5; F ~ x1 + x2`` with y1-y4 made binary (>= 3) and y5 on
  three categories (no zero-cell correction given covariates, as lavaan);
- ``mimic_groups``: the MIMIC model in two groups (alternate rows, ``group = "g"``);
- ``two_factors_ml``: the two-factor model by ML (``sem(model, data = d)``, items numeric);
- ``two_outcomes_ml``: ``meet ~ years + member; IND1 ~ years`` by ML on observed.csv
  (make_observed_reference.R's data): two observed outcomes, their disturbances covary.

The stages one at a time: ``lavInspect(fit, "sampstat")`` (``res.th``, ``res.slopes``,
``res.cov``), ``lavInspect(fit, "gamma")``, ``diag(lavInspect(fit, "wls.v"))``; then
``fitMeasures``, ``parameterEstimates(fit, standardized = TRUE)`` and ``lavInspect(fit,
"r2")``.
Tolerances (the issue): scaled chi-square 2e-2 relative (and 1e-4), CFI/TLI/RMSEA 2e-2,
estimates, SEs, CIs, std.all 1e-3. Observed agreement: thresholds and slopes 1e-11,
residual polychorics 2e-9, Gamma 3e-9 (relative, its diagonal 4e-9); chi-squares 5e-9
relative (scaled; 5e-7 on the one-covariate model's scaled chi-square of 0.43), CFI/TLI/RMSEA
3e-9, SRMR 1e-7 relative, estimates and std.all 8e-8 (two groups 4e-7), SEs 6e-9.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.engine.conditional import conditional_stats
from psychometrics.errors import PsychometricsError

HERE = Path(__file__).parent / "reference" / "sem"
REF = json.loads((HERE / "wlsmv_covariates.json").read_text())
ITEMS = {"mimic": ["y1", "y2", "y3", "y4"], "two_factors": [f"y{i}" for i in range(1, 7)],
         "one_covariate": ["y1", "y2", "y3"], "binary": [f"y{i}" for i in range(1, 6)]}
COVARIATES = {"mimic": ["x1", "x2"], "two_factors": ["x1", "x2"], "one_covariate": ["x1"],
              "binary": ["x1", "x2"]}


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(HERE / "wlsmv_covariates.csv")


def _binary(data: pd.DataFrame) -> pd.DataFrame:
    """The script's binary items: y1-y4 cut at 3, y5's top categories merged."""
    out = data.copy()
    for k in range(1, 5):
        out[f"y{k}"] = (data[f"y{k}"] >= 3).astype(int)
    out["y5"] = data["y5"].clip(upper=3)
    return out


@pytest.fixture(scope="module")
def fits(data):
    return {name: pm.sem(_binary(data) if name == "binary" else data, REF[name]["model"],
                         estimator="WLSMV") for name in ITEMS}


@pytest.mark.parametrize("name", ["mimic", "two_factors", "binary"])
def test_sample_statistics_stage_by_stage(data, name):
    # R: s <- lavInspect(fit, "sampstat"); s$res.th, s$res.slopes, s$res.cov;
    #    lavInspect(fit, "gamma"); diag(lavInspect(fit, "wls.v"))
    ref = REF[name]["stages"]
    x = _binary(data) if name == "binary" else data
    st = conditional_stats(x[ITEMS[name]], x[COVARIATES[name]], 15, "test")
    np.testing.assert_allclose(st.thresholds.to_numpy(), list(ref["res_th"].values()), atol=1e-6)
    np.testing.assert_allclose(st.slopes.to_numpy(), ref["res_slopes"], atol=1e-6)
    np.testing.assert_allclose(st.rho.to_numpy(), ref["res_cov"], atol=1e-6)
    assert list(st.gamma.index) == ref["gamma_names"]
    gamma = np.array(ref["gamma"])
    np.testing.assert_allclose(st.gamma.to_numpy(), gamma, atol=1e-6 * np.abs(gamma).max())
    np.testing.assert_allclose(1.0 / np.diag(st.gamma.to_numpy()), ref["wls_v_diag"], rtol=1e-6)
    # R: wls.obs: thresholds, slopes covariate by covariate, correlations
    obs = np.concatenate([st.thresholds, st.slopes.to_numpy().T.ravel(),
                          st.rho.to_numpy()[np.triu_indices(len(ITEMS[name]), 1)]])
    np.testing.assert_allclose(obs, list(ref["wls_obs"].values()), atol=1e-6)


@pytest.mark.parametrize("name", list(ITEMS))
def test_fit_measures_match_lavaan(fits, name):
    # R: fitMeasures(fit, c("chisq", "df", "chisq.scaled", "df.scaled", "cfi.scaled",
    #    "tli.scaled", "rmsea.scaled", "npar", "baseline.chisq", ...))
    fit = fits[name].fit
    assert fits[name].converged and fits[name].warnings == ()
    for key, value in REF[name]["fit"].items():
        got = fit[key.replace(".", "_")]
        if key.startswith(("chisq", "baseline.chisq")):
            assert got == pytest.approx(value, rel=2e-2), key
            assert got == pytest.approx(value, rel=1e-4, abs=1e-6), key
        elif key.split(".")[0] in ("cfi", "tli", "rmsea"):
            assert got == pytest.approx(value, abs=2e-2), key
            assert got == pytest.approx(value, abs=1e-6), key
        else:
            assert got == pytest.approx(value, rel=1e-6, abs=1e-6), key


def _check_estimates(ours: pd.DataFrame, ref: list[dict]) -> None:
    # R: parameterEstimates(fit, standardized = TRUE): every row is one of ours (thresholds,
    #    fixed residual variances, the covariates' fixed moments, scale factors, intercepts)
    expected = pd.DataFrame(ref).rename(columns=lambda c: c.replace(".", "_"))
    expected["rhs"] = expected["rhs"].fillna("")
    keys = ["lhs", "op", "rhs"]
    if "group" in expected:
        expected["group"] = expected["group"].map({1: "a", 2: "b"})
        keys.append("group")
    rows = sorted(map(tuple, expected[keys].to_numpy()))
    assert sorted(map(tuple, ours[keys].to_numpy())) == rows
    merged = expected.merge(ours, on=keys, suffixes=("_r", ""))
    for col in ("est", "se", "ci_lower", "ci_upper", "std_all"):
        np.testing.assert_allclose(merged[col], merged[col + "_r"], atol=1e-3, err_msg=col)


@pytest.mark.parametrize("name", list(ITEMS))
def test_estimates_match_lavaan(fits, name):
    _check_estimates(fits[name].estimates, REF[name]["estimates"])


@pytest.mark.parametrize("name", list(ITEMS))
def test_r_squared_matches_lavaan(fits, name):
    # R: lavInspect(fit, "r2"): items (latent responses, total variance) and regressed factors
    r2 = fits[name].r_squared
    assert sorted(r2.index) == sorted(REF[name]["r2"])
    for var, value in REF[name]["r2"].items():
        assert r2[var] == pytest.approx(value, abs=1e-3), var


def test_two_groups(data):
    # R: sem(model, data = d, group = "g", ordered = , estimator = "WLSMV") on alternate rows:
    #    thresholds, slopes and residual polychorics per group, the covariates' moments fixed
    #    per group; chisq.scaled 68.289 on 16 df, every row of parameterEstimates
    ref = REF["mimic_groups"]
    res = pm.sem(data.assign(g=np.resize(["a", "b"], len(data))), ref["model"],
                 estimator="WLSMV", group="g")
    assert res.converged and res.groups == ("a", "b")
    for key, value in ref["fit"].items():
        assert res.fit[key.replace(".", "_")] == pytest.approx(value, rel=1e-4, abs=1e-6), key
    _check_estimates(res.estimates, ref["estimates"])


def test_ml_covaries_the_disturbances_of_pure_dependent_variables(data):
    # R: sem(model, data = d): F1 ~~ F2 is free (auto.cov.y), chisq 18.034 on 17 df
    res = pm.sem(data, REF["two_factors_ml"]["model"])
    for key, value in REF["two_factors_ml"]["fit"].items():
        assert res.fit[key] == pytest.approx(value, rel=1e-3, abs=1e-3), key
    _check_estimates(res.estimates, REF["two_factors_ml"]["estimates"])


def test_ml_covaries_two_observed_outcomes():
    # R: sem("meet ~ years + member\nIND1 ~ years", data = observed.csv): meet ~~ IND1
    #    free (auto.cov.y), chisq 21.822 on 1 df
    ref = REF["two_outcomes_ml"]
    res = pm.sem(pd.read_csv(HERE / "observed.csv"), ref["model"])
    for key, value in ref["fit"].items():
        assert res.fit[key] == pytest.approx(value, rel=1e-3, abs=1e-3), key
    _check_estimates(res.estimates, ref["estimates"])


@pytest.mark.parametrize(
    ("model", "options", "code", "words"),
    [
        ("F =~ y1 + y2 + y3\nF ~ x1", {"group": "h"}, "empty-category", "y1"),
        ("F =~ y1 + y2 + y3\nx2 ~ F", {}, "not-implemented", "x2"),
        ("F =~ y1 + y2 + y3\nF ~ x1 + x3", {}, "singular-covariance", "x3"),
        ("F =~ y1 + y2 + y3\nF ~ x1 + sep", {}, "not-converged", "separate"),
    ],
)
def test_unsupported_or_degenerate_covariates_are_refused(data, model, options, code, words):
    # h: a group of the rows where y1 is not 1 (lavaan: "some categories are empty")
    d = data.assign(h=np.where(data["y1"] == 1, "a", np.resize(["a", "b"], len(data))),
                    x3=2 * data["x1"] + 1,
                    sep=data["y1"] + 0.1 * data["x1"].clip(-1, 1))
    with pytest.raises(PsychometricsError) as e:
        pm.sem(d, model, estimator="WLSMV", **options)
    assert e.value.code == code and words in str(e.value)
