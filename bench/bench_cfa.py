"""Benchmark: CFA (ML, FIML) and measurement invariance vs lavaan and semopy.

Data: 32 five-point items, 4 correlated factors of 8 items (loadings 0.5-0.8, factor
correlations 0.3), two groups ("fr"/"en", half each) whose intercepts differ on 2 items,
at N = 800 and N = 5,000 (seed 2024); for FIML, 5% of the answers removed at random.
Timings are the best of ``--repeat`` runs in one process, each tool on the same CSV; R
times itself with ``system.time`` (no Rscript start-up).

    .venv/bin/python bench/bench_cfa.py [--repeat 3] [--no-r] [--no-semopy] [--n 800 5000]

Tasks
  cfa         pm.cfa(x, model)  (fit measures, std.all, AVE, omega, HTMT, modindices)
              lavaan: cfa(model, x) alone, and with fitMeasures + standardizedSolution
              + modindices + semTools::AVE/compRelSEM/htmt ("cfa_full")
              semopy: Model(desc).fit(x) + calc_stats (no SRMR, no RMSEA interval)
  fiml        pm.cfa(x, model, missing="fiml") vs cfa(model, x, missing = "ml") + fitMeasures
              (one run: minutes) vs semopy Model(desc).fit(x, obj="FIML") (N <= 1000 only)
  invariance  pm.invariance(x, model, "lang") (configural, metric, scalar, score tests,
              partial refit) vs lavaan's three cfa(group.equal = ...) fits + fitMeasures
              + lavTestScore + anova + the same partial refit (group.partial); semopy has
              no across-group equality constraints
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

P, K = 32, 4
MODEL = {f"F{k + 1}": [f"i{j + 1}" for j in range(k * 8, (k + 1) * 8)] for k in range(K)}
SYNTAX = "\n".join(f"{f} =~ {' + '.join(items)}" for f, items in MODEL.items())

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lavaan); library(semTools); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1]); xm <- read.csv(args[2]); reps <- as.integer(args[3])
partial <- if (nchar(args[4])) strsplit(args[4], ",")[[1]] else character(0)
model <- readLines(args[5])
items <- setdiff(names(x), "lang")
best <- function(expr) min(replicate(reps, system.time(eval(expr))[["elapsed"]]))
inv <- function() {
  c0 <- cfa(model, data = x, group = "lang")
  m1 <- cfa(model, data = x, group = "lang", group.equal = "loadings")
  s2 <- cfa(model, data = x, group = "lang", group.equal = c("loadings", "intercepts"))
  for (f in list(c0, m1, s2)) fitMeasures(f)
  lavTestScore(s2); anova(c0, m1, s2)
  if (length(partial)) fitMeasures(cfa(model, data = x, group = "lang",
      group.equal = c("loadings", "intercepts"), group.partial = partial))
  fitMeasures(s2, "chisq")
}
full <- function() {
  f <- cfa(model, data = x[, items]); fitMeasures(f); standardizedSolution(f); modindices(f)
  AVE(f); compRelSEM(f); htmt(model, data = x[, items])
}
out <- list(
  cfa = best(quote(cfa(model, data = x[, items]))),
  cfa_full = best(quote(full())),
  fiml = min(replicate(1, system.time(fitMeasures(cfa(model, data = xm[, items], missing = "ml")))[["elapsed"]])),
  invariance = best(quote(inv())),
  invariance_fits = best(quote(for (ge in list("", "loadings", c("loadings", "intercepts")))
    fitMeasures(cfa(model, data = x, group = "lang", group.equal = ge)))),
  chisq = list(cfa = fitMeasures(cfa(model, data = x[, items]), "chisq"),
               fiml = fitMeasures(cfa(model, data = xm[, items], missing = "ml"), "chisq"),
               scalar = inv()),
  versions = list(R = R.version.string, lavaan = as.character(packageVersion("lavaan")),
                  semTools = as.character(packageVersion("semTools")))
)
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
"""


def simulate(n: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    phi = np.full((K, K), 0.3) + 0.7 * np.eye(K)
    f = rng.multivariate_normal(np.zeros(K), phi, size=n)
    lam = np.zeros((P, K))
    for j in range(P):
        lam[j, j // (P // K)] = rng.uniform(0.5, 0.8)
    latent = f @ lam.T + rng.standard_normal((n, P)) * np.sqrt(1 - (lam**2).sum(axis=1))
    lang = np.where(np.arange(n) % 2 == 0, "fr", "en")
    latent[lang == "en", 3] += 0.4  # two items with an intercept shift in one group
    latent[lang == "en", 20] -= 0.4
    cuts = np.array([-1.5, -0.5, 0.5, 1.5])
    items = 1 + (latent[:, :, None] > cuts).sum(axis=2)
    x = pd.DataFrame(items.astype(float), columns=[f"i{j + 1}" for j in range(P)])
    x["lang"] = lang
    return x


def with_missing(x: pd.DataFrame, rate: float = 0.05, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    items = x.drop(columns="lang")
    return items.mask(rng.random(items.shape) < rate).assign(lang=x["lang"])


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def semopy_fit(x: pd.DataFrame, obj: str = "MLW") -> float:
    import semopy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = semopy.Model(SYNTAX)
        m.fit(x, obj=obj)
        stats = semopy.calc_stats(m)
    return float(stats["chi2"].iloc[0])


def run_r(x: pd.DataFrame, xm: pd.DataFrame, repeat: int, partial: str) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        x.to_csv(tmp / "x.csv", index=False)
        xm.to_csv(tmp / "xm.csv", index=False)
        (tmp / "bench.R").write_text(R_SCRIPT)
        (tmp / "model.txt").write_text(SYNTAX + "\n")
        out = subprocess.run(
            ["Rscript", str(tmp / "bench.R"), str(tmp / "x.csv"), str(tmp / "xm.csv"),
             str(repeat), partial, str(tmp / "model.txt")],
            capture_output=True, text=True, check=False,
        )
    if out.returncode:
        raise RuntimeError(f"Rscript failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench(n: int, repeat: int, use_r: bool, use_semopy: bool) -> list[dict]:
    x = simulate(n)
    xm = with_missing(x)
    items = x.drop(columns="lang")
    ours = {
        "cfa": best(lambda: pm.cfa(items, MODEL), repeat),
        "fiml": best(lambda: pm.cfa(xm.drop(columns="lang"), MODEL, missing="fiml"), repeat),
        "invariance": best(lambda: pm.invariance(x, MODEL, "lang"), repeat),
    }
    fit = pm.cfa(items, MODEL)
    fiml = pm.cfa(xm.drop(columns="lang"), MODEL, missing="fiml")
    inv = pm.invariance(x, MODEL, "lang")
    chisq = {"cfa": fit.fit["chisq"], "fiml": fiml.fit["chisq"],
             "scalar": inv.table.loc["scalar", "chisq"]}
    partial = ",".join(f"{i}~1" if kind == "intercept" else
                       f"{next(f for f, v in MODEL.items() if i in v)}=~{i}"
                       for i, kind in inv.released)
    sem = {}
    if use_semopy:
        try:
            sem = {"cfa": best(lambda: semopy_fit(items), repeat)}
            if n <= 1000:  # semopy's FIML takes minutes (390 s at N = 800)
                sem["fiml"] = best(lambda: semopy_fit(xm.drop(columns="lang"), "FIML"), 1)
            sem_chisq = {"cfa": semopy_fit(items)}
        except ImportError:
            sem, sem_chisq = {}, {}
    r = run_r(x, xm, repeat, partial) if use_r else None
    rows = []
    for task in ("cfa", "fiml", "invariance"):
        row = {"n": n, "task": task, "ours": ours[task], "semopy": sem.get(task),
               "lavaan": r[task] if r else None,
               "lavaan_full": r["cfa_full"] if (r and task == "cfa") else None,
               "lavaan_fits": r["invariance_fits"] if (r and task == "invariance") else None}
        key = "scalar" if task == "invariance" else task
        row["chisq_ours"] = chisq[key]
        row["chisq_lavaan"] = r["chisq"][key] if r else None
        row["chisq_semopy"] = sem_chisq.get(task) if use_semopy and sem else None
        rows.append(row)
    if r:
        rows[0]["versions"] = r["versions"]
    rows[-1]["released"] = partial
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n", type=int, nargs="+", default=[800, 5000])
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-semopy", action="store_true")
    args = ap.parse_args(argv)
    pm.cfa(simulate(200).drop(columns="lang"), MODEL)  # warm-up: imports
    print(f"{'N':>6} {'task':<11}{'ours (s)':>10}{'lavaan (s)':>12}{'lav/ours':>10}"
          f"{'semopy (s)':>12}  chisq ours / lavaan / semopy")
    versions = None
    for n in args.n:
        for row in bench(n, args.repeat, not args.no_r, not args.no_semopy):
            versions = row.get("versions", versions)
            lav, sem, ours = row["lavaan"], row["semopy"], row["ours"]
            extra = (f"   (lavaan cfa + fitMeasures + std + modindices + AVE/omega/htmt: "
                     f"{row['lavaan_full']:.3f} s = {row['lavaan_full'] / row['ours']:.1f}x)"
                     if row.get("lavaan_full") else "")
            chis = " / ".join(f"{v:.3f}" if v is not None else "-" for v in
                              (row["chisq_ours"], row["chisq_lavaan"], row["chisq_semopy"]))
            print(f"{n:>6} {row['task']:<11}{row['ours']:>10.3f}"
                  f"{(f'{lav:.3f}' if lav else '-'):>12}"
                  f"{(f'{lav / ours:.1f}x' if lav else '-'):>10}"
                  f"{(f'{sem:.3f}' if sem else '-'):>12}  {chis}{extra}")
            if row.get("lavaan_fits"):
                print(f"{'':>18}lavaan's 3 fits + fitMeasures alone (no lavTestScore, no "
                      f"partial refit): {row['lavaan_fits']:.3f} s = "
                      f"{row['lavaan_fits'] / ours:.1f}x ours (everything)")
            if row.get("released"):
                print(f"{'':>18}partial model frees: {row['released']}")
    if versions:
        print(f"{versions['R']}, lavaan {versions['lavaan']}, semTools {versions['semTools']}")
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
