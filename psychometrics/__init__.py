"""Psychometrics on any DataFrame of item responses (one column per item, missing as NA).

The public API mirrors R's psych / lavaan / semTools; every result is a frozen dataclass
of labelled pandas objects. Submodules load on first use (no work at import time)::

    import psychometrics as pm
    pm.alpha(items).alpha

This package never imports ``instrument``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it
_API = {
    # scoring.py
    "reverse_key": "scoring",
    "score": "scoring",
    "careless": "scoring",
    "load_keys": "keys",
    # items.py
    "item_analysis": "items",
    # reliability.py
    "alpha": "reliability",
    "omega": "reliability",
    "bootstrap_reliability": "reliability",
    "ordinal_reliability": "reliability",
    # _correlation.py (not "correlation": a submodule named like the function shadows it)
    "correlation": "_correlation",
    "polychoric": "_correlation",
    "polychoric_full": "_correlation",
    "kmo": "_correlation",
    "bartlett": "_correlation",
    # factor.py
    "efa": "factor",
    "map_test": "factor",
    "parallel_analysis": "factor",
    "scree": "factor",
    # cfa.py
    "cfa": "cfa",
    # invariance.py
    "invariance": "invariance",
    # report.py
    "validate": "report",
    # errors.py
    "PsychometricsError": "errors",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'psychometrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"psychometrics.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
