"""psychometrics.factor: efa, map_test, parallel_analysis, scree against R's psych.

Golden values: ../shared/reference/ref_*.json (make_reference.R) and
tests/reference/factor_extra.json (tests/reference/make_factor_reference.R, R 4.2.2,
psych 2.2.9, GPArotation 2022.10-2). Data prepared as make_reference.R does (listwise rows on
items and group columns, reverse keys recoded max + min - x): conftest.load_reference.

Factor order and sign are free in EFA, so loadings are compared after aligning our columns
with R's by maximum absolute congruence (one-to-one) and flipping signs; phi is permuted and
flipped the same way. The implementation follows psych step by step (same optimizer settings,
same rotation algorithm and start), so the numbers agree to ~1e-13 and even psych's column
names (MR2, MR1, ...) come out in the same order; the tolerances asked for (2e-3 on loadings,
communalities and phi; 1e-6 on MAP) leave room for other scipy/LAPACK builds.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import load_reference
from scipy.optimize import linear_sum_assignment

import psychometrics as pm
from psychometrics import factor, rotation
from psychometrics.errors import PsychometricsError

HERE = Path(__file__).resolve().parent
EXTRA = json.loads((HERE / "reference" / "factor_extra.json").read_text())
TOL = 2e-3

# fit key in ref_*.json -> (method, rotation); the R call is written in each test
MAIN_FITS = {
    "minres_oblimin": ("minres", "oblimin"),  # psych::fa(x, nfactors, fm = "minres", rotate = "oblimin")
    "ml_varimax": ("ml", "varimax"),  # psych::fa(x, nfactors, fm = "ml", rotate = "varimax")
    "pa_promax": ("pa", "promax"),  # psych::fa(x, nfactors, fm = "pa", rotate = "promax")
}


def ref_matrix(loadings: dict) -> tuple[np.ndarray, list[str]]:
    cols = list(loadings)
    return np.column_stack([np.asarray(loadings[c], dtype=float) for c in cols]), cols


def align(ours: pd.DataFrame, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Permute and sign-flip our columns onto R's (maximum absolute Tucker congruence).

    Returns (aligned loadings, perm, signs): column j of R matches our column perm[j] times
    signs[j]. Fails if a matched pair is not clearly the same factor (congruence < .9), so
    the comparison cannot pass by pairing unrelated columns.
    """
    a = ours.to_numpy()
    assert a.shape == ref.shape, (a.shape, ref.shape)
    cong = (a.T @ ref) / np.sqrt(np.outer((a**2).sum(0), (ref**2).sum(0)))
    rows, cols = linear_sum_assignment(-np.abs(cong))
    perm = np.empty(ref.shape[1], dtype=int)
    perm[cols] = rows
    matched = cong[perm, np.arange(ref.shape[1])]
    assert np.all(np.abs(matched) > 0.9), matched
    signs = np.sign(matched)
    return a[:, perm] * signs, perm, signs


def check_fit(fit: factor.EFA, ref: dict, rows: list[str], tol: float = TOL) -> None:
    """Loadings, communalities (and phi when R has one) of ``fit`` against one R fit."""
    r_load, r_cols = ref_matrix(ref["loadings"])
    assert list(fit.loadings.index) == rows
    aligned, perm, signs = align(fit.loadings, r_load)
    np.testing.assert_allclose(aligned, r_load, atol=tol, rtol=0)
    r_h2 = np.array([ref["communalities"][i] for i in rows])
    np.testing.assert_allclose(fit.communalities.to_numpy(), r_h2, atol=tol, rtol=0)
    if ref.get("phi") is not None:
        k = len(r_cols)
        r_phi = np.asarray(ref["phi"], dtype=float).reshape(k, k)
        ours = fit.phi.to_numpy()[np.ix_(perm, perm)] * np.outer(signs, signs)
        np.testing.assert_allclose(ours, r_phi, atol=tol, rtol=0)
    else:
        np.testing.assert_allclose(fit.phi.to_numpy(), np.eye(len(r_cols)), atol=1e-12)


# --------------------------------------------------------------------------- parity, main


@pytest.mark.parametrize("fit_key", list(MAIN_FITS))
def test_efa_matches_psych(reference, fit_key):
    # psych::fa(x, nfactors = cfg$nfactors, fm = <fm>, rotate = <rotate>) on the listwise,
    # reverse-keyed items (make_reference.R): ref$efa$<fit_key>$loadings / $communalities / $phi
    _name, _raw, cfg, ref, x = reference
    method, rot = MAIN_FITS[fit_key]
    fit = pm.efa(x, cfg["nfactors"], method=method, rotation=rot)
    assert fit.n == ref["n_complete"]
    check_fit(fit, ref["efa"][fit_key], ref["efa"]["row_names"])
    assert fit.converged
    assert fit.heywood == []


@pytest.mark.parametrize("fit_key", list(MAIN_FITS))
def test_efa_column_names_and_order_follow_psych(reference, fit_key):
    # psych names factors MR1..k in rotated order, then sorts them by variance accounted
    # for: colnames(psych::fa(x, nfactors, fm, rotate)$loadings), e.g. MR2 MR1 MR3 MR5 MR4
    _name, _raw, cfg, ref, x = reference
    method, rot = MAIN_FITS[fit_key]
    fit = pm.efa(x, cfg["nfactors"], method=method, rotation=rot)
    assert list(fit.loadings.columns) == list(ref["efa"][fit_key]["loadings"])
    ss = fit.variance.loc["ss_loadings"].to_numpy()
    assert np.all(np.diff(ss) <= 1e-12)  # sorted by variance accounted for
    assert (fit.loadings.sum(axis=0) > 0).all()  # psych's sign rule


def test_map_matches_psych(reference):
    # psych::vss(x, n = min(8, ncol(x) - 1), plot = FALSE)$map  -> ref$map$values
    _name, _raw, _cfg, ref, x = reference
    res = pm.map_test(x)
    expected = np.asarray(ref["map"]["values"], dtype=float)
    assert list(res.values.index) == list(range(1, len(expected) + 1))
    np.testing.assert_allclose(res.values.to_numpy(), expected, atol=1e-6, rtol=0)
    assert res.n_factors == ref["map"]["nfactors"]  # which.min(vss(x)$map)
    assert res.n == ref["n_complete"]


def test_scree_matches_eigen(reference):
    # eigen(cor(x))$values -> ref$eigenvalues
    _name, _raw, _cfg, ref, x = reference
    table = pm.scree(x)
    np.testing.assert_allclose(table["eigenvalue"].to_numpy(), ref["eigenvalues"], atol=1e-10)
    np.testing.assert_allclose(table["proportion"].sum(), 1.0)
    np.testing.assert_allclose(table["cumulative"].iloc[-1], 1.0)
    assert list(table.index) == list(range(1, x.shape[1] + 1))


# --------------------------------------------------------------------------- parity, extra


def extra_fit(key: str) -> dict:
    return EXTRA["fits"][key]


def data_for(name: str) -> pd.DataFrame:
    return load_reference(name)[3]


@pytest.mark.parametrize("name", ["bfi", "hs1939", "consortium_dev"])
@pytest.mark.parametrize("method", ["minres", "ml"])
def test_geomin_matches_psych(name, method):
    # psych::fa(x, nfactors, fm = <method>, rotate = "geominQ")  (GPArotation::geominQ, delta .01)
    ref = extra_fit(f"{name}.{method}_geomin")
    x = data_for(name)
    fit = pm.efa(x, len(ref["loadings"]), method=method, rotation="geomin")
    check_fit(fit, ref, ref["row_names"])
    assert fit.rotation == "geomin" and fit.oblique


HS_GRID = [
    (fm, rot)
    for fm in ("minres", "ml", "pa")
    for rot in ("oblimin", "varimax", "promax", "geominQ", "none")
]


@pytest.mark.parametrize(("fm", "rot"), HS_GRID)
def test_every_method_and_rotation_on_hs1939(fm, rot):
    # psych::fa(x, nfactors = 3, fm = <fm>, rotate = <rot>) on HolzingerSwineford1939 x1..x9
    ref = extra_fit(f"hs1939.{fm}_{rot}")
    ours_rot = {"geominQ": "geomin", "none": None}.get(rot, rot)
    fit = pm.efa(data_for("hs1939"), 3, method=fm, rotation=ours_rot)
    assert ref["call"] == f'psych::fa(x, nfactors = 3, fm = "{fm}", rotate = "{rot}")'
    check_fit(fit, ref, ref["row_names"])
    # uniquenesses, SS loadings, dof and RMSR as psych reports them
    np.testing.assert_allclose(
        fit.uniquenesses.to_numpy(), [ref["uniquenesses"][i] for i in ref["row_names"]], atol=TOL
    )
    r_load, r_cols = ref_matrix(ref["loadings"])
    _, perm, _ = align(fit.loadings, r_load)
    np.testing.assert_allclose(
        fit.variance.loc["ss_loadings"].to_numpy()[perm],
        [ref["ss_loadings"][c] for c in r_cols], atol=TOL,
    )
    assert fit.dof == ref["dof"] == 12
    assert fit.rms == pytest.approx(ref["rms"], abs=1e-6)
    assert list(fit.loadings.columns) == r_cols


@pytest.mark.parametrize("fm", ["minres", "ml", "pa"])
def test_one_factor(fm):
    # psych::fa(x, nfactors = 1, fm = <fm>) on hs1939 (no rotation with one factor)
    ref = extra_fit(f"hs1939.{fm}_1factor")
    fit = pm.efa(data_for("hs1939"), 1, method=fm)
    check_fit(fit, ref, ref["row_names"])
    assert list(fit.loadings.columns) == [{"minres": "MR1", "ml": "ML1", "pa": "PA1"}[fm]]
    assert not fit.oblique


def test_pairwise_missing_matches_psych():
    # psych::fa(x_all_rows, nfactors = 5, fm = "minres", rotate = "oblimin") on every bfi row,
    # reverse keyed, missing values kept: psych's default use = "pairwise"
    raw, cfg, _ref, x_complete = load_reference("bfi")
    items = list(x_complete.columns)
    x = raw[items].astype(float).copy()
    for keys in cfg["scales"].values():
        for k in keys:
            if k.startswith("-"):
                x[k[1:]] = cfg["max"] + cfg["min"] - x[k[1:]]
    ref = extra_fit("bfi_pairwise.minres_oblimin")
    fit = pm.efa(x, 5, missing="pairwise")
    check_fit(fit, ref, ref["row_names"])
    # cor(x, use = "pairwise")["A1", "C1"]
    assert fit.correlation.loc["A1", "C1"] == pytest.approx(EXTRA["bfi_pairwise_cor_A1_C1"], abs=1e-12)
    assert fit.rms == pytest.approx(ref["rms"], abs=1e-6)  # psych weights by pairwise n
    assert fit.n == int((x.notna().sum(axis=1) >= 2).sum()) == 2800
    listwise = pm.efa(x, 5)
    assert listwise.n == len(x.dropna()) < fit.n


def test_polychoric_efa_matches_psych():
    # psych::fa(psych::polychoric(x, correct = 0)$rho, nfactors = 4, fm = "minres",
    #           rotate = "oblimin") on consortium_dev
    ref = extra_fit("consortium_dev_polychoric.minres_oblimin")
    fit = pm.efa(data_for("consortium_dev"), 4, corr="polychoric")
    assert fit.corr == "polychoric"
    check_fit(fit, ref, ref["row_names"])


# --------------------------------------------------------------------------- Heywood cases


@pytest.mark.parametrize("fm", ["minres", "ml", "pa"])
def test_heywood_cases_are_reported_not_clipped(fm):
    # psych::fa(heywood, nfactors = 1, fm = <fm>): r12 r13 / r23 > 1, so item h1 cannot have
    # a proper one-factor loading. psych: communality 1.034 (minres), .995 at the bound (ml),
    # 1.019 (pa) and "An ultra-Heywood case was detected".
    # minres's optimizer stops on a flat ridge here; scipy's L-BFGS-B stops a little
    # earlier than R's (communality 1.0332 vs 1.0336), hence the 2e-3 tolerance.
    ref = extra_fit(f"heywood.{fm}")
    x = pd.read_csv(HERE / "reference" / "heywood.csv")
    fit = pm.efa(x, 1, method=fm)
    check_fit(fit, ref, ref["row_names"])
    assert fit.heywood == ["h1"]
    assert any("Heywood" in w and "h1" in w for w in fit.warnings)
    assert "Heywood" in fit.summary()
    if fm in ("minres", "pa"):  # ultra-Heywood: kept as estimated, never clipped to 1
        assert fit.communalities["h1"] > 1
        assert fit.uniquenesses["h1"] < 0
        assert fit.uniquenesses["h1"] == pytest.approx(ref["uniquenesses"]["h1"], abs=TOL)
    else:
        assert fit.extra["uniqueness_estimates"]["h1"] == pytest.approx(0.005)


# --------------------------------------------------------------------------- parallel analysis


@pytest.mark.parametrize("name", ["hs1939", "consortium_dev"])
def test_parallel_analysis_against_psych(name):
    # set.seed(20240601); psych::fa.parallel(x, n.iter = 1000, fa = "both", SMC = TRUE)
    ref = EXTRA["parallel"][name]
    x = data_for(name)
    pc = pm.parallel_analysis(x, n_iter=1000, seed=7)
    fa = pm.parallel_analysis(x, n_iter=1000, seed=7, method="fa")
    assert pc.n == fa.n == ref["n"]
    # observed eigenvalues are closed form: $pc.values, $fa.values (SMC on the diagonal)
    np.testing.assert_allclose(pc.eigenvalues.to_numpy(), ref["pc_values"], atol=1e-10)
    np.testing.assert_allclose(fa.eigenvalues.to_numpy(), ref["fa_values"], atol=1e-10)
    # simulated means ($pc.sim, $fa.sim) are Monte Carlo estimates from different random
    # streams: 1000 replicates each, standard errors ~1e-3, so they agree to 0.01
    np.testing.assert_allclose(pc.simulated["mean"].to_numpy(), ref["pc_sim"], atol=0.01)
    np.testing.assert_allclose(fa.simulated["mean"].to_numpy(), ref["fa_sim"], atol=0.01)
    # decision: $ncomp and $nfact
    assert pc.n_factors == ref["ncomp"]
    assert fa.n_factors == ref["nfact"]


def test_parallel_table_and_rule():
    x = data_for("hs1939")
    res = pm.parallel_analysis(x, n_iter=200, seed=1)
    t = res.table
    assert list(t.columns) == ["observed", "sim_mean", "sim_quantile", "threshold", "retained"]
    assert list(t.index) == list(range(1, 10))
    # the number retained is the run of leading eigenvalues above the 95th percentile
    above = (t["observed"] > t["sim_quantile"]).to_numpy()
    assert res.n_factors == int(np.argmin(above)) and above[: res.n_factors].all()
    assert t["retained"].sum() == res.n_factors
    assert (t["sim_quantile"] >= t["sim_mean"]).all()
    assert res.quantile == 0.95 and res.method == "pc" and res.n_iter == 200
    mean_rule = pm.parallel_analysis(x, n_iter=200, seed=1, quantile="mean")
    np.testing.assert_array_equal(mean_rule.table["threshold"], mean_rule.table["sim_mean"])
    assert mean_rule.n_factors >= res.n_factors


def test_parallel_seeded():
    x = data_for("hs1939")
    a = pm.parallel_analysis(x, n_iter=50, seed=3)
    b = pm.parallel_analysis(x, n_iter=50, seed=3)
    c = pm.parallel_analysis(x, n_iter=50, seed=4)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not np.allclose(a.simulated["mean"], c.simulated["mean"])


@pytest.mark.parametrize(("n", "p"), [(60, 6), (4, 6)])
def test_simulated_correlations_have_the_distribution_of_normal_data(n, p):
    # Bartlett's Wishart draw (n - 1 >= p) and raw normal data (n - 1 < p) versus the plain
    # recipe of psych::fa.parallel: cor(matrix(rnorm(n * p), n)), eigenvalues averaged
    rng = np.random.default_rng(0)
    fast = factor._simulated_correlations(rng, n, p, 4000)
    assert fast.shape == (4000, p, p)
    np.testing.assert_allclose(np.einsum("kii->ki", fast), 1.0)
    plain = np.stack([np.corrcoef(rng.standard_normal((n, p)), rowvar=False)
                      for _ in range(4000)])
    ev_fast = np.linalg.eigvalsh(fast).mean(axis=0)
    ev_plain = np.linalg.eigvalsh(plain).mean(axis=0)
    np.testing.assert_allclose(ev_fast, ev_plain, atol=0.03)
    # under independence E[r^2] = 1 / (n - 1) for normal data (4 standard errors of slack)
    off = ~np.eye(p, dtype=bool)
    np.testing.assert_allclose((fast**2).mean(axis=0)[off], 1 / (n - 1), atol=0.025)


# --------------------------------------------------------------------------- rotations


@pytest.fixture(scope="module")
def unrotated():
    fit = pm.efa(data_for("consortium_dev"), 4, rotation=None)
    return fit.loadings.to_numpy()


@pytest.mark.parametrize("name", ["oblimin", "varimax", "promax", "geomin"])
def test_rotation_keeps_the_common_part(unrotated, name):
    rot = rotation.rotate(unrotated, name)
    assert rot.converged
    np.testing.assert_allclose(unrotated @ rot.rotmat, rot.loadings, atol=1e-10)
    np.testing.assert_allclose(np.diag(rot.phi), 1.0, atol=1e-12)
    # rotation changes the loadings but not the model L Phi L'
    np.testing.assert_allclose(rot.loadings @ rot.phi @ rot.loadings.T,
                               unrotated @ unrotated.T, atol=1e-9)
    assert not np.allclose(rot.loadings, unrotated, atol=0.05)
    if name == "varimax":
        np.testing.assert_allclose(rot.rotmat.T @ rot.rotmat, np.eye(4), atol=1e-12)


def test_oblimin_reaches_a_stationary_point(unrotated):
    rot = rotation.oblimin(unrotated)
    crit = rotation._quartimin(0.0)
    f0, _ = crit(rot.loadings)
    # small oblique perturbations of the rotation do not lower the quartimin criterion
    rng = np.random.default_rng(0)
    t = np.linalg.inv(rot.rotmat).T
    for _ in range(20):
        tt = t + 1e-3 * rng.standard_normal(t.shape)
        tt /= np.sqrt((tt**2).sum(axis=0))
        assert crit(unrotated @ np.linalg.inv(tt).T)[0] >= f0 - 1e-9


# --------------------------------------------------------------------------- results


def test_result_objects():
    fit = pm.efa(data_for("hs1939"), 3)
    assert dataclasses.is_dataclass(fit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.n = 3
    assert list(fit.variance.index) == [
        "ss_loadings", "proportion", "cumulative", "proportion_explained", "cumulative_proportion"
    ]
    np.testing.assert_allclose(fit.communalities + fit.uniquenesses, 1.0)
    np.testing.assert_allclose(fit.structure, fit.loadings.to_numpy() @ fit.phi.to_numpy())
    assert fit.method == "minres" and fit.rotation == "oblimin" and fit.corr == "pearson"
    text = fit.summary()
    for col in fit.loadings.columns:
        assert col in text
    assert "h2" in text and "phi" in text and str(fit) == text
    assert pm.efa is factor.efa and pm.map_test is factor.map_test
    assert pm.parallel_analysis is factor.parallel_analysis and pm.scree is factor.scree
    assert set(factor.__all__) >= {"efa", "map_test", "parallel_analysis", "scree"}


def test_rotation_none_spelled_as_psych():
    x = data_for("hs1939")
    a = pm.efa(x, 3, rotation=None)
    b = pm.efa(x, 3, rotation="none")
    pd.testing.assert_frame_equal(a.loadings, b.loadings)
    assert b.rotation is None


# --------------------------------------------------------------------------- bad input


def hs():
    return data_for("hs1939")


def test_unknown_rotation_message():
    with pytest.raises(PsychometricsError) as err:
        pm.efa(hs(), 3, rotation="obliminn")
    assert err.value.code == "invalid-option"
    assert str(err.value) == (
        "The 'rotation' parameter of efa must be one of 'oblimin', 'varimax', 'promax', "
        "'geomin', None; got 'obliminn'."
    )


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"method": "principal"}, "method"),
        ({"corr": "spearman"}, "corr"),
        ({"missing": "fiml"}, "missing"),
    ],
)
def test_unknown_options(kwargs, param):
    with pytest.raises(PsychometricsError, match=f"The '{param}' parameter of efa must be one of"):
        pm.efa(hs(), 3, **kwargs)


@pytest.mark.parametrize("k", [0, -1, 2.5, "3", True])
def test_bad_n_factors(k):
    with pytest.raises(PsychometricsError, match="'n_factors' parameter of efa") as err:
        pm.efa(hs(), k)
    assert err.value.code == "invalid-value"


@pytest.mark.parametrize("method", ["minres", "ml", "pa"])
def test_too_many_factors(method):
    # 9 items: (9 - 6)^2 - (9 + 6) < 0, so at most 5 factors
    with pytest.raises(PsychometricsError) as err:
        pm.efa(hs(), 6, method=method)
    assert err.value.code == "too-many-factors"
    assert "at most 5 factor(s) for 9 items; got 6" in str(err.value)
    assert "'n_factors'" in str(err.value)


def test_constant_item_and_too_few_rows():
    x = hs().copy()
    x["x3"] = 4.0
    with pytest.raises(PsychometricsError, match="'x3'") as err:
        pm.efa(x, 2)
    assert err.value.code == "constant-item"
    with pytest.raises(PsychometricsError) as err:
        pm.efa(hs().head(2), 1)
    assert err.value.code == "too-few-rows"
    with pytest.raises(PsychometricsError) as err:
        pm.map_test(hs().to_numpy())
    assert err.value.code == "not-a-dataframe"


def test_pairwise_needs_overlap():
    x = hs().copy()
    x.loc[x.index[:200], "x1"] = np.nan
    x.loc[x.index[201:], "x2"] = np.nan
    with pytest.raises(PsychometricsError, match="'x1' and 'x2' share 1") as err:
        pm.efa(x, 2, missing="pairwise")
    assert err.value.code == "too-few-rows"


def test_parallel_and_map_bad_input():
    x = hs()
    with pytest.raises(PsychometricsError, match="'quantile' parameter of parallel_analysis"):
        pm.parallel_analysis(x, quantile=1.5)
    with pytest.raises(PsychometricsError, match="'quantile' parameter of parallel_analysis"):
        pm.parallel_analysis(x, quantile="median")
    with pytest.raises(PsychometricsError, match="'n_iter' parameter of parallel_analysis"):
        pm.parallel_analysis(x, n_iter=0)
    with pytest.raises(PsychometricsError, match="'method' parameter of parallel_analysis"):
        pm.parallel_analysis(x, method="ml")
    with pytest.raises(PsychometricsError, match="'seed' parameter of parallel_analysis"):
        pm.parallel_analysis(x, seed="one")
    with pytest.raises(PsychometricsError, match="'max_factors' parameter of map_test"):
        pm.map_test(x, max_factors=0)
    assert len(pm.map_test(x, max_factors=3).values) == 3


def test_polychoric_pairwise_and_parallel():
    # pairwise polychoric (each pair on the rows answering both; psych::polychoric's default)
    x = data_for("consortium_dev").copy()
    x.iloc[::7, 3] = np.nan
    x.iloc[::5, 10] = np.nan
    rho = pm.polychoric(x)
    fit = pm.efa(x, 4, corr="polychoric", missing="pairwise")
    assert fit.n == len(x) == 800
    np.testing.assert_allclose(fit.correlation.to_numpy(), rho.to_numpy(), atol=1e-12)
    listwise = pm.efa(x, 4, corr="polychoric")
    assert listwise.n == int(x.notna().all(axis=1).sum()) < 800
    res = pm.parallel_analysis(x, n_iter=20, seed=1, corr="polychoric", missing="pairwise")
    np.testing.assert_allclose(res.eigenvalues.to_numpy(),
                               np.linalg.eigvalsh(rho.to_numpy())[::-1], atol=1e-10)


def test_overfactoring_hs1939():
    # psych::fa(x, nfactors = 4, fm = "minres"): max communality .9965 (x7, uniqueness at the
    # .005 bound); fm = "ml": .995 (x5); fm = "pa": R stops ("imaginary eigen value condition")
    x = data_for("hs1939")
    mr = pm.efa(x, 4)
    assert mr.heywood == ["x7"]
    assert mr.communalities.max() == pytest.approx(0.9965442, abs=TOL)
    assert pm.efa(x, 4, method="ml").heywood == ["x5"]
    with pytest.raises(PsychometricsError, match="'method' parameter of efa is 'pa'") as err:
        pm.efa(x, 4, method="pa")
    assert err.value.code == "pa-failed"
