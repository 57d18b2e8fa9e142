"""Benchmark: a Monte Carlo study of a CFA, ours vs R (lavaan::simulateData + cfa, as simsem).

Population: 4 correlated factors (r = .3) of 5 continuous items each, standardized loadings
.7 (residual variances .51); each replication draws N = 300 respondents and fits the true
4-factor CFA by ML, keeping the chi-square test (type I error at .05) and convergence.

    .venv/bin/python bench/bench_montecarlo.py [--reps 500] [--r-reps 50] [--no-r] [--no-dask]

Timed (wall clock, generation + fit + summary, in one run):
  ours, 1 process     pm.monte_carlo(pop, [300], reps, analyses=("cfa",), processes=1)
  ours, 2 processes   the same with processes=2 (spawned pool, start-up included)
  Dask, 1 / 2 workers LocalCluster(n_workers=1 or 2, threads_per_worker=1), scheduler=client
                      (cluster start-up excluded, the run's scatter and streaming included)
  R                   a loop of simulateData(pop_model, sample.nobs = 300) + cfa(model, x)
                      + fitMeasures(fit, "pvalue"), --r-reps replications, timed with
                      system.time inside R (Rscript start-up excluded), scaled per replication
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psychometrics as pm

K, PER, N = 4, 5, 300
FACTORS = {f"F{k + 1}": [f"x{k * PER + j + 1}" for j in range(PER)] for k in range(K)}
POP = pm.Population(factors=FACTORS, loadings=0.7, phi=0.3, categories=None)

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lavaan); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
reps <- as.integer(args[1]); n <- as.integer(args[2])
factors <- paste0("F", 1:4)
items <- lapply(0:3, function(k) paste0("x", k * 5 + 1:5))
model <- paste(sapply(1:4, function(k) paste(factors[k], "=~", paste(items[[k]], collapse = " + "))), collapse = "\n")
pop <- paste(c(
  sapply(1:4, function(k) paste(factors[k], "=~", paste0("0.7*", items[[k]], collapse = " + "))),
  sapply(unlist(items), function(i) paste0(i, " ~~ 0.51*", i)),
  sapply(factors, function(f) paste0(f, " ~~ 1*", f)),
  combn(factors, 2, function(p) paste0(p[1], " ~~ 0.3*", p[2]))), collapse = "\n")
set.seed(1)
p <- numeric(reps); ok <- logical(reps)
elapsed <- system.time(for (r in seq_len(reps)) {
  x <- simulateData(pop, sample.nobs = n)
  fit <- cfa(model, data = x)
  ok[r] <- lavInspect(fit, "converged")
  p[r] <- fitMeasures(fit, "pvalue")
})[["elapsed"]]
cat(toJSON(list(elapsed = elapsed, reps = reps, reject = mean(p < 0.05), converged = mean(ok),
                lavaan = as.character(packageVersion("lavaan")), R = R.version.string),
           auto_unbox = TRUE, digits = NA))
"""


def timed(**kwargs) -> tuple[float, pm.montecarlo.MonteCarlo]:
    start = time.perf_counter()
    res = pm.monte_carlo(POP, [N], analyses=("cfa",), seed=2026, **kwargs)
    return time.perf_counter() - start, res


def run_r(reps: int) -> dict | None:
    if not shutil.which("Rscript"):
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPT)
    try:
        out = subprocess.run(["Rscript", f.name, str(reps), str(N)], capture_output=True, text=True, check=True)
    finally:
        os.unlink(f.name)
    return json.loads(out.stdout)


def run_dask(reps: int, workers: int) -> float:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        seconds, _ = timed(reps=reps, scheduler=client)
    return seconds


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--r-reps", type=int, default=50)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rows = []
    one, res = timed(reps=args.reps, processes=1)
    cfa = res.summary[N]["cfa"]
    rows.append(("ours, 1 process", one, args.reps, cfa["reject"], cfa["converged"]))
    print(f"ours 1 process: {one:.1f} s, {1000 * one / args.reps:.1f} ms/rep, reject {cfa['reject']:.3f}", flush=True)
    two, res2 = timed(reps=args.reps, processes=2)
    assert res2.table.equals(res.table), "2 processes must give the numbers of 1 process"
    rows.append(("ours, 2 processes", two, args.reps, cfa["reject"], cfa["converged"]))
    print(f"ours 2 processes: {two:.1f} s", flush=True)
    if not args.no_dask:
        for w in (1, 2):
            seconds = run_dask(args.reps, w)
            rows.append((f"ours, Dask {w} worker{'s' if w > 1 else ''}", seconds, args.reps, cfa["reject"], cfa["converged"]))
            print(f"dask {w}: {seconds:.1f} s", flush=True)
    r = None if args.no_r else run_r(args.r_reps)
    if r:
        rows.append((f"R {r['R'].split(' (')[0]}, lavaan {r['lavaan']}", r["elapsed"], r["reps"], r["reject"], r["converged"]))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("\n| run | reps | total (s) | per replication (ms) | chi-square rejected at .05 | converged |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, seconds, reps, reject, conv in rows:
        print(f"| {name} | {reps} | {seconds:.1f} | {1000 * seconds / reps:.1f} | {reject:.3f} | {conv:.3f} |")
    per = {name: seconds / reps for name, seconds, reps, *_ in rows}
    if r:
        r_per = r["elapsed"] / r["reps"]
        print(f"\nR / ours (1 process): {r_per / per['ours, 1 process']:.1f}x; "
              f"R / ours (2 processes): {r_per / per['ours, 2 processes']:.1f}x")
    if not args.no_dask:
        print(f"Dask speed-up 1 -> 2 workers: {per['ours, Dask 1 worker'] / per['ours, Dask 2 workers']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
