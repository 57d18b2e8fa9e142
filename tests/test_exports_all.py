"""Every exporter of the registry on the sample spec, and the ``form build`` command."""

from __future__ import annotations

import importlib
import io
import sys
import types
import zipfile
from pathlib import Path

import pytest
from _form_fixtures import GOOD_SPEC, make_bank, write_spec
from rich.console import Console

from instrument.export import build as build_module
from instrument.export.build import FORMATS, build, build_command, parse_formats, read_roster
from instrument.export.common import file_name
from instrument.form import load_form

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "form_member.yaml"
ROSTER = Path(__file__).resolve().parents[1] / "data_samples" / "roster_member.csv"
MODULES = {
    "print": "printed",
    "pdf": "pdf",
    "xlsx": "xlsx",
    "grid": "grid",
    "xlsform": "xlsform",
    "limesurvey": "limesurvey",
    "redcap": "redcap",
    "codebook": "codebook",
}


def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=250, color_system=None), buffer


@pytest.fixture(scope="module")
def sample():
    return load_form(SAMPLE)


@pytest.fixture
def test_bank(monkeypatch):
    """Make load_form use the small test bank (the error paths do not depend on the shipped one)."""
    bank = make_bank()
    stub = types.ModuleType("instrument.bank")
    stub.load_bank = lambda *a, **k: bank
    monkeypatch.setitem(sys.modules, "instrument.bank", stub)
    return bank


def test_the_registry_covers_the_command_line_formats():
    from instrument.cli import FORMATS as CLI_FORMATS

    assert list(FORMATS) == list(CLI_FORMATS)
    assert set(MODULES) == set(FORMATS)


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_exporter_on_the_sample_spec(name, sample, tmp_path):
    importlib.import_module(f"instrument.export.{MODULES[name]}")
    written = build(sample, tmp_path, [name])
    files = written[name]
    assert files, name
    for path in files:
        assert path.parent == tmp_path and path.stat().st_size > 200, path
        assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file
    per_language = {"print", "pdf", "xlsx", "grid", "redcap"}
    if name in per_language:
        for lang in sample.languages:
            assert (tmp_path / file_name(sample, name, lang=lang)).exists()
    if name in ("print", "pdf", "xlsx", "grid"):  # counterbalanced: a B file per language
        for lang in sample.languages:
            assert (tmp_path / file_name(sample, name, lang=lang, version="B")).exists()
    if name in ("xlsx", "grid", "xlsform"):
        for path in files:
            assert zipfile.is_zipfile(path)
    if name == "pdf":
        assert all(p.read_bytes().startswith(b"%PDF") for p in files)
    if name == "codebook":
        assert (tmp_path / "codebook.json").exists()


def test_form_build_writes_everything_and_prints_a_table(sample, tmp_path):
    out = tmp_path / "out" / "nested"
    con, buffer = console()
    code = build_command(SAMPLE, out, "xlsx,grid,xlsform,limesurvey,redcap", respondents=ROSTER, console=con)
    text = buffer.getvalue()
    assert code == 0, text
    expected = {
        "member_fr.xlsx", "member_fr_B.xlsx", "member_en.xlsx", "member_en_B.xlsx",
        "member_grid_fr.xlsx", "member_grid_fr_B.xlsx", "member_grid_en.xlsx", "member_grid_en_B.xlsx",
        "member_xlsform.xlsx", "member_limesurvey.txt", "member_redcap_fr.csv", "member_redcap_en.csv",
    }  # fmt: skip
    assert {p.name for p in out.iterdir() if p.is_file()} == expected
    for name in expected:
        assert name in text
    personal = sorted(p.name for p in (out / "respondents").iterdir())
    # M001-M005 in their language, M006 (no language) in both
    assert personal == sorted(
        ["member_M001_fr.xlsx", "member_M002_fr.xlsx", "member_M003_en.xlsx", "member_M004_en.xlsx",
         "member_M005_fr.xlsx", "member_M006_fr.xlsx", "member_M006_en.xlsx"]
    )  # fmt: skip
    import openpyxl

    meta = dict(openpyxl.load_workbook(out / "respondents" / "member_M002_fr.xlsx")["_meta"].iter_rows(values_only=True))
    assert meta["respondent"] == "M002" and meta["order_version"] == "B"
    assert "19 file(s) written" in text


def test_unknown_format_is_bad_usage(tmp_path):
    con, buffer = console()
    assert build_command(SAMPLE, tmp_path, "xlsx,docx", console=con) == 2
    text = buffer.getvalue()
    assert "'docx'" in text and "xlsform" in text and "limesurvey" in text
    assert not any(tmp_path.iterdir())
    with pytest.raises(ValueError, match="docx"):
        parse_formats("docx")
    assert parse_formats(" XLSX , grid,xlsx") == ["xlsx", "grid"]
    assert parse_formats("") == list(FORMATS)


def test_unknown_paper_is_bad_usage(tmp_path):
    con, buffer = console()
    assert build_command(SAMPLE, tmp_path, "xlsx", paper="A3", console=con) == 2
    assert "A4" in buffer.getvalue()


def test_spec_problems_are_listed_with_file_and_line(tmp_path, test_bank):
    spec = write_spec(tmp_path, GOOD_SPEC.replace("id: demo", "id: Demo!").replace("order: grouped", "order: random"))
    con, buffer = console()
    assert build_command(spec, tmp_path / "out", "xlsx", console=con) == 1
    text = buffer.getvalue()
    assert "invalid-form-id" in text and f"{spec}:1" in text
    assert "^[a-z][a-z0-9_]{0,30}$" in text  # messages are printed as they are (no markup)
    assert "invalid-order" in text and f"{spec}:19" in text
    assert "2 problem(s)" in text
    assert not (tmp_path / "out").exists()


def test_roster_problems_are_listed_with_their_lines(tmp_path, test_bank):
    spec = write_spec(tmp_path)
    roster = tmp_path / "roster.csv"
    roster.write_text("respondent;language\nR1;fr\nmarie.tremblay@example.org;fr\nR1;en\nR2;de\n\nR3;\n", encoding="utf-8")
    con, buffer = console()
    assert build_command(spec, tmp_path / "out", "xlsx", respondents=roster, console=con) == 1
    text = buffer.getvalue()
    assert f"invalid-respondent-code  {roster}:3" in text
    assert f"duplicate-respondent  {roster}:4" in text and "line 2" in text
    assert f"unknown-language  {roster}:5" in text
    assert not (tmp_path / "out").exists()


def test_read_roster(tmp_path, test_bank):
    form = load_form(write_spec(tmp_path), bank=test_bank)
    roster = tmp_path / "r.csv"
    roster.write_text("\ufeffRespondent,version\nA1,\nA2,b\nA3,\n", encoding="utf-8")
    entries, problems = read_roster(roster, form)
    assert problems == []
    assert [(e.respondent, e.version, e.languages, e.line) for e in entries] == [
        ("A1", "A", ("fr", "en"), 2),
        ("A2", "B", ("fr", "en"), 3),
        ("A3", "A", ("fr", "en"), 4),
    ]
    missing = tmp_path / "m.csv"
    missing.write_text("code\nA1\n", encoding="utf-8")
    assert [p.code for p in read_roster(missing, form)[1]] == ["missing-column"]
    # codes differing only by case would name files that collide on Windows and macOS (issue 14)
    cased = tmp_path / "c.csv"
    cased.write_text("respondent\nR0001\nr0001\n", encoding="utf-8")
    entries, problems = read_roster(cased, form)
    assert [e.respondent for e in entries] == ["R0001"] and [(p.code, p.line) for p in problems] == [
        ("duplicate-respondent", 3)]


def test_registry_entries_are_writers(tmp_path, test_bank):
    form = load_form(write_spec(tmp_path), bank=test_bank)
    written = build_module.FORMATS["limesurvey"](form, tmp_path, "A4")
    assert [p.name for p in written] == ["demo_limesurvey.txt"]
