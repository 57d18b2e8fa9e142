"""Benchmark: the chain SEM (ML and WLSMV) and 1,000 bootstrap replications of its indirect
effects, against lavaan.

Data: ``tests/reference/sem/chain.csv`` (600 respondents x 12 five-point items written by
``make_sem_reference.R``) and the same chain model (IND -> ORG -> ECO -> USR, IND -> USR,
three ``:=`` indirect/total effects). Timed, in one run:

  * ``pm.sem(x, model)`` and ``pm.sem(x, model, estimator="WLSMV")``, best of ``--repeat``;
  * ``pm.sem(x, model, n_boot=1000, seed=1)`` (percentile CIs of the defined parameters),
    one run;
  * lavaan 0.6-14: ``sem(model, data = x)``, ``sem(..., ordered = names(x), estimator =
    "WLSMV")`` (best of ``--repeat``) and ``sem(..., se = "bootstrap", bootstrap = 1000)``
    then ``parameterEstimates(boot.ci.type = "perc")`` (one run), each timed inside R
    (``system.time``; Rscript start-up excluded).

R parts run only when ``Rscript`` is on the PATH. Run from the repository root:

    .venv/bin/python bench/bench_sem.py [--repeat 3] [--n-boot 1000]
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

import pandas as pd

import psychometrics as pm

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference" / "sem"

R_SCRIPT = r"""
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1]); model <- readLines(args[2]); repeats <- as.integer(args[3])
n_boot <- as.integer(args[4])
best <- function(f) { t <- Inf; for (k in seq_len(repeats)) t <- min(t, system.time(out <- f())["elapsed"]); list(t = unname(t), fit = out) }
ml <- best(function() sem(model, data = x)); fit_ml <- ml$fit; t_ml <- ml$t
w <- best(function() sem(model, data = x, ordered = names(x), estimator = "WLSMV")); fit_w <- w$fit; t_w <- w$t
set.seed(1)
t_b <- system.time({
  fit_b <- sem(model, data = x, se = "bootstrap", bootstrap = n_boot)
  pb <- parameterEstimates(fit_b, boot.ci.type = "perc")
})["elapsed"]
pb <- pb[pb$op == ":=", ]
cat(toJSON(list(ml = t_ml, wlsmv = t_w, boot = unname(t_b),
                chisq_ml = fitMeasures(fit_ml, "chisq")[[1]],
                chisq_scaled = fitMeasures(fit_w, "chisq.scaled")[[1]],
                lhs = pb$lhs, lower = pb$ci.lower, upper = pb$ci.upper), auto_unbox = TRUE, digits = NA))
"""


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def run_r(model: str, repeat: int, n_boot: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "model.txt").write_text(model)
        (tmp / "bench.R").write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(tmp / "bench.R"), str(REF / "chain.csv"),
                              str(tmp / "model.txt"), str(repeat), str(n_boot)],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args(argv)
    x = pd.read_csv(REF / "chain.csv")
    model = json.loads((REF / "sem.json").read_text())["chain"]["model"]
    t_ml, ml = best(lambda: pm.sem(x, model), args.repeat)
    t_w, w = best(lambda: pm.sem(x, model, estimator="WLSMV"), args.repeat)
    t_b, b = best(lambda: pm.sem(x, model, n_boot=args.n_boot, seed=1), 1)
    r = run_r(model, args.repeat, args.n_boot)
    ours = {"ML": t_ml, "WLSMV": t_w, f"bootstrap x {args.n_boot}": t_b}
    theirs = dict(zip(ours, (r["ml"], r["wlsmv"], r["boot"]), strict=True)) if r else {}
    for label, t in ours.items():
        line = f"chain SEM 600 x 12, {label}: ours {t:.3f} s"
        if r:
            line += f"; lavaan {theirs[label]:.3f} s ({theirs[label] / t:.1f}x)"
        print(line, flush=True)
    if r:
        defined = b.estimates[b.estimates["op"] == ":="].set_index("lhs")
        ci = max(max(abs(defined.loc[n, "ci_lower"] - lo), abs(defined.loc[n, "ci_upper"] - hi))
                 for n, lo, hi in zip(r["lhs"], r["lower"], r["upper"], strict=True))
        print(f"agreement: chisq ML {abs(ml.fit['chisq'] - r['chisq_ml']):.2g}, chisq scaled "
              f"(WLSMV) rel {abs(w.fit['chisq_scaled'] / r['chisq_scaled'] - 1):.2g}; bootstrap "
              f"percentile CI bounds max |diff| {ci:.3f} (Monte Carlo; {len(b.bootstrap)} "
              "replications kept)")


if __name__ == "__main__":
    sys.exit(main())
