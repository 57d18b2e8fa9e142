"""Confirmatory factor analysis and construct validity, as R's lavaan and semTools.

``pm.cfa(data, {"TRU": ["TRU1", ...], ...})`` fits the model by maximum likelihood with
lavaan's defaults (first loading of each factor fixed to 1, free factor covariances,
free residual variances), on the listwise-complete rows or by full-information ML
(``missing="fiml"``, lavaan's ``missing = "ml"``), in one group or several
(``group="lang"``: the configural model). The engine is :mod:`psychometrics.sem`.

Every number follows lavaan 0.6 / semTools 0.5 (see ``tests/test_cfa.py`` for the R
calls): ``chisq = N F_ML`` with the biased (N) covariance, CFI/TLI against the
independence model, RMSEA with lavaan's sqrt(G) multi-group factor and its 90% interval,
SRMR as lavaan's ``srmr`` (Bentler's, on the correlation metric, means included when the
model has a mean structure), ``logLik``, AIC and BIC on lavaan's scale, standardized
(``std.all``) estimates, modification indices (``modindices``), ``semTools::AVE``,
``semTools::compRelSEM`` and ``semTools::htmt``.
"""

from __future__ import annotations

from psychometrics._cfa import CFA, FitWarning, cfa

__all__ = ["CFA", "FitWarning", "cfa"]
