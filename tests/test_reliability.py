"""Reliability against R's psych / semTools on the three reference data sets.

Expected numbers come from ../shared/reference/ref_<name>.json (make_reference.R) and
tests/reference/reliability_extra.json (tests/reference/make_reliability_reference.R);
the R call is written beside each comparison. Data: listwise rows on items and group
columns, reverse-keyed items recoded max + min - x (conftest.load_reference).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import DATASETS, load_reference

import psychometrics as pm
from psychometrics.errors import PsychometricsError
from psychometrics.reliability import _batch_one_factor, _minres

EXTRA = Path(__file__).resolve().parent / "reference" / "reliability_extra.json"


def _scales(cfg):
    return {s: [k.lstrip("-") for k in keys] for s, keys in cfg["scales"].items()}


def _scale_cases():
    cases = []
    for name in DATASETS:
        # scale names are read lazily in the test; list the known ones here
        scales = {
            "bfi": ["agree", "consc", "extra", "neuro", "open"],
            "hs1939": ["visual", "textual", "speed"],
            "consortium_dev": ["TRU", "SOC", "LRN", "LEG"],
        }[name]
        cases += [(name, s) for s in scales]
    return cases


@pytest.fixture(scope="module")
def extra():
    return json.loads(EXTRA.read_text())


@pytest.fixture(scope="module")
def data():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = load_reference(name)
        return cache[name]

    return get


@pytest.mark.parametrize(("name", "scale"), _scale_cases())
def test_alpha_matches_psych(data, name, scale):
    _raw, cfg, ref, x = data(name)
    cols = _scales(cfg)[scale]
    rr = ref["reliability"][scale]
    a = pm.alpha(x[cols])
    assert a.n == ref["n_complete"] == len(x)
    # a <- psych::alpha(x[, keys], check.keys = FALSE)
    assert a.alpha == pytest.approx(rr["alpha"], abs=1e-6)  # a$total$raw_alpha
    assert a.std_alpha == pytest.approx(rr["std_alpha"], abs=1e-6)  # a$total$std.alpha
    assert a.g6 == pytest.approx(rr["g6"], abs=1e-6)  # a$total[["G6(smc)"]]
    assert a.average_r == pytest.approx(rr["average_r"], abs=1e-6)  # a$total$average_r
    assert a.ci_low == pytest.approx(rr["feldt_lower"], abs=1e-6)  # a$feldt$lower.ci$raw_alpha
    assert a.ci_high == pytest.approx(rr["feldt_upper"], abs=1e-6)  # a$feldt$upper.ci$raw_alpha
    assert list(a.items.index) == cols
    # a$item.stats$r.drop
    expected = pd.Series(rr["item_rest_r"])[cols]
    np.testing.assert_allclose(a.items["item_rest_r"], expected, atol=1e-6)
    # a$alpha.drop$raw_alpha
    expected = pd.Series(rr["alpha_if_deleted"])[cols]
    np.testing.assert_allclose(a.items["alpha_if_deleted"], expected, atol=1e-6)


@pytest.mark.parametrize(("name", "scale"), _scale_cases())
def test_alpha_item_details_match_psych(data, extra, name, scale):
    _raw, cfg, _ref, x = data(name)
    cols = _scales(cfg)[scale]
    d = extra[name]["alpha_details"][scale]
    items = pm.alpha(x[cols]).items
    pairs = [
        ("item_total_r", "raw_r"),  # a$item.stats$raw.r
        ("std_r", "std_r"),  # a$item.stats$std.r
        ("r_cor", "r_cor"),  # a$item.stats$r.cor
        ("std_alpha_if_deleted", "std_alpha_if_deleted"),  # a$alpha.drop$std.alpha
        ("g6_if_deleted", "g6_if_deleted"),  # a$alpha.drop[["G6(smc)"]]
        ("average_r_if_deleted", "average_r_if_deleted"),  # a$alpha.drop$average_r
        ("sd", "item_sd"),  # a$item.stats$sd
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(items[ours], d[theirs], atol=1e-6, err_msg=ours)


@pytest.mark.parametrize(("name", "scale"), _scale_cases())
def test_omega_total_matches_psych_and_semtools(data, name, scale):
    _raw, cfg, ref, x = data(name)
    cols = _scales(cfg)[scale]
    rr = ref["reliability"][scale]
    om = pm.omega(x[cols])
    assert om.n == ref["n_complete"]
    # psych::omega(x[, keys], nfactors = 1, fm = "minres")$omega.tot
    assert om.omega_total == pytest.approx(rr["omega_total_psych"], abs=1e-4)
    # semTools::compRelSEM(lavaan::cfa("F =~ ...", data = x[, keys], std.lv = TRUE))
    assert om.omega_cfa == pytest.approx(rr["omega_cfa"], abs=1e-4)
    assert np.isnan(om.omega_h)
    assert list(om.loadings.index) == cols
    assert (om.loadings["g"] > 0).all()


@pytest.mark.parametrize("name", DATASETS)
def test_omega_hierarchical_matches_psych(data, extra, name):
    _raw, cfg, _ref, x = data(name)
    e = extra[name]
    nf = cfg["nfactors"]
    om = pm.omega(x, n_groups=nf)
    # psych::omega(x, nfactors = nf, fm = "minres")  (oblimin, Schmid-Leiman)
    assert om.omega_h == pytest.approx(e["omega_oblimin"]["omega_h"], abs=1e-4)  # $omega_h
    assert om.omega_total == pytest.approx(e["omega_oblimin"]["omega_total"], abs=1e-4)  # $omega.tot
    np.testing.assert_allclose(om.loadings["g"], e["omega_oblimin"]["g"], atol=1e-3)  # $schmid$sl[, 1]
    assert om.n_factors == nf and om.rotation == "oblimin"
    # psych::omega(x, nfactors = nf, fm = "minres", rotate = "target", keys = <items x scales 0/1>)
    ot = pm.omega(x, facets=_scales(cfg))
    assert ot.omega_h == pytest.approx(e["omega_target"]["omega_h"], abs=1e-4)
    assert ot.omega_total == pytest.approx(e["omega_target"]["omega_total"], abs=1e-4)
    np.testing.assert_allclose(ot.loadings["g"], e["omega_target"]["g"], atol=1e-3)
    assert list(ot.groups.index) == ["g", *[f"{s}*" for s in cfg["scales"]]]


def test_omega_two_group_factors_matches_psych(data, extra):
    _raw, _cfg, _ref, x = data("hs1939")
    om = pm.omega(x.iloc[:, :6], n_groups=2)
    e = extra["hs1939_two_factors"]
    # psych::omega(x[, 1:6], nfactors = 2, fm = "minres")  (general loadings set equal)
    assert om.omega_h == pytest.approx(e["omega_h"], abs=1e-4)
    assert om.omega_total == pytest.approx(e["omega_total"], abs=1e-4)


@pytest.mark.parametrize(("name", "scale"), [c for c in _scale_cases() if c[0] != "hs1939"])
def test_ordinal_reliability_matches_psych(data, extra, name, scale):
    _raw, cfg, _ref, x = data(name)
    cols = _scales(cfg)[scale]
    d = extra[name]["alpha_details"][scale]
    o = pm.ordinal_reliability(x[cols])
    # pc <- psych::polychoric(x[, keys], correct = 0)$rho; psych::alpha(pc)$total$raw_alpha
    assert o.alpha == pytest.approx(d["ordinal_alpha"], abs=1e-4)
    # psych::omega(pc, nfactors = 1, fm = "minres")$omega.tot
    assert o.omega_total == pytest.approx(d["ordinal_omega"], abs=1e-4)
    assert o.n == len(x)
    # ordinal alpha exceeds Pearson alpha on Likert items (attenuation of Pearson r)
    assert o.alpha > pm.alpha(x[cols]).std_alpha


def test_alpha_ci_level_and_pairwise():
    rng = np.random.default_rng(3)
    f = rng.normal(size=400)
    x = pd.DataFrame({f"i{j}": f + rng.normal(size=400) for j in range(5)})
    a95, a80 = pm.alpha(x), pm.alpha(x, ci=0.80)
    assert a80.ci_low > a95.ci_low and a80.ci_high < a95.ci_high
    assert a95.ci_low < a95.alpha < a95.ci_high
    # pairwise on complete data is the same as listwise
    assert pm.alpha(x, missing="pairwise").alpha == pytest.approx(a95.alpha, abs=1e-12)
    y = x.copy()
    y.iloc[:50, 0] = np.nan
    assert pm.alpha(y).n == 350
    assert pm.alpha(y, missing="pairwise").n == 400
    assert "alpha" in a95.summary()


def test_bootstrap_matches_unbatched_estimates(data):
    _raw, cfg, _ref, x = data("consortium_dev")
    scales = _scales(cfg)
    b = pm.bootstrap_reliability(
        x, n_boot=200, seed=11, scales=scales, statistics=("alpha", "std_alpha", "omega")
    )
    assert b.n == len(x) and b.n_boot == 200
    assert b.replicates.shape == (200, 12)
    # the resamples are rng.integers(0, n, (n_boot, n)) with numpy's default_rng(seed)
    idx = np.random.default_rng(11).integers(0, len(x), size=(200, len(x)))
    for i in (0, 7, 123):
        xs = x.iloc[idx[i]]
        for s in ("TRU", "LEG"):
            cols = scales[s]
            assert b.replicates[(s, "alpha")].iloc[i] == pytest.approx(pm.alpha(xs[cols]).alpha, abs=1e-10)
            assert b.replicates[(s, "std_alpha")].iloc[i] == pytest.approx(
                pm.alpha(xs[cols]).std_alpha, abs=1e-10)
            # batched principal-axis omega vs the unbatched minres omega
            assert b.replicates[(s, "omega")].iloc[i] == pytest.approx(
                pm.omega(xs[cols]).omega_total, abs=1e-6)
    for s in scales:
        row = b.table.loc[(s, "alpha")]
        assert row["estimate"] == pytest.approx(pm.alpha(x[scales[s]]).alpha, abs=1e-12)
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
        assert row["bca_low"] < row["estimate"] < row["bca_high"]
        # percentile interval close to Feldt's for a large sample
        a = pm.alpha(x[scales[s]])
        assert row["ci_low"] == pytest.approx(a.ci_low, abs=0.01)
        assert row["ci_high"] == pytest.approx(a.ci_high, abs=0.01)
        om = b.table.loc[(s, "omega")]
        assert om["estimate"] == pytest.approx(pm.omega(x[scales[s]]).omega_total, abs=1e-8)


def test_bootstrap_is_reproducible_and_single_scale():
    rng = np.random.default_rng(0)
    f = rng.normal(size=150)
    x = pd.DataFrame({f"i{j}": np.round(f + rng.normal(size=150)) for j in range(4)})
    b1 = pm.bootstrap_reliability(x, n_boot=50, seed=5)
    b2 = pm.bootstrap_reliability(x, n_boot=50, seed=5)
    pd.testing.assert_frame_equal(b1.table, b2.table)
    assert list(b1.table.index) == [("scale", "alpha"), ("scale", "omega")]
    # jackknife acceleration: BCa uses leave-one-out covariances; check them directly
    from psychometrics.reliability import _jackknife_covs

    jc = _jackknife_covs(x.to_numpy())
    np.testing.assert_allclose(jc[17], np.cov(x.drop(index=17).to_numpy(), rowvar=False), atol=1e-12)
    assert "Bootstrap" in b1.summary()


def test_batched_one_factor_equals_minres():
    rng = np.random.default_rng(2)
    mats = []
    for _ in range(6):
        lam = rng.uniform(0.3, 0.85, 7)
        r = np.outer(lam, lam)
        np.fill_diagonal(r, 1.0)
        sample = rng.multivariate_normal(np.zeros(7), r, size=300)
        mats.append(np.corrcoef(sample, rowvar=False))
    stack = np.stack(mats)
    # start from the loadings of the average matrix, as the bootstrap starts from the full sample
    lam0, psi0 = _minres(stack.mean(axis=0), 1)
    psi = _batch_one_factor(stack, lam0[:, 0], psi0)
    for i, r in enumerate(mats):
        _, u2 = _minres(r, 1)
        np.testing.assert_allclose(psi[i], u2, atol=1e-6)


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda: pm.alpha([[1, 2], [2, 3]]), "not-a-dataframe"),
        (lambda: pm.alpha(pd.DataFrame({"a": [1, 2, 3, 4]})), "too-few-items"),
        (lambda: pm.alpha(pd.DataFrame({"a": [1, 2, 3, 4], "b": [3, 3, 3, 3]})), "constant-item"),
        (lambda: pm.alpha(pd.DataFrame({"a": [1, 2], "b": [2, 1]})), "too-few-rows"),
        (lambda: pm.alpha(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "1", "2"]})), "non-numeric"),
        (lambda: pm.alpha(pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]}), ci=1.5), "invalid-value"),
        (lambda: pm.alpha(pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]}), missing="x"), "invalid-option"),
        (lambda: pm.omega(pd.DataFrame({"a": [1.0, np.nan, 3, 4], "b": [2, 1, np.nan, 4]})), "too-few-rows"),
        (lambda: pm.bootstrap_reliability(pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]}), n_boot=1), "invalid-value"),
        (lambda: pm.bootstrap_reliability(pd.DataFrame({"a": [1, 2, 3], "b": [2, 1, 3]}), statistics=("kappa",)), "invalid-option"),
    ],
)
def test_bad_input_raises_with_code(call, code):
    with pytest.raises(PsychometricsError) as err:
        call()
    assert err.value.code == code


def test_error_messages_name_the_column():
    with pytest.raises(PsychometricsError, match=r"'b'.*'x'"):
        pm.alpha(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "1", "2"]}))
    with pytest.raises(PsychometricsError, match=r"column 'b'.*single value 3"):
        pm.alpha(pd.DataFrame({"a": [1, 2, 3, 4], "b": [3, 3, 3, 3]}))
    with pytest.raises(PsychometricsError, match="'items' parameter of alpha"):
        pm.alpha(pd.DataFrame({"a": [1, 2, 3, 4]}))


def test_omega_facets_checks():
    x = pd.DataFrame(np.random.default_rng(1).normal(size=(50, 4)), columns=list("abcd"))
    with pytest.raises(PsychometricsError) as err:
        pm.omega(x, facets={"f": ["a", "b"], "g": ["c", "zz"]})
    assert err.value.code == "missing-column"
    with pytest.raises(PsychometricsError, match="every item"):
        pm.omega(x, facets={"f": ["a", "b"], "g": ["c"]})
    with pytest.raises(PsychometricsError) as err:
        pm.omega(x, n_groups=2, facets={"f": ["a", "b"], "g": ["c", "d"]})
    assert err.value.code == "invalid-option"
