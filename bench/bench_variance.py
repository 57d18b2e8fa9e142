"""Variance split person / organization / consortium: ``pm.variance_split`` vs lme4 vs
statsmodels' MixedLM.

The simulated study of ``bench_agreement.py`` (N people in organizations of 1 to 12 people,
20 organizations per consortium, three 5-item scales with organization effects; seed 2024).
Timed, per tool, for the three scales: the REML fit of ``score ~ 1 + (1 | consortium/org)``.
CPU times (user + system) throughout, since the machine is shared. Ours: best of
``--repeat`` runs in one process; statsmodels: ``MixedLM.from_formula(groups=consortium,
vc_formula={"org": "0 + C(org)"})``, Nelder-Mead then L-BFGS (what the first version of
``variance_split`` did; it stops with a singular matrix when a level's variance is 0); R:
``system.time`` of the three ``lmer`` fits (Rscript start-up excluded).

    python bench/bench_variance.py [--n 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from bench_agreement import SCALES, best_of, simulate
from statsmodels.regression.mixed_linear_model import MixedLM

import psychometrics as pm

R_SCRIPT = """
suppressPackageStartupMessages(library(lme4))
d <- read.csv(commandArgs(TRUE)[1])
scales <- list(TRU = paste0("TRU", 1:5), SOC = paste0("SOC", 1:5), LRN = paste0("LRN", 1:5))
best <- Inf; out <- c()
for (r in seq_len(as.integer(commandArgs(TRUE)[2]))) {
  t <- system.time(for (s in names(scales)) {
    d$score <- rowMeans(d[, scales[[s]]])
    f <- lmer(score ~ 1 + (1 | consortium/org), data = d, REML = TRUE)
    out[s] <- as.data.frame(VarCorr(f))$vcov[1]
  })
  best <- min(best, t[["user.self"]] + t[["sys.self"]])
}
cat(best, out, "\\n")
"""


def statsmodels_fits(d: pd.DataFrame) -> list[float]:
    out = []
    for items in SCALES.values():
        frame = pd.DataFrame({"y": d[items].mean(axis=1), "c": d["consortium"], "o": d["org"]})
        model = MixedLM.from_formula("y ~ 1", groups="c", re_formula="1", vc_formula={"o": "0 + C(o)"}, data=frame)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = model.fit(reml=True, method=["nm"], maxiter=5000)
            fit = model.fit(reml=True, start_params=start.params, method=["lbfgs"])
        out.append(float(fit.vcomp[0]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    d = simulate(a.n)
    keys = {"scales": SCALES, "min": 1, "max": 5}
    split = pm.variance_split(d, keys, ["org", "consortium"])
    ours = best_of(lambda: pm.variance_split(d, keys, ["org", "consortium"]), a.repeat)
    sm = best_of(lambda: statsmodels_fits(d), 1)
    sm_var = statsmodels_fits(d)
    print(f"N = {len(d)}, {d['org'].nunique()} organizations, {d['consortium'].nunique()} consortia, 3 scales")
    print(f"ours (pm.variance_split)                     {ours:8.3f} s")
    print(f"statsmodels MixedLM (nm + lbfgs)             {sm:8.3f} s   sm / ours {sm / ours:6.1f}x"
          f"   max |var_org diff| {np.max(np.abs(split['var_org'].to_numpy() - sm_var)):.1e}")
    if shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            csv, script = Path(tmp) / "d.csv", Path(tmp) / "b.R"
            d.to_csv(csv, index=False)
            script.write_text(R_SCRIPT)
            out = subprocess.run(["Rscript", str(script), str(csv), str(a.repeat)],
                                 capture_output=True, text=True, check=True)
            r, *r_var = map(float, out.stdout.split())
        print(f"R lme4 (3 x lmer)                            {r:8.3f} s   R / ours  {r / ours:6.1f}x"
              f"   max |var_org diff| {np.max(np.abs(split['var_org'].to_numpy() - r_var)):.1e}")


if __name__ == "__main__":
    main()
