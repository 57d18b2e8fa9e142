"""Simulated people nested in organizations nested in consortia (``Design.consortium_icc``,
``Design.organization_icc``): the planted shares come back from ``pm.variance_split``, the
nesting is clean, and the default design still draws the samples it drew before."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from instrument.form import load_form
from instrument.resources import samples_dir
from instrument.simulate import Design, simulate

LEVELS = ["organization_id", "consortium_id"]
#: 60 consortia of 5 organizations, 3,000 people (10 per organization, 50 per consortium);
#: no blanks or missing codes, so that every score is complete.
NESTED = Design(consortium_icc=0.10, organization_icc=0.10, consortia=60, organizations=5,
                missing=0, dont_know=0, not_applicable=0)


def _form(name):
    return load_form(samples_dir() / f"{name}.yaml")


@pytest.fixture(scope="module")
def nested():
    form = _form("form_colleague")  # asks organization_id and consortium_id
    return form, simulate(form, 3000, seed=11, design=NESTED)


def test_default_design_draws_the_same_samples_as_before():
    """Design() without nesting draws exactly the random numbers it drew before nesting
    existed: the sha256 of each sample's CSV was computed on main at c6a3417 (before the
    change), so every test that pins a simulated value keeps it."""
    before = {
        "form_member": "c3626b568ab93f92063a5439f506c7cf97da8cd9ff48c6ae20d3390d06ac5c3b",
        "form_colleague": "997581ab8d5d3a4dd64a3c382209a12d9fcb0d0fae493f4fb7976a959b015e20",
        "form_network": "08a0f580aa4eb321abd981207a76ed56fa417c5d3d3bee54d4cb2f09ddcd8bab",
    }
    for name, digest in before.items():
        r = simulate(_form(name), 120, seed=2026).responses
        assert hashlib.sha256(r.to_csv(index=False).encode()).hexdigest() == digest, name
    r = simulate(_form("form_colleague"), 120, seed=2026).responses
    assert list(r["organization_id"][:3]) == ["C01", "C05", "C03"]
    assert list(r["consortium_id"][:3]) == ["C04", "C02", "C05"]
    assert list(r["drtii6"][:3]) == [3, 1, 3]


def test_organizations_are_nested_in_consortia(nested):
    _, sample = nested
    r = sample.responses
    assert r.groupby("organization_id")["consortium_id"].nunique().max() == 1
    assert r["consortium_id"].nunique() == 60 and r["organization_id"].nunique() == 300
    assert set(r["consortium_id"]) == {f"C{k:02d}" for k in range(1, 61)}
    assert r.groupby("consortium_id")["organization_id"].nunique().eq(5).all()
    # the person part is scaled down: each factor's total variance stays 1
    assert sample.factors.var().between(0.9, 1.1).all()
    assert list(sample.factors.index) == list(r["respondent"])


def test_planted_shares_come_back_on_the_latent_scale(nested):
    """The true factor scores: REML recovers the planted shares. With 60 consortia a
    consortium share has a standard error of about .10 x sqrt(2 / 59) = .02 per facet; the
    facets' mean is tested (facets of a construct share their effects, so it is not much
    more precise)."""
    _, sample = nested
    latent = sample.factors.assign(**{lv: sample.responses[lv].to_numpy() for lv in LEVELS})
    keys = {"scales": {f: [f] for f in sample.factors.columns}}
    split = pm.variance_split(latent, keys, LEVELS, low=-10, high=10)
    assert split["converged"].all() and (split["n"] == 3000).all()
    assert split["share_consortium_id"].mean() == pytest.approx(0.10, abs=0.03)
    assert split["share_organization_id"].mean() == pytest.approx(0.10, abs=0.03)
    assert split["share_consortium_id"].between(0.03, 0.20).all()
    assert split["share_organization_id"].between(0.04, 0.18).all()


def test_facet_scores_show_the_shares_attenuated(nested):
    """The facet scores (means of 4-6 answers in five categories) carry the consortium and
    organization effects through the factor only: score = a·eta + e with e independent of
    the clusters, so a score's share is the factor's share times the score's reliability
    a² / var(score), about its omega (.85 to .92 here). Categorization makes the score a
    slightly non-linear function of eta, so the ratio comes out a little under omega
    (.86 against .89 on three seeds). Compared on the same sample, the random effects'
    draw cancels out."""
    form, sample = nested
    r = sample.responses
    facets = list(sample.factors.columns)
    keyed = form.keys()["scales"]
    keys = {"scales": {f: keyed[f] for f in facets}}
    observed = pm.variance_split(r, keys, LEVELS, low=1, high=5)
    latent = pm.variance_split(sample.factors.assign(**{lv: r[lv].to_numpy() for lv in LEVELS}),
                               {"scales": {f: [f] for f in facets}}, LEVELS, low=-10, high=10)
    x = pm.reverse_key(r, keys, 1, 5)
    omega = pd.Series({f: pm.omega(x[[k.lstrip("-") for k in keyed[f]]]).omega_total for f in facets})
    for level in LEVELS:
        ratio = observed[f"share_{level}"] / latent[f"share_{level}"]
        assert ratio.between(0.6, 1.1).all(), (level, ratio.round(2).to_dict())
        assert ratio.mean() < omega.mean()
        assert ratio.mean() == pytest.approx(omega.mean(), abs=0.07), level


def test_roster_form_draws_its_organizations():
    """With the roster question, the organizations are the roster's: ``net_self`` is drawn
    first, and ``organization_id`` follows it as in the platforms' exports."""
    form = _form("form_network")
    sample = simulate(form, 400, seed=3, design=Design(organization_icc=0.3))
    r = sample.responses
    codes = form.network.codes
    assert list(r["organization_id"]) == [codes[int(k) - 1] for k in r["net_self"]]
    for k, code in enumerate(codes, start=1):
        assert (r.loc[r["net_self"] == k, f"net_{code.lower()}_with"] == 0).all()
    means = sample.factors.groupby(r["organization_id"].to_numpy()).mean()
    assert means.var().mean() > 0.05  # the organizations differ (a third of the variance planted)


def test_consortium_only_form_and_other_seeds_of_the_same_design():
    form = _form("form_member")  # consortium_id only (text): C01..C05
    a = simulate(form, 200, seed=5, design=Design(consortium_icc=0.2))
    assert set(a.responses["consortium_id"]) == {f"C{k:02d}" for k in range(1, 6)}
    b = simulate(form, 200, seed=5, design=Design(consortium_icc=0.2))
    pd.testing.assert_frame_equal(a.responses, b.responses)  # same seed, same sample
    default = simulate(form, 200, seed=5)
    assert not np.array_equal(a.responses["consortium_id"], default.responses["consortium_id"])


@pytest.mark.parametrize("bad", [dict(consortium_icc=-0.1), dict(consortium_icc=0.6, organization_icc=0.4),
                                 dict(organization_icc=1.0), dict(consortium_icc=0.1, consortia=0),
                                 dict(organization_icc=0.1, organizations=0)])
def test_impossible_shares_are_refused(bad):
    with pytest.raises(ValueError, match="parameters of Design"):
        simulate(_form("form_member"), 10, design=Design(**bad))
