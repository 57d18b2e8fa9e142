"""The invariance step sequence of the validation report (psychometrics.invariance.stepwise /
report_entry): configural -> metric -> scalar, release at the first failing step, continue
from the partial model, and one list of non-invariant items for the table, the text and
results.json (issue 12 point 5).

Simulated two-group data with known non-invariance (no R reference: the fits are those of
pm.invariance, pinned against lavaan in test_invariance.py; here the sequence is tested).
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from psychometrics.invariance import holm, report_entry

MODEL = {"A": ["a1", "a2", "a3", "a4", "a5"], "B": ["b1", "b2", "b3", "b4", "b5"]}


def _data(n=500, loading_shift=0.0, intercept_shift=0.0, seed=5):
    rng = np.random.default_rng(seed)
    frames = []
    for g in ("x", "y"):
        f = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
        lam = np.full(10, 0.75)
        nu = np.zeros(10)
        if g == "y":
            lam[2] += loading_shift  # a3's loading
            nu[6] += intercept_shift  # b2's intercept
        load = np.zeros((10, 2))
        load[:5, 0], load[5:, 1] = lam[:5], lam[5:]
        y = nu + f @ load.T + rng.normal(size=(n, 10)) * 0.6
        frames.append(pd.DataFrame(y, columns=MODEL["A"] + MODEL["B"]).assign(g=g))
    return pd.concat(frames, ignore_index=True)


def test_invariant_data_every_step_holds():
    out, notes = report_entry(_data(), MODEL, "g")
    fit = out["fits"]["model"]
    assert [s["verdict"] for s in fit["steps"]] == ["holds", "holds"]
    assert out["flagged"] == [] and fit["released"] == [] and notes == []
    assert list(fit["table"].index) == ["configural", "metric", "scalar"]
    assert fit["table"]["holds"].tolist() == [None, True, True]


def test_intercept_shift_gives_partial_scalar_releasing_that_item():
    out, _ = report_entry(_data(intercept_shift=0.8), MODEL, "g")
    fit = out["fits"]["model"]
    steps = {s["step"]: s for s in fit["steps"]}
    assert steps["metric"]["verdict"] == "holds"
    assert steps["scalar"]["verdict"] == "partial" and steps["scalar"]["compared_with"] == "metric"
    assert [(r["item"], r["parameter"]) for r in steps["scalar"]["released"]] == [("b2", "intercept")]
    assert out["flagged"] == fit["flagged"] == ["b2"] and fit["released"] == [["b2", "intercept"]]
    table = fit["table"]
    assert list(table.index) == ["configural", "metric", "scalar", "scalar_partial"]
    assert table.loc["scalar", "holds"] is False and table.loc["scalar_partial", "holds"] is True
    assert table.loc["scalar_partial", "df"] == table.loc["scalar", "df"] - 1
    # the score tests shown mark exactly the released constraint
    shown = [(t["item"], t["parameter"]) for t in out["score_tests"] if t["flagged"]]
    assert shown == [("b2", "intercept")]


def test_loading_shift_releases_at_the_metric_step_and_scalar_starts_from_it():
    out, _ = report_entry(_data(loading_shift=0.6), MODEL, "g")
    fit = out["fits"]["model"]
    steps = {s["step"]: s for s in fit["steps"]}
    assert steps["metric"]["verdict"] == "partial"
    assert [(r["item"], r["parameter"]) for r in steps["metric"]["released"]] == [("a3", "loading")]
    assert steps["scalar"]["compared_with"] == "metric_partial"
    table = fit["table"]
    assert table.loc["metric_partial", "compared_with"] == "configural"
    # the scalar model keeps a3's loading free: one constraint fewer than the full scalar
    assert table.loc["scalar", "df"] == table.loc["metric_partial", "df"] + 8
    assert "a3" in out["flagged"] and fit["released"][0] == ["a3", "loading"]


def test_a_step_that_still_fails_stops_the_sequence(monkeypatch):
    # a failing step with nothing it may release (as when every intercept of a factor
    # misfits: one must stay equal) fails, and the next step is not tested
    inv = importlib.import_module("psychometrics.invariance")
    monkeypatch.setattr(inv, "_releasable", lambda trail, row: False)
    out, notes = report_entry(_data(loading_shift=0.6), MODEL, "g")
    fit = out["fits"]["model"]
    assert [s["verdict"] for s in fit["steps"]] == ["fails"]
    assert fit["stopped_at"] == "metric" and "scalar" not in fit["table"].index
    assert any(n["code"] == "invariance-step-failed" and "not tested" in n["message"] for n in notes)


def test_holm_matches_p_adjust():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005, NA), "holm") with NA counted as 1 here
    got = holm(np.array([0.01, 0.04, 0.03, 0.005, np.nan]))
    assert got.tolist() == pytest.approx([0.04, 0.09, 0.09, 0.025, 1.0])
