"""Section 10, notes and method: the analyses that could not run (with their codes), the
thresholds used with their sources, how the numbers were computed."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]


def build(results: dict, ctx: Context) -> dict:
    f = ctx.typo
    notes = []
    for n in results.get("notes") or []:
        step = ctx.t.get(f"step_{n['step']}", n["step"])
        notes.append({"code": n["code"], "text": f.text(f"({step}): {ctx.explain(n['code'], n['message'])}")})
    thresholds = [{"name": name, "label": ctx.t.get(f"th_{name}", name), "rule": f.rule(x["rule"], x["value"]),
                   "source": ctx.source_of(name)}
                  for name, x in results["thresholds"].items()]
    return {"notes": notes, "thresholds": thresholds}
