"""The roster question on the survey platforms: the XLSForm select_multiple and per-organization
pages, LimeSurvey's multiple choice + filtered arrays, REDCap's checkbox + matrices, and the
readers of their response exports, which give back the same ties table as the answers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from instrument import platforms
from instrument.collaboration import ties_from_responses
from instrument.form import load_form
from instrument.returns import read_returns
from instrument.simulate import context_codes, simulate

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "data_samples" / "form_network.yaml"
TIE = ["from", "to", "frequency", "trust", "value"]


@pytest.fixture(scope="module")
def form():
    return load_form(SPEC)


@pytest.fixture(scope="module")
def sample(form):
    return simulate(form, 12, seed=5)


def tie_rows(ties: pd.DataFrame) -> list[tuple]:
    return sorted(tuple(None if pd.isna(v) else v for v in row) for row in ties[TIE].itertuples(index=False))


@pytest.mark.parametrize(("source", "variant"), [(s, v) for s in platforms.SOURCES for v in platforms.module(s).VARIANTS])
def test_every_platform_export_gives_back_the_ties(tmp_path, form, sample, source, variant):
    expected, _ = ties_from_responses(context_codes(form, sample.responses), form.network)
    assert len(expected) > 10
    suffix = ".xlsx" if variant == "xlsx" else ".csv"
    path = platforms.write_export(form, sample.responses, tmp_path / f"export{suffix}", source, variant)
    returns = read_returns([path], form, jobs=1)
    assert returns.n_scored == 1, returns.log().to_string()
    assert not [p for p in returns.problems if p.code in ("unmapped-column", "missing-item", "unknown-organization")]
    ties, problems = ties_from_responses(returns.responses, form.network)
    assert tie_rows(ties) == tie_rows(expected)
    assert not [p.code for p in problems]  # the simulated answers hold no self-tie nor another organization


def test_xlsform_roster_is_a_select_multiple_with_pages_per_organization(form):

    from instrument.export import xlsform

    survey = xlsform.rows(form)["survey"]
    by_name = {r["name"]: r for r in survey}
    assert by_name["net_with"]["type"] == "select_multiple ctx_net_self"
    assert by_name["net_with"]["constraint"] == "not(selected(., ${net_self}))"
    assert by_name["net_cdc"]["type"] == "begin_group"
    assert by_name["net_cdc"]["relevant"] == "selected(${net_with}, '4')"
    assert by_name["net_cdc_trust"]["type"] == "select_one net_trust"
    assert "net_cdc_with" not in by_name  # asked once, for every organization, by net_with


def test_xlsform_roster_converts_with_pyxform(tmp_path, form):
    from pyxform.xls2xform import convert

    from instrument.export import xlsform

    path = xlsform.write(form, tmp_path / "network.xlsx")[0]
    warnings: list = []
    xml = convert(str(path), warnings=warnings).xform
    assert warnings == []
    assert '<select ref="/data/network/net_with"' in xml
    assert "selected( /data/network/net_with , '4')" in xml
    assert 'constraint="not(selected(.,  /data/network/net_self ))"' in xml


def test_limesurvey_roster_is_a_multiple_choice_and_filtered_arrays(form):
    from instrument.export import limesurvey

    rows = [r for r in limesurvey.rows(form) if r.get("language") == "fr"]
    questions = {r["name"]: r for r in rows if r["class"] == "Q"}
    assert questions["netwith"]["type/scale"] == "M"
    assert {questions[q]["array_filter"] for q in ("netfreq", "nettrust", "netvalue")} == {"netwith"}
    self_hidden = [r["relevance"] for r in rows if r["class"] == "SQ" and r.get("qid", "").endswith("_with")]
    assert self_hidden[3] == "netself.NAOK != 4"


def test_redcap_roster_is_a_checkbox_and_matrices(tmp_path, form):
    from instrument.export import redcap

    redcap.write(form, tmp_path / "r.csv", lang="fr")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8"))))
    by_name = {r["Variable / Field Name"]: r for r in rows}
    assert by_name["net_with"]["Field Type"] == "checkbox"
    assert by_name["net_with"]["Choices, Calculations, OR Slider Labels"].startswith("1, Centre intégré")
    trust = [r for r in rows if r["Matrix Group Name"] == "net_trust"]
    assert len(trust) == 6 and trust[3]["Branching Logic (Show field only if...)"] == "[net_with(4)] = '1'"
    assert trust[3]["Field Label"] == "Corporation de développement communautaire (confiance)"
    assert set(rows[0]) == set(redcap.COLUMNS)


def test_platform_problems_are_coded(tmp_path, form, sample):
    """An organization checked that is not listed, an organization checked as its own
    partner, and a respondent answering for another organization than the one assigned."""
    frame = sample.responses.copy()
    frame.loc[0, "net_cdc_with"] = 1                     # R1 answers for ...
    frame.loc[0, "net_self"] = 4                         # ... CDC and checks CDC: a self-tie
    frame.loc[0, "organization_id"] = "CDC"
    frame.loc[1, "organization_id"] = "VILLE"            # R2 was assigned VILLE
    frame.loc[1, "net_self"] = 2                         # but answers for CSS
    path = platforms.write_export(form, frame, tmp_path / "kobo.csv", "kobo", "csv-comma")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    header = next(csv.reader([lines[0]]))
    cells = next(csv.reader([lines[3]]))
    cells[header.index("net_with")] = "1 99"             # R3 checked an organization not listed
    lines[3] = ",".join(f'"{c}"' for c in cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    returns = read_returns([path], form, jobs=1)
    unknown = [p for p in returns.problems if p.code == "unknown-organization"]
    assert len(unknown) == 1 and unknown[0].item == "net_with" and "'99'" in unknown[0].message
    assert unknown[0].cell == "row 4"
    ties, problems = ties_from_responses(returns.responses, form.network)
    codes = [p.code for p in problems]
    assert codes.count("self-tie") == 1 and codes.count("answering-for-another") == 1
    r3 = ties[ties.respondent == returns.responses.respondent[2]]
    assert r3["to"].tolist() == ["CISSS"]                # the listed one kept
    r2 = ties[ties.respondent == returns.responses.respondent[1]]
    assert set(r2["from"]) <= {"VILLE"}                  # ties stay with the assigned organization


def test_kobo_label_export_with_summary_column_only(tmp_path, form, sample):
    """Kobo's "summary" layout for select_multiple: one column of labels separated by spaces
    (labels hold spaces too): cut back into whole organization names."""
    path = platforms.write_export(form, sample.responses, tmp_path / "k.csv", "kobo", "labels-fr")
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    split = [c for c in frame.columns if c.count("/") == 2 and c.startswith("Vos collaborations/")]
    assert len(split) == 6
    frame.drop(columns=split).to_csv(path, sep=";", index=False, quoting=csv.QUOTE_ALL)
    returns = read_returns([path], form, jobs=1)
    ties, _ = ties_from_responses(returns.responses, form.network)
    expected, _ = ties_from_responses(context_codes(form, sample.responses), form.network)
    assert tie_rows(ties) == tie_rows(expected)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_paper_roster_is_one_line_per_organization(form, lang):
    from instrument.export import printed

    data = printed.template_data(form, lang=lang)
    assert [q["letter"] for q in data["context_questions"]] == ["A", "B", "C", "D"]  # no per-organization questions
    table = data["roster"]
    assert table["letter"] == "E" and len(table["organizations"]) == 6
    assert [len(sc["choices"]) for sc in table["scales"]] == [4, 4, 4]
    html = printed.render(form, lang=lang)
    body = html.split('class="roster-grid"')[1].split("</table>")[0]
    assert body.count("<tr") == 2 + 6 and body.count('class="box') == 6 * (2 + 12)
    assert ("Oui" if lang == "fr" else "Yes") in body


def test_workbook_letters_go_on_past_z(form):
    from instrument.export.common import question_letter
    from instrument.export.xlsx import build_workbook

    assert [question_letter(i) for i in (0, 25, 26, 27, 51, 52)] == ["A", "Z", "AA", "AB", "AZ", "BA"]
    sheet = build_workbook(form, lang="fr", version="A", respondent="X")["Questionnaire"]
    letters = [r[0].value for r in sheet.iter_rows(min_row=5, max_row=32)]
    assert letters[-2:] == ["AA", "AB"] and "27" not in letters


@pytest.mark.tool
def test_xlsform_roster_passes_odk_validate(tmp_path, form):
    import shutil

    from pyxform.xls2xform import convert

    from instrument.export import xlsform

    if shutil.which("java") is None:
        pytest.skip("Java is not installed (ODK Validate needs it)")
    path = xlsform.write(form, tmp_path / "network.xlsx")[0]
    warnings: list = []
    convert(str(path), warnings=warnings, validate=True)  # raises on an invalid form
    assert not [w for w in warnings if "Error" in w]


@pytest.mark.parametrize("keep_summary", [True, False])
def test_odk_central_split_select_multiple_columns(tmp_path, form, sample, keep_summary):
    """Central's "split select multiple choices into columns": ``network-net_with/1``... (1
    chosen, else 0), beside the space-separated column or, here, without it too."""
    path = platforms.write_export(form, sample.responses, tmp_path / "odk.csv", "odk", "central")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    at = frame.columns.get_loc("network-net_with") + 1
    for k in range(6, 0, -1):
        frame.insert(at, f"network-net_with/{k}", [str(int(str(k) in v.split())) for v in frame["network-net_with"]])
    if not keep_summary:
        frame = frame.drop(columns="network-net_with")
    frame.to_csv(path, index=False)
    returns = read_returns([path], form, jobs=1)
    assert not [p for p in returns.problems if p.code in ("unmapped-column", "ambiguous-column")]
    ties, _ = ties_from_responses(returns.responses, form.network)
    expected, _ = ties_from_responses(context_codes(form, sample.responses), form.network)
    assert tie_rows(ties) == tie_rows(expected)
