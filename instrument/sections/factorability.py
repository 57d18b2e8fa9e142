"""Section 4 (``factorability``), factorability and dimensionality: KMO, Bartlett, the scree plot with
parallel analysis, MAP and the number of factors each method suggests."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build", "corr_label"]


def corr_label(results: dict, ctx: Context) -> str:
    dim = results.get("dimensionality") or {}
    return ctx.t["corr_polychoric"] if dim.get("corr") == "polychoric" else ctx.t["corr_pearson"]


def build(results: dict, ctx: Context) -> dict:
    from instrument import plots

    t, f = ctx.t, ctx.typo
    km, bt = results.get("kmo"), results.get("bartlett")
    kmo_cut = ctx.threshold("kmo")["value"]
    low_kmo = [i for i, x in (km or {}).get("items", {}).items() if x is not None and x < kmo_cut]
    return {
        "rows": tests(km, bt, ctx),
        "interp": t["interp_factorability"].format(
            kmo=ctx.value("kmo"), kmo_source=ctx.source_of("kmo"),
            p=ctx.value("bartlett_p"), p_source=ctx.source_of("bartlett_p"),
            n=f.int((km or bt or {}).get("n", results.get("n_complete")))),
        "low_kmo": t["kmo_low_items"].format(value=ctx.value("kmo"), items=", ".join(low_kmo)) if low_kmo else "",
        "figure": ctx.figure(plots.scree),
        "dims": dims(results, ctx),
        "interp_dims": t["interp_dimensions"].format(
            corr=corr_label(results, ctx),
            n=f.int((results.get("efa") or {}).get("n_factors", len(ctx.model)))),
    }


def tests(km, bt, ctx: Context) -> list[dict]:
    t, f = ctx.t, ctx.typo
    rows = []
    if km:
        rows.append({"label": t["kmo"], "value": f.num(km["overall"]),
                     "criterion": f"{f.rule('>=', ctx.threshold('kmo')['value'])} ({ctx.source_of('kmo')})",
                     "ok": km["ok"]})
    if bt:
        rows.append({"label": t["bartlett"],
                     "value": f"χ²({f.int(bt['df'])}) = {f.num(bt['chi2'], 1)}, p {f.p_eq(bt['p'])}",
                     "criterion": f"p < {ctx.value('bartlett_p')} ({ctx.source_of('bartlett_p')})",
                     "ok": bt["ok"]})
    return rows


def dims(results: dict, ctx: Context) -> list[tuple[str, str]]:
    t, f = ctx.t, ctx.typo
    dim = results.get("dimensionality") or {}
    rows = []
    if dim.get("parallel"):
        rows.append((t["pa_method"].format(n_iter=f.int(dim["parallel"]["n_iter"])),
                     f.int(dim["parallel"]["n_factors"])))
    if dim.get("map"):
        rows.append((t["map_method"], f.int(dim["map"]["n_factors"])))
    rows.append((t["model_method"], f.int(len(ctx.model))))
    return rows
