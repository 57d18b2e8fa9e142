"""How much of a scale score lies between people, organizations and consortia: the
variance components of nested random intercepts (REML), as lme4 gives them.

    >>> split = pm.variance_split(df, keys, ["org", "consortium"], low=1, high=5)  # doctest: +SKIP
    >>> split.loc["TRU", ["share_person", "share_org", "share_consortium"]]          # doctest: +SKIP

In R (``lme4``), per scale, on the rows with every item of the scale and every level's code::

    lmer(score ~ 1 + (1 | consortium/org), REML = TRUE)   # two levels, org within consortium
    lmer(score ~ 1 + (1 | org), REML = TRUE)              # one level

``score`` is the mean of the scale's items, reverse keyed (``pm.agreement``'s scores); an
organization code is taken within its consortium, as lme4's ``consortium/org``. The fit is
lme4's own: the profiled REML criterion minimized over the levels' relative standard
deviations theta >= 0 (L-BFGS-B with bounds, two starts), the residual variance and the
intercept profiled out. statsmodels' MixedLM was the first choice, but it stops with a
singular matrix when a level's variance is 0 (simulated data without a cluster effect:
common in practice), where a bounded theta simply reaches 0 as lme4's does. Matches lme4
to 1e-4 on the shared nested study, complete and with missing answers and codes
(tests/reference/variance). A share is the level's variance over the
sum of every level's and the residual (person) variance; ``share_<innermost>`` at one level
is lme4's ICC(1) (``icc1_mixed`` of :func:`psychometrics.agreement`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from psychometrics.agreement import level_codes, nesting_issues, response_range
from psychometrics.errors import PsychometricsError
from psychometrics.keys import Keys, load_keys
from psychometrics.reml import random_intercepts
from psychometrics.scoring import reverse_key

__all__ = ["variance_split"]


def variance_split(data: pd.DataFrame, keys, levels: Sequence[str], *, low=None, high=None,
                   id: str | None = None) -> pd.DataFrame:
    """Per scale, the variance of its score at each level (REML random intercepts).

    ``levels``: the grouping columns, innermost first (``["org", "consortium"]``). Rows
    without a code at some level, and people listed under two codes of a level (``id``),
    are left out (:func:`psychometrics.agreement.nesting_issues` names them).

    Returns a DataFrame indexed by scale: ``n``, ``groups_<level>``, ``var_person``,
    ``var_<level>``, ``share_person``, ``share_<level>`` (the shares sum to 1),
    ``reml_loglik``, ``converged``.
    """
    keys = keys if isinstance(keys, Keys) else load_keys(keys, columns=data.columns)
    low, high = response_range(low, high, keys, "variance_split")
    levels = [levels] if isinstance(levels, str) else list(levels)
    missing = [g for g in levels if g not in data.columns]
    if not levels or missing:
        raise PsychometricsError("missing-column", "The 'levels' parameter of variance_split must "
                                 f"name data columns; not found: {missing or levels!r}.")
    issues = nesting_issues(data, levels, id=id)
    codes = pd.DataFrame({lv: level_codes(data, lv, issues) for lv in levels}, index=data.index)
    x = reverse_key(data, keys, low, high)
    rows = {}
    for scale, keyed in keys.scales.items():
        block = x[[k.removeprefix("-") for k in keyed]].astype(float)
        ok = block.notna().all(axis=1) & codes.notna().all(axis=1)
        rows[scale] = _split(block[ok].mean(axis=1).to_numpy(), codes[ok], levels)
    parts = ["person", *levels]
    columns = ["n", *(f"groups_{lv}" for lv in levels), *(f"var_{k}" for k in parts),
               *(f"share_{k}" for k in parts), "reml_loglik", "converged"]
    out = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
    out.index.name = "scale"
    return out


def _split(score: np.ndarray, codes: pd.DataFrame, levels: list[str]) -> dict:
    """One scale's variance components and their shares."""
    base = {"n": len(score)} | {f"groups_{lv}": int(codes.groupby(levels[i:]).ngroups)
                                 for i, lv in enumerate(levels)}
    if len(score) < 3 or min(base[f"groups_{lv}"] for lv in levels) < 2:
        return base | {"converged": False}
    var, llf, converged = random_intercepts(score, codes, levels)
    total = sum(var.values())
    return (base | {f"var_{k}": v for k, v in var.items()}
            | {f"share_{k}": v / total for k, v in var.items()}
            | {"reml_loglik": llf, "converged": converged})
