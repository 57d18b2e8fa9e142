"""Fuzz ``instrument.datafile.read_data`` (the data files of ``validate``) with atheris. Not
part of pytest; the reader of returned files has ``fuzz_reader.py`` (whose in-zip mutations,
Unicode-path extra fields included, this one reuses).

    mkdir -p /tmp/fuzz-data /tmp/fuzz-crashes
    .venv/bin/python tests/fuzz/fuzz_data.py -max_total_time=600 -rss_limit_mb=1536 -timeout=30 \\
        -artifact_prefix=/tmp/fuzz-crashes/ /tmp/fuzz-data tests/corpus/data

A crash is: ``read_data`` raising anything but a ``DataError`` with a kebab-case code, or the
process dying (an abort, a timeout, memory over ``-rss_limit_mb``). Inputs are written as
.xlsx (zips), .parquet (``PAR1``), .sav (``$FL2``) or .csv (anything else).

Runs of 2026-12-07 (atheris 3.0.0, ``pip install -e ".[fuzz]"``; machine shared, load 10-14;
``-max_len=65536 -dict=tests/fuzz/xlsx.dict``): 15 minutes, 61,545 executions, 433 edges; then
10 minutes, 106,433 executions, 438 edges; no crash, no timeout, RSS flat at 244 MB.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports():
    from instrument.datafile import DataError, read_data

from fuzz_reader import custom_mutator  # the same in-zip and extra-field mutations

CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
WORK = Path(tempfile.mkdtemp(prefix="fuzz-data-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))


def test_one_input(data: bytes) -> None:
    suffix = (".xlsx" if data[:2] == b"PK" else ".parquet" if data[:4] == b"PAR1"
              else ".sav" if data[:4] == b"$FL2" else ".csv")
    path = WORK / f"input{suffix}"
    path.write_bytes(data)
    try:
        read_data(path)
    except DataError as exc:
        if not CODE.match(exc.code):
            raise AssertionError(f"a DataError without a kebab-case code: {exc.code!r}") from None


def main() -> None:
    atheris.Setup(sys.argv, test_one_input, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
