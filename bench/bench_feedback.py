"""Feedback reports: time to write 100 consortium reports (HTML + PDF + summary.json each).

Issue 17 asks for under a minute. Data: 100 consortia x 12 respondents x 12 five-point
items (3 scales of 4 items, one reverse keyed), seed 2026, every consortium reported.
No peer writes such reports; the figure is compared with the goal, and the share of the
time spent in WeasyPrint is printed (the PDF is the costly part).

    .venv/bin/python bench/bench_feedback.py [--consortia 100] [--per 12] [--jobs 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pandas as pd

from instrument import feedback as fb
from instrument import feedback_report as fr


def data(consortia: int, per: int, seed: int = 2026) -> tuple[pd.DataFrame, fb.Study]:
    rng = np.random.default_rng(seed)
    n = consortia * per
    group = np.repeat([f"C{k:03d}" for k in range(1, consortia + 1)], per)
    shift = np.repeat(rng.normal(0, 0.4, consortia), per)
    items = {}
    for scale in ("TRU", "SOC", "LRN"):
        trait = rng.normal(0, 1, n) + shift
        for j in range(1, 5):
            x = np.clip(np.round(3 + 0.9 * trait + rng.normal(0, 0.8, n)), 1, 5)
            items[f"{scale}{j}"] = 6 - x if j == 4 else x
    frame = pd.DataFrame({"consortium": group, **items})
    keys = {"scales": {s: [f"{s}1", f"{s}2", f"{s}3", f"-{s}4"] for s in ("TRU", "SOC", "LRN")}, "min": 1, "max": 5}
    return frame, fb.study_from_keys(keys)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consortia", type=int, default=100)
    parser.add_argument("--per", type=int, default=12)
    parser.add_argument("--jobs", type=int, default=0)
    args = parser.parse_args()
    frame, study = data(args.consortia, args.per)
    start = time.perf_counter()
    views = fr.build_views(frame, study, "consortium", lang="fr", min_group=5)
    numbers = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        fr.write_feedback(views, out, lang="fr", study=study, min_group=5, pdf=False, jobs=args.jobs)
        html = time.perf_counter() - start
        start = time.perf_counter()
        fr.write_feedback(views, out, lang="fr", study=study, min_group=5, pdf=True, jobs=args.jobs)
        full = time.perf_counter() - start
    print(f"{args.consortia} consortia x {args.per} respondents: numbers {numbers:.2f} s; writing HTML + "
          f"summary.json {html:.1f} s; HTML + PDF + summary.json {full:.1f} s; all {numbers + full:.1f} s "
          f"(goal: under 60 s)")


if __name__ == "__main__":
    main()
