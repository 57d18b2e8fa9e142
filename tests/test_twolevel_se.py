"""Standard errors of the two-level CFA against lavaan 0.6-14 (observed information, its
default for two-level ML: ``lavInspect(fit, "options")$information`` is "observed").

Expected numbers: ``tests/reference/twolevel/make_twolevel_se.R`` (twolevel_se.json):
``parameterEstimates(cfa(model, data = d, cluster = "org"), standardized = TRUE)`` for the
three-factor model at both levels (``three``), a single between factor (``general``) and the
three-factor model by FIML on ``nested_missing.csv`` (``three_fiml``, ``missing = "ml"``).
Tolerance (issue 12): estimates and SEs 1e-3.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import REF

import psychometrics as pm

HERE = Path(__file__).parent / "reference" / "twolevel"
SE = json.loads((HERE / "twolevel_se.json").read_text())


@pytest.fixture(scope="module")
def people():
    nested = REF / "nested"
    if not nested.is_dir():
        pytest.skip(f"nested reference folder not found at {nested}")
    keys = json.loads((nested / "keys_nested_dev.json").read_text())
    x = pd.read_csv(nested / "nested_dev.csv")
    for scale in keys["scales"].values():
        for k in scale:
            if k.startswith("-"):
                x[k[1:]] = keys["max"] + keys["min"] - x[k[1:]]
    return x


def _check(res, name):
    # R: parameterEstimates(fit, standardized = TRUE) -> twolevel_se.json[name]$estimates;
    #    lavaan's level-1 intercepts and latent means (fixed 0) are not parameters here
    expected = pd.DataFrame(SE[name]["estimates"]).rename(columns=lambda c: c.replace(".", "_"))
    expected["rhs"] = expected["rhs"].fillna("")
    expected["level"] = expected["level"].map({1: "within", 2: "between"})
    ours = res.estimates.set_index(["lhs", "op", "rhs", "level"])
    checked = 0
    for row in expected.to_dict("records"):
        key = (row["lhs"], row["op"], row["rhs"], row["level"])
        if row["op"] == "~1" and row["est"] == 0 and row["se"] == 0:
            assert key not in ours.index or ours.loc[key, "est"] == 0
            continue
        if key not in ours.index:  # a covariance listed the other way round
            key = (row["rhs"], row["op"], row["lhs"], row["level"])
        got = ours.loc[key]
        for col in ("est", "se", "ci_lower", "ci_upper"):
            assert got[col] == pytest.approx(row[col], abs=1e-3), (key, col)
        # std.all of a mean divides by a between SD near 0.2: relative 1e-3
        assert got["std_all"] == pytest.approx(row["std_all"], abs=1e-3, rel=1e-3), key
        if row["se"] > 0:
            assert got["z"] == pytest.approx(row["z"], abs=2e-2), key
        checked += 1
    assert checked == len(ours)


def test_three_factors_at_both_levels(people):
    _check(pm.cfa(people, SE["three"]["model"], cluster="org"), "three")


def test_one_general_between_factor(people):
    _check(pm.cfa(people, SE["general"]["model"], cluster="org"), "general")


def test_fiml(people):
    d = pd.read_csv(HERE / "nested_missing.csv")
    _check(pm.cfa(d, SE["three_fiml"]["model"], cluster="org", missing="fiml"), "three_fiml")


def test_fixed_markers_have_no_standard_error(people):
    res = pm.cfa(people, SE["three"]["model"], cluster="org")
    markers = res.params[(res.params["op"] == "=~") & ~res.params["free"]]
    assert len(markers) == 6 and (markers["se"] == 0).all() and markers["z"].isna().all()
    assert list(res.estimates.columns) == ["lhs", "op", "rhs", "level", "est", "se", "z",
                                          "pvalue", "ci_lower", "ci_upper", "std_all"]
