"""Section 9, the recommended actions: items to revise or drop, scales not ready, items
to review, respondents to check; each with its stable code and why.

An item flagged in several scales (a facet and its construct) gets one reason per scale,
each quoting the statistic of the scale it names."""

from __future__ import annotations

from instrument.sections.common import PERCENT_FLAGS, Context, options, where_text
from instrument.sections.sample import flagged_respondents

__all__ = ["REVIEW", "REVISE", "build", "why"]

#: Item flags that call for revising or dropping the item; the others ask for a look.
REVISE = ("low-item-rest-r", "raises-alpha-if-deleted", "low-loading", "cross-loading",
          "heywood", "non-invariant")
REVIEW = ("near-constant", "high-missing")
#: Item flags judged within a scale: their value is read in each scale they name.
PER_SCALE = {"low-item-rest-r": "item_rest_r", "raises-alpha-if-deleted": "alpha_if_deleted"}


def build(results: dict, ctx: Context) -> dict:
    t = ctx.t
    revise, review = [], []
    for i in results["item_order"]:
        fls = ctx.item_flags.get(i, [])
        for codes, out in ((REVISE, revise), (REVIEW, review)):
            mine = [fl for fl in fls if fl["reason"] in codes]
            if mine:
                out.append({"item": i, "text": ctx.item_text(i),
                            "reasons": [{"code": fl["reason"], "why": why(fl, results, ctx)} for fl in mine]})
    not_ready: dict[str, list[dict]] = {}
    for fl in results["flags"]["scales"]:
        not_ready.setdefault(fl["scale"], []).append({"code": fl["reason"], "why": why(fl, results, ctx)})
    return {"revise": revise, "review": review,
            "scales": [{"scale": ctx.scale(k), "reasons": x} for k, x in not_ready.items()],
            "respondents": respondents(results, ctx), "interp": t["interp_actions"]}


def respondents(results: dict, ctx: Context):
    t, f = ctx.t, ctx.typo
    by_resp, left_out = flagged_respondents(results)
    if not by_resp:
        return ""
    text = (t["respondents_summary_kept"] if not left_out
            else t["respondents_summary_all_out"] if len(left_out) == len(by_resp)
            else t["respondents_summary"])
    return options(text.format(n=f.int(len(by_resp)), excluded=f.int(len(left_out)),
                               others=f.int(len(by_resp) - len(left_out))))


def why(fl: dict, results: dict, ctx: Context) -> str:
    """Why an item or a scale is flagged, in words, with its value and threshold."""
    code = fl["reason"]
    if code in PER_SCALE and "item" in fl:
        return per_scale(fl, results, ctx)
    t, f = ctx.t, ctx.typo
    digits = 1 if code in PERCENT_FLAGS else 2
    value = fl.get("value")
    extra = {}
    if code == "floor-ceiling":
        extra["end"] = t[f"where_{fl.get('end', 'ceiling')}"]
    if code == "cfa-fit":
        extra["indices"] = ", ".join(f"{k.upper()} {f.num(x, 3)}" for k, x in (fl.get("indices") or {}).items())
    if code == "high-htmt":
        extra["other"] = ctx.scale(fl.get("other", ""))
    where = where_text(fl.get("where") or [], ctx)
    if code == "non-invariant":
        where = ", ".join(ctx.typo.label("group", g) for g in fl.get("where") or [])
    if code == "near-constant":
        where = ", ".join(fl.get("where") or [])
    return t[f"why_{code}"].format(
        value=f.num(value, digits) if value is not None else "",
        threshold=f.num(fl.get("threshold"), 0) if code in PERCENT_FLAGS else f.threshold(fl.get("threshold")),
        where=where, **extra)


def per_scale(fl: dict, results: dict, ctx: Context) -> str:
    """One phrase per scale named, each with that scale's own statistic."""
    f = ctx.typo
    parts = []
    for scale in fl.get("where") or []:
        stat = ((results["scales"].get(scale) or {}).get("items") or {}).get(fl["item"]) or {}
        value = stat.get(PER_SCALE[fl["reason"]])
        parts.append(ctx.t[f"why_{fl['reason']}"].format(
            value=f.num(value), threshold=f.threshold(fl.get("threshold")), where=ctx.scale(scale)))
    return "; ".join(parts) if ctx.lang == "en" else f.text(" ; ".join(parts))
