"""Feedback reports: what each consortium's respondents perceive, for the consortium itself.

``intangibles feedback DATA (--form FORM.yaml | --keys KEYS) --by consortium --out DIR``
writes, per consortium, ``DIR/<code>/feedback.html`` (self-contained), ``feedback.pdf`` and
``summary.json``, plus ``DIR/index.html`` and ``DIR/summary.csv`` (one row per consortium
and scale). The numbers come from :func:`profile` (a DataFrame in, a DataFrame out):

- per consortium and scale: ``n``, ``mean`` (the mean of the respondents' scale scores,
  :func:`psychometrics.score`), ``sd``, a t-based 95% CI, ``share_agree`` (the share of
  respondents whose score is at least the "agree" answer: 4 on 1-5), and ``rwg_j``
  (within-consortium agreement, :func:`psychometrics.agreement`, uniform null);
- the consortium's rank among the consortia of the study (percentile of its mean; only when
  at least :data:`MIN_PEERS` consortia are reported, and no other consortium is named);
- per item, the share of answers at "agree" or above (missing codes left out).

Small cells: a consortium with fewer than ``min_group`` respondents gets no figure (its
page is a short notice, listed in the index with the reason); a role with fewer than
``min_group`` respondents is merged into "other roles" (and not shown when still small).
Nothing respondents typed is shown: only coded answers, the form's texts and codes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import psychometrics as pm

__all__ = ["MIN_PEERS", "Study", "item_rates", "profile", "role_counts", "study_from_form", "study_from_keys"]

#: Fewest consortia for the "where you stand among the others" part.
MIN_PEERS = 5


@dataclass(frozen=True)
class Scale:
    """A reported scale: ``kind`` is construct, facet, level or scale (keys file)."""

    name: str
    kind: str
    label: dict
    construct: str = ""
    drawback: bool = False


@dataclass(frozen=True)
class Study:
    """What a feedback report needs from a form or a keys file."""

    keys: dict  # psych-style: scale -> ["item", "-item", ...]
    low: float
    high: float
    scales: tuple[Scale, ...]
    items: dict = field(default_factory=dict)  # item id -> {"fr": text, "en": text}
    missing_codes: tuple = ()
    tangible: tuple[str, ...] = ()
    reverse: frozenset = frozenset()  # reverse-keyed items (a low agreement reads as a benefit)
    role: str | None = None
    role_labels: dict = field(default_factory=dict)  # answer code (as text) -> {"name", "fr", "en"}
    consortium_name: dict = field(default_factory=dict)

    @property
    def agree(self) -> float:
        """The "agree" answer: 4 on a 1-5 scale (three quarters of the way up)."""
        return self.low + 0.75 * (self.high - self.low)


def study_from_form(form) -> Study:
    """The form's scales (constructs, their facets and levels), item texts, tangible items."""
    constructs = form.bank.constructs if form.bank else {}
    scales = []
    for s in form.scales:
        construct = s.name if s.kind == "construct" else _construct_of(s, form)
        kind = getattr(constructs.get(construct), "kind", "benefit")
        scales.append(Scale(s.name, s.kind, dict(s.label), construct, kind == "drawback"))
    questions = {q.id: q for q in form.context_block}
    role = questions.get("respondent_role") or questions.get("role")  # the nested design's roles first
    return Study(
        keys=form.keys()["scales"], low=form.response_set.low, high=form.response_set.high,
        scales=tuple(scales), items={i: dict(t) for i, t in form.texts.items()},
        missing_codes=tuple(form.response_set.missing_codes),
        tangible=tuple(i.id for i in form.items if i.tangible), role=role.id if role else None,
        reverse=frozenset(k[1:] for v in form.keys()["scales"].values() for k in v if k.startswith("-")),
        role_labels={str(c.code): {"name": c.name, **c.label} for c in role.choices} if role else {},
        consortium_name=dict(form.consortium),
    )


def _construct_of(scale, form) -> str:
    first = scale.items[0]
    return next(i.construct for i in form.items if i.id == first)


def study_from_keys(keys) -> Study:
    """A keys file: every scale is a benefit scale labelled by its name."""
    k = pm.load_keys(keys) if not hasattr(keys, "scales") else keys
    scales = tuple(Scale(name, "scale", {"fr": name, "en": name}, name) for name in k.scales)
    reverse = frozenset(i[1:] for v in k.scales.values() for i in v if i.startswith("-"))
    return Study(keys={n: list(v) for n, v in k.scales.items()}, low=k.min, high=k.max, scales=scales,
                 role=getattr(k, "role", None), reverse=reverse)


# --------------------------------------------------------------------------- numbers


def answers(data: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The item columns as numbers, missing codes ("don't know"...) set to NA."""
    items = sorted({k.lstrip("-") for v in study.keys.values() for k in v} | set(study.tangible))
    frame = data[[i for i in items if i in data.columns]].apply(pd.to_numeric, errors="coerce")
    return frame.where(~frame.isin(study.missing_codes)) if study.missing_codes else frame


def profile(data: pd.DataFrame, study: Study, by: str) -> pd.DataFrame:
    """One row per consortium and scale: n, mean, sd, ci_low, ci_high, share_agree, rwg_j.

    ``mean`` is exactly the mean of the respondents' scale scores (pm.score, at least half
    of a scale's items answered); the CI is mean ± t(.975, n - 1) · sd / √n.
    """
    items = answers(data, study)
    scores = pm.score(items, study.keys, low=study.low, high=study.high, counts=False)
    long = scores.assign(**{by: data[by].to_numpy()}).melt(id_vars=by, var_name="scale", value_name="score")
    long = long.dropna(subset=["score"])
    long["agree"] = long["score"] >= study.agree
    grouped = long.groupby([by, "scale"], sort=False)
    table = grouped["score"].agg(n="count", mean="mean", sd="std").join(grouped["agree"].mean().rename("share_agree"))
    table = table.reset_index().rename(columns={by: "group"})
    half = _t975(table["n"]) * table["sd"] / np.sqrt(table["n"])
    table["ci_low"], table["ci_high"] = table["mean"] - half, table["mean"] + half
    return table.merge(_rwg(items, data[by], study), on=["group", "scale"], how="left")


def _t975(n: pd.Series) -> np.ndarray:
    from scipy import stats

    df = (n - 1).to_numpy(dtype=float)
    return np.where(df > 0, stats.t.ppf(0.975, np.maximum(df, 1)), np.nan)


def _rwg(items: pd.DataFrame, group: pd.Series, study: Study) -> pd.DataFrame:
    """rwg(j) per consortium and scale (uniform null), from pm.agreement."""
    frame = items.assign(_group=group.to_numpy())
    keys = {"scales": study.keys, "min": study.low, "max": study.high}
    result = pm.agreement(frame, keys, "_group", low=study.low, high=study.high, mixed=False)
    return result.by_group[["scale", "group", "rwg_j"]]


def positions(table: pd.DataFrame, reported: list) -> pd.DataFrame:
    """Per scale, the distribution of the reported consortia's means (min, quartiles, max)
    and each consortium's percentile (share of the other consortia with a lower mean);
    empty when fewer than MIN_PEERS consortia are reported."""
    kept = table[table["group"].isin(reported)]
    if kept["group"].nunique() < MIN_PEERS:
        return pd.DataFrame(columns=["group", "scale", "percentile", "q0", "q1", "q2", "q3", "q4"])
    rank = kept.groupby("scale")["mean"].rank(method="average")
    count = kept.groupby("scale")["mean"].transform("count")
    out = kept[["group", "scale"]].assign(percentile=(rank - 1) / (count - 1))
    quart = kept.groupby("scale")["mean"].quantile([0, 0.25, 0.5, 0.75, 1]).unstack()
    quart.columns = ["q0", "q1", "q2", "q3", "q4"]
    return out.merge(quart, left_on="scale", right_index=True)


def item_rates(data: pd.DataFrame, study: Study, by: str) -> pd.DataFrame:
    """Per consortium and item: answers given (n) and the share at "agree" or above."""
    items = answers(data, study)
    agree = (items >= study.agree).where(items.notna())
    rates = agree.groupby(data[by].to_numpy()).mean()
    counts = items.notna().groupby(data[by].to_numpy()).sum()
    long = rates.stack().rename("share_agree").to_frame().join(counts.stack().rename("n"))
    long.index.names = ["group", "item"]
    return long.reset_index()


def role_counts(roles: pd.Series, minimum: int) -> list[tuple[str, int | None]]:
    """Respondents per role, the roles under ``minimum`` merged into "other" (None when
    even the merged count is under ``minimum``: shown as "< minimum")."""
    counts = roles.dropna().astype(str).value_counts()
    big = [(r, int(c)) for r, c in counts.items() if c >= minimum]
    small = int(counts[counts < minimum].sum())
    if small:
        big.append(("other", small if small >= minimum else None))
    return big


def ci_width_ok(n: int) -> bool:
    """A mean on fewer than 10 respondents is shown with a caution (wide interval)."""
    return n >= 10


def slug(code: str, taken: set) -> str:
    """A folder name for a consortium code: letters, digits, - and _ only, unique even on
    case-insensitive file systems."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", str(code)).strip("._") or "group"
    name, k = base[:60], 2
    while name.lower() in taken:
        name, k = f"{base[:56]}-{k}", k + 1
    taken.add(name.lower())
    return name


def finite(value):
    """A JSON-safe number (None for NA)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value) if isinstance(value, (float, np.floating)) else int(value)
