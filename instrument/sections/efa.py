"""Section 5, the exploratory factor analysis: pattern loadings (heat map), main and
second loading and communality per item, factor correlations."""

from __future__ import annotations

from instrument.sections.common import Context
from instrument.sections.factorability import corr_label

__all__ = ["build", "factor_name"]


def factor_name(factor: str, efa: dict, ctx: Context) -> str:
    """``MR1 (Confiance : compétence)``: the factor and the scale it matches."""
    match = efa.get("factor_scales") or {}
    return f"{factor} ({ctx.scale(match[factor])})" if factor in match else factor


def build(results: dict, ctx: Context) -> dict | None:
    from instrument import plots

    efa = results.get("efa")
    if not efa:
        return None
    t = ctx.t
    return {
        "figure": ctx.figure(plots.efa_heatmap),
        "caption": t["caption_efa"].format(corr=corr_label(results, ctx).lower(), value=ctx.typo.num(0.20)),
        "rows": rows(efa, ctx), **phi(efa, ctx),
        "interp": t["interp_efa"].format(
            load=ctx.value("loading"), load_source=ctx.source_of("loading"),
            cross=ctx.value("cross_loading"), gap=ctx.value("cross_loading_gap"),
            cross_source=ctx.source_of("cross_loading")),
        "warnings": [ctx.typo.text(w) for w in efa.get("warnings") or []],
        "interp_phi": t["interp_phi"].format(value=ctx.value("factor_r"), source=ctx.source_of("factor_r")),
    }


def rows(efa: dict, ctx: Context) -> list[dict]:
    f = ctx.typo
    match = efa.get("factor_scales") or {}
    out = []
    for i in [i for its in ctx.model.values() for i in its if i in efa["primary"]]:
        pr = efa["primary"][i]
        codes = ctx.codes(i)
        scale = ctx.model_scale.get(i, "")
        out.append({"item": i, "scale": ctx.scale(scale) if scale else "",
                    "factor": factor_name(pr["factor"], efa, ctx),
                    "loading": f.num(pr["loading"]),
                    "low": "low-loading" in codes and ctx.fails("loading", abs(pr["loading"] or 0)),
                    "second": f.num(pr["second"]), "cross": "cross-loading" in codes,
                    "h2": f.num(efa["communalities"].get(i)), "heywood": i in efa["heywood"],
                    "mismatch": bool(match) and match.get(pr["factor"]) != scale})
    return out


def phi(efa: dict, ctx: Context) -> dict:
    match = efa.get("factor_scales") or {}
    order = list(ctx.model)
    factors = sorted(efa["factors"], key=lambda x: order.index(match[x]) if match.get(x) in order else 1 << 20)
    table = [{"name": factor_name(x, efa, ctx),
              "cells": [{"v": ctx.typo.num(efa["phi"][x][y]),
                         "bad": x != y and ctx.fails("factor_r", abs(efa["phi"][x][y] or 0))}
                        for y in factors]} for x in factors]
    return {"factors": [factor_name(x, efa, ctx) for x in factors], "phi": table}
