"""Section 6, the confirmatory factor analysis: fit indices (ML, and WLSMV when run)
against their cut-offs, standardized loadings (figure and table), local misfit."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]

FIT_INDICES = ("cfi", "tli", "rmsea", "srmr")


def build(results: dict, ctx: Context) -> dict | None:
    from instrument import plots

    cfa = results.get("cfa")
    if not cfa:
        return None
    t, f = ctx.t, ctx.typo
    w = cfa.get("wlsmv") or {}
    return {
        "rows": fit_rows(cfa, ctx), "wlsmv": "fit" in w,
        "wlsmv_skipped": t["wlsmv_skipped"].format(code=w.get("skipped")) if w.get("skipped") else "",
        "interp": t["interp_fit"].format(
            cfi=ctx.value("cfi"), rmsea=ctx.value("rmsea"), srmr=ctx.value("srmr"), estimator="ML",
            n=f.int(cfa["n"]), missing=t["missing_fiml"] if cfa.get("missing") == "fiml" else t["missing_listwise"]),
        "figure": ctx.figure(plots.cfa_loadings),
        "loadings": loadings(cfa, ctx),
        "interp_loadings": t["interp_loadings"].format(value=ctx.value("loading"), source=ctx.source_of("loading")),
        **misfit(cfa, ctx),
        "warnings": [f.text(x["message"]) for x in cfa.get("warnings", [])],
    }


def getter(fit: dict, scaled: bool = False):
    def get(key):
        if scaled and fit.get(f"{key}_scaled") is not None:
            return fit[f"{key}_scaled"]
        return fit.get(key)
    return get


def fit_rows(cfa: dict, ctx: Context) -> list[dict]:
    t, f = ctx.t, ctx.typo
    w = cfa.get("wlsmv") or {}
    ml = getter(cfa["fit"])
    wf = getter(w["fit"], scaled=True) if "fit" in w else None

    def chisq(g):
        return f"{f.num(g('chisq'), 1)} ({f.int(g('df'))}, p {f.p_eq(g('pvalue'))})"

    rows = [{"index": t["chisq"], "ml": chisq(ml), "wlsmv": chisq(wf) if wf else "",
             "cutoff": "", "ok": None, "ok_w": None}]
    for key in FIT_INDICES:
        th = ctx.threshold(key)
        val = ml(key)
        txt = f.num(val, 3)
        if key == "rmsea":
            txt += " " + f.interval(ml("rmsea_ci_lower"), ml("rmsea_ci_upper"), 3)
        rows.append({"index": t["rmsea_ci"] if key == "rmsea" else key.upper(), "ml": txt,
                     "wlsmv": f.num(wf(key), 3) if wf else "",
                     "cutoff": f.rule(th["rule"][0] + "=", th["value"]),
                     "ok": ctx.ok(key, val) if val is not None else None,
                     "ok_w": ctx.ok(key, wf(key)) if wf and wf(key) is not None else None})
    return rows


def loadings(cfa: dict, ctx: Context) -> list[dict]:
    f = ctx.typo
    out = []
    for fac, its in ctx.model.items():
        for i in its:
            val = (cfa["loadings"].get(i) or {}).get(fac)
            out.append({"factor": ctx.scale(fac), "item": i, "text": ctx.item_text(i), "loading": f.num(val),
                        "r2": f.num((cfa.get("r_squared") or {}).get(i)),
                        "low": val is not None and ctx.fails("loading", abs(val))})
    return out


def misfit(cfa: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    resid = [{"pair": f"{x['item1']} ~ {x['item2']}", "value": f.num(x["residual"]),
              "big": ctx.fails("residual_r", abs(x["residual"] or 0))} for x in cfa.get("residuals", [])]
    mis = [{"param": f"{ctx.scale(x['lhs'])} {x['op']} {ctx.scale(x['rhs'])}", "mi": f.num(x["mi"], 1),
            "sepc": f.num(x["sepc_all"])} for x in cfa.get("modindices", [])]
    return {"residuals": resid, "modindices": mis,
            "interp_misfit": t["interp_misfit"].format(value=ctx.value("residual_r"),
                                                       source=ctx.source_of("residual_r"))}
