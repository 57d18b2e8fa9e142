"""Simulation: is the ordinal (WLSMV) invariance test calibrated? Its type I error.

``pm.invariance(data, model, group, estimator="WLSMV")`` compares each Wu & Estabrook (2016)
step with the previous one by Satorra's (2000) scaled difference test, and judges the
configural model by its scaled chi-square; lavaan gives the same numbers on fixed data sets
(tests/test_ordinal_invariance.py). Here the population is invariant, so each test should
reject at about its nominal ``alpha``.

Population: 2 correlated factors (r = .4) x 4 five-point items, standardized loadings .60 to
.80 on ``y*``, the same skewed answer shares for every item and group (.06 .12 .24 .34 .24:
thresholds -1.55 -0.84 -0.13 0.74, a 5-point agreement scale); ``2N`` respondents per
replication, each in group A or B with probability 1/2 (N per group on average). Each
replication: ``pm.invariance(..., estimator="WLSMV", partial=[])`` (the four steps, nothing
released) through ``pm.monte_carlo(..., analyses=("invariance_wlsmv",), partial=[])``: its
seeding (replication ``r`` of size ``j`` has its own stream), chunks and processes.

Reported per N and test: rejection rate at ``alpha`` among the replications whose four
fits converged, with its Wilson 95% interval (Monte Carlo error); the mean statistic against
its df (a scaled chi-square, or a scaled difference, has mean df when calibrated); the
replications that did not converge or could not be fitted (e.g. a category nobody chose in
one group); time per replication (wall and CPU).

``--r-reps K``: the first K replications of each N, the same data sets (redrawn from their
streams), are fitted by R (``semTools::measEq.syntax(..., ID.cat = "Wu.Estabrook.2016")`` +
``lavaan::cfa(estimator = "WLSMV")`` + ``lavTestLRT(method = "satorra.2000")``), and their
p-values compared with ours replication by replication.

``--rule``: the same replications under the report's rule (``partial=None``: at a failing
step, items are located and released one at a time; see ``pm.invariance``): the share of
replications in which some item is flagged, every flag being false here.

``--asymptotic``: what the configural test would do with infinitely many respondents. A
sample of 2 x 20,000 is fitted by lavaan; the eigenvalues of its ``U Gamma``
(``lavInspect(fit, "UGamma")``) give the statistic's limiting distribution, a weighted sum
of chi-squares, whose tail beyond the scaled-shifted test's critical value (simulated, 2
million draws) is the test's rejection rate in the limit: what is left of a departure from
``alpha`` once the sample is large is the two-moment approximation's, not the sample's.

    .venv/bin/python bench/bench_ordinal_typei.py [--reps 1000] [--n 300,150] [--seed 2026]
        [--processes 1] [--alpha 0.05] [--r-reps 0] [--rule] [--asymptotic]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import psychometrics as pm
from psychometrics import generate

FACTORS = {"F1": ["a1", "a2", "a3", "a4"], "F2": ["b1", "b2", "b3", "b4"]}
LOADINGS = {"a1": 0.75, "a2": 0.70, "a3": 0.65, "a4": 0.80,
            "b1": 0.70, "b2": 0.60, "b3": 0.75, "b4": 0.70}
SHARES = (0.06, 0.12, 0.24, 0.34, 0.24)
POP = pm.Population(factors=FACTORS, loadings=LOADINGS, phi=0.4, categories=5, shares=SHARES,
                    groups={"g": {"A": 0.5, "B": 0.5}})
TESTS = ("configural", "thresholds", "loadings", "intercepts")
KEY = "invariance_wlsmv"

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
dat <- read.csv(a[1]); model <- paste(readLines(a[2]), collapse = "\n")
items <- setdiff(names(dat), c("n", "rep", "g"))
steps <- list(character(0), "thresholds", c("thresholds", "loadings"),
              c("thresholds", "loadings", "intercepts"))
one <- function(d) {
  fits <- lapply(steps, function(ge) {
    syn <- measEq.syntax(model, data = d, ordered = items, group = "g", ID.fac = "std.lv",
                         ID.cat = "Wu.Estabrook.2016", group.equal = ge)
    cfa(as.character(syn), data = d, ordered = items, group = "g", estimator = "WLSMV")
  })
  p <- c(fitMeasures(fits[[1]], "pvalue.scaled"),
         sapply(2:4, function(i) lavTestLRT(fits[[i - 1]], fits[[i]],
                                            method = "satorra.2000")[2, "Pr(>Chisq)"]))
  list(p = unname(p), converged = all(sapply(fits, lavInspect, "converged")))
}
failed <- function(e) list(p = rep(NA, 4), converged = FALSE, error = conditionMessage(e))
out <- list()
st <- system.time(for (key in unique(paste(dat$n, dat$rep))) {
  d <- dat[paste(dat$n, dat$rep) == key, c("g", items)]
  got <- tryCatch(suppressWarnings(one(d)), error = failed)
  got$key <- key
  out[[length(out) + 1]] <- got
})
cat(toJSON(list(fits = out, elapsed = st[["elapsed"]], cpu = st[["user.self"]] + st[["sys.self"]],
                lavaan = as.character(packageVersion("lavaan")),
                semTools = as.character(packageVersion("semTools"))),
           auto_unbox = TRUE, digits = NA, na = "null"))
"""

R_ASYMPTOTIC = r"""
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1]); model <- paste(readLines(a[2]), collapse = "\n")
items <- setdiff(names(d), "g")
syn <- measEq.syntax(model, data = d, ordered = items, group = "g", ID.fac = "std.lv",
                     ID.cat = "Wu.Estabrook.2016")
fit <- cfa(as.character(syn), data = d, ordered = items, group = "g", estimator = "WLSMV")
df <- fitMeasures(fit, "df")
ev <- sort(Re(eigen(lavInspect(fit, "UGamma"), only.values = TRUE)$values), TRUE)[1:df]
a <- sqrt(df / sum(ev^2)); b <- df - a * sum(ev)  # scaled-shifted: a T + b
set.seed(1); reps <- 2e6
t <- colSums(matrix(rchisq(df * reps, 1), nrow = df) * ev)
alpha <- c(0.01, 0.05, 0.10)
rate <- sapply(alpha, function(x) mean(t > (qchisq(1 - x, df) - b) / a))
cat(toJSON(list(df = df, alpha = alpha, rate = rate, se = sqrt(rate * (1 - rate) / reps),
                eigenvalues = range(ev)), auto_unbox = TRUE, digits = NA))
"""
MODEL = "\n".join(f"{f} =~ {' + '.join(v)}" for f, v in FACTORS.items())


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (a pool of processes)."""
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + use.ru_utime + use.ru_stime


def study(ns, reps: int, seed: int = 2026, alpha: float = 0.05, processes: int = 1,
          progress=None, partial=()) -> pm.montecarlo.MonteCarlo:
    """``reps`` replications of 2 x N respondents for each N of ``ns`` (per group);
    ``partial=None``: the report's rule (items located and released at a failing step)."""
    return pm.monte_carlo(POP, [2 * n for n in ns], reps, analyses=(KEY,), partial=partial,
                          seed=seed, alpha=alpha, processes=processes, progress=progress)


def false_flags(res: pm.montecarlo.MonteCarlo) -> pd.DataFrame:
    """Under the report's rule (``partial=None``), per N: the replications in which some
    item was flagged (every item is invariant: each flag is false), with the rate's Wilson
    interval, and the mean number of items flagged."""
    rows = []
    flags = [f"{KEY}.flag.{i}" for i in POP.items]
    for n, frame in res.replications.groupby("n", sort=False):
        ok = frame[frame[f"{KEY}.converged"] == 1]
        hits = int((ok[flags].sum(axis=1) > 0).sum())
        low, high = wilson(hits, len(ok))
        rows.append({"n_per_group": int(n) // 2, "used": len(ok), "any_flagged": hits,
                     "rate": hits / len(ok) if len(ok) else float("nan"), "ci_low": low,
                     "ci_high": high, "mean_flagged": float(ok[flags].sum(axis=1).mean())})
    return pd.DataFrame(rows)


def wilson(hits: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion (the Monte Carlo error of a rate)."""
    if total == 0:
        return float("nan"), float("nan")
    p = hits / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return float(centre - half), float(centre + half)


def summarise(res: pm.montecarlo.MonteCarlo) -> pd.DataFrame:
    """One row per N (per group) and test: rejections among the converged replications,
    rate with its Wilson interval, mean statistic vs df, the Kolmogorov-Smirnov p-value of
    the p-values' uniformity, and the replications not converged or not fitted."""
    alpha = res.plan.alpha
    rows = []
    for n, frame in res.replications.groupby("n", sort=False):
        ok = frame[frame[f"{KEY}.converged"] == 1]
        errors = int(frame[f"{KEY}.error"].notna().sum()) if f"{KEY}.error" in frame else 0
        for test in TESTS:
            p = ok[f"{KEY}.p.{test}"] if len(ok) else pd.Series(dtype=float)
            hits, total = int((p < alpha).sum()), int(p.notna().sum())
            low, high = wilson(hits, total)
            rows.append({
                "n_per_group": int(n) // 2, "test": test, "reps": len(frame),
                "not_converged": len(frame) - len(ok) - errors, "errors": errors,
                "used": total, "rejected": hits,
                "rate": hits / total if total else float("nan"), "ci_low": low, "ci_high": high,
                "mean_stat": float(ok[f"{KEY}.chisq.{test}"].mean()) if total else float("nan"),
                "df": float(ok[f"{KEY}.df.{test}"].mean()) if total else float("nan"),
                "ks_p": (float(stats.kstest(p.dropna(), "uniform").pvalue) if total
                         else float("nan")),
            })
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, alpha: float) -> str:
    """The summary as the Markdown table of bench/README.md."""
    lines = [f"| N per group | test | rejected at {alpha:g} | rate [95% MC interval] "
             "| mean statistic / df | KS p (p-values uniform) | not converged / errors |",
             "| ---: | --- | ---: | --- | ---: | ---: | ---: |"]
    for r in table.itertuples():
        what = ("configural scaled chi-square" if r.test == "configural"
                else f"{r.test} (difference)")
        lines.append(f"| {r.n_per_group} | {what} | {r.rejected} / {r.used} | {r.rate:.3f} "
                     f"[{r.ci_low:.3f}, {r.ci_high:.3f}] | {r.mean_stat:.2f} / {r.df:g} "
                     f"| {r.ks_p:.2f} | {r.not_converged} / {r.errors} |")
    return "\n".join(lines)


# ------------------------------------------------------------------ R on the same data sets


def r_data(res: pm.montecarlo.MonteCarlo, reps: int) -> pd.DataFrame:
    """The first ``reps`` replications of each N, redrawn from their own streams (the
    data sets our fits saw), stacked with columns n (per group), rep, g and the items."""
    plan, frames = res.plan, []
    for j, n in enumerate(plan.ns):
        for r in range(min(reps, plan.reps)):
            d = generate.draw(plan.population, n, plan.rng(j, r))
            frames.append(d.assign(n=n // 2, rep=r))
    return pd.concat(frames, ignore_index=True)[["n", "rep", "g", *POP.items]]


def run_r(data: pd.DataFrame, script: str = R_SCRIPT) -> dict:
    """Run ``script`` on ``data`` and the model in R (niced); its JSON output.
    R_SCRIPT fits every replication of ``data`` and times itself."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "t.R").write_text(script, encoding="utf-8")
        data.to_csv(tmp / "d.csv", index=False)
        (tmp / "m.txt").write_text(MODEL, encoding="utf-8")
        out = subprocess.run(["nice", "-n", "10", "Rscript", str(tmp / "t.R"), str(tmp / "d.csv"),
                              str(tmp / "m.txt")], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def asymptotic(seed: int, n: int = 20_000) -> dict:
    """The configural test's rejection rates in the limit (see R_ASYMPTOTIC), from a sample
    of 2 x ``n`` (its own stream: ``SeedSequence(seed, spawn_key=(99,))``)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(99,)))
    data = generate.draw(POP, 2 * n, rng)
    return run_r(data[["g", *POP.items]], R_ASYMPTOTIC)


def compare_r(res: pm.montecarlo.MonteCarlo, r: dict) -> pd.DataFrame:
    """Per N and test, on the replications both sides fitted: rejections by R and by us,
    decisions that differ, the largest |p_ours - p_R|."""
    alpha, rows = res.plan.alpha, []
    theirs = pd.DataFrame([{"n_per_group": int(f["key"].split()[0]),
                            "rep": int(f["key"].split()[1]),
                            **{t: (np.nan if f["p"][i] is None else f["p"][i])
                               for i, t in enumerate(TESTS)},
                            "r_converged": bool(f["converged"])} for f in r["fits"]])
    ours = res.replications.assign(n_per_group=res.replications["n"] // 2)
    both = ours.merge(theirs, on=["n_per_group", "rep"])
    both = both[(both[f"{KEY}.converged"] == 1) & both["r_converged"]]
    for n, frame in both.groupby("n_per_group", sort=False):
        for test in TESTS:
            p_ours, p_r = frame[f"{KEY}.p.{test}"], frame[test].astype(float)
            rows.append({"n_per_group": n, "test": test, "reps": len(frame),
                         "rejected_ours": int((p_ours < alpha).sum()),
                         "rejected_r": int((p_r < alpha).sum()),
                         "decisions_differ": int(((p_ours < alpha) != (p_r < alpha)).sum()),
                         "max_abs_p_diff": float((p_ours - p_r).abs().max())})
    return pd.DataFrame(rows)


def markdown_r(table: pd.DataFrame) -> str:
    """The comparison with R as a Markdown table."""
    lines = ["| N per group | test | replications | rejected: ours / R | decisions that differ "
             "| largest difference in p |", "| ---: | --- | ---: | ---: | ---: | ---: |"]
    for r in table.itertuples():
        lines.append(f"| {r.n_per_group} | {r.test} | {r.reps} | {r.rejected_ours} / "
                     f"{r.rejected_r} | {r.decisions_differ} | {r.max_abs_p_diff:.1e} |")
    return "\n".join(lines)


# ------------------------------------------------------------------ command line


def main(argv: list[str] | None = None) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--n", default="300,150", help="respondents per group, comma-separated")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--r-reps", type=int, default=0, help="replications per N also fitted by R")
    ap.add_argument("--save", type=Path, help="write the replications (CSV) here")
    ap.add_argument("--rule", action="store_true",
                    help="also the report's rule (automatic release): its false flags")
    ap.add_argument("--asymptotic", action="store_true",
                    help="also the configural test's rejection rates in the limit (R)")
    args = ap.parse_args(argv)
    ns = [int(x) for x in args.n.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    wall, cpu = time.perf_counter(), cpu_seconds()
    with Progress(*columns) as bar:
        task = bar.add_task("replications", total=len(ns) * args.reps)
        res = study(ns, args.reps, args.seed, args.alpha, args.processes,
                    progress=lambda done, total: bar.update(task, completed=done))
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    total = len(ns) * args.reps
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"{total} replications in {wall:.1f} s wall, {cpu:.1f} s CPU ({args.processes} "
          f"process(es)): {1000 * wall / total:.1f} ms wall, {1000 * cpu / total:.1f} ms CPU "
          "per replication\n")
    if args.save:
        res.replications.to_csv(args.save, index=False)
    print(markdown(summarise(res), args.alpha))
    if args.r_reps and shutil.which("Rscript"):
        r = run_r(r_data(res, args.r_reps))
        k = len(r["fits"])
        print(f"\nR {r['lavaan']} / semTools {r['semTools']}: {k} replications in "
              f"{r['elapsed']:.1f} s wall, {r['cpu']:.1f} s CPU ({1000 * r['cpu'] / k:.0f} ms "
              "CPU per replication)")
        print(markdown_r(compare_r(res, r)))
    if args.rule:
        wall, cpu = time.perf_counter(), cpu_seconds()
        with Progress(*columns) as bar:
            task = bar.add_task("the report's rule", total=len(ns) * args.reps)
            rule = study(ns, args.reps, args.seed, args.alpha, args.processes, partial=None,
                         progress=lambda done, total: bar.update(task, completed=done))
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        print(f"\nThe report's rule (items located and released), {wall:.1f} s wall, "
              f"{cpu:.1f} s CPU; replications with a (false) flag:")
        for r in false_flags(rule).itertuples():
            print(f"  N = {r.n_per_group} per group: {r.any_flagged} / {r.used} = {r.rate:.3f} "
                  f"[{r.ci_low:.3f}, {r.ci_high:.3f}], {r.mean_flagged:.3f} items on average")
    if args.asymptotic and shutil.which("Rscript"):
        got = asymptotic(args.seed)
        rates = ", ".join(f"{x:g}: {r:.4f} (MC se {e:.4f})"
                          for x, r, e in zip(got["alpha"], got["rate"], got["se"], strict=True))
        low, high = got["eigenvalues"]
        print(f"\nConfigural scaled-shifted test in the limit (2 x 20,000, df {got['df']}, "
              f"eigenvalues of U Gamma {low:.3f} to {high:.3f}): rejection at {rates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
