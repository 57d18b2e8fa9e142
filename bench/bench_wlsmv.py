"""Benchmark: CFA of ordinal items by WLSMV against lavaan.

Simulated data: N respondents (default 5,000) x 32 five-point items, 4 correlated factors
(r = 0.4) of 8 items each (loadings 0.55-0.80, seed 2024), plus the shared consortium_dev
data set (800 x 32). Timed:

  * ``pm.cfa(x, model, estimator="WLSMV")`` (thresholds, polychorics, Gamma, DWLS fit,
    scaled-shifted test, baseline), best of ``--repeat`` runs in one process;
  * ``lavaan::cfa(model, data = x, ordered = items, estimator = "WLSMV")`` timed inside R
    (``system.time``; Rscript start-up excluded), one run; then the largest absolute
    difference of the fit measures and standardized loadings.

R parts run only when ``Rscript`` is on the PATH. Run from the repository root:

    .venv/bin/python bench/bench_wlsmv.py [--n 5000] [--repeat 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import likert

N_ITEMS, N_FACTORS = 32, 4
KEYS = ["chisq", "chisq.scaled", "cfi.scaled", "tli.scaled", "rmsea.scaled", "srmr", "cfi", "rmsea"]
OURS = {"chisq": "chisq", "chisq.scaled": "chisq_scaled", "cfi.scaled": "cfi_scaled",
        "tli.scaled": "tli_scaled", "rmsea.scaled": "rmsea_scaled", "srmr": "srmr", "cfi": "cfi",
        "rmsea": "rmsea"}


def simulate(n: int, seed: int = 2024) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    return likert(n, seed, n_items=N_ITEMS)


def consortium() -> tuple[pd.DataFrame, dict[str, list[str]]] | None:
    ref = Path(__file__).resolve().parents[2] / "shared" / "reference"
    if not ref.is_dir():
        return None
    cfg = json.loads((ref / "consortium_dev.json").read_text())
    raw = pd.read_csv(ref / cfg["csv"])
    items = [k.lstrip("-") for keys in cfg["scales"].values() for k in keys]
    x = raw.loc[raw[items + cfg["groups"]].notna().all(axis=1), items].astype(float)
    for keys in cfg["scales"].values():
        for k in keys:
            if k.startswith("-"):
                x[k[1:]] = cfg["max"] + cfg["min"] - x[k[1:]]
    return x, {f: [k.lstrip("-") for k in keys] for f, keys in cfg["scales"].items()}


R_SCRIPT = r"""
suppressPackageStartupMessages({ library(lavaan); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1])
scales <- fromJSON(args[2])
model <- paste(sapply(names(scales), function(s) paste0(s, " =~ ", paste(scales[[s]], collapse = " + "))),
               collapse = "\n")
t <- system.time(fit <- cfa(model, data = x, ordered = names(x), estimator = "WLSMV"))
s <- standardizedSolution(fit); s <- s[s$op == "=~", ]
out <- list(seconds = unname(t["elapsed"]),
            fit = as.list(fitMeasures(fit, c("chisq", "chisq.scaled", "cfi.scaled", "tli.scaled",
                                             "rmsea.scaled", "srmr", "cfi", "rmsea"))),
            lhs = s$lhs, rhs = s$rhs, std = s$est.std)
cat(toJSON(out, auto_unbox = TRUE, digits = NA))
"""


def run_r(x: pd.DataFrame, scales: dict, tmp: Path) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    (tmp / "x.csv").write_text(x.to_csv(index=False))
    (tmp / "scales.json").write_text(json.dumps(scales))
    (tmp / "bench.R").write_text(R_SCRIPT)
    out = subprocess.run(["Rscript", str(tmp / "bench.R"), str(tmp / "x.csv"), str(tmp / "scales.json")],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def bench(label: str, x: pd.DataFrame, scales: dict, repeat: int, tmp: Path) -> None:
    times, res = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        res = pm.cfa(x, scales, estimator="WLSMV")
        times.append(time.perf_counter() - t)
    ours = min(times)
    r = run_r(x, scales, tmp)
    line = f"{label}: ours {ours:.3f} s"
    if r is not None:
        chi_rel = max(abs(res.fit[OURS[k]] / r["fit"][k] - 1) for k in KEYS if "chisq" in k)
        fit_diff = max(abs(res.fit[OURS[k]] - r["fit"][k]) for k in KEYS if "chisq" not in k)
        std_diff = max(abs(res.loadings.loc[i, f] - v)
                       for f, i, v in zip(r["lhs"], r["rhs"], r["std"], strict=True))
        line += (f"; lavaan {r['seconds']:.3f} s ({r['seconds'] / ours:.1f}x); chi-squares rel "
                 f"diff {chi_rel:.2g}; max |diff| CFI/TLI/RMSEA/SRMR {fit_diff:.2g}, std loadings "
                 f"{std_diff:.2g}")
    print(line, flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cd = consortium()
        if cd is not None:
            bench("consortium_dev, 800 x 32, 4 factors", *cd, args.repeat, tmp)
        x, scales = simulate(args.n)
        bench(f"simulated, {args.n} x {N_ITEMS}, {N_FACTORS} factors", x, scales, args.repeat, tmp)


if __name__ == "__main__":
    sys.exit(main())
