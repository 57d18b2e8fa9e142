"""pm.contagion against lme4 and sna (R calls: tests/reference/contagion/make_contagion_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm

SHARED = Path("/work/shared/reference/nested")
REF = json.loads((Path(__file__).parent / "reference/contagion/contagion_dev.json").read_text())
pytestmark = pytest.mark.skipif(not SHARED.exists(), reason="shared reference data absent")


@pytest.fixture(scope="module")
def dev():
    data = pd.read_csv(SHARED / "nested_dev.csv")
    ties = pd.read_csv(SHARED / "ties_dev.csv")
    keys = json.loads((SHARED / "keys_nested_dev.json").read_text())
    return data, ties, keys


@pytest.fixture(scope="module")
def fit(dev):
    data, ties, keys = dev
    return pm.contagion(data, keys, role="role", cluster=["org", "consortium"], ties=ties)


@pytest.mark.parametrize("scale", ["TRU", "SOC", "LRN"])
def test_mixed_model_matches_lme4(fit, scale):
    ref = REF["mixed"][scale]  # lmer(score ~ role + (1 | consortium) + (1 | org)), REML
    v = fit.variances.loc[scale]
    assert v["var_org"] == pytest.approx(ref["var_org"], abs=1e-4)
    assert v["var_consortium"] == pytest.approx(ref["var_consortium"], abs=1e-4)
    assert v["var_residual"] == pytest.approx(ref["var_residual"], abs=1e-4)
    assert v["reml_loglik"] == pytest.approx(ref["reml_loglik"], abs=1e-4)
    for name, r in ref["contrasts"].items():  # L %*% fixef(f), Wald 95% interval
        got = fit.contrasts.loc[(scale, name)]
        for k in ("estimate", "se", "ci_low", "ci_high"):
            assert got[k] == pytest.approx(r[k], abs=1e-4), (name, k)
    for role, m in ref["means"].items():
        assert fit.means.loc[scale, role] == pytest.approx(m, abs=1e-10)


@pytest.mark.parametrize("scale", ["TRU", "SOC", "LRN"])
def test_lnam_per_scale_matches_sna(fit, scale):
    ref = REF["lnam"][scale]  # lnam(org means, cbind(1, member_org), W1 = row-normalized W)
    row = fit.lnam.loc[scale]
    assert row["rho1"] == pytest.approx(ref["rho1"], abs=1e-4)
    assert row["rho1_se"] == pytest.approx(ref["rho1_se"], abs=1e-4)
    assert row["n_orgs"] == REF["n_orgs"] and row["status"] == "ok"


def test_result_shape_and_json(fit):
    assert fit.levels == ("org", "consortium") and fit.notes == ()
    assert fit.roles.to_dict() == {"member": 170, "colleague": 186, "nonmember": 183}
    d = fit.to_dict()
    json.dumps(d, allow_nan=False)
    assert set(d["contrasts"]["TRU"]) == {
        "member_vs_nonmember",
        "colleague_vs_nonmember",
        "member_vs_colleague",
    }


def test_one_consortium_drops_that_level(dev):
    data, _, keys = dev
    one = data[data.consortium == data.consortium.iloc[0]].assign(consortium="C01")
    big = data[data.consortium.isin(sorted(data.consortium.unique())[:3])].assign(consortium="C")
    res = pm.contagion(pd.concat([one, big]).assign(consortium="C"), keys)
    assert res.levels == ("org",) and "single-group-level" in res.notes
    assert np.isfinite(res.contrasts["se"]).all()


def test_one_role_and_no_clusters(dev):
    data, _, keys = dev
    res = pm.contagion(data[data.role == "member"], keys, cluster=[])
    assert "one-role" in res.notes and "no-clusters" in res.notes
    assert res.contrasts.empty
    aliases = data.assign(role=data.role.replace({"nonmember": "Non-member"}))
    assert pm.contagion(aliases, keys, cluster=["org"]).roles["nonmember"] == 183


def test_ties_outside_data_and_no_ties(dev):
    data, ties, keys = dev
    extra = pd.concat([ties, pd.DataFrame({"from": ["O001"], "to": ["ZZZ"]})])
    res = pm.contagion(data, keys, cluster=["org"], ties=extra)
    assert "ties-outside-data" in res.notes
    res = pm.contagion(data, keys, cluster=["org"], ties=ties.iloc[:0])
    assert "no-ties" in res.notes and (res.lnam["status"] == "no-ties").all()


def test_bad_roles_are_coded(dev):
    data, _, keys = dev
    with pytest.raises(pm.PsychometricsError) as e:
        pm.contagion(data.assign(role="boss"), keys)
    assert e.value.code == "unknown-role" and "'boss'" in str(e.value)
    with pytest.raises(pm.PsychometricsError) as e:
        pm.contagion(data.drop(columns="role"), keys)
    assert e.value.code == "missing-column"


def test_summary_states_what_the_design_can_conclude(dev):
    from psychometrics.contagion import contagion_summary

    data, ties, keys = dev
    full = contagion_summary(data, keys, cluster=["org", "consortium"], ties=ties)
    assert full["design"] == {
        "can": ["role-differences", "partner-similarity"],
        "cannot": ["causal-effect", "direction-of-spread"],
    }
    assert full["n_groups"] == {"org": 123, "consortium": 24}
    json.dumps(full, allow_nan=False)
    members_only = contagion_summary(data[data.role != "nonmember"], keys, cluster=["org"])
    assert "no-comparison-group" in members_only["design"]["cannot"]
    assert "no-network-test" in members_only["design"]["cannot"]
    assert contagion_summary(data.drop(columns="role"), keys, cluster=["org"]) is None


def test_ties_without_roles(dev):
    from psychometrics.contagion import contagion_summary

    data, ties, keys = dev
    res = contagion_summary(data.drop(columns="role"), keys, cluster=["org"], ties=ties)
    assert "no-roles" in res["notes"] and res["contrasts"] == {}
    assert res["design"]["can"] == ["partner-similarity"]
    assert "no-role-comparison" in res["design"]["cannot"]
    assert set(res["lnam"]) == {"TRU", "SOC", "LRN"}


def test_validate_carries_contagion(dev):
    data, ties, keys = dev
    v = pm.validate(data, keys, ties=ties, n_boot=20, n_iter=20)
    c = v.results["contagion"]
    assert c["design"]["can"] == ["role-differences", "partner-similarity"]
    ref = REF["mixed"]["TRU"]["contrasts"]["member_vs_colleague"]
    assert c["contrasts"]["TRU"]["member_vs_colleague"]["estimate"] == pytest.approx(ref["estimate"], abs=1e-4)
    assert c["lnam"]["LRN"]["rho1"] == pytest.approx(REF["lnam"]["LRN"]["rho1"], abs=1e-4)
    without = pm.validate(data.drop(columns="role"), keys, n_boot=20, n_iter=20)
    assert "contagion" not in without.results


def test_role_column_fallbacks():
    from psychometrics.contagion import role_column

    assert role_column(pd.DataFrame(columns=["respondent_role", "x"])) == "respondent_role"
    assert role_column(pd.DataFrame(columns=["role", "respondent_role"])) == "role"
    assert role_column(pd.DataFrame(columns=["x"])) is None
    assert role_column(pd.DataFrame(columns=["x"]), "x") == "x"


def test_no_cluster_variance_is_a_boundary_fit_not_a_crash():
    """Answers without any organization or consortium effect (as data simulated from a form):
    lme4 ends on the boundary (variances 0, a 'singular' fit); so do we, and the contrasts
    are then those of the model without random effects (statsmodels' MixedLM stopped here
    with a singular matrix)."""
    rng = np.random.default_rng(3)
    org = rng.integers(0, 40, 300)
    data = pd.DataFrame({f"T{i}": rng.integers(1, 6, 300) for i in range(1, 5)})
    data = data.assign(org=org.astype(str), consortium=(org % 8).astype(str),
                       role=rng.choice(["member", "colleague", "nonmember"], 300))
    keys = {"scales": {"TRU": ["T1", "T2", "T3", "T4"]}, "min": 1, "max": 5}
    fit = pm.contagion(data, keys, role="role", cluster=["org", "consortium"])
    v = fit.variances.loc["TRU"]
    assert v["var_org"] == pytest.approx(0, abs=1e-8)
    assert v["var_consortium"] == pytest.approx(0, abs=1e-8)
    assert "not-converged" not in fit.notes
    flat = pm.contagion(data, keys, role="role", cluster=[])  # ordinary least squares
    got = fit.contrasts.loc["TRU", ["estimate", "se"]].to_numpy()
    assert np.allclose(got, flat.contrasts.loc["TRU", ["estimate", "se"]].to_numpy(), atol=1e-6)
