"""Factor rotations on numpy arrays, as R's psych::fa applies them (private helpers of ``factor``).

* ``varimax``: ``stats::varimax(L, normalize = TRUE, eps = 1e-5)`` (Kaiser normalization).
* ``promax``: psych's ``kaiser(L, rotate = "Promax")``: rows scaled to unit length, varimax,
  then the promax target ``L * |L|^(m - 1)`` (m = 4) fitted by least squares, columns rescaled
  so the factor variances are 1; rows scaled back. ``phi = U^-1 U^-T`` as psych computes it.
* ``oblimin`` and ``geomin``: the gradient projection algorithm for oblique rotations
  (Bernaards & Jennrich, 2005, Educational and Psychological Measurement 65, 676-696) with the
  settings GPArotation's ``oblimin(L)`` / ``geominQ(L)`` use when psych::fa calls them:
  start at the identity, no Kaiser normalization, ``eps = 1e-5``, at most 1000 iterations,
  quartimin criterion (gamma = 0) and geomin with ``delta = 0.01``.

Each function returns ``Rotated(loadings, phi, rotmat, converged, iterations)`` where
``loadings = A @ rotmat`` and ``phi`` is the factor correlation matrix (identity for orthogonal
rotations). Written from the published algorithms; nothing here is copied from R.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["Rotated", "geomin", "oblimin", "promax", "rotate", "varimax"]


@dataclass(frozen=True)
class Rotated:
    loadings: np.ndarray
    phi: np.ndarray
    rotmat: np.ndarray
    converged: bool
    iterations: int


def varimax(A: np.ndarray, *, normalize: bool = True, eps: float = 1e-5,
            max_iter: int = 1000) -> Rotated:
    """Kaiser's varimax by the SVD iteration of R's ``stats::varimax``."""
    A = np.asarray(A, dtype=float)
    p, k = A.shape
    if k < 2:
        return Rotated(A.copy(), np.eye(k), np.eye(k), True, 0)
    if normalize:
        scale = np.sqrt((A**2).sum(axis=1))
        x = A / scale[:, None]
    else:
        x = A
    T = np.eye(k)
    d = 0.0
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        z = x @ T
        B = x.T @ (z**3 - z * ((z**2).sum(axis=0) / p))
        u, s, vt = np.linalg.svd(B)
        T = u @ vt
        d_past, d = d, s.sum()
        if d < d_past * (1 + eps):
            converged = True
            break
    z = x @ T
    if normalize:
        z = z * scale[:, None]
    return Rotated(z, np.eye(k), T, converged, it)


def promax(A: np.ndarray, *, m: int = 4) -> Rotated:
    """psych's promax: Kaiser-normalized rows, varimax, then the power-``m`` target."""
    A = np.asarray(A, dtype=float)
    k = A.shape[1]
    if k < 2:
        return Rotated(A.copy(), np.eye(k), np.eye(k), True, 0)
    h = np.sqrt((A**2).sum(axis=1))
    w = A / h[:, None]
    vm = varimax(w)
    x = vm.loadings
    target = x * np.abs(x) ** (m - 1)
    U = np.linalg.lstsq(x, target, rcond=None)[0]
    d = np.diag(np.linalg.inv(U.T @ U))
    U = U * np.sqrt(d)[None, :]
    z = x @ U
    U = vm.rotmat @ U
    ui = np.linalg.inv(U)
    phi = ui @ ui.T
    return Rotated(z * h[:, None], phi, U, vm.converged, vm.iterations)


def _quartimin(gamma: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """Oblimin family criterion and its gradient (gamma = 0: quartimin)."""

    def criterion(L: np.ndarray) -> tuple[float, np.ndarray]:
        p = L.shape[0]
        L2 = L**2
        X = L2.sum(axis=1, keepdims=True) - L2  # L^2 @ (1 - I): sum over the other columns
        if gamma != 0:
            X = X - (gamma / p) * X.sum(axis=0, keepdims=True)
        return float((L2 * X).sum() / 4), L * X

    return criterion


def _geomin(delta: float) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    def criterion(L: np.ndarray) -> tuple[float, np.ndarray]:
        k = L.shape[1]
        L2 = L**2 + delta
        pro = np.exp(np.log(L2).sum(axis=1) / k)
        return float(pro.sum()), (2 / k) * (L / L2) * pro[:, None]

    return criterion


def _gpa_oblique(A: np.ndarray, criterion, *, eps: float = 1e-5, max_iter: int = 1000) -> Rotated:
    """Gradient projection for an oblique criterion Q(L), L = A T^-T, columns of T unit length."""
    A = np.asarray(A, dtype=float)
    k = A.shape[1]
    T = np.eye(k)
    Ti = np.eye(k)
    L = A @ Ti.T
    f, Gq = criterion(L)
    G = -(L.T @ Gq @ Ti).T
    alpha = 1.0
    s = np.inf
    it = 0
    for it in range(max_iter + 1):  # noqa: B007
        Gp = G - T * (T * G).sum(axis=0)[None, :]
        s = float(np.sqrt((Gp**2).sum()))
        if s < eps:
            break
        alpha *= 2
        for _ in range(11):
            X = T - alpha * Gp
            Tt = X / np.sqrt((X**2).sum(axis=0))[None, :]
            Tti = np.linalg.inv(Tt)
            L = A @ Tti.T
            ft, Gqt = criterion(L)
            if f - ft > 0.5 * s * s * alpha:
                break
            alpha /= 2
        T, Ti, f = Tt, Tti, ft
        G = -(L.T @ Gqt @ Ti).T
    return Rotated(L, T.T @ T, Ti.T, bool(s < eps), it)


def oblimin(A: np.ndarray, *, gamma: float = 0.0, eps: float = 1e-5,
            max_iter: int = 1000) -> Rotated:
    """Direct oblimin (gamma = 0 is quartimin), as ``GPArotation::oblimin(A)``."""
    A = np.asarray(A, dtype=float)
    if A.shape[1] < 2:
        return Rotated(A.copy(), np.eye(A.shape[1]), np.eye(A.shape[1]), True, 0)
    return _gpa_oblique(A, _quartimin(gamma), eps=eps, max_iter=max_iter)


def geomin(A: np.ndarray, *, delta: float = 0.01, eps: float = 1e-5,
           max_iter: int = 1000) -> Rotated:
    """Oblique geomin, as ``GPArotation::geominQ(A)`` (delta = 0.01)."""
    A = np.asarray(A, dtype=float)
    if A.shape[1] < 2:
        return Rotated(A.copy(), np.eye(A.shape[1]), np.eye(A.shape[1]), True, 0)
    return _gpa_oblique(A, _geomin(delta), eps=eps, max_iter=max_iter)


ROTATIONS = {"oblimin": oblimin, "varimax": varimax, "promax": promax, "geomin": geomin}
OBLIQUE = frozenset({"oblimin", "promax", "geomin"})


def rotate(A: np.ndarray, method: str | None) -> Rotated:
    """Dispatch by name; ``None`` leaves the loadings as they are."""
    A = np.asarray(A, dtype=float)
    k = A.shape[1]
    if method is None or k < 2:
        return Rotated(A.copy(), np.eye(k), np.eye(k), True, 0)
    return ROTATIONS[method](A)
