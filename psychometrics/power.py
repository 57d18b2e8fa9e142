"""Analytic power of the RMSEA tests of fit (MacCallum, Browne & Sugawara, 1996).

A model with ``df`` degrees of freedom fitted to ``n`` respondents gives a likelihood-ratio
chi-square that is non-central chi-square with non-centrality ``(n - 1) * df * rmsea**2``
when the population RMSEA is ``rmsea``. The test of *close fit* (``rmsea0 < rmsea1``, e.g.
H0: RMSEA <= .05 against RMSEA = .08) rejects when the chi-square exceeds the upper
``alpha`` quantile under ``rmsea0``; the test of *not-close fit* (``rmsea0 > rmsea1``, e.g.
H0: RMSEA >= .05 against RMSEA = .01) rejects when it falls below the lower ``alpha``
quantile. ``rmsea0 = 0`` is the test of exact fit. Power is the probability of rejecting
under ``rmsea1``.

These are the closed forms of semPower (a-priori and post-hoc analyses on the RMSEA, one
group, ``N - 1`` in the non-centrality) and of semTools' ``findRMSEApower`` /
``findRMSEAsamplesize``; the references in ``tests/reference/power/`` were made with R's
``pchisq(q, df, ncp)`` and ``qchisq`` (semPower is on CRAN only), and agree with semTools.

R::

    ncp0 <- (n - 1) * df * rmsea0^2; ncp1 <- (n - 1) * df * rmsea1^2
    crit <- qchisq(alpha, df, ncp = ncp0, lower.tail = FALSE)   # close fit
    pchisq(crit, df, ncp = ncp1, lower.tail = FALSE)            # power
"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats

from psychometrics.errors import PsychometricsError

__all__ = ["Power", "power", "power_n"]

_MAX_N = 10_000_000


@dataclass(frozen=True)
class Power:
    """Power of an RMSEA test; ``float(result)`` is ``result.power``.

    ``test`` is ``"exact"``, ``"close"`` or ``"not-close"``; ``critical`` the chi-square
    cut-off; ``ncp0`` / ``ncp1`` the non-centralities under H0 and H1.
    """

    power: float
    df: int
    n: int
    rmsea0: float
    rmsea1: float
    alpha: float
    test: str
    critical: float
    ncp0: float
    ncp1: float

    def __float__(self) -> float:
        return self.power


def _chi2(df: int, ncp: float):
    return stats.chi2(df) if ncp == 0 else stats.ncx2(df, ncp)


def _check(df, rmsea0, rmsea1, alpha, caller: str) -> None:
    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise PsychometricsError("bad-parameter", f"The 'df' parameter of {caller} must be an integer >= 1; got {df!r}.")
    for name, value in (("rmsea0", rmsea0), ("rmsea1", rmsea1)):
        if not isinstance(value, int | float) or not 0 <= value < 1:
            raise PsychometricsError("bad-parameter", f"The '{name}' parameter of {caller} must be in [0, 1); got {value!r}.")
    if rmsea0 == rmsea1:
        raise PsychometricsError("bad-parameter", f"The 'rmsea0' and 'rmsea1' parameters of {caller} must differ; both are {rmsea0!r}.")
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise PsychometricsError("bad-parameter", f"The 'alpha' parameter of {caller} must be in (0, 1); got {alpha!r}.")


def _power(df: int, n: int, rmsea0: float, rmsea1: float, alpha: float) -> Power:
    ncp0 = (n - 1) * df * rmsea0**2
    ncp1 = (n - 1) * df * rmsea1**2
    h0, h1 = _chi2(df, ncp0), _chi2(df, ncp1)
    if rmsea0 < rmsea1:
        critical = float(h0.isf(alpha))
        value = float(h1.sf(critical))
        test = "exact" if rmsea0 == 0 else "close"
    else:
        critical = float(h0.ppf(alpha))
        value = float(h1.cdf(critical))
        test = "not-close"
    return Power(value, df, n, float(rmsea0), float(rmsea1), float(alpha), test, critical, ncp0, ncp1)


def power(*, df: int, n: int, rmsea0: float = 0.05, rmsea1: float = 0.08, alpha: float = 0.05) -> Power:
    """Power of the test of close (``rmsea0 < rmsea1``) or not-close fit (``rmsea0 > rmsea1``).

    R: ``semTools::findRMSEApower(rmsea0, rmseaA = rmsea1, df, n, alpha)``, or
    ``semPower.postHoc`` for ``rmsea0 = 0``.

    >>> round(power(df=20, n=200).power, 4)
    0.4544
    """
    _check(df, rmsea0, rmsea1, alpha, "power")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise PsychometricsError("bad-parameter", f"The 'n' parameter of power must be an integer >= 2; got {n!r}.")
    return _power(df, n, rmsea0, rmsea1, alpha)


def power_n(*, df: int, power: float = 0.80, rmsea0: float = 0.05, rmsea1: float = 0.08, alpha: float = 0.05) -> int:
    """The smallest N whose power reaches ``power`` (power grows with N; bisection on integers).

    R: ``semTools::findRMSEAsamplesize(rmsea0, rmseaA = rmsea1, df, power, alpha)``, which
    returns the first N with power strictly above the target; here it is the first N with
    power at or above it (the same N unless a power lands exactly on the target).

    >>> power_n(df=20)
    434
    """
    _check(df, rmsea0, rmsea1, alpha, "power_n")
    if not isinstance(power, int | float) or not alpha < power < 1:
        raise PsychometricsError(
            "bad-parameter", f"The 'power' parameter of power_n must be between alpha ({alpha}) and 1; got {power!r}."
        )
    low, high = 2, 4
    while _power(df, high, rmsea0, rmsea1, alpha).power < power:
        low, high = high, high * 2
        if high > _MAX_N:
            raise PsychometricsError("no-solution", f"power_n: no N up to {_MAX_N:,} reaches a power of {power}.")
    if _power(df, low, rmsea0, rmsea1, alpha).power >= power:
        return low
    while high - low > 1:  # power(low) < target <= power(high)
        mid = (low + high) // 2
        if _power(df, mid, rmsea0, rmsea1, alpha).power >= power:
            high = mid
        else:
            low = mid
    return high
