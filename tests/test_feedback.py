"""Consortium feedback reports (issue 17): numbers, small cells, files, both languages.

The golden data are ../shared/reference/nested/nested_dev.csv (539 people in 24 consortia,
three roles) with its keys file; the demo's form exercises constructs, facets and levels.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REF
from typer.testing import CliRunner

import psychometrics as pm
from instrument import feedback as fb
from instrument import feedback_report as fr
from instrument.cli import app

NESTED = REF / "nested"


@pytest.fixture(scope="module")
def nested(ref_dir):
    data = pd.read_csv(NESTED / "nested_dev.csv")
    return data, fb.study_from_keys(NESTED / "keys_nested_dev.json")


def test_profile_means_are_the_means_of_the_respondents_scores(nested):
    data, study = nested
    table = fb.profile(data, study, "consortium")
    scores = pm.score(data, study.keys, low=1, high=5, counts=False)
    expected = scores.groupby(data["consortium"]).mean()
    for row in table.itertuples():
        assert row.mean == pytest.approx(expected.loc[row.group, row.scale], abs=1e-12)
    counts = scores.notna().groupby(data["consortium"]).sum()
    assert (table.set_index(["group", "scale"])["n"] == counts.stack().reindex(
        table.set_index(["group", "scale"]).index)).all()


def test_ci_and_share_agree(nested):
    data, study = nested
    table = fb.profile(data, study, "consortium").set_index(["group", "scale"])
    score = pm.score(data, study.keys, low=1, high=5, counts=False)["TRU"][data["consortium"] == "C01"].dropna()
    from scipy import stats

    half = stats.t.ppf(0.975, len(score) - 1) * score.std() / np.sqrt(len(score))
    row = table.loc[("C01", "TRU")]
    assert row["ci_low"] == pytest.approx(score.mean() - half, abs=1e-12)
    assert row["ci_high"] == pytest.approx(score.mean() + half, abs=1e-12)
    assert row["share_agree"] == pytest.approx((score >= 4).mean(), abs=1e-12)
    assert 0 <= row["rwg_j"] <= 1


def test_positions_only_with_five_consortia_and_never_named(nested):
    data, study = nested
    table = fb.profile(data, study, "consortium")
    four = sorted(table["group"].unique())[:4]
    assert fb.positions(table, four).empty
    where = fb.positions(table, sorted(table["group"].unique()))
    assert set(where.columns) >= {"percentile", "q0", "q2", "q4"}
    assert where["percentile"].between(0, 1).all()
    top = table[table["scale"] == "TRU"].sort_values("mean").iloc[-1]["group"]
    assert where.set_index(["group", "scale"]).loc[(top, "TRU"), "percentile"] == 1.0


def test_role_counts_merge_small_roles():
    roles = pd.Series(["member"] * 7 + ["colleague"] * 3 + ["nonmember"] * 1)
    assert fb.role_counts(roles, 5) == [("member", 7), ("other", None)]
    assert fb.role_counts(pd.Series(["a"] * 5 + ["b"] * 3 + ["c"] * 2), 5) == [("a", 5), ("other", 5)]


def test_slug_is_safe_and_unique_without_case():
    taken: set = set()
    assert fb.slug("../etc/passwd", taken) == "etc_passwd"
    assert fb.slug("C01", taken) == "C01"
    assert fb.slug("c01", taken) == "c01-2"


@pytest.mark.slow
def test_command_on_nested_data_writes_every_file(nested, tmp_path):
    out = tmp_path / "fb"
    result = CliRunner().invoke(app, ["feedback", str(NESTED / "nested_dev.csv"), "--keys",
                                      str(NESTED / "keys_nested_dev.json"), "--by", "consortium",
                                      "--out", str(out), "--min-group", "26", "--lang", "en"])
    assert result.exit_code == 0, result.output
    data, study = nested
    sizes = data["consortium"].value_counts()
    scores = pm.score(data, study.keys, low=1, high=5, counts=False).groupby(data["consortium"]).mean()
    for code, n in sizes.items():
        summary = json.loads((out / code / "summary.json").read_text(encoding="utf-8"))
        assert summary["n"] == n
        if n < 26:
            assert summary["suppressed"] and not (out / code / "feedback.pdf").exists()
            page = (out / code / "feedback.html").read_text(encoding="utf-8")
            assert "<table" not in page and "<svg" not in page and "scales" not in summary
            continue
        for scale, entry in summary["scales"].items():
            assert entry["mean"] == pytest.approx(scores.loc[code, scale], abs=1e-12)
            assert entry["percentile"] is not None
        assert (out / code / "feedback.pdf").read_bytes().startswith(b"%PDF")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "fewer than 26 respondents" in index
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["consortium"]) == set(sizes.index)


def test_french_page_has_decimal_commas_and_no_english(nested, tmp_path):
    data, study = nested
    views = fr.build_views(data, study, "consortium", lang="fr", min_group=5)
    html = fr.render(views[0], lang="fr", study=study, min_group=5)
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", html, flags=re.S)  # SVG <text> kept
    assert "Ce que votre consortium en retire" in html
    assert not any(w in text.split() for w in ("the", "and", "Mean", "Agree"))
    assert re.findall(r"(?<![\d.])\d+\.\d+(?![\d.])", text) == []  # 0.1.0 (a version) is not a number
    assert re.findall(r"(?<![\d.])\d+,\d+(?![\d.])", text)


def test_small_cells_and_typed_text_never_shown(tmp_path, nested):
    data, study = nested
    data = data.copy()
    data["consortium"] = np.where(data.index < 4, "<script>alert(1)</script>", data["consortium"])
    views = fr.build_views(data, study, "consortium", lang="en", min_group=5)
    bad = next(v for v in views if v["code"].startswith("<script"))
    assert bad["suppressed"]
    html = fr.render(bad, lang="en", study=study, min_group=5)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_bad_by_column_is_a_clear_error(tmp_path, ref_dir):
    result = CliRunner().invoke(app, ["feedback", str(NESTED / "nested_dev.csv"), "--keys",
                                      str(NESTED / "keys_nested_dev.json"), "--by", "consortia",
                                      "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "no column 'consortia'" in result.output
