"""What the commands print on the console reads in French first, then English, as their
``--help`` does: each line ``français / English`` (or, when the pair does not fit in 80
columns, the English on the next line starting with ``/ ``), the French with its spaces
before ``: ; ! ?``. Run through the CLI on the small sample of returned files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from instrument.cli import app
from instrument.typography import bilingual

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples" / "returned"
SPEC = ROOT / "data_samples" / "form_member.yaml"


def pairs(output: str, tmp: Path) -> list[tuple[str, str]]:
    """The printed lines as (French, English), file paths replaced by ``<path>``; an
    English continuation line (``/ ...``) joined to the French line above it."""
    text = output.replace(str(tmp), "<path>")
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.strip().startswith("/ ") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.strip())
    out = []
    for line in lines:
        assert " / " in line, f"no French / English pair: {line!r}"
        fr, en = line.split(" / ", 1)
        out.append((fr, en))
    return out


def check(fr: str, en: str) -> None:
    assert re.search(r"[A-Za-zÀ-ÿ]", fr) and re.search(r"[A-Za-z]", en), (fr, en)
    assert fr != en, fr
    # French: a (no-break) space before : ; ! ?, the decimal comma; English: neither
    assert not re.search(r"(?<![\u00a0\u202f])[:;!?](?=\s|$)", fr), fr
    assert not re.search(r"\d\.\d", fr) and not re.search(r"\d,\d", en), (fr, en)
    assert not re.search(r"[\u00a0\u202f][:;!?]", en), en


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """What score, validate and feedback print on the sample (and a bad --lang, an output
    over an input)."""
    tmp = tmp_path_factory.mktemp("console")
    scores = tmp / "scores.xlsx"
    mine = tmp / "mine.csv"
    shutil.copy(SAMPLES / "expected.csv", mine)
    runs = {
        "score": ["score", str(SAMPLES), "--form", str(SPEC), "--out", str(scores), "--jobs", "1"],
        "validate": ["validate", str(scores), "--form", str(SPEC), "--out", str(tmp / "report")],
        "feedback": ["feedback", str(scores), "--form", str(SPEC), "--by", "consortium_id",
                     "--out", str(tmp / "feedback")],
        "bad-lang": ["feedback", str(scores), "--form", str(SPEC), "--out", str(tmp / "f"),
                     "--lang", "de"],
        "over-input": ["score", str(mine), "--form", str(SPEC), "--out", str(mine)],
    }
    results = {}
    for name, args in runs.items():
        result = CliRunner().invoke(app, args)
        assert result.exit_code == (2 if name in ("bad-lang", "over-input") else 0), result.output
        results[name] = result.output
    return tmp, results


@pytest.mark.parametrize("command", ["score", "validate", "feedback", "bad-lang", "over-input"])
def test_each_printed_line_is_french_then_english(printed, command):
    tmp, results = printed
    found = pairs(results[command], tmp)
    assert found, results[command]
    for fr, en in found:
        check(fr, en)


def test_the_sums_are_said_in_both_languages(printed):
    tmp, results = printed
    score = " ".join(results["score"].split())
    assert "17 fichier(s) = 11 coté(s) + 6 rejeté(s)" in score
    assert "/ 17 file(s) in = 11 scored + 6 rejected;" in score
    assert f"Journal / Log: {tmp / 'scores-log.csv'}" in results["score"]
    assert "Validation de 14 échelle(s), 40 items" in results["validate"]
    assert "masqué(s)" in results["feedback"] and "suppressed" in results["feedback"]
    assert results["over-input"].startswith("erreur / error: ") and "output-is-input" in results["over-input"]


def test_bilingual_keeps_a_pair_within_80_columns():
    assert bilingual("Prêt?", "Ready ?") == "Prêt\u202f? / Ready?"
    assert bilingual("Journal", "Log", tail=": /a/b.csv") == "Journal / Log: /a/b.csv"
    long = bilingual("x" * 50, "y" * 40, indent="  ", tail=" -> p")
    assert long == "  " + "x" * 50 + "\n  / " + "y" * 40 + " -> p"


@pytest.mark.parametrize("command", ["score", "validate", "simulate"])
def test_a_form_problem_keeps_its_bracketed_item(tmp_path, command):
    """The problems of a broken form are printed as text: rich markup took ``[zzzz9]`` for a
    style and dropped it."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.read_text(encoding="utf-8").replace("lepri5", "zzzz9"), encoding="utf-8")
    args = {"score": ["score", str(tmp_path / "x.csv"), "--out", str(tmp_path / "y.csv")],
            "validate": ["validate", str(tmp_path / "x.csv"), "--out", str(tmp_path / "r")],
            "simulate": ["simulate", str(bad), "--n", "3", "--out", str(tmp_path / "s")]}[command]
    if command != "simulate":
        (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
        args += ["--form", str(bad)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "[zzzz9]: unknown-item" in result.output, result.output
