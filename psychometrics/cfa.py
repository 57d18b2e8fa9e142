"""Confirmatory factor analysis and construct validity, as R's lavaan and semTools.

``pm.cfa(data, {"TRU": ["TRU1", ...], ...})`` fits the model by maximum likelihood with
lavaan's defaults (first loading of each factor fixed to 1, free factor covariances,
free residual variances), on the listwise-complete rows or by full-information ML
(``missing="fiml"``, lavaan's ``missing = "ml"``), in one group or several
(``group="lang"``: the configural model), or ordinal items by WLSMV. The engine is
:mod:`psychometrics.engine`; this module is its measurement-only front door.

Every number follows lavaan 0.6 / semTools 0.5 (see ``tests/test_cfa.py`` for the R
calls): ``chisq = N F_ML`` with the biased (N) covariance, CFI/TLI against the
independence model, RMSEA with lavaan's sqrt(G) multi-group factor and its 90% interval,
SRMR as lavaan's ``srmr`` (Bentler's, on the correlation metric, means included when the
model has a mean structure), ``logLik``, AIC and BIC on lavaan's scale, standardized
(``std.all``) estimates, modification indices (``modindices``), ``semTools::AVE``,
``semTools::compRelSEM`` and ``semTools::htmt``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from psychometrics._checks import check_choice
from psychometrics.engine import estimate
from psychometrics.engine.core import single_thread
from psychometrics.engine.indices import CFA, FIT_KEYS, FitWarning
from psychometrics.engine.model import parse_model

__all__ = ["CFA", "FIT_KEYS", "FitWarning", "cfa"]


# --------------------------------------------------------------------------- public


def cfa(
    data: pd.DataFrame,
    model,
    estimator: str = "ML",
    missing: str = "listwise",
    *,
    group: str | None = None,
    second_order: Mapping[str, Sequence[str]] | None = None,
    residual_covariances: Sequence[tuple[str, str]] | None = None,
    std_lv: bool = False,
    htmt2: bool = True,
    cluster: str | None = None,
    extras: bool = True,
    information: str = "expected",
) -> CFA:
    """Confirmatory factor analysis by maximum likelihood (lavaan's ``cfa``).

    Parameters
    ----------
    data : DataFrame
        One numeric column per item (already reverse keyed), missing as NA; other
        columns are ignored.
    model : mapping factor -> list of items, or lavaan syntax
        ``{"TRU": ["TRU1", "TRU2", "TRU3"], ...}`` or ``"TRU =~ TRU1 + TRU2 + TRU3"``
        (``x1 ~~ x2`` lines add residual covariances; a factor measured by factors is a
        second-order factor). The first item of each factor is the marker (loading 1).
    estimator : ``"ML"`` or ``"WLSMV"``
        ``"WLSMV"``: ordinal items, lavaan's ``ordered = items, estimator = "WLSMV"``
        (listwise; residual covariances and cross-loadings allowed (checked against
        lavaan on semTools' datCat); with ``group``, thresholds free per group (lavaan's
        multi-group default); delta parameterization; thresholds, polychorics and Gamma
        as lavaan; ``.fit`` adds ``chisq_scaled df_scaled pvalue_scaled cfi_scaled
        tli_scaled rmsea_scaled`` ..., the scaled-shifted test; ``aic``, ``bic``,
        ``loglik`` are NaN; ``.params`` adds the thresholds, robust standard errors;
        ``.reliability`` is omega on the latent-response scale, ``compRelSEM(fit,
        ord.scale = FALSE)``; ``.htmt`` on the polychorics; no modification indices).
    missing : ``"listwise"`` or ``"fiml"``
        Complete rows only, or full-information ML on every row with at least one answer
        (lavaan ``missing = "ml"``; the saturated model by EM).
    group : column name, optional
        Fit the configural multi-group model (same pattern, all parameters free per
        group; groups in order of first appearance, as lavaan).
    second_order : mapping, optional
        Higher-order factors over first-order ones, e.g. ``{"G": ["F1", "F2", "F3"]}``.
    residual_covariances : list of item pairs, optional
    std_lv : bool
        Identify by fixing factor variances to 1 instead of first loadings (``std.lv``).
    htmt2 : bool
        HTMT with geometric means (semTools' default), else arithmetic means.
    cluster : column name, optional
        Two-level CFA (lavaan's ``cluster =``): ``model`` then has ``level: 1`` and
        ``level: 2`` blocks (or is ``{"within": {...}, "between": {...}}``, or a plain
        factor mapping used at both levels) and the result is a
        :class:`psychometrics.twolevel.TwoLevelCFA` (ML: complete rows, or FIML with
        ``missing="fiml"``; standard errors from the observed information).
    extras : bool
        False skips the modification indices and the HTMT (empty / NaN in the result):
        what a Monte Carlo replication (``pm.monte_carlo``) does without, a third faster.
    information : ``"expected"`` or ``"observed"``
        The information matrix behind the standard errors (ML). Expected by default;
        lavaan's default with ``missing = "ml"`` is ``"observed"`` (pass it to get
        lavaan's FIML standard errors; ``pm.sem`` follows lavaan's default).

    Returns
    -------
    CFA
        ``.fit`` (lavaan's fit measures), ``.loadings`` (std.all), ``.ave``, ``.htmt``,
        ``.reliability``, ``.fornell_larcker``, ``.modindices``, ``.params``,
        ``.warnings`` ... (see :class:`CFA`).

    Raises
    ------
    PsychometricsError
        ``invalid-model``, ``reverse-keyed-item``, ``missing-column``, ``non-numeric``,
        ``constant-item``, ``too-few-rows``, ``too-few-groups``, ``singular-covariance``,
        ``not-identified``, ``invalid-option``, ``not-implemented``.

    Examples
    --------
    >>> import psychometrics as pm
    >>> fit = pm.cfa(hs, {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
    ...                   "speed": ["x7", "x8", "x9"]})
    >>> round(fit.fit["chisq"], 3), fit.fit["df"]
    (85.306, 24)

    In R: ``fitMeasures(lavaan::cfa("visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6;
    speed =~ x7 + x8 + x9", data = hs))``.
    """
    func = "cfa"
    if cluster is not None:
        from psychometrics.twolevel import twolevel_cfa

        return twolevel_cfa(data, model, cluster, estimator=estimator, missing=missing)
    missing = estimate.check_options(estimator, missing, func, group=group)
    check_choice(information, name="information", choices=("expected", "observed"), func=func)
    spec = parse_model(model, second_order, residual_covariances, func)
    d = estimate.prepare(data, spec.items, group, missing, func, estimator=estimator)
    with single_thread():
        return estimate.fit(d, spec, func=func, std_lv=bool(std_lv), htmt2=bool(htmt2), extras=bool(extras),
                            information=information)
