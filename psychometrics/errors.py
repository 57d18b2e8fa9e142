"""Errors raised on bad input to ``psychometrics`` functions.

Messages follow scikit-learn's style: name the parameter (or column), the rule, and the
value received. Each error also carries a stable kebab-case ``code``.
"""

from __future__ import annotations

__all__ = ["PsychometricsError"]


class PsychometricsError(ValueError):
    """Bad input to a psychometrics function.

    Attributes
    ----------
    code : str
        Stable kebab-case code (e.g. ``constant-item``, ``too-few-rows``, ``non-numeric``).
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
