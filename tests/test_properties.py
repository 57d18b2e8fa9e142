"""Property-based tests (hypothesis) of the readers and the scorer: whatever a cell holds,
whatever bytes a file holds, reading never crashes and every problem has a code; scores do
not depend on the order of the files and never leave [low, high]."""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instrument.form import load_form
from instrument.returns import (
    REJECTED,
    SCORED,
    WITH_ISSUES,
    Expected,
    Returns,
    read_file,
    read_returns,
)
from instrument.scoring import score_returns
from instrument.simulate import Design, simulate, write_workbooks

ROOT = Path(__file__).resolve().parents[1]
CLEAN = ROOT / "data_samples" / "returned" / "member_R101_fr.xlsx"
CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                            HealthCheck.too_slow])

FORM = load_form(ROOT / "data_samples" / "form_member.yaml")
EXPECTED = Expected.from_form(FORM)
CLEAN_BYTES = CLEAN.read_bytes()


def check(result) -> None:
    """What every outcome must satisfy, whatever the input."""
    assert result.status in (SCORED, WITH_ISSUES, REJECTED)
    for p in result.problems:
        assert CODE.match(p.code) and p.message, p
        assert p.severity in ("error", "warning")
    if result.status == REJECTED:
        assert CODE.match(result.code) and result.rows == []
    else:
        assert result.rows
        allowed = set(EXPECTED.codes) | set(EXPECTED.missing_codes)
        for row in result.rows:
            assert all(row[i] is None or row[i] in allowed for i in EXPECTED.items)
        if result.status == WITH_ISSUES:
            assert any(p.severity == "error" for p in result.problems)


# ----------------------------------------------------------------------------- arbitrary cell values
cell_values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=60),
    st.sampled_from(["4 - Plutôt d'accord", "plutot d'accord", " 4 ", "4,0", "3, 4", "=2+2", "=HYPERLINK(\"x\")",
                     "+1", "-1", "@SUM(A1)", "\t4", "8 - Je ne sais pas", "9", "TRUE", "#N/A", "1e3", "٤"]),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)),
    st.times(),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=900)),
)
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses to write


def _writable(v):
    return _ILLEGAL.sub("?", v) if isinstance(v, str) else v


@pytest.fixture(scope="module")
def meta_cells():
    wb = openpyxl.load_workbook(CLEAN)
    return {r[0].value[5:]: r[1].value for r in wb["_meta"].iter_rows() if str(r[0].value).startswith("cell:")}


@SETTINGS
@given(values=st.dictionaries(st.sampled_from([*EXPECTED.items, *EXPECTED.context]), cell_values, min_size=1, max_size=12),
       respondent=st.one_of(st.none(), st.text(max_size=40)))
def test_any_cell_value_written_by_openpyxl_never_crashes_the_reader(tmp_path, meta_cells, values, respondent):
    wb = openpyxl.load_workbook(io.BytesIO(CLEAN_BYTES))
    ws = wb["Questionnaire"]
    for qid, value in values.items():
        ws[meta_cells[qid]] = _writable(value)
    if respondent is not None:
        for row in wb["_meta"].iter_rows():
            if row[0].value == "respondent":
                row[1].value = _writable(respondent)
    path = tmp_path / "answers.xlsx"
    wb.save(path)
    result = read_file(path, EXPECTED)
    check(result)
    # a formula typed in an answer cell is refused, never evaluated
    for qid, value in values.items():
        if isinstance(value, str) and value.startswith("=") and len(value) > 1 and result.status != REJECTED:
            assert result.rows[0][qid] is None
            assert any(p.code == "formula-in-answer" and p.item == qid for p in result.problems)
    # a code typed as a number in an item cell is read as that code
    for qid, value in values.items():
        if qid in EXPECTED.items and type(value) is int and value in (1, 2, 3, 4, 5, 8, 9) and result.status != REJECTED:
            assert result.rows[0][qid] == value


# ----------------------------------------------------------------------------- arbitrary bytes
@SETTINGS
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".xlsx", ".csv", ".xls", ".txt", ""]))
def test_random_bytes_never_crash_the_reader(tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    check(read_file(path, EXPECTED))


@SETTINGS
@given(edits=st.lists(st.tuples(st.integers(0, len(CLEAN_BYTES) - 1), st.integers(0, 255)), min_size=1, max_size=20),
       cut=st.one_of(st.none(), st.integers(0, len(CLEAN_BYTES))))
def test_random_byte_mutations_of_a_valid_workbook_never_crash_the_reader(tmp_path, edits, cut):
    data = bytearray(CLEAN_BYTES)
    for at, byte in edits:
        data[at] = byte
    path = tmp_path / "m.xlsx"
    path.write_bytes(bytes(data[:cut]))
    check(read_file(path, EXPECTED))


_PARTS = [i.filename for i in zipfile.ZipFile(CLEAN).infolist()]


@SETTINGS
@given(target=st.sampled_from(_PARTS), at=st.floats(0, 1), insert=st.sampled_from(
    [b"<f>1</f>", b'<c r="XFD1048576"><v>1</v></c>', b"<!DOCTYPE x>", b"</row>", b"<row>", b"<c>", b"\x00",
     b'<mergeCell ref="A1:XFD1048576"/>', b"&amp;", b"&lol;", b"<", b'"', b"\xff\xfe", b"", b'<sheet name="_meta"/>']),
    delete=st.integers(0, 64))
def test_mutations_inside_the_zip_never_crash_the_reader(tmp_path, target, at, insert, delete):
    """Mutations that reach the XML (the zip and its checksums are rebuilt)."""
    src = zipfile.ZipFile(io.BytesIO(CLEAN_BYTES))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == target:
                k = int(at * len(body))
                body = body[:k] + insert + body[k + delete :]
            z.writestr(info.filename, body)
    path = tmp_path / "z.xlsx"
    path.write_bytes(out.getvalue())
    check(read_file(path, EXPECTED))


# ----------------------------------------------------------------------------- the scorer
@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim")
    sample = simulate(FORM, 24, seed=5, design=Design(missing=0.2, dont_know=0.05, not_applicable=0.05, careless=0.1))
    return sorted(write_workbooks(FORM, sample, folder))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_scores_do_not_depend_on_the_order_of_the_files(simulated, data):
    order = data.draw(st.permutations(simulated))
    first = score_returns(read_returns(simulated, FORM, jobs=1), FORM)
    other = score_returns(read_returns(list(order), FORM, jobs=1), FORM)
    key = ["respondent"]
    a = first.drop(columns=["source_file", "source_place"]).sort_values(key).reset_index(drop=True)
    b = other.drop(columns=["source_file", "source_place"]).sort_values(key).reset_index(drop=True)
    scales = [s.name for s in FORM.scales] + [f"{s.name}_n" for s in FORM.scales]
    pd.testing.assert_frame_equal(a[["respondent", *FORM.item_ids, *scales]], b[["respondent", *FORM.item_ids, *scales]])
    # careless indices use the whole sample (covariances): equal up to the order of the sums
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)


def _returns(matrix: np.ndarray) -> Returns:
    items = list(FORM.item_ids)
    frame = pd.DataFrame(matrix, columns=items).astype("Int64")
    n = len(frame)
    head = pd.DataFrame({"respondent": [f"P{i}" for i in range(n)], "source_file": "x.csv", "source_place": "",
                         "language": "fr", "order_version": "A"})
    context = pd.DataFrame({q: pd.array([None] * n, dtype="Int64") for q in EXPECTED.context})
    files = pd.DataFrame({"file": ["x.csv"], "status": ["scored"], "code": [""], "message": [""],
                          "respondents": [n], "problems": [0]})
    return Returns(responses=pd.concat([head, context, frame], axis=1), files=files, problems=())


answer = st.sampled_from([1, 2, 3, 4, 5, 8, 9, None])


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(answer, min_size=len(FORM.item_ids), max_size=len(FORM.item_ids)), min_size=1, max_size=12),
       min_answered=st.floats(0, 1))
def test_scores_never_leave_the_scale_range(rows, min_answered):
    rs = FORM.response_set
    table = score_returns(_returns(np.array(rows, dtype=object)), FORM, min_answered=min_answered)
    for scale in FORM.scales:
        values = table[scale.name].astype("float64")
        ok = values.isna() | ((values >= rs.low) & (values <= rs.high))
        assert ok.all(), (scale.name, values[~ok].tolist())
        answered = table[f"{scale.name}_n"].astype("float64")
        assert ((answered >= 0) & (answered <= len(scale.keys))).all()
        # a score exists exactly when enough items were answered (missing codes 8/9 never count)
        assert (values.notna() == (answered > 0) & (answered >= min_answered * len(scale.keys) - 1e-9)).all()


# ----------------------------------------------------------------------------- zip extra fields (issue 14)
_MEMBERS = [i.filename for i in zipfile.ZipFile(io.BytesIO(CLEAN_BYTES)).infolist()]
_SHEETS = [n for n in _MEMBERS if n.startswith("xl/")]
extra_field = st.one_of(
    st.binary(max_size=40),  # arbitrary, often malformed, extra data
    st.builds(lambda name, version, crc: struct.pack("<HH", 0x7075, 5 + len(name.encode()))
              + struct.pack("<BI", version, crc) + name.encode(),
              st.one_of(st.sampled_from(_MEMBERS), st.text(max_size=30)), st.integers(0, 255), st.integers(0, 2**32 - 1)),
)


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(_MEMBERS), extra_field, min_size=1, max_size=4),
       decoy=st.one_of(st.none(), st.sampled_from(_SHEETS)))
def test_zip_extra_fields_never_crash_the_reader_nor_reach_calamine(tmp_path, fields, decoy):
    """Any extra field (Unicode-path fields naming another part, garbage) on any member, and
    optionally a decoy part holding a formula that claims a real part's name: the outcome is
    coded, and nothing of the decoy is ever read (no cached 1 in trcpi1)."""
    src = zipfile.ZipFile(io.BytesIO(CLEAN_BYTES))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            fresh.compress_type = zipfile.ZIP_DEFLATED
            fresh.extra = fields.get(info.filename, b"")
            z.writestr(fresh, src.read(info.filename))
        if decoy is not None:
            body = re.sub(rb'<c r="D15"[^>]*?>.*?</c>', b'<c r="D15"><f>0+1</f><v>1</v></c>', src.read(decoy), count=1)
            fake = zipfile.ZipInfo("xl/zz.xml", date_time=(2026, 1, 1, 0, 0, 0))
            fake.extra = struct.pack("<HH", 0x7075, 5 + len(decoy)) + struct.pack("<BI", 1, 0) + decoy.encode()
            z.writestr(fake, body)
    path = tmp_path / "w.xlsx"
    path.write_bytes(out.getvalue())
    result = read_file(path, EXPECTED)
    check(result)
    if decoy is not None:
        assert result.status == REJECTED and result.code in ("unsafe-zip", "corrupt-file")  # a garbage field may come first
    if result.rows:
        assert result.rows[0]["trcpi1"] != 1 or not any(p.code == "formula-in-answer" for p in result.problems)


# ----------------------------------------------------------------------------- validate's data files (issue 14)
@SETTINGS
@given(data=st.one_of(st.binary(max_size=4096),
                      st.builds(lambda edits: _mutated(CLEAN_BYTES, edits),
                                st.lists(st.tuples(st.integers(0, len(CLEAN_BYTES) - 1), st.integers(0, 255)),
                                         min_size=1, max_size=10))),
       suffix=st.sampled_from([".xlsx", ".csv", ".parquet", ".sav"]))
def test_any_bytes_as_a_data_file_give_a_frame_or_a_coded_error(tmp_path, data, suffix):
    """validate's reader: whatever the bytes, a DataFrame or a DataError with a kebab-case code."""
    from instrument.datafile import DataError, read_data

    path = tmp_path / f"d{suffix}"
    path.write_bytes(data)
    try:
        frame = read_data(path)
    except DataError as exc:
        assert CODE.match(exc.code) and exc.message
    else:
        assert isinstance(frame, pd.DataFrame) and not frame.empty


def _mutated(data: bytes, edits) -> bytes:
    buf = bytearray(data)
    for at, value in edits:
        buf[at] = value
    return bytes(buf)


# ----------------------------------------------------------------------------- blanks far away, moved columns
SHEET = "xl/worksheets/sheet2.xml"  # the answer sheet of the clean workbook
CLEAN_ROW = read_file(CLEAN, EXPECTED).rows[0]


def _with_sheet(edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(CLEAN_BYTES))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info.filename)
            z.writestr(info.filename, edit(body) if info.filename == SHEET else body)
    return out.getvalue()


blank_cells = st.sampled_from(['<c r="{ref}"/>', '<c r="{ref}" s="3"/>', '<c r="{ref}" t="inlineStr"><is><t> </t></is></c>',
                               '<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">\u00a0 \t</t></is></c>',
                               '<c r="{ref}" t="str"><v>  </v></c>', '<c r="{ref}"><v></v></c>'])


@SETTINGS
@given(row=st.integers(82, 1_048_576), col=st.integers(0, 16_383), cell=blank_cells)
def test_blank_cells_anywhere_change_nothing(tmp_path, row, col, cell):
    """An empty, styled or whitespace-only cell, wherever it is (below the questions, in any
    column up to XFD, down to row 1,048,576), is not data: the return reads as the clean one
    (it used to be refused whole as sheet-too-large past 500,000 cells from A1)."""
    from instrument.workbook import cell_name

    xml = cell.format(ref=cell_name(row - 1, col)).encode()
    data = _with_sheet(lambda b: b.replace(b"</sheetData>", b'<row r="%d">%s</row></sheetData>' % (row, xml)))
    path = tmp_path / "blank.xlsx"
    path.write_bytes(data)
    result = read_file(path, EXPECTED)
    assert result.status == SCORED and not result.problems, result.message
    assert result.rows[0] == {**CLEAN_ROW, "source_file": str(path)}


column_edits = st.one_of(
    st.tuples(st.just("insert"), st.integers(1, 6), st.integers(1, 3)),
    st.tuples(st.just("delete"), st.integers(1, 5), st.integers(1, 2)),
    st.tuples(st.just("swap"), st.integers(1, 6), st.integers(1, 6)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(edit=column_edits)
def test_columns_moved_never_move_answers_silently(tmp_path, edit):
    """Columns inserted, deleted or swapped anywhere in A..F: the return either reads exactly
    as the clean one (the answers did not move) or is refused as layout-changed; never other
    answers, never a few cells refused while the rest is scored from shifted cells."""
    from openpyxl.cell.cell import MergedCell

    kind, a, b = edit
    wb = openpyxl.load_workbook(io.BytesIO(CLEAN_BYTES))
    ws = wb["Questionnaire"]
    if kind == "insert":
        ws.insert_cols(a, b)
    elif kind == "delete":
        ws.delete_cols(a, b)
    else:
        for r in range(1, ws.max_row + 1):
            x, y = ws.cell(r, a), ws.cell(r, b)
            if not isinstance(x, MergedCell) and not isinstance(y, MergedCell):
                x.value, y.value = y.value, x.value
    path = tmp_path / "moved.xlsx"
    wb.save(path)
    result = read_file(path, EXPECTED)
    if result.status == REJECTED:
        assert result.code == "layout-changed" and [p.code for p in result.problems] == ["layout-changed"], result.message
    else:
        assert result.status == SCORED and not result.problems, (edit, result.message, result.problems[:3])
        items = {i: result.rows[0][i] for i in EXPECTED.items}
        assert items == {i: CLEAN_ROW[i] for i in EXPECTED.items}, edit


def _trimmed(grid) -> list:
    """A grid with whitespace-only texts as blanks and no blank rows or columns at its ends."""
    rows = [["" if isinstance(v, str) and not v.strip() else v for v in row] for row in grid]
    while rows and all(v == "" for v in rows[-1]):
        rows.pop()
    width = max((max((j + 1 for j, v in enumerate(row) if v != ""), default=0) for row in rows), default=0)
    return [row[:width] + [""] * (width - len(row[:width])) for row in rows]


@SETTINGS
@given(values=st.dictionaries(st.tuples(st.integers(0, 30), st.integers(0, 8)), cell_values, min_size=1, max_size=25))
def test_the_rewritten_sheet_reads_as_the_original(monkeypatch, values):
    """The exact pass's rewrite (what calamine reads when a sheet needs it) gives calamine the
    same values as the sheet itself, whatever the cells hold (numbers, texts, dates, times,
    booleans, formulas' cached values), whitespace-only texts aside: they become blanks."""
    import instrument.workbook as workbook_mod

    wb = openpyxl.Workbook()
    for (r, c), value in values.items():
        wb.active.cell(r + 1, c + 1).value = _writable(value)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    quick = workbook_mod.Workbook(data).read("Sheet")
    monkeypatch.setattr(workbook_mod._Archive, "_scan_quick", lambda *_a: None)  # force the exact pass
    exact = workbook_mod.Workbook(data).read("Sheet")
    assert _trimmed(exact.grid) == _trimmed(quick.grid)
    assert exact.flagged == quick.flagged
