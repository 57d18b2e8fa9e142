"""The nested design in the instrument: role, organization and consortium as context
questions in every export, pre-filled from the roster, and carried through by ``score``."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from instrument.cli import app
from instrument.export.build import read_roster
from instrument.form import load_form
from instrument.model import item_roles

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "data_samples" / "form_colleague.yaml"
ROSTER = ROOT / "data_samples" / "roster_nested.csv"
NESTED_QUESTIONS = ("organization_id", "consortium_id", "respondent_role")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("colleague")
    res = CliRunner().invoke(app, ["form", "build", str(SPEC), "--out", str(out),
                                   "--format", "print,xlsx,grid,xlsform,limesurvey,redcap,codebook",
                                   "--respondents", str(ROSTER)])
    assert res.exit_code == 0, res.output
    return out


def _text(path: Path) -> str:
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist())
    return path.read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("name", ["colleague_fr.html", "colleague_fr.xlsx", "colleague_grid_fr.xlsx",
                                  "colleague_xlsform.xlsx", "colleague_redcap_fr.csv", "codebook.json"])
def test_every_export_asks_role_organization_consortium(built, name):
    text = _text(built / name)
    for q in NESTED_QUESTIONS:
        assert q in text, (name, q)


def test_limesurvey_asks_them_too(built):
    text = _text(built / "colleague_limesurvey.txt")
    assert "Code de votre organisme" in text and "votre lien avec le consortium" in text
    assert "Your organization's code" in text


def test_codebook_lists_the_roles(built):
    book = json.loads((built / "codebook.json").read_text())
    role = next(q for q in book["context_block"] if q["id"] == "respondent_role")
    assert [c["code"] for c in role["choices"]] == [1, 2, 3, 4, 5]
    assert "sans siéger" in role["choices"][1]["label"]["fr"]


def _cells(path: Path) -> tuple[openpyxl.Workbook, dict]:
    wb = openpyxl.load_workbook(path)
    meta = wb["_meta"]
    refs = {str(r[0].value)[5:]: r[1].value for r in meta.iter_rows() if str(r[0].value).startswith("cell:")}
    return wb, refs


def test_personalized_workbook_prefilled(built):
    wb, refs = _cells(built / "respondents" / "colleague_C001_fr.xlsx")
    ws = wb.worksheets[1]
    assert ws[refs["organization_id"]].value == "O001"
    assert ws[refs["consortium_id"]].value == "C01"
    assert ws[refs["respondent_role"]].value.startswith("2 - ")
    wb, refs = _cells(built / "respondents" / "colleague_C004_fr.xlsx")
    assert wb.worksheets[1][refs["respondent_role"]].value.startswith("3 - ")  # role given as its code


def test_score_carries_the_nested_columns(built, tmp_path):
    form = load_form(SPEC)
    src = built / "respondents" / "colleague_C003_fr.xlsx"
    wb, refs = _cells(src)
    ws = wb.worksheets[1]
    ws[refs["sector"]] = ws[refs["sector"]].value or "1 - Public"
    ws[refs["domain"]] = "1 - Santé"
    for i, item in enumerate(form.item_ids):
        ws[refs[item]] = i % 5 + 1
    returned = tmp_path / "returned.xlsx"
    wb.save(returned)
    out = tmp_path / "scores.csv"
    res = CliRunner().invoke(app, ["score", str(returned), "--form", str(SPEC), "--out", str(out)])
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(out)
    assert len(scores) == 1, res.output
    row = scores.iloc[0]
    assert row["organization_id"] == "O002" and row["consortium_id"] == "C01"
    assert int(row["respondent_role"]) == 1


def test_roster_refuses_an_unknown_role_and_a_bad_code(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("respondent,organization,consortium,role\nA1,O1,C1,mayor\nA2,Jean Dupont,C1,member\nA3,O3,C2,nonmember\n")
    entries, problems = read_roster(roster, load_form(SPEC))
    assert [p.code for p in problems] == ["unknown-role", "invalid-cluster-code"]
    assert [e.respondent for e in entries] == ["A3"]
    assert dict(entries[0].prefill) == {"organization_id": "O3", "consortium_id": "C2", "respondent_role": 3}


def test_a_colleague_form_asks_only_items_written_for_colleagues():
    form = load_form(SPEC)
    assert form.role == "colleague"
    assert all("colleague" in item_roles(it) for it in form.items)
    assert not {it.context for it in form.items} & {"since_joined"}
    individual = {it.id for it in form.items if it.level == "individual"}
    assert {"lesei6", "lepri6", "trcpi6", "scbri6", "lgeni6", "drtii6"} <= individual
    assert not individual & {"trcpi1", "lgcri1", "drtii1"}  # the members' own
    assert {it.construct for it in form.items} == {"trust", "social_capital", "learning", "legitimacy", "drawbacks"}
    assert all(form.bank.contexts[it.context].text["fr"] for it in form.items)


def test_a_nonmember_form_swaps_both_member_contexts():
    form = load_form(ROOT / "data_samples" / "form_nonmember.yaml")
    assert form.role == "nonmember"
    assert {it.level for it in form.items} == {"individual", "organization"}
    assert {it.context for it in form.items if it.level == "individual"} == {"nonmember_own_work"}
    assert {it.context for it in form.items if it.level == "organization"} == {"nonmember_org"}
    assert {it.construct for it in form.items} == {"trust", "social_capital", "learning", "legitimacy", "drawbacks"}


def _spec(tmp_path, extra: str) -> Path:
    text = SPEC.read_text(encoding="utf-8").replace("role: colleague\n", extra)
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_role_problems_are_coded(tmp_path):
    from instrument.form import FormError

    with pytest.raises(FormError) as e:
        load_form(_spec(tmp_path, "role: mayor\n"))
    assert "invalid-value" in {p.code for p in e.value.problems}
    spec = _spec(tmp_path, "role: nonmember\n").read_text(encoding="utf-8")
    spec = spec.replace("  levels: [individual, ecosystem]", "  items: [trcpi1]")
    (tmp_path / "spec.yaml").write_text(spec, encoding="utf-8")
    with pytest.raises(FormError) as e:
        load_form(tmp_path / "spec.yaml")
    assert "item-not-for-role" in {p.code for p in e.value.problems}


def test_member_forms_are_unchanged():
    form = load_form(ROOT / "data_samples" / "form_member.yaml")
    assert form.role == "member"
    assert "lesei6" not in form.item_ids and "lepri6" not in form.item_ids
    assert all("member" in item_roles(it) for it in form.items)  # no role variant reaches members
