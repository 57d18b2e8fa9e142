"""instrument.platforms: the response exports of KoboToolbox, ODK, LimeSurvey and REDCap are
read through the form's own export naming, every cell checked as in a workbook, every row
accounted for, and scored exactly like the workbooks they stand for.

Fixtures: tests/platforms/ (made by make_fixtures.py; the source of each layout is in
tests/platforms/SOURCES.md, the expected outcome of each file in expected.csv)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from instrument import platforms
from instrument.cli import app
from instrument.form import load_form
from instrument.platforms import Mismatch, detect, write_export
from instrument.returns import Expected, read_returns
from instrument.scoring import score_returns
from instrument.simulate import simulate, write_workbooks

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "platforms"
SPEC = ROOT / "data_samples" / "form_member.yaml"
EXPECTED = list(csv.DictReader((FIXTURES / "expected.csv").read_text(encoding="utf-8").splitlines()))


@pytest.fixture(scope="module")
def form():
    return load_form(SPEC)


@pytest.fixture(scope="module")
def exports(form):
    return Expected.from_form(form).exports


def read_one(form, name, **options):
    ret = read_returns([FIXTURES / name], form, jobs=1, **options)
    return ret, ret.files.iloc[0]


@pytest.mark.parametrize("row", EXPECTED, ids=[r["file"] for r in EXPECTED])
def test_each_fixture_gets_its_expected_outcome(form, row):
    ret, f = read_one(form, row["file"])
    assert f["status"] == row["status"]
    assert sorted({p.code for p in ret.problems}) == sorted(c for c in row["codes"].split(";") if c)
    counts = (int(f["rows_in"]), int(f["respondents"]), int(f["rows_incomplete"]), int(f["rows_rejected"]))
    assert counts == tuple(int(row[k]) for k in ("rows_in", "scored", "incomplete", "rejected"))
    assert counts[0] == counts[1] + counts[2] + counts[3]  # rows in = scored + incomplete + rejected
    log = ret.log()
    # one row per file and per problem; a rejected file's reason is on its own row only
    reason = [p for p in ret.problems if ret.n_rejected and (p.code, p.message) in set(
        zip(ret.files["code"], ret.files["message"], strict=True))]
    assert (log["file"] == str(FIXTURES / row["file"])).sum() == 1 + len(ret.problems) - len(reason)


def test_the_whole_folder_is_accounted_for(form):
    ret = read_returns([FIXTURES], form, jobs=1)
    data = ret.files[ret.files["file"].str.endswith((".csv", ".xlsx")) & ~ret.files["file"].str.endswith("expected.csv")]
    assert len(data) == len(EXPECTED)
    assert ret.n_files == ret.n_scored + ret.n_rejected  # files in = scored + rejected
    exported = ret.files[ret.files["source"] != ""]
    assert (exported["rows_in"] == exported["respondents"] + exported["rows_incomplete"] + exported["rows_rejected"]).all()


def cell(ret, item, row=0):
    return ret.responses[item].iloc[row]


def test_planted_cells_are_read_or_refused(form):
    ret, _ = read_one(form, "kobo_xml_semicolon.csv")
    assert pd.isna(cell(ret, "trcpi1"))  # "7": out-of-range, refused
    [problem] = [p for p in ret.problems if p.code == "out-of-range"]
    assert (problem.item, problem.cell) == ("trcpi1", "row 2")
    assert sum(p.code == "unmapped-column" for p in ret.problems) == 1  # once, not once per row
    [copy] = [p for p in ret.problems if p.code == "duplicate-copy"]  # the same _uuid, same answers: counted once
    assert "row 8" in copy.message and ret.responses["respondent"].is_unique
    [review] = [p for p in ret.problems if p.code == "rejected-on-platform"]
    assert review.cell == "row 6" and "validation_status_not_approved" in review.message

    assert set(ret.responses["platform"]) == {"kobo"} and ret.responses["submitted_at"].str.len().min() == 19

    ret, _ = read_one(form, "redcap_raw.csv")
    assert set(ret.responses["platform_status"]) == {"2"} and ret.responses["submitted_at"].str.len().min() == 19
    assert cell(ret, "trcpi4", 0) == 8  # REDCap's UNK: "don't know"
    assert pd.isna(cell(ret, "trcpi4", 1))  # NASK: blank
    assert list(ret.responses["respondent"]) == ["R0001", "R0002", "R0005", "R0006"]  # 0 and 1: incomplete

    ret, _ = read_one(form, "limesurvey_codes.csv")
    assert pd.isna(cell(ret, "scbri1"))  # "N/A"
    assert set(ret.responses["language"]) <= {"fr", "en"}  # startlanguage
    assert ret.responses["respondent"].iloc[0] == "limesurvey_codes-1"  # response ids restart in every survey

    ret, _ = read_one(form, "kobo_labels_fr.csv")
    items = [c for c in ret.responses.columns if c in form.item_ids]
    assert ret.responses[items[5]].iloc[0] is pd.NA  # "peut-être": invalid-answer
    assert ret.responses[items[6]].iloc[1] == 8  # "Je ne sais pas"


def test_missing_item_and_other_version_rows(form):
    ret, _f = read_one(form, "odk_central.csv")
    [missing] = [p for p in ret.problems if p.code == "missing-item"]
    assert missing.item == "lgene1"
    assert ret.responses["lgene1"].isna().all()
    [version] = [p for p in ret.problems if p.code == "unknown-form-version"]
    assert "'0.9'" in version.message and version.cell == "row 4"


def test_include_incomplete_keeps_them(form):
    for name, n in (("limesurvey_codes.csv", 6), ("redcap_raw.csv", 6), ("redcap_labels.csv", 7)):
        _ret, f = read_one(form, name, include_incomplete=True)
        assert int(f["respondents"]) == n and int(f["rows_incomplete"]) == 0


@pytest.fixture(scope="module")
def simulated(form, tmp_path_factory):
    """30 simulated respondents as returned workbooks and as every platform variant."""
    out = tmp_path_factory.mktemp("platforms")
    sample = simulate(form, 30, seed=11)
    write_workbooks(form, sample, out / "workbooks")
    frame = sample.responses
    files = {}
    for source in platforms.SOURCES:
        for variant in platforms.module(source).VARIANTS:
            suffix = ".xlsx" if variant == "xlsx" else ".csv"
            files[source, variant] = write_export(form, frame, out / f"{source}_{variant}{suffix}", source, variant)
    return out / "workbooks", files


def test_every_variant_scores_exactly_like_the_workbooks(form, simulated):
    workbooks, files = simulated
    ref = score_returns(read_returns([workbooks], form, jobs=1), form)
    text = {"respondent", "source_file", "source_place", "language", "order_version", "careless_flags",
            *(q.id for q in form.context_block if q.type == "text")}
    numeric = [c for c in ref.columns if c not in text]
    for (source, variant), path in files.items():
        ret = read_returns([path], form, jobs=1)
        assert ret.files["status"].iloc[0] == "scored", (source, variant, ret.files["message"].iloc[0])
        table = score_returns(ret, form)
        assert len(table) == len(ref)
        got = table[numeric].astype("float64").to_numpy()
        want = ref[numeric].astype("float64").to_numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=f"{source} {variant}")
        assert list(table["careless_flags"].fillna("")) == list(ref["careless_flags"].fillna(""))


def test_detection_names_the_platform(form, exports, simulated):
    _, files = simulated
    for (source, _variant), path in files.items():
        if path.suffix == ".csv":
            header = next(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(),
                                     delimiter=";" if source == "kobo" and "comma" not in path.name else ","))
            assert detect(header, exports).source == source


def test_real_platform_headers_are_recognized(exports):
    """Headers of real exports published by the platforms' own projects (see SOURCES.md):
    recognized as their platform, and refused as another form (none of our items)."""
    central = ["SubmissionDate", "meta-instanceID", "name", "age", "KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]
    ruodk = ["SubmissionDate", "meta-instanceID", "encounter_start_datetime", "reporter", "location-area_name", "habitat-morphological_type", "encounter_end_datetime", "KEY", "SubmitterID", "SubmitterName", "Status"]
    redcapr = ["record_id", "name_first", "name_last", "address", "telephone", "email", "dob", "age", "sex", "demographics_complete", "height", "weight", "bmi", "comments", "mugshot", "health_complete"]
    kobo = ["start", "end", "q1", "_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
            "_submitted_by", "__version__", "_tags", "_index"]
    lime = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp", "Q1"]
    for header, source in ((central, "odk"), (ruodk, "odk"), (redcapr, "redcap"), (kobo, "kobo"), (lime, "limesurvey")):
        assert platforms.module(source).recognize(header)
        with pytest.raises(Mismatch) as err:
            detect(header, exports)
        assert err.value.code == "other-form"


def test_limesurvey_other_headings(form, exports):
    """Code & text headings and expression-manager codes map; cut texts map when unambiguous."""
    names = exports.names["limesurvey"]
    codes = [c for c in names.exact if "[" in c or names.exact[c] in exports.context]
    code = codes[-1]
    item = names.exact[code]
    header = ["id", "submitdate", "lastpage", "startlanguage", *codes[:-1], f"{code}. Some text [sub]",
              code.replace("[", "_").rstrip("]")]
    layout = detect(header, exports)
    assert layout.columns[len(header) - 2] == item  # code & text
    assert header[-1] in layout.unmapped  # a second column of one item is reported, not read twice
    full = [(q, s, i) for q, s, i in names.extra["full"] if s]
    q, s, i = full[0]
    cut = f"{q[:15]}.. [{s[:15]}..]"
    header = ["id", "submitdate", "lastpage", "startlanguage", *(c for c in codes if names.exact[c] != i), cut]
    layout = detect(header, exports)
    same_start = {j for qq, ss, j in full if qq.startswith(q[:15]) and ss.startswith(s[:15])}
    if len(same_start) > 1:
        assert cut in layout.ambiguous
    else:
        assert layout.columns[len(header) - 1] == i


def test_forced_source_and_bad_source(form, tmp_path):
    ret = read_returns([FIXTURES / "redcap_labels.csv"], form, jobs=1, source="redcap")
    assert ret.files["source"].iloc[0] == "redcap"
    with pytest.raises(ValueError, match="'source'"):
        read_returns([FIXTURES / "redcap_labels.csv"], form, jobs=1, source="qualtrics")


def test_our_own_csv_is_not_taken_for_an_export(form):
    ret = read_returns([ROOT / "data_samples" / "returned" / "member_entry.csv"], form, jobs=1)
    assert ret.files["source"].iloc[0] == "" and ret.files["status"].iloc[0] == "scored"
    assert "platform" not in ret.responses  # a batch of our own files keeps its columns


def test_cli_simulate_as_then_score(tmp_path):
    runner = CliRunner()
    for source in platforms.SOURCES:
        done = runner.invoke(app, ["simulate", str(SPEC), "--n", "12", "--out", str(tmp_path / "in"), "--as", source])
        assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["score", str(tmp_path / "in"), "--form", str(SPEC), "--out", str(tmp_path / "s.csv"),
                               "--jobs", "1"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "4 file(s) in = 4 scored + 0 rejected" in text
    assert "48 row(s) in = 48 scored + 0 incomplete + 0 rejected" in text
    assert len(pd.read_csv(tmp_path / "s.csv")) == 48
    bad = runner.invoke(app, ["score", str(tmp_path / "in"), "--form", str(SPEC), "--out", str(tmp_path / "t.csv"),
                              "--source", "qualtrics"])
    assert bad.exit_code == 2
    bad = runner.invoke(app, ["simulate", str(SPEC), "--n", "3", "--out", str(tmp_path / "x"), "--as", "qualtrics"])
    assert bad.exit_code == 2


def test_demo_shows_one_export_per_platform(form, tmp_path):
    from rich.console import Console

    from instrument.demo import PLATFORM_N, platform_exports

    console = Console(file=io.StringIO(), width=200, color_system=None)
    platform_exports(form, tmp_path / "platforms", seed=2026, console=console)
    printed = console.file.getvalue()
    for source in platforms.SOURCES:
        assert (tmp_path / "platforms" / f"member_{source}.csv").is_file()
    assert printed.count(f"{PLATFORM_N} row(s) in = ") == 4
    assert printed.count(f"= {PLATFORM_N - 2} scored + 2 incomplete + 0 rejected") == 2  # LimeSurvey, REDCap
    log = pd.read_csv(tmp_path / "platforms" / "scoring-log.csv")
    assert (log["code"] == "incomplete-response").sum() == 4
    with pytest.raises(ValueError, match="'incomplete'"):
        write_export(form, simulate(form, 3, seed=1).responses, tmp_path / "k.csv", "kobo", incomplete=1)


def test_a_formula_in_an_xlsx_export_is_refused_not_evaluated(form, tmp_path):
    import openpyxl

    path = write_export(form, simulate(form, 4, seed=3).responses, tmp_path / "kobo.xlsx", "kobo", "xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    item_col = next(c.column_letter for c in ws[1] if str(c.value).endswith("/trcpi1"))
    ws[f"{item_col}3"] = "=2+2"
    wb.save(path)
    ret = read_returns([path], form, jobs=1)
    [problem] = [p for p in ret.problems if p.code == "formula-in-answer"]
    assert (problem.item, problem.cell) == ("trcpi1", f"{item_col}3")
    assert pd.isna(ret.responses["trcpi1"].iloc[1]) and len(ret.responses) == 4


def test_large_sheets_are_scanned_in_pieces_like_the_exact_pass(form, tmp_path):
    """A platform's 1,500-row .xlsx (a 4 MB sheet part) takes the regex scan piece by piece;
    it agrees with the exact streaming pass, flags an error cell in a late piece, and refuses
    a sheet over the cell limit."""
    import openpyxl

    from instrument.workbook import Refused, Workbook

    path = write_export(form, simulate(form, 1500, seed=5).responses, tmp_path / "big.xlsx", "kobo", "xlsx")
    wb = openpyxl.load_workbook(path)
    wb.worksheets[0]["J1400"] = "#N/A"
    wb.worksheets[0]["J1400"].data_type = "e"
    wb.save(path)
    book = Workbook(path.read_bytes())
    archive = book._archive
    name = next(iter(book.sheets))
    part = book.sheets[name][0]
    assert archive.zf.getinfo(part).file_size > 3 * 2**20  # several pieces
    quick = archive._scan_quick(part, name, archive.zf.getinfo(part).file_size)
    assert quick == archive._rewrite(part, name).flagged == {"J1400": "error"}
    small = Workbook(path.read_bytes(), max_cells=50_000)
    with pytest.raises(Refused) as err:
        small._archive.scan_sheet(part, name)
    assert err.value.code == "sheet-too-large"


def test_kobo_and_odk_headings_follow_the_xform_pyxform_builds(form, exports, tmp_path):
    """The group paths the readers expect are those of the XForm instance pyxform makes from
    our XLSForm (what Kobo and Central export from); notes are known, never 'unmapped'."""
    import xml.etree.ElementTree as ET

    from pyxform.xls2xform import convert

    from instrument.export.xlsform import write as write_xlsform

    path = write_xlsform(form, tmp_path / "member_xlsform.xlsx")[0]
    root = ET.fromstring(convert(str(path), warnings=[]).xform)
    instance = next(e for e in root.iter() if e.tag.endswith("}instance"))[0]
    assert instance.get("version") == str(form.version)  # what Central's FormVersion column holds

    def leaves(node, prefix=()):
        for child in node:
            name = child.tag.rpartition("}")[2]
            if len(child):
                yield from leaves(child, (*prefix, name))
            else:
                yield (*prefix, name)

    central = ["SubmissionDate", *("-".join(p) for p in leaves(instance)), "KEY", "SubmitterID", "ReviewState",
               "FormVersion"]
    layout = detect(central, exports)
    assert layout.source == "odk" and not layout.missing and not layout.unmapped
    assert sorted(layout.columns.values()) == sorted((*exports.context, *exports.items))
    kobo = ["/".join(p) for p in leaves(instance) if p[0] != "meta"] + ["_id", "_uuid", "_submission_time"]
    layout = detect(kobo, exports)
    assert layout.source == "kobo" and not layout.missing and not layout.unmapped


def test_a_header_of_many_unknown_columns_does_not_bloat_the_log(form, tmp_path):
    path = write_export(form, simulate(form, 3, seed=2).responses, tmp_path / "k.csv", "odk", "central")
    lines = path.read_text(encoding="utf-8").splitlines()
    extra = 5000
    lines[0] += "".join(f",junk{k}" for k in range(extra))
    lines[1:] = [line + "," * extra for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ret = read_returns([path], form, jobs=1)
    unmapped = [p for p in ret.problems if p.code == "unmapped-column"]
    assert len(unmapped) == 51 and "4,950 more columns" in unmapped[-1].message
    assert ret.files["status"].iloc[0] == "scored"


def test_id_column_names_the_respondents(form, tmp_path):
    path = write_export(form, simulate(form, 4, seed=9).responses, tmp_path / "k.csv", "kobo", "csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[0] += ';"respondent_code"'
    lines[1:] = [line + f';"P{k:02d}"' for k, line in enumerate(lines[1:], 1)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ret = read_returns([path], form, jobs=1, id_column="respondent_code")
    assert list(ret.responses["respondent"]) == ["P01", "P02", "P03", "P04"]
    assert not [p for p in ret.problems if p.code == "unmapped-column"]
    ret = read_returns([path], form, jobs=1, id_column="nope")
    assert ret.files["code"].iloc[0] == "missing-column"


def test_redcap_events_and_repeat_instances_name_the_respondent(form, tmp_path):
    """Longitudinal REDCap: one row per record and event; the respondent is record/event."""
    path = write_export(form, simulate(form, 2, seed=4).responses, tmp_path / "r.csv", "redcap", "raw")
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    cells = header.split(",")
    cells.insert(1, "redcap_event_name")
    out = [",".join(cells)]
    for event in ("baseline_arm_1", "followup_arm_1"):
        for row in rows:
            values = row.split(",")
            values.insert(1, event)
            out.append(",".join(values))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    ret = read_returns([path], form, jobs=1)
    assert list(ret.responses["respondent"]) == ["R0001/baseline_arm_1", "R0002/baseline_arm_1",
                                                 "R0001/followup_arm_1", "R0002/followup_arm_1"]
    assert not [p for p in ret.problems if p.code.startswith("duplicate")]
