"""The parameter tables of ordinal measurement invariance, and their fit by the engine.

``semTools::measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016")`` writes, for
each step of ordinal invariance, a multi-group model for lavaan; :func:`table` writes the
same model as the engine's parameter table (:class:`~psychometrics.engine.core.Structure`).
Per group ``g``: latent responses ``y* = nu + Lambda eta + eps``, ``eta ~ N(alpha, Psi)``;
item ``i`` answers category ``k`` when ``tau_i,k-1 < y*_i <= tau_i,k``. Entries:

- loadings (``F=~y3``), thresholds (``y3|t1``: ``TAU`` entries), residual covariances;
- first group: latent-response intercepts ``nu = 0``, scales 1, ``alpha = 0``, ``Psi`` a
  correlation matrix (``std.lv``);
- other groups: the intercepts and scales (``y3~*~y3``, or under the "theta"
  parameterization the residual variances ``y3~~y3``) free for the items whose thresholds
  are equal, the factor variances once the loadings are equal, the factor means once the
  intercepts are equal.

Equality across groups is sharing a free id, as everywhere in the engine. Each parameter
has a lavaan-like name, with ``.gK`` when it belongs to group K only.

:func:`fit` minimises :class:`~psychometrics.engine.dwls.ThresholdDWLS` (thresholds and
correlations, groups summed with weights ``N_g - 1``: lavaan's chi-square) by the engine's
Fisher scoring (:func:`~psychometrics.engine.core.fisher_scoring`), from a neighbour
model's estimates when given. Its test and indices are the engine's WLSMV ones
(:func:`~psychometrics.engine.dwls.u_gamma_traces`, groups weighted by ``N_g / N`` as
lavaan 0.6-14) and :func:`difference_test` is Satorra's (2000)
(:func:`~psychometrics.engine.dwls.satorra_2000`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychometrics.engine import core, dwls, estimate, indices
from psychometrics.engine.core import ALPHA, LAMBDA, NU, PSI, SCALE, TAU, THETA, Structure

__all__ = ["Measurement", "OrdinalFit", "Table", "difference_test", "fit", "table"]


@dataclass(frozen=True)
class Measurement:
    """The measurement model behind every step: items, factors, loading pattern
    (items x factors, bool), residual covariances (item index pairs), thresholds per item,
    groups, and the sample thresholds (groups x thresholds: start values)."""

    items: tuple[str, ...]
    factors: tuple[str, ...]
    pattern: np.ndarray
    rcov: tuple[tuple[int, int], ...]
    n_th: tuple[int, ...]
    groups: tuple[str, ...]
    th_start: np.ndarray


@dataclass(frozen=True)
class Table:
    """One step's parameter table, its free parameters' names and parameterization."""

    structure: Structure
    names: tuple[str, ...]
    theta: bool
    groups: tuple[str, ...]

    @property
    def npar(self) -> int:
        return len(self.names)


class _Rows:
    """The table being written: one row per entry, free ids shared by key."""

    def __init__(self, ngroups: int):
        self.ngroups = ngroups
        self.cols: dict[str, list] = {k: [] for k in ("group", "mat", "row", "col", "free",
                                                      "value", "lhs", "op", "rhs")}
        self.ids: dict[tuple, int] = {}
        self.names: list[str] = []

    def add(self, g, mat, row, col, value, lhs, op, rhs, key=None, tag="") -> None:
        """An entry: free (shared by every entry with the same ``key``; named with
        ``tag`` when the key is one group's) or, with ``key=None``, fixed at ``value``."""
        pid = -1
        if key is not None:
            if key not in self.ids:
                self.ids[key] = len(self.names)
                self.names.append(f"{lhs}{op}{rhs}{tag}")
            pid = self.ids[key]
        for k, v in zip(self.cols, (g, mat, row, col, pid, value, lhs, op, rhs), strict=True):
            self.cols[k].append(v)

    def structure(self, info: Measurement, th_item: np.ndarray, theta: bool) -> Structure:
        c = self.cols
        arr = {k: np.array(c[k], dtype=int) for k in ("group", "mat", "row", "col", "free")}
        return Structure(list(info.items), list(info.factors), self.ngroups, True,
                         value=np.array(c["value"], dtype=float), lhs=c["lhs"], op=c["op"],
                         rhs=c["rhs"], th_item=th_item, delta=not theta, **arr)


def table(info: Measurement, equal: frozenset, released: frozenset, theta: bool) -> Table:
    """The Wu & Estabrook (2016) table of one step: ``equal`` holds ``"thresholds"``,
    ``"loadings"``, ``"intercepts"``; ``released`` the names of constraints kept free
    (``"y3|t"`` for every threshold of y3, ``"F1=~y3"``, ``"y3~1"``)."""
    rows = _Rows(len(info.groups))
    th_item = np.repeat(np.arange(len(info.items)), info.n_th)
    th_equal = ["thresholds" in equal and f"{it}|t" not in released for it in info.items]
    for g in range(len(info.groups)):
        tag = f".g{g + 1}"
        _loadings(rows, info, g, tag, "loadings" in equal, released)
        _thresholds(rows, info, g, tag, th_equal)
        _responses(rows, info, g, tag, th_equal, "intercepts" in equal, released, theta)
        _latent(rows, info, g, tag, equal)
        for i, j in info.rcov:
            a, b = info.items[i], info.items[j]
            rows.add(g, THETA, max(i, j), min(i, j), 0.0, a, "~~", b, ("rcov", i, j, g), tag)
    return Table(rows.structure(info, th_item, theta), tuple(rows.names), theta, info.groups)


def _loadings(rows, info, g, tag, equal, released):
    for i, f in zip(*np.nonzero(info.pattern), strict=True):
        shared = equal and f"{info.factors[f]}=~{info.items[i]}" not in released
        rows.add(g, LAMBDA, i, f, 0.7, info.factors[f], "=~", info.items[i],
                 ("lam", i, f) if shared else ("lam", i, f, g), "" if shared else tag)


def _thresholds(rows, info, g, tag, th_equal):
    k = 0
    for i, it in enumerate(info.items):
        for t in range(info.n_th[i]):
            key = ("tau", i, t) if th_equal[i] else ("tau", i, t, g)
            rows.add(g, TAU, k, 0, info.th_start[g, k], it, "|", f"t{t + 1}", key,
                     "" if th_equal[i] else tag)
            k += 1


def _responses(rows, info, g, tag, th_equal, nu_equal, released, theta):
    """Latent-response intercepts and scales (or residual variances): free in the groups
    after the first for the items whose thresholds are equal."""
    for i, it in enumerate(info.items):
        both = th_equal[i] and g > 0
        free_nu = both and not (nu_equal and f"{it}~1" not in released)
        rows.add(g, NU, i, 0, 0.0, it, "~1", "", ("nu", i, g) if free_nu else None, tag)
        mat, op = (THETA, "~~") if theta else (SCALE, "~*~")
        rows.add(g, mat, i, i, 1.0, it, op, it, ("scale", i, g) if both else None, tag)
        # the other one follows from the model (reported, not fitted: see OrdinalFit)
        mat, op = (SCALE, "~*~") if theta else (THETA, "~~")
        rows.add(g, mat, i, i, 1.0 if theta else 0.0, it, op, it)


def _latent(rows, info, g, tag, equal):
    """Factor variances (1 in the first group, free in the others once the loadings are
    equal), covariances, and means (free in the others once the intercepts are equal)."""
    for f, name in enumerate(info.factors):
        free_var = g > 0 and "loadings" in equal
        rows.add(g, PSI, f, f, 1.0, name, "~~", name, ("psi", f, f, g) if free_var else None, tag)
        free_mean = g > 0 and "intercepts" in equal
        rows.add(g, ALPHA, f, 0, 0.0, name, "~1", "", ("alpha", f, g) if free_mean else None, tag)
        for h in range(f):
            rows.add(g, PSI, f, h, 0.0, info.factors[h], "~~", name, ("psi", h, f, g), tag)


# --------------------------------------------------------------------------- fit


@dataclass(frozen=True)
class OrdinalFit:
    """One fitted step: ``fit`` (``chisq df chisq_scaled df_scaled pvalue_scaled
    cfi_scaled tli_scaled rmsea_scaled npar ...``), ``x`` the free parameters (in the order
    of ``table.names``), ``delta`` each group's Jacobian (statistics x free parameters),
    ``cov`` their robust covariance (None for a fit without measures), ``converged``;
    ``.estimates`` every parameter as lavaan's ``parameterEstimates``."""

    table: Table
    x: np.ndarray
    delta: np.ndarray
    fit: dict
    converged: bool
    cov: np.ndarray | None = None

    @property
    def estimates(self) -> pd.DataFrame:
        """Every entry of the step's table as lavaan's ``parameterEstimates(fit,
        standardized = TRUE)``: ``lhs op rhs group label est se z pvalue ci_lower
        ci_upper std_all``; ``label`` names the free parameter (shared by the groups when
        they hold it equal: ``F1=~y3``; ``.gK`` when it is group K's only). The residual
        variances (delta parameterization) and scale factors (theta) follow from the model,
        as lavaan reports them; robust standard errors (``se = "robust.sem"``)."""
        st = self.table.structure
        mats = [st.matrices(self.x, g) for g in range(st.ngroups)]
        est = np.where(st.free >= 0, self.x[np.maximum(st.free, 0)], st.value)
        for k in np.flatnonzero((st.free < 0) & (st.row == st.col)
                                & (st.mat == (SCALE if self.table.theta else THETA))):
            m, i = mats[st.group[k]], st.row[k]
            est[k] = 1.0 / np.sqrt(m.sigma[i, i]) if self.table.theta else m.theta[i, i]
        var = np.full(st.npar, np.nan) if self.cov is None else np.diag(self.cov)
        se = np.sqrt(np.where(var > 0, var, np.nan))[np.maximum(st.free, 0)]
        params = pd.DataFrame({
            "lhs": st.lhs, "op": st.op, "rhs": st.rhs,
            "group": [self.table.groups[g] for g in st.group], "free": st.free + 1,
            "est": est, "se": np.where(st.free >= 0, se, np.nan),
            "std_all": estimate.std_all(st, mats, est)})
        labels = [self.table.names[f] if f >= 0 else "" for f in st.free]
        return indices.estimates_frame(params, labels)


def _start(tab: Table, previous: OrdinalFit | None) -> np.ndarray:
    """Start values: the table's, or those of a fitted neighbour model by name (a
    parameter split by group starts from the shared one, a shared one from the first
    group's copy)."""
    out = tab.structure.start()
    if previous is None:
        return out
    old = dict(zip(previous.table.names, previous.x, strict=True))
    for name, v in list(old.items()):
        old.setdefault(name.rsplit(".g", 1)[0], v)
    for k, name in enumerate(tab.names):
        base = name.rsplit(".g", 1)[0]
        if name in old or base in old:
            out[k] = old.get(name, old.get(base))
    return out


def fit(tab: Table, groups: list[dwls.DWLSDiscrepancy], baseline: dict | None,
        previous: OrdinalFit | None = None, max_iter: int = 500) -> OrdinalFit:
    """Fit one step's table to the groups' statistics by Fisher scoring, from the estimates
    of ``previous`` when given; ``baseline=None`` skips the fit measures; ``max_iter``
    caps the iterations (a few from a neighbour's estimates rank the items)."""
    st = tab.structure
    discs = [dwls.ThresholdDWLS(d, st.th_item, tab.theta) for d in groups]
    res = core.fisher_scoring(st, discs, _start(tab, previous), max_iter=max_iter)
    deltas = dwls.deltas(st, discs, res.theta)
    n = np.array([d.n for d in discs], dtype=float)
    df = sum(len(d.s) for d in discs) - tab.npar
    chisq = float(res.f)
    cov = None
    if baseline is None:
        measures = {"chisq": chisq, "df": int(df)}
    else:
        cov = dwls.robust_covariance(discs, deltas)
        traces = dwls.u_gamma_traces(deltas, [d.w for d in discs], [d.gamma for d in discs],
                                     n / n.sum())
        measures = {**dwls.scaled_measures(chisq, df, traces, baseline, int(n.sum()), len(n)),
                    "npar": tab.npar, "ntotal": int(n.sum()), "ngroups": len(n)}
    return OrdinalFit(tab, res.theta, np.stack(deltas), measures, res.converged, cov)


def difference_test(free: OrdinalFit, restricted: OrdinalFit,
                    groups: list[dwls.DWLSDiscrepancy]) -> dict:
    """Satorra's (2000) scaled-shifted difference test of ``restricted`` against the less
    restricted ``free`` (lavaan's ``lavTestLRT(free, restricted, method = "satorra.2000")``):
    the engine's :func:`~psychometrics.engine.dwls.satorra_2000` on thresholds and
    correlations, groups weighted by ``N_g / N``."""
    n = np.array([d.n for d in groups], dtype=float)
    return dwls.satorra_2000(restricted.fit["chisq"] - free.fit["chisq"],
                             restricted.fit["df"] - free.fit["df"],
                             free.delta.reshape(-1, free.table.npar),
                             restricted.delta.reshape(-1, restricted.table.npar),
                             [d.w_all for d in groups], [d.gamma for d in groups], n / n.sum())
