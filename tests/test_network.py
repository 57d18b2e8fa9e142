"""Network measures, weights, lnam and Moran's I against sna 2.7 (R calls beside the numbers:
/work/shared/reference/nested/make_reference_nested.R and
tests/reference/network/make_network_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

import psychometrics as pm
from psychometrics.autocorrelation import eigenvalues

SHARED = Path("/work/shared/reference/nested")
EXTRA = json.loads((Path(__file__).parent / "reference/network/network_extra.json").read_text())
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="shared reference data absent")


def flat(v):
    return np.asarray(v, dtype=float).ravel()


@pytest.fixture(scope="module")
def dev():
    orgs = pd.read_csv(SHARED / "orgs_dev.csv")
    ties = pd.read_csv(SHARED / "ties_dev.csv")
    ref = json.loads((SHARED / "ref_nested_dev.json").read_text())
    x = pd.DataFrame({"const": 1.0, "member_org": orgs.member_org, "x1": orgs.x1})
    return orgs, ties, ref, x


@needs_shared
def test_measures_match_sna(dev):
    orgs, ties, ref, _ = dev
    net = pm.network(ties, orgs)
    r = ref["network"]
    assert (net.n, net.edges) == (r["n"], r["edges"])
    # gden(A, mode = "graph"); centralization(A, degree / betweenness, mode = "graph")
    assert net.density == pytest.approx(r["density"], abs=1e-10)
    assert net.degree_centralization == pytest.approx(r["degree_centralization"], abs=1e-10)
    assert net.betweenness_centralization == pytest.approx(
        r["betweenness_centralization"], abs=1e-10
    )
    u = EXTRA["undirected"]
    # centralization(A, closeness, mode = "graph"); closeness/betweenness/degree(A, gmode = "graph")
    assert net.closeness_centralization == pytest.approx(u["closeness_centralization"], abs=1e-10)
    assert np.allclose(net.nodes["closeness"], u["closeness"], atol=1e-10)
    assert np.allclose(net.nodes["betweenness"], u["betweenness"], atol=1e-8)
    assert np.allclose(net.nodes["degree"], u["degree"])
    assert net.nodes["member_org"].tolist() == orgs.member_org.tolist()
    assert net.notes == ()


@needs_shared
def test_directed_measures_match_sna(dev):
    orgs, ties, _, _ = dev
    net = pm.network(ties, orgs, directed=True)
    d = EXTRA["directed"]
    # gden(D, mode = "digraph"); centralization(D, ..., mode = "digraph"); grecip(D, "edgewise")
    assert net.density == pytest.approx(d["density"], abs=1e-10)
    assert net.degree_centralization == pytest.approx(d["degree_centralization"], abs=1e-10)
    assert net.betweenness_centralization == pytest.approx(
        d["betweenness_centralization"], abs=1e-10
    )
    assert net.reciprocity == pytest.approx(d["reciprocity"], abs=1e-12)


def test_directed_trust_value_and_reciprocity():
    ties = pd.DataFrame(
        {
            "from": ["A", "B", "A", "C"],
            "to": ["B", "A", "C", "B"],
            "trust": [4, 2, 3, 1],
            "value": [3, 3, 4, 2],
        }
    )
    net = pm.network(ties, ["A", "B", "C", "D"], directed=True)
    assert net.reciprocity == pytest.approx(0.5)
    b = net.nodes.loc["B"]
    assert b["trust_received"] == pytest.approx(2.5) and b["trust_given"] == pytest.approx(2)
    assert net.nodes.loc["A", "reciprocated"] == 1
    assert np.isnan(net.nodes.loc["D", "trust_received"])
    assert "isolated-nodes" in net.notes and "disconnected" in net.notes


@needs_shared
def test_weights_row_normalized(dev):
    orgs, ties, _, _ = dev
    w = pm.weights(ties, orgs)
    assert sparse.issparse(w) and w.shape == (123, 123)
    assert np.allclose(w.sum(axis=1), 1)
    raw = pm.weights(ties, orgs, normalize="none")
    assert abs(raw - raw.T).max() == 0 and raw.sum() == 2 * 255


@needs_shared
@pytest.mark.parametrize("form", ["sparse", "dense", "frame"])
def test_lnam_w1_matches_sna(dev, form):
    orgs, ties, ref, x = dev
    w = pm.weights(ties, orgs)
    w = {
        "sparse": w,
        "dense": w.toarray(),
        "frame": pd.DataFrame(w.toarray(), index=orgs.index, columns=orgs.index),
    }[form]
    fit = pm.lnam(orgs.outcome, x, w)
    r = ref["lnam"]  # lnam(o$outcome, cbind(1, member_org, x1), W1 = W)
    assert fit.rho1 == pytest.approx(r["rho1"], abs=1e-4)
    assert fit.rho1_se == pytest.approx(r["rho1_se"], abs=1e-4)
    assert np.allclose(fit.beta, flat(r["beta"]), atol=1e-4)
    assert np.allclose(fit.beta_se, flat(r["beta_se"]), atol=1e-4)
    assert fit.sigma == pytest.approx(flat(r["sigma"])[0], abs=1e-4)
    assert fit.loglik == pytest.approx(flat(r["loglik"])[0], abs=1e-6)
    assert fit.aic == pytest.approx(flat(EXTRA["lnam_w1"]["aic"])[0], abs=1e-6)
    assert list(fit.beta.index) == ["const", "member_org", "x1"] and fit.status == "ok"
    assert np.isnan(fit.rho2) and list(fit.table.index[:1]) == ["rho1"]


@needs_shared
@pytest.mark.parametrize("case", ["lnam_w1w2", "lnam_w2"])
def test_lnam_w2_matches_sna(dev, case):
    orgs, ties, _, x = dev
    w = pm.weights(ties, orgs)
    r = EXTRA[case]  # lnam(o$outcome, X, W1 = W, W2 = W) / lnam(o$outcome, X, W2 = W)
    fit = pm.lnam(orgs.outcome, x, w if case == "lnam_w1w2" else None, W2=w)
    if case == "lnam_w1w2":
        assert fit.rho1 == pytest.approx(r["rho1"], abs=1e-4)
        assert fit.rho1_se == pytest.approx(r["rho1_se"], abs=1e-4)
    assert fit.rho2 == pytest.approx(r["rho2"], abs=1e-4)
    assert fit.rho2_se == pytest.approx(r["rho2_se"], abs=1e-4)
    assert np.allclose(fit.beta, flat(r["beta"]), atol=1e-4)
    assert np.allclose(fit.beta_se, flat(r["beta_se"]), atol=1e-4)
    assert fit.sigma == pytest.approx(flat(r["sigma"])[0], abs=1e-4)
    assert fit.loglik == pytest.approx(flat(r["loglik"])[0], abs=1e-5)
    assert fit.aic == pytest.approx(flat(r["aic"])[0], abs=1e-5)


@needs_shared
def test_moran_matches_closed_form(dev):
    orgs, ties, _, _ = dev
    m = pm.moran(orgs.outcome, pm.weights(ties, orgs))
    r = EXTRA["moran"]
    for k in ("i", "expected", "variance", "z", "p"):
        assert getattr(m, k) == pytest.approx(r[k], abs=1e-10)
    binary = pm.moran(orgs.outcome, pm.weights(ties, orgs, normalize="none"))
    assert binary.i == pytest.approx(r["i_binary_nacf"], abs=1e-10)  # sna::nacf, lag 1


def test_eigenvalues_symmetric_shortcut_agrees_with_general():
    rng = np.random.default_rng(1)
    a = (rng.random((30, 30)) < 0.15).astype(float)
    a = np.triu(a, 1)
    a = a + a.T
    ties = pd.DataFrame(
        [(i, j) for i, j in zip(*np.nonzero(a), strict=True) if i < j], columns=["from", "to"]
    )
    w = pm.weights(ties, list(range(30)))
    fast = np.sort(eigenvalues(w).real)
    slow = np.sort(np.linalg.eigvals(w.toarray()).real)
    assert np.allclose(fast, slow, atol=1e-10)


# degenerate inputs: coded results, not crashes
def test_no_ties():
    net = pm.network(pd.DataFrame({"from": [], "to": []}), ["A", "B", "C"])
    assert "no-ties" in net.notes and net.density == 0 and net.edges == 0
    y = pd.Series([1.0, 2.0, 4.0, 3.0])
    x = np.column_stack([np.ones(4), [0, 1, 0, 1]])
    fit = pm.lnam(y, x, np.zeros((4, 4)))
    assert fit.status == "no-ties" and np.isnan(fit.rho1)
    assert np.allclose(fit.beta, np.linalg.lstsq(x, y, rcond=None)[0])
    assert np.isnan(pm.moran(y, np.zeros((4, 4))).i)


def test_isolated_nodes_and_small_networks():
    ties = pd.DataFrame({"from": ["A"], "to": ["B"]})
    net = pm.network(ties, ["A", "B"])
    assert "too-few-nodes" in net.notes and np.isnan(net.degree_centralization)
    rng = np.random.default_rng(3)
    n = 40
    codes = [f"O{i}" for i in range(n)]
    pairs = [(codes[i], codes[i + 1]) for i in range(0, 30)]  # ten isolates
    w = pm.weights(pd.DataFrame(pairs, columns=["from", "to"]), codes)
    y = rng.normal(size=n)
    fit = pm.lnam(y, np.ones((n, 1)), w)
    assert fit.status in ("ok", "rho-at-bound") and np.isfinite(fit.loglik)


def test_singular_i_rho_w_gives_bound_status():
    # y = W y exactly for a connected pair structure: the maximum runs to rho = 1
    codes = list("ABCDEF")
    ties = pd.DataFrame({"from": ["A", "B", "C", "D", "E"], "to": ["B", "C", "D", "E", "F"]})
    w = pm.weights(ties, codes)
    fit = pm.lnam(np.full(6, 2.0) + np.arange(6) * 1e-9, np.column_stack([np.arange(6.0)]), w)
    assert fit.status == "rho-at-bound" and fit.rho1 == pytest.approx(1, abs=1e-6)
    assert np.isnan(fit.rho1_se)  # no standard errors at the boundary


def test_bad_inputs_are_coded():
    ties = pd.DataFrame({"from": ["A"], "to": ["Z"]})
    with pytest.raises(pm.PsychometricsError) as e:
        pm.weights(ties, ["A", "B"])
    assert e.value.code == "unknown-node" and "'Z'" in str(e.value)
    with pytest.raises(pm.PsychometricsError) as e:
        pm.lnam(np.ones(3), np.ones((3, 1)), np.zeros((4, 4)))
    assert e.value.code == "bad-shape"
    with pytest.raises(pm.PsychometricsError) as e:
        pm.lnam(np.arange(3.0), np.ones((3, 2)), np.eye(3)[::-1])
    assert e.value.code == "collinear-covariates"
    with pytest.raises(pm.PsychometricsError) as e:
        pm.network([("A", "B")])
    assert e.value.code == "not-a-dataframe"
    with pytest.raises(pm.PsychometricsError) as e:
        pm.network(pd.DataFrame({"from": ["A"], "to": ["B"]}), ["A", "A", "B"])
    assert e.value.code == "duplicate-node"


@needs_shared
def test_lnam_directed_w_matches_sna(dev):
    # W = rownorm(D), ties as listed: not similar to a symmetric matrix (complex eigenvalues)
    orgs, ties, _, x = dev
    fit = pm.lnam(orgs.outcome, x, pm.weights(ties, orgs, directed=True))
    r = EXTRA["lnam_directed"]  # lnam(o$outcome, X, W1 = rownorm(D))
    assert fit.rho1 == pytest.approx(r["rho1"], abs=1e-4)
    assert fit.rho1_se == pytest.approx(r["rho1_se"], abs=1e-4)
    assert np.allclose(fit.beta_se, flat(r["beta_se"]), atol=1e-4)
    assert fit.loglik == pytest.approx(flat(r["loglik"])[0], abs=1e-6)


def test_too_few_nodes_and_perfect_fit_are_coded():
    with pytest.raises(pm.PsychometricsError) as e:
        pm.lnam(np.ones(1), np.ones((1, 1)), np.zeros((1, 1)))
    assert e.value.code == "too-few-nodes"
    codes = list("ABCDE")
    w = pm.weights(pd.DataFrame({"from": ["A", "B", "C"], "to": ["B", "C", "D"]}), codes)
    with pytest.raises(pm.PsychometricsError) as e:
        pm.lnam(np.full(5, 3.0), np.ones((5, 1)), w)  # a constant outcome
    assert e.value.code == "perfect-fit"
