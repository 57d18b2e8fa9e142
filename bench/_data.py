"""Simulated Likert data shared by the benchmarks (same seed, same data as the recorded runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd

N_FACTORS = 4


def likert(n: int, seed: int = 2024, *, n_items: int = 40, missing: float = 0.0) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """``n`` respondents x ``n_items`` five-point items from 4 correlated factors (r = .4, loadings
    .55-.80, skewed thresholds); ``missing``: share of answers set to NA. Returns the data
    and the scales (``n_items / 4`` items each)."""
    rng = np.random.default_rng(seed)
    phi = np.full((N_FACTORS, N_FACTORS), 0.4)
    np.fill_diagonal(phi, 1.0)
    f = rng.multivariate_normal(np.zeros(N_FACTORS), phi, size=n)
    per = n_items // N_FACTORS
    lam = rng.uniform(0.55, 0.80, n_items)
    z = np.repeat(f, per, axis=1) * lam + rng.normal(size=(n, n_items)) * np.sqrt(1 - lam**2)
    cuts = np.array([-1.6, -0.6, 0.3, 1.2]) + rng.normal(0, 0.15, (n_items, 1))
    x = np.stack([np.searchsorted(cuts[j], z[:, j]) + 1 for j in range(n_items)], axis=1)
    names = [f"S{j // per + 1}_{j % per + 1}" for j in range(n_items)]
    df = pd.DataFrame(x.astype(float), columns=names)
    if missing:
        df = df.mask(rng.random(df.shape) < missing)
    scales = {f"S{k + 1}": names[k * per : (k + 1) * per] for k in range(N_FACTORS)}
    return df, scales
