"""Benchmark: two-level CFA (``pm.cfa(x, model, cluster="org")``) vs lavaan's
``cfa(model, x, cluster = "org")`` + ``fitMeasures`` + ``standardizedSolution``.

Data: (1) ../shared/reference/nested/nested_dev.csv, reverse keyed, complete rows (539
people in 123 organizations, 12 items, three factors at both levels: the golden test);
(2) simulated: 300 organizations of 2 to 20 people (N ~ 3,300), the same 12 five-point
items and model (seed 2024); (3) tests/reference/twolevel/nested_missing.csv (nested_dev with
5% of the answers blanked) by FIML (lavaan ``missing = "ml"``). Both sides compute the
standard errors (lavaan's ``parameterEstimates``). Wall and CPU seconds. Best of ``--repeat`` runs in one process; R times itself with
``system.time`` (no Rscript start-up).

    .venv/bin/python bench/bench_twolevel.py [--repeat 3] [--no-r]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import psychometrics as pm

HERE = Path(__file__).resolve().parent
NESTED = HERE.parents[1] / "shared" / "reference" / "nested"
MISSING = HERE.parent / "tests" / "reference" / "twolevel" / "nested_missing.csv"
FACTORS = {f: [f"{f}{i}" for i in range(1, 5)] for f in ("TRU", "SOC", "LRN")}
ITEMS = [i for v in FACTORS.values() for i in v]
SYNTAX = "level: 1\n" + "\n".join(f"{f}w =~ {' + '.join(v)}" for f, v in FACTORS.items()) + \
    "\nlevel: 2\n" + "\n".join(f"{f}b =~ {' + '.join(v)}" for f, v in FACTORS.items()) + "\n"

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
model <- paste(readLines(a[2]), collapse = "\n"); reps <- as.integer(a[3])
out <- list()
for (path in strsplit(a[1], ",")[[1]]) {
  d <- read.csv(path)
  miss <- if (grepl("missing", path)) "ml" else "listwise"
  run <- function() { f <- cfa(model, data = d, cluster = "org", missing = miss)
                      standardizedSolution(f); parameterEstimates(f)
                      fitMeasures(f, c("chisq", "df", "cfi", "tli", "rmsea", "srmr_within", "srmr_between")) }
  st <- replicate(reps, system.time(suppressWarnings(run())))
  k <- which.min(st["elapsed", ])
  out[[basename(path)]] <- list(time = st["elapsed", k], cpu = st["user.self", k] + st["sys.self", k],
                                chisq = unname(suppressWarnings(run())[1]))
}
out$lavaan <- as.character(packageVersion("lavaan"))
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
"""


def nested_dev() -> pd.DataFrame:
    keys = json.loads((NESTED / "keys_nested_dev.json").read_text())
    x = pd.read_csv(NESTED / "nested_dev.csv")
    for scale in keys["scales"].values():
        for k in scale:
            if k.startswith("-"):
                x[k[1:]] = keys["max"] + keys["min"] - x[k[1:]]
    return x.loc[x[ITEMS].notna().all(axis=1), ["org", *ITEMS]]


def simulated(n_org: int = 300, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(2, 21, n_org)
    org = np.repeat(np.arange(n_org), sizes)
    lam = np.zeros((12, 3))
    for k in range(3):
        lam[4 * k:4 * k + 4, k] = rng.uniform(0.5, 0.8, 4)
    phi = np.full((3, 3), 0.3) + 0.7 * np.eye(3)
    fw = rng.multivariate_normal(np.zeros(3), phi, len(org))
    fb = rng.multivariate_normal(np.zeros(3), 0.3 * phi, n_org)[org]
    y = fw @ lam.T + fb @ lam.T + rng.normal(0, 0.6, (len(org), 12)) + rng.normal(0, 0.15, (n_org, 12))[org]
    codes = np.clip(np.round(3 + y), 1, 5)
    return pd.DataFrame(codes, columns=ITEMS).assign(org=[f"O{i:03d}" for i in org])


def best(f, repeat: int) -> tuple[float, float, object]:
    """Best wall and CPU seconds of ``repeat`` runs, and the last result."""
    times, cpus, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = f()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return min(times), min(cpus), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args(argv)
    sets = {"nested_dev.csv": nested_dev(), "simulated.csv": simulated(),
            "nested_missing.csv": pd.read_csv(MISSING)}
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, d in sets.items():
            paths.append(str(Path(tmp) / name))
            d.to_csv(paths[-1], index=False)
        r = {}
        if not args.no_r and shutil.which("Rscript"):
            (Path(tmp) / "b.R").write_text(R_SCRIPT)
            (Path(tmp) / "m.txt").write_text(SYNTAX)
            r = json.loads(subprocess.run(
                ["Rscript", str(Path(tmp) / "b.R"), ",".join(paths), str(Path(tmp) / "m.txt"),
                 str(args.repeat)], capture_output=True, text=True, check=True).stdout)
    print("| data | N / clusters | ours wall / CPU (s) | lavaan wall / CPU (s) | lavaan / ours (wall, CPU) "
          "| chisq ours / lavaan |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for name, d in sets.items():
        missing = "fiml" if "missing" in name else "listwise"
        t, cpu, fit = best(lambda d=d, m=missing: pm.cfa(d, SYNTAX, cluster="org", missing=m), args.repeat)
        rr = r.get(name, {})
        ratio = f"{rr['time'] / t:.1f}x, {rr['cpu'] / cpu:.1f}x" if rr else "-"
        print(f"| {name} | {fit.n} / {fit.clusters} | {t:.3f} / {cpu:.3f} | "
              f"{rr.get('time', float('nan')):.3f} / {rr.get('cpu', float('nan')):.3f} | "
              f"{ratio} | {fit.fit['chisq']:.4f} / {rr.get('chisq', float('nan')):.4f} |")
    if r:
        print(f"lavaan {r['lavaan']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
