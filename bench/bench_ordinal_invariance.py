"""Benchmark: ordinal measurement invariance, 4 steps (configural, thresholds, loadings,
intercepts) with their scaled difference tests, vs semTools::measEq.syntax + lavaan.

Ours: ``pm.invariance(x, model, "grp", estimator="WLSMV", partial=[])`` (the four steps
exactly, no item search). R: for each step ``measEq.syntax(model, data, ordered, group,
ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016", group.equal = ...)`` then
``cfa(..., estimator = "WLSMV")`` and ``fitMeasures``, plus the three
``lavTestLRT(method = "satorra.2000")`` comparisons. Data: (1) sim2g.csv of
tests/reference/ordinal_invariance (2 x 400, 8 five-point items, 2 factors); (2) a larger
simulated set: 2 x 1,500 answers to 16 five-point items on 4 factors (seed 2024). Best of
``--repeat`` in one process; R times itself with ``system.time``.

    .venv/bin/python bench/bench_ordinal_invariance.py [--repeat 3] [--no-r]
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
SIM2G = HERE.parent / "tests" / "reference" / "ordinal_invariance" / "sim2g.csv"

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1]); model <- paste(readLines(a[2]), collapse = "\n"); reps <- as.integer(a[3])
items <- setdiff(names(d), "grp")
steps <- list("", "thresholds", c("thresholds", "loadings"), c("thresholds", "loadings", "intercepts"))
run <- function() {
  fits <- lapply(steps, function(ge) {
    syn <- measEq.syntax(model, data = d, ordered = items, group = "grp", ID.fac = "std.lv",
                         ID.cat = "Wu.Estabrook.2016", group.equal = ge)
    f <- cfa(as.character(syn), data = d, ordered = items, group = "grp", estimator = "WLSMV")
    fitMeasures(f, c("chisq.scaled", "cfi.scaled", "rmsea.scaled")); f })
  for (i in 2:4) lavTestLRT(fits[[i - 1]], fits[[i]], method = "satorra.2000")
  fitMeasures(fits[[4]], "chisq.scaled")
}
t <- min(replicate(reps, system.time(suppressWarnings(run()))[["elapsed"]]))
cat(toJSON(list(time = t, chisq = unname(suppressWarnings(run())),
                lavaan = as.character(packageVersion("lavaan")),
                semTools = as.character(packageVersion("semTools"))), auto_unbox = TRUE, digits = NA))
"""


def simulated(n: int = 1500, seed: int = 2024) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    model = {f"F{k + 1}": [f"i{4 * k + j + 1}" for j in range(4)] for k in range(4)}
    lam = np.zeros((16, 4))
    for k in range(4):
        lam[4 * k:4 * k + 4, k] = rng.uniform(0.55, 0.8, 4)
    phi = np.full((4, 4), 0.35) + 0.65 * np.eye(4)
    frames = []
    for g, shift in (("A", 0.0), ("B", 0.4)):
        f = rng.multivariate_normal(np.zeros(4), phi, n)
        y = f @ lam.T + rng.normal(size=(n, 16)) * np.sqrt(1 - (lam**2).sum(axis=1))
        y[:, 2] += shift
        cuts = np.array([-1.5, -0.5, 0.4, 1.3])
        frames.append(pd.DataFrame((y[:, :, None] > cuts).sum(axis=2) + 1,
                                   columns=[i for v in model.values() for i in v]).assign(grp=g))
    return pd.concat(frames, ignore_index=True), model


def r_time(data: pd.DataFrame, model: dict, repeat: int, tmp: Path) -> dict:
    (tmp / "b.R").write_text(R_SCRIPT)
    data.to_csv(tmp / "d.csv", index=False)
    (tmp / "m.txt").write_text("\n".join(f"{f} =~ {' + '.join(v)}" for f, v in model.items()))
    out = subprocess.run(["Rscript", str(tmp / "b.R"), str(tmp / "d.csv"), str(tmp / "m.txt"),
                          str(repeat)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args(argv)
    ys = [f"y{i}" for i in range(1, 9)]
    sets = {"sim2g (2 x 400, 8 items)": (pd.read_csv(SIM2G), {"F1": ys[:4], "F2": ys[4:]}),
            "simulated (2 x 1,500, 16 items)": simulated()}
    print("| data | ours (s) | semTools + lavaan (s) | R / ours | chisq_scaled (intercepts) ours / R |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, (data, model) in sets.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            inv = pm.invariance(data, model, "grp", estimator="WLSMV", partial=[])
            times.append(time.perf_counter() - t)
        r = {}
        if not args.no_r and shutil.which("Rscript"):
            with tempfile.TemporaryDirectory() as tmp:
                r = r_time(data, model, args.repeat, Path(tmp))
        ours = min(times)
        ratio = f"{r['time'] / ours:.1f}x" if r else "-"
        print(f"| {name} | {ours:.3f} | {r.get('time', float('nan')):.3f} | {ratio} | "
              f"{inv.table.loc['intercepts', 'chisq_scaled']:.4f} / {r.get('chisq', float('nan')):.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
