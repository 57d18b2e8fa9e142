"""Benchmark: reading and scoring returned workbooks, ours vs the loop a researcher writes.

Data: N (default 2,000) returned workbooks of ``data_samples/form_member.yaml`` (40 items,
5 context questions, French and English, order versions A and B) written by the project's
simulator (``instrument.simulate.simulate`` + ``write_workbooks``) into a temporary folder.

Timed, in one run, on the same files:
  (a) what ``intangibles score`` does before writing: ``read_returns`` (every cell checked,
      every file accounted for; ``jobs`` = every core) + ``score_returns`` (reverse keys,
      scale means with the min_answered rule, careless-responding indices);
  (b) the loop a researcher would write: for each file ``pandas.read_excel(path,
      sheet_name="Questionnaire", engine="openpyxl")``, pick the answer cells (rows whose
      id column holds an item id), map the labels to codes, then the same scoring
      (missing codes set to NA, ``psychometrics.score`` and ``psychometrics.careless``).
Both give the same scores (checked). ``--profile`` prints a cProfile of ``read_returns``
in one process. Run from the repository root:

    .venv/bin/python bench/bench_scoring.py [--n 2000] [--jobs 0] [--repeat 3] [--profile] [--keep DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import psychometrics as pm
from instrument.form import load_form
from instrument.returns import read_returns
from instrument.scoring import score_returns
from instrument.simulate import simulate, write_workbooks

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "data_samples" / "form_member.yaml"


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        ram = f"{kb / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{os.cpu_count()} cores ({cpu}), {ram} RAM, Python {platform.python_version()}, "
            f"pandas {pd.__version__}; load average at start {load:.1f}")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def researcher(files: list[Path], form) -> pd.DataFrame:
    """The loop people write: read each workbook with pandas, pick the answers, map labels."""
    items = list(form.item_ids)
    wanted = set(items)
    to_code = {}
    for choice in form.response_set.all_choices():
        for text in choice.label.values():
            to_code[f"{choice.code} - {text}"] = choice.code
    rows = []
    for path in files:
        sheet = pd.read_excel(path, sheet_name="Questionnaire", header=None, engine="openpyxl")
        ids, answers = sheet[1], sheet[3]  # column B: item ids; column D: the answers
        row = {"respondent": path.stem.split("_", 1)[1]}
        for item, answer in zip(ids, answers, strict=True):
            if item in wanted:
                row[item] = to_code.get(answer, np.nan) if isinstance(answer, str) else np.nan
        rows.append(row)
    data = pd.DataFrame(rows, columns=["respondent", *items])
    rs = form.response_set
    scored = data[items].astype("float64")
    scored = scored.where(~scored.isin(rs.missing_codes))
    keys = {s.name: list(s.keys) for s in form.scales}
    scores = pm.score(scored, keys, low=rs.low, high=rs.high, min_answered=0.5)
    flags = pm.careless(scored, items, low=rs.low, high=rs.high).table
    return pd.concat([data, scores, flags], axis=1)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="number of returned workbooks")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes for read_returns (0 = every core)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (b); best and median reported")
    parser.add_argument("--profile", action="store_true", help="cProfile read_returns in one process")
    parser.add_argument("--keep", type=Path, help="write the workbooks here and keep them")
    args = parser.parse_args(argv)

    print(machine())
    form = load_form(SPEC)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_scoring_"))
    try:
        t = time.perf_counter()
        files = write_workbooks(form, simulate(form, args.n, seed=args.seed), folder)
        size = sum(p.stat().st_size for p in files)
        print(f"{len(files)} workbooks written in {time.perf_counter() - t:.1f} s ({size / 2**20:.1f} MiB)")

        scales = [s.name for s in form.scales]
        a_times, one_times, b_times, read_times, a_cpu, b_cpu = [], [], [], [], [], []
        for _ in range(args.repeat):
            # (a) ours; CPU time = this process + its worker processes (load-independent)
            c0, k0 = time.process_time(), children_cpu()
            t0 = time.perf_counter()
            returned = read_returns([folder], form, jobs=args.jobs)
            t1 = time.perf_counter()
            ours = score_returns(returned, form)
            t2 = time.perf_counter()
            a_cpu.append(time.process_time() - c0 + children_cpu() - k0)
            assert returned.n_files == returned.n_scored == len(files), returned.files["status"].value_counts()
            a_times.append(t2 - t0)
            read_times.append(t1 - t0)
            # the same, in one process
            t3 = time.perf_counter()
            one = read_returns([folder], form, jobs=1)
            score_returns(one, form)
            one_times.append(time.perf_counter() - t3)
            assert one.responses.equals(returned.responses)
            # (b) the researcher's loop
            c5, t5 = time.process_time(), time.perf_counter()
            theirs = researcher(sorted(files), form)
            b_times.append(time.perf_counter() - t5)
            b_cpu.append(time.process_time() - c5)
            np.testing.assert_allclose(ours[scales].to_numpy(float), theirs[scales].to_numpy(float), rtol=1e-12)
            assert list(ours["respondent"]) == list(theirs["respondent"])

        a, b, one_ = min(a_times), min(b_times), min(one_times)
        jobs = args.jobs or len(os.sched_getaffinity(0))
        n = len(files)

        def fmt(ts):
            return f"best {min(ts):.2f} s, median {statistics.median(ts):.2f} s"

        print(f"(a) intangibles score, read_returns jobs={jobs} + score_returns: {fmt(a_times)} "
              f"({a / n * 1e3:.2f} ms/file; reading alone best {min(read_times):.2f} s)")
        print(f"    the same with jobs=1: {fmt(one_times)} ({one_ / n * 1e3:.2f} ms/file)")
        print(f"(b) pandas.read_excel loop + the same scoring: {fmt(b_times)} ({b / n * 1e3:.2f} ms/file)")
        print(f"ratio (b)/(a), best times: {b / a:.1f}x (medians {statistics.median(b_times) / statistics.median(a_times):.1f}x); "
              f"jobs=1: {b / one_:.1f}x")
        print(f"CPU seconds (this process + workers), best: (a) {min(a_cpu):.2f} s, (b) {min(b_cpu):.2f} s, "
              f"ratio {min(b_cpu) / min(a_cpu):.1f}x")
        print("same scores in (a) and (b): yes (rtol 1e-12); load average at end "
              f"{os.getloadavg()[0]:.1f}")

        if args.profile:
            prof = cProfile.Profile()
            subset = sorted(files)[:300]
            prof.enable()
            read_returns(subset, form, jobs=1)
            prof.disable()
            pstats.Stats(prof).sort_stats("cumulative").print_stats(18)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
