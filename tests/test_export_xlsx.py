"""The respondent workbook and the data-entry grid, read back with openpyxl (the contract)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from _form_fixtures import make_bank, write_spec
from openpyxl.utils import range_boundaries

from instrument.export import grid, xlsx
from instrument.export.common import STRINGS
from instrument.form import load_form
from instrument.model import Choice, ResponseSet
from instrument.typography import Typography

CONTRACT_KEYS = [
    "format",
    "format_version",
    "layout",
    "form_id",
    "form_version",
    "form_hash",
    "language",
    "order_version",
    "respondent",
    "answer_sheet",
    "items",
    "context",
]


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    return load_form(write_spec(tmp_path_factory.mktemp("spec")), bank=make_bank())


def meta_of(wb) -> list[tuple[str, str]]:
    ws = wb["_meta"]
    return [(r[0], "" if r[1] is None else str(r[1])) for r in ws.iter_rows(values_only=True)]


def validation_at(ws, ref: str):
    found = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
    assert len(found) == 1, (ref, found)
    return found[0]


def list_entries(wb, dv) -> list[str]:
    formula = dv.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, ref = formula.split("!")
    ws = wb[sheet.strip("'")]
    min_col, min_row, _max_col, max_row = range_boundaries(ref.replace("$", ""))
    return [ws.cell(row=r, column=min_col).value for r in range(min_row, max_row + 1)]


# ----------------------------------------------------------------------------- respondent workbook


def test_respondent_workbook_follows_the_contract(tmp_path, form):
    written = xlsx.write(form, tmp_path / "demo_fr.xlsx", lang="fr")
    assert [p.name for p in written] == ["demo_fr.xlsx", "demo_fr_B.xlsx"]
    wb = openpyxl.load_workbook(written[0])
    assert wb.sheetnames[:2] == ["Instructions", "Questionnaire"]
    assert wb["_meta"].sheet_state == "veryHidden"
    assert wb["_meta"].protection.sheet
    meta = meta_of(wb)
    keys = [k for k, _ in meta]
    assert keys[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    values = dict(meta)
    assert values["format"] == "intangibles-workbook" and values["format_version"] == "1"
    assert values["layout"] == "respondent"
    assert values["form_id"] == "demo" and values["form_version"] == "1.0" and values["form_hash"] == form.hash
    assert values["language"] == "fr" and values["order_version"] == "A" and values["respondent"] == ""
    assert values["answer_sheet"] == "Questionnaire"
    assert values["items"] == ",".join(form.versions["A"])
    assert values["context"] == "sector,years,consortium_id"
    cells = {k[5:]: v for k, v in meta if k.startswith("cell:")}
    assert list(cells) == ["sector", "years", "consortium_id", *form.versions["A"]]
    ws = wb["Questionnaire"]
    # each answer cell: on the item's row (its code in column B), unlocked, validated
    for item_id in form.versions["A"]:
        ref = cells[item_id]
        assert ws[ref].protection.locked is False
        row = ws[ref].row
        assert ws.cell(row=row, column=2).value == item_id
        assert ws.cell(row=row, column=3).value == Typography("fr").text(form.texts[item_id]["fr"])
        dv = validation_at(ws, ref)
        assert dv.type == "list" and dv.showErrorMessage and dv.errorStyle == "stop"
        assert dv.error == "Choisissez une des réponses de la liste déroulante."
        assert dv.errorTitle == "Réponse non valide"
        assert list_entries(wb, dv) == [
            "1 - Tout à fait en désaccord",
            "2 - Plutôt en désaccord",
            "3 - Ni en accord ni en désaccord",
            "4 - Plutôt d'accord",
            "5 - Tout à fait d'accord",
            "8 - Je ne sais pas",
            "9 - Ne s'applique pas",
        ]
    assert list_entries(wb, validation_at(ws, cells["sector"])) == ["1 - Public", "2 - Communautaire", "3 - Privé"]
    years = validation_at(ws, cells["years"])
    assert (years.type, years.operator, years.formula1, years.formula2) == ("whole", "between", "0", "60")
    assert not [dv for dv in ws.data_validations.dataValidation if cells["consortium_id"] in dv.sqref]


def test_only_answer_cells_are_unlocked_and_sheets_are_protected(tmp_path, form):
    path = xlsx.write(form, tmp_path / "demo_fr.xlsx", lang="fr", version="A")[0]
    wb = openpyxl.load_workbook(path)
    cells = {v for k, v in meta_of(wb) if k.startswith("cell:")}
    ws = wb["Questionnaire"]
    unlocked = {c.coordinate for row in ws.iter_rows() for c in row if c.has_style and c.protection.locked is False}
    assert unlocked == cells
    assert len(cells) == len(form.items) + len(form.context_block)
    for sheet in ("Instructions", "Questionnaire"):
        assert wb[sheet].protection.sheet is True
        assert wb[sheet].protection.password is None  # documented: no password
    ins = wb["Instructions"]
    assert not [c for row in ins.iter_rows() for c in row if c.has_style and c.protection.locked is False]
    assert wb.security.lockStructure


def test_print_setup_and_readable_layout(tmp_path, form):
    path = xlsx.write(form, tmp_path / "demo_fr.xlsx", lang="fr", version="A", paper="Letter")[0]
    ws = openpyxl.load_workbook(path)["Questionnaire"]
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.page_setup.paperSize == 1  # Letter
    header_row = int(ws.print_title_rows.split(":")[0].lstrip("$"))
    assert [ws.cell(row=header_row, column=c).value for c in range(1, 5)] == ["N°", "Code", "Énoncé", "Votre réponse"]
    assert ws.column_dimensions["B"].hidden  # item codes: not shown to respondents
    assert ws.column_dimensions["C"].width >= 50 and ws.column_dimensions["D"].width >= 30
    assert ws.column_dimensions["B"].width <= 10
    first_item = ws[dict(meta_of(openpyxl.load_workbook(path)))[f"cell:{form.versions['A'][0]}"]].row
    assert ws.cell(row=first_item, column=3).alignment.wrap_text


def test_instructions_name_every_recall_period(tmp_path, form):
    from instrument.export.common import ordered_items, recall_text

    path = xlsx.write(form, tmp_path / "demo_fr.xlsx", lang="fr", version="A")[0]
    text = "\n".join(str(c.value) for c in openpyxl.load_workbook(path)["Instructions"]["A"] if c.value)
    periods = {Typography("fr").text(recall_text(form, it, "fr")).rstrip(".") for it in ordered_items(form, "A")}
    assert len(periods) > 1
    for period in periods:
        assert period in text
    assert f"le questionnaire en utilise {len(periods)}\u00a0:" in text
    assert "?" not in text.replace("\u202f?", "")  # the Québec space before every question mark


def test_english_workbook_speaks_english(tmp_path, form):
    path = xlsx.write(form, tmp_path / "demo_en.xlsx", lang="en", version="B")[0]
    wb = openpyxl.load_workbook(path)
    values = dict(meta_of(wb))
    assert values["language"] == "en" and values["order_version"] == "B"
    assert values["items"] == ",".join(form.versions["B"])
    ws = wb["Questionnaire"]
    ref = next(v for k, v in meta_of(wb) if k == f"cell:{form.versions['B'][0]}")
    assert ws.cell(row=ws[ref].row, column=2).value == form.versions["B"][0]
    dv = validation_at(ws, ref)
    assert dv.error == "Choose one of the answers in the drop-down list."
    assert list_entries(wb, dv)[3] == "4 - Somewhat agree"
    assert "Thank you for taking part in the Living Together consortium." in [c.value for c in wb["Instructions"]["A"]]


def test_personalized_workbook_shows_and_stores_the_code(tmp_path, form):
    path = xlsx.write(form, tmp_path / "r.xlsx", lang="fr", version="B", respondent="R-017")[0]
    wb = openpyxl.load_workbook(path)
    assert dict(meta_of(wb))["respondent"] == "R-017"
    assert "R-017" in wb["Questionnaire"]["A2"].value
    assert any("R-017" in str(c.value) for c in wb["Instructions"]["A"])


def test_long_or_comma_lists_use_a_hidden_range(tmp_path, form):
    long_labels = ResponseSet(
        id="agree5",
        label={"fr": "x", "en": "x"},
        choices=tuple(Choice(i, {"fr": f"Réponse numéro {i} " + "très " * 9, "en": f"Answer {i} " + "very " * 9}) for i in range(1, 6)),
        missing=(Choice(8, {"fr": "Je ne sais pas", "en": "Don't know"}), Choice(9, {"fr": "Ne s'applique pas, vraiment", "en": "N/A"})),
    )
    entries = [f"{c.code} - {c.label['fr']}" for c in long_labels.all_choices()]
    assert len(",".join(entries)) > 255
    long_form = dataclasses.replace(form, response_set=long_labels)
    path = xlsx.write(long_form, tmp_path / "long.xlsx", lang="fr", version="A")[0]
    wb = openpyxl.load_workbook(path)
    assert wb["_lists"].sheet_state == "veryHidden"
    ws = wb["Questionnaire"]
    ref = next(v for k, v in meta_of(wb) if k == f"cell:{form.item_ids[0]}")
    dv = validation_at(ws, ref)
    assert dv.formula1.startswith("'_lists'!$")
    assert list_entries(wb, dv) == entries
    # a short list whose label holds a comma also needs the range (a comma splits an inline list)
    en = xlsx.write(long_form, tmp_path / "long_en.xlsx", lang="en", version="A")[0]
    wb_en = openpyxl.load_workbook(en)
    dv_en = validation_at(wb_en["Questionnaire"], ref)
    assert dv_en.formula1.startswith("'_lists'!$")
    # the short inline one is inline
    short = openpyxl.load_workbook(xlsx.write(form, tmp_path / "s.xlsx", lang="fr", version="A")[0])
    assert "_lists" not in short.sheetnames


def test_text_starting_with_equals_is_never_a_formula(tmp_path, form):
    texts = dict(form.texts)
    first = form.item_ids[0]
    texts[first] = {"fr": "=HYPERLINK(\"http://x\")", "en": "=1+1"}
    path = xlsx.write(dataclasses.replace(form, texts=texts), tmp_path / "f.xlsx", lang="fr", version="A")[0]
    wb = openpyxl.load_workbook(path)
    ws = wb["Questionnaire"]
    cell = next(c for row in ws.iter_rows() for c in row if c.value == '=HYPERLINK("http://x")')
    assert cell.data_type == "s"


def test_bad_parameters_are_named(tmp_path, form):
    with pytest.raises(ValueError, match=r"'lang' parameter of xlsx\.write"):
        xlsx.write(form, tmp_path / "x.xlsx", lang="de")
    with pytest.raises(ValueError, match=r"'version' parameter of xlsx\.write"):
        xlsx.write(form, tmp_path / "x.xlsx", version="C")
    with pytest.raises(ValueError, match=r"'paper' parameter of xlsx\.write"):
        xlsx.write(form, tmp_path / "x.xlsx", paper="A3")
    assert not (tmp_path / "x.xlsx").exists()


def test_returned_workbook_is_read_back_by_the_returns_reader(tmp_path, form):
    returns = pytest.importorskip("instrument.returns")
    path = xlsx.write(form, tmp_path / "demo_fr.xlsx", lang="fr", version="B", respondent="R1")[0]
    wb = openpyxl.load_workbook(path)
    cells = {k[5:]: v for k, v in meta_of(wb) if k.startswith("cell:")}
    ws = wb["Questionnaire"]
    answers = {}
    for n, item_id in enumerate(form.versions["B"]):
        code = [1, 2, 3, 4, 5, 8, 9][n % 7]
        label = next(c for c in form.response_set.all_choices() if c.code == code).label["fr"]
        ws[cells[item_id]] = f"{code} - {label}"
        answers[item_id] = code
    ws[cells["sector"]] = "2 - Communautaire"
    ws[cells["years"]] = 4
    ws[cells["consortium_id"]] = "VE01"
    wb.save(path)
    result = returns.read_returns([path], form, jobs=1)
    assert result.n_scored == 1, result.log()
    row = result.responses.iloc[0]
    assert row["respondent"] == "R1"
    assert {k: int(row[k]) for k in answers} == answers
    assert int(row["sector"]) == 2 and int(row["years"]) == 4


# ----------------------------------------------------------------------------- grid


def test_grid_follows_the_contract(tmp_path, form):
    written = grid.write(form, tmp_path / "demo_grid_fr.xlsx", lang="fr", rows=50)
    assert [p.name for p in written] == ["demo_grid_fr.xlsx", "demo_grid_fr_B.xlsx"]
    wb = openpyxl.load_workbook(written[1])
    assert wb.sheetnames[0] == "Saisie"
    assert wb["_meta"].sheet_state == "veryHidden"
    meta = meta_of(wb)
    assert [k for k, _ in meta][: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    values = dict(meta)
    assert values["layout"] == "grid" and values["answer_sheet"] == "Saisie" and values["order_version"] == "B"
    assert values["items"] == ",".join(form.versions["B"])
    header_row, first = int(values["header_row"]), int(values["first_data_row"])
    ws = wb["Saisie"]
    columns = {k[4:]: v for k, v in meta if k.startswith("col:")}
    assert list(columns) == ["respondent", "sector", "years", "consortium_id", *form.versions["B"]]
    for cid, letter in columns.items():
        assert ws[f"{letter}{header_row}"].value == cid
        assert ws[f"{letter}{header_row}"].protection.locked is not False
        assert ws[f"{letter}{first}"].protection.locked is False
        assert ws[f"{letter}{first + 49}"].protection.locked is False
    assert ws.freeze_panes == f"B{first}"
    assert ws.protection.sheet
    item_ref = f"{columns[form.versions['B'][0]]}{first + 10}"
    dv = validation_at(ws, item_ref)
    assert list_entries(wb, dv) == ["1", "2", "3", "4", "5", "8", "9"]
    assert "1, 2, 3, 4, 5, 8, 9" in dv.error
    assert list_entries(wb, validation_at(ws, f"{columns['sector']}{first}")) == ["1", "2", "3"]
    assert validation_at(ws, f"{columns['years']}{first}").type == "whole"
    # short labels row above the ids
    assert ws[f"{columns[form.versions['B'][0]]}{header_row - 1}"].value.startswith("Énoncé")
    assert "Codes" in wb.sheetnames


def test_grid_in_english(tmp_path, form):
    path = grid.write(form, tmp_path / "g.xlsx", lang="en", version="A", rows=5)[0]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[0] == "Entry"
    dv = validation_at(wb["Entry"], "E3")
    assert dv.error.startswith("Enter one of the allowed codes")


# ----------------------------------------------------------------------------- LibreOffice


@pytest.mark.tool
def test_libreoffice_converts_the_workbook_to_pdf(tmp_path, form):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    path = xlsx.write(form, tmp_path / "demo_fr.xlsx", lang="fr", version="A")[0]
    profile = tmp_path / "profile"
    run = subprocess.run(
        [office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True,
        timeout=180,
        check=False,
    )
    pdf = Path(tmp_path) / "demo_fr.pdf"
    assert run.returncode == 0 and pdf.exists(), run.stderr.decode(errors="replace")
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, timeout=60, check=True).stdout.decode()
        assert "Énoncé trcpi1" in text and "Votre réponse" in text


# ----------------------------------------------------------------------------- workbooks already sent

SENT = Path(__file__).parent / "sent"


def test_workbooks_already_sent_still_score():
    """Workbooks built and answered before the frozen header (tests/sent/README.md) are read
    with the current code: same cell map, every answer scored."""
    from instrument.returns import read_returns

    sent_form = load_form(SENT / "form.yaml", bank=make_bank())
    files = sorted(SENT.glob("*.xlsx"))
    for path in files:  # the old layout: no headers in row 3, nothing frozen
        wb = openpyxl.load_workbook(path)
        ws = wb[dict(meta_of(wb))["answer_sheet"]]
        assert ws.freeze_panes is None and ws["C3"].value is None
    result = read_returns(files, sent_form, jobs=1)
    assert result.n_scored == 2 and not result.problems, result.log()
    rows = result.responses.set_index("respondent")
    for respondent, version in (("S01", "A"), ("S02", "B")):
        expected = {item: [1, 2, 3, 4, 5, 8, 9][n % 7] for n, item in enumerate(sent_form.versions[version])}
        assert {k: int(rows.loc[respondent, k]) for k in expected} == expected
        assert int(rows.loc[respondent, "sector"]) == 2 and int(rows.loc[respondent, "years"]) == 4


def test_answer_sheet_keeps_its_header_in_sight(tmp_path):
    """Rows 1-3 (title, form line, column headers) are frozen; the answer cells stay where
    the workbooks already sent have them."""
    sent_form = load_form(SENT / "form.yaml", bank=make_bank())
    for old in sorted(SENT.glob("*.xlsx")):
        sent = dict(meta_of(openpyxl.load_workbook(old)))
        path = xlsx.write(sent_form, tmp_path / old.name, lang=sent["language"], version=sent["order_version"],
                          respondent=sent["respondent"])[0]
        wb = openpyxl.load_workbook(path)
        new = dict(meta_of(wb))
        assert {k: v for k, v in new.items() if k.startswith("cell:")} == {
            k: v for k, v in sent.items() if k.startswith("cell:")}
        ws = wb[new["answer_sheet"]]
        assert ws.freeze_panes == "A4"
        s = STRINGS[new["language"]]
        assert [ws.cell(row=3, column=c).value for c in range(1, 5)] == [s["number"], s["id"], s["question"], s["answer"]]
