"""Benchmark: a Monte Carlo study of a CFA, ours vs R (lavaan::simulateData + cfa, as simsem).

Population: 4 correlated factors (r = .3) of 5 continuous items each, standardized loadings
.7 (residual variances .51); each replication draws N = 300 respondents and fits the true
4-factor CFA by ML, keeping the chi-square test (type I error at .05) and convergence.

    .venv/bin/python bench/bench_montecarlo.py [--reps 500] [--r-reps 50] [--no-r] [--no-dask]

Timed (wall clock and CPU time, generation + fit + summary, in one run):
  ours, 1 process     pm.monte_carlo(pop, [300], reps, analyses=("cfa",), processes=1)
  ours, 2 processes   the same with processes=2 (spawned pool, start-up included; CPU of
                      this process and of the pool's, reaped at its end)
  Dask, 1 / 2 workers LocalCluster(n_workers=1 or 2, threads_per_worker=1, processes=True),
                      scheduler=client; cluster start-up and the workers' first import of
                      psychometrics excluded (client.run(import_module) before the clock),
                      the run's scatter and streaming included; CPU of the workers
                      (time.process_time on each, before and after) + this process (the
                      scheduler and the client live in it)
  R                   a loop of simulateData(pop_model, sample.nobs = 300) + cfa(model, x)
                      + fitMeasures(fit, "pvalue"), --r-reps replications, timed with
                      system.time inside R (Rscript start-up excluded), scaled per replication
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
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
st <- system.time(for (r in seq_len(reps)) {
  x <- simulateData(pop, sample.nobs = n)
  fit <- cfa(model, data = x)
  ok[r] <- lavInspect(fit, "converged")
  p[r] <- fitMeasures(fit, "pvalue")
})
cat(toJSON(list(elapsed = st[["elapsed"]], cpu = st[["user.self"]] + st[["sys.self"]],
                reps = reps, reject = mean(p < 0.05), converged = mean(ok),
                lavaan = as.character(packageVersion("lavaan")), R = R.version.string),
           auto_unbox = TRUE, digits = NA))
"""


def children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def timed(**kwargs) -> tuple[float, float, pm.montecarlo.MonteCarlo]:
    """Wall and CPU seconds (this process and its reaped children) of one run."""
    start, cpu = time.perf_counter(), time.process_time() + children_cpu()
    res = pm.monte_carlo(POP, [N], analyses=("cfa",), seed=2026, **kwargs)
    return time.perf_counter() - start, time.process_time() + children_cpu() - cpu, res


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


def run_dask(reps: int, workers: int) -> tuple[float, float, pm.montecarlo.MonteCarlo, list[float]]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        client.run(importlib.import_module, "psychometrics.montecarlo")
        before = client.run(time.process_time)
        seconds, cpu, res = timed(reps=reps, scheduler=client)
        after = client.run(time.process_time)
    each = [after[w] - before[w] for w in sorted(after)]
    print(f"  Dask {workers}: CPU of each worker {', '.join(f'{c:.2f}' for c in each)} s; "
          f"this process (scheduler + client) {cpu:.2f} s", flush=True)
    return seconds, cpu + sum(each), res


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=500)
    ap.add_argument("--r-reps", type=int, default=50)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args(argv)
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rows = []

    def add(name, seconds, cpu, res):
        cfa = res.summary[N]["cfa"]
        rows.append((name, seconds, cpu, args.reps, cfa["reject"], cfa["converged"]))
        print(f"{name}: {seconds:.1f} s wall, {cpu:.1f} s CPU, reject {cfa['reject']:.3f}", flush=True)

    one = timed(reps=args.reps, processes=1)
    add("ours, 1 process", *one)
    two = timed(reps=args.reps, processes=2)
    assert two[2].table.equals(one[2].table), "2 processes must give the numbers of 1 process"
    add("ours, 2 processes", *two)
    if not args.no_dask:
        for w in (1, 2):
            run = run_dask(args.reps, w)
            assert run[2].table.equals(one[2].table), "Dask must give the numbers of 1 process"
            add(f"ours, Dask {w} worker{'s' if w > 1 else ''}", *run[:3])
    r = None if args.no_r else run_r(args.r_reps)
    if r:
        rows.append((f"R {r['R'].split(' (')[0]}, lavaan {r['lavaan']}", r["elapsed"], r["cpu"],
                     r["reps"], r["reject"], r["converged"]))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print("\n| run | reps | wall (s) | CPU (s) | wall per replication (ms) | CPU per replication (ms) "
          "| chi-square rejected at .05 | converged |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, seconds, cpu, reps, reject, conv in rows:
        print(f"| {name} | {reps} | {seconds:.1f} | {cpu:.1f} | {1000 * seconds / reps:.1f} "
              f"| {1000 * cpu / reps:.1f} | {reject:.3f} | {conv:.3f} |")
    wall = {name: seconds / reps for name, seconds, _, reps, *_ in rows}
    cpu = {name: c / reps for name, _, c, reps, *_ in rows}
    if r:
        r_name = rows[-1][0]
        print(f"\nR / ours, wall: {wall[r_name] / wall['ours, 1 process']:.1f}x (1 process), "
              f"{wall[r_name] / wall['ours, 2 processes']:.1f}x (2 processes); "
              f"CPU: {cpu[r_name] / cpu['ours, 1 process']:.1f}x (1 process)")
    if not args.no_dask:
        print(f"Dask speed-up 1 -> 2 workers (wall): "
              f"{wall['ours, Dask 1 worker'] / wall['ours, Dask 2 workers']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
