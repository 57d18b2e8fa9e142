"""``intangibles aggregate``: group scores in every output format, small groups suppressed."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from instrument.cli import app
from tests.conftest import REF

NESTED = REF / "nested"


@pytest.fixture(scope="module")
def scores(tmp_path_factory):
    if not NESTED.is_dir():
        pytest.skip(f"shared nested reference not found at {NESTED}")
    import psychometrics as pm

    data = pd.read_csv(NESTED / "nested_dev.csv")
    keys = json.loads((NESTED / "keys_nested_dev.json").read_text())
    s = pm.score(data, keys["scales"], low=1, high=5)
    table = pd.concat([data[["respondent", "org", "consortium", "role"]], s], axis=1)
    path = tmp_path_factory.mktemp("agg") / "scores.csv"
    table.to_csv(path, index=False)
    return path, table


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav", ".parquet"])
def test_aggregate_every_format(tmp_path, scores, suffix):
    path, table = scores
    out = tmp_path / f"orgs{suffix}"
    res = CliRunner().invoke(app, ["aggregate", str(path), "--by", "org", "--keys",
                                   str(NESTED / "keys_nested_dev.json"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_excel(out, engine="calamine") if suffix == ".xlsx" else (
        pd.read_parquet(out) if suffix == ".parquet" else
        pd.read_spss(out) if suffix == ".sav" else pd.read_csv(out))
    assert len(got) == table["org"].nunique()
    shown = got[got["n"].notna()]
    o = shown.iloc[0]
    people = table[table["org"] == o["org"]]
    assert o["TRU_mean"] == pytest.approx(people["TRU"].mean())
    assert o["n"] == len(people) >= 5
    assert {"TRU_rwg", "TRU_awg", "TRU_ad", "TRU_sd"} <= set(got.columns)
    hidden = got[got["n"].isna()]
    assert len(hidden) == (table["org"].value_counts() < 5).sum()
    assert hidden["TRU_mean"].isna().all()


def test_aggregate_consortium_and_bad_usage(tmp_path, scores):
    path, _ = scores
    out = tmp_path / "c.csv"
    res = CliRunner().invoke(app, ["aggregate", str(path), "--by", "consortium", "--scales",
                                   "TRU,SOC", "--out", str(out), "--min-size", "10"])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    assert "LRN_mean" not in got and "TRU_rwg" not in got  # no range given: no agreement
    res = CliRunner().invoke(app, ["aggregate", str(path), "--by", "team", "--out", str(out)])
    assert res.exit_code == 1 and "team" in res.output
    res = CliRunner().invoke(app, ["aggregate", str(path), "--by", "org", "--out", str(path)])
    assert res.exit_code == 2 and "output-is-input" in res.output
    assert path.read_text().startswith("respondent")
    # a missing scores file: its coded error, not a traceback
    res = CliRunner().invoke(app, ["aggregate", str(tmp_path / "none.csv"), "--by", "org",
                                   "--out", str(out)])
    assert res.exit_code == 1 and "erreur / error: missing-file: " in res.output, res.output
