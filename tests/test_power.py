"""pm.power / pm.power_n against R (tests/reference/power/make_power.R: pchisq / qchisq, semTools)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import psychometrics as pm
from psychometrics.power import Power

REF = json.loads((Path(__file__).parent / "reference" / "power" / "power.json").read_text())


@pytest.mark.parametrize("case", REF["power"], ids=lambda c: f"df{c['df']}-n{c['n']}-{c['rmsea0']}-{c['rmsea1']}-{c['alpha']}")
def test_power_matches_r(case):
    # R: power_rmsea(df, n, rmsea0, rmsea1, alpha) in make_power.R (= semTools::findRMSEApower)
    res = pm.power(df=case["df"], n=case["n"], rmsea0=case["rmsea0"], rmsea1=case["rmsea1"], alpha=case["alpha"])
    assert res.power == pytest.approx(case["power"], abs=1e-6)
    assert float(res) == res.power
    assert res.ncp0 == pytest.approx(case["ncp0"], rel=1e-12)
    assert res.ncp1 == pytest.approx(case["ncp1"], rel=1e-12)
    assert res.critical == pytest.approx(case["critical"], rel=1e-6)


@pytest.mark.parametrize("case", REF["power_n"], ids=lambda c: f"df{c['df']}-{c['rmsea0']}-{c['rmsea1']}-{c['power']}")
def test_power_n_matches_r(case):
    # R: power_n(df, target, rmsea0, rmsea1, alpha) in make_power.R (scan, first N with power >= target)
    n = pm.power_n(df=case["df"], power=case["power"], rmsea0=case["rmsea0"], rmsea1=case["rmsea1"], alpha=case["alpha"])
    assert n == case["n"]
    assert n == case["semtools"]  # semTools::findRMSEAsamplesize agrees (power > target)


def test_power_kinds_of_test():
    assert pm.power(df=10, n=100, rmsea0=0, rmsea1=0.05).test == "exact"
    assert pm.power(df=10, n=100).test == "close"
    assert pm.power(df=10, n=100, rmsea0=0.05, rmsea1=0.01).test == "not-close"
    assert isinstance(pm.power(df=10, n=100), Power)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"df": 0, "n": 100}, "'df'"),
        ({"df": 2.5, "n": 100}, "'df'"),
        ({"df": 10, "n": 1}, "'n'"),
        ({"df": 10, "n": 100, "rmsea0": 0.05, "rmsea1": 0.05}, "must differ"),
        ({"df": 10, "n": 100, "rmsea1": 1.5}, "'rmsea1'"),
        ({"df": 10, "n": 100, "alpha": 0}, "'alpha'"),
    ],
)
def test_power_bad_input(kwargs, word):
    with pytest.raises(pm.PsychometricsError, match=word) as err:
        pm.power(**kwargs)
    assert err.value.code == "bad-parameter"


def test_power_n_bad_target():
    with pytest.raises(pm.PsychometricsError, match="'power'"):
        pm.power_n(df=10, power=1.2)
