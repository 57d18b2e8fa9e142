"""Does the experience spread? Scale scores by exposure role, and over collaboration ties.

Two standard pieces of evidence (see ``pm.contagion``):

1. Respondents by role: ``member`` (takes part in the consortium), ``colleague`` (works in
   a member organization), ``nonmember`` (staff of an organization outside it). Each scale
   score is modelled with random intercepts for organization and consortium (REML as lme4
   fits it, :mod:`psychometrics.reml`; organizations nested in consortia), and the three contrasts are reported with Wald intervals, as
   ``lme4``::

       f <- lmer(score ~ role + (1 | consortium) + (1 | org), data = d)   # role ref. nonmember
       L %*% fixef(f); sqrt(diag(L %*% vcov(f) %*% t(L)))

2. With ties between organizations: the mean score of each organization is regressed on
   its partners' mean (``sna::lnam``, W row-normalized, X = intercept + member
   organization), one rho per scale.

What it can conclude: differences by role net of the clustering, and whether an
organization's score goes with its partners'. What it cannot: that membership caused them
(self-selection into consortia, organizations choosing similar partners, common shocks);
the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from psychometrics import reml
from psychometrics._checks import check_columns, check_fraction
from psychometrics.autocorrelation import lnam
from psychometrics.errors import PsychometricsError
from psychometrics.keys import Keys, load_keys
from psychometrics.network import weights
from psychometrics.scoring import score

__all__ = [
    "CONTRASTS",
    "FEW_GROUPS",
    "ROLES",
    "ROLE_COLUMNS",
    "Contagion",
    "contagion",
    "contagion_summary",
    "design",
    "role_column",
]

ROLES = ("member", "colleague", "nonmember")
CONTRASTS = {
    "member_vs_nonmember": ("member", "nonmember"),
    "colleague_vs_nonmember": ("colleague", "nonmember"),
    "member_vs_colleague": ("member", "colleague"),
}
_ALIASES = {
    "non-member": "nonmember",
    "non member": "nonmember",
    "membre": "member",
    "collegue": "colleague",
    "collègue": "colleague",
    "non-membre": "nonmember",
    "nonmembre": "nonmember",
}


@dataclass(frozen=True)
class Contagion:
    """Scale scores by role (mixed model) and their autocorrelation over ties.

    Attributes
    ----------
    n : respondents with a role (and their clusters)
    roles : Series, respondents per role
    levels : random-intercept levels fitted (innermost first), e.g. ("org", "consortium")
    n_groups : groups per level of ``cluster`` (e.g. {"org": 123, "consortium": 24})
    means : DataFrame scale x role, raw means of the scale scores
    contrasts : DataFrame indexed (scale, contrast): estimate se z p ci_low ci_high
    variances : DataFrame scale x (var_<level>..., var_residual, reml_loglik)
    lnam : DataFrame scale x (rho1 rho1_se z p n_orgs status) or None without ties
    ci : the confidence level
    notes : codes of what limits the reading: ``no-roles`` (no role column), ``one-role``
        (no contrast), ``single-group-level``
        (a level with one group, dropped from the model), ``no-clusters`` (ordinary least
        squares), ``not-converged``, ``no-ties``, ``ties-outside-data`` (ties to
        organizations without respondents, left out)
    """

    n: int
    roles: pd.Series
    levels: tuple[str, ...]
    n_groups: dict
    means: pd.DataFrame
    contrasts: pd.DataFrame
    variances: pd.DataFrame
    lnam: pd.DataFrame | None
    ci: float
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        """Plain values for results.json (NaN as None)."""

        def clean(obj):
            if isinstance(obj, dict):
                return {str(k): clean(v) for k, v in obj.items()}
            if isinstance(obj, float | np.floating):
                return None if not np.isfinite(obj) else float(obj)
            if isinstance(obj, np.integer):
                return int(obj)
            return obj

        contrasts: dict = {}
        for (s, c), row in self.contrasts.iterrows():
            contrasts.setdefault(s, {})[c] = row.to_dict()
        return clean(
            {
                "n": self.n,
                "roles": self.roles.to_dict(),
                "levels": list(self.levels),
                "n_groups": self.n_groups,
                "ci": self.ci,
                "means": self.means.to_dict("index"),
                "contrasts": contrasts,
                "variances": self.variances.to_dict("index"),
                "lnam": None if self.lnam is None else self.lnam.to_dict("index"),
                "notes": list(self.notes),
            }
        )


#: Roles outside the exposure comparison (coordination, research team): left out.
OTHER_ROLES = ("coordination", "research")


def _roles(data: pd.DataFrame, role: str) -> pd.Series:
    raw = data[role]
    norm = raw.astype("string").str.strip().str.lower()
    norm = norm.replace(_ALIASES)
    norm = norm.mask(norm.isin(OTHER_ROLES))
    bad = norm.notna() & ~norm.isin(ROLES)
    if bad.any():
        row = bad.idxmax()
        raise PsychometricsError(
            "unknown-role",
            f"Column {role!r}, row {row}: role {raw[row]!r} is not one of {', '.join(ROLES)}.",
        )
    return norm


def contagion(
    data: pd.DataFrame,
    keys,
    role: str | None = "role",
    cluster: list[str] | tuple[str, ...] = ("org", "consortium"),
    ties: pd.DataFrame | None = None,
    ci: float = 0.95,
    min_answered: float = 0.5,
) -> Contagion:
    """Compare scale scores by role with random intercepts for each level of ``cluster``
    (innermost first: organization, then consortium), and, with ``ties`` (columns ``from``,
    ``to``, organization codes of ``cluster[0]``), the lnam rho of each scale's
    organization means.

    ``keys``: a keys mapping/file or :class:`~psychometrics.keys.Keys` (with ``min``/``max``).
    Roles ``member``, ``colleague``, ``nonmember`` (``non-member`` accepted); rows without a
    role or a cluster, or with a role outside the comparison (``coordination``,
    ``research``), are left out. ``role=None``: no roles in the data (note ``no-roles``),
    the variances and, with ties, the lnam only. Errors: ``missing-column``,
    ``unknown-role``, ``no-roles`` (a role column without any role).
    """
    func = "contagion"
    keys = keys if isinstance(keys, Keys) else load_keys(keys)
    cluster = list(cluster or [])
    check_columns(data, [*([role] if role else []), *cluster], name="role/cluster", func=func)
    check_fraction(ci, name="ci", func=func)
    roles = _roles(data, role) if role else pd.Series("all", index=data.index)
    keep = roles.notna() & data[cluster].notna().all(axis=1)
    if not keep.any():
        raise PsychometricsError("no-roles", f"No row of the data has a role in column {role!r}.")
    d = data.loc[keep]
    scores = score(d, keys, min_answered=min_answered, counts=False)
    frame = scores.assign(_role=roles[keep].astype(str), **{c: d[c].astype(str) for c in cluster})
    present = [r for r in (*ROLES, "all") if (frame["_role"] == r).any()]
    levels = [c for c in cluster if frame[c].nunique() > 1]
    notes = []
    if not role:
        notes.append("no-roles")
    elif len(present) < 2:
        notes.append("one-role")
    if len(levels) < len(cluster):
        notes.append("single-group-level")
    if not levels:
        notes.append("no-clusters")
    con, var = [], []
    for s in scores.columns:
        c, v, conv = _fit(frame.dropna(subset=[s]), s, present, levels, ci)
        con.append(c)
        var.append(v.rename(s))
        if not conv and "not-converged" not in notes:
            notes.append("not-converged")
    net = None
    if ties is not None:
        net = _lnam_by_scale(
            frame, list(scores.columns), cluster[0] if cluster else None, ties, notes
        )
    return Contagion(
        n=int(keep.sum()),
        roles=frame["_role"].value_counts().reindex(present),
        levels=tuple(levels),
        n_groups={c: int(frame[c].nunique()) for c in cluster},
        means=frame.groupby("_role")[list(scores.columns)].mean().T.reindex(columns=present),
        contrasts=pd.concat(con, keys=list(scores.columns), names=["scale", "contrast"])
        if con
        else pd.DataFrame(),
        variances=pd.DataFrame(var),
        lnam=net,
        ci=float(ci),
        notes=tuple(notes),
    )


def _design(frame: pd.DataFrame, present: list[str]) -> pd.DataFrame:
    x = pd.DataFrame({"const": 1.0}, index=frame.index)
    base = "nonmember" if "nonmember" in present else present[0]
    for r in present:
        if r != base:
            x[r] = (frame["_role"] == r).astype(float)
    return x


def _fit(frame, s, present, levels, ci) -> tuple[pd.DataFrame, pd.Series, bool]:
    """One scale: the contrasts, the variance components and whether the fit converged."""
    y = frame[s].to_numpy(float)
    x = _design(frame, present)
    if not levels:
        beta, *_ = np.linalg.lstsq(x.to_numpy(), y, rcond=None)
        e = y - x.to_numpy() @ beta
        s2 = e @ e / (len(y) - x.shape[1])
        cov = s2 * np.linalg.inv(x.T.to_numpy() @ x.to_numpy())
        var, converged = pd.Series({"var_residual": s2}), True
    else:
        res = reml.fit(y, frame[levels], levels, x.to_numpy())
        beta, cov, converged = res.beta, res.cov, res.converged
        var = pd.Series({f"var_{lv}": res.var[lv] for lv in reversed(levels)}
                        | {"var_residual": res.var["person"], "reml_loglik": res.loglik})
    fe = pd.Series(beta, index=x.columns)
    return _contrasts(fe, pd.DataFrame(cov, x.columns, x.columns), present, ci), var, converged


def _contrasts(fe: pd.Series, cov: pd.DataFrame, present, ci) -> pd.DataFrame:
    rows = {}
    z = stats.norm.ppf(0.5 + ci / 2)
    for name, (a, b) in CONTRASTS.items():
        if a not in present or b not in present:
            continue
        lvec = pd.Series(0.0, index=fe.index)
        for r, sign in ((a, 1.0), (b, -1.0)):
            if r in lvec.index:
                lvec[r] += sign
        est = float(lvec @ fe)
        se = float(np.sqrt(lvec @ cov @ lvec))
        rows[name] = {
            "estimate": est,
            "se": se,
            "z": est / se,
            "p": float(2 * stats.norm.sf(abs(est / se))),
            "ci_low": est - z * se,
            "ci_high": est + z * se,
        }
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["estimate", "se", "z", "p", "ci_low", "ci_high"]
    )


def _lnam_by_scale(frame, scales, org, ties, notes) -> pd.DataFrame | None:
    if org is None:
        return None
    codes = sorted(frame[org].unique())
    t = ties.dropna(subset=["from", "to"]).astype({"from": str, "to": str})
    inside = t["from"].isin(codes) & t["to"].isin(codes)
    if (~inside).any():
        notes.append("ties-outside-data")
    w = weights(t[inside], codes)
    if w.nnz == 0:
        notes.append("no-ties")
    member = frame.groupby(org)["_role"].agg(lambda r: float((r != "nonmember").any()))
    x = pd.DataFrame({"const": 1.0, "member_org": member.reindex(codes)}, index=codes)
    if x["member_org"].nunique() < 2:
        x = x[["const"]]
    rows = {}
    for s in scales:
        y = frame.groupby(org)[s].mean().reindex(codes)
        ok = y.notna().to_numpy()
        fit = lnam(y[ok], x[ok], w[ok][:, ok])
        z = fit.rho1 / fit.rho1_se
        rows[s] = {
            "rho1": fit.rho1,
            "rho1_se": fit.rho1_se,
            "z": z,
            "p": float(2 * stats.norm.sf(abs(z))),
            "n_orgs": int(ok.sum()),
            "status": fit.status,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


#: Fewer groups than this at the outer level: its variance (and the contrasts' errors) are
#: imprecise (Maas & Hox 2005 recommend 30 or more; 10 is a floor).
FEW_GROUPS = 10


def design(result: Contagion, *, has_ties: bool) -> dict:
    """What the design can and cannot conclude about contagion, as stable codes.

    ``can``: ``role-differences`` (scores by role net of the clustering),
    ``partner-similarity`` (an organization's score against its partners').
    ``cannot``: ``causal-effect`` (always: cross-sectional answers, organizations choose to
    join), ``direction-of-spread`` (with ties: influence, partner choice and shared local
    conditions look alike at one time point), ``no-comparison-group`` (no non-member),
    ``no-colleague-level`` (no colleague: spread inside member organizations unseen),
    ``no-role-comparison`` (fewer than two roles), ``no-network-test`` (no ties),
    ``clustering-not-modelled``, ``few-groups`` (outer level under :data:`FEW_GROUPS`).
    """
    roles = set(result.roles.index)
    can, cannot = [], ["causal-effect"]
    if len(roles & set(ROLES)) >= 2:
        can.append("role-differences")
    else:
        cannot.append("no-role-comparison")
    if roles & set(ROLES) and "nonmember" not in roles:
        cannot.append("no-comparison-group")
    if roles & {"member", "nonmember"} and "colleague" not in roles:
        cannot.append("no-colleague-level")
    if has_ties and result.lnam is not None and (result.lnam["status"] == "ok").any():
        can.append("partner-similarity")
        cannot.append("direction-of-spread")
    else:
        cannot.append("no-network-test")
    if not result.levels:
        cannot.append("clustering-not-modelled")
    elif result.n_groups.get(result.levels[-1], 0) < FEW_GROUPS:
        cannot.append("few-groups")
    return {"can": can, "cannot": cannot}


#: Columns read as the respondent's role when none is named (the second is the bank's
#: context question, its codes recoded to names by the caller).
ROLE_COLUMNS = ("role", "respondent_role")


def role_column(data: pd.DataFrame, role: str | None = None) -> str | None:
    """The role column: ``role`` when given, else the first of :data:`ROLE_COLUMNS` in the data."""
    if role is not None:
        return role
    return next((c for c in ROLE_COLUMNS if c in data.columns), None)


def contagion_summary(data, keys, *, role=None, cluster=(), ties=None) -> dict | None:
    """The ``contagion`` entry of results.json: :func:`contagion` as plain values plus its
    :func:`design` statement; None when the data have no role column and no ties are given.
    ``role`` None: see :func:`role_column`."""
    role = role_column(data, role)
    if role is None and ties is None:
        return None
    res = contagion(data, keys, role=role, cluster=list(cluster), ties=ties)
    return res.to_dict() | {"design": design(res, has_ties=ties is not None)}
