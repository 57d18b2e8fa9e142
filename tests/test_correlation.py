"""Correlations, polychoric, KMO and Bartlett against R's psych / lavaan.

Expected numbers: ../shared/reference/ref_<name>.json (make_reference.R) and
tests/reference/reliability_extra.json (tests/reference/make_reliability_reference.R).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATASETS, load_reference
from scipy.stats import multivariate_normal

import psychometrics as pm

# the function directly (also available as pm.correlation)
from psychometrics.correlation import bvn_cdf, correlation
from psychometrics.errors import PsychometricsError

EXTRA = Path(__file__).resolve().parent / "reference" / "reliability_extra.json"


@pytest.mark.parametrize("name", DATASETS)
def test_kmo_matches_psych(name):
    _raw, _cfg, ref, x = load_reference(name)
    k = pm.kmo(x)
    assert k.n == ref["n_complete"]
    # psych::KMO(cor(x))$MSA
    assert k.overall == pytest.approx(ref["kmo"]["overall"], abs=1e-6)
    # psych::KMO(cor(x))$MSAi
    expected = pd.Series(ref["kmo"]["items"])[list(x.columns)]
    np.testing.assert_allclose(k.items, expected, atol=1e-6)
    assert list(k.items.index) == list(x.columns)
    assert "MSA" in k.summary()


@pytest.mark.parametrize("name", DATASETS)
def test_bartlett_matches_psych(name):
    _raw, _cfg, ref, x = load_reference(name)
    b = pm.bartlett(x)
    # psych::cortest.bartlett(cor(x), n = nrow(x)): $chisq $df $p.value
    assert b.chi2 == pytest.approx(ref["bartlett"]["chisq"], rel=1e-6)
    assert b.df == ref["bartlett"]["df"]
    assert b.p == pytest.approx(ref["bartlett"]["p"], rel=1e-6, abs=1e-300)
    assert b.n == ref["n_complete"]


@pytest.mark.parametrize("name", ["bfi", "consortium_dev"])
def test_polychoric_matches_psych_and_lavaan(name):
    _raw, _cfg, ref, x = load_reference(name)
    pc = pm.polychoric_full(x)
    assert pc.n == ref["n_complete"]
    assert pc.is_pd and not pc.smoothed
    # psych::polychoric(x, correct = 0)$rho
    np.testing.assert_allclose(pc.rho, ref["polychoric"]["rho"], atol=2e-3)
    # psych::polychoric(x, correct = 0)$tau
    np.testing.assert_allclose(pc.thresholds, ref["polychoric"]["tau"], atol=2e-3)
    # lavaan::lavCor(x, ordered = names(x))  (same two-step ML: agrees much closer)
    np.testing.assert_allclose(pc.rho, ref["polychoric_lavaan"], atol=1e-5)
    assert list(pc.rho.index) == list(x.columns)
    assert list(pc.thresholds.columns) == [f"t{i}" for i in range(1, pc.thresholds.shape[1] + 1)]
    pd.testing.assert_frame_equal(pm.polychoric(x), pc.rho)
    # the polychoric r is larger in size than the Pearson r of the same items
    pearson = correlation(x).to_numpy()
    off = ~np.eye(len(pc.rho), dtype=bool)
    assert np.mean(np.abs(pc.rho.to_numpy()[off]) >= np.abs(pearson[off])) > 0.9


def test_polychoric_pairwise_missing_matches_psych():
    raw, _cfg, _ref, _x = load_reference("bfi")
    e = json.loads(EXTRA.read_text())["bfi_missing_polychoric"]
    cols = ["A1", "A2", "A3", "A4", "A5", "N1"]
    pc = pm.polychoric_full(raw[cols])
    # psych::polychoric(bfi[, cols], correct = 0) on all rows, NAs kept (pairwise tables)
    np.testing.assert_allclose(pc.rho, e["rho"], atol=2e-3)
    np.testing.assert_allclose(pc.thresholds, e["tau"], atol=2e-3)
    assert pc.n == len(raw)
    n = pc.pairwise_n
    assert n.loc["A1", "A2"] == int(raw[["A1", "A2"]].notna().all(axis=1).sum())
    assert n.loc["A1", "A1"] == int(raw["A1"].notna().sum())


def test_polychoric_unused_codes_and_unequal_categories():
    rng = np.random.default_rng(4)
    z = rng.multivariate_normal([0, 0, 0], [[1, 0.5, 0.4], [0.5, 1, 0.3], [0.4, 0.3, 1]], 3000)
    a = np.digitize(z[:, 0], [-1, 0, 1]) + 1  # 1..4
    b = np.digitize(z[:, 1], [-0.5, 0.7])  # 0..2 (3 categories)
    c = np.digitize(z[:, 2], [0.0])  # binary: tetrachoric
    df = pd.DataFrame({"a": a, "b": b, "c": c}).astype(float)
    pc = pm.polychoric_full(df)
    assert pc.thresholds.shape == (3, 3)
    assert np.isnan(pc.thresholds.loc["c", "t2"]) and np.isnan(pc.thresholds.loc["b", "t3"])
    # unused codes merge: coding 'a' as 1, 2, 4, 5 (no 3) gives the same result
    df2 = df.assign(a=df["a"].where(df["a"] < 3, df["a"] + 1))
    np.testing.assert_allclose(pm.polychoric(df2), pc.rho, atol=1e-12)
    # recovers the generating correlations (n = 3000)
    np.testing.assert_allclose(pc.rho.loc["a", "b"], 0.5, atol=0.06)
    np.testing.assert_allclose(pc.rho.loc["a", "c"], 0.4, atol=0.08)


def test_polychoric_not_positive_definite_is_reported_and_smoothed():
    # three binary items with a near-perfect chain give an indefinite matrix
    rng = np.random.default_rng(0)
    n = 60
    a = rng.integers(0, 2, n)
    b = a.copy()
    b[:3] = 1 - b[:3]
    c = 1 - a
    c[3:6] = 1 - c[3:6]
    d = rng.integers(0, 2, n)
    df = pd.DataFrame({"a": a, "b": b, "c": c, "d": d}).astype(float)
    pc = pm.polychoric_full(df)
    raw = pm.polychoric_full(df, smooth=False)
    if raw.is_pd:  # pragma: no cover - the construction above is indefinite
        pytest.fail("expected a non positive definite polychoric matrix")
    assert pc.smoothed and not pc.is_pd and pc.min_eigenvalue < 0
    assert np.linalg.eigvalsh(pc.rho.to_numpy())[0] > 0
    np.testing.assert_allclose(np.diag(pc.rho), 1.0)
    assert not raw.smoothed
    assert "NOT positive definite" in pc.summary()


def test_bvn_cdf_matches_scipy():
    rng = np.random.default_rng(7)
    for r in (-0.99, -0.93, -0.6, 0.0, 0.3, 0.91, 0.95, 0.999):
        h = rng.uniform(-3, 3, 15)
        k = rng.uniform(-3, 3, 15)
        ours = bvn_cdf(h, k, np.full(15, r))
        mvn = multivariate_normal(mean=[0, 0], cov=[[1, r], [r, 1]])
        theirs = np.array([mvn.cdf([a, b]) for a, b in zip(h, k, strict=True)])
        np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_correlation_listwise_pairwise_spearman():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(100, 3)), columns=list("abc"))
    df.iloc[:10, 0] = np.nan
    lw = correlation(df)
    np.testing.assert_allclose(lw, df.dropna().corr(), atol=1e-12)
    assert lw.attrs["n"] == 90
    pw = correlation(df, missing="pairwise")
    np.testing.assert_allclose(pw, df.corr(), atol=1e-12)
    assert pw.attrs["n"].loc["a", "b"] == 90 and pw.attrs["n"].loc["b", "c"] == 100
    sp = correlation(df, method="spearman")
    np.testing.assert_allclose(sp, df.dropna().corr(method="spearman"), atol=1e-12)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: pm.kmo(np.eye(3)), "not-a-dataframe"),
        (lambda: pm.kmo(pd.DataFrame({"a": [1, 2, 3, 4]})), "too-few-items"),
        (lambda: pm.bartlett(pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 1, 1, 1]})), "constant-item"),
        (lambda: pm.bartlett(pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 4, 6, 8]})), "singular-matrix"),
        (lambda: pm.kmo(pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 4, 6, 8], "c": [1, 0, 1, 0]})), "singular-matrix"),
        (lambda: pm.polychoric(pd.DataFrame({"a": [1, 2, 3], "b": ["1", "x", "2"]})), "non-numeric"),
        (lambda: pm.polychoric(pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) % 3})), "too-many-categories"),
        (lambda: correlation(pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]}), method="kendal"), "invalid-option"),
        (lambda: pm.polychoric(pd.DataFrame({"a": [1, 2, 1, 2, np.nan, np.nan], "b": [np.nan, np.nan, np.nan, 1, 2, 1]})), "too-few-rows"),
        (lambda: correlation(pd.DataFrame({"a": [1, 2, np.nan, 4], "b": [np.nan, 1, 3, 4]})), "too-few-rows"),
    ],
)
def test_bad_input_raises_with_code(call, code):
    with pytest.raises(PsychometricsError) as err:
        call()
    assert err.value.code == code
