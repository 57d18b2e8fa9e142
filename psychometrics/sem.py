"""Structural equation models in lavaan syntax (``pm.sem``), as lavaan's ``sem()``.

``pm.sem(data, "IND =~ ... \\n ORG ~ a*IND \\n ind := a*b")`` fits measurement and
structural parts together on the engine (:mod:`psychometrics.engine`) by ML (complete rows
or FIML) or WLSMV (ordinal items), in one group or several. Estimates come as lavaan's
``parameterEstimates(fit, standardized = TRUE)``; defined parameters (``:=``) get
delta-method standard errors (numerical gradient, as lavaan) and, with ``n_boot``,
percentile bootstrap confidence intervals (rows resampled, the model refitted from the
estimates, the covariates' fixed moments those of the resample; ML only). Observed
variables in regressions are carried by latent twins (see
:class:`~psychometrics.engine.core.Structure`), as lavaan does.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from psychometrics._checks import check_choice, check_fraction, check_int
from psychometrics.engine import core, estimate, indices, ml
from psychometrics.engine.core import single_thread
from psychometrics.engine.indices import SEM, FitWarning
from psychometrics.engine.model import observed_paths
from psychometrics.engine.syntax import Syntax, evaluate_defined, names_in, parse_syntax
from psychometrics.errors import PsychometricsError

__all__ = ["SEM", "sem"]


def _syntax(model, func: str) -> Syntax:
    """The model, parsed and checked: a factor or a regression, the labels of the defined
    parameters known."""
    if not isinstance(model, str):
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} must be lavaan syntax (a string); got "
            f"{type(model).__name__}.",
        )
    syntax = parse_syntax(model, func)
    if not any(t.op in ("=~", "~") for t in syntax.terms):
        raise PsychometricsError(
            "invalid-model",
            f"The 'model' parameter of {func} must define at least one factor ('F =~ x1 + x2 "
            "+ x3') or one regression ('y ~ x').",
        )
    known = {t.label for t in syntax.terms if t.label}
    for name, expr in syntax.defined:
        unknown = [v for v in names_in(expr) if v not in known]
        if unknown or name in known:
            raise PsychometricsError(
                "invalid-model",
                f"The 'model' parameter of {func}: defined parameter {name!r} := {expr} "
                + (f"uses {unknown[0]!r}, which is not a label." if unknown else "reuses a label's name."),
            )
        known.add(name)
    return syntax


def _complete_covariates(data, covariates, missing, func) -> tuple[pd.DataFrame, list]:
    """With FIML, rows missing a covariate are left out, as lavaan does with ``fixed.x``
    (said in a warning); listwise deletion drops them anyway."""
    if missing != "fiml" or not covariates or not isinstance(data, pd.DataFrame):
        return data, []
    present = [c for c in covariates if c in data.columns]
    keep = data[present].notna().all(axis=1)
    if keep.all():
        return data, []
    return data[keep], [FitWarning(
        "missing-covariate",
        f"{int((~keep).sum())} rows left out of {func}: a covariate "
        f"({', '.join(present)}) is missing, and covariates are fixed at their sample values "
        "(lavaan's fixed.x = TRUE deletes them too).",
    )]


def _label_rows(state) -> dict[str, int]:
    """Each label's first row in the parameter table."""
    out: dict[str, int] = {}
    for k, label in enumerate(state.structure.label):
        if label is not None:
            out.setdefault(label, k)
    return out


def _defined_values(state, syntax: Syntax, theta: np.ndarray | None = None,
                    base: dict[str, float] | None = None) -> dict[str, float]:
    """The defined parameters at ``theta`` (or at the labels' values ``base``)."""
    st = state.structure
    if base is None:
        base = {label: float(theta[st.free[k]]) if st.free[k] >= 0 else float(st.value[k])
                for label, k in _label_rows(state).items()}
    values = dict(base)
    out = {}
    for name, expr in syntax.defined:
        values[name] = out[name] = evaluate_defined(expr, values)
    return out


def _defined_rows(state, syntax: Syntax, params: pd.DataFrame, cov: np.ndarray):
    """``:=`` rows: estimate, delta-method standard error, normal CI, std_all."""
    theta = state.result.theta
    est = _defined_values(state, syntax, theta)
    std = _defined_values(state, syntax, base={label: float(params["std_all"].iloc[k])
                                               for label, k in _label_rows(state).items()})
    grads = core.central_differences(
        lambda t: [_defined_values(state, syntax, t)[name] for name in est], theta, step=1e-6)
    se = np.sqrt(np.maximum(np.einsum("ai,ij,aj->a", grads, cov, grads), 0.0))
    rows = pd.DataFrame({"lhs": list(est), "op": ":=", "rhs": [e for _, e in syntax.defined],
                         "label": list(est), "est": list(est.values()), "se": se,
                         "std_all": [std[name] for name in est]})
    return rows


def _check_conditional(paths, func: str) -> None:
    """WLSMV with observed variables in regressions: exogenous covariates only (lavaan's
    ``conditional.x``) and items' direct effects, no observed mediator or outcome."""
    endogenous = [v for v in paths.phantom if v not in paths.covariates]
    if endogenous:
        raise PsychometricsError(
            "not-implemented",
            f"The 'model' parameter of {func}: with estimator='WLSMV' observed variables in "
            "regressions must be exogenous covariates (the items are then modelled given "
            "them, lavaan's conditional.x); got the regressed variable(s) "
            f"{', '.join(endogenous)}.",
        )


def _ordinal_rows(state) -> pd.DataFrame:
    """WLSMV's fixed rows in lavaan's table: scaling factors ``y ~*~ y`` of the items (1,
    the delta parameterization), intercepts/means ``~1`` (0; a covariate's its sample
    mean, std_all over its SD), in each group."""
    st, labels = state.structure, state.data.labels
    cov = list(st.covariates)
    items = [v for v in st.observed if v not in set(cov)]
    lat = [f for f in st.latent if f not in set(st.observed)]
    frames = []
    for disc in state.discrepancies:
        mean = disc.stats.mean_x.to_numpy() if cov else np.zeros(0)
        sd = np.sqrt(np.diag(disc.stats.cov_x)) if cov else np.zeros(0)
        zeros = [0.0] * len(items)
        frames.append(pd.DataFrame({
            "lhs": items + items + cov + lat,
            "op": ["~*~"] * len(items) + ["~1"] * (len(items) + len(cov) + len(lat)),
            "rhs": items + [""] * (len(items) + len(cov) + len(lat)), "label": "",
            "est": [1.0] * len(items) + zeros + list(mean) + [0.0] * len(lat), "se": 0.0,
            "std_all": [1.0] * len(items) + zeros + list(mean / sd) + [0.0] * len(lat),
        }))
    if not labels:
        return frames[0]
    return pd.concat([f.assign(group=g) for f, g in zip(frames, labels, strict=True)],
                     ignore_index=True)


def estimates_frame(state, syntax: Syntax, level: float = 0.95,
                    information: str = "expected") -> pd.DataFrame:
    """lavaan's ``parameterEstimates(fit, standardized = TRUE)`` with ``_`` for ``.``."""
    cov = estimate.covariance(state, information)
    params = estimate.params_frame(state, cov=cov)
    st = state.structure
    labels = list(st.label) + [None] * (len(params) - len(st.label))
    out = params.drop(columns=["free", "z", "pvalue"])
    out.insert(out.columns.get_loc("est"), "label", ["" if lab is None else lab for lab in labels])
    out.loc[params["free"].to_numpy() == 0, "se"] = 0.0  # fixed: lavaan's se 0, no z
    shown = np.ones(len(out), dtype=bool)
    shown[: len(st.hidden)] = ~st.hidden  # the latent twins of observed variables
    out = out[shown]
    extra = [_ordinal_rows(state)] if state.data.estimator == "WLSMV" else []
    out = pd.concat([out, *extra, _defined_rows(state, syntax, params, cov)],
                    ignore_index=True)
    return indices.estimates_frame(out, level=level)


def r_squared(state) -> pd.Series | pd.DataFrame:
    """lavaan's ``r2``: ``1 - theta_ii / sigma_ii`` for each indicator, ``1 - psi_jj /
    phi_jj`` for each regressed latent variable or observed one in a regression."""
    st = state.structure
    twins = set(st.observed) & set(st.latent)
    rows = []
    for g, mats in enumerate(state.mats):
        mine = st.rows(g)
        dependent = set(st.row[mine][st.mat[mine] == core.BETA])
        out = {item: 1.0 - mats.theta[i, i] / mats.sigma[i, i]
               for i, item in enumerate(st.observed) if item not in twins}
        out |= {f: 1.0 - mats.psi[j, j] / mats.phi[j, j] for j, f in enumerate(st.latent) if j in dependent}
        rows.append(pd.Series(out, dtype=float))
    labels = state.data.labels
    return rows[0] if not labels else pd.DataFrame(rows, index=pd.Index(labels, name="group"))


def _resampled_moments(y: np.ndarray, n_boot: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Means and (biased) covariances of ``n_boot`` resamples of the rows, at once."""
    n = len(y)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
    means = counts @ y / n
    second = np.einsum("bn,ni,nj->bij", counts, y, y, optimize=True) / n
    return means, second - means[:, :, None] * means[:, None, :]


def bootstrap_defined(state, syntax: Syntax, n_boot: int, seed) -> pd.DataFrame:
    """The defined parameters refitted on ``n_boot`` resamples of the rows (within each
    group), each fit started at the estimates; replications that fail are dropped."""
    rng = np.random.default_rng(seed)
    d, st = state.data, state.structure
    moments = [_resampled_moments(y, n_boot, rng) for y in d.arrays]
    rows = []
    for b in range(n_boot):
        try:
            discs = [ml.MLDiscrepancy(s[b], m[b], len(y), st.meanstructure)
                     for (m, s), y in zip(moments, d.arrays, strict=True)]
        except np.linalg.LinAlgError:
            continue
        if st.covariates:  # fixed.x: each resample's own covariate moments
            st = state.structure.with_covariate_moments([(s[b], m[b]) for m, s in moments])
        res = core.fisher_scoring(st, discs, state.result.theta, max_iter=100, tol=1e-8)
        if res.converged:
            rows.append(_defined_values(state, syntax, res.theta))
    return pd.DataFrame(rows, columns=[name for name, _ in syntax.defined])


def _options(estimator, missing, group, n_boot, level, information, func):
    """The options checked: ``missing`` (``listwise``/``fiml``), ``n_boot``, ``level`` and
    ``information`` (lavaan's default: observed with FIML, else expected)."""
    missing = estimate.check_options(estimator, missing, func, group=group)
    n_boot = check_int(n_boot, name="n_boot", minimum=0, func=func)
    level = check_fraction(level, name="level", func=func)
    if information is None:
        information = "observed" if missing == "fiml" else "expected"
    check_choice(information, name="information", choices=("expected", "observed"), func=func)
    if n_boot and (estimator != "ML" or missing != "listwise"):
        raise PsychometricsError(
            "not-implemented",
            f"The 'n_boot' parameter of {func} needs estimator='ML' and missing='listwise'; "
            f"got estimator={estimator!r}, missing={missing!r}.",
        )
    return missing, n_boot, level, information


def _percentile_intervals(table: pd.DataFrame, boot: pd.DataFrame, level: float) -> None:
    """The defined parameters' intervals become the bootstrap percentiles (in place)."""
    tail = (1 - level) / 2 * 100
    for name in boot.columns:
        k = table.index[(table["op"] == ":=") & (table["lhs"] == name)][0]
        table.loc[k, ["ci_lower", "ci_upper"]] = np.percentile(boot[name], [tail, 100 - tail])


def sem(
    data: pd.DataFrame,
    model: str,
    estimator: str = "ML",
    missing: str = "listwise",
    *,
    group: str | None = None,
    n_boot: int = 0,
    seed=None,
    level: float = 0.95,
    information: str | None = None,
) -> SEM:
    """Structural equation model in lavaan syntax (lavaan's ``sem``).

    Parameters
    ----------
    data : DataFrame
        One numeric column per observed variable, missing as NA.
    model : str
        lavaan syntax: ``F =~ x1 + x2 + x3`` (first indicator the marker unless
        ``NA*x1``), ``Y ~ a*X + Z`` (regressions between latent or observed variables:
        MIMIC models ``F ~ x1``, an indicator's direct effect ``x3 ~ z``, observed
        mediators, path analysis), ``x1 ~~ x2``, labels (``a*X``; the same label twice is
        an equality constraint), fixed values (``0.5*x2``) and defined parameters (``ind :=
        a*b``). lavaan's defaults: free residual variances, exogenous latent variables
        covary, and so do the disturbances of variables regressed on others that predict
        none (``auto.cov.y``); exogenous observed covariates are fixed at their
        sample variances, covariances and means (``fixed.x = TRUE``: not parameters, not in
        df, ``logl`` conditional on them; with FIML rows missing a covariate are left out,
        warning ``missing-covariate``). With ``estimator="WLSMV"`` the items are ordinal and
        the covariates numeric: the items are modelled given the covariates (lavaan's
        ``conditional.x = TRUE``: thresholds, slopes and residual polychorics,
        :mod:`psychometrics.engine.conditional`; in groups, per group), no observed
        mediator.
    estimator : ``"ML"`` or ``"WLSMV"``
        ``"WLSMV"``: every observed variable but the covariates is ordinal (``ordered =
        TRUE``; R: ``sem(model, ordered = items, estimator = "WLSMV")``); with
        ``group``, lavaan's multi-group default (thresholds free per group, delta scale
        factors 1, intercepts and latent means 0).
    missing : ``"listwise"`` or ``"fiml"``
    group : column name, optional
        Multi-group model (same pattern, parameters free per group except shared labels).
    n_boot : int
        Percentile bootstrap of the defined parameters with this many replications
        (ML): their ``ci_lower``/``ci_upper`` become the bootstrap percentiles (lavaan
        ``se = "bootstrap"``, ``boot.ci.type = "perc"``); ``se`` stays the delta method.
    seed : int, optional
        Seed of the bootstrap resampling.
    level : float
        Confidence level of the intervals.
    information : ``"expected"`` or ``"observed"``, optional
        The information matrix behind the standard errors (ML); by default lavaan's:
        observed with ``missing="fiml"``, expected otherwise.

    Returns
    -------
    SEM
        ``.fit``, ``.estimates`` (``lhs op rhs label est se z pvalue ci_lower ci_upper
        std_all``), ``.r_squared``, ``.bootstrap``, ``.warnings``.

    Examples
    --------
    >>> fit = pm.sem(poldem, "ind60 =~ x1 + x2 + x3\\n dem60 =~ y1 + y2 + y3 + y4\\n"
    ...                      "dem65 =~ y5 + y6 + y7 + y8\\n dem60 ~ ind60\\n"
    ...                      "dem65 ~ ind60 + dem60\\n y1 ~~ y5\\n ...")
    >>> round(fit.fit["chisq"], 3), fit.fit["df"]          # (38.125, 35)

    In R: ``parameterEstimates(lavaan::sem(model, data = PoliticalDemocracy),
    standardized = TRUE)``.
    """
    func = "sem"
    missing, n_boot, level, information = _options(estimator, missing, group, n_boot, level,
                                                   information, func)
    syntax = _syntax(model, func)
    paths = observed_paths(list(syntax.terms), syntax.observed, syntax.latent, func)
    if estimator == "WLSMV":
        _check_conditional(paths, func)
    data, dropped = _complete_covariates(data, paths.covariates, missing, func)
    d = estimate.prepare(data, syntax.observed, group, missing, func, estimator=estimator)
    with single_thread():
        state, df = estimate.fit_state(d, list(syntax.terms), syntax.latent + list(paths.phantom),
                                       func=func, paths=paths)
        table = estimates_frame(state, syntax, level, information)
        boot = bootstrap_defined(state, syntax, n_boot, seed) if n_boot and syntax.defined else None
    if boot is not None and len(boot):
        _percentile_intervals(table, boot, level)
    return SEM(
        fit=estimate.fit_measures(state, df), estimates=table, bootstrap=boot,
        warnings=tuple(dropped + estimate.warnings(state)), converged=bool(state.result.converged),
        n=int(sum(d.sizes)), groups=tuple(d.labels), estimator=estimator, missing=missing,
        model=model, r_squared=r_squared(state), state=state,
    )
