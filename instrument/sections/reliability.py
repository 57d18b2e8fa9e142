"""Section 3, reliability: alpha and omega with their intervals (ordinal versions for
ordinal items), the floor and ceiling effect of each scale score, ready or not."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]


def build(results: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    kinds = ctx.source.get("scale_kinds") or {}
    settings = results["settings"]
    alpha_src = ctx.threshold("alpha")["source"].split("; ")
    omega_src = "; ".join(x for x in ctx.threshold("omega")["source"].split("; ") if x not in alpha_src)
    return {
        "rows": [row(name, e, kinds, ctx) for name, e in results["scales"].items()],
        "ordinal": results["ordinal"], "kinds": bool(kinds),
        "interp": t["interp_reliability"].format(
            alpha=ctx.value("alpha"), alpha_source=ctx.source_of("alpha"), omega_source=f.text(omega_src),
            n_boot=f.int(settings["n_boot"]), seed=settings["seed"]),
        "interp_cont": t["interp_reliability_cont"].format(
            cats=f.int(ctx.threshold("categories")["value"]), source=ctx.source_of("categories")),
        "interp_fc": t["interp_scale_fc"].format(
            fc=ctx.value("floor_ceiling_pct", 0), source=ctx.source_of("floor_ceiling_pct")),
    }


def with_ci(est, lo, hi, f) -> str:
    if est is None:
        return f.na
    if lo is None or hi is None:
        return f.num(est)
    return f"{f.num(est)} {f.interval(lo, hi)}"


def row(name: str, e: dict, kinds: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo

    fl, ce = e.get("floor_pct"), e.get("ceiling_pct")
    return {
        "scale": ctx.scale(name), "id": name, "kind": t.get(f"kind_{kinds.get(name)}", kinds.get(name, "")),
        "construct": kinds.get(name) == "construct",
        "k": f.int(e.get("n_items")), "n": f.int(e.get("n")),
        "alpha": with_ci(e.get("alpha"), e.get("ci_low"), e.get("ci_high"), f),
        "alpha_flag": ctx.fails("alpha", e.get("alpha")),
        "omega": with_ci(e.get("omega_total"), e.get("omega_ci_low"), e.get("omega_ci_high"), f),
        "omega_flag": ctx.fails("omega", e.get("omega_total")),
        "ord_alpha": f.num(e.get("ordinal_alpha")), "ord_omega": f.num(e.get("ordinal_omega")),
        "fc": f"{f.pct(fl, 0)} / {f.pct(ce, 0)}" if fl is not None else f.na,
        "fc_flag": fl is not None and ctx.fails("floor_ceiling_pct", max(fl, ce or 0)),
        "ready": e.get("ready", True),
    }
