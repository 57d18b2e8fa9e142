"""Benchmark: the chain SEM (ML and WLSMV), a MIMIC model and an observed mediator (ML), and
1,000 bootstrap replications of their indirect effects, against lavaan.

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

The same for ``tests/reference/sem/observed.csv`` (500 x 12, make_observed_reference.R): the
``mimic`` model (2 observed covariates) and the ``mediator`` model (an observed mediator
and a covariate, two ``:=``), ML and the bootstrap of the defined parameters; and for
``tests/reference/sem/wlsmv_covariates.csv`` (500 x 6 five-point items + 2 covariates,
make_wlsmv_covariates_reference.R) the ``two_factors`` model by ML and by WLSMV given the
covariates (lavaan: ``ordered =`` the items, ``conditional.x = TRUE``). Wall and CPU
seconds for both (R: ``system.time``, elapsed and user + system).

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

import numpy as np
import pandas as pd

import psychometrics as pm

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference" / "sem"

R_SCRIPT = r"""
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1]); model <- readLines(args[2]); repeats <- as.integer(args[3])
n_boot <- as.integer(args[4]); ordinal <- args[5] == "1"
covariates <- if (length(args) > 5) strsplit(args[6], ",")[[1]] else character(0)
cpu <- function(st) unname(st["user.self"] + st["sys.self"])
best <- function(f) {
  t <- c(Inf, Inf)
  for (k in seq_len(repeats)) { st <- system.time(out <- f()); if (st[["elapsed"]] < t[1]) t <- c(st[["elapsed"]], cpu(st)) }
  list(t = t, fit = out)
}
ml <- best(function() sem(model, data = x)); fit_ml <- ml$fit; t_ml <- ml$t
t_w <- c(NA, NA); chisq_scaled <- NA
if (ordinal) {
  items <- setdiff(names(x), covariates)
  w <- best(function() sem(model, data = x, ordered = items, estimator = "WLSMV")); t_w <- w$t
  chisq_scaled <- fitMeasures(w$fit, "chisq.scaled")[[1]]
}
set.seed(1)
t_b <- c(NA, NA); pb <- data.frame(lhs = character(0), ci.lower = numeric(0), ci.upper = numeric(0))
if (n_boot > 0) {
  st <- system.time({
    fit_b <- sem(model, data = x, se = "bootstrap", bootstrap = n_boot)
    pb <- parameterEstimates(fit_b, boot.ci.type = "perc")
  })
  t_b <- c(st[["elapsed"]], cpu(st))
  pb <- pb[pb$op == ":=", ]
}
cat(toJSON(list(ml = t_ml, wlsmv = t_w, boot = unname(t_b),
                chisq_ml = fitMeasures(fit_ml, "chisq")[[1]],
                chisq_scaled = chisq_scaled,
                lhs = pb$lhs, lower = pb$ci.lower, upper = pb$ci.upper), auto_unbox = TRUE, digits = NA))
"""


def best(fn, repeat: int):
    """Best wall and CPU seconds of ``repeat`` runs, and the last result."""
    times, cpus, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return (min(times), min(cpus)), out


def run_r(data: Path, model: str, repeat: int, n_boot: int, ordinal: bool,
          covariates: tuple[str, ...] = ()) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "model.txt").write_text(model)
        (tmp / "bench.R").write_text(R_SCRIPT)
        out = subprocess.run(["Rscript", str(tmp / "bench.R"), str(data),
                              str(tmp / "model.txt"), str(repeat), str(n_boot), str(int(ordinal)),
                              ",".join(covariates)],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def one(label: str, data: Path, model: str, args, ordinal: bool,
        covariates: tuple[str, ...] = ()) -> None:
    """Time one model (ML, WLSMV when ``ordinal``: every column but the ``covariates``
    ordered, the bootstrap) against lavaan; wall and CPU seconds (best of ``--repeat``, the
    bootstrap once)."""
    x = pd.read_csv(data)
    runs = {"ML": (lambda: pm.sem(x, model), args.repeat)}
    if ordinal:
        runs["WLSMV"] = (lambda: pm.sem(x, model, estimator="WLSMV"), args.repeat)
    n_boot = args.n_boot if ":=" in model else 0  # the bootstrap of defined parameters
    if n_boot:
        runs[f"bootstrap x {n_boot}"] = (lambda: pm.sem(x, model, n_boot=n_boot, seed=1), 1)
    ours, fits = {}, {}
    for name, (fn, repeat) in runs.items():
        ours[name], fits[name] = best(fn, repeat)
    r = run_r(data, model, args.repeat, n_boot, ordinal, covariates)
    theirs = {"ML": r["ml"], "WLSMV": r["wlsmv"], f"bootstrap x {n_boot}": r["boot"]} if r else {}
    for name, (wall, cpu) in ours.items():
        line = f"{label}, {name}: ours {wall:.3f} s (CPU {cpu:.3f} s)"
        if r:
            r_wall, r_cpu = theirs[name]
            line += (f"; lavaan {r_wall:.3f} s (CPU {r_cpu:.3f} s): {r_wall / wall:.1f}x wall, "
                     f"{r_cpu / cpu:.1f}x CPU")
        print(line, flush=True)
    if r:
        ml = fits["ML"]
        line = f"  agreement: chisq ML {abs(ml.fit['chisq'] - r['chisq_ml']):.2g}"
        if ordinal:
            line += f", chisq scaled (WLSMV) rel {abs(fits['WLSMV'].fit['chisq_scaled'] / r['chisq_scaled'] - 1):.2g}"
        if n_boot:
            b = fits[f"bootstrap x {n_boot}"]
            defined = b.estimates[b.estimates["op"] == ":="].set_index("lhs")
            ci = max(max(abs(defined.loc[n, "ci_lower"] - lo), abs(defined.loc[n, "ci_upper"] - hi))
                     for n, lo, hi in zip(np.atleast_1d(r["lhs"]), np.atleast_1d(r["lower"]),
                                          np.atleast_1d(r["upper"]), strict=True))
            line += (f"; bootstrap percentile CI bounds max |diff| {ci:.3f} (Monte Carlo; "
                     f"{len(b.bootstrap)} replications kept)")
        print(line)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n-boot", type=int, default=1000)
    args = ap.parse_args(argv)
    chain = json.loads((REF / "sem.json").read_text())["chain"]["model"]
    one("chain SEM 600 x 12", REF / "chain.csv", chain, args, ordinal=True)
    observed = json.loads((REF / "observed.json").read_text())
    one("MIMIC 500 x 4 + 2 covariates", REF / "observed.csv", observed["mimic"]["model"], args,
        ordinal=False)
    one("observed mediator 500 x 6 + 2 observed", REF / "observed.csv",
        observed["mediator"]["model"], args, ordinal=False)
    covariates = json.loads((REF / "wlsmv_covariates.json").read_text())["two_factors"]
    one("two factors 500 x 6 + 2 covariates", REF / "wlsmv_covariates.csv",
        covariates["model"], args, ordinal=True, covariates=("x1", "x2"))


if __name__ == "__main__":
    sys.exit(main())
