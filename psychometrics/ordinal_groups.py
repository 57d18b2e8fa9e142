"""Multi-group CFA of ordinal items by DWLS with the WLSMV test, under the Wu & Estabrook
(2016) identification that ``semTools::measEq.syntax(ID.fac = "std.lv", ID.cat =
"Wu.Estabrook.2016")`` writes for lavaan (the engine of :mod:`psychometrics.ordinal_invariance`).

Model, per group ``g``: latent responses ``y* = nu + Lambda eta + eps`` with ``eta ~ N(alpha,
Psi)``; item ``i`` answers category ``k`` when ``tau_i,k-1 < y*_i <= tau_i,k``. The sample
statistics of each group (thresholds and polychoric correlations, both in the standardized
metric of ``y*``, and their asymptotic covariance Gamma: :func:`psychometrics.engine.ordinal.ordinal_stats`,
held by the engine's :class:`psychometrics.engine.dwls.DWLSDiscrepancy` of each group)
are fitted by ``(s - sigma)' W (s - sigma)`` with ``W = diag(Gamma)^-1``, summed over groups
with weights ``N_g - 1`` (so ``chisq = sum_g (N_g - 1) F_g``, lavaan's value). Implied
statistics: thresholds ``(tau - nu - Lambda alpha) / sd`` and correlations
``(Lambda Psi Lambda' + Theta)_ij / (sd_i sd_j)``, with ``sd_i = 1 / delta_i`` (the "delta"
parameterization: scale factors free) or ``sd_i^2 = (Lambda Psi Lambda')_ii + theta_ii``
("theta": residual variances free).

Which parameters are free and which are equal across groups is a :class:`Layout`: first
group ``nu = 0``, scale 1, ``alpha = 0``, ``Psi`` a correlation matrix (``std.lv``); in the
other groups the intercepts and scales are freed for the items whose thresholds are equal,
the factor variances once the loadings are equal, the factor means once the intercepts are
equal. The Jacobian ``d sigma / d x`` is exact (complex step, one batched evaluation).

Tests (lavaan 0.6-14), the engine's (:mod:`psychometrics.engine.dwls`): the
"scaled.shifted" statistic from ``U = W - W D (D'WD)^-1 D'W`` with the group blocks
weighted by ``N_g / N`` (:func:`~psychometrics.engine.dwls.u_gamma_traces`); the scaled
difference test of two nested fits is Satorra's (2000)
(:func:`~psychometrics.engine.dwls.satorra_2000`).

Still here, not yet in the engine (whose ``Structure`` has no threshold, latent-response
intercept or scale-factor parameter): the layout of the Wu & Estabrook parameters, the
implied thresholds and correlations with their complex-step Jacobian, and the
Levenberg-Marquardt fit (a few iterations from a neighbour's estimates rank the items).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from psychometrics.engine import dwls

__all__ = ["Layout", "OrdinalFit", "difference_test", "fit_layout"]

_H = 1e-30  # complex step


@dataclass(frozen=True)
class Layout:
    """Where each model matrix entry comes from: ``src`` indexes ``z = [x, fixed values]``.

    ``lam (G, p, m)``, ``tau (G, T)``, ``nu (G, p)``, ``scale (G, p)``, ``alpha (G, m)``,
    ``psi (G, m, m)``, ``rcov (G, p, p)``; ``names`` labels the free parameters
    (lavaan-like: ``"F1=~y3"``, ``"y3|t1"``, ``"y3~1"``, ``"y3~*~y3"``, with ``".g2"`` when
    the parameter belongs to one group)."""

    src: dict
    fixed: np.ndarray
    names: tuple[str, ...]
    start: np.ndarray
    th_item: np.ndarray       # (T,) item of each threshold
    pairs: tuple[np.ndarray, np.ndarray]
    theta: bool               # theta parameterization (else delta)

    @property
    def npar(self) -> int:
        return len(self.names)


def implied(layout: Layout, x: np.ndarray) -> np.ndarray:
    """Implied statistics (thresholds then correlations) per group, ``(..., G, T + P)``;
    ``x`` may carry leading batch dimensions (the complex-step Jacobian)."""
    z = np.concatenate([x, np.broadcast_to(layout.fixed, x.shape[:-1] + layout.fixed.shape)], axis=-1)
    m = {k: z[..., s] for k, s in layout.src.items()}
    lam, psi = m["lam"], m["psi"]
    common = lam @ psi @ np.swapaxes(lam, -1, -2)
    if layout.theta:
        sd = np.sqrt(np.diagonal(common, axis1=-2, axis2=-1) + m["scale"])
    else:
        sd = 1.0 / m["scale"]
    mu = m["nu"] + (lam @ m["alpha"][..., None])[..., 0]
    th = (m["tau"] - mu[..., layout.th_item]) / sd[..., layout.th_item]
    iu, ju = layout.pairs
    cov = common + m["rcov"]
    r = cov[..., iu, ju] / (sd[..., iu] * sd[..., ju])
    return np.concatenate([th, r], axis=-1)


def jacobian(layout: Layout, x: np.ndarray) -> np.ndarray:
    """d sigma / d x, ``(G, T + P, npar)``, by complex step (exact to rounding)."""
    q = len(x)
    xs = x[None, :] + 1j * _H * np.eye(q)
    return np.moveaxis(implied(layout, xs).imag / _H, 0, -1)


@dataclass(frozen=True)
class OrdinalFit:
    """One fitted multi-group ordinal model: ``fit`` (``chisq df chisq_scaled df_scaled
    pvalue_scaled cfi_scaled tli_scaled rmsea_scaled npar ...``), ``x`` the estimates
    (``.estimates``: by name), ``delta`` the Jacobian at them, ``converged``."""

    layout: Layout
    x: np.ndarray
    delta: np.ndarray
    fit: dict
    converged: bool
    f: np.ndarray          # per-group F_g

    @property
    def estimates(self) -> pd.Series:
        """The free parameters by name (lavaan-like: ``F1=~y3``, ``y3|t1``, ``y3~1.g2``,
        ``y3~*~y3.g2``; ``.gK`` marks a parameter of group K only)."""
        return pd.Series(self.x, index=pd.Index(self.layout.names, name="parameter"), name="est")


def _weights(discs: list[dwls.DWLSDiscrepancy]):
    """Per group (stacked): thresholds and correlations, their DWLS weights, Gamma, N."""
    s = np.stack([disc.s_all for disc in discs])
    w = np.stack([disc.w_all for disc in discs])
    n = np.array([disc.n for disc in discs], dtype=float)
    return s, w, [disc.gamma for disc in discs], n


def warm_start(layout: Layout, previous: OrdinalFit | None) -> np.ndarray:
    """Start values from a fitted neighbour model: the same parameter by name, else the
    shared parameter a per-group one was split from (or one group's copy of a parameter
    now shared), else the layout's default."""
    if previous is None:
        return layout.start
    old = dict(zip(previous.layout.names, previous.x, strict=True))
    for name, v in list(old.items()):
        base = name.rsplit(".g", 1)[0]
        old.setdefault(base, v)
    out = layout.start.copy()
    for k, name in enumerate(layout.names):
        base = name.rsplit(".g", 1)[0]
        if name in old or base in old:
            out[k] = old.get(name, old.get(base))
    return out


def _levenberg_marquardt(resid, jac, x, max_iter: int):
    """Levenberg-Marquardt on the normal equations (BLAS-3 products: far faster than
    MINPACK's unblocked QR for a few thousand residuals and hundreds of parameters)."""
    r = resid(x)
    f = r @ r
    damp = 1e-3
    for _ in range(max_iter):
        j = jac(x)
        g, h = j.T @ r, j.T @ j
        if np.max(np.abs(g)) < 1e-9 * max(1.0, f):
            return x, True
        while damp < 1e12:
            step = np.linalg.solve(h + damp * np.diag(np.diag(h) + 1e-12), -g)
            r_new = resid(x + step)
            f_new = r_new @ r_new
            if f_new <= f:
                break
            damp *= 10
        else:
            return x, False
        small = f - f_new <= 1e-13 * (1 + f) and np.max(np.abs(step)) < 1e-8
        x, r, f, damp = x + step, r_new, f_new, max(damp / 10, 1e-12)
        if small:
            return x, True
    return x, False


def fit_layout(layout: Layout, discs: list[dwls.DWLSDiscrepancy], baseline: dict | None,
               previous: OrdinalFit | None = None, max_iter: int = 200) -> OrdinalFit:
    """Fit one layout by DWLS (Levenberg-Marquardt on the weighted residuals), from the
    estimates of ``previous`` when given; ``baseline=None`` skips the fit measures;
    ``max_iter`` caps the iterations (a few from a neighbour's estimates locate an item)."""
    s, w, gam, n = _weights(discs)
    sw = np.sqrt(w * (n - 1)[:, None])

    def resid(x):
        return (sw * (s - implied(layout, x))).ravel()

    def jac(x):
        return -(sw[:, :, None] * jacobian(layout, x)).reshape(-1, len(x))

    x, converged = _levenberg_marquardt(resid, jac, warm_start(layout, previous), max_iter)
    delta = jacobian(layout, x)
    f = np.sum(w * (s - implied(layout, x)) ** 2, axis=1)
    fit = (_measures(f, delta, w, gam, n, layout.npar, baseline) if baseline is not None
           else {"chisq": float(np.sum((n - 1) * f)), "df": int(delta.shape[0] * delta.shape[1] - layout.npar)})
    return OrdinalFit(layout, x, delta, fit, converged, f)


def _measures(f, delta, w, gam, n, npar, base) -> dict:
    """The engine's WLSMV test and indices (:func:`psychometrics.engine.dwls.scaled_measures`)
    on thresholds and correlations, groups weighted by ``N_g / N`` (lavaan 0.6-14)."""
    df = delta.shape[0] * delta.shape[1] - npar
    chisq = float(np.sum((n - 1) * f))
    traces = dwls.u_gamma_traces(list(delta), list(w), gam, n / n.sum())
    out = dwls.scaled_measures(chisq, df, traces, base, int(n.sum()), len(n))
    return {**out, "npar": int(npar), "ntotal": int(n.sum()), "ngroups": len(n)}


def difference_test(free: OrdinalFit, restricted: OrdinalFit, discs: list[dwls.DWLSDiscrepancy]) -> dict:
    """Satorra's (2000) scaled-shifted difference test of ``restricted`` against the less
    restricted ``free`` (lavaan's ``lavTestLRT(free, restricted, method = "satorra.2000")``):
    the engine's :func:`psychometrics.engine.dwls.satorra_2000` on thresholds and
    correlations, groups weighted by ``N_g / N``."""
    _, w, gam, n = _weights(discs)
    return dwls.satorra_2000(restricted.fit["chisq"] - free.fit["chisq"],
                             restricted.fit["df"] - free.fit["df"],
                             free.delta.reshape(-1, free.layout.npar),
                             restricted.delta.reshape(-1, restricted.layout.npar),
                             list(w), gam, n / n.sum())


class _Builder:
    """Collects the source of every matrix entry: a free parameter (shared across groups
    when its key is) or a fixed value."""

    def __init__(self):
        self.keys: dict[tuple, int] = {}
        self.names: list[str] = []
        self.start: list[float] = []
        self.fixed: list[float] = []

    def free(self, key: tuple, name: str, start: float) -> int:
        if key not in self.keys:
            self.keys[key] = len(self.names)
            self.names.append(name)
            self.start.append(start)
        return self.keys[key]

    def value(self, v: float) -> int:
        self.fixed.append(v)
        return -len(self.fixed)          # resolved to an index after the free ones

    def resolve(self, a: np.ndarray) -> np.ndarray:
        return np.where(a < 0, len(self.names) - a - 1, a)


@dataclass(frozen=True)
class ModelInfo:
    """The measurement model behind every layout: items, factors, loading pattern,
    residual covariances (item index pairs), thresholds per item, groups."""

    items: tuple[str, ...]
    factors: tuple[str, ...]
    pattern: np.ndarray
    rcov: tuple[tuple[int, int], ...]
    n_th: tuple[int, ...]
    groups: tuple[str, ...]
    th_start: np.ndarray      # (G, T) sample thresholds


def build_layout(info: ModelInfo, equal: frozenset, released: frozenset, theta: bool) -> Layout:
    """The Wu & Estabrook (2016) layout of one step: ``equal`` holds ``"thresholds"``,
    ``"loadings"``, ``"intercepts"``; ``released`` the names of constraints kept free
    (``"y3|t"`` for every threshold of y3, ``"F1=~y3"``, ``"y3~1"``)."""
    b = _Builder()
    p, m, ng = len(info.items), len(info.factors), len(info.groups)
    th_item = np.repeat(np.arange(p), info.n_th)
    src = {k: np.zeros(s, dtype=int) for k, s in {
        "lam": (ng, p, m), "tau": (ng, len(th_item)), "nu": (ng, p), "scale": (ng, p),
        "alpha": (ng, m), "psi": (ng, m, m), "rcov": (ng, p, p)}.items()}
    zero = b.value(0.0)
    one = b.value(1.0)
    for k in src:
        src[k][:] = zero
    th_equal = ["thresholds" in equal and f"{it}|t" not in released for it in info.items]
    for g in range(ng):
        tag = f".g{g + 1}"
        _loadings(b, src, info, g, tag, equal, released)
        _thresholds(b, src, info, g, tag, th_equal, th_item)
        for i, it in enumerate(info.items):
            both = th_equal[i] and g > 0
            nu_equal = "intercepts" in equal and f"{it}~1" not in released
            src["nu"][g, i] = b.free(("nu", i, g), f"{it}~1{tag}", 0.0) if both and not nu_equal else zero
            src["scale"][g, i] = (b.free(("scale", i, g), f"{it}~~{it}{tag}" if theta else f"{it}~*~{it}{tag}", 1.0)
                                  if both else one)
        _latent(b, src, info, g, tag, equal, zero, one)
        for i, j in info.rcov:
            a = info.items[i], info.items[j]
            src["rcov"][g, i, j] = src["rcov"][g, j, i] = b.free(("rcov", i, j, g), f"{a[0]}~~{a[1]}{tag}", 0.0)
    for k in src:
        src[k] = b.resolve(src[k])
    return Layout(src, np.array(b.fixed), tuple(b.names), np.array(b.start), th_item,
                  np.triu_indices(p, 1), theta)


def _loadings(b, src, info, g, tag, equal, released):
    for i, f in zip(*np.nonzero(info.pattern), strict=True):
        name = f"{info.factors[f]}=~{info.items[i]}"
        shared = "loadings" in equal and name not in released
        key = ("lam", i, f) if shared else ("lam", i, f, g)
        src["lam"][g, i, f] = b.free(key, name if shared else name + tag, 0.7)


def _thresholds(b, src, info, g, tag, th_equal, th_item):
    k = 0
    for i, it in enumerate(info.items):
        for t in range(info.n_th[i]):
            name = f"{it}|t{t + 1}"
            key = ("tau", i, t) if th_equal[i] else ("tau", i, t, g)
            src["tau"][g, k] = b.free(key, name if th_equal[i] else name + tag, info.th_start[g, k])
            k += 1


def _latent(b, src, info, g, tag, equal, zero, one):
    m = len(info.factors)
    for f, name in enumerate(info.factors):
        free_var = g > 0 and "loadings" in equal
        src["psi"][g, f, f] = b.free(("psi", f, f, g), f"{name}~~{name}{tag}", 1.0) if free_var else one
        src["alpha"][g, f] = b.free(("alpha", f, g), f"{name}~1{tag}", 0.0) if g > 0 and "intercepts" in equal else zero
    for f in range(m):
        for h in range(f + 1, m):
            src["psi"][g, f, h] = src["psi"][g, h, f] = b.free(
                ("psi", f, h, g), f"{info.factors[f]}~~{info.factors[h]}{tag}", 0.0)
