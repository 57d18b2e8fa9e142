"""`intangibles score`: the command on the sample returned files (output, log, the sum it prints)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from instrument.cli import app
from instrument.scoring import score_command

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples" / "returned"
SPEC = ROOT / "data_samples" / "form_member.yaml"
SUM_LINE = "17 file(s) in = 11 scored + 6 rejected; 15 respondent(s); 12 cell problem(s); 2 warning(s)."


def quiet_console(**kwargs) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, **kwargs), buf


@pytest.fixture(scope="module")
def expected_csv() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "expected.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("score") / "scores.csv"
    console, buf = quiet_console()
    code = score_command([SAMPLES], form=SPEC, out=out, jobs=1, console=console)
    return code, out, buf.getvalue()


def test_prints_files_in_equals_scored_plus_rejected(run, expected_csv):
    code, out, text = run
    assert code == 0
    assert SUM_LINE in text
    n_in, scored, rejected = len(expected_csv), (expected_csv["status"] != "rejected").sum(), (expected_csv["status"] == "rejected").sum()
    assert f"{n_in} file(s) in = {scored} scored + {rejected} rejected" in text
    assert f"Scores: {out}" in text and f"Log: {out.with_name('scores-log.csv')}" in text


def test_writes_one_row_per_respondent(run, expected_csv):
    _, out, _ = run
    scores = pd.read_csv(out, encoding="utf-8-sig")
    assert len(scores) == expected_csv["respondents"].astype(int).sum()
    assert {"trust", "trust_n", "drawback_time", "careless_flags"} <= set(scores.columns)
    assert scores["source_file"].map(lambda p: Path(p).name).isin(expected_csv["file"]).all()


def test_log_has_one_row_per_file_plus_one_per_problem(run, expected_csv):
    _, out, _ = run
    log = pd.read_csv(out.with_name("scores-log.csv"), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    files = log[log["respondents"] != ""]
    problems = log[log["respondents"] == ""]
    assert len(files) == len(expected_csv)
    by_name = dict(zip(files["file"].map(lambda p: Path(p).name), files["status"], strict=True))
    assert by_name == dict(zip(expected_csv["file"], expected_csv["status"], strict=True))
    for row in expected_csv.itertuples():
        mine = log[log["file"].map(lambda p: Path(p).name) == row.file]
        # a rejected file's reason is on its own row, never repeated on a problem row
        reason = set(mine.loc[(mine["respondents"] != "") & (mine["status"] == "rejected"), "code"])
        got = sorted(set(mine.loc[mine["respondents"] == "", "code"]) | reason)
        assert ";".join(got) == row.codes, row.file
        if row.status == "rejected":
            assert len(mine) == 1, mine
    assert len(problems) == 10 + 4  # refused cells + warnings


def test_explicit_log_and_xlsx_output(tmp_path):
    console, buf = quiet_console()
    out, log = tmp_path / "out" / "scores.xlsx", tmp_path / "journal [lot 1].csv"
    assert score_command([SAMPLES], form=SPEC, out=out, log=log, jobs=1, console=console) == 0
    assert log.exists() and f"Log: {log}" in buf.getvalue()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["data", "variables"] and wb["data"].max_row == 16


def test_broken_form_exits_1_and_names_the_problem(tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace("response_set: agree5", "response_set: agree99"), encoding="utf-8")
    console, buf = quiet_console()
    assert score_command([SAMPLES], form=spec, out=tmp_path / "s.csv", jobs=1, console=console) == 1
    assert "agree99" in buf.getvalue()
    assert not (tmp_path / "s.csv").exists()


def test_progress_bar_renders_in_a_terminal(tmp_path):
    console, buf = quiet_console(force_terminal=True)
    assert score_command([SAMPLES], form=SPEC, out=tmp_path / "s.csv", jobs=1, console=console) == 0
    text = buf.getvalue()
    assert "Lecture / reading" in text and "17/17" in text


def test_cli_score(tmp_path):
    out = tmp_path / "scores.parquet"
    result = CliRunner().invoke(
        app, ["score", str(SAMPLES), "--form", str(SPEC), "--out", str(out), "--jobs", "1", "--min-answered", "0.75"]
    )
    assert result.exit_code == 0, result.output
    assert "17 file(s) in = 11 scored + 6 rejected" in " ".join(result.output.split())
    scores = pd.read_parquet(out)
    assert len(scores) == 15 and scores["trust"].notna().sum() >= 10
