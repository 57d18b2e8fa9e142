"""Item analysis against psych (describe, alpha item statistics) and the shared input checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATASETS, load_reference

import psychometrics as pm
from psychometrics._checks import as_items, complete_items, listwise, pairwise_counts
from psychometrics.errors import PsychometricsError

EXTRA = Path(__file__).resolve().parent / "reference" / "reliability_extra.json"


@pytest.mark.parametrize("name", DATASETS)
def test_item_analysis_matches_psych(name):
    _raw, cfg, ref, x = load_reference(name)
    scales = {s: [k.lstrip("-") for k in keys] for s, keys in cfg["scales"].items()}
    ia = pm.item_analysis(x, scales=scales, low=cfg["min"], high=cfg["max"])
    t = ia.table
    d = json.loads(EXTRA.read_text())[name]["describe"]
    assert list(t.index) == d["items"]
    # psych::describe(x)$skew, $kurtosis (type 3), $mean, $sd
    np.testing.assert_allclose(t["skew"], d["skew"], atol=1e-6)
    np.testing.assert_allclose(t["kurtosis"], d["kurtosis"], atol=1e-6)
    np.testing.assert_allclose(t["mean"], d["mean"], atol=1e-9)
    np.testing.assert_allclose(t["sd"], d["sd"], atol=1e-9)
    for s, cols in scales.items():
        rr = ref["reliability"][s]
        # psych::alpha(x[, keys])$item.stats$r.drop ; $alpha.drop$raw_alpha ; $total$raw_alpha
        np.testing.assert_allclose(t.loc[cols, "item_rest_r"], pd.Series(rr["item_rest_r"])[cols], atol=1e-6)
        if len(cols) > 2:
            np.testing.assert_allclose(
                t.loc[cols, "alpha_if_deleted"], pd.Series(rr["alpha_if_deleted"])[cols], atol=1e-6)
        assert ia.scale_alpha[s] == pytest.approx(rr["alpha"], abs=1e-6)
        assert (t.loc[cols, "scale"] == s).all()
        assert ia.scale_n[s] == ref["n_complete"]
    assert ia.n == ref["n_complete"]
    assert (t["n"] == ref["n_complete"]).all() and (t["missing_pct"] == 0).all()


def test_frequencies_floor_ceiling_and_missing():
    df = pd.DataFrame({
        "a": [1, 1, 2, 5, 5, 5, np.nan, 3],
        "b": [2, 3, 3, 4, 4, 2, 3, np.nan],
        "c": [1, 2, 3, 4, 5, 1, 2, 3],
    })
    ia = pm.item_analysis(df, low=1, high=5)
    t = ia.table
    assert t.loc["a", "n"] == 7 and t.loc["a", "missing_pct"] == pytest.approx(12.5)
    assert t.loc["a", "floor_pct"] == pytest.approx(100 * 2 / 7)
    assert t.loc["a", "ceiling_pct"] == pytest.approx(100 * 3 / 7)
    assert t.loc["b", "floor_pct"] == 0 and t.loc["b", "ceiling_pct"] == 0
    assert list(ia.frequencies.columns) == [1, 2, 3, 4, 5]
    assert ia.frequencies.loc["a"].tolist() == [2, 1, 1, 0, 3]
    assert ia.frequencies.loc["b"].sum() == 7
    np.testing.assert_allclose(ia.proportions.sum(axis=1), 1.0)
    # without low/high: the observed range of the whole matrix (1..5 here)
    assert (ia.low, ia.high) == (1.0, 5.0)
    assert pm.item_analysis(df[["b"]]).low == 2.0
    # item-rest r on the rows complete on the scale (all three columns: 6 rows)
    assert ia.scale_n["scale"] == 6
    complete = df.dropna()
    rest = complete[["b", "c"]].sum(axis=1)
    assert t.loc["a", "item_rest_r"] == pytest.approx(complete["a"].corr(rest), abs=1e-12)
    # a constant item is reported, not an error: its sd is 0
    ia2 = pm.item_analysis(df.assign(d=3.0), scales={"s": ["a", "b", "c"]})
    assert ia2.table.loc["d", "sd"] == 0 and np.isnan(ia2.table.loc["d", "item_rest_r"])
    assert ia2.table.loc["d", "scale"] == ""
    assert "Item analysis" in ia.summary()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"scales": {"s": ["a", "zz"]}}, "missing-column"),
        ({"scales": {"s": ["a"]}}, "too-few-items"),
        ({"scales": ["a", "b"]}, "invalid-value"),
        ({"low": 5, "high": 1}, "invalid-value"),
        ({"low": "1"}, "invalid-value"),
    ],
)
def test_item_analysis_bad_parameters(kwargs, code):
    df = pd.DataFrame({"a": [1, 2, 3], "b": [2, 3, 1]})
    with pytest.raises(PsychometricsError) as err:
        pm.item_analysis(df, **kwargs)
    assert err.value.code == code


# ----------------------------------------------------------------------------- _checks


def test_as_items_converts_and_keeps_labels():
    df = pd.DataFrame(
        {"a": [1, 2, None], "b": ["1", " ", "3"], "c": pd.array([1, None, 3], dtype="Int64"),
         "d": [True, False, True]},
        index=["r1", "r2", "r3"],
    )
    x = as_items(df)
    assert (x.dtypes == "float64").all()
    assert list(x.index) == ["r1", "r2", "r3"] and list(x.columns) == ["a", "b", "c", "d"]
    assert np.isnan(x.loc["r2", "b"]) and np.isnan(x.loc["r2", "c"])  # blank string, pd.NA
    assert x.loc["r3", "b"] == 3.0 and x.loc["r1", "d"] == 1.0


@pytest.mark.parametrize(
    ("data", "kwargs", "code", "words"),
    [
        ([1, 2], {}, "not-a-dataframe", "got list"),
        (pd.DataFrame(index=[0, 1]), {}, "no-columns", "at least one column"),
        (pd.DataFrame([[1, 2], [2, 1]], columns=["a", "a"]), {}, "duplicate-column", "'a'"),
        (pd.DataFrame({"a": [1, 2], "b": ["1", "oui"]}), {}, "non-numeric", "column 'b' holds 'oui'"),
        (pd.DataFrame({"a": [1, 2], "b": [1, np.inf]}), {}, "non-finite", "'b'"),
        (pd.DataFrame({"a": [1, 2], "b": [np.nan, np.nan]}), {}, "empty-column", "'b' is empty"),
        (pd.DataFrame({"a": [1, 2], "b": [4, 4]}), {}, "constant-item", "'b' has the single value 4"),
        (pd.DataFrame({"a": [1, 2]}), {"min_items": 2}, "too-few-items", "at least 2 item columns"),
        (pd.DataFrame({"a": [1, 2]}), {"min_rows": 3}, "too-few-rows", "at least 3 rows"),
        (pd.DataFrame({"a": [1, np.nan, 2]}), {"allow_missing": False}, "missing-values", "'a' has 1"),
    ],
)
def test_as_items_rules(data, kwargs, code, words):
    with pytest.raises(PsychometricsError) as err:
        as_items(data, name="items", func="alpha", **kwargs)
    assert err.value.code == code
    assert words in str(err.value)
    if code != "not-a-dataframe":
        assert "'items' parameter of alpha" in str(err.value)


def test_listwise_complete_items_and_pairwise_counts():
    df = pd.DataFrame({"a": [1, 2, np.nan, 4, 5], "b": [1, np.nan, 3, 3, 1], "c": [2, 1, 2, 1, 2]})
    x, dropped = listwise(df)
    assert dropped == 2 and list(x.index) == [0, 3, 4]
    x, dropped = complete_items(df, min_rows=3)
    assert dropped == 2 and len(x) == 3
    with pytest.raises(PsychometricsError, match=r"3 complete rows.*got 2 of 4") as err:
        complete_items(df.iloc[:4].assign(c=[1, 2, 3, 4]), min_rows=3)
    assert err.value.code == "too-few-rows"
    # constant only among the complete rows
    with pytest.raises(PsychometricsError, match="complete rows") as err:
        complete_items(df.assign(c=[2, 9, 7, 2, 2]), min_rows=2)
    assert err.value.code == "constant-item"
    n = pairwise_counts(df)
    assert n.loc["a", "b"] == 3 and n.loc["a", "a"] == 4 and n.loc["c", "c"] == 5
