"""pm.variance_split: the variance of each scale score between people, organizations and
consortia, against lme4 (tests/reference/variance/make_variance_reference.R; R is never run
here). Tolerance 1e-4 on every variance, share and REML log-likelihood."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.errors import PsychometricsError
from tests.conftest import REF

NESTED = REF / "nested"
REFERENCE = json.loads((Path(__file__).parent / "reference" / "variance" / "variance_dev.json").read_text())
TOL = 1e-4


@pytest.fixture(scope="module")
def dev():
    if not NESTED.is_dir():
        pytest.skip(f"shared nested reference not found at {NESTED}")
    return pd.read_csv(NESTED / "nested_dev.csv"), pm.load_keys(NESTED / "keys_nested_dev.json")


def _blanked(data: pd.DataFrame, keys) -> pd.DataFrame:
    """The "missing" case of the R script: each scale's first item blank on rows 1, 12, 23...
    (R's 1-based rows) and the consortium code blank on rows 5, 45, 85..."""
    d = data.copy()
    for keyed in keys.scales.values():
        d.loc[d.index[::11], keyed[0].removeprefix("-")] = np.nan
    d.loc[d.index[4::40], "consortium"] = None
    return d


def _check(split: pd.DataFrame, ref: dict, parts: list[str]):
    for scale, r in ref.items():
        row = split.loc[scale]
        assert row["n"] == r["n"], scale
        assert row["converged"], scale
        for k in parts:
            assert row[f"var_{k}"] == pytest.approx(r["var"][k], abs=TOL), (scale, k)
            assert row[f"share_{k}"] == pytest.approx(r["share"][k], abs=TOL), (scale, k)
        assert row["reml_loglik"] == pytest.approx(r["reml_loglik"], abs=TOL), scale
        assert sum(row[f"share_{k}"] for k in parts) == pytest.approx(1, abs=1e-12)


@pytest.mark.parametrize("case", ["complete", "missing"])
def test_three_levels_as_lme4(dev, case):
    data, keys = dev
    data = _blanked(data, keys) if case == "missing" else data
    # lmer(score ~ 1 + (1 | consortium/org), REML = TRUE)
    split = pm.variance_split(data, keys, ["org", "consortium"], low=1, high=5)
    ref = {s: v["three"] for s, v in REFERENCE[case].items() if s in keys.scales}
    _check(split, ref, ["person", "org", "consortium"])
    assert (split["groups_org"] == 123).all() and (split["groups_consortium"] == 24).all()


@pytest.mark.parametrize("case", ["complete", "missing"])
def test_two_levels_as_lme4(dev, case):
    data, keys = dev
    data = _blanked(data, keys) if case == "missing" else data
    # lmer(score ~ 1 + (1 | org), REML = TRUE)
    split = pm.variance_split(data, keys, "org", low=1, high=5)
    ref = {s: v["two"] for s, v in REFERENCE[case].items() if s in keys.scales}
    _check(split, ref, ["person", "org"])


def test_one_level_share_is_the_mixed_model_icc(dev):
    data, keys = dev
    split = pm.variance_split(data, keys, "org")
    icc = pm.agreement(data, keys, "org", low=1, high=5).icc
    assert np.allclose(split["share_org"], icc.loc[split.index, "icc1_mixed"], atol=1e-5)


def test_bad_input(dev):
    data, keys = dev
    with pytest.raises(PsychometricsError) as e:
        pm.variance_split(data, keys, ["org", "region"], low=1, high=5)
    assert e.value.code == "missing-column"
    one = pm.variance_split(data.assign(consortium="C1"), keys, ["org", "consortium"], low=1, high=5)
    assert one["var_consortium"].isna().all() and not one["converged"].any()  # one consortium: no split


def test_in_the_nesting_entry_of_validate(dev):
    from psychometrics.nesting import nesting

    data, keys = dev
    out = nesting(data, keys, ["org", "consortium"], low=1, high=5)["nesting"]
    v = out["org"]["TRU"]["variance"]
    assert v == out["consortium"]["TRU"]["variance"]         # one model, under each level
    assert v["levels"] == ["person", "org", "consortium"]
    assert v["share"]["org"] == pytest.approx(REFERENCE["complete"]["TRU"]["three"]["share"]["org"], abs=TOL)
    assert v["model"] == "lmer(score ~ 1 + (1 | consortium/org), REML = TRUE)"


def test_a_variance_at_zero_as_lme4():
    """Every consortium gives the same answers: lme4 reports a boundary (singular) fit with
    the variances at 0, where statsmodels' MixedLM stops on a singular matrix."""
    here = Path(__file__).parent / "reference" / "variance"
    data = pd.read_csv(here / "boundary.csv")
    ref = json.loads((here / "boundary.json").read_text())
    # lmer(y ~ 1 + (1 | consortium/org), REML = TRUE)
    split = pm.variance_split(data, {"scales": {"Y": ["y"]}, "min": 1, "max": 5}, ["org", "consortium"])
    row = split.loc["Y"]
    for k in ("person", "org", "consortium"):
        assert row[f"var_{k}"] == pytest.approx(ref["var"][k], abs=TOL), k
    assert row["reml_loglik"] == pytest.approx(ref["reml_loglik"], abs=TOL)
    assert row["share_person"] == pytest.approx(1, abs=TOL)
