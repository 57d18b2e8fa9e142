"""Section "Structure emboîtée / Nested structure": people in organizations in consortia.

Reads ``results["nesting"]``, ``results["clusters"]`` and ``results["cfa_twolevel"]``
(:func:`psychometrics.nesting.nesting`): the cluster sizes (groups under the small-cell
minimum pooled, never shown one by one), ICC(1) and ICC(2) per scale and level with the
verdict on aggregation (LeBreton & Senter 2008; Bliese 2000), the design effect, the
distributions of rwg(j), awg and AD with the groups below threshold named by code, the
share of each scale's variance between people, organizations and consortia (REML, as
lme4), the two-level CFA or the reason it was not fitted, and the input problems (codes
and rows);
first, where the levels came from (``clusters.origin``: the form's context questions, the
keys file or ``--cluster``). None when the data have no clusters.
"""

from __future__ import annotations

from instrument.plots import agreement_distributions
from instrument.sections.common import Context

__all__ = ["build"]

#: At most this many group codes are listed under a table (the rest counted).
MAX_CODES = 40


def build(results: dict, ctx: Context) -> dict | None:
    nesting, clusters = results.get("nesting"), results.get("clusters")
    if not nesting or not clusters:
        return None
    t, f = ctx.t, ctx.typo
    th = clusters.get("thresholds", {})
    origin = clusters.get("origin")
    return {
        "origin": origin and t[f"nest_origin_{origin}"].format(
            levels=", ".join(f.label("group", name) for name in clusters["levels"])),
        "origin_form": origin == "form",
        "levels": [level(name, nesting[name], clusters, ctx) for name in clusters["levels"]
                   if name in nesting],
        "roles": roles(clusters.get("roles"), ctx),
        "issues": [{"code": i["code"], "value": i["value"], "where": i["level"] or i["column"],
                    "message": ctx.explain(i["code"], i["message"]), "n": f.int(i["n_rows"]),
                    "rows": ", ".join(i["rows"][:10]) + (" …" if i["n_rows"] > 10 else "")}
                   for i in clusters.get("issues", [])],
        "variance": variance(nesting[clusters["levels"][0]], ctx) if clusters["levels"][0] in nesting else None,
        "twolevel": twolevel(results.get("cfa_twolevel"), ctx),
        "figure": ctx.figure(agreement_distributions),
        "interp": t["nest_interp"].format(
            icc2=f.threshold(th["icc2"]["value"]), rwg=f.threshold(th["rwg_j"]["value"]),
            p=f.num(th["f_test_p"]["value"]), source=f.text(th["icc2"]["source"]),
            ad_source=f.text(th["ad"]["source"]), cell=f.int(th["cell"]["value"])),
    }


def level(name: str, scales: dict, clusters: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    sizes = clusters["sizes"][name]
    return {
        "name": f.label("group", name),
        "sizes": size_rows(sizes, ctx),
        "summary": t["nest_sizes"].format(
            groups=f.int(sizes["n_groups"]), people=f.int(sizes["n_people"]),
            mean=f.num(sizes["mean"], 1), median=f.num(sizes["median"], 1),
            singletons=f.int(sizes["singletons"])),
        "icc": [icc_row(s, e, clusters.get("thresholds", {}), ctx) for s, e in scales.items()],
        "agreement": [agreement_row(s, e, ctx) for s, e in scales.items()],
    }


#: Group sizes from the small-cell minimum up, pooled in these bins (lower bounds).
SIZE_BINS = (5, 10, 20, 50, 100)


def size_rows(sizes: dict, ctx: Context) -> list[dict]:
    """Groups per size bin: "< 5" (never shown one by one), then 5-9, 10-19, 20-49..."""
    f = ctx.typo
    counts = {int(s): c for s, c in sizes["distribution"].items()}
    rows = []
    small = sum(c for s, c in counts.items() if s < f.min_cell)
    if small:
        rows.append({"size": f.cell(None), "groups": f.int(small)})
    bounds = [b for b in SIZE_BINS if b >= f.min_cell] or [f.min_cell]
    for lo, hi in zip(bounds, [*bounds[1:], None], strict=True):
        n = sum(c for s, c in counts.items() if s >= lo and (hi is None or s < hi))
        if n:
            label = f"{f.int(lo)}–{f.int(hi - 1)}" if hi is not None else f"{f.int(lo)}+"
            rows.append({"size": label, "groups": f.int(n)})
    return rows


def icc_row(scale: str, e: dict, th: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    v = e["verdict"]
    values = {"icc2": f.threshold(th["icc2"]["value"]), "rwg": f.threshold(th["rwg_j"]["value"]),
              "p": f.num(th["f_test_p"]["value"])}
    reasons = [t[f"nest_reason_{r.replace('-', '_')}"].format(**values) for r in v["reasons"]]
    return {
        "scale": ctx.scale(scale),
        "icc1": f.num(e["icc1"], 3), "icc1_ci": f.interval(*e["icc1_ci"], digits=3),
        "icc2": f.num(e["icc2"], 2), "icc2_ci": f.interval(*e["icc2_ci"]),
        "mixed": f.num(e["icc1_mixed"], 3),
        "f": f"{f.num(e['f'], 2)} ({f.int(e['df1'])}, {f.int(e['df2'])})", "p": f.p(e["p"]),
        "deff": f.num(e["design_effect"], 2), "neff": f.int(e["effective_n"]),
        "ok": v["aggregate"],
        "verdict": t["nest_aggregate_yes"] if v["aggregate"]
        else t["nest_aggregate_no"].format(reasons=f.text("; ".join(reasons))),
    }


def agreement_row(scale: str, e: dict, ctx: Context) -> dict:
    f = ctx.typo
    r, aw, ad = e["rwg_j"], e["awg"], e["ad_mean"]
    codes = e["below_threshold"]
    q = r.get("quartiles") or [None, None, None]
    return {
        "scale": ctx.scale(scale),
        "rwg_median": f.num(r["median"]), "rwg_iqr": f.interval(q[0], q[2]),
        "rwg_below": f"{f.int(r['n_below'])} / {f.int(r['n_groups'])}",
        "awg_mean": f.num(aw["mean"]), "ad_mean": f.num(ad["mean"]),
        "ad_above": f"{f.int(ad['n_above'])} / {f.int(ad['n_groups'])}",
        "null": f"{f.int(e.get('n_within_null95'))} / {f.int(r['n_groups'])}",
        "codes": ", ".join(codes[:MAX_CODES]) + (f" (+{f.int(len(codes) - MAX_CODES)})"
                                                 if len(codes) > MAX_CODES else ""),
    }


def variance(scales: dict, ctx: Context) -> dict | None:
    """The share of each scale's variance between people and at each level (one model for
    every level: read under the innermost)."""
    splits = {s: e["variance"] for s, e in scales.items() if e.get("variance")}
    if not splits:
        return None
    f = ctx.typo
    parts = next(iter(splits.values()))["levels"]
    return {"columns": [ctx.t["nest_person"] if k == "person" else f.label("group", k) for k in parts],
            "rows": [{"scale": ctx.scale(s), "shares": [f.pct(None if v["share"][k] is None else 100 * v["share"][k])
                                                        for k in parts]}
                     for s, v in splits.items()]}


def roles(r: dict | None, ctx: Context) -> list[dict]:
    if not r:
        return []
    return [{"role": ctx.typo.label("level", str(k)), "n": ctx.typo.cell(n)} for k, n in r["counts"].items()]


def twolevel(tl: dict | None, ctx: Context) -> dict | None:
    if not tl:
        return None
    t, f = ctx.t, ctx.typo
    if not tl.get("fitted"):
        reason = ctx.explain(tl.get("code", ""), tl.get("reason", ""))
        return {"fitted": False, "text": t["nest_twolevel_not"].format(reason=reason),
                "warnings": []}
    fit = tl["fit"]
    return {"fitted": True, "text": t["nest_twolevel_fit"].format(
        cluster=f.label("group", tl["cluster"]), clusters=f.int(tl["clusters"]), n=f.int(tl["n"]),
        chisq=f.num(fit["chisq"], 1), df=f.int(fit["df"]), cfi=f.num(fit["cfi"], 3),
        tli=f.num(fit["tli"], 3), rmsea=f.num(fit["rmsea"], 3),
        srmr_w=f.num(fit["srmr_within"], 3), srmr_b=f.num(fit["srmr_between"], 3)),
        "warnings": [*heywood(tl.get("negative_variances"), ctx),
                     *([] if tl.get("converged", True) else [t["nest_twolevel_not_converged"]])]}


def heywood(negative: list | None, ctx: Context) -> list[str]:
    """One sentence naming the residual variances estimated below zero, with their level."""
    if not negative:
        return []
    items = ", ".join(f"{v['item']} ({ctx.t['nest_level_' + v['level']]})" for v in negative)
    return [ctx.t["nest_twolevel_heywood"].format(n=ctx.typo.int(len(negative)), items=items)]
