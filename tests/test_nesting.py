"""psychometrics.nesting: the nesting/clusters/cfa_twolevel entries of results.json.

The numbers themselves are checked against R in test_agreement.py and test_twolevel.py;
here: the shape of the entries, the suppression of small cells, the verdicts and the
input problems (codes and rows), and the keys fields ``cluster``/``role``/``roles``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from psychometrics.nesting import MIN_CELL, nesting
from tests.conftest import REF

NESTED = REF / "nested"


@pytest.fixture(scope="module")
def dev():
    if not NESTED.is_dir():
        pytest.skip(f"shared nested reference not found at {NESTED}")
    data = pd.read_csv(NESTED / "nested_dev.csv")
    keys = pm.load_keys(NESTED / "keys_nested_dev.json")
    ref = json.loads((NESTED / "ref_nested_dev.json").read_text())
    return data, keys, ref


@pytest.fixture(scope="module")
def result(dev):
    data, keys, _ = dev
    return nesting(data, keys, ["org", "consortium"], low=1, high=5, id="respondent",
                   role="role", roles=["member", "colleague", "nonmember"])


def test_contract_keys(result, dev):
    _, _, ref = dev
    assert set(result) == {"nesting", "clusters", "cfa_twolevel"}
    json.dumps(result, allow_nan=False)  # JSON-ready
    for level in ("org", "consortium"):
        for scale in ("TRU", "SOC", "LRN"):
            e = result["nesting"][level][scale]
            for k in ("icc1", "icc2", "icc1_ci", "rwg_j", "groups", "design_effect", "verdict"):
                assert k in e
            # R: ICC1(aov(score ~ as.factor(level)))
            assert e["icc1"] == pytest.approx(ref["aggregation"][scale][level]["icc1"], abs=1e-6)
            assert e["design_effect"] == pytest.approx(1 + (e["mean_size"] - 1) * e["icc1"])
            # groups whose rwg(j) random answers reach (rwg.j.sim 95th percentile, by size)
            assert 0 <= e["n_within_null95"] <= e["rwg_j"]["n_groups"]
    g = result["nesting"]["org"]["TRU"]["groups"]["O002"]
    assert set(g) >= {"rwg_j", "rwg_j_lindell", "awg", "ad_mean", "ad_median"}
    # R: rwg.j(xs, org, ranvar = 2) for O002
    assert g["rwg_j"] == pytest.approx(ref["aggregation"]["TRU"]["by_org"]["rwg_j"][1], abs=1e-6)


def test_small_cells_suppressed(result):
    groups = result["nesting"]["org"]["TRU"]["groups"]
    small = [g for g in groups.values() if g["small"]]
    assert small and all(g["n"] is None for g in small)
    assert all(g["n"] >= MIN_CELL for g in groups.values() if not g["small"])


def test_verdict_and_lists(result):
    e = result["nesting"]["org"]["TRU"]
    # ICC(2) = .355 < .70 (LeBreton & Senter 2008): the organization means are unreliable
    assert e["verdict"]["aggregate"] is False
    assert "unreliable-group-means" in e["verdict"]["reasons"]
    below = e["below_threshold"]
    assert below and all(e["groups"][g]["rwg_j"] < 0.70 or e["groups"][g]["ad_mean"] > 5 / 6
                         for g in below)
    assert e["rwg_j"]["n_below"] <= len(below)


def test_twolevel_cfa_fitted_on_org(result, dev):
    _, _, ref = dev
    t = result["cfa_twolevel"]
    assert t["fitted"] and t["cluster"] == "org" and t["clusters"] == 123
    # R: fitMeasures(cfa(model, data = d, cluster = "org"), c("chisq", "cfi", "srmr_within"))
    for k in ("chisq", "cfi", "srmr_within", "srmr_between"):
        assert t["fit"][k] == pytest.approx(ref["twolevel_cfa"]["fit"][k], abs=1e-3)


def test_twolevel_cfa_not_fitted_with_few_clusters(dev):
    data, keys, _ = dev
    r = nesting(data, keys, ["consortium"], low=1, high=5)
    t = r["cfa_twolevel"]
    assert t["fitted"] is False and t["code"] == "too-few-clusters" and "24" in t["reason"]


def test_bad_input_reported_and_analysis_goes_on(dev):
    data, keys, _ = dev
    d = data.copy()
    d.loc[3, "org"] = np.nan                                  # missing code
    d.loc[10, "role"] = "mayor"                               # undeclared role
    d.loc[20, "respondent"] = d.loc[30, "respondent"]         # one person in two orgs?
    o2 = d.index[d["org"] == "O002"]
    d.loc[o2, "consortium"] = ["C01", "C02"] * (len(o2) // 2) + ["C01"] * (len(o2) % 2)
    r = nesting(d, keys, ["org", "consortium"], low=1, high=5, id="respondent", role="role",
                roles=["member", "colleague", "nonmember"])
    codes = {i["code"]: i for i in r["clusters"]["issues"]}
    assert codes["missing-cluster-code"]["rows"] == ["3"]
    assert codes["undeclared-role"]["rows"] == ["10"] and codes["undeclared-role"]["value"] == "mayor"
    assert codes["cluster-in-two-parents"]["value"] == "O002"
    if d.loc[20, "org"] != d.loc[30, "org"]:
        assert set(codes["person-in-two-clusters"]["rows"]) == {"20", "30"}
    assert r["nesting"]["org"]["TRU"]["n"] < 539  # the rows left out, the rest analysed
    assert r["nesting"]["consortium"]["TRU"]["icc1"] is not None


def test_roles_counted_with_small_cells_suppressed(result):
    roles = result["clusters"]["roles"]
    assert roles["column"] == "role"
    assert roles["counts"] == {"colleague": 186, "nonmember": 183, "member": 170}


def test_keys_cluster_role_roles():
    k = pm.load_keys({"scales": {"A": ["x"]}, "cluster": ["org", "consortium"], "role": "role",
                      "roles": ["member", "colleague"]}, columns=["x", "org", "consortium", "role"])
    assert k.cluster == ("org", "consortium") and k.role == "role"
    assert k.roles == ("member", "colleague")
    assert pm.load_keys({"scales": {"A": ["x"]}, "cluster": "org"}).cluster == ("org",)
    with pytest.raises(pm.PsychometricsError) as e:
        pm.load_keys({"scales": {"A": ["x"]}, "cluster": ["org", "org"]})
    assert e.value.code == "bad-keys"
    with pytest.raises(pm.PsychometricsError) as e:
        pm.load_keys({"scales": {"A": ["x"]}, "cluster": ["org"], "role": "r"}, columns=["x"])
    assert e.value.code == "unknown-column" and "'role'" in str(e.value)


def test_validate_with_clusters(dev):
    data, keys, _ = dev
    v = pm.validate(data, keys, n_boot=20, n_iter=5)  # the keys' cluster: org, consortium
    r = v.results
    assert set(r["nesting"]) == {"org", "consortium"}
    assert r["clusters"]["levels"] == ["org", "consortium"]
    assert r["cfa_twolevel"]["cluster"] == "org"
    json.dumps(r, allow_nan=False)
    r1 = pm.validate(data, keys, clusters=["consortium"], n_boot=20, n_iter=5).results
    assert list(r1["nesting"]) == ["consortium"] and r1["cfa_twolevel"]["fitted"] is False


def test_validate_cli_unknown_cluster_column(tmp_path, dev):
    from typer.testing import CliRunner

    from instrument.cli import app

    res = CliRunner().invoke(app, ["validate", str(NESTED / "nested_dev.csv"), "--keys",
                                   str(NESTED / "keys_nested_dev.json"), "--out", str(tmp_path),
                                   "--cluster", "department"])
    assert res.exit_code != 0
    assert "department" in res.output and "--cluster" in res.output


def test_thresholds_come_from_the_thresholds_module_unchanged():
    """The nesting thresholds live in psychometrics/thresholds.py (one module of thresholds
    with their sources); results.json's clusters.thresholds is what it was before the move."""
    from psychometrics import nesting, thresholds

    assert nesting.THRESHOLDS == {
        "icc2": {"value": 0.70, "rule": ">=", "source": "LeBreton & Senter 2008; Bliese 2000"},
        "rwg_j": {"value": 0.70, "rule": ">=", "source": "LeBreton & Senter 2008; James, Demaree & Wolf 1984"},
        "ad": {"value": "A/6", "rule": "<=", "source": "Burke & Dunlap 2002"},
        "f_test_p": {"value": 0.05, "rule": "<", "source": "Bliese 2000"},
        "twolevel_clusters": {"value": 50, "rule": ">=", "source": "Maas & Hox 2005"},
        "cell": {"value": 5, "rule": ">=", "source": "Statistics Canada small-cell suppression"},
    }
    assert set(thresholds.NESTING_THRESHOLDS) == set(nesting.THRESHOLDS)
    assert not set(thresholds.NESTING_THRESHOLDS) - {"cell"} & set(thresholds.THRESHOLDS)
    assert (nesting.MIN_CELL, nesting.MIN_TWOLEVEL_CLUSTERS) == (5, 50)
    assert [5 / thresholds.AD_MAX.value, 7 / thresholds.AD_MAX.value] == [5 / 6, 7 / 6]
