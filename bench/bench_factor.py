"""Benchmark: EFA and parallel analysis vs factor_analyzer and R's psych.

Data: N = 5,000 simulated respondents x 40 items (4 correlated factors, 10 items each,
5-point Likert), seed 2024. Timings are the best of ``--repeat`` runs in one process,
each tool on the same CSV; R times itself with ``system.time`` (no Rscript start-up).

    .venv/bin/python bench/bench_factor.py [--repeat 3] [--no-r]

Tasks
  efa       pm.efa(x, 4)  (minres + oblimin)
            FactorAnalyzer(4, method="minres", rotation="oblimin").fit(x)
            psych::fa(x, nfactors = 4, fm = "minres", rotate = "oblimin")
  parallel  pm.parallel_analysis(x, n_iter=100, method="pc")
            psych::fa.parallel(x, n.iter = 100, fa = "pc", plot = FALSE)
  parallel_fa  pm.parallel_analysis(x, n_iter=100, method="fa")   (SMC-reduced)
            psych::fa.parallel(x, n.iter = 100, fa = "fa", SMC = TRUE, plot = FALSE)
            and psych's default fa.parallel(x, n.iter = 100, plot = FALSE) (fa = "both",
            one minres fit per replicate) for reference
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import psychometrics as pm

N, P, K = 5000, 40, 4

R_SCRIPT = r"""
suppressPackageStartupMessages({library(psych); library(GPArotation); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1]); reps <- as.integer(args[2])
best <- function(expr) min(replicate(reps, system.time(eval(expr))[["elapsed"]]))
set.seed(1)
out <- list(
  efa = best(quote(fa(x, nfactors = 4, fm = "minres", rotate = "oblimin"))),
  parallel = best(quote(invisible(capture.output(fa.parallel(x, n.iter = 100, fa = "pc", plot = FALSE))))),
  parallel_fa = best(quote(invisible(capture.output(fa.parallel(x, n.iter = 100, fa = "fa", SMC = TRUE, plot = FALSE))))),
  parallel_default = best(quote(invisible(capture.output(fa.parallel(x, n.iter = 100, plot = FALSE))))),
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych")))
)
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
"""


def simulate(seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    phi = np.full((K, K), 0.3) + 0.7 * np.eye(K)
    f = rng.multivariate_normal(np.zeros(K), phi, size=N)
    lam = np.zeros((P, K))
    for j in range(P):
        lam[j, j // (P // K)] = rng.uniform(0.5, 0.8)
    latent = f @ lam.T + rng.standard_normal((N, P)) * np.sqrt(1 - (lam**2).sum(axis=1))
    cuts = np.array([-1.5, -0.5, 0.5, 1.5])
    items = 1 + (latent[:, :, None] > cuts).sum(axis=2)
    return pd.DataFrame(items.astype(float), columns=[f"i{j + 1}" for j in range(P)])


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def factor_analyzer_efa(x: pd.DataFrame) -> None:
    from factor_analyzer import FactorAnalyzer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        FactorAnalyzer(n_factors=K, method="minres", rotation="oblimin").fit(x)


def run_r(csv: Path, repeat: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(R_SCRIPT)
    out = subprocess.run(["Rscript", fh.name, str(csv), str(repeat)], capture_output=True,
                         text=True, check=True)
    Path(fh.name).unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    args = ap.parse_args(argv)
    x = simulate()
    pm.efa(x.iloc[:300, :8], 2)  # warm-up: imports

    ours = {
        "efa": best(lambda: pm.efa(x, K), args.repeat),
        "parallel": best(lambda: pm.parallel_analysis(x, n_iter=100, seed=1), args.repeat),
        "parallel_fa": best(lambda: pm.parallel_analysis(x, n_iter=100, seed=1, method="fa"),
                            args.repeat),
    }
    fa_py = {"efa": best(lambda: factor_analyzer_efa(x), args.repeat)}
    r = None
    if not args.no_r:
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "bench.csv"
            x.to_csv(csv, index=False)
            r = run_r(csv, args.repeat)

    pa = pm.parallel_analysis(x, n_iter=100, seed=1)
    print(f"data: N = {N}, {P} items, {K} factors; parallel analysis suggests {pa.n_factors}")
    print(f"{'task':<18}{'ours (s)':>10}{'factor_analyzer':>17}{'psych (s)':>11}{'psych/ours':>12}")
    for task in ("efa", "parallel", "parallel_fa"):
        fa_t = fa_py.get(task)
        r_t = r.get(task) if r else None
        print(f"{task:<18}{ours[task]:>10.4f}"
              f"{(f'{fa_t:.4f}' if fa_t is not None else '-'):>17}"
              f"{(f'{r_t:.3f}' if r_t is not None else '-'):>11}"
              f"{(f'{r_t / ours[task]:.1f}x' if r_t else '-'):>12}")
    if r:
        d = r["parallel_default"]
        print(f"{'psych default fa.parallel (fa = both)':<40}{d:.3f} s = "
              f"{d / ours['parallel']:.0f}x ours (pc)")
        print(f"{r['versions']['R']}, psych {r['versions']['psych']}")
    print(f"factor_analyzer/ours on efa: {fa_py['efa'] / ours['efa']:.1f}x")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
