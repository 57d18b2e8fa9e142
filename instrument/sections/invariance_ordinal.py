"""Section "invariance of ordinal items (WLSMV)": beside the ML invariance section, the Wu &
Estabrook (2016) steps fitted by WLSMV for ordinal answers (results.json
``invariance.<group>.ordinal``, :func:`psychometrics.ordinal_invariance.ordinal_summary`):
each step's scaled fit, its scaled difference test with the model before it, what was
released and why (the items tested)."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]

STEP_LABELS = {"configural": "inv_configural", "thresholds": "inv_thresholds",
               "loadings": "inv_loadings", "intercepts": "inv_intercepts"}


def build(results: dict, ctx: Context) -> dict | None:
    groups = [(g, inv["ordinal"]) for g, inv in (results.get("invariance") or {}).items()
              if isinstance(inv, dict) and inv.get("ordinal")]
    if not groups:
        return None
    t = ctx.t
    return {"intro": t["oinv_intro"], "groups": [group(g, o, ctx) for g, o in groups],
            "interp": t["oinv_interp"].format(p=ctx.typo.num(0.05))}


def group(g: str, o: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    entry = {"title": t["inv_title"].format(group=f.label("group", g)), "skipped": "",
             "tables": [], "merged": "", "flagged": "", "tests": []}
    if o.get("skipped"):
        entry["skipped"] = t["inv_skipped"].format(reason=ctx.explain(o["skipped"], o.get("reason", "")))
        return entry
    entry["tables"] = [table(name, fit, ctx) for name, fit in o.get("fits", {}).items()]
    merged = o.get("merged_categories") or {}
    entry["merged"] = t["oinv_merged"].format(merges="; ".join(
        f"{f.text(item)} " + ", ".join(f"{a} → {b}" for a, b in pairs) for item, pairs in merged.items())
    ) if merged else ""
    flagged = o.get("flagged") or []
    entry["flagged"] = (t["non_invariant_items"].format(items=", ".join(f.text(i) for i in flagged))
                        if flagged else t["no_non_invariant"])
    entry["tests"] = [test for fit in o.get("fits", {}).values() for test in tests(fit, ctx)]
    return entry


def _label(name: str, t: dict) -> str:
    base = name.removesuffix("_partial")
    label = t.get(STEP_LABELS.get(base, ""), base)
    return f"{label} ({t['oinv_partial']})" if name.endswith("_partial") else label


def table(name: str, fit: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    skipped = ctx.skipped_table(name, fit)
    if skipped is not None:
        return skipped
    scale = ctx.scale(name) if name != "model" else ""
    rows = []
    for model_name, row in fit["table"].items():
        has_test = row.get("df_diff") is not None
        rows.append({
            "model": _label(model_name, t),
            "chisq": f"{f.num(row.get('chisq_scaled'), 1)} ({f.int(row.get('df_scaled'))})",
            "cfi": f.num(row.get("cfi_scaled"), 3), "tli": f.num(row.get("tli_scaled"), 3),
            "rmsea": f.num(row.get("rmsea_scaled"), 3),
            "diff": f"{f.num(row.get('chisq_diff'), 1)} ({f.int(row.get('df_diff'))})" if has_test else "",
            "p": f.p(row.get("p_diff")) if has_test else "",
            "fails": has_test and row.get("p_diff") is not None and row["p_diff"] < 0.05,
            "dcfi": f.num(row.get("delta_cfi"), 3) if has_test else "",
            "released": f.text(row.get("released") or ""),
        })
    return {"scale": scale, "rows": rows, "skipped": ""}


def tests(fit: dict, ctx: Context) -> list[dict]:
    """The items tested at a failing step: the flagged ones and any significant test."""
    t, f = ctx.t, ctx.typo
    out = []
    for x in fit.get("items", []):
        if not (x.get("flagged") or (x.get("p_adj") is not None and x["p_adj"] < 0.05)):
            continue
        out.append({"item": f.text(x["item"]), "step": _label(x["step"], t),
                    "param": t.get(f"param_{x['parameter']}", x["parameter"]),
                    "x2": f"{f.num(x['X2'], 2)} ({f.int(x['df'])})", "p": f.p(x["p_adj"]),
                    "round": f.int(x.get("round")), "flag": bool(x.get("flagged"))})
    return out
