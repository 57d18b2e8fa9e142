"""Section 2, the items: distribution of the answers (figure), mean, SD, floor and
ceiling, item-rest r and alpha if deleted within the item's scale of the model."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]


def build(results: dict, ctx: Context) -> dict:
    from instrument import plots

    t = ctx.t
    rows = [row(i, results, ctx) for i in results["item_order"]]
    return {
        "figure": ctx.figure(plots.item_distributions),
        "rows": rows,
        "caption": t["caption_items"].format(value=ctx.value("category_pct", 0)),
        "interp": t["interp_items"].format(
            rest=ctx.value("item_rest_r"), rest_source=ctx.source_of("item_rest_r"),
            gain=ctx.value("alpha_if_deleted_gain"), gain_source=ctx.source_of("alpha_if_deleted_gain"),
            cat=ctx.value("category_pct", 0), cat_source=ctx.source_of("category_pct"),
            fc=ctx.value("floor_ceiling_pct", 0), fc_source=ctx.source_of("floor_ceiling_pct")),
        "has_text": any(r["text"] for r in rows),
    }


def row(i: str, results: dict, ctx: Context) -> dict:
    f = ctx.typo
    e = results["items"][i]
    sc = ctx.model_scale.get(i) or (e["scales"][0] if e["scales"] else None)
    st = (results["scales"].get(sc) or {}).get("items", {}).get(i, {}) if sc else {}
    codes = ctx.codes(i)
    ends = (results["response_range"]["low"], results["response_range"]["high"])
    return {
        "item": i, "reverse": bool(e.get("reverse")), "text": ctx.item_text(i),
        "scale": ctx.scale(sc) if sc else "",
        "mean": f.num(e.get("mean")), "sd": f.num(e.get("sd")),
        "floor": f.pct(e.get("floor_pct"), 0), "ceiling": f.pct(e.get("ceiling_pct"), 0),
        "fc_flag": "near-constant" in codes and e.get("modal_value") in ends,
        "rest": f.num(st.get("item_rest_r")), "rest_flag": "low-item-rest-r" in codes,
        "aid": f.num(st.get("alpha_if_deleted")), "aid_flag": "raises-alpha-if-deleted" in codes,
        "codes": codes,
    }
