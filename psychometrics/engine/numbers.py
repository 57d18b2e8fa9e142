"""One measurement model fitted to many samples: the numbers only, no labelled result.

A Monte Carlo study (:func:`psychometrics.monte_carlo`) fits the same CFA to hundreds of
samples and keeps a few numbers of each. :func:`psychometrics.cfa` builds a labelled
result every time (parameter table, standardized solution, fit measures with the RMSEA
interval, SRMR, warnings: pandas objects), which costs more than the fit itself on a
20-item model. Here :func:`prepare_model` builds the parameter table once, with start
values taken from the population (the model fitted to the population moments), and
:func:`fit_numbers` fits one sample (a NumPy array, one column per item) and returns
:class:`Numbers`: arrays and floats.

Same estimator as ``pm.cfa(data, factors, missing=...)`` (ML on complete rows, or FIML),
same checks of the rows and error codes, same optimum: the start values differ, so the
estimates agree to the optimizer's tolerance (about 1e-10 relative), not to the last bit.
A fit that does not converge from the population's values is started again from
``pm.cfa``'s (a one-factor fit of each factor's items in the sample), so a sample far from
the population (a few dozen rows, a Heywood case) gets what ``pm.cfa`` gives it.
R: ``lavaan::cfa(model, data)`` with ``parameterEstimates`` / ``fitMeasures(fit,
c("chisq", "df", "pvalue", "cfi", "rmsea"))`` and ``standardizedSolution``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from psychometrics.engine import core, estimate, indices, ml
from psychometrics.engine.model import build_structure, parse_model
from psychometrics.engine.syntax import Term
from psychometrics.errors import PsychometricsError

__all__ = ["Numbers", "Prepared", "fit_numbers", "prepare_model"]


@dataclass(frozen=True)
class Prepared:
    """A measurement model ready to be fitted many times (built by :func:`prepare_model`)."""

    items: list[str]
    factors: list[str]
    terms: list[Term]
    structure: core.Structure
    start: np.ndarray
    df: int
    missing: str


@dataclass(frozen=True)
class Numbers:
    """One fit. ``estimates``/``se``: the free parameters in the order of
    ``prepared.structure`` (lavaan's parameter table order); ``std_loadings``: items x
    factors, std.all (0 off the model's loadings); ``n``: rows used."""

    converged: bool
    n: int
    estimates: np.ndarray
    se: np.ndarray
    chisq: float
    df: int
    pvalue: float
    cfi: float
    rmsea: float
    std_loadings: np.ndarray


def prepare_model(
    factors: Mapping[str, Sequence[str]],
    moments: tuple[np.ndarray, np.ndarray],
    *,
    missing: str = "listwise",
    func: str = "cfa",
) -> Prepared:
    """The parameter table of the CFA ``factors`` (lavaan's defaults: marker loadings,
    free factor covariances; a mean structure with ``missing="fiml"``), and its start
    values: the model fitted to ``moments`` = (covariance matrix, means) of the population."""
    missing = estimate.check_options("ML", missing, func)
    spec = parse_model(dict(factors), None, None, func)
    terms = [Term(f, "=~", i) for f, its in spec.factors.items() for i in its]
    latent = list(spec.factors)
    meanstructure = missing == "fiml"
    s, ybar = (np.asarray(m, float) for m in moments)
    structure = build_structure(terms, spec.items, latent, [(s, ybar)], meanstructure=meanstructure)
    p = len(spec.items)
    df = p * (p + 1) // 2 + (p if meanstructure else 0) - structure.npar
    if df < 0:
        raise PsychometricsError(
            "not-identified",
            f"The model given to {func} has more free parameters ({structure.npar}) than "
            f"sample moments ({df + structure.npar}): it is not identified (df = {df}).",
        )
    disc = ml.MLDiscrepancy(s, ybar, 1000, meanstructure)
    with core.single_thread():
        result = core.fisher_scoring(structure, [disc], structure.start())
    start = result.theta if np.all(np.isfinite(result.theta)) else structure.start()
    return Prepared(spec.items, latent, terms, structure, start, int(df), missing)


def fit_numbers(y: np.ndarray, prepared: Prepared, func: str = "cfa") -> Numbers:
    """Fit ``prepared`` to the answers ``y`` (rows x items, NaN for a blank, columns in
    ``prepared.items`` order). Raises what ``pm.cfa`` raises on the same rows
    (``too-few-rows``, ``constant-item``, ``singular-covariance``). The caller limits BLAS
    threads if it wants (:func:`psychometrics.engine.core.single_thread`, once for many fits)."""
    answered = ~np.isnan(y)
    fiml = prepared.missing == "fiml"
    keep = answered.any(axis=1) if fiml else answered.all(axis=1)
    d = estimate.Data(prepared.items, (), [y[keep]], prepared.missing, None)
    estimate.check_rows(d, func)
    discs = estimate.discrepancies(d, fiml, func)
    st = prepared.structure
    res = core.fisher_scoring(st, discs, prepared.start, info_every=3 if fiml else 1)
    if not res.converged:  # far from the population: pm.cfa's own start values
        st = build_structure(prepared.terms, prepared.items, prepared.factors,
                             [discs[0].h1()], meanstructure=fiml)
        res = core.fisher_scoring(st, discs, st.start(), info_every=3 if fiml else 1)
    mats = st.matrices(res.theta, 0)
    disc = discs[0]
    loglik_h1 = disc.loglik_saturated()
    chisq = max(2.0 * (loglik_h1 - disc.loglik(mats.sigma, mats.mu)), 0.0) if fiml else float(res.f)
    p, n = len(prepared.items), int(disc.n)
    df_b = p * (p - 1) // 2
    chisq_b = 2.0 * (loglik_h1 - disc.loglik_independence())
    try:
        var = 2.0 * np.diag(np.linalg.inv(res.info))
    except np.linalg.LinAlgError:
        var = 2.0 * np.diag(np.linalg.pinv(res.info))
    sd_lv = np.sqrt(np.abs(np.diag(mats.phi)))
    std = mats.lam * sd_lv[None, :] / np.sqrt(np.diag(mats.sigma))[:, None]
    return Numbers(
        converged=bool(res.converged), n=n, estimates=res.theta,
        se=np.sqrt(np.where(var > 0, var, np.nan)), chisq=float(chisq), df=prepared.df,
        pvalue=indices.pvalue(chisq, prepared.df), cfi=indices.cfi(chisq, prepared.df, chisq_b, df_b),
        rmsea=indices.rmsea(chisq, prepared.df, n), std_loadings=std,
    )
