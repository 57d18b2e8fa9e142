"""Model specification: lavaan-style syntax and the parameter table it gives.

:func:`cfa_structure` builds the parameter table of a (multi-group) factor model with
lavaan's defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from psychometrics.engine.core import ALPHA, BETA, LAMBDA, NU, PSI, THETA, Structure
from psychometrics.errors import PsychometricsError

__all__ = ["EQUAL_KINDS", "Spec", "cfa_structure", "parse_model"]

# --------------------------------------------------------------------------- CFA builder

#: group.equal keywords (lavaan's names) -> what they constrain
EQUAL_KINDS = (
    "loadings", "intercepts", "means", "residuals", "residual.covariances",
    "lv.variances", "lv.covariances",
)


def _kind(mat: int, row: int, col: int) -> str:
    if mat in (LAMBDA, BETA):
        return "loadings"
    if mat == NU:
        return "intercepts"
    if mat == ALPHA:
        return "means"
    if mat == THETA:
        return "residuals" if row == col else "residual.covariances"
    return "lv.variances" if row == col else "lv.covariances"


def _factor_starts(
    s: np.ndarray, items: list[int], std_lv: bool
) -> tuple[np.ndarray, float, np.ndarray]:
    """Start loadings, factor variance and uniquenesses of one factor from the first
    principal component of its items' correlations (scaled to the marker, or std.lv)."""
    sd = np.sqrt(np.diag(s)[items])
    if len(items) == 1:
        lam = np.array([sd[0] if std_lv else 1.0])
        return lam, (1.0 if std_lv else 0.5 * sd[0] ** 2), 0.5 * sd**2
    r = s[np.ix_(items, items)] / np.outer(sd, sd)
    vals, vecs = np.linalg.eigh(r)
    vec = vecs[:, -1] * (1.0 if vecs[:, -1].sum() >= 0 else -1.0)
    std = np.clip(vec * np.sqrt(vals[-1]), -0.95, 0.95)
    raw = std * sd
    uniq = np.maximum(sd**2 - raw**2, 0.1 * sd**2)
    if std_lv:
        return raw, 1.0, uniq
    marker = raw[0] if abs(raw[0]) > 1e-3 * sd[0] else sd[0]
    return raw / marker, marker**2, uniq


def cfa_structure(
    factors: dict[str, list[str]],
    observed: list[str],
    moments: list[tuple[np.ndarray, np.ndarray]],
    *,
    meanstructure: bool,
    second_order: dict[str, list[str]] | None = None,
    std_lv: bool = False,
    residual_covariances: tuple[tuple[str, str], ...] = (),
    group_equal: tuple[str, ...] = (),
    group_partial: frozenset[tuple[str, str, str]] = frozenset(),
    delta: bool = False,
) -> Structure:
    """Parameter table of a (multi-group) CFA with lavaan's defaults.

    ``factors`` maps each first-order factor to its items (the first one is the marker,
    loading fixed to 1, unless ``std_lv``); ``second_order`` maps higher-order factors to
    first-order factors. Exogenous latent variables covary freely; residual variances
    are free; ``residual_covariances`` adds free observed residual covariances. With a
    mean structure the intercepts are free and the latent means fixed to 0, except that
    when ``"intercepts"`` (but not ``"means"``) is in ``group_equal`` the means (or
    intercepts) of the first-order factors are free in every group but the first
    (lavaan's ``group.equal``; lavaan also frees the higher-order factors' means, which
    are then not identified: here they stay 0, same fit, one parameter less).
    ``group_partial`` lists ``(lhs, op, rhs)`` entries left free across groups (lavaan's
    ``group.partial``). ``moments`` gives each group's (S, ybar) for the start values.
    ``delta``: ordinal items under the delta parameterization (the residual variances are
    fixed rows, set from the model; see :class:`Structure`).
    """
    second_order = second_order or {}
    latent = list(factors) + [h for h in second_order if h not in factors]
    lv = {name: j for j, name in enumerate(latent)}
    ov = {name: i for i, name in enumerate(observed)}
    endogenous = {f for facets in second_order.values() for f in facets}
    exogenous = [name for name in latent if name not in endogenous]
    ngroups = len(moments)
    cols: dict[str, list] = {k: [] for k in ("group", "mat", "row", "col", "free", "value",
                                             "lhs", "op", "rhs")}
    first_ids: dict[tuple[int, int, int], int] = {}
    next_id = 0

    def add(g, mat, row, col, free, value, lhs, op, rhs):
        nonlocal next_id
        pid = -1
        if free:
            key = (mat, row, col)
            shared = (
                g > 0
                and _kind(mat, row, col) in group_equal
                and (lhs, op, rhs) not in group_partial
                and key in first_ids
            )
            if shared:
                pid = first_ids[key]
            else:
                pid = next_id
                next_id += 1
                if g == 0:
                    first_ids[key] = pid
        for k, v in zip(cols, (g, mat, row, col, pid, value, lhs, op, rhs), strict=True):
            cols[k].append(v)

    for g, (s, ybar) in enumerate(moments):
        lv_var = {}
        uniq_start = 0.5 * np.diag(s)
        seen: set[int] = set()
        for f, items in factors.items():
            idx = [ov[i] for i in items]
            lam, var, uniq = _factor_starts(s, idx, std_lv)
            lv_var[f] = var
            for k, i in enumerate(idx):
                if i not in seen and len(idx) > 1:
                    uniq_start[i] = uniq[k]
                seen.add(i)
            for k, item in enumerate(items):
                fixed = k == 0 and not std_lv
                add(g, LAMBDA, ov[item], lv[f], not fixed, lam[k] if not fixed else 1.0,
                    f, "=~", item)
        for h, facets in second_order.items():
            for k, f in enumerate(facets):
                fixed = k == 0 and not std_lv
                add(g, BETA, lv[f], lv[h], not fixed, 1.0, h, "=~", f)
        for i, item in enumerate(observed):
            add(g, THETA, i, i, not delta, 1.0 if delta else uniq_start[i], item, "~~", item)
        for a, b in residual_covariances:
            i, j = sorted((ov[a], ov[b]), reverse=True)
            add(g, THETA, i, j, True, 0.0, a, "~~", b)
        for h, facets in second_order.items():
            base = float(np.mean([lv_var[f] for f in facets]))
            lv_var[h] = 0.5 * base
            for f in facets:
                lv_var[f] = 0.5 * lv_var[f]
        for f in latent:
            fixed = std_lv and f in exogenous
            add(g, PSI, lv[f], lv[f], not fixed, 1.0 if fixed else lv_var[f], f, "~~", f)
        for a_i, a in enumerate(exogenous):
            for b in exogenous[a_i + 1:]:
                i, j = sorted((lv[a], lv[b]), reverse=True)
                add(g, PSI, i, j, True, 0.0, a, "~~", b)
        if meanstructure:
            for i, item in enumerate(observed):
                add(g, NU, i, 0, True, ybar[i], item, "~1", "")
            free_means = g > 0 and "intercepts" in group_equal and "means" not in group_equal
            for f in latent:
                free = free_means and f in factors
                add(g, ALPHA, lv[f], 0, free, 0.0, f, "~1", "")
    arr = {k: np.asarray(v) for k, v in cols.items() if k not in ("lhs", "op", "rhs")}
    return Structure(
        observed=list(observed), latent=latent, ngroups=ngroups, meanstructure=meanstructure,
        group=arr["group"].astype(int), mat=arr["mat"].astype(int), row=arr["row"].astype(int),
        col=arr["col"].astype(int), free=arr["free"].astype(int),
        value=arr["value"].astype(float), lhs=cols["lhs"], op=cols["op"], rhs=cols["rhs"],
        delta=delta,
    )



# --------------------------------------------------------------------------- model spec


@dataclass(frozen=True)
class Spec:
    factors: dict[str, list[str]]
    second_order: dict[str, list[str]]
    residual_covariances: tuple[tuple[str, str], ...]

    @property
    def items(self) -> list[str]:
        seen: dict[str, None] = {}
        for items in self.factors.values():
            for i in items:
                seen.setdefault(i, None)
        return list(seen)


_LINE = re.compile(r"^\s*([^\s=~]+)\s*(=~|~~)\s*(.+?)\s*$")


def _parse_string(model: str, func: str):
    factors: dict[str, list[str]] = {}
    covs: list[tuple[str, str]] = []
    for raw in re.split(r"[\n;]", model):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = _LINE.match(line)
        if not m:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} accepts lines 'F =~ x1 + x2 + x3' and "
                f"'x1 ~~ x2' (residual covariance); got {line!r}.",
            )
        lhs, op, rhs = m.groups()
        terms = [t.strip() for t in rhs.split("+")]
        if any(not t or re.search(r"[\s*]", t) for t in terms):
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} takes plain item names (no labels or "
                f"fixed values such as '1*x1'); got {line!r}.",
            )
        if op == "=~":
            factors.setdefault(lhs, []).extend(terms)
        else:
            covs.extend((lhs, t) for t in terms)
    return factors, covs


def parse_model(model, second_order, residual_covariances, func: str) -> Spec:
    covs: list[tuple[str, str]] = []
    if isinstance(model, str):
        factors, covs = _parse_string(model, func)
    elif isinstance(model, Mapping):
        factors = {}
        for name, items in model.items():
            if isinstance(items, str) or not isinstance(items, Sequence):
                raise PsychometricsError(
                    "invalid-model",
                    f"The 'model' parameter of {func} maps each factor to a list of item "
                    f"names; factor {name!r} maps to {items!r}.",
                )
            factors[str(name)] = [str(i) for i in items]
    else:
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} must be a mapping factor -> items (e.g. "
            f"{{'TRU': ['TRU1', 'TRU2', 'TRU3']}}) or lavaan syntax; got "
            f"{type(model).__name__}.",
        )
    if not factors:
        raise PsychometricsError(
            "invalid-model", f"The 'model' parameter of {func} must define at least one factor; got none."
        )
    higher = {str(k): [str(f) for f in v] for k, v in (second_order or {}).items()}
    # in lavaan syntax a factor measured by factors is a higher-order factor
    for name in list(factors):
        if all(t in factors for t in factors[name]) and name not in higher:
            higher[name] = factors.pop(name)
    for name, items in factors.items():
        if not items:
            raise PsychometricsError(
                "invalid-model", f"The 'model' parameter of {func}: factor {name!r} has no items."
            )
        dup = {i for i in items if items.count(i) > 1}
        if dup:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func}: factor {name!r} lists {sorted(dup)[0]!r} twice.",
            )
        rev = [i for i in items if i.startswith("-")]
        if rev:
            raise PsychometricsError(
                "reverse-keyed-item",
                f"The 'model' parameter of {func} names items, not keys; got {rev[0]!r} in "
                f"factor {name!r}. Recode reverse-keyed items first (pm.reverse_key).",
            )
    items = {i for v in factors.values() for i in v}
    clash = sorted(items & (set(factors) | set(higher)))
    if clash:
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} uses {clash[0]!r} both as a factor and an item.",
        )
    used: dict[str, str] = {}
    for h, facets in higher.items():
        if h in factors:
            raise PsychometricsError(
                "invalid-model",
                f"The 'second_order' parameter of {func}: {h!r} is already a first-order factor.",
            )
        unknown = [f for f in facets if f not in factors]
        if unknown:
            raise PsychometricsError(
                "invalid-model",
                f"The 'second_order' parameter of {func}: {h!r} names {unknown[0]!r}, which is "
                f"not a first-order factor of the model ({', '.join(factors)}).",
            )
        if len(facets) < 2:
            raise PsychometricsError(
                "invalid-model",
                f"The 'second_order' parameter of {func}: {h!r} needs at least 2 first-order "
                f"factors; got {len(facets)}.",
            )
        for f in facets:
            if f in used:
                raise PsychometricsError(
                    "invalid-model",
                    f"The 'second_order' parameter of {func}: {f!r} is under both "
                    f"{used[f]!r} and {h!r}.",
                )
            used[f] = h
    pairs = list(covs) + [tuple(map(str, c)) for c in (residual_covariances or ())]
    clean: list[tuple[str, str]] = []
    for pair in pairs:
        if len(pair) != 2 or pair[0] == pair[1] or any(x not in items for x in pair):
            raise PsychometricsError(
                "invalid-model",
                f"The 'residual_covariances' parameter of {func} takes pairs of two distinct "
                f"items of the model; got {pair!r}.",
            )
        if {tuple(pair), tuple(pair[::-1])} & set(clean):
            continue
        clean.append((pair[0], pair[1]))
    return Spec(factors, higher, tuple(clean))


