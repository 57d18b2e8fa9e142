"""Agreement and ICCs of a nested study: ``pm.agreement`` vs a pandas loop vs R's multilevel.

N people in organizations (sizes 1 to 12) in consortia, three 5-item five-point scales
(group effects on every item, seed 2024). Timed, per tool, for the three scales and the
organization level: ICC(1)/ICC(2) (one-way ANOVA), rwg(j), r*wg(j), rwg, awg, AD mean and
median. CPU times (user + system) throughout, since the machine is shared. Ours: best of
``--repeat`` runs in one process, without the mixed model and the
simulated null (timed apart); the pandas loop: the same formulas one group at a time (what
a researcher writes first); R: ``system.time`` of ``ICC1(aov())``, ``ICC2``, ``rwg.j``,
``rwg.j.lindell``, ``rwg``, ``awg``, ``ad.m`` x 2 (Rscript start-up excluded).

    python bench/bench_agreement.py [--n 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import psychometrics as pm
from psychometrics.agreement import rwg_j_sim

SCALES = {s: [f"{s}{i}" for i in range(1, 6)] for s in ("TRU", "SOC", "LRN")}

R_SCRIPT = """
suppressPackageStartupMessages(library(multilevel))
d <- read.csv(commandArgs(TRUE)[1])
scales <- list(TRU = paste0("TRU", 1:5), SOC = paste0("SOC", 1:5), LRN = paste0("LRN", 1:5))
best <- Inf
for (r in seq_len(as.integer(commandArgs(TRUE)[2]))) {
  t <- system.time(for (its in scales) {
    score <- rowMeans(d[, its]); m <- aov(score ~ as.factor(d$org)); ICC1(m); ICC2(m)
    rwg.j(d[, its], d$org, ranvar = 2); rwg.j.lindell(d[, its], d$org, ranvar = 2)
    rwg(score, d$org, ranvar = 2); awg(d[, its], d$org, range = c(1, 5))
    ad.m(d[, its], d$org, type = "mean"); ad.m(d[, its], d$org, type = "median")
  })
  t <- t[["user.self"]] + t[["sys.self"]]
  best <- min(best, t)
}
cat(best)
"""


def simulate(n: int, seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 13, size=n)
    org = np.repeat(np.arange(len(sizes)), sizes)[:n]
    cons = org // 20
    d = pd.DataFrame({"org": [f"O{o:05d}" for o in org], "consortium": [f"C{c:03d}" for c in cons]})
    for items in SCALES.values():
        effect = rng.normal(0, 0.5, size=org.max() + 1)[org]
        trait = effect + rng.normal(0, 1, size=n)
        for it in items:
            latent = 0.7 * trait + rng.normal(0, 0.7, size=n)
            d[it] = np.clip(np.round(3 + latent), 1, 5).astype(int)
    return d


def pandas_loop(d: pd.DataFrame) -> pd.DataFrame:
    """The same indices, one group at a time."""
    rows = []
    for s, items in SCALES.items():
        score = d[items].mean(axis=1)
        gm = score.groupby(d["org"]).transform("mean")
        k = len(d) / d["org"].nunique()
        msb = ((gm - score.mean()) ** 2).sum() / (d["org"].nunique() - 1)
        msw = ((score - gm) ** 2).sum() / (len(d) - d["org"].nunique())
        rows.append({"scale": s, "icc1": (msb - msw) / (msb + (k - 1) * msw)})
        for g, x in d.groupby("org"):
            if len(x) < 2:
                rows.append({"scale": s, "group": g, "rwg_j": np.nan})
                continue
            v = x[items].var().mean()
            sv = min(v, 2.0)
            m = x[items].mean()
            var = x[items].var()
            kk = len(x)
            awg = 1 - 2 * var / (((6) * m - m**2 - 5) * (kk / (kk - 1)))
            rows.append({"scale": s, "group": g, "rwg_j": 5 * (1 - sv / 2) / (5 * (1 - sv / 2) + sv / 2),
                         "lindell": 1 - v / 2, "rwg": 1 - min(score[x.index].var(), 2) / 2,
                         "awg": awg.mean(), "ad_mean": (x[items] - m).abs().mean().mean(),
                         "ad_median": (x[items] - x[items].median()).abs().mean().mean()})
    return pd.DataFrame(rows)


def best_of(fn, repeat: int) -> float:
    """Best CPU time of ``repeat`` runs (the shared machine is busy: wall time is noise)."""
    times = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    d = simulate(a.n)
    keys = {"scales": SCALES, "min": 1, "max": 5}
    ours = best_of(lambda: pm.agreement(d, keys, "org", n_sim=0, mixed=False), a.repeat)
    mixed = best_of(lambda: pm.agreement(d, keys, "org", n_sim=0, mixed=True), 1) - ours
    sizes = sorted(int(k) for k in d["org"].value_counts().unique() if k > 1)
    sim = best_of(lambda: [rwg_j_sim(k, 5, 5, nrep=1000, seed=1) for k in sizes for _ in SCALES], a.repeat)
    loop = best_of(lambda: pandas_loop(d), 1)
    r = None
    if shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmp:
            csv, script = Path(tmp) / "d.csv", Path(tmp) / "b.R"
            d.to_csv(csv, index=False)
            script.write_text(R_SCRIPT)
            out = subprocess.run(["Rscript", str(script), str(csv), str(a.repeat)],
                                 capture_output=True, text=True, check=True)
            r = float(out.stdout.strip())
    print(f"N = {len(d)}, {d['org'].nunique()} organizations, 3 scales x 5 items")
    print(f"ours (pm.agreement, ANOVA ICCs + agreement)  {ours:8.3f} s")
    print(f"  + mixed model (3 REML fits, as lme4)        {mixed:8.3f} s")
    print(f"  + simulated null (1,000 per group size)    {sim:8.3f} s")
    print(f"pandas loop                                  {loop:8.3f} s   loop / ours {loop / ours:6.1f}x")
    if r is not None:
        print(f"R multilevel 2.7                             {r:8.3f} s   R / ours    {r / ours:6.1f}x")


if __name__ == "__main__":
    main()
