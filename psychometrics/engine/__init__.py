"""One structural-equation engine for cfa, sem and invariance (private modules).

- :mod:`~psychometrics.engine.core`: parameter table (:class:`Structure`), model
  matrices, derivatives, Fisher scoring.
- :mod:`~psychometrics.engine.syntax`: lavaan's model syntax (``=~ ~ ~~``, labels, fixed
  values, ``:=``); :mod:`~psychometrics.engine.model`: syntax terms -> parameter table
  with lavaan's defaults (and cfa's measurement-model reader).
- :mod:`~psychometrics.engine.ml`: ML and FIML discrepancies.
- :mod:`~psychometrics.engine.ordinal`: thresholds, polychorics and Gamma (WLSMV's sample
  statistics); :mod:`~psychometrics.engine.dwls`: the DWLS discrepancy and the WLSMV
  mean-and-variance adjusted test (and :class:`~psychometrics.engine.dwls.ThresholdDWLS`,
  on thresholds and correlations, for models whose thresholds are parameters, and
  :class:`~psychometrics.engine.dwls.ConditionalDWLS`, on slopes and residual correlations).
- :mod:`~psychometrics.engine.conditional`: WLSMV's sample statistics given observed
  covariates (lavaan's ``conditional.x``): ordered probit regressions, residual
  polychorics and their Gamma.
- :mod:`~psychometrics.engine.measeq`: the parameter tables of ordinal invariance's steps
  (Wu & Estabrook 2016, as semTools' ``measEq.syntax``), their fit and difference test.
- :mod:`~psychometrics.engine.estimate`: data, estimator by name, fit and its results.
- :mod:`~psychometrics.engine.numbers`: one CFA fitted to many samples (a Monte Carlo
  study): arrays and floats only, no labelled result.
- :mod:`~psychometrics.engine.indices`: the leaf: result types and fit indices (lavaan's
  edge-case rules written once).

The public front doors are :func:`psychometrics.cfa`, :func:`psychometrics.sem` and
:func:`psychometrics.invariance`. Nothing is imported here (no work at import time).
"""
