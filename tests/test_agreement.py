"""psychometrics.agreement against R's multilevel, psych and lme4.

Golden values: ../shared/reference/nested/ref_nested_dev.json ``aggregation``
(make_reference_nested.R) and tests/reference/nested/ref_agreement.json
(make_reference_agreement.R: psych::statsBy intervals, lme4::lmer ICC, skewed nulls,
rwg.j.sim, multilevel::bh1996 and lq2002). The R call is beside each check.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.agreement import nesting_issues, null_variance, rwg_j_sim
from psychometrics.errors import PsychometricsError
from tests.conftest import REF

HERE = Path(__file__).parent / "reference" / "nested"
OURS = json.loads((HERE / "ref_agreement.json").read_text())
NESTED = REF / "nested"


def _na(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


@pytest.fixture(scope="module")
def nested():
    if not NESTED.is_dir():
        pytest.skip(f"shared nested reference not found at {NESTED}")
    data = pd.read_csv(NESTED / "nested_dev.csv")
    keys = pm.load_keys(NESTED / "keys_nested_dev.json")
    ref = json.loads((NESTED / "ref_nested_dev.json").read_text())
    data = data[data[list(keys.items)].notna().all(axis=1)]  # make_reference_nested.R: complete.cases
    return data, keys, ref, pm.agreement(data, keys, ["org", "consortium"], id="respondent")


def test_golden_icc_both_levels(nested):
    _, keys, ref, a = nested
    for scale in keys.scales:
        for level in ("org", "consortium"):
            # R: ICC1(aov(score ~ as.factor(x[[level]]))), ICC2(...)
            r = ref["aggregation"][scale][level]
            assert a.icc[level].loc[scale, "icc1"] == pytest.approx(r["icc1"], abs=1e-6)
            assert a.icc[level].loc[scale, "icc2"] == pytest.approx(r["icc2"], abs=1e-6)


COLUMNS = {"rwg_j": "rwg_j", "rwg_j_lindell": "rwg_j_lindell", "rwg": "rwg_score", "awg": "awg",
           "ad_mean": "ad_mean", "ad_median": "ad_median", "n": "gsize"}


@pytest.mark.parametrize("scale", ["TRU", "SOC", "LRN"])
def test_golden_agreement_by_org(nested, scale):
    _, _, ref, a = nested
    # R: rwg.j(xs, org, ranvar = 2), rwg.j.lindell(...), rwg(score, org, ranvar = 2),
    #    awg(xs, org, range = c(1, 5)), ad.m(xs, org, type = "mean" / "median")
    r = ref["aggregation"][scale]["by_org"]
    bg = a.by_group.query("level == 'org' and scale == @scale").set_index("group")
    assert list(bg.index) == r["org"]
    for mine, theirs in COLUMNS.items():
        np.testing.assert_allclose(bg[mine].to_numpy(float), _na(r[theirs]), atol=1e-6,
                                   equal_nan=True, err_msg=mine)


def test_intervals_and_mixed_model_nested(nested):
    _, keys, _, a = nested
    for scale in keys.scales:
        for level in ("org", "consortium"):
            r = OURS["nested"][scale][level]
            row = a.icc[level].loc[scale]
            # R: psych::statsBy(data.frame(score, copy = score, grp), "grp", alpha = .05)$ci1, $ci2
            assert [row.icc1_ci_low, row.icc1_ci_high] == pytest.approx(r["icc1_ci"], abs=1e-6)
            assert [row.icc2_ci_low, row.icc2_ci_high] == pytest.approx(r["icc2_ci"], abs=1e-6)
            # R: lmer(score ~ 1 + (1 | grp), REML = TRUE): tau / (tau + sigma^2)
            assert row.icc1_mixed == pytest.approx(r["icc1_mixed"], abs=1e-4)


def test_skewed_null_nested(nested):
    data, keys, _, _ = nested
    a = pm.agreement(data, keys, "org", null="slight", n_sim=0, mixed=False)
    for scale in keys.scales:
        # R: rwg.j(xs, org, ranvar = 1.34)
        got = a.by_group.query("scale == @scale")["rwg_j"].to_numpy(float)
        np.testing.assert_allclose(got, _na(OURS["nested"][scale]["rwg_j_slight"]), atol=1e-6)


def test_bh1996_icc_intervals_and_mixed_model():
    # multilevel::bh1996, each score a one-item scale (WBEING 0-4, COHES/LEAD 1-5)
    d = pd.read_csv(HERE / "bh1996.csv")
    keys = {"scales": {v: [v] for v in ("WBEING", "COHES", "LEAD")}}
    a = pm.agreement(d, keys, "GRP", low=0, high=5, n_sim=0)
    for v, r in OURS["bh1996"].items():
        row = a.icc.loc[v]
        # R: ICC1(aov(WBEING ~ as.factor(GRP))) = .0434 (Bliese 2000), ICC2 = .7717
        assert row.icc1 == pytest.approx(r["icc1"], abs=1e-6)
        assert row.icc2 == pytest.approx(r["icc2"], abs=1e-6)
        assert [row.icc1_ci_low, row.icc1_ci_high] == pytest.approx(r["icc1_ci"], abs=1e-6)
        assert row.icc1_mixed == pytest.approx(r["icc1_mixed"], abs=1e-4)


def test_bh1996_rwg_of_a_score():
    d = pd.read_csv(HERE / "bh1996.csv")
    a = pm.agreement(d, {"scales": {"WBEING": ["WBEING"]}}, "GRP", low=0, high=5, null=2.0,
                     n_sim=0, mixed=False)
    r = OURS["bh1996_rwg_wbeing"]
    # R: rwg(bh1996$WBEING, bh1996$GRP, ranvar = 2); a one-item rwg(j) is rwg
    assert list(a.by_group["group"]) == [int(g) for g in r["grp"]]
    np.testing.assert_allclose(a.by_group["rwg"], r["rwg"], atol=1e-6)
    np.testing.assert_allclose(a.by_group["rwg_j"], r["rwg"], atol=1e-6)


def test_lq2002_items():
    d = pd.read_csv(HERE / "lq2002.csv")
    items = [f"LEAD{i:02d}" for i in range(1, 12)]
    r = OURS["lq2002"]
    runs = {"uniform": "rwg_j", "slight": "rwg_j_slight", "moderate": "rwg_j_moderate"}
    for null, field in runs.items():
        a = pm.agreement(d, {"scales": {"LEAD": items}}, "COMPID", low=1, high=5, null=null,
                         n_sim=0, mixed=False)
        # R: rwg.j(lq2002[, 3:13], lq2002$COMPID, ranvar = 2 / 1.34 / 0.90)
        np.testing.assert_allclose(a.by_group["rwg_j"], r[field], atol=1e-6)
    a = pm.agreement(d, {"scales": {"LEAD": items}}, "COMPID", low=1, high=5, n_sim=0, mixed=False)
    bg = a.by_group
    assert list(bg["n"]) == r["gsize"]
    # R: rwg.j.lindell(..., ranvar = 2), awg(..., range = c(1, 5)), ad.m(..., type = "mean" / "median")
    for col in ("rwg_j_lindell", "awg", "ad_mean", "ad_median"):
        np.testing.assert_allclose(bg[col], _na(r[col]), atol=1e-6, equal_nan=True, err_msg=col)
    # R: ICC1(aov(rowMeans(items) ~ as.factor(COMPID))), statsBy ci1, lmer
    row = a.icc.loc["LEAD"]
    assert row.icc1 == pytest.approx(r["icc"]["icc1"], abs=1e-6)
    assert [row.icc1_ci_low, row.icc1_ci_high] == pytest.approx(r["icc"]["icc1_ci"], abs=1e-6)


def test_null_variances():
    # LeBreton & Senter 2008, table 3: 5 options uniform 2.00, slight 1.34, moderate 0.90
    assert null_variance(1, 5) == pytest.approx(2.0)
    assert null_variance(1, 5, "slight") == pytest.approx(1.34)
    assert null_variance(1, 5, "moderate") == pytest.approx(0.90)
    assert null_variance(1, 7) == pytest.approx(4.0)
    assert null_variance(1, 7, 2.5) == 2.5
    with pytest.raises(PsychometricsError) as e:
        null_variance(1, 7, "slight")
    assert e.value.code == "invalid-option"


@pytest.mark.parametrize("name", ["g3", "g5", "g10"])
def test_rwg_j_sim_matches_r_in_law(name):
    r = OURS["rwg_j_sim"][name]
    # R: set.seed(2008); rwg.j.sim(gsize, nitems = 4, nresp = 5, nrep = 20000)
    s = rwg_j_sim(r["gsize"], 4, 5, nrep=20000, seed=7)
    assert s.values.mean() == pytest.approx(r["mean"], abs=0.01)  # Monte Carlo error ~0.002
    assert s.quantile_95 == pytest.approx(r["q95"], abs=0.03)
    assert s.rwg_95 == pytest.approx(r["rwg_95"], abs=0.03)


def _tiny():
    return pd.DataFrame({
        "id": ["a", "b", "c", "d", "e", "f", "g", "a"],
        "org": ["O1", "O1", "O1", "O2", "O2", None, "O3", "O2"],
        "cons": ["C1", "C1", "C1", "C1", "C2", "C1", "C2", "C1"],
        "role": ["member", "member", "colleague", "boss", "member", "member", "member", "member"],
        "X1": [4, 5, 4, 2, 3, 1, 5, 3], "X2": [4, 4, 5, 2, 2, 2, 4, 3],
    })


def test_single_member_group_is_na_with_a_reason():
    d = _tiny().drop(index=[7])  # O3 has one person
    a = pm.agreement(d, {"scales": {"X": ["X1", "X2"]}}, "org", low=1, high=5, n_sim=10)
    o3 = a.by_group.set_index("group").loc["O3"]
    assert o3["n"] == 1 and o3["reason"] == "single-member-group"
    for col in ("rwg_j", "rwg_j_lindell", "rwg", "awg", "ad_mean", "ad_median", "rwg_j_null95"):
        assert pd.isna(o3[col]), col
    assert pd.isna(o3["ad_ok"])
    assert a.by_group.set_index("group").loc["O1", "rwg_j"] > 0


def test_bad_nesting_reported_and_the_rest_analysed():
    d = _tiny()
    issues = nesting_issues(d, ["org", "cons"], id="id", role="role",
                            roles=["member", "colleague", "nonmember"])
    codes = dict(zip(issues["code"], issues["rows"], strict=False))
    assert codes["missing-cluster-code"] == [5]
    assert codes["person-in-two-clusters"] == [0, 7]  # 'a' in O1 and O2
    assert codes["cluster-in-two-parents"] == [3, 4, 7]  # O2 under C1 and C2
    assert codes["undeclared-role"] == [3]
    a = pm.agreement(d, {"scales": {"X": ["X1", "X2"]}}, ["org", "cons"], low=1, high=5,
                     id="id", n_sim=0)
    org = a.by_group.query("level == 'org'").set_index("group")
    assert org.loc["O1", "n"] == 2 and org.loc["O2", "n"] == 2  # person 'a' left out
    assert set(a.issues["code"]) >= {"missing-cluster-code", "person-in-two-clusters"}
    assert set(a.icc) == {"org", "cons"}


def test_bad_arguments():
    d = _tiny()
    with pytest.raises(PsychometricsError) as e:
        pm.agreement(d, {"scales": {"X": ["X1"]}}, "nope", low=1, high=5)
    assert e.value.code == "missing-column"
    with pytest.raises(PsychometricsError) as e:
        pm.agreement(d, {"scales": {"X": ["X1"]}}, "org")
    assert e.value.code == "bad-range"


def test_aggregate_suppresses_small_groups():
    d = pd.read_csv(HERE / "bh1996.csv").head(200)
    d.loc[0, "GRP"] = 999  # a group of one
    out = pm.aggregate(d, by="GRP", scales=["WBEING", "LEAD"], low=0, high=5, min_size=5)
    one = out.set_index("GRP").loc[999]
    assert bool(one["suppressed"]) and pd.isna(one["n"]) and pd.isna(one["WBEING_mean"])
    big = out[~out["suppressed"]].set_index("GRP")
    g1 = d[d["GRP"] == big.index[0]]
    # R: aggregate(WBEING ~ GRP, d, mean); rwg(WBEING, GRP, ranvar = 2)
    assert big.iloc[0]["WBEING_mean"] == pytest.approx(g1["WBEING"].mean())
    assert big.iloc[0]["WBEING_sd"] == pytest.approx(g1["WBEING"].std())
    # (A^2 - 1) / 12 with A = 6 options on 0-5
    assert big.iloc[0]["WBEING_rwg"] == pytest.approx(1 - min(g1["WBEING"].var(), 35 / 12) / (35 / 12))
    assert big.iloc[0]["WBEING_ad"] == pytest.approx((g1["WBEING"] - g1["WBEING"].mean()).abs().mean())
    assert list(out.columns[:3]) == ["GRP", "n", "suppressed"]


def test_aggregate_many_scales_builds_one_frame():
    # 30 scales x 5 columns: columns added one by one made pandas warn (PerformanceWarning,
    # an error under this suite's filterwarnings) when `aggregate` ran on the demo's scores
    rng = np.random.default_rng(4)
    d = pd.DataFrame(rng.integers(1, 6, size=(120, 30)).astype(float), columns=[f"S{k}" for k in range(30)])
    d["org"] = np.repeat(["A", "B", "C", "D"], 30)
    out = pm.aggregate(d, by="org", scales=list(d.columns[:30]), low=1, high=5, min_size=5)
    assert out.shape == (4, 3 + 30 * 5) and out["n"].tolist() == [30] * 4


def test_result_is_frozen_and_summarises(nested):
    a = nested[3]
    with pytest.raises(AttributeError):
        a.levels = ()
    assert "ICC1" in a.summary()
