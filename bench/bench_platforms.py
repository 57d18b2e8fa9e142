"""Benchmark: reading one survey platform's response export of N respondents (default 5,000).

Data: N simulated respondents of ``data_samples/form_member.yaml`` (40 items, 5 context
questions) written by ``instrument.platforms.write_export`` in every layout variant
(KoboToolbox CSV / XLSX / labels, ODK Central / Briefcase, LimeSurvey codes / full texts /
XLSX, REDCap raw / labels) into a temporary folder.

Timed, per file, best of ``--repeat`` runs, wall clock and CPU of this process:
  (a) ``instrument.returns.read_file``: detection, the map from columns to items through the
      form's own export naming, every cell checked, every row accounted for;
  (b) the peer: ``pandas.read_csv`` (or ``pandas.read_excel(engine="calamine")``) of the same
      file, parsing only (no mapping, no check): the floor a hand-written script starts from.
The machine is shared: CPU time is the figure that does not depend on the other processes.

    .venv/bin/python bench/bench_platforms.py [--n 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from instrument.form import load_form
from instrument.platforms import SOURCES, module, write_export
from instrument.returns import Expected, read_file
from instrument.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "data_samples" / "form_member.yaml"


def best(fn, repeat: int) -> tuple[float, float]:
    out = (float("inf"), float("inf"))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        out = min(out, (time.perf_counter() - wall, time.process_time() - cpu))
    return out


def peer(path: Path, source: str):
    if path.suffix == ".xlsx":
        return lambda: pd.read_excel(path, engine="calamine", dtype=str)
    sep = ";" if source == "kobo" and "comma" not in path.name else ","
    return lambda: pd.read_csv(path, sep=sep, dtype=str, encoding="utf-8-sig")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    form = load_form(SPEC)
    expected = Expected.from_form(form)
    frame = simulate(form, args.n, seed=2026).responses
    print(f"{args.n:,} respondents; wall / CPU seconds, best of {args.repeat}")
    print(f"{'export':28} {'size':>8} {'read_file':>16} {'pandas parse':>16} {'CPU ratio':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for source in SOURCES:
            for variant in module(source).VARIANTS:
                path = Path(tmp) / f"{source}_{variant}{'.xlsx' if variant == 'xlsx' else '.csv'}"
                write_export(form, frame, path, source, variant)
                result = read_file(path, expected)
                assert result.status == "scored" and len(result.rows) == args.n, (source, variant, result.message)
                ours = best(lambda p=path: read_file(p, expected), args.repeat)
                theirs = best(peer(path, source), args.repeat)
                print(f"{source + ' ' + variant:28} {path.stat().st_size / 2**20:7.1f}M "
                      f"{ours[0]:7.3f} / {ours[1]:6.3f} {theirs[0]:7.3f} / {theirs[1]:6.3f} {ours[1] / theirs[1]:8.1f}x")


if __name__ == "__main__":
    main()
