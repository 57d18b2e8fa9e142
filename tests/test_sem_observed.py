"""pm.sem with observed variables in regressions (MIMIC models, an observed mediator, path
analysis) against lavaan 0.6-14 with its defaults (``fixed.x = TRUE``: the covariates'
variances, covariances and means are their sample values, neither parameters nor in df).

Expected numbers: ``tests/reference/sem/make_observed_reference.R`` (observed.json; the data
observed.csv and observed_missing.csv are written by that script). Each case is
``fitMeasures(fit)`` and ``parameterEstimates(fit, standardized = TRUE)`` of:

- ``mimic``: ``sem("ORG =~ ORG1 + ORG2 + ORG3 + ORG4\\n ORG ~ years + member", data = d)``;
- ``mimic_dif``: the same with ``ORG ~ years + g*member`` and ``ORG3 ~ dif*member`` (a
  direct effect of the role on one item);
- ``mediator``: ``IND =~ ...; USR =~ ...; IND ~ member; meet ~ a*IND; USR ~ b*meet +
  c*IND; ind := a*b; total := a*b + c`` (an observed mediator) and its percentile bootstrap
  (``se = "bootstrap", bootstrap = 1000``, ``boot.ci.type = "perc"``);
- ``path``: ``meet ~ a*years + member; IND1 ~ b*meet + years; ab := a*b`` (no factor);
- ``side``: ``ORG ~ IND + member`` (an exogenous factor and an exogenous covariate do not
  covary by default);
- ``mimic_fiml``: ``sem(mimic, data = dm, missing = "ml")`` (lavaan's default observed
  information for the SEs);
- ``mimic_groups``: ``sem(mimic, data = d, group = "site")``.

Tolerances (issue 12): fit 1e-3, estimates, SEs, CIs and std.all 1e-3.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.errors import PsychometricsError

HERE = Path(__file__).parent / "reference" / "sem"
REF = json.loads((HERE / "observed.json").read_text())
CASES = {
    "mimic": ("observed.csv", {}),
    "mimic_dif": ("observed.csv", {}),
    "mediator": ("observed.csv", {}),
    "path": ("observed.csv", {}),
    "side": ("observed.csv", {}),
    "mimic_fiml": ("observed_missing.csv", {"missing": "fiml"}),
    "mimic_groups": ("observed.csv", {"group": "site"}),
}


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(HERE / "observed.csv")


def _fit(name):
    file, options = CASES[name]
    return pm.sem(pd.read_csv(HERE / file), REF[name]["model"], **options)


def _ours(key):
    return {"logl": "loglik"}.get(key, key).replace(".", "_")


@pytest.mark.parametrize("name", list(CASES))
def test_fit_measures_match_lavaan(name):
    # R: fitMeasures(sem(model, data = d, ...)) -> observed.json[name]$fit
    res = _fit(name)
    assert res.converged and res.warnings == ()
    for key, value in REF[name]["fit"].items():
        assert res.fit[_ours(key)] == pytest.approx(value, abs=1e-3), key


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_match_lavaan(name):
    # R: parameterEstimates(fit, standardized = TRUE) -> observed.json[name]$estimates:
    #    every row of lavaan's (the covariates' fixed moments with se 0 included) is one of
    #    ours with the same estimate, SE, CI and std.all
    res = _fit(name)
    expected = pd.DataFrame(REF[name]["estimates"]).rename(columns=lambda c: c.replace(".", "_"))
    expected["rhs"] = expected["rhs"].fillna("")
    multi = "group" in res.estimates
    keys = ["lhs", "op", "rhs"] + (["group"] if multi else [])
    ours = res.estimates.set_index(keys)
    assert len(ours) == len(expected)
    labels = list(pd.unique(pd.read_csv(HERE / CASES[name][0])["site"])) if multi else []
    for row in expected.to_dict("records"):
        if row["op"] == ":=":
            got = res.estimates[res.estimates["lhs"] == row["lhs"]].iloc[0]
            assert got["rhs"].replace(" ", "") == row["rhs"]
        else:
            key = (row["lhs"], row["op"], row["rhs"]) + ((labels[int(row["group"]) - 1],) if multi else ())
            got = ours.loc[key]
        for col in ("est", "se", "ci_lower", "ci_upper", "std_all"):
            assert got[col] == pytest.approx(row[col], abs=1e-3), (row["lhs"], row["op"], row["rhs"], col)


def test_covariates_are_fixed_not_free(data):
    # the covariates' moments are their sample values (biased covariance, as lavaan)
    res = _fit("mimic")
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    x = data[["years", "member"]]
    s = np.cov(x, rowvar=False, bias=True)
    assert est.loc[("years", "~~", "member"), "est"] == pytest.approx(s[0, 1], abs=1e-12)
    assert est.loc[("member", "~~", "member"), "se"] == 0.0
    assert res.fit["npar"] == 10 and res.fit["df"] == 8


def test_bootstrap_of_an_observed_mediator(data):
    # R: parameterEstimates(sem(mediator, se = "bootstrap", bootstrap = 1000),
    #    boot.ci.type = "perc"): Monte Carlo, within 0.4 delta-method SEs (see test_sem.py)
    res = pm.sem(data, REF["mediator"]["model"], n_boot=1000, seed=7)
    assert len(res.bootstrap) >= 990
    defined = res.estimates[res.estimates["op"] == ":="].set_index("lhs")
    for row in REF["mediator"]["bootstrap"]:
        got = defined.loc[row["lhs"]]
        assert got["ci_lower"] < got["est"] < got["ci_upper"]
        assert got["ci_lower"] == pytest.approx(row["ci.lower"], abs=0.4 * got["se"])
        assert got["ci_upper"] == pytest.approx(row["ci.upper"], abs=0.4 * got["se"])
        assert res.bootstrap[row["lhs"]].std() == pytest.approx(row["se"], rel=0.15)


def test_fiml_leaves_out_rows_missing_a_covariate():
    # R: sem(mimic, data = dm with years[1:10] <- NA, missing = "ml"): "10 cases were
    #    deleted due to missing values in exogenous variable(s), while fixed.x = TRUE";
    #    nobs 490, chisq 26.659, df 8, logl -2641.131
    dm = pd.read_csv(HERE / "observed_missing.csv")
    dm.loc[:9, "years"] = np.nan
    res = pm.sem(dm, REF["mimic"]["model"], missing="fiml")
    assert res.n == 490 and [w.code for w in res.warnings] == ["missing-covariate"]
    assert res.fit["chisq"] == pytest.approx(26.659, abs=1e-3) and res.fit["df"] == 8
    assert res.fit["loglik"] == pytest.approx(-2641.131, abs=1e-3)


@pytest.mark.parametrize(
    ("model", "options", "code", "words"),
    [
        # WLSMV takes exogenous covariates (lavaan's conditional.x, test_wlsmv_covariates.py),
        # not an observed mediator
        (REF["mediator"]["model"], {"estimator": "WLSMV"}, "not-implemented", "meet"),
        (REF["mimic"]["model"] + "\nyears ~~ member", {}, "not-implemented", "fixed.x"),
        ("ORG =~ ORG1 + ORG2 + ORG3\nmeet ~ ORG1", {}, "not-implemented", "ORG1"),
        ("ORG =~ ORG1 + ORG2 + ORG3\nmeet ~ ORG\nmeet ~~ ORG1", {}, "invalid-model", "meet ~~ ORG1"),
        (REF["mimic"]["model"], {"information": "hessian"}, "invalid-option", "information"),
    ],
)
def test_unsupported_observed_paths_are_refused_with_a_code(data, model, options, code, words):
    with pytest.raises(PsychometricsError) as e:
        pm.sem(data, model, **options)
    assert e.value.code == code and words in str(e.value)


@pytest.mark.parametrize("name", ["mimic", "mimic_dif", "mediator", "path", "side", "mimic_groups"])
def test_r_squared_matches_lavaan(name):
    # R: lavInspect(fit, "r2") -> observed.json[name]$r2 (with groups: the first group's):
    #    every indicator and every dependent variable, latent or observed; not the covariates
    res = _fit(name)
    r2 = res.r_squared.iloc[0] if isinstance(res.r_squared, pd.DataFrame) else res.r_squared
    assert sorted(r2.index) == sorted(REF[name]["r2"])
    for var, value in REF[name]["r2"].items():
        assert r2[var] == pytest.approx(value, abs=1e-3), var


def test_cfa_fiml_with_observed_information_matches_lavaan():
    # R (lavaan 0.6-14): parameterEstimates(cfa("ORG =~ ORG1 + ORG2 + ORG3 + ORG4\n
    #    IND =~ IND1 + IND2 + IND3", data = dm, missing = "ml")) (its default: observed
    #    information); dm = observed_missing.csv. pm.cfa keeps the expected information
    #    unless asked (its earlier references use information = "expected").
    dm = pd.read_csv(HERE / "observed_missing.csv")
    res = pm.cfa(dm, "ORG =~ ORG1 + ORG2 + ORG3 + ORG4\nIND =~ IND1 + IND2 + IND3",
                 missing="fiml", information="observed")
    expected = {("ORG", "=~", "ORG2"): (0.965507, 0.090403), ("ORG", "=~", "ORG4"): (0.897196, 0.088402),
                ("IND", "=~", "IND3"): (0.823135, 0.079834), ("ORG3", "~~", "ORG3"): (0.993874, 0.079091),
                ("IND1", "~~", "IND1"): (0.425838, 0.061614), ("ORG", "~~", "ORG"): (0.654934, 0.084781),
                ("ORG", "~~", "IND"): (0.317584, 0.047023)}
    params = res.params.set_index(["lhs", "op", "rhs"])
    for key, (est, se) in expected.items():
        assert params.loc[key, "est"] == pytest.approx(est, abs=1e-3), key
        assert params.loc[key, "se"] == pytest.approx(se, abs=1e-3), key
