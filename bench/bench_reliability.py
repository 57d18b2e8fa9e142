"""Benchmark: reliability and polychoric correlations against pingouin and R's psych.

Simulated data: N = 5,000 respondents x 40 five-point items, 4 correlated factors
(r = 0.4) of 10 items each (loadings 0.55-0.80), about 2% missing answers (rows with a
missing answer are dropped where the method is listwise).

Timed, in one run:
  * pm.alpha on each of the 4 scales vs pingouin.cronbach_alpha (point estimate + CI);
  * pm.bootstrap_reliability (1,000 resamples, alpha and omega, all 4 scales at once)
    vs psych::alpha(n.iter = 1000) on each scale (timed inside R, system.time);
  * pm.polychoric on the 40 items vs psych::polychoric (timed inside R) and
    lavaan::lavCor(ordered = ...) (timed inside R).
R parts run only when ``Rscript`` is on the PATH. Run from the repository root:

    .venv/bin/python bench/bench_reliability.py [--n 5000] [--boot 1000] [--repeat 3]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _data import likert

N_ITEMS, N_FACTORS = 40, 4


def simulate(n: int, seed: int = 2024) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    return likert(n, seed, n_items=N_ITEMS, missing=0.0005)  # ~2% of rows with a missing answer


def best_of(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


R_SCRIPT = r"""
suppressPackageStartupMessages({ library(psych); library(lavaan); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
x <- read.csv(args[1])
scales <- fromJSON(args[2])
n_boot <- as.integer(args[3])
cc <- x[complete.cases(x), ]
out <- list(cores = getOption("mc.cores", 2L))
set.seed(1)
t_alpha <- system.time(for (s in names(scales)) a <- psych::alpha(cc[, scales[[s]]], warnings = FALSE))
out$alpha_seconds <- unname(t_alpha["elapsed"])
t_boot <- system.time(for (s in names(scales))
  out$boot_ci[[s]] <- unname(psych::alpha(cc[, scales[[s]]], n.iter = n_boot, warnings = FALSE)$boot.ci))
out$boot_seconds <- unname(t_boot["elapsed"])
t_om <- system.time(for (s in names(scales))
  out$omega[[s]] <- suppressWarnings(suppressMessages(
    psych::omega(cc[, scales[[s]]], nfactors = 1, plot = FALSE)))$omega.tot)
out$omega_seconds <- unname(t_om["elapsed"])
t_pc <- system.time(pc <- suppressWarnings(psych::polychoric(cc, correct = 0)))
out$polychoric_seconds <- unname(t_pc["elapsed"])
out$polychoric_rho <- unname(pc$rho)
t_lav <- system.time(lc <- lavCor(cc, ordered = names(cc)))
out$lavcor_seconds <- unname(t_lav["elapsed"])
out$lavcor_rho <- unname(unclass(lc))
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""


def run_r(df: pd.DataFrame, scales: dict, n_boot: int) -> dict | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "x.csv"
        df.to_csv(csv, index=False, na_rep="NA")
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT)
        res = subprocess.run(
            [rscript, str(script), str(csv), json.dumps(scales), str(n_boot)],
            capture_output=True, text=True, check=False,
        )
    if res.returncode != 0:
        print("R failed:", res.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(res.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-r", action="store_true", help="skip the R comparison")
    args = ap.parse_args(argv)

    df, scales = simulate(args.n)
    cc = df.dropna()
    print(f"data: {len(df)} rows x {df.shape[1]} items, {len(cc)} complete; 4 scales of 10 items")

    import pingouin

    t_pm, ours = best_of(lambda: {s: pm.alpha(cc[c]) for s, c in scales.items()}, args.repeat)
    t_pg, theirs = best_of(
        lambda: {s: pingouin.cronbach_alpha(cc[c], ci=0.95) for s, c in scales.items()}, args.repeat)
    diff = max(abs(ours[s].alpha - theirs[s][0]) for s in scales)
    rows = [("alpha (4 scales)", "pingouin.cronbach_alpha", t_pm, t_pg, f"max |d alpha| = {diff:.1e}")]

    t_boot, boot = best_of(
        lambda: pm.bootstrap_reliability(cc, n_boot=args.boot, seed=1, scales=scales,
                                         statistics=("alpha", "omega")),
        1,
    )
    t_boot_a, _ = best_of(
        lambda: pm.bootstrap_reliability(cc, n_boot=args.boot, seed=1, scales=scales,
                                         statistics=("alpha",), bca=False),
        args.repeat,
    )
    t_pc, pc = best_of(lambda: pm.polychoric_full(cc), args.repeat)
    t_pc_missing, _ = best_of(lambda: pm.polychoric_full(df), 1)

    r = None if args.no_r else run_r(df, scales, args.boot)
    if r is not None:
        boot_diff = max(
            max(abs(boot.table.loc[(s, "alpha"), "ci_low"] - r["boot_ci"][s][0]),
                abs(boot.table.loc[(s, "alpha"), "ci_high"] - r["boot_ci"][s][2]))
            for s in scales
        )
        om_diff = max(abs(pm.omega(cc[c]).omega_total - r["omega"][s]) for s, c in scales.items())
        rho_psych = np.abs(pc.rho.to_numpy() - np.array(r["polychoric_rho"])).max()
        rho_lav = np.abs(pc.rho.to_numpy() - np.array(r["lavcor_rho"])).max()
        rows += [
            ("alpha (4 scales)", "psych::alpha", t_pm, r["alpha_seconds"], "timed inside R"),
            (f"bootstrap alpha, {args.boot} resamples (4 scales)", f"psych::alpha(n.iter={args.boot})",
             t_boot_a, r["boot_seconds"],
             f"percentile CI bounds differ by <= {boot_diff:.4f} (different resamples)"),
            (f"bootstrap alpha + omega + BCa, {args.boot} resamples", f"psych::alpha(n.iter={args.boot})",
             t_boot, r["boot_seconds"], "psych gives no omega CI here"),
            ("omega total (4 scales)", "psych::omega(nfactors=1)", None, r["omega_seconds"],
             f"max |d omega| = {om_diff:.1e}"),
            ("polychoric 40 x 40 (complete rows)", "psych::polychoric(correct=0)", t_pc,
             r["polychoric_seconds"], f"max |d rho| = {rho_psych:.1e}"),
            ("polychoric 40 x 40 (complete rows)", "lavaan::lavCor(ordered)", t_pc,
             r["lavcor_seconds"], f"max |d rho| = {rho_lav:.1e}"),
        ]
        print(f"R: mc.cores = {r['cores']} (psych's bootstrap and polychoric use mclapply)")
    else:
        rows += [
            (f"bootstrap alpha, {args.boot} resamples (4 scales)", "-", t_boot_a, None, ""),
            (f"bootstrap alpha + omega + BCa, {args.boot} resamples", "-", t_boot, None, ""),
            ("polychoric 40 x 40 (complete rows)", "-", t_pc, None, ""),
        ]
    rows.append(("polychoric 40 x 40 (pairwise, all rows)", "-", t_pc_missing, None, ""))

    print("\n| task | peer | ours (s) | peer (s) | peer / ours | agreement |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    for task, peer, ours_t, peer_t, note in rows:
        o = "-" if ours_t is None else f"{ours_t:.3f}"
        p = "-" if peer_t is None else f"{peer_t:.3f}"
        ratio = "-" if ours_t is None or peer_t is None else f"{peer_t / ours_t:.1f}x"
        print(f"| {task} | {peer} | {o} | {p} | {ratio} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
