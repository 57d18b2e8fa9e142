"""The roster question (instrument.collaboration): spec, exports, read back into ties."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from instrument.collaboration import question_ids, ties_from_responses
from instrument.form import FormError, load_form

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "data_samples" / "form_network.yaml"


@pytest.fixture(scope="module")
def form():
    return load_form(SPEC)


def test_spec_adds_the_roster_questions(form):
    ids = [q.id for q in form.context_block]
    assert ids[:4] == ["sector", "organization_id", "respondent_role", "net_self"]
    assert ids[4:8] == ["net_cisss_with", "net_cisss_freq", "net_cisss_trust", "net_cisss_value"]
    assert len(ids) == 4 + 4 * 6 and form.network.codes[-1] == "MAISON"
    with_ = form.context_block[4]
    assert with_.label["fr"].startswith("Au cours des 12 derniers mois, votre organisation")
    assert [c.code for c in with_.choices] == [1, 0]
    assert [c.name for c in form.context_block[3].choices] == list(form.network.codes)
    assert all(len(i) <= 26 for i in ids)   # REDCap's variable name limit


def spec_with(tmp_path, orgs: str, network: str | None = None) -> Path:
    (tmp_path / "orgs.csv").write_text(orgs, encoding="utf-8")
    text = SPEC.read_text(encoding="utf-8").split("network:")[0]
    text += network or 'network:\n  organizations: orgs.csv\n  period: {fr: "En 2025", en: "In 2025"}\n'
    (tmp_path / "f.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "f.yaml"


@pytest.mark.parametrize(
    ("orgs", "code"),
    [
        ("code,name\nA1,Alpha\na1,Alpha bis\n", "duplicate-organization"),
        ("code,name\n1A,Alpha\n", "invalid-organization-code"),
        ("code,name\nA1,\n", "missing-translation"),
        ("code,name\n", "invalid-value"),
    ],
)
def test_bad_organization_lists_are_coded(tmp_path, orgs, code):
    with pytest.raises(FormError) as e:
        load_form(spec_with(tmp_path, orgs))
    assert code in {p.code for p in e.value.problems}


def test_missing_period_and_file(tmp_path):
    with pytest.raises(FormError) as e:
        load_form(spec_with(tmp_path, "code,name\nA,B\n", "network:\n  organizations: nope.csv\n"))
    assert "missing-translation" in {p.code for p in e.value.problems}
    net = 'network:\n  organizations: nope.csv\n  period: "2025"\n'
    with pytest.raises(FormError) as e:
        load_form(spec_with(tmp_path, "code,name\nA,B\n", net))
    assert "unreadable-file" in {p.code for p in e.value.problems}


def test_every_export_carries_it(tmp_path, form):
    from pyxform.xls2xform import convert

    from instrument.export import codebook, limesurvey, redcap, xlsform

    xlsform.write(form, tmp_path / "f.xlsx")
    xml = convert(str(tmp_path / "f.xlsx"), warnings=[]).xform
    assert 'nodeset="/data/net_self"' in xml or "/net_self" in xml
    assert "net_maison_value" in xml
    assert "relevant=\"selected( /data/network/net_with , '6')\"" in xml   # asked only if worked with
    redcap.write(form, tmp_path / "r.csv", lang="fr")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    names = {r["Variable / Field Name"] for r in rows}
    assert {"net_self", "net_with", "net_cdc_trust"} <= names
    branching = {r["Variable / Field Name"]: r["Branching Logic (Show field only if...)"] for r in rows}
    assert branching["net_cdc_trust"] == "[net_with(4)] = '1'" and branching["net_with"] == ""
    limesurvey.write(form, tmp_path / "l.txt")
    assert "\tCDC\tnetself.NAOK != 4\t" in (tmp_path / "l.txt").read_text(encoding="utf-8")
    codebook.write(form, tmp_path / "codebook.json")
    assert '"net_banque_freq"' in (tmp_path / "codebook.json").read_text(encoding="utf-8")


def test_ties_and_their_problems(form):
    ids = {c: question_ids(c) for c in form.network.codes}
    base = {"source_file": "f.xlsx"}
    rows = [
        {**base, "respondent": "R1", "net_self": 1, ids["CSS"]["with"]: 1, ids["CSS"]["trust"]: 4,
         ids["VILLE"]["with"]: 1, ids["CISSS"]["with"]: 1},                 # CISSS: self-tie
        {**base, "respondent": "R2", "net_self": None, ids["CSS"]["with"]: 1},   # unknown organization
        {**base, "respondent": "R3", "net_self": 2, ids["CDC"]["with"]: 0, ids["CDC"]["value"]: 3},
        {**base, "respondent": "R4", "net_self": "VILLE", ids["CDC"]["with"]: 1, ids["CDC"]["frequency"]: 2},
    ]
    ties, problems = ties_from_responses(pd.DataFrame(rows), form.network, assigned={"R4": "CDC"})
    codes = [p.code for p in problems]
    assert codes.count("self-tie") == 2 and codes.count("unknown-organization") == 1
    assert "ratings-without-tie" in codes and "answering-for-another" in codes
    # R4 answered for VILLE but was assigned CDC: its tie to CDC is then a self-tie too
    assert ties[["from", "to"]].values.tolist() == [["CISSS", "CSS"], ["CISSS", "VILLE"]]
    assert ties.loc[0, "trust"] == 4 and pd.isna(ties.loc[1, "trust"])


def test_score_writes_the_ties_table(tmp_path):
    from instrument.scoring import score_command
    from instrument.simulate import simulate_command

    spec = tmp_path / "network.yaml"
    shutil.copy(SPEC, spec)
    shutil.copy(SPEC.parent / "organizations.csv", tmp_path / "organizations.csv")
    console = Console(file=io.StringIO(), width=200)
    assert simulate_command(spec, n=6, out=tmp_path / "sim", seed=3, console=console) == 0
    out = tmp_path / "scores.csv"
    assert score_command([tmp_path / "sim"], form=spec, out=out, jobs=1, console=console) == 0
    ties = pd.read_csv(tmp_path / "scores-ties.csv", encoding="utf-8-sig")
    assert list(ties.columns) == ["from", "to", "frequency", "trust", "value", "respondent"]
    assert len(ties) > 0 and (ties["from"] != ties["to"]).all()
    assert set(ties["from"]) | set(ties["to"]) <= {"CISSS", "CSS", "VILLE", "CDC", "BANQUE", "MAISON"}


def test_organization_id_is_the_assigned_organization(form):
    ids = question_ids("CDC")
    rows = [{"respondent": "R1", "organization_id": "VILLE", "net_self": 1, ids["with"]: 1},
            {"respondent": "R2", "organization_id": "ZZZ", "net_self": 2, ids["with"]: 1}]
    ties, problems = ties_from_responses(pd.DataFrame(rows), form.network)
    assert ties[["from", "to"]].values.tolist() == [["VILLE", "CDC"], ["CSS", "CDC"]]
    assert [p.code for p in problems] == ["answering-for-another", "unknown-organization"]
    assert all(p.severity == "warning" for p in problems)


def test_limesurvey_relevance_is_the_same_in_every_language(tmp_path, form):
    """Relevance is the question's, not a translation: LimeSurvey's own exports repeat it on
    every language's row, so an importer reading any of them shows the same questions."""
    from instrument.export import limesurvey

    limesurvey.write(form, tmp_path / "l.txt")
    text = (tmp_path / "l.txt").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    seen: dict = {}
    for r in rows:
        if r["class"] in ("Q", "SQ") and r["language"]:
            seen.setdefault((r["class"], r["id"], r["name"]), set()).add(r["relevance"])
    assert seen and all(len(v) == 1 for v in seen.values())
    assert any(v != {"1"} for v in seen.values())  # the roster's own organization is hidden
