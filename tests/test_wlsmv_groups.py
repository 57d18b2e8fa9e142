"""Multi-group WLSMV (pm.cfa and pm.sem with ``group=`` and ``estimator="WLSMV"``) against
lavaan 0.6-14's default for ordered items in groups (delta parameterization, thresholds
free per group, scale factors 1, intercepts and latent means 0).

Expected numbers: ``tests/reference/sem/make_wlsmv_groups_reference.R`` (wlsmv_groups.json)
on chain.csv split in two groups (alternate rows):

- ``cfa``: ``cfa(model, data = d, group = "g", ordered = items, estimator = "WLSMV")``;
- ``sem``: the chain with labels shared by both groups (``ORG ~ a*IND`` ...: equality
  constraints, as lavaan warns) and ``ind_usr := a*b*c``, by ``sem(...)``;

each ``fitMeasures`` (chisq, scaled chisq, CFI/TLI/RMSEA and their scaled versions, SRMR,
baselines) and ``parameterEstimates(fit, standardized = TRUE)`` (estimates, robust SEs,
thresholds per group, std.all). Tolerances (issue 12): WLSMV scaled chi-square 2e-2
relative, CFI/TLI/RMSEA 2e-2, the rest 1e-3 (observed agreement ~1e-7).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm

HERE = Path(__file__).parent / "reference" / "sem"
REF = json.loads((HERE / "wlsmv_groups.json").read_text())


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(HERE / "chain.csv")
    return d.assign(g=np.resize(["a", "b"], len(d)))


def _check_fit(fit, ref):
    for key, value in ref.items():
        got = fit[key.replace(".", "_")]
        if key.startswith("chisq"):
            assert got == pytest.approx(value, rel=2e-2), key
        elif key.split(".")[0] in ("cfi", "tli", "rmsea"):
            assert got == pytest.approx(value, abs=2e-2), key
        else:
            assert got == pytest.approx(value, rel=1e-3, abs=1e-3), key
    # the same at the tolerance of the ML references (observed ~1e-7)
    for key in ("chisq.scaled", "cfi.scaled", "rmsea.scaled"):
        assert fit[key.replace(".", "_")] == pytest.approx(ref[key], abs=1e-3), key


def _check_estimates(res, ref):
    # R: parameterEstimates(fit, standardized = TRUE): every row (thresholds, scale
    #    factors, fixed intercepts in both groups, the defined parameter) is one of ours
    expected = pd.DataFrame(ref).rename(columns=lambda c: c.replace(".", "_"))
    expected["rhs"] = expected["rhs"].fillna("")
    ours = res.estimates
    assert len(ours) == len(expected)
    for row in expected.to_dict("records"):
        if row["op"] == ":=":
            got = ours[ours["lhs"] == row["lhs"]].iloc[0]
        else:
            group = ["a", "b"][int(row["group"]) - 1]
            got = ours[(ours["lhs"] == row["lhs"]) & (ours["op"] == row["op"])
                       & (ours["rhs"] == row["rhs"]) & (ours["group"] == group)].iloc[0]
        for col in ("est", "se", "ci_lower", "ci_upper", "std_all"):
            assert got[col] == pytest.approx(row[col], abs=1e-3), (row["lhs"], row["op"], row["rhs"], col)


def test_cfa_in_two_groups(data):
    res = pm.sem(data, REF["cfa"]["model"], estimator="WLSMV", group="g")
    assert res.converged and res.warnings == () and res.groups == ("a", "b")
    _check_fit(res.fit, REF["cfa"]["fit"])
    _check_estimates(res, REF["cfa"]["estimates"])


def test_pm_cfa_front_door(data):
    # pm.cfa(group=, estimator="WLSMV"): the same fit, std.all loadings per group
    res = pm.cfa(data, REF["cfa"]["model"], estimator="WLSMV", group="g")
    _check_fit(res.fit, REF["cfa"]["fit"])
    expected = pd.DataFrame(REF["cfa"]["estimates"]).query("op == '=~'")
    for row in expected.to_dict("records"):
        group = ["a", "b"][int(row["group"]) - 1]
        assert res.loadings.loc[(group, row["rhs"]), row["lhs"]] == pytest.approx(row["std.all"], abs=1e-3)


def test_sem_with_labels_shared_by_the_groups(data):
    res = pm.sem(data, REF["sem"]["model"], estimator="WLSMV", group="g")
    assert res.converged and res.warnings == ()
    _check_fit(res.fit, REF["sem"]["fit"])
    _check_estimates(res, REF["sem"]["estimates"])


def test_cfa_estimates_are_shaped_like_sem_ones(data):
    # R: parameterEstimates(cfa(...), standardized = TRUE): pm.cfa's .estimates has lavaan's
    #    columns; its rows (loadings, variances, thresholds per group) match lavaan's CIs
    res = pm.cfa(data, REF["cfa"]["model"], estimator="WLSMV", group="g")
    assert list(res.estimates.columns) == ["lhs", "op", "rhs", "group", "label", "est", "se", "z",
                                          "pvalue", "ci_lower", "ci_upper", "std_all"]
    expected = pd.DataFrame(REF["cfa"]["estimates"]).rename(columns=lambda c: c.replace(".", "_"))
    ours = res.estimates.set_index(["lhs", "op", "rhs", "group"])
    checked = 0
    for row in expected.query("op in ['=~', '~~', '|']").to_dict("records"):
        key = (row["lhs"], row["op"], row["rhs"], ["a", "b"][int(row["group"]) - 1])
        if key in ours.index:
            for col in ("est", "se", "ci_lower", "ci_upper", "std_all"):
                assert ours.loc[key, col] == pytest.approx(row[col], abs=1e-3), (key, col)
            checked += 1
    assert checked == len(ours)
    # ML: the same rows as pm.sem on the same measurement model
    ml = pm.cfa(data.drop(columns="g"), REF["cfa"]["model"]).estimates
    sem = pm.sem(data.drop(columns="g"), REF["cfa"]["model"]).estimates
    pd.testing.assert_frame_equal(ml.reset_index(drop=True), sem.iloc[: len(ml)].reset_index(drop=True),
                                  check_dtype=False)


def test_a_category_empty_in_one_group_is_refused(data):
    # R: lavaan refuses it too ("some categories of variable `IND1' are empty in group 2")
    from psychometrics.errors import PsychometricsError

    d = data.copy()
    d.loc[(d["g"] == "b") & (d["IND1"] == 1), "IND1"] = 2
    with pytest.raises(PsychometricsError) as e:
        pm.cfa(d, REF["cfa"]["model"], estimator="WLSMV", group="g")
    assert e.value.code == "empty-category" and "'IND1'" in str(e.value) and "'b'" in str(e.value)
