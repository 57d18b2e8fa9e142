"""Benchmark: the network autocorrelation model, pm.lnam against R's sna::lnam.

Simulated network: 2,000 organizations, 10,000 undirected ties drawn uniformly among the
pairs (seed 2024), W the row-normalized adjacency; y = (I - 0.3 W)^-1 (X beta + e) with
X = [1, member (0/1), x1 (normal)]. Timed, in one run:

  * pm.weights + pm.lnam(y, X, W1=W) (the eigenvalues of W, the fit, the exact Hessian),
    best of ``--repeat`` runs;
  * sna::lnam(y, X, W1 = W) inside R (system.time; Rscript start-up and reading the CSV
    excluded), one run (it takes minutes: a dense determinant per likelihood evaluation and
    a numerical Hessian).
The estimates of both are printed side by side. R runs only when ``Rscript`` is on the
PATH. From the repository root:

    .venv/bin/python bench/bench_lnam.py [--sizes 500:2500,2000:10000] [--repeat 3]

Both elapsed and CPU time are reported: on a shared machine the CPU time (user + system
of the process, R's ``system.time`` user.self + sys.self) is the steadier comparison. BLAS is
single-threaded on both sides (R's reference BLAS here; OPENBLAS_NUM_THREADS=1 for R).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import linalg as splinalg

import psychometrics as pm


def simulate(n: int, m: int, seed: int = 2024) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    codes = [f"O{i:05d}" for i in range(n)]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < m:
        a, b = rng.integers(0, n, size=2)
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    ties = pd.DataFrame([(codes[a], codes[b]) for a, b in sorted(pairs)], columns=["from", "to"])
    orgs = pd.DataFrame(
        {"org": codes, "member_org": rng.integers(0, 2, n), "x1": rng.normal(size=n)}
    )
    w = pm.weights(ties, orgs)
    xb = 0.2 + 0.5 * orgs.member_org + 0.3 * orgs.x1 + rng.normal(size=n)
    orgs["outcome"] = splinalg.spsolve(sparse.csc_array(sparse.eye_array(n) - 0.3 * w), xb)
    return orgs, ties


R_SCRIPT = r"""
suppressPackageStartupMessages({ library(sna); library(jsonlite) })
a <- commandArgs(trailingOnly = TRUE)
o <- read.csv(a[1], stringsAsFactors = FALSE); ties <- read.csv(a[2], stringsAsFactors = FALSE)
n <- nrow(o); idx <- setNames(seq_len(n), o$org)
A <- matrix(0, n, n); A[cbind(idx[ties$from], idx[ties$to])] <- 1; A <- pmax(A, t(A))
d <- rowSums(A); W <- A; W[d > 0, ] <- A[d > 0, ] / d[d > 0]
X <- cbind(1, o$member_org, o$x1)
tm <- system.time(ln <- lnam(o$outcome, X, W1 = W))
writeLines(toJSON(list(seconds = tm[["elapsed"]], cpu = tm[["user.self"]] + tm[["sys.self"]], rho1 = unname(ln$rho1), rho1_se = unname(ln$rho1.se),
                       beta = unname(ln$beta), loglik = ln$lnlik.model),
                  auto_unbox = TRUE, digits = NA), a[3])
"""


def ours(orgs: pd.DataFrame, ties: pd.DataFrame, repeat: int) -> tuple[float, float, object]:
    """Best elapsed and best CPU time (this process) of weights + lnam over ``repeat`` runs."""
    best, best_cpu, fit = np.inf, np.inf, None
    x = pd.DataFrame({"const": 1.0, "member_org": orgs.member_org, "x1": orgs.x1})
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fit = pm.lnam(orgs.outcome, x, pm.weights(ties, orgs))
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best, best_cpu, fit


def r_lnam(orgs: pd.DataFrame, ties: pd.DataFrame) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        orgs.to_csv(d / "orgs.csv", index=False)
        ties.to_csv(d / "ties.csv", index=False)
        (d / "run.R").write_text(R_SCRIPT)
        cmd = ["Rscript", str(d / "run.R"), str(d / "orgs.csv"), str(d / "ties.csv")]
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        subprocess.run([*cmd, str(d / "out.json")], check=True, capture_output=True, env=env)
        return json.loads((d / "out.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--sizes",
        default="2000:10000",
        help="organizations:ties pairs, comma-separated (e.g. 500:2500,2000:10000)",
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true", help="time pm.lnam only")
    a = ap.parse_args()
    for size in a.sizes.split(","):
        n, m = (int(v) for v in size.split(":"))
        orgs, ties = simulate(n, m)
        secs, cpu, fit = ours(orgs, ties, a.repeat)
        print(f"n = {n}, ties = {m}", flush=True)
        print(
            f"  pm.lnam:   {secs:8.3f} s elapsed, {cpu:8.3f} s CPU  rho1 = {fit.rho1:.6f} "
            f"(se {fit.rho1_se:.6f})  loglik = {fit.loglik:.6f}",
            flush=True,
        )
        r = None if a.no_r else r_lnam(orgs, ties)
        if r is None:
            continue
        print(
            f"  sna::lnam: {r['seconds']:8.3f} s elapsed, {r['cpu']:8.3f} s CPU  rho1 = {r['rho1']:.6f} "
            f"(se {r['rho1_se']:.6f})  loglik = {np.ravel(r['loglik'])[0]:.6f}",
            flush=True,
        )
        print(
            f"  sna / ours: {r['seconds'] / secs:.1f}x elapsed, {r['cpu'] / cpu:.1f}x CPU",
            flush=True,
        )


if __name__ == "__main__":
    main()
