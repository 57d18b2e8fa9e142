"""Fuzz ``instrument.returns.read_file`` with atheris (libFuzzer). Not part of pytest.
(``fuzz_data.py`` beside it fuzzes ``validate``'s data-file reader the same way.)

    mkdir -p /tmp/fuzz-corpus /tmp/fuzz-crashes
    .venv/bin/python tests/fuzz/fuzz_reader.py -max_total_time=720 -max_len=65536 -rss_limit_mb=1024 -timeout=20 \\
        -dict=tests/fuzz/xlsx.dict -artifact_prefix=/tmp/fuzz-crashes/ \\
        /tmp/fuzz-corpus data_samples/returned tests/corpus/returned

Seeds: the sample returned files (valid, messy and grid workbooks, CSV files) and the hostile
corpus; libFuzzer only writes new inputs into the first folder. Most inputs are mutated INSIDE the zip: one part (a sheet,
``_meta``, the shared strings, workbook.xml...) is mutated by libFuzzer and the zip is written
again, so mutations reach the XML instead of breaking the zip's CRCs (a third of them are
"semantic": a cell moved far away, a position unquoted or dropped, a formula or an error value
put in a cell, a declared count inflated, entities declared, rows repeated, a blank or
whitespace-only cell added far away); the rest mutate
the raw bytes (zip structure, CSV).

A crash is: ``read_file`` raising anything, a status other than the three, a problem without
a kebab-case code, a kept file without rows, or the process dying (libFuzzer reports aborts,
timeouts and memory over ``-rss_limit_mb``). Every crash found is kept as a regression case in
``tests/corpus`` (``tests/corpus/make_corpus.py``) with its fix.

Install: ``.venv/bin/python -m pip install -e ".[fuzz]"`` (atheris; a wheel exists for
CPython 3.11 on manylinux x86_64, so nothing is compiled).

Runs of 2026-12-07 (issue 14, second round; atheris 3.0.0 installed into the project's venv;
2 cores shared with six other engineers, load 10-14, so executions per second are low; rss
limit 1 GB, ``nice -n 10``), each seeded with the samples, the hostile corpus and the inputs
the earlier runs kept:

- main as this session found it (02a4485), 10 minutes: 73,962 executions,
  680 edges, no crash, no timeout, RSS 235 MB (the venv's imports; flat);
- after the rewritten sheets (the exact pass feeds calamine only the cells holding a value),
  15 minutes: 28,037 executions (load 14), 855 edges, no crash;
- with the semantic mutation adding blank or whitespace-only cells far away: 10 minutes,
  35,886 executions, 871 edges; then 14 minutes, 107,088 executions, 890 edges; no crash,
  no timeout, RSS flat at 235 MB.

Nothing was found, so nothing was added to ``tests/corpus`` from these runs.

Earlier runs (2026-11-26, as recorded by the session that wrote the harness):

- on the fixed reader: three runs of 13 minutes (byte and in-zip mutations; then seeded with
  the hostile corpus; then with the semantic mutations): 215,591 + 252,998 + 257,034
  executions, coverage 547 -> 585 edges, no crash, no timeout, RSS under 64 MB;
- on the reader before its fix (commit f4f097e), the semantic mutations found within a
  minute two inputs that abort the process (python-calamine asking for 12.8 GB and 2.7 TB):
  ``tests/fuzz/crashes/``, kept in the corpus as ``returned/fuzz-*.xlsx``; byte mutations
  alone had found nothing in 5 minutes there (the far-apart-cells and declared-count aborts
  were found by hand, see ``tests/corpus``).
"""

from __future__ import annotations

import io
import os
import random
import re
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

with atheris.instrument_imports():
    from instrument.answers import AnswerCoder  # noqa: F401  (instrumented for coverage)
    from instrument.returns import REJECTED, SCORED, WITH_ISSUES, Expected, read_file

from instrument.form import load_form  # noqa: E402

EXPECTED = Expected.from_form(load_form(ROOT / "data_samples" / "form_member.yaml"))
WORK = Path(tempfile.mkdtemp(prefix="fuzz-reader-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
PARTS_FIRST = ("xl/worksheets/", "xl/sharedStrings.xml", "xl/workbook.xml", "xl/_rels/", "xl/styles.xml")


_REFS = [b"A1", b"D15", b"XFD1048576", b"Z1000000", b"A0", b"d15", b"$D$15", b"AAAA1", b"D99999999", b""]
_NUMBERS = [b"0", b"1", b"-1", b"4000000000", b"99999999999999999999", b"1048577", b"65536"]


def semantic(content: bytes, rng: random.Random) -> bytes:
    """A mutation that knows SpreadsheetML: move a cell far away, drop or requote a position,
    put a formula or an error in a cell, inflate a declared count, declare entities."""
    kind = rng.randrange(8)
    cells = [m.span(1) for m in re.finditer(rb'\br="([^"]*)"', content)]
    if kind == 0 and cells:  # a cell or row position replaced
        a, b = rng.choice(cells)
        return content[:a] + rng.choice(_REFS) + content[b:]
    if kind == 1 and cells:  # a position attribute removed, or single-quoted
        a, b = rng.choice(cells)
        if rng.random() < 0.5:
            return content[: a - 3] + content[b + 1 :]
        return content[: a - 1] + b"'" + content[a:b] + b"'" + content[b + 1 :]
    if kind == 2:  # a formula or an error value in a cell
        spots = [m.end() for m in re.finditer(rb"<c\b[^>]*>", content)]
        if spots:
            at = rng.choice(spots)
            return content[:at] + rng.choice([b"<f>1+1</f>", b'<f t="shared" si="0"/>', b"<x:f>1</x:f>"]) + content[at:]
    if kind == 3:  # a declared count inflated
        counts = [m.span(1) for m in re.finditer(rb'(?:count|uniqueCount)="([0-9]*)"', content)]
        if counts:
            a, b = rng.choice(counts)
            return content[:a] + rng.choice(_NUMBERS) + content[b:]
    if kind == 4:  # entities declared
        return b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + content.replace(b"<t>", b"<t>&a;", 1)
    if kind == 5:  # a cell's type changed
        types = [m.span(1) for m in re.finditer(rb'\bt="([a-zA-Z]*)"', content)]
        if types:
            a, b = rng.choice(types)
            return content[:a] + rng.choice([b"e", b"s", b"b", b"d", b"str", b"n", b"inlineStr", b"x"]) + content[b:]
    if kind == 6:  # rows or merged ranges repeated
        rows = [m.span() for m in re.finditer(rb"<row\b.*?</row>|<mergeCell [^>]*/>", content, re.S)]
        if rows:
            a, b = rng.choice(rows)
            return content[:b] + content[a:b] * rng.choice([2, 10, 100]) + content[b:]
    if kind == 7 and b"</sheetData>" in content:  # a blank, styled or whitespace-only cell far away
        ref = rng.choice([*_REFS[:4], b"XFD81", b"AA70000"])
        row = re.match(rb"[A-Z]*([0-9]*)", ref).group(1) or b"1"
        cell = rng.choice([b'<c r="%s" s="1"/>', b'<c r="%s" t="inlineStr"><is><t> </t></is></c>',
                           b'<c r="%s" t="s"><v>0</v></c>', b'<c r="%s" t="str"><v> </v></c>']) % ref
        return content.replace(b"</sheetData>", b'<row r="%s">%s</row></sheetData>' % (row, cell), 1)
    return content


def unicode_path(name: str) -> bytes:
    """An Info-ZIP Unicode-path extra field (0x7075) naming ``name``."""
    raw = name.encode()
    return struct.pack("<HH", 0x7075, 5 + len(raw)) + struct.pack("<BI", 1, 0) + raw


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    if data[:2] == b"PK" and rng.random() < 0.85:
        try:
            zin = zipfile.ZipFile(io.BytesIO(data))
            infos = zin.infolist()
            xml = [i for i in infos if i.filename.startswith(PARTS_FIRST)] or infos
            target = rng.choice(xml).filename
            content = zin.read(target)
            out = io.BytesIO()
            names = [i.filename for i in infos]
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
                for info in infos:
                    body = zin.read(info.filename)
                    fresh = zipfile.ZipInfo(info.filename, date_time=info.date_time)
                    fresh.compress_type = zipfile.ZIP_DEFLATED
                    if info.filename == target:
                        if rng.random() < 0.15:  # issue 14: an extra field (a Unicode path naming a part, or bytes)
                            fresh.extra = unicode_path(rng.choice(names)) if rng.random() < 0.7 else rng.randbytes(12)
                        elif rng.random() < 0.35:
                            body = semantic(content, rng)
                        else:
                            body = atheris.Mutate(content, len(content) + 4096)
                    zout.writestr(fresh, body)
            result = out.getvalue()
            if len(result) <= max_size:
                return result
        except Exception:  # a damaged zip: mutate its raw bytes instead
            pass
    return atheris.Mutate(data, max_size)


def test_one_input(data: bytes) -> None:
    # zips and OLE files as .xlsx; other bytes as .csv or .xlsx (by their last byte) to reach both readers
    text = not data.startswith((b"PK", b"\xd0")) and (not data or data[-1] % 2 == 0)
    suffix = ".csv" if text else ".xlsx"
    path = WORK / f"input{suffix}"
    path.write_bytes(data)
    result = read_file(path, EXPECTED)
    if result.status not in (SCORED, WITH_ISSUES, REJECTED):
        raise AssertionError(f"status {result.status!r}")
    for p in result.problems:
        if not CODE.match(p.code) or not p.message:
            raise AssertionError(f"problem without a code or message: {p!r}")
    if result.status == REJECTED and (result.rows or not CODE.match(result.code)):
        raise AssertionError(f"rejected with rows or without a code: {result.code!r}")
    if result.status != REJECTED and not result.rows:
        raise AssertionError("kept without a row")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
