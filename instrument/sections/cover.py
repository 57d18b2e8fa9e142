"""The report's cover: the files it was drawn from and the findings at a glance (not a
numbered section)."""

from __future__ import annotations

from instrument.sections.common import Context
from instrument.sections.sample import flagged_respondents

__all__ = ["build"]


def build(results: dict, ctx: Context, sections: list[dict]) -> dict:
    t = ctx.t
    src = ctx.source
    meta = [(t["data_file"], src.get("data", "")),
            *([(t["form_label"], src["form"])] if src.get("form") else []),
            *([(t["keys_label"], src["keys"])] if src.get("keys") else [])]
    return {"meta": meta, "glance": glance(results, ctx, sections)}


def glance(results: dict, ctx: Context, sections: list[dict]) -> list[str]:
    t, f = ctx.t, ctx.typo
    s = results["sample"]
    scales = results["scales"]
    by_resp, left_out = flagged_respondents(results)
    actions = next((x["view"] for x in sections if x["name"] == "actions"), {"revise": [], "review": []})
    lines = [
        t["glance_n"].format(n=f.int(results["n"]), k=f.int(results["n_items"]), s=f.int(len(scales)),
                             received=f.int(s.get("n_received", results["n"]))),
        t["glance_ready"].format(ready=f.int(sum(1 for e in scales.values() if e.get("ready", True))),
                                 total=f.int(len(scales))),
        t["glance_items"].format(revise=f.int(len(actions["revise"])), review=f.int(len(actions["review"]))),
        t["glance_resp"].format(n=f.int(len(by_resp)), excluded=f.int(len(left_out))) if left_out
        else t["glance_resp_kept"].format(n=f.int(len(by_resp))),
    ]
    cfa = results.get("cfa")
    if cfa:
        ok = all(x is not False for x in cfa["meets"].values())
        lines.append(t["glance_fit"].format(verdict=t["meets_all"] if ok else t["misses_some"]))
    return lines
