"""pm.cfa(data, model, cluster=...) (two-level CFA) against lavaan 0.6-14.

Golden values: ../shared/reference/nested/ref_nested_dev.json ``twolevel_cfa``
(make_reference_nested.R: reverse keys applied, complete rows, TRUw/TRUb... factors) and
tests/reference/twolevel/twolevel.json (make_twolevel.R: the same data, the saturated and
baseline log-likelihoods, a model with one general between factor, a misfitting one).
R call for every fit: ``fitMeasures(cfa(model, data = d, cluster = "org"), c("chisq",
"df", "pvalue", "cfi", "tli", "rmsea", "srmr_within", "srmr_between", "aic", "bic",
"logl"))``; loadings: ``standardizedSolution(fit)`` rows ``op == "=~"``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REF

import psychometrics as pm
from psychometrics.errors import PsychometricsError
from psychometrics.twolevel import TwoLevelCFA, parse_levels

TWO = json.loads((Path(__file__).parent / "reference" / "twolevel" / "twolevel.json").read_text())
FIT = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr_within", "srmr_between", "aic", "bic", "logl")


@pytest.fixture(scope="module")
def people():
    import pandas as pd

    nested = REF / "nested"
    if not nested.is_dir():
        pytest.skip(f"nested reference folder not found at {nested}")
    keys = json.loads((nested / "keys_nested_dev.json").read_text())
    raw = pd.read_csv(nested / "nested_dev.csv")
    x = raw.copy()
    for scale in keys["scales"].values():
        for k in scale:
            if k.startswith("-"):
                x[k[1:]] = keys["max"] + keys["min"] - x[k[1:]]
    ref = json.loads((nested / "ref_nested_dev.json").read_text())["twolevel_cfa"]
    factors = {s: [k.lstrip("-") for k in v] for s, v in keys["scales"].items()}
    return x, factors, ref


@pytest.fixture(scope="module")
def three(people):
    x, factors, _ = people
    return pm.cfa(x, factors, cluster="org")


def test_fit_matches_lavaan(three, people):
    _, _, ref = people
    assert isinstance(three, TwoLevelCFA)
    assert three.converged
    assert (three.n, three.clusters) == (ref["n"], ref["clusters"])       # 539 rows, 123 orgs
    for key in FIT:
        assert three.fit[key] == pytest.approx(ref["fit"][key], abs=1e-3), key
    # R: fitMeasures(fit, c("unrestricted.logl", "baseline.chisq", "baseline.df", "npar"))
    want = TWO["three"]["fit"]
    assert three.fit["logl_h1"] == pytest.approx(want["unrestricted.logl"], abs=1e-3)
    assert three.fit["baseline_chisq"] == pytest.approx(want["baseline.chisq"], abs=1e-3)
    assert (three.fit["baseline_df"], three.fit["npar"]) == (132, 66)


def test_std_loadings_per_level(three, people):
    _, factors, ref = people
    got = []
    for level, suffix in (("within", "w"), ("between", "b")):
        for f, items in factors.items():
            got += [three.loadings[level].loc[i, f + suffix] for i in items]
    # R: standardizedSolution(fit)$est.std for op "=~", within rows first (the JSON drops
    # the level column, so the order carries it)
    assert np.allclose(got, list(ref["std_loadings"].values()), atol=1e-3)
    # between loadings above 1 come with negative residual variances (as in lavaan)
    assert any("between level" in w for w in three.warnings)


@pytest.mark.parametrize("name", ["general", "misfit"])
def test_other_models_match_lavaan(people, name):
    x, _, _ = people
    case = TWO[name]
    fit = pm.cfa(x, case["model"], cluster="org")
    for key in FIT:
        assert fit.fit[key] == pytest.approx(case["fit"][key], abs=1e-3), (name, key)
    # factor names differ between the levels, so each names its level
    level = {f: lv for lv in ("within", "between") for f in fit.loadings[lv].columns}
    std = [fit.loadings[level[f]].loc[r, f] for f, r in zip(case["std_lhs"], case["std_rhs"], strict=True)]
    assert np.allclose(std, case["std_est"], atol=1e-3), name


def test_model_forms_agree(people):
    _x, factors, _ = people
    syntax = TWO["three"]["model"]
    by_level = {"within": {f + "w": v for f, v in factors.items()},
                "between": {f + "b": v for f, v in factors.items()}}
    assert parse_levels(syntax) == parse_levels(factors) == parse_levels(by_level)


def test_too_few_clusters(people):
    x, factors, _ = people
    small = x[x["org"].isin(sorted(x["org"].unique())[:30])]
    with pytest.raises(PsychometricsError) as err:
        pm.cfa(small, factors, cluster="org")
    assert err.value.code == "too-few-clusters"
    assert "'org'" in str(err.value) and "39" in str(err.value)


@pytest.mark.parametrize(("model", "fragment"), [
    ("TRUw =~ TRU1 + TRU2 + TRU3", "level: 1"),
    ("level: 1\nTRUw =~ TRU1 + TRU2 + TRU3\n", "level: 2"),
    ("level: 1\nTRUw =~ TRU1 + TRU2 + TRU3\nlevel: 2\nTRUb =~ TRU1 + TRU2\n", "one level only"),
    ("level: 1\nTRUw =~ TRU1 + TRU2 + TRU3\nlevel: 2\nTRUb ~ TRU1\n", "cannot read"),
])
def test_invalid_models(people, model, fragment):
    x, _, _ = people
    with pytest.raises(PsychometricsError) as err:
        pm.cfa(x, model, cluster="org")
    assert err.value.code == "invalid-model"
    assert fragment in str(err.value)


def test_missing_cluster_column_and_options(people):
    x, factors, _ = people
    with pytest.raises(PsychometricsError) as err:
        pm.cfa(x, factors, cluster="nope")
    assert err.value.code == "missing-column"
    with pytest.raises(PsychometricsError) as err:
        pm.cfa(x, factors, cluster="org", estimator="WLSMV")
    assert err.value.code == "not-implemented"


def test_summary_names_both_levels(three):
    text = three.summary()
    assert "SRMR within" in text
    assert "(within)" in text and "(between)" in text


def test_fiml_matches_lavaan_missing_ml():
    # R (make_twolevel_fiml.R): nested_dev reverse keyed, 5% of answers blanked at random;
    # fit <- cfa(model, data = d, cluster = "org", missing = "ml"); fitMeasures(fit, ...)
    import pandas as pd

    ref = json.loads((Path(__file__).parent / "reference" / "twolevel" / "twolevel_fiml.json").read_text())
    d = pd.read_csv(Path(__file__).parent / "reference" / "twolevel" / "nested_missing.csv")
    fit = pm.cfa(d, ref["model"], cluster="org", missing="fiml")
    want = ref["fit"]
    assert fit.converged and fit.n == ref["n"] == 539
    for key in ("logl", "aic", "bic", "df", "npar"):
        assert fit.fit[key] == pytest.approx(want[key], abs=1e-3), key
    level = {f: lv for lv in ("within", "between") for f in fit.loadings[lv].columns}
    std = [fit.loadings[level[f]].loc[r, f] for f, r in zip(ref["std_lhs"], ref["std_rhs"], strict=True)]
    assert np.allclose(std, ref["std_est"], atol=1e-3)
    # lavaan's unrestricted (h1) fit with missing data stops short of the maximum (nlminb,
    # rel.tol 1e-7, a nearly singular between matrix): ours reaches a higher log-likelihood,
    # so our chisq is 2 (logl_h1 - logl) with the better h1 (71.91 vs lavaan's 71.41)
    assert fit.fit["logl_h1"] >= want["unrestricted.logl"] - 1e-6
    assert fit.fit["logl_h1"] - want["unrestricted.logl"] < 0.5
    assert fit.fit["chisq"] == pytest.approx(2 * (fit.fit["logl_h1"] - fit.fit["logl"]), abs=1e-9)
    assert fit.fit["cfi"] == pytest.approx(want["cfi"], abs=1e-3)


@pytest.mark.parametrize("name", ["three", "general", "misfit"])
def test_rmsea_interval_matches_lavaan(people, name):
    # R: fitMeasures(cfa(model, data = d, cluster = "org"), c("rmsea.ci.lower",
    #    "rmsea.ci.upper")) (make_twolevel.R): general [0, 0.0146], misfit [0.1093, 0.1236]
    x, _, _ = people
    fit = pm.cfa(x, TWO[name]["model"], cluster="org")
    for key in ("rmsea_ci_lower", "rmsea_ci_upper"):
        assert fit.fit[key] == pytest.approx(TWO[name]["fit"][key.replace("_", ".")], abs=1e-3), key
