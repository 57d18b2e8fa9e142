"""psychometrics.scoring: reverse_key, score (vs psych::scoreItems), careless."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import psychometrics as pm

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- agreement with R
@pytest.mark.parametrize("name", ["bfi", "hs1939", "consortium_dev"])
def test_score_matches_psych_scoreItems(ref_dir, name):
    # R (make_reference.R, psych 2.2.9), on every row with missing values kept:
    #   scoreItems(keys, raw[, items], impute = "none", totals = FALSE,
    #              min = cfg$min, max = cfg$max)$scores   -> scores_<name>.csv
    raw = pd.read_csv(ref_dir / f"{name}.csv")
    keys = pm.load_keys(ref_dir / f"{name}.json")
    expected = pd.read_csv(ref_dir / f"scores_{name}.csv").drop(columns="row")
    got = pm.score(raw, keys, min_answered=0)  # any answered item counts, as impute="none"
    assert list(got.columns) == list(keys.scales) + [f"{s}_n" for s in keys.scales]
    assert got.index.equals(raw.index)
    np.testing.assert_allclose(got[list(expected.columns)].to_numpy(), expected.to_numpy(),
                               rtol=0, atol=1e-9)
    if name == "bfi":  # rows with missing answers exist, so the counts are not all k
        assert (got["agree_n"] < 5).sum() > 0


@pytest.mark.parametrize("name", ["bfi", "consortium_dev"])
def test_careless_indices_match_base_R(ref_dir, name):
    # tests/reference/make_careless.R, on the complete rows, items in key order:
    #   max(rle(r)$lengths), mean(rle(r)$lengths), apply(x, 1, sd),
    #   mahalanobis(x, colMeans(x), cov(x)), pchisq(d2, ncol(x), lower.tail = FALSE)
    ref = json.loads((HERE / "reference" / f"careless_{name}.json").read_text())
    raw = pd.read_csv(ref_dir / f"{name}.csv").iloc[np.array(ref["row"]) - 1]
    table = pm.careless(raw, ref["items"]).table  # R's computation: complete rows only
    for ours, theirs in [("longstring", "longstring"), ("longstring_avg", "longstring_avg"),
                         ("irv", "irv"), ("d2", "d2"), ("d2_p", "p")]:
        np.testing.assert_allclose(table[ours].to_numpy(), ref[theirs], rtol=1e-9, atol=1e-12)
    assert (table["d2_df"] == len(ref["items"])).all()


# ---------------------------------------------------------------- reverse_key
def test_reverse_key_by_hand():
    d = pd.DataFrame({"TRU1": [1, 2, None], "TRU2": [1, 5, None], "lang": ["fr", "en", "fr"]},
                     index=["a", "b", "c"])
    before = d.copy()
    out = pm.reverse_key(d, ["TRU1", "-TRU2"], low=1, high=5)
    assert out["TRU2"].tolist()[:2] == [5.0, 1.0] and np.isnan(out.loc["c", "TRU2"])
    pd.testing.assert_series_equal(out["TRU1"], d["TRU1"])
    pd.testing.assert_series_equal(out["lang"], d["lang"])
    pd.testing.assert_frame_equal(d, before)  # input untouched
    assert list(out.index) == ["a", "b", "c"]
    # a mapping of scales, and a 0-10 range: 10 + 0 - x
    out = pm.reverse_key(pd.DataFrame({"x": [0.0, 2.5, 10.0]}), {"S": ["-x"]}, low=0, high=10)
    assert out["x"].tolist() == [10.0, 7.5, 0.0]


def test_reverse_key_conflict_and_range():
    d = pd.DataFrame({"x": [1, 2]})
    with pytest.raises(pm.PsychometricsError, match="'x' both ways") as e:
        pm.reverse_key(d, {"A": ["x"], "B": ["-x"]}, 1, 5)
    assert e.value.code == "conflicting-key"
    with pytest.raises(pm.PsychometricsError) as e:
        pm.reverse_key(d, ["-x"], 1, 1)
    assert e.value.code == "invalid-value" and "low < high" in str(e.value)


# ---------------------------------------------------------------- score
def _four(answers):
    return pd.DataFrame([answers], columns=["a", "b", "c", "d"], dtype=float)


@pytest.mark.parametrize(
    ("answers", "share", "expected"),
    [
        ([1, 2, None, None], 0.5, 1.5),  # exactly half answered: scored
        ([1, None, None, None], 0.5, None),  # below half: NA
        ([1, 2, 3, None], 0.75, 2.0),  # exactly at 3/4
        ([1, 2, None, None], 0.75, None),
        ([1, 2, 3, 4], 1, 2.5),
        ([1, 2, 3, None], 1, None),
        ([4, None, None, None], 0, 4.0),  # any answer counts
        ([None, None, None, None], 0, None),  # none answered: NA, count 0
    ],
)
def test_min_answered_edges(answers, share, expected):
    out = pm.score(_four(answers), {"S": ["a", "b", "c", "d"]}, 1, 5, min_answered=share)
    assert out.loc[0, "S_n"] == sum(a is not None for a in answers)
    if expected is None:
        assert np.isnan(out.loc[0, "S"])
    else:
        assert out.loc[0, "S"] == expected


def test_min_answered_share_without_float_trap():
    # 0.7 * 10 = 7.000000000000001 in floating point; 7 of 10 items must still qualify
    d = pd.DataFrame([[3.0] * 7 + [None] * 3], columns=list("abcdefghij"))
    assert pm.score(d, {"S": list("abcdefghij")}, 1, 5, min_answered=0.7).loc[0, "S"] == 3.0


def test_score_by_hand_with_reverse_keys_and_index():
    d = pd.DataFrame({"TRU1": [5, 4, 2], "TRU2": [1, None, 4], "SOC1": [3, 3, None],
                      "id": ["x", "y", "z"]}, index=pd.Index([10, 20, 30], name="resp"))
    out = pm.score(d, {"TRU": ["TRU1", "-TRU2"], "SOC": ["SOC1"]}, low=1, high=5)
    assert list(out.columns) == ["TRU", "SOC", "TRU_n", "SOC_n"]
    assert out.index.equals(d.index)
    assert out["TRU"].tolist() == [5.0, 4.0, 2.0]  # (5 + 5)/2, 4/1, (2 + 2)/2
    assert out["TRU_n"].tolist() == [2, 1, 2] and out["TRU_n"].dtype == np.int64
    assert out["SOC"].tolist()[:2] == [3.0, 3.0] and np.isnan(out.loc[30, "SOC"])
    only = pm.score(d, {"TRU": ["TRU1", "-TRU2"]}, 1, 5, counts=False)
    assert list(only.columns) == ["TRU"]


def test_score_takes_range_from_keys():
    keys = pm.load_keys({"scales": {"S": ["-a"]}, "min": 1, "max": 7})
    assert pm.score(pd.DataFrame({"a": [1]}), keys).loc[0, "S"] == 7.0


# ---------------------------------------------------------------- bad input
def test_out_of_range_names_column_and_row():
    d = pd.DataFrame({"a": [1, 2, 3], "b": [1, 9, 8]}, index=["r1", "r2", "r3"])
    with pytest.raises(pm.PsychometricsError) as e:
        pm.score(d, {"S": ["a", "b"]}, 1, 5)
    assert e.value.code == "out-of-range"
    assert "'b'" in str(e.value) and "'r2'" in str(e.value) and "9" in str(e.value)
    assert "1 other value" in str(e.value)


def test_non_numeric_names_column():
    d = pd.DataFrame({"a": [1, "beaucoup"], "b": [1, 2]})
    with pytest.raises(pm.PsychometricsError, match=r"'a'.*'beaucoup'") as e:
        pm.score(d, {"S": ["a", "b"]}, 1, 5)
    assert e.value.code == "non-numeric"


def test_items_missing_from_data_are_all_named():
    d = pd.DataFrame({"a": [1]})
    with pytest.raises(pm.PsychometricsError, match="'b', 'c'") as e:
        pm.score(d, {"S": ["a", "-b"], "T": ["c"]}, 1, 5)
    assert e.value.code == "missing-column"


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"keys": ["a"]}, "bad-keys", "map each scale"),
        ({"keys": {"S": []}}, "empty-scale", "'S'"),
        ({"keys": {"S": ["a", "a"]}}, "duplicate-item", "'a'"),
        ({"min_answered": 1.5}, "invalid-value", "'min_answered'"),
        ({"low": None}, "invalid-value", "'low'"),
        ({"high": "5"}, "invalid-value", "'high'"),
        ({"keys": {"S": ["a"], "S_n": ["a"]}}, "duplicate-column", "'S_n'"),
    ],
)
def test_bad_parameters(kwargs, code, words):
    args = {"data": pd.DataFrame({"a": [1, 2]}), "keys": {"S": ["a"]}, "low": 1, "high": 5,
            **kwargs}
    with pytest.raises(pm.PsychometricsError) as e:
        pm.score(**args)
    assert e.value.code == code and words in str(e.value)


def test_not_a_dataframe():
    with pytest.raises(pm.PsychometricsError) as e:
        pm.score([[1, 2]], {"S": ["a"]}, 1, 5)
    assert e.value.code == "not-a-dataframe"


# ---------------------------------------------------------------- careless
ITEMS = [f"{s}{i}" for s in ("TRU", "SOC", "LRN", "LEG") for i in range(1, 9)]
RANDOM = [f"RND{i}" for i in range(5)]


def constructed(seed=32, n=400):
    """400 attentive respondents from a 4-factor model (8 items each, items 3 and 7 reverse
    keyed, 3% missing), then known careless ones: straightliners S3/S4/S5, an outlier OUT
    who endorses the first half of every scale and rejects the second, 5 uniform random
    responders RND*, and FEW who answered 10 of 32 items.

    D² uses the pairwise covariance of all rows; with this seed one attentive respondent,
    R027, sits far out (p = 2e-4) and the random responders further (largest p 2e-8).
    """
    rng = np.random.default_rng(seed)
    k, nf = len(ITEMS), 4
    load = np.zeros((k, nf))
    for f in range(nf):
        load[8 * f : 8 * f + 8, f] = 0.8
        load[[8 * f + 2, 8 * f + 6], f] = -0.8
    phi = np.full((nf, nf), 0.3) + 0.7 * np.eye(nf)
    eta = rng.standard_normal((n, nf)) @ np.linalg.cholesky(phi).T
    z = eta @ load.T + rng.normal(scale=0.5, size=(n, k))
    x = np.digitize(z, [-1.2, -0.4, 0.4, 1.2]) + 1.0
    x[rng.random(x.shape) < 0.03] = np.nan
    special = {"S3": np.full(k, 3.0), "S4": np.full(k, 4.0), "S5": np.full(k, 5.0),
               "OUT": np.where(np.arange(k) % 8 < 4, 5.0, 1.0)}
    for name in RANDOM:
        special[name] = rng.integers(1, 6, size=k).astype(float)
    special["FEW"] = np.r_[x[0, :10], np.full(k - 10, np.nan)]
    attentive = pd.DataFrame(x, columns=ITEMS, index=[f"R{i:03d}" for i in range(n)])
    return pd.concat([attentive, pd.DataFrame(special, index=ITEMS).T])


def test_careless_flags_exactly_the_known_cases():
    d = constructed()
    d.insert(0, "lang", "fr")  # a non-item column, left out through `items`
    res = pm.careless(d, ITEMS, low=1, high=5, outlier="chi2")
    flags = res.table["flags"]
    # R027 is an attentive respondent of the simulation who happens to sit far out (D² 68 on
    # 32 items; the next attentive one is at 50): both rules flag it
    assert set(res.flagged) == {"S3", "S4", "S5", "OUT", "FEW", "R027", *RANDOM}
    assert flags["S3"] == "straightlining;low-irv"
    assert flags["S4"] == "straightlining;low-irv"
    assert flags["S5"].startswith("straightlining;low-irv")  # all 5s also contradicts the reversed items
    assert flags["OUT"] == "multivariate-outlier"
    assert all(flags[r] == "multivariate-outlier" for r in RANDOM)
    assert flags["FEW"] == "too-few-answers"
    assert (flags.drop(res.flagged) == "").all()
    assert res.table.index.equals(d.index)
    assert (res.longstring_cut, res.irv_cut, res.p_cut) == (16, 0.4, 0.001)
    row = res.table.loc["S3"]
    assert (row["longstring"], row["longstring_avg"], row["irv"], row["n_answered"]) == (32, 32, 0, 32)
    assert res.table.loc["FEW", "d2_df"] == 10  # measured on its answered items


def _runs_by_loop(row):
    """Run lengths of identical answered values; a missing answer ends a run."""
    runs, prev = [], None
    for v in row:
        if v is None or np.isnan(v):
            prev = None
            continue
        if prev is not None and v == prev:
            runs[-1] += 1
        else:
            runs.append(1)
        prev = v
    return runs


def _check_against_loops(x: np.ndarray, table: pd.DataFrame):
    for i, row in enumerate(x):
        runs = _runs_by_loop(row)
        answered = [v for v in row if not np.isnan(v)]
        assert table["n_answered"].iloc[i] == len(answered)
        assert table["longstring"].iloc[i] == max(runs, default=0)
        if runs:
            assert table["longstring_avg"].iloc[i] == pytest.approx(sum(runs) / len(runs))
        if len(answered) >= 2:
            assert table["irv"].iloc[i] == pytest.approx(statistics.stdev(answered), abs=1e-12)
        else:
            assert np.isnan(table["irv"].iloc[i])


def test_longstring_and_irv_against_a_plain_loop():
    d = constructed()
    x = d.to_numpy()
    _check_against_loops(x, pm.careless(d).table)
    # hand cases: NA breaks a run
    t = pm.careless(pd.DataFrame([[2, 2, None, 2, 2, 2], [1, 1, 1, 1, 1, None]], dtype=float)).table
    assert t["longstring"].tolist() == [3, 5]
    assert t["longstring_avg"].tolist() == [2.5, 5.0]


def test_careless_small_sample_has_no_distance():
    # fewer complete rows than items: no covariance to judge by, so no outlier flag
    d = constructed().iloc[:20]
    t = pm.careless(d, ITEMS, low=1, high=5).table
    assert t["d2"].isna().all() and t["d2_p"].isna().all()
    assert not t["flags"].str.contains("multivariate-outlier").any()


def test_careless_bad_input():
    with pytest.raises(pm.PsychometricsError) as e:
        pm.careless(pd.DataFrame({"a": [1, 7], "b": [1, 2]}), low=1, high=5)
    assert e.value.code == "out-of-range" and "'a'" in str(e.value)
    with pytest.raises(pm.PsychometricsError) as e:
        pm.careless(pd.DataFrame({"a": [1, 2], "id": ["x", "y"]}))
    assert e.value.code == "non-numeric" and "'id'" in str(e.value)
    with pytest.raises(pm.PsychometricsError) as e:
        pm.careless(pd.DataFrame({"a": [1, 2]}))
    assert e.value.code == "too-few-items"
    with pytest.raises(pm.PsychometricsError) as e:
        pm.careless(pd.DataFrame({"a": [1, 2], "b": [1, 2]}), ["a", "zz"])
    assert e.value.code == "missing-column" and "'zz'" in str(e.value)


# ---------------------------------------------------------------- properties
likert = arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(2, 8)),
                elements=st.one_of(st.integers(1, 7).map(float), st.just(np.nan)))


@settings(max_examples=60, deadline=None)
@given(likert, st.floats(0, 1))
def test_score_stays_within_range(x, share):
    d = pd.DataFrame(x, columns=[f"i{j}" for j in range(x.shape[1])])
    keys = {"S": [c if j % 2 else "-" + c for j, c in enumerate(d.columns)]}
    out = pm.score(d, keys, low=1, high=7, min_answered=share)
    s = out["S"].dropna()
    assert ((s >= 1) & (s <= 7)).all()
    assert (out["S_n"] == d.notna().sum(axis=1)).all()
    assert out["S"].isna().equals((out["S_n"] == 0) | (out["S_n"] / x.shape[1] < share))


@settings(max_examples=60, deadline=None)
@given(likert)
def test_reverse_key_twice_is_identity(x):
    d = pd.DataFrame(x, columns=[f"i{j}" for j in range(x.shape[1])])
    keys = ["-i0", "i1"] + [f"-i{j}" for j in range(2, x.shape[1])]
    back = pm.reverse_key(pm.reverse_key(d, keys, 1, 7), keys, 1, 7)
    pd.testing.assert_frame_equal(back, d)


@settings(max_examples=60, deadline=None)
@given(likert)
def test_longstring_bounds_and_loop_agreement(x):
    t = pm.careless(pd.DataFrame(x)).table
    n_ans = (~np.isnan(x)).sum(axis=1)
    ls = t["longstring"].to_numpy()
    assert ((ls >= 1) & (ls <= x.shape[1]))[n_ans > 0].all()
    assert (ls[n_ans == 0] == 0).all()
    _check_against_loops(x, t)


def test_careless_default_fence_spares_attentive_respondents():
    """The default outlier rule (Tukey's far-out fence on D²) flags no attentive respondent
    of the constructed set, the outlier, and most uniform random responders (4 of 5 here;
    the chi-square rule would flag about 1% of attentive Likert respondents)."""
    d = constructed()
    res = pm.careless(d, ITEMS, low=1, high=5)
    outliers = set(res.table.index[res.table["flags"].str.contains("multivariate-outlier")])
    # attentive R000-R399: only R027, far out (see test_careless_flags_exactly_the_known_cases)
    assert {r for r in outliers if r[0] == "R" and r[1:].isdigit()} == {"R027"}
    assert "OUT" in outliers
    assert set(RANDOM) <= outliers
    with pytest.raises(pm.PsychometricsError, match="'outlier' parameter of careless"):
        pm.careless(d, ITEMS, low=1, high=5, outlier="robust")
