"""Section 7, convergent and discriminant validity: AVE and composite reliability,
Fornell-Larcker criterion, HTMT (from the CFA)."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]


def build(results: dict, ctx: Context) -> dict | None:
    cfa = results.get("cfa")
    if not cfa:
        return None
    t, f = ctx.t, ctx.typo
    ave = cfa.get("ave") or {}
    rel = cfa.get("reliability") or {}
    facs = [x for x in ctx.model if x in ave]
    return {
        "ave": [{"factor": ctx.scale(a), "ave": f.num(ave.get(a)), "low": ctx.fails("ave", ave.get(a)),
                 "cr": f.num(rel.get(a))} for a in facs],
        "interp_ave": t["interp_ave"].format(value=ctx.value("ave"), source=ctx.source_of("ave")),
        "factors": [ctx.scale(a) for a in facs],
        "fl": fornell_larcker(cfa.get("fornell_larcker") or {}, facs, ctx),
        "htmt": htmt(cfa.get("htmt") or {}, facs, ctx),
        "interp_htmt": t["interp_htmt"].format(value=ctx.value("htmt"), source=ctx.source_of("htmt")),
    }


def fornell_larcker(fl: dict, facs: list[str], ctx: Context) -> list[dict]:
    rows = []
    for a in facs:
        cells = []
        diag_a = (fl.get(a) or {}).get(a) or 0
        for b in facs:
            x = (fl.get(a) or {}).get(b)
            diag_b = (fl.get(b) or {}).get(b) or 0
            bold = a != b and x is not None and (abs(x) > diag_a or abs(x) > diag_b)
            cells.append({"v": ctx.typo.num(x), "bold": bold, "diag": a == b})
        rows.append({"name": ctx.scale(a), "cells": cells})
    return rows


def htmt(ht: dict, facs: list[str], ctx: Context) -> list[dict]:
    rows = []
    for k, a in enumerate(facs):
        cells = []
        for j, b in enumerate(facs):
            x = (ht.get(a) or {}).get(b)
            lower = j < k
            cells.append({"v": ctx.typo.num(x) if lower else "", "bold": lower and ctx.fails("htmt", x)})
        rows.append({"name": ctx.scale(a), "cells": cells})
    return rows
