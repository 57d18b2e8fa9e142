"""Compatibility path: the code lives in :mod:`psychometrics._correlation`.

Import from ``psychometrics`` (``pm.polychoric``...) or from ``psychometrics._correlation``.
Importing THIS submodule rebinds the package attribute ``psychometrics.correlation`` to
the module (Python's import system sets it), hiding the function ``pm.correlation``;
it is kept only so that older imports keep working.
"""

from __future__ import annotations

from psychometrics._correlation import (
    KMO,
    Bartlett,
    Polychoric,
    bartlett,
    bvn_cdf,
    bvn_pdf,
    correlation,
    kmo,
    polychoric,
    polychoric_full,
)

__all__ = [
    "KMO",
    "Bartlett",
    "Polychoric",
    "bartlett",
    "bvn_cdf",
    "bvn_pdf",
    "correlation",
    "kmo",
    "polychoric",
    "polychoric_full",
]
