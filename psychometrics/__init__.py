"""Psychometrics on any DataFrame of item responses (one column per item, missing as NA).

The public API mirrors R's psych / lavaan / semTools; every result is a frozen dataclass
of labelled pandas objects::

    import psychometrics as pm
    pm.alpha(items).alpha          # psych::alpha(items)$total$raw_alpha
    pm.cfa(data, {"TRU": [...]})   # lavaan::cfa(model, data)

The functions are imported here, once, so that ``pm.cfa`` and ``pm.invariance`` stay
functions even when their submodules (``psychometrics.cfa``...) are imported elsewhere.
This package never imports ``instrument``.
"""

from __future__ import annotations

from psychometrics.agreement import aggregate, agreement
from psychometrics.autocorrelation import lnam, moran
from psychometrics.cfa import cfa
from psychometrics.contagion import contagion
from psychometrics.correlation import bartlett, correlation, kmo, polychoric, polychoric_full
from psychometrics.errors import PsychometricsError
from psychometrics.factor import efa, map_test, parallel_analysis, scree
from psychometrics.generate import Population
from psychometrics.invariance import invariance
from psychometrics.items import item_analysis
from psychometrics.keys import load_keys
from psychometrics.montecarlo import monte_carlo
from psychometrics.network import network, weights
from psychometrics.power import power, power_n
from psychometrics.reliability import alpha, bootstrap_reliability, omega, ordinal_reliability
from psychometrics.report import validate
from psychometrics.scoring import careless, reverse_key, score
from psychometrics.sem import sem
from psychometrics.variance import variance_split

__version__ = "0.1.0"

__all__ = [
    "Population",
    "PsychometricsError",
    "aggregate",
    "agreement",
    "alpha",
    "bartlett",
    "bootstrap_reliability",
    "careless",
    "cfa",
    "contagion",
    "correlation",
    "efa",
    "invariance",
    "item_analysis",
    "kmo",
    "lnam",
    "load_keys",
    "map_test",
    "monte_carlo",
    "moran",
    "network",
    "omega",
    "ordinal_reliability",
    "parallel_analysis",
    "polychoric",
    "polychoric_full",
    "power",
    "power_n",
    "reverse_key",
    "score",
    "scree",
    "sem",
    "validate",
    "variance_split",
    "weights",
]
