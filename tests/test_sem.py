"""pm.sem (structural models in lavaan syntax) and the WLSMV marker rule, against lavaan 0.6-14.

Expected numbers: ``tests/reference/sem/make_sem_reference.R`` (sem.json; the data sets
political_democracy.csv, chain.csv and datcat.csv are written by that script):

- ``poldem``: ``parameterEstimates(sem(model, data = PoliticalDemocracy), standardized =
  TRUE)`` and ``fitMeasures`` (chisq 38.125 on 35 df);
- ``chain``: IND -> ORG -> ECO -> USR (+ IND -> USR) on 5-point items, 600 rows, with
  ``:=`` indirect effects, by ML and by WLSMV (``ordered = names(d), estimator = "WLSMV"``),
  and lavaan's percentile bootstrap (``se = "bootstrap", bootstrap = 1000``,
  ``boot.ci.type = "perc"``);
- ``datcat``: ``cfa("f1 =~ u1 + u2 + u3 + u4; f2 =~ u5 + u6 + u7 + u8 + u3", data =
  semTools::datCat, ordered = TRUE, estimator = "WLSMV")``.

Tolerances (issue 12): fit 1e-3, estimates and delta-method SEs 1e-3, WLSMV scaled
chi-square 2e-2 relative, CFI/TLI/RMSEA 2e-2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.engine.syntax import Term, evaluate_defined, parse_syntax
from psychometrics.errors import PsychometricsError

HERE = Path(__file__).parent / "reference" / "sem"
REF = json.loads((HERE / "sem.json").read_text())


@pytest.fixture(scope="module")
def chain():
    return pd.read_csv(HERE / "chain.csv")


@pytest.fixture(scope="module")
def poldem_fit():
    return pm.sem(pd.read_csv(HERE / "political_democracy.csv"), REF["poldem"]["model"])


@pytest.fixture(scope="module")
def chain_ml(chain):
    return pm.sem(chain, REF["chain"]["model"])


@pytest.fixture(scope="module")
def chain_wlsmv(chain):
    return pm.sem(chain, REF["chain"]["model"], estimator="WLSMV")


def _ours(key):
    return {"logl": "loglik"}.get(key, key).replace(".", "_")


def _check_estimates(res, ref, tol=1e-3):
    """Every row of lavaan's parameterEstimates is one row of ours, with the same label,
    estimate, standard error, CI and std.all."""
    expected = pd.DataFrame(ref).rename(columns=lambda c: c.replace(".", "_"))
    expected["rhs"] = expected["rhs"].fillna("")
    expected["label"] = expected.get("label", pd.Series("", index=expected.index)).fillna("")
    ours = res.estimates.set_index(["lhs", "op", "rhs"])
    assert len(ours) == len(expected)
    for row in expected.itertuples(index=False):
        rhs = ours.loc[row.lhs].index[0][1] if row.op == ":=" else row.rhs  # our rhs: the expression
        got = ours.loc[(row.lhs, row.op, rhs)]
        assert got["label"] == row.label, (row.lhs, row.op, row.rhs)
        for theirs, mine in (("est", "est"), ("se", "se"), ("ci.lower", "ci_lower"),
                             ("ci.upper", "ci_upper"), ("std.all", "std_all")):
            assert got[mine] == pytest.approx(getattr(row, theirs.replace(".", "_")), abs=tol), (
                row.lhs, row.op, row.rhs, theirs)


def test_political_democracy_fit_matches_lavaan(poldem_fit):
    # R: fitMeasures(sem(model, data = PoliticalDemocracy))
    assert poldem_fit.converged and poldem_fit.warnings == ()
    assert poldem_fit.fit["chisq"] == pytest.approx(38.125, abs=1e-3)
    for key, value in REF["poldem"]["fit"].items():
        assert poldem_fit.fit[_ours(key)] == pytest.approx(value, rel=1e-3, abs=1e-3), key


def test_political_democracy_estimates_match_lavaan(poldem_fit):
    # R: parameterEstimates(fit, standardized = TRUE)
    _check_estimates(poldem_fit, REF["poldem"]["estimates"])
    assert list(poldem_fit.estimates.columns) == [
        "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all"]


def test_chain_ml_with_defined_indirect_effects(chain_ml):
    # R: parameterEstimates(sem(chain_model, data = d), standardized = TRUE): ind_eco := a*b,
    #    ind_usr := a*b*c, total_usr := a*b*c + d (delta-method SEs, std.all of the products)
    for key, value in REF["chain"]["ml"]["fit"].items():
        assert chain_ml.fit[_ours(key)] == pytest.approx(value, rel=1e-3, abs=1e-3), key
    _check_estimates(chain_ml, REF["chain"]["ml"]["estimates"])
    defined = chain_ml.estimates[chain_ml.estimates["op"] == ":="]
    assert defined["lhs"].tolist() == ["ind_eco", "ind_usr", "total_usr"]
    assert defined["rhs"].tolist() == ["a*b", "a*b*c", "a*b*c + d"]


def test_chain_wlsmv_matches_lavaan(chain_wlsmv):
    # R: sem(chain_model, data = d, ordered = names(d), estimator = "WLSMV")
    ref = REF["chain"]["wlsmv"]
    for key, value in ref["fit"].items():
        got = chain_wlsmv.fit[_ours(key)]
        if key in ("chisq.scaled", "chisq"):
            assert got == pytest.approx(value, rel=2e-2), key
        elif key.split(".")[0] in ("cfi", "tli", "rmsea"):
            assert got == pytest.approx(value, abs=2e-2), key
        else:
            assert got == pytest.approx(value, rel=1e-3, abs=1e-3), key
    _check_estimates(chain_wlsmv, ref["estimates"])
    assert {"chisq_scaled", "df_scaled", "cfi_scaled", "tli_scaled", "rmsea_scaled"} <= set(chain_wlsmv.fit)


def test_percentile_bootstrap_of_indirect_effects(chain):
    # R: parameterEstimates(sem(..., se = "bootstrap", bootstrap = 1000), boot.ci.type = "perc").
    # A Monte Carlo quantity: with 1,000 replications a 2.5% quantile has a Monte Carlo SD
    # of about 0.085 SE, the difference of two independent runs about 0.12 SE; ours (another
    # resampling) must fall within 0.4 delta-method SEs (3.3 SDs). With 4,000 replications
    # ours gives [0.0987, 0.2392] for ind_eco (lavaan's 1,000: [0.1003, 0.2422]).
    res = pm.sem(chain, REF["chain"]["model"], n_boot=1000, seed=7)
    assert len(res.bootstrap) >= 990 and list(res.bootstrap.columns) == ["ind_eco", "ind_usr", "total_usr"]
    defined = res.estimates[res.estimates["op"] == ":="].set_index("lhs")
    for row in REF["chain"]["bootstrap"]:
        got = defined.loc[row["lhs"]]
        assert got["ci_lower"] < got["est"] < got["ci_upper"]
        assert got["ci_lower"] == pytest.approx(row["ci.lower"], abs=0.4 * got["se"])
        assert got["ci_upper"] == pytest.approx(row["ci.upper"], abs=0.4 * got["se"])
        assert res.bootstrap[row["lhs"]].std() == pytest.approx(row["se"], rel=0.15)


def test_bootstrap_is_seeded(chain):
    runs = [pm.sem(chain, REF["chain"]["model"], n_boot=60, seed=s) for s in (3, 3, 4)]
    pd.testing.assert_frame_equal(runs[0].estimates, runs[1].estimates)
    assert not np.isclose(runs[0].estimates["ci_lower"].iloc[-1], runs[2].estimates["ci_lower"].iloc[-1])
    # the other rows keep their normal-theory intervals
    plain = pm.sem(chain, REF["chain"]["model"])
    rows = plain.estimates["op"] != ":="
    pd.testing.assert_frame_equal(runs[0].estimates[rows], plain.estimates[rows])


def test_wlsmv_marker_is_the_first_listed_item_with_a_cross_loading():
    # R: cfa("f1 =~ u1 + u2 + u3 + u4\n f2 =~ u5 + u6 + u7 + u8 + u3", data = datCat,
    #        ordered = TRUE, estimator = "WLSMV"): u3 comes first in data order among f2's
    #        items, but u5 is f2's marker (loading 1); the fit used to flip f2 and report
    #        not-identified (standard errors ~19)
    x = pd.read_csv(HERE / "datcat.csv")
    ref = REF["datcat"]
    res = pm.cfa(x, {"f1": ["u1", "u2", "u3", "u4"], "f2": ["u5", "u6", "u7", "u8", "u3"]},
                 estimator="WLSMV")
    assert res.converged and res.warnings == ()
    for key, value in ref["fit"].items():
        assert res.fit[_ours(key)] == pytest.approx(value, rel=1e-3, abs=1e-3), key
    params = res.params.set_index(["lhs", "op", "rhs"])
    expected = pd.DataFrame(ref["estimates"]).rename(columns=lambda c: c.replace(".", "_"))
    for row in expected.query("op == '=~'").itertuples():
        got = params.loc[(row.lhs, "=~", row.rhs)]
        assert got["est"] == pytest.approx(row.est, abs=1e-3)
        assert got["std_all"] == pytest.approx(row.std_all, abs=1e-3)
        if row.se > 0:
            assert got["se"] == pytest.approx(row.se, abs=1e-3)
    assert params.loc[("f2", "=~", "u5"), "est"] == 1.0 and params.loc[("f2", "=~", "u5"), "free"] == 0


# --------------------------------------------------------------------------- syntax


def test_syntax_labels_fixed_values_comments_and_continuations():
    s = parse_syntax("F =~ NA*x1 + a*x2 +\n  0.5*x3  # comment\nG =~ y1 + y2; G ~ b*F\n"
                     "F ~~ 1*F\nind := a*b", "sem")
    assert s.terms[0] == Term("F", "=~", "x1", free=True)
    assert s.terms[1] == Term("F", "=~", "x2", label="a")
    assert s.terms[2] == Term("F", "=~", "x3", fixed=0.5)
    assert Term("G", "~", "F", label="b") in s.terms and Term("F", "~~", "F", fixed=1.0) in s.terms
    assert s.latent == ["F", "G"] and s.observed == ["x1", "x2", "x3", "y1", "y2"]
    assert s.defined == (("ind", "a*b"),)
    assert evaluate_defined("a*b + c/2 - -1", {"a": 2.0, "b": 3.0, "c": 1.0}) == 7.5


def test_fixed_and_free_marker_modifiers(chain):
    # NA*IND1 frees the marker; IND ~~ 1*IND fixes the variance instead (std.lv by hand)
    model = REF["chain"]["model"].replace("IND =~ IND1", "IND =~ NA*IND1") + "\nIND ~~ 1*IND\n"
    res = pm.sem(chain, model)
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    base = pm.sem(chain, REF["chain"]["model"])
    assert res.fit["chisq"] == pytest.approx(base.fit["chisq"], rel=1e-8)
    assert est.loc[("IND", "~~", "IND"), "est"] == 1.0 and est.loc[("IND", "~~", "IND"), "se"] == 0
    assert est.loc[("IND", "=~", "IND1"), "se"] > 0
    assert est.loc[("IND", "=~", "IND1"), "std_all"] == pytest.approx(
        base.estimates.set_index(["lhs", "op", "rhs"]).loc[("IND", "=~", "IND1"), "std_all"], abs=1e-6)


def test_equal_labels_are_one_parameter(chain):
    model = REF["chain"]["model"].replace("ECO ~ b*ORG", "ECO ~ a*ORG")
    model = model.replace("ind_eco := a*b", "ind_eco := a*a").replace("a*b*c", "a*a*c")
    res = pm.sem(chain, model)
    est = res.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("ORG", "~", "IND"), "est"] == est.loc[("ECO", "~", "ORG"), "est"]
    assert res.fit["df"] == REF["chain"]["ml"]["fit"]["df"] + 1


@pytest.mark.parametrize(
    ("model", "options", "code", "words"),
    [
        ("F =~ IND1 + IND2 + IND3\nORG1 ~ IND1", {}, "not-implemented", "IND1"),
        ("F =~ IND1 + IND2 + IND3\nx := q*2", {}, "invalid-model", "'q'"),
        ("F =~ IND1 + IND2 + IND3\nF ~ 1", {}, "invalid-model", "intercepts"),
        ("F =~ IND1 + IND2 + IND3\nF == G", {}, "invalid-model", "F == G"),
        ("IND1 ~~ IND2", {}, "invalid-model", "at least one factor"),
        ("F =~ IND1 + IND2 + IND3\nORG1 ~ F", {"estimator": "WLSMV"}, "not-implemented", "ORG1"),
        ({"F": ["IND1", "IND2"]}, {}, "invalid-model", "string"),
        ("F =~ IND1 + IND2 + IND3", {"estimator": "WLSMV", "n_boot": 10}, "not-implemented", "n_boot"),
        ("F =~ IND1 + IND2 + nope", {}, "missing-column", "nope"),
    ],
)
def test_bad_models_are_refused_with_a_code(chain, model, options, code, words):
    with pytest.raises(PsychometricsError) as e:
        pm.sem(chain, model, **options)
    assert e.value.code == code and words in str(e.value)


def test_fiml_and_groups_run(chain):
    holes = chain.copy()
    holes.iloc[::7, 0] = np.nan
    res = pm.sem(holes, REF["chain"]["model"], missing="fiml")
    assert res.converged and res.n == len(chain)
    grouped = chain.assign(g=np.repeat(["a", "b"], len(chain) // 2))
    res = pm.sem(grouped, REF["chain"]["model"], group="g")
    assert res.converged and res.groups == ("a", "b") and "group" in res.estimates.columns
    # a label names one parameter in every group (lavaan): the indirect effects are shared
    assert (res.estimates["op"] == ":=").sum() == 3


def test_wlsmv_residual_covariance_matches_lavaan():
    # R (lavaan 0.6-14; the data of make_sem_reference.R):
    #   fit <- cfa("f1 =~ u1 + u2 + u3 + u4\n f2 =~ u5 + u6 + u7 + u8\n u1 ~~ u2",
    #              data = x, ordered = names(x), estimator = "WLSMV")
    #   fitMeasures(fit, c("chisq", "df", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr"))
    #   -> 11.032 18 18.675 0.999 0.014 0.037
    #   parameterEstimates(fit, standardized = TRUE): u1 ~~ u2 est -0.114 se 0.065 std.all -0.301;
    #   f1 ~~ f2 est 0.363 se 0.049 std.all 0.545
    x = pd.read_csv(HERE / "datcat.csv")
    res = pm.cfa(x, "f1 =~ u1 + u2 + u3 + u4\nf2 =~ u5 + u6 + u7 + u8\nu1 ~~ u2", estimator="WLSMV")
    expected = {"chisq": 11.032, "df": 18, "chisq_scaled": 18.675, "cfi_scaled": 0.999,
                "rmsea_scaled": 0.014, "srmr": 0.037}
    for key, value in expected.items():
        assert res.fit[key] == pytest.approx(value, abs=1e-3), key
    params = res.params.set_index(["lhs", "op", "rhs"])
    for key, (est, se, std) in {("u1", "~~", "u2"): (-0.114, 0.065, -0.301),
                                ("f1", "~~", "f2"): (0.363, 0.049, 0.545)}.items():
        assert params.loc[key, "est"] == pytest.approx(est, abs=1e-3)
        assert params.loc[key, "se"] == pytest.approx(se, abs=1e-3)
        assert params.loc[key, "std_all"] == pytest.approx(std, abs=1e-3)
