"""``validate`` at scale: 100,000 respondents x 40 items, peak memory and wall time.

    .venv/bin/python bench/bench_validate_large.py [--n 100000] [--n-boot 1000]

Runs ``psychometrics.validate`` (the whole validation behind ``intangibles validate``:
items, reliability with 1,000 bootstrap resamples per scale, factorability, parallel
analysis, EFA, CFA, careless responding) in a fresh process and reports its peak resident
memory (``ru_maxrss``, so NumPy and BLAS allocations count) and wall time. The goal of issue
14: under 1 GB and 30 s (before: 3.5 GB and a MemoryError in ``bootstrap_reliability``, whose
(1,000 x 100,000) resample indices and counts are now drawn in chunks of 2,000,000 cells).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
from _data import likert
import psychometrics as pm

x, scales = likert({n}, n_items=40)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
v = pm.validate(x, {{"scales": scales, "min": 1, "max": 5}}, n_boot={n_boot}, seed=1)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "peak_mb": peak, "data_mb": before,
                   "ready": {{s: e["ready"] for s, e in v.results["scales"].items()}}}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()
    code = CHILD.format(bench=str(ROOT / "bench"), n=args.n, n_boot=args.n_boot)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    if run.returncode:
        sys.exit(run.stderr[-3000:])
    out = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"validate {args.n:,} x 40, n_boot {args.n_boot}: {out['seconds']:.1f} s, peak RSS {out['peak_mb']:.0f} MB "
          f"(after building the data: {out['data_mb']:.0f} MB); ready: {out['ready']}")


if __name__ == "__main__":
    main()
