"""instrument.returns: every sample returned file gets its expected outcome, every cell is
checked, every file is accounted for, and the scores match an independent computation."""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import instrument.returns as returns_mod
import instrument.workbook as workbook_mod
from instrument.form import load_form
from instrument.returns import Expected, read_file, read_returns
from instrument.scoring import score_returns
from instrument.simulate import Design, simulate, write_workbooks

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples" / "returned"
SPEC = ROOT / "data_samples" / "form_member.yaml"


def load_script():
    """data_samples/make_returned.py: the values it planted in the messy workbooks."""
    spec = importlib.util.spec_from_file_location("make_returned", ROOT / "data_samples" / "make_returned.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PLANTED = load_script()


@pytest.fixture(scope="module")
def form():
    return load_form(SPEC)


@pytest.fixture(scope="module")
def expected_csv() -> pd.DataFrame:
    return pd.read_csv(SAMPLES / "expected.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def returned(form):
    return read_returns([SAMPLES], form, jobs=1)


def name(path: str) -> str:
    return Path(path).name


# ----------------------------------------------------------------------------- the samples
def test_expected_csv_lists_every_sample_file(expected_csv):
    on_disk = sorted(p.name for p in SAMPLES.iterdir() if p.is_file())
    assert sorted(expected_csv["file"]) == on_disk
    assert len(on_disk) >= 12
    assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 300 * 1024


def test_every_sample_file_gets_its_expected_outcome(returned, expected_csv):
    files = returned.files.assign(file=returned.files["file"].map(name)).set_index("file")
    codes: dict[str, set] = {}
    for p in returned.problems:
        codes.setdefault(name(p.file), set()).add(p.code)
    for row in expected_csv.itertuples():
        got = files.loc[row.file]
        assert got["status"] == row.status, (row.file, got["message"])
        assert ";".join(sorted(codes.get(row.file, ()))) == row.codes, row.file
        assert int(got["respondents"]) == int(row.respondents), row.file
        if row.status == "rejected":
            assert got["code"] == row.codes.split(";")[0] and got["message"]
    # every status and the main refusal codes are represented (the samples cannot pass vacuously)
    assert set(expected_csv["status"]) == {"scored", "scored-with-issues", "rejected"}


def test_files_in_equals_scored_plus_rejected(returned, expected_csv):
    assert returned.n_files == len(expected_csv) == 17
    assert returned.n_scored + returned.n_rejected == returned.n_files
    assert (returned.n_scored, returned.n_rejected) == (11, 6)
    assert len(returned.responses) == expected_csv["respondents"].astype(int).sum() == 15


def test_log_has_one_row_per_file_then_one_per_problem(returned):
    log = returned.log()
    n_files = returned.n_files
    rejected = {(r.file, r.code, r.message) for r in returned.files.itertuples() if r.status == "rejected"}
    # a rejected file's reason is on its own row only, not repeated as a problem row
    kept = [p for p in returned.problems if (p.file, p.code, p.message) not in rejected]
    assert len(log) == n_files + len(kept)
    head = log.iloc[:n_files]
    assert list(head["file"]) == list(returned.files["file"])
    assert (head["respondents"] != "").all()
    tail = log.iloc[n_files:]
    assert list(tail["code"]) == [p.code for p in kept]
    assert (tail["respondents"] == "").all() and (tail["message"] != "").all()
    for f in {f for f, _, _ in rejected}:
        rows = log[log["file"] == f]
        assert len(rows) == 1 or rows["message"].nunique() == len(rows), rows
    # the place of a rejection goes on the file's row
    v2 = head[head["code"] == "unknown-form-version"]
    assert len(v2) == 1 and v2["sheet"].iloc[0] == "_meta"
    # every refused cell says where it is
    cells = tail[tail["code"].isin(["out-of-range", "decimal-answer", "formula-in-answer", "answer-outside-cell"])]
    assert len(cells) >= 4 and (cells["sheet"] == "Questionnaire").all() and (cells["cell"] != "").all()
    # each file's problem count matches its problem rows (its rejection reason included)
    counts = tail.groupby("file").size()
    for r in returned.files.itertuples():
        own = (r.file, r.code, r.message) in rejected and any(
            (p.file, p.code, p.message) == (r.file, r.code, r.message) for p in returned.problems)
        assert r.problems == counts.get(r.file, 0) + own, r.file


def test_a_real_ods_is_not_called_renamed(tmp_path, form):
    path = tmp_path / "answers.ods"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", "<office:document-content/>")
    log = read_returns([path], form, jobs=1).log()
    assert list(log["code"]) == ["ods-not-supported"]  # one row, not two
    assert "renamed" not in log["message"].iloc[0] and "(.ods)" in log["message"].iloc[0]


def read_independently(path: Path) -> dict:
    """A respondent workbook read with openpyxl alone: id -> value as stored."""
    wb = openpyxl.load_workbook(path)
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True) if r[0]}
    ws = wb[meta["answer_sheet"]]
    out = {k[5:]: ws[v].value for k, v in meta.items() if k.startswith("cell:")}
    out["respondent"] = meta["respondent"]
    return out


def code_of(value):
    """"4 - Plutôt d'accord" -> 4; 4 -> 4; None -> None."""
    if value is None or value == "":
        return None
    return int(str(value).split(" - ")[0])


def row_of(returned, file_name: str) -> pd.Series:
    rows = returned.responses[returned.responses["source_file"].map(name) == file_name]
    assert len(rows) == 1, file_name
    return rows.iloc[0]


def as_python(value):
    return None if pd.isna(value) else int(value)


@pytest.mark.parametrize(
    "file_name",
    ["member_R101_fr.xlsx", "member_R102_fr_B.xlsx", "member_R103_en.xlsx", "member_R104_en_B.xlsx",
     "member_R140_fr.xlsx", "member_R140_fr (1).xlsx"],
)
def test_clean_workbooks_read_back_cell_for_cell(returned, form, file_name):
    truth = read_independently(SAMPLES / file_name)
    row = row_of(returned, file_name)
    assert row["respondent"] == truth["respondent"]
    assert row["language"] == ("en" if "_en" in file_name else "fr")
    assert row["order_version"] == ("B" if "_B" in file_name else "A")
    for item in form.item_ids:
        assert as_python(row[item]) == code_of(truth[item]), item
    assert as_python(row["sector"]) == code_of(truth["sector"])
    assert as_python(row["years"]) == truth["years"]
    assert row["consortium_id"] == truth["consortium_id"]


def test_r104_keeps_blanks_blank_and_missing_codes_as_read(returned):
    row = row_of(returned, "member_R104_en_B.xlsx")
    assert [as_python(row[i]) for i in ("trcpi4", "scaci3", "drtio1")] == [None, None, None]
    assert as_python(row["lesei2"]) == 8 and as_python(row["lgcri1"]) == 9


def test_messy_values_are_coerced_to_their_codes(returned):
    row = row_of(returned, "member_R105_fr_messy-accepted.xlsx")
    for item, (typed, code) in PLANTED.MESSY_ACCEPTED.items():
        assert as_python(row[item]) == code, (item, typed)
    assert not [p for p in returned.problems if name(p.file) == "member_R105_fr_messy-accepted.xlsx"]


def test_refused_cells_are_reported_where_they_are_and_the_rest_is_kept(returned, form):
    file_name = "member_R106_fr_B_messy-refused.xlsx"
    truth = read_independently(SAMPLES / file_name)
    wb_cells = {k[5:]: v for k, v in PLANTED.meta_of(openpyxl.load_workbook(SAMPLES / file_name)).items()
                if k.startswith("cell:")}
    row = row_of(returned, file_name)
    problems = {p.item: p for p in returned.problems if name(p.file) == file_name}
    assert set(problems) == set(PLANTED.MESSY_REFUSED)
    for item, (_typed, code) in PLANTED.MESSY_REFUSED.items():
        assert problems[item].code == code
        assert (problems[item].sheet, problems[item].cell) == ("Questionnaire", wb_cells[item])
        assert pd.isna(row[item])
    for item in set(form.item_ids) - set(PLANTED.MESSY_REFUSED):
        assert as_python(row[item]) == code_of(truth[item]), item


def test_formulas_are_never_evaluated_and_answers_beside_cells_never_used(returned):
    file_name = "member_R107_en_formula-beside.xlsx"
    row = row_of(returned, file_name)
    found = {(p.code, p.item): p for p in returned.problems if name(p.file) == file_name}
    assert set(found) == {
        ("formula-in-answer", PLANTED.FORMULA_ITEM),
        ("formula-in-answer", "years"),  # a context answer is not computed either
        ("answer-outside-cell", PLANTED.BESIDE_ITEM),
    }
    assert pd.isna(row[PLANTED.FORMULA_ITEM]) and pd.isna(row["years"]) and pd.isna(row[PLANTED.BESIDE_ITEM])
    beside = found[("answer-outside-cell", PLANTED.BESIDE_ITEM)]
    assert beside.cell.startswith("E") and "was not used" in beside.message


def test_grid_rows_and_the_row_without_a_code(returned, form):
    rows = returned.responses[returned.responses["source_file"].map(name) == "member_grid_fr.xlsx"]
    assert list(rows["respondent"]) == ["G201", "G202", "1203", "member_grid_fr-row7"]
    assert list(rows["source_place"]) == ["Saisie!3", "Saisie!4", "Saisie!5", "Saisie!7"]
    wb = openpyxl.load_workbook(SAMPLES / "member_grid_fr.xlsx")
    ws = wb["Saisie"]
    header = {ws.cell(2, c).value: c for c in range(1, ws.max_column + 1)}
    for (_, row), r in zip(rows.iterrows(), (3, 4, 5, 7), strict=True):
        for item in form.item_ids:
            assert as_python(row[item]) == ws.cell(r, header[item]).value, (r, item)
    assert as_python(rows.iloc[0]["lesei1"]) == 8
    warning = [p for p in returned.problems if p.code == "missing-respondent-code"]
    assert len(warning) == 1 and warning[0].cell == "A7" and warning[0].severity == "warning"


def test_csv_entry_is_read_by_its_columns(returned, form):
    rows = returned.responses[returned.responses["source_file"].map(name) == "member_entry.csv"]
    with open(SAMPLES / "member_entry.csv", encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh, delimiter=";"))
    assert list(rows["respondent"]) == [t["respondent"] for t in truth]
    for (_, row), t in zip(rows.iterrows(), truth, strict=True):
        assert {i: as_python(row[i]) for i in form.item_ids} == {i: int(t[i]) for i in form.item_ids}
        assert row["consortium_id"] == t["consortium_id"]


def test_duplicate_respondent_is_reported_in_both_files_and_both_rows_kept(returned):
    """R140 sent twice with DIFFERENT answers: an error on both files (not the warning an
    identical copy gets), both rows kept for the researcher to decide."""
    dups = [p for p in returned.problems if p.code == "duplicate-respondent"]
    assert sorted(name(p.file) for p in dups) == ["member_R140_fr (1).xlsx", "member_R140_fr.xlsx"]
    assert all(p.severity == "error" and "'R140'" in p.message and "DIFFERENT" in p.message for p in dups)
    assert (returned.responses["respondent"] == "R140").sum() == 2
    status = dict(zip(returned.files["file"].map(name), returned.files["status"], strict=True))
    assert status["member_R140_fr.xlsx"] == status["member_R140_fr (1).xlsx"] == "scored-with-issues"


# ----------------------------------------------------------------------------- scores
def independent_scores(responses: pd.DataFrame, form, min_answered: float) -> list[dict]:
    """Plain Python: per respondent and scale, the mean of the answered items (missing codes
    8/9 and blanks left out, reverse-keyed items recoded high + low - x) when at least
    ``min_answered`` of the scale's items are answered."""
    low, high = form.response_set.low, form.response_set.high
    missing = set(form.response_set.missing_codes)
    out = []
    for _, row in responses.iterrows():
        rec = {}
        for scale in form.scales:
            values = []
            for key in scale.keys:
                value = row[key.lstrip("-")]
                if pd.isna(value) or int(value) in missing:
                    continue
                value = int(value)
                values.append(high + low - value if key.startswith("-") else value)
            enough = values and len(values) / len(scale.keys) >= min_answered
            rec[scale.name] = sum(values) / len(values) if enough else None
            rec[f"{scale.name}_n"] = len(values)
        out.append(rec)
    return out


def assert_scores_match(table: pd.DataFrame, expected: list[dict], form):
    assert len(table) == len(expected)
    checked = 0
    for i, rec in enumerate(expected):
        for scale in form.scales:
            got = table.iloc[i][scale.name]
            if rec[scale.name] is None:
                assert pd.isna(got), (i, scale.name)
            else:
                assert got == pytest.approx(rec[scale.name], rel=1e-12, abs=1e-12), (i, scale.name)
                checked += 1
            assert int(table.iloc[i][f"{scale.name}_n"]) == rec[f"{scale.name}_n"]
    assert checked > 0


def test_sample_scores_equal_an_independent_computation(returned, form):
    table = score_returns(returned, form)
    assert_scores_match(table, independent_scores(returned.responses, form, 0.5), form)
    # the reverse key matters: R101's trust_competence uses 6 - trcpi5
    r101 = read_independently(SAMPLES / "member_R101_fr.xlsx")
    comp = [code_of(r101[i]) for i in ("trcpi1", "trcpi4", "trcpo1")] + [6 - code_of(r101["trcpi5"])]
    assert table.iloc[list(table["respondent"]).index("R101")]["trust_competence"] == pytest.approx(sum(comp) / 4)


@pytest.fixture(scope="module")
def simulated(form, tmp_path_factory):
    """70 simulated returned workbooks (enough for the process pool) with many blanks."""
    folder = tmp_path_factory.mktemp("simulated")
    design = Design(missing=0.3, dont_know=0.05, not_applicable=0.05)
    sample = simulate(form, 70, seed=11, design=design)
    write_workbooks(form, sample, folder)
    return sample, folder


def test_simulated_batch_round_trips_and_jobs_do_not_change_the_result(form, simulated):
    sample, folder = simulated
    calls = []
    parallel = read_returns([folder], form, jobs=2, progress=lambda done, total: calls.append((done, total)))
    serial = read_returns([folder], form, jobs=1)
    pd.testing.assert_frame_equal(parallel.responses, serial.responses)
    pd.testing.assert_frame_equal(parallel.files, serial.files)
    assert parallel.n_files == parallel.n_scored == 70 and not parallel.problems
    assert calls[0] == (0, 70) and calls[-1] == (70, 70) and all(b == 70 for _, b in calls)
    assert [a for a, _ in calls] == sorted(a for a, _ in calls) and len(calls) > 2  # steady, never backwards
    got = parallel.responses.set_index("respondent")
    truth = sample.responses.set_index("respondent")
    assert list(got.index) == list(truth.index)
    for item in form.item_ids:
        assert got[item].astype("Float64").equals(truth[item].astype("Float64")), item
    assert (got["language"] == truth["lang"]).all()


def test_workers_started_without_fork_give_the_same_result(form, simulated, monkeypatch):
    """Python 3.12+ (and macOS) start workers with forkserver/spawn: they import only what
    reading needs, and the result is the same."""
    import multiprocessing as mp

    _, folder = simulated
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    monkeypatch.setattr(returns_mod, "_pool_context", lambda: mp.get_context(method))
    other = read_returns([folder], form, jobs=2)
    pd.testing.assert_frame_equal(other.responses, read_returns([folder], form, jobs=1).responses)


@pytest.mark.parametrize("min_answered", [0.5, 0.75, 1.0])
def test_min_answered_rule_on_a_simulated_batch(form, simulated, min_answered):
    sample, folder = simulated
    returned = read_returns([folder], form, jobs=1)
    table = score_returns(returned, form, min_answered=min_answered)
    expected = independent_scores(sample.responses, form, min_answered)
    assert_scores_match(table, expected, form)
    # the rule bites: with 30% blanks some scales are not scored
    assert any(rec[s.name] is None for rec in expected for s in form.scales)


# ----------------------------------------------------------------------------- refusals
@pytest.fixture(scope="module")
def expected_form(form):
    return Expected.from_form(form)


CLEAN = SAMPLES / "member_R101_fr.xlsx"


def rezip(src: bytes, replace: dict | None = None, add: dict | None = None, drop=()) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(src))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in drop:
                continue
            zout.writestr(info.filename, (replace or {}).get(info.filename, zin.read(info.filename)))
        for part, data in (add or {}).items():
            zout.writestr(part, data)
    return out.getvalue()


def with_meta(key: str, value) -> bytes:
    wb = openpyxl.load_workbook(CLEAN)
    ws = wb["_meta"]
    for row in ws.iter_rows():
        if row[0].value == key:
            row[1].value = value
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def lying_sizes(src: bytes, part: str) -> bytes:
    """A zip whose part expands far beyond the size its headers declare."""
    zin = zipfile.ZipFile(io.BytesIO(src))
    small = len(zin.read(part))
    big = zin.read(part).replace(b"</sheetData>", b"<row r='900'/>" * 20000 + b"</sheetData>")
    buf = bytearray(rezip(src, replace={part: big}))
    info = zipfile.ZipFile(io.BytesIO(bytes(buf))).getinfo(part)
    struct.pack_into("<I", buf, info.header_offset + 22, small)
    cd = buf.find(b"PK\x01\x02")
    while cd != -1:
        n = struct.unpack_from("<H", buf, cd + 28)[0]
        if bytes(buf[cd + 46 : cd + 46 + n]).decode() == part:
            struct.pack_into("<I", buf, cd + 24, small)
        cd = buf.find(b"PK\x01\x02", cd + 46)
    return bytes(buf)


def clean() -> bytes:
    return CLEAN.read_bytes()


REFUSALS = {
    "empty-file": ("x.xlsx", lambda: b""),
    "legacy-xls": ("x.xlsx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
    "corrupt-file:not-a-zip": ("x.xlsx", lambda: b"Bonjour, voici mes reponses"),
    "corrupt-file:truncated": ("x.xlsx", lambda: clean()[:6000]),
    "corrupt-file:no-workbook": ("x.xlsx", lambda: rezip(clean(), drop=("xl/workbook.xml",))),
    "corrupt-file:lying-sizes": ("x.xlsx", lambda: lying_sizes(clean(), "xl/worksheets/sheet3.xml")),
    "ods-not-supported": ("x.xlsx", lambda: rezip(clean(), add={"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})),
    "macro-enabled": ("x.xlsx", lambda: rezip(clean(), add={"xl/vbaProject.bin": b"\x00" * 64})),
    "zip-bomb": ("x.xlsx", lambda: rezip(clean(), add={"xl/media/big.bin": bytes(3 * 2**20)})),
    "xml-entities": ("x.xlsx", lambda: rezip(clean(), replace={"xl/workbook.xml": (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>'
        + zipfile.ZipFile(io.BytesIO(clean())).read("xl/workbook.xml"))})),
    "xml-entities:late-doctype": ("x.xlsx", lambda: rezip(clean(), replace={"xl/workbook.xml": (
        b'<?xml version="1.0"?><!--' + b"x" * 5000 + b'--><!DOCTYPE workbook SYSTEM "http://example.com/x.dtd">'
        + zipfile.ZipFile(io.BytesIO(clean())).read("xl/workbook.xml").split(b"?>", 1)[-1])})),
    "missing-metadata": ("x.xlsx", lambda: (SAMPLES / "member_R131_fr_no-meta.xlsx").read_bytes()),
    "missing-metadata:bad-address": ("x.xlsx", lambda: with_meta("cell:trcpi1", "not a cell")),
    "not-our-workbook": ("x.xlsx", lambda: with_meta("format", "someone-else")),
    "not-our-workbook:layout": ("x.xlsx", lambda: with_meta("layout", "poster")),
    "unknown-format-version": ("x.xlsx", lambda: with_meta("format_version", "2")),
    "other-form": ("x.xlsx", lambda: with_meta("form_id", "partners")),
    "unknown-form-version": ("x.xlsx", lambda: with_meta("form_version", "0.9")),
    "hash-mismatch": ("x.xlsx", lambda: with_meta("form_hash", "0" * 64)),
    "missing-sheet": ("x.xlsx", lambda: with_meta("answer_sheet", "Réponses")),
    "empty-response": ("x.xlsx", lambda: (SAMPLES / "member_fr_blank.xlsx").read_bytes()),
    "unsupported-file": ("notes.txt", lambda: b"mes notes"),
    "missing-column": ("x.csv", lambda: b"respondent,trcpi1\nR1,4\n"),
    "other-form:csv": ("x.csv", lambda: b"id,q1,q2\n1,2,3\n"),
    "empty-file:csv-bom-only": ("x.csv", lambda: b"\xef\xbb\xbf"),
    "corrupt-file:csv-nul": ("x.csv", lambda: b"respondent\x00,x\n"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_each_refusal_has_its_stable_code(tmp_path, expected_form, case):
    file_name, make = REFUSALS[case]
    path = tmp_path / file_name
    path.write_bytes(make())
    result = read_file(path, expected_form)
    assert result.status == "rejected"
    assert result.code == case.split(":")[0], result.message
    assert result.rows == [] and result.problems[-1].code == result.code and result.message


def test_size_limits(tmp_path, expected_form, monkeypatch):
    path = tmp_path / "x.xlsx"
    path.write_bytes(clean())
    monkeypatch.setattr(returns_mod, "MAX_FILE_BYTES", 1000)
    assert read_file(path, expected_form).code == "file-too-large"
    monkeypatch.setattr(returns_mod, "MAX_FILE_BYTES", 50 * 2**20)
    monkeypatch.setattr(workbook_mod, "MAX_MEMBER_BYTES", 10_000)  # the answer sheet is ~25 kB
    assert read_file(path, expected_form).code == "sheet-too-large"


def test_unreadable_and_missing_paths_are_accounted_for(tmp_path, form):
    result = read_returns([tmp_path / "absent.xlsx", CLEAN], form, jobs=1)
    assert list(result.files["status"]) == ["rejected", "scored"]
    assert result.files["code"].iloc[0] == "unreadable-file"


def test_merged_answer_cell_is_refused(tmp_path, expected_form):
    wb = openpyxl.load_workbook(CLEAN)
    cell = PLANTED.meta_of(wb)["cell:trcpi1"]
    ws = wb["Questionnaire"]
    ws.merge_cells(f"{cell}:E{cell[1:]}")
    wb.save(tmp_path / "m.xlsx")
    result = read_file(tmp_path / "m.xlsx", expected_form)
    assert result.status == "scored-with-issues"
    assert [(p.code, p.item, p.cell) for p in result.problems] == [("merged-cell", "trcpi1", cell)]
    assert result.rows[0]["trcpi1"] is None


def test_context_answers_are_checked(tmp_path, expected_form):
    wb = openpyxl.load_workbook(CLEAN)
    meta = PLANTED.meta_of(wb)
    ws = wb["Questionnaire"]
    ws[meta["cell:years"]] = 75  # the range is 0-60
    ws[meta["cell:sector"]] = "Public ou privé"
    ws[meta["cell:domain"]] = "santé"  # a label without its code
    ws[meta["cell:consortium_id"]] = 101  # a text answer typed as a number
    wb.save(tmp_path / "c.xlsx")
    result = read_file(tmp_path / "c.xlsx", expected_form)
    assert {(p.code, p.item) for p in result.problems} == {("out-of-range", "years"), ("invalid-answer", "sector")}
    row = result.rows[0]
    assert row["years"] is None and row["sector"] is None
    assert row["domain"] == 1 and row["consortium_id"] == "101"


def test_warnings_keep_the_file_scored(tmp_path, expected_form, form):
    linked = tmp_path / "linked.xlsx"
    linked.write_bytes(rezip(clean(), add={"xl/externalLinks/externalLink1.xml": b"<externalLink/>"}))
    result = read_file(linked, expected_form)
    assert result.status == "scored" and [p.code for p in result.problems] == ["external-link"]
    latin = tmp_path / "latin.csv"
    header = ["respondent", "consortium_id", *form.item_ids]
    latin.write_bytes((";".join(header) + "\nR9;Montréal;" + ";".join(["3"] * len(form.item_ids)) + "\n").encode("cp1252"))
    result = read_file(latin, expected_form)
    assert result.status == "scored"
    assert sorted(p.code for p in result.problems) == ["no-metadata", "not-utf8"]
    assert result.rows[0]["consortium_id"] == "Montréal"


def test_read_returns_takes_an_expected_and_a_folder_recursively(tmp_path, expected_form):
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    (sub / "r.xlsx").write_bytes(clean())
    (sub / "~$r.xlsx").write_bytes(b"lock file of an open workbook")
    (sub / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "index").write_bytes(b"DIRC")
    result = read_returns([tmp_path], expected_form, jobs=1)
    assert list(result.files["file"].map(name)) == ["r.xlsx"]  # lock and hidden files skipped
    assert result.n_scored == 1 and math.isclose(result.responses["trcpi1"].notna().sum(), 1)
    # a file named twice (in a folder given and by its own name) is one file in
    again = read_returns([tmp_path, sub / "r.xlsx", sub / ".." / "b" / "r.xlsx"], expected_form, jobs=1)
    assert again.n_files == 1 and not [p for p in again.problems if p.code == "duplicate-respondent"]


@pytest.mark.tool
def test_workbooks_saved_again_by_libreoffice_give_the_same_outcome(tmp_path, form):
    """Returned files are often saved by a spreadsheet program: shared strings instead of
    inline ones, numbers re-encoded, booleans stored as =TRUE() formulas."""
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    names = ["member_R105_fr_messy-accepted.xlsx", "member_R106_fr_B_messy-refused.xlsx",
             "member_R107_en_formula-beside.xlsx"]
    (tmp_path / "in").mkdir()
    for n in names:
        shutil.copy(SAMPLES / n, tmp_path / "in" / n)
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "out"),
         *[str(tmp_path / "in" / n) for n in names]],
        check=True, capture_output=True, timeout=180,
    )
    assert all("xl/sharedStrings.xml" in zipfile.ZipFile(tmp_path / "out" / n).namelist() for n in names)
    ours = read_returns([SAMPLES / n for n in names], form, jobs=1)
    theirs = read_returns([tmp_path / "out"], form, jobs=1)
    assert list(theirs.files["status"]) == list(ours.files["status"])
    items = [*form.item_ids, "years", "sector"]
    pd.testing.assert_frame_equal(theirs.responses[items], ours.responses[items])

    def found(r):
        return sorted((name(p.file), p.code, p.item) for p in r.problems)

    # LibreOffice writes TRUE as the formula =TRUE(): still refused, as a formula
    expected = [("formula-in-answer" if c == "boolean-in-answer" else c) for c in (x[1] for x in found(ours))]
    assert sorted(x[1] for x in found(theirs)) == sorted(expected)
