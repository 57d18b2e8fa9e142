"""Section "contagion": does the experience spread? Scale scores by role (member,
colleague of a member, non-member) with random intercepts for organization and consortium,
the lnam rho of each scale over the collaboration ties, and what the design can and cannot
conclude (``results["contagion"]``, :func:`psychometrics.contagion.contagion_summary`)."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]

ROLES = ("member", "colleague", "nonmember")
CONTRASTS = ("member_vs_nonmember", "colleague_vs_nonmember", "member_vs_colleague")


def build(results: dict, ctx: Context) -> dict | None:
    c = results.get("contagion")
    if not c:
        return None
    t, f = ctx.t, ctx.typo
    roles = [r for r in ROLES if r in (c.get("roles") or {})]
    scales = list(c.get("means") or c.get("lnam") or {})
    return {
        "roles": [{"name": t[f"role_{r}"], "n": f.int(c["roles"][r])} for r in roles],
        "means": [{"scale": ctx.scale(s), "cells": [f.num((c["means"].get(s) or {}).get(r)) for r in roles]}
                  for s in (c.get("means") or {})],
        "role_names": [t[f"role_{r}"] for r in roles],
        "contrasts": contrasts(c, scales, ctx),
        "levels": t["contagion_levels"].format(
            levels=", ".join(f"{lvl} ({f.int(c['n_groups'].get(lvl))})" for lvl in c.get("levels") or [])
        ) if c.get("levels") else t["contagion_no_levels"],
        "lnam": lnam_rows(c, ctx),
        "can": listed([t[f"can_{code}"] for code in c["design"]["can"]]),
        "cannot": listed([t[f"cannot_{code}"] for code in c["design"]["cannot"]]),
    }


def listed(lines: list[str]) -> list[str]:
    """List items punctuated as one sentence: ";" after each, "." after the last."""
    lines = [x.rstrip(" ;.\u00a0\u202f") for x in lines]
    return [x + ("." if k == len(lines) - 1 else "\u00a0;") for k, x in enumerate(lines)]


def contrasts(c: dict, scales: list, ctx: Context) -> list[dict]:
    t, f = ctx.t, ctx.typo
    rows = []
    for s in scales:
        for name in CONTRASTS:
            row = ((c.get("contrasts") or {}).get(s) or {}).get(name)
            if row:
                rows.append({"scale": ctx.scale(s), "contrast": t[f"contrast_{name}"],
                             "estimate": f.num(row["estimate"]),
                             "ci": f.interval(row["ci_low"], row["ci_high"]), "p": f.p(row["p"]),
                             "sig": row["p"] is not None and row["p"] < 0.05})
    return rows


def lnam_rows(c: dict, ctx: Context) -> list[dict]:
    f = ctx.typo
    rows = []
    for s, row in (c.get("lnam") or {}).items():
        ok = row.get("status") == "ok"
        rows.append({"scale": ctx.scale(s), "rho": f.num(row.get("rho1")) if ok else row.get("status"),
                     "se": f.num(row.get("rho1_se")) if ok else "", "p": f.p(row.get("p")) if ok else "",
                     "n": f.int(row.get("n_orgs")), "sig": ok and row.get("p") is not None and row["p"] < 0.05})
    return rows
