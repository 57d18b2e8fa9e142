"""One guard for every output path (issue 14, class 6): ``score --out``/``--log`` and
``validate --out`` are checked BEFORE any work, each refusal a coded error (exit 2), never a
traceback after the work and never an input overwritten."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from instrument.files import OutputError, check_output
from instrument.scoring import score_command
from instrument.validation import validate_command

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples" / "returned"
SPEC = ROOT / "data_samples" / "form_member.yaml"
CLEAN = SAMPLES / "member_R101_fr.xlsx"


def console() -> Console:
    return Console(file=io.StringIO(), width=200)


@pytest.fixture
def inputs(tmp_path) -> Path:
    folder = tmp_path / "returned"
    folder.mkdir()
    shutil.copy(CLEAN, folder / "R101.xlsx")
    return folder


def _score(inputs, out, log=None):
    c = console()
    code = score_command([inputs], form=SPEC, out=out, log=log, jobs=1, console=c)
    return code, c.file.getvalue()


@pytest.mark.parametrize(("make_out", "code"), [
    (lambda t, i: i / "R101.xlsx", "output-is-input"),          # overwrote the input workbook
    (lambda t, i: i / "scores.csv", "output-in-input-folder"),  # read as a return by the next run
    (lambda t, i: t / "scores.txt", "bad-output-suffix"),       # traceback after the work
    (lambda t, i: t / "a-file" / "scores.csv", "output-parent-not-folder"),
    (lambda t, i: Path("/proc/intangibles-no/scores.csv"), "output-not-writable"),  # read-only, even for root
    (lambda t, i: t, "output-is-folder"),
])
def test_score_refuses_a_bad_out_before_reading_anything(tmp_path, inputs, make_out, code, monkeypatch):
    (tmp_path / "a-file").write_text("x")
    before = (inputs / "R101.xlsx").read_bytes()
    import instrument.scoring as scoring

    monkeypatch.setattr(scoring, "read_returns", lambda *a, **k: pytest.fail("the files were read first"))
    status, text = _score(inputs, make_out(tmp_path, inputs))
    assert status == 2 and f"{code}: " in text and "Traceback" not in text, text
    assert (inputs / "R101.xlsx").read_bytes() == before


def test_score_out_equal_to_log_is_refused(tmp_path, inputs):
    status, text = _score(inputs, tmp_path / "s.csv", log=tmp_path / "s.csv")
    assert status == 2 and "output-collision: " in text
    assert not (tmp_path / "s.csv").exists()


def test_validate_refuses_a_file_or_read_only_out(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b\n1,2\n2,1\n")
    keys = tmp_path / "k.json"
    keys.write_text('{"scales": {"S": ["a", "b"]}}')
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    for out, code in ((taken, "output-not-folder"), (Path("/proc/intangibles-no"), "output-not-writable"),
                      (tmp_path, "output-is-input")):
        c = console()
        assert validate_command(data, keys=keys, out=out, console=c) == 2
        assert f"{code}: " in c.file.getvalue(), c.file.getvalue()
    assert taken.read_text() == "not a folder"


def test_check_output_accepts_ordinary_paths(tmp_path):
    assert check_output(tmp_path / "new" / "deeper" / "scores.xlsx", inputs=[CLEAN], suffixes=(".xlsx",))
    assert check_output(tmp_path / "report", inputs=[CLEAN], folder=True)
    with pytest.raises(OutputError):
        check_output(CLEAN, inputs=[CLEAN])
