"""Model specification: lavaan-style syntax and the parameter table it gives.

:func:`build_structure` builds the parameter table of a (multi-group) model with
lavaan's defaults from syntax terms (:mod:`psychometrics.engine.syntax`);
:func:`parse_model` reads the measurement models of :func:`psychometrics.cfa` (a mapping
factor -> items, or lavaan syntax with ``=~`` and ``~~`` only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from psychometrics.engine.core import ALPHA, BETA, LAMBDA, NU, PSI, THETA, Structure
from psychometrics.engine.syntax import Term, parse_syntax
from psychometrics.errors import PsychometricsError

__all__ = ["EQUAL_KINDS", "Paths", "Spec", "build_structure", "observed_paths", "parse_model"]

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


class _Table:
    """The parameter table being built: rows, shared ids (group.equal, labels)."""

    def __init__(self, group_equal, group_partial):
        self.cols: dict[str, list] = {k: [] for k in ("group", "mat", "row", "col", "free",
                                                      "value", "lhs", "op", "rhs", "label",
                                                      "hidden", "fixed_x")}
        self.first_ids: dict[tuple[int, int, int], int] = {}
        self.label_ids: dict[str, int] = {}
        self.next_id = 0
        self.group_equal, self.group_partial = group_equal, group_partial

    def _id(self, g, mat, row, col, lhs, op, rhs, label):
        if label is not None and label in self.label_ids:
            return self.label_ids[label]
        key = (mat, row, col)
        if (g > 0 and _kind(mat, row, col) in self.group_equal
                and (lhs, op, rhs) not in self.group_partial and key in self.first_ids):
            return self.first_ids[key]
        pid, self.next_id = self.next_id, self.next_id + 1
        if g == 0:
            self.first_ids[key] = pid
        if label is not None:
            self.label_ids[label] = pid
        return pid

    def add(self, g, mat, row, col, free, value, lhs, op, rhs, label=None, *,
            hidden=False, fixed_x=False):
        pid = self._id(g, mat, row, col, lhs, op, rhs, label) if free else -1
        row_values = (g, mat, row, col, pid, value, lhs, op, rhs, label, hidden, fixed_x)
        for k, v in zip(self.cols, row_values, strict=True):
            self.cols[k].append(v)

    def has(self, g, mat, row, col) -> bool:
        c = self.cols
        return any(c["group"][k] == g and c["mat"][k] == mat and c["row"][k] == row
                   and c["col"][k] == col for k in range(len(c["mat"])))


def _starts(terms, ov, latent, s, std_lv):
    """Start loadings (per =~ term), latent variances and uniquenesses of one group."""
    uniq = 0.5 * np.diag(s)
    load: dict[tuple[str, str], float] = {}
    lv_var: dict[str, float] = {}
    seen: set[int] = set()
    for f in latent:
        items = [t.rhs for t in terms if t.op == "=~" and t.lhs == f and t.rhs in ov]
        if not items:
            continue
        idx = [ov[i] for i in items]
        lam, lv_var[f], u = _factor_starts(s, idx, std_lv)
        for k, i in enumerate(idx):
            if i not in seen and len(idx) > 1:
                uniq[i] = u[k]
            seen.add(i)
            load[(f, items[k])] = lam[k]
    for h in latent:  # higher-order factors: half the facets' variance each
        facets = [t.rhs for t in terms if t.op == "=~" and t.lhs == h and t.rhs not in ov]
        if facets and h not in lv_var:
            lv_var[h] = 0.5 * float(np.mean([lv_var.get(f, 1.0) for f in facets]))
            for f in facets:
                lv_var[f] = 0.5 * lv_var.get(f, 1.0)
    return load, lv_var, uniq


def build_structure(
    terms: list[Term],
    observed: list[str],
    latent: list[str],
    moments: list[tuple[np.ndarray, np.ndarray]],
    *,
    meanstructure: bool,
    std_lv: bool = False,
    group_equal: tuple[str, ...] = (),
    group_partial: frozenset[tuple[str, str, str]] = frozenset(),
    delta: bool = False,
    paths: Paths | None = None,
) -> Structure:
    """Parameter table of a (multi-group) model with lavaan's defaults (``sem``/``cfa``).

    ``terms`` in syntax order (``F =~ x``, ``Y ~ X``, ``a ~~ b``), then, as lavaan adds
    them: residual variances of the observed variables, variances of the latent ones,
    covariances of the exogenous latent variables, and with a mean structure the
    intercepts (free) and latent means (0). The first indicator of each factor is its
    marker (loading 1) unless ``std_lv`` (exogenous variances 1 instead) or a modifier
    fixes or frees it. Labels share one parameter (in every group). With ``"intercepts"``
    but not ``"means"`` in ``group_equal`` the means of the first-order factors are free
    in every group but the first (lavaan's ``group.equal``; lavaan also frees higher-order
    factors' means, which are then not identified: here they stay 0, same fit, one
    parameter less). ``group_partial`` lists ``(lhs, op, rhs)`` entries left free across
    groups (``group.partial``). ``moments``: each group's (S, ybar), for the start values
    and the covariates' fixed moments. ``delta``: ordinal items (residual variances follow
    from the model, see :class:`Structure`). ``paths``: the observed variables in
    regressions (:func:`observed_paths`; their latent twins are the last of ``latent``).
    """
    paths = paths or Paths((), ())
    lv = {name: j for j, name in enumerate(latent)}
    ov = {name: i for i, name in enumerate(observed)}
    twins = set(paths.phantom)
    endogenous = {t.rhs for t in terms if t.op == "=~" and t.rhs in lv}
    endogenous |= {t.lhs for t in terms if t.op == "~"}
    exogenous = [f for f in latent if f not in endogenous and f not in twins]
    dependent = _pure_dependent(terms, latent)
    first_order = {t.lhs for t in terms if t.op == "=~" and t.rhs in ov}
    markers = {f: next(t for t in terms if t.op == "=~" and t.lhs == f) for f in latent
               if f not in twins}
    table = _Table(group_equal, group_partial)
    for g, (s, ybar) in enumerate(moments):
        load, lv_var, uniq = _starts(terms, ov, latent, s, std_lv)
        lv_var.update({x: 0.5 * s[ov[x], ov[x]] for x in twins})
        for t in terms:
            _add_term(table, g, t, ov, lv, load, lv_var, uniq, twins,
                      marker=markers.get(t.lhs) is t and not std_lv and not t.free)
        for x in paths.phantom:
            table.add(g, LAMBDA, ov[x], lv[x], False, 1.0, x, "=~", x, hidden=True)
            table.add(g, THETA, ov[x], ov[x], False, 0.0, x, "~~", x, hidden=True)
        for i, item in enumerate(observed):
            if not table.has(g, THETA, i, i):
                table.add(g, THETA, i, i, not delta, 1.0 if delta else uniq[i], item, "~~", item)
        for f in latent:
            if not table.has(g, PSI, lv[f], lv[f]) and f not in paths.covariates:
                fixed = std_lv and f in exogenous
                table.add(g, PSI, lv[f], lv[f], not fixed, 1.0 if fixed else lv_var.get(f, 1.0), f, "~~", f)
        for group_ in (exogenous, dependent):
            for a_i, a in enumerate(group_):
                for b in group_[a_i + 1:]:
                    i, j = sorted((lv[a], lv[b]), reverse=True)
                    if not table.has(g, PSI, i, j):
                        table.add(g, PSI, i, j, True, 0.0, a, "~~", b)
        _add_covariates(table, g, paths.covariates, ov, lv, s)
        if meanstructure:
            _add_means(table, g, observed, latent, ybar, paths, first_order=first_order,
                       free_means=g > 0 and "intercepts" in group_equal and "means" not in group_equal)
    c = table.cols
    arr = {k: np.asarray(c[k]) for k in ("group", "mat", "row", "col", "free", "value")}
    return Structure(
        observed=list(observed), latent=list(latent), ngroups=len(moments),
        meanstructure=meanstructure, group=arr["group"].astype(int), mat=arr["mat"].astype(int),
        row=arr["row"].astype(int), col=arr["col"].astype(int), free=arr["free"].astype(int),
        value=arr["value"].astype(float), lhs=c["lhs"], op=c["op"], rhs=c["rhs"],
        label=c["label"], delta=delta, hidden=np.asarray(c["hidden"], dtype=bool),
        fixed_x=np.asarray(c["fixed_x"], dtype=bool), covariates=tuple(paths.covariates),
    )


def _pure_dependent(terms, latent) -> list[str]:
    """Variables regressed on others that predict none and indicate no factor (lavaan's
    lv.y and ov.y; ``latent`` holds the latent twins of observed ones): their disturbances
    covary (lavaan's ``auto.cov.y``, a default of sem)."""
    predictors = {t.rhs for t in terms if t.op == "~"}
    indicators = {t.rhs for t in terms if t.op == "=~"}
    lhs = {t.lhs for t in terms if t.op == "~"}
    return [v for v in latent if v in lhs and v not in predictors and v not in indicators]


def _add_covariates(table, g, covariates, ov, lv, s) -> None:
    """The covariates' variances and covariances, fixed at their sample values (fixed.x)."""
    for a_i, a in enumerate(covariates):
        for b in covariates[a_i:]:
            i, j = sorted((lv[a], lv[b]), reverse=True)
            table.add(g, PSI, i, j, False, float(s[ov[a], ov[b]]), a, "~~", b, fixed_x=True)


def _add_means(table, g, observed, latent, ybar, paths, *, first_order, free_means) -> None:
    """Intercepts (free) and latent means (0, free per group with ``free_means``); an
    observed variable in a regression has its mean or intercept on its latent twin (a
    covariate's fixed at its sample mean)."""
    twins = set(paths.phantom)
    for i, item in enumerate(observed):
        if item in twins:
            table.add(g, NU, i, 0, False, 0.0, item, "~1", "", hidden=True)
        else:
            table.add(g, NU, i, 0, True, ybar[i], item, "~1", "")
    ov = {name: i for i, name in enumerate(observed)}
    for j, f in enumerate(latent):
        if f in paths.covariates:
            table.add(g, ALPHA, j, 0, False, float(ybar[ov[f]]), f, "~1", "", fixed_x=True)
        elif f in twins:
            table.add(g, ALPHA, j, 0, True, float(ybar[ov[f]]), f, "~1", "")
        else:
            table.add(g, ALPHA, j, 0, free_means and f in first_order, 0.0, f, "~1", "")


def _add_term(table, g, t, ov, lv, load, lv_var, uniq, twins, *, marker: bool) -> None:
    """One syntax term as a row: loading, regression (an indicator regressed on a
    variable: a loading), (co)variance (of latent variables or latent twins: Psi)."""
    free = t.fixed is None and not marker
    fixed_value = 1.0 if marker and t.fixed is None else t.fixed
    if t.op == "=~" and t.rhs in ov:
        mat, row, col, start = LAMBDA, ov[t.rhs], lv[t.lhs], load.get((t.lhs, t.rhs), 0.5)
    elif t.op == "=~":
        mat, row, col, start = BETA, lv[t.rhs], lv[t.lhs], 1.0
    elif t.op == "~" and t.lhs not in lv:
        mat, row, col, start = LAMBDA, ov[t.lhs], lv[t.rhs], 0.0
    elif t.op == "~":
        mat, row, col, start = BETA, lv[t.lhs], lv[t.rhs], 0.0
    elif t.lhs in ov and t.lhs not in twins:
        i, j = sorted((ov[t.lhs], ov[t.rhs]), reverse=True)
        mat, row, col, start = THETA, i, j, (uniq[i] if i == j else 0.0)
    else:
        i, j = sorted((lv[t.lhs], lv[t.rhs]), reverse=True)
        mat, row, col, start = PSI, i, j, (lv_var.get(t.lhs, 1.0) if i == j else 0.0)
    table.add(g, mat, row, col, free, start if free else fixed_value, t.lhs, t.op, t.rhs, t.label)


# --------------------------------------------------------------------------- observed paths


@dataclass(frozen=True)
class Paths:
    """Observed variables in regressions: ``phantom`` those carried by a latent twin (every
    one but an indicator regressed on something), ``covariates`` the exogenous ones."""

    phantom: tuple[str, ...]
    covariates: tuple[str, ...]


def observed_paths(terms: list[Term], observed: list[str], latent: list[str], func: str) -> Paths:
    """Which observed variables enter regressions, as lavaan takes them: a predictor or a
    dependent variable that is not a factor's indicator gets a latent twin; those never on
    the left of ``~`` are exogenous covariates (``fixed.x``). An indicator may be regressed
    on a variable (a direct effect, as in a MIMIC model) but not predict one."""
    lat = set(latent)
    indicators = {t.rhs for t in terms if t.op == "=~"}
    regressions = [t for t in terms if t.op == "~"]
    for t in regressions:
        if t.rhs in indicators:
            raise PsychometricsError(
                "not-implemented",
                f"The 'model' parameter of {func}: an indicator of a factor cannot predict "
                f"another variable; got {t.lhs} ~ {t.rhs}.",
            )
    used = {t.rhs for t in regressions} | {t.lhs for t in regressions if t.lhs not in indicators}
    phantom = tuple(v for v in observed if v in used and v not in lat)
    dependent = {t.lhs for t in regressions}
    covariates = tuple(v for v in phantom if v not in dependent)
    for t in terms:
        if t.op != "~~":
            continue
        if {t.lhs, t.rhs} & set(covariates):
            raise PsychometricsError(
                "not-implemented",
                f"The 'model' parameter of {func}: {t.lhs} ~~ {t.rhs} names an exogenous "
                "observed covariate, whose variances and covariances are fixed at their "
                "sample values (lavaan's fixed.x = TRUE).",
            )
        kinds = {v in lat or v in phantom for v in (t.lhs, t.rhs)}
        if len(kinds) > 1:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func}: a covariance joins two indicators, or two "
                f"latent or regressed observed variables; got {t.lhs} ~~ {t.rhs}.",
            )
    return Paths(phantom, covariates)


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


def _parse_string(model: str, func: str):
    """Factors and residual covariances of a measurement model in lavaan syntax."""
    syntax = parse_syntax(model, func)
    factors: dict[str, list[str]] = {}
    covs: list[tuple[str, str]] = []
    for t in syntax.terms:
        line = f"{t.lhs} {t.op} {t.rhs}"
        if t.op not in ("=~", "~~") or syntax.defined:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} accepts lines 'F =~ x1 + x2 + x3' and "
                f"'x1 ~~ x2' (residual covariance); got {line!r}. Structural models "
                "(regressions, defined parameters) go to pm.sem.",
            )
        if t.label is not None or t.fixed is not None or t.free:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func} takes plain item names (no labels or "
                f"fixed values such as '1*x1'; pm.sem takes them); got {line!r}.",
            )
        if t.op == "=~":
            factors.setdefault(t.lhs, []).append(t.rhs)
        else:
            covs.append((t.lhs, t.rhs))
    return factors, covs


def parse_model(model, second_order, residual_covariances, func: str) -> Spec:
    """The measurement model of ``pm.cfa`` (a mapping factor -> items or lavaan syntax),
    its higher-order factors and residual covariances, checked."""
    factors, covs = _read_factors(model, func)
    higher = {str(k): [str(f) for f in v] for k, v in (second_order or {}).items()}
    # in lavaan syntax a factor measured by factors is a higher-order factor
    for name in list(factors):
        if all(t in factors for t in factors[name]) and name not in higher:
            higher[name] = factors.pop(name)
    _check_factors(factors, func)
    items = {i for v in factors.values() for i in v}
    clash = sorted(items & (set(factors) | set(higher)))
    if clash:
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} uses {clash[0]!r} both as a factor and an item.",
        )
    _check_higher(higher, factors, func)
    pairs = list(covs) + [tuple(map(str, c)) for c in (residual_covariances or ())]
    return Spec(factors, higher, _residual_pairs(pairs, items, func))


def _read_factors(model, func: str) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Factors -> items and the residual covariances of the syntax (none for a mapping)."""
    if isinstance(model, str):
        factors, covs = _parse_string(model, func)
    elif isinstance(model, Mapping):
        factors, covs = {}, []
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
    return factors, covs


def _check_factors(factors: dict[str, list[str]], func: str) -> None:
    """Each factor has items, none twice, none reverse keyed."""
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


def _check_higher(higher: dict[str, list[str]], factors: dict[str, list[str]], func: str) -> None:
    """Each higher-order factor is new, over at least 2 first-order factors, each under one."""
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


def _residual_pairs(pairs: list, items: set[str], func: str) -> tuple[tuple[str, str], ...]:
    """Residual covariances: pairs of two distinct items of the model, each pair once."""
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
    return tuple(clean)
