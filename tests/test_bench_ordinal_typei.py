"""bench/bench_ordinal_typei.py (type I error of the ordinal invariance tests) runs end to end
on a few replications, so that the bench does not rot; R is never called here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm

PATH = Path(__file__).resolve().parents[1] / "bench" / "bench_ordinal_typei.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_ordinal_typei", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def res(bench):
    return bench.study([150], reps=4, seed=11)


def test_summary_and_its_table(bench, res):
    table = bench.summarise(res)
    assert list(table["test"]) == list(bench.TESTS)
    assert (table["n_per_group"] == 150).all() and (table["reps"] == 4).all()
    assert (table["used"] + table["not_converged"] + table["errors"] == 4).all()
    assert table["rate"].between(0, 1).all()
    assert (table["ci_low"] <= table["rate"]).all() and (table["rate"] <= table["ci_high"]).all()
    assert list(table["df"]) == [38, 16, 6, 6]  # 2 factors x 4 five-point items, Wu & Estabrook
    text = bench.markdown(table, 0.05)
    assert text.count("\n") == 5 and "configural scaled chi-square" in text


def test_the_data_for_r_are_the_data_we_fitted(bench, res):
    # the replications redrawn for R give, fitted here, the p-values the study recorded
    data = bench.r_data(res, 2)
    assert list(data.columns) == ["n", "rep", "g", *bench.POP.items]
    one = data[data["rep"] == 1].drop(columns=["n", "rep"])
    inv = pm.invariance(one, bench.FACTORS, "g", estimator="WLSMV", partial=[], min_group_size=10)
    rec = res.replications.iloc[1]
    got = [rec[f"invariance_wlsmv.p.{t}"] for t in bench.TESTS]
    want = [inv.table.loc["configural", "pvalue_scaled"],
            *inv.table.loc[["thresholds", "loadings", "intercepts"], "p_diff"]]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_comparison_with_r_output(bench, res):
    # R's JSON as R_SCRIPT writes it, here with our own p-values (one of them moved past alpha)
    fits = [{"key": f"150 {r}", "converged": True,
             "p": [float(res.replications.iloc[r][f"invariance_wlsmv.p.{t}"]) for t in bench.TESTS]}
            for r in range(3)]
    fits[0]["p"][1] = 0.0
    fits.append({"key": "150 3", "converged": False, "p": [None] * 4})
    table = bench.compare_r(res, {"fits": fits})
    assert isinstance(table, pd.DataFrame) and (table["reps"] == 3).all()
    assert table["decisions_differ"].sum() == int(res.replications.iloc[0][
        "invariance_wlsmv.p.thresholds"] >= 0.05)
    assert "| 150 | thresholds | 3 |" in bench.markdown_r(table)


def test_wilson_interval(bench):
    low, high = bench.wilson(50, 1000)
    assert low == pytest.approx(0.0381, abs=1e-4) and high == pytest.approx(0.0653, abs=1e-4)


def test_false_flags_under_the_report_rule(bench):
    rule = bench.study([150], reps=3, seed=11, partial=None)
    assert rule.plan.partial is None
    table = bench.false_flags(rule)
    assert list(table["n_per_group"]) == [150] and table["used"].iloc[0] <= 3
    assert 0 <= table["rate"].iloc[0] <= 1 and table["mean_flagged"].iloc[0] >= 0
