"""Respondents drawn from a known measurement model (the population of a Monte Carlo study).

A :class:`Population` is a common-factor model for latent responses ``y* = Λη + ε`` with
unit variances: standardized ``loadings`` (one factor per item), factor correlations
``phi``, then answers cut at thresholds (``categories`` with answer ``shares``; continuous
answers when ``categories`` is None). Departures from the model, each optional:

- ``non_invariant``: items whose intercept is shifted in one group (``y* + shift``);
- ``careless``: a share of respondents who straightline (one answer repeated) or answer at
  random (uniform over the categories);
- ``missing``: blank answers, missing completely at random;
- ``cluster``: respondents nested in clusters of ``cluster_size``, with ``icc`` of each
  factor's variance between clusters (``η = √icc·u_cluster + √(1 - icc)·e``).

:func:`draw` returns a DataFrame ready for the analyses: items already reverse keyed,
one column per group and cluster (:func:`draw_arrays`: the same numbers as arrays). The
building blocks (:func:`latent`, :func:`cut`, :func:`thresholds`, :func:`careless`) are
also what ``instrument``'s form simulator uses.
Same population, ``n`` and random generator state: same data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics.errors import PsychometricsError

__all__ = ["Population", "as_frame", "careless", "cut", "draw", "draw_arrays", "latent", "thresholds",
           "uniqueness"]

#: answer shares of a 5-point agreement scale, skewed towards agreement
SHARES_5 = (0.06, 0.12, 0.24, 0.34, 0.24)


@dataclass(frozen=True)
class Population:
    """A measurement model to draw respondents from (see the module docstring).

    ``factors``: factor -> its items. ``loadings``: one standardized loading for every
    item, or item -> loading. ``phi``: one correlation between every pair of factors, or a
    factors x factors matrix (nested lists in ``factors`` order). ``shares``: answer shares
    of the ``categories`` (default: :data:`SHARES_5` for 5 categories, else equal).
    ``groups``: column -> {value: share}. ``non_invariant``: tuples ``(item, column, value,
    shift)``. ``careless``: share of careless respondents, alternating ``careless_kinds``.
    ``missing``: share of blank answers (MCAR, never for careless respondents).
    ``cluster``: name of the cluster column (``None``: no nesting).
    """

    factors: Mapping[str, Sequence[str]]
    loadings: float | Mapping[str, float] = 0.7
    phi: float | Sequence[Sequence[float]] = 0.3
    categories: int | None = 5
    shares: Sequence[float] | None = None
    groups: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    non_invariant: Sequence[tuple] = ()
    careless: float = 0.0
    careless_kinds: Sequence[str] = ("straightlining", "random")
    missing: float = 0.0
    cluster: str | None = None
    cluster_size: int = 10
    icc: float = 0.0

    @property
    def items(self) -> list[str]:
        return [i for its in self.factors.values() for i in its]

    def loading_matrix(self) -> pd.DataFrame:
        """Items x factors, the standardized loadings on ``y*``."""
        return pd.DataFrame(self.loading_array(), index=self.items, columns=list(self.factors))

    def loading_array(self) -> np.ndarray:
        """:meth:`loading_matrix` as a NumPy array."""
        lam = np.zeros((len(self.items), len(self.factors)))
        row = 0
        for k, its in enumerate(self.factors.values()):
            for i in its:
                lam[row, k] = self.loadings if isinstance(self.loadings, int | float) else self.loadings[i]
                row += 1
        return lam

    def phi_matrix(self) -> np.ndarray:
        k = len(self.factors)
        if isinstance(self.phi, int | float):
            return np.full((k, k), float(self.phi)) * (1 - np.eye(k)) + np.eye(k)
        return np.asarray(self.phi, float)

    def answer_shares(self) -> np.ndarray | None:
        if self.categories is None:
            return None
        if self.shares is not None:
            return np.asarray(self.shares, float)
        return np.asarray(SHARES_5 if self.categories == 5 else [1.0] * self.categories)

    def check(self) -> None:
        """Refuse a population that cannot be drawn from (``invalid-population``)."""
        problems = []
        lam = self.loading_array()
        phi = self.phi_matrix()
        if not self.factors or any(len(v) == 0 for v in self.factors.values()):
            problems.append("every factor needs at least one item")
        if phi.shape != (len(self.factors),) * 2 or np.linalg.eigvalsh(phi).min() <= 0:
            problems.append("phi must be a positive-definite correlation matrix, factors x factors")
        elif (np.einsum("if,fg,ig->i", lam, phi, lam) >= 1).any():
            problems.append("a loading is too high: the explained variance of an item reaches 1")
        shares = self.answer_shares()
        if shares is not None and (len(shares) != self.categories or (shares <= 0).any()):
            problems.append(f"shares must hold {self.categories} positive values")
        for name in ("careless", "missing", "icc"):
            if not 0 <= getattr(self, name) < 1:
                problems.append(f"{name} must be in [0, 1)")
        for entry in self.non_invariant:
            if len(entry) != 4 or entry[0] not in self.items or entry[1] not in self.groups:
                problems.append(f"non_invariant entry {entry!r} must be (item, group column, value, shift)")
        if self.cluster is not None and self.cluster_size < 2:
            problems.append("cluster_size must be at least 2")
        if problems:
            raise PsychometricsError("invalid-population", "Population: " + "; ".join(problems) + ".")


def thresholds(shares: Sequence[float]) -> np.ndarray:
    """Cut points on the standard normal ``y*`` that give the answer ``shares``."""
    shares = np.asarray(shares, float)
    return stats.norm.ppf(np.cumsum(shares / shares.sum())[:-1])


def uniqueness(lam: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Residual variances of ``y*``: ``1 - diag(ΛΦΛ')``, floored at .05."""
    return np.clip(1 - np.einsum("if,fg,ig->i", lam, phi, lam), 0.05, None)


def latent(lam: np.ndarray, phi: np.ndarray, eta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Latent responses ``y* = ηΛ' + ε`` with unit variance (uniquenesses floored at .05)."""
    unique = np.sqrt(uniqueness(lam, phi))
    return eta @ lam.T + rng.standard_normal((eta.shape[0], lam.shape[0])) * unique


def cut(ystar: np.ndarray, cuts: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Ordinal answers: ``codes[k]`` when ``y*`` falls between cut ``k - 1`` and cut ``k``."""
    return codes[np.searchsorted(cuts, ystar)]


def careless(x: np.ndarray, share: float, kinds: Sequence[str], codes: np.ndarray, rng) -> np.ndarray:
    """Make ``round(share * n)`` respondents careless, in place; return their kinds ('' if not).

    Kinds alternate over ``kinds``: ``straightlining`` (one answer for every item) or
    ``random`` (uniform answers).
    """
    n = x.shape[0]
    kind = np.array([""] * n, dtype=object)
    count = round(share * n)
    if not count:
        return kind
    who = rng.choice(n, size=count, replace=False)
    for i, person in enumerate(who):
        what = kinds[i % len(kinds)]
        if what == "straightlining":
            x[person] = rng.choice(codes)
        elif what == "random":
            x[person] = rng.choice(codes, size=x.shape[1])
        else:
            raise PsychometricsError(
                "invalid-option", f"careless kinds must be 'straightlining' or 'random'; got {what!r}."
            )
        kind[person] = what
    return kind


def _factor_scores(pop: Population, n: int, rng) -> tuple[np.ndarray, np.ndarray | None]:
    phi = pop.phi_matrix()
    eta = rng.multivariate_normal(np.zeros(len(phi)), phi, size=n, method="cholesky")
    if pop.cluster is None:
        return eta, None
    cluster = np.arange(n) // pop.cluster_size
    between = rng.multivariate_normal(np.zeros(len(phi)), phi, size=cluster[-1] + 1, method="cholesky")
    return np.sqrt(pop.icc) * between[cluster] + np.sqrt(1 - pop.icc) * eta, cluster


def draw(pop: Population, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` respondents from ``pop``: group and cluster columns, then the items."""
    pop.check()
    return as_frame(pop, *draw_arrays(pop, n, rng))


def as_frame(pop: Population, columns: Mapping[str, np.ndarray], x: np.ndarray) -> pd.DataFrame:
    """The arrays of :func:`draw_arrays` as :func:`draw`'s DataFrame."""
    head = pd.DataFrame(dict(columns), index=range(len(x)))
    return pd.concat([head, pd.DataFrame(x, columns=pop.items)], axis=1)


def draw_arrays(pop: Population, n: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """What :func:`draw` returns, as arrays: ``({group and cluster column: values}, answers
    n x items)``, the same numbers for the same generator state. ``pop`` is not checked
    (:meth:`Population.check` once, then draw many samples: a Monte Carlo replication)."""
    columns = {}
    for col, shares in pop.groups.items():
        p = np.asarray(list(shares.values()), float)
        columns[col] = rng.choice(list(shares), size=n, p=p / p.sum())
    eta, cluster = _factor_scores(pop, n, rng)
    ystar = latent(pop.loading_array(), pop.phi_matrix(), eta, rng)
    items = pop.items
    for item, col, value, shift in pop.non_invariant:
        ystar[:, items.index(item)] += np.where(columns[col] == value, float(shift), 0.0)
    shares = pop.answer_shares()
    if shares is None:
        x, kind = ystar, np.array([""] * n, dtype=object)
        who = rng.choice(n, size=round(pop.careless * n), replace=False)
        x[who] = rng.standard_normal((len(who), x.shape[1]))  # careless: noise, unrelated to η
        kind[who] = "random"
    else:
        codes = np.arange(1, pop.categories + 1, dtype=float)
        x = cut(ystar, thresholds(shares), codes)
        kind = careless(x, pop.careless, pop.careless_kinds, codes, rng)
    if pop.missing:
        blank = (rng.random(x.shape) < pop.missing) & (kind == "")[:, None]
        x = np.where(blank, np.nan, x)
    if cluster is not None:
        columns[pop.cluster] = cluster
    return columns, x
