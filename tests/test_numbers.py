"""The engine's numbers-only CFA (Monte Carlo replications) against pm.cfa's labelled fit.

pm.cfa's numbers are tested against lavaan in test_cfa.py; here the same fit through
psychometrics.engine.numbers must give them again (R: lavaan::cfa(model, data) with
fitMeasures(fit, c("chisq", "df", "pvalue", "cfi", "rmsea")), parameterEstimates and
standardizedSolution).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import psychometrics as pm
from psychometrics import generate
from psychometrics.engine import numbers

FACTORS = {"F1": ["a1", "a2", "a3", "a4"], "F2": ["b1", "b2", "b3"]}


def _moments(pop, n=20_000, seed=0):
    _, x = generate.draw_arrays(pop, n, np.random.default_rng(seed))
    return np.cov(x, rowvar=False, bias=True), x.mean(axis=0)


def _check_same(fit, ref, tol):
    assert fit.converged == ref.converged
    assert fit.n == ref.n
    for key in ("chisq", "pvalue", "cfi", "rmsea"):
        assert getattr(fit, key) == pytest.approx(ref.fit[key], rel=tol, abs=tol), key
    assert fit.df == ref.fit["df"]
    free = ref.params[ref.params["free"] > 0].sort_values("free")
    np.testing.assert_allclose(fit.estimates, free["est"], rtol=tol, atol=tol)
    np.testing.assert_allclose(fit.se, free["se"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.std_loadings, ref.loadings.to_numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_same_fit_as_cfa(missing):
    pop = generate.Population(factors=FACTORS, loadings=0.65, phi=0.4, missing=0.05)
    prepared = numbers.prepare_model(FACTORS, _moments(dataclasses.replace(pop, missing=0.0)),
                                     missing=missing)
    for seed in range(3):
        data = generate.draw(pop, 150, np.random.default_rng(seed))
        x = data[pop.items].to_numpy()
        fit = numbers.fit_numbers(x, prepared)
        ref = pm.cfa(data, FACTORS, missing=missing)
        _check_same(fit, ref, 1e-7)


def test_continuous_items_and_the_population_start():
    pop = generate.Population(factors=FACTORS, loadings=0.7, phi=0.3, categories=None)
    prepared = numbers.prepare_model(FACTORS, _moments(pop))
    lam = prepared.structure.matrices(prepared.start, 0).lam
    assert lam[1, 0] == pytest.approx(1.0, abs=0.05)  # loadings .7/.7 in the marker metric
    data = generate.draw(pop, 300, np.random.default_rng(5))
    _check_same(numbers.fit_numbers(data[pop.items].to_numpy(), prepared), pm.cfa(data, FACTORS), 1e-8)


def test_a_start_that_fails_falls_back_to_the_cfa_start():
    pop = generate.Population(factors=FACTORS)
    prepared = numbers.prepare_model(FACTORS, _moments(pop))
    broken = dataclasses.replace(prepared, start=np.full_like(prepared.start, -1.0))
    data = generate.draw(pop, 60, np.random.default_rng(3))
    fit = numbers.fit_numbers(data[pop.items].to_numpy(), broken)
    ref = pm.cfa(data, FACTORS)
    assert fit.chisq == ref.fit["chisq"]  # pm.cfa's own start: the very same iterations
    _check_same(fit, ref, 1e-12)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda x: x[:7], "too-few-rows"),
        (lambda x: np.where(np.arange(x.shape[1]) == 2, 3.0, x), "constant-item"),
        (lambda x: np.column_stack([x[:, :6], x[:, 5]]), "singular-covariance"),
    ],
)
def test_refuses_what_cfa_refuses(change, code):
    pop = generate.Population(factors=FACTORS)
    prepared = numbers.prepare_model(FACTORS, _moments(pop))
    data = generate.draw(pop, 100, np.random.default_rng(1))
    x = change(data[pop.items].to_numpy())
    with pytest.raises(pm.PsychometricsError) as ours:
        numbers.fit_numbers(x, prepared)
    frame = data.iloc[: len(x)].copy()
    frame[pop.items] = x
    with pytest.raises(pm.PsychometricsError) as theirs:
        pm.cfa(frame, FACTORS)
    assert ours.value.code == theirs.value.code == code


def test_a_model_with_more_parameters_than_moments_is_refused():
    with pytest.raises(pm.PsychometricsError) as err:
        numbers.prepare_model({"F": ["x1", "x2"]}, (np.eye(2), np.zeros(2)))
    assert err.value.code == "not-identified"


def test_alpha_and_omega_from_arrays_are_the_labelled_ones():
    # what a Monte Carlo replication computes per scale (pm.alpha and pm.omega are tested
    # against psych::alpha and psych::omega in test_reliability.py)
    from psychometrics import reliability

    pop = generate.Population(factors={"F": ["x1", "x2", "x3", "x4", "x5"]}, missing=0.05)
    data = generate.draw(pop, 120, np.random.default_rng(2))
    x = data[pop.items].to_numpy()
    a = pm.alpha(data[pop.items])
    assert reliability.alpha_numbers(x) == (a.alpha, a.ci_low, a.ci_high)
    assert reliability.omega_total_numbers(x) == pm.omega(data[pop.items]).omega_total
    constant = x.copy()
    constant[:, 1] = 3.0
    assert reliability.alpha_numbers(constant) is None  # pm.alpha raises constant-item
    assert reliability.omega_total_numbers(x[:2]) is None  # too-few-rows
