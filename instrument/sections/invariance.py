"""Section 8, measurement invariance across each group column: group sizes (small cells
suppressed), the steps in order (configural, metric, scalar; what each released), the
nested models compared, the non-invariant items and the score tests that found them.
The sentences, the table's "holds" column and the flagged list all read the same
results.json entries (``fits.<name>.steps``, ``table.<model>.holds``, ``flagged``)."""

from __future__ import annotations

from instrument.sections.common import Context

__all__ = ["build"]


def build(results: dict, ctx: Context) -> dict:
    from psychometrics.invariance import CHEN_2007

    t, f = ctx.t, ctx.typo
    return {
        "groups": [group(g, inv, ctx) for g, inv in (results.get("invariance") or {}).items()],
        "interp": t["interp_invariance"].format(
            min=ctx.value("group_size", 0), min_source=ctx.source_of("group_size"),
            cfi=f.num(-CHEN_2007["delta_cfi"], 3), rmsea=f.num(CHEN_2007["delta_rmsea"], 3),
            srmr_m=f.num(CHEN_2007["delta_srmr_metric"], 3), srmr_s=f.num(CHEN_2007["delta_srmr_scalar"], 3),
            rows=ctx.value("invariance_rows_per_item", 0), p=f.num(0.05)),
        "interp_groups": t["interp_groups"].format(value=ctx.value("cell", 0), source=ctx.source_of("cell")),
    }


def group(g: str, inv: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    entry = {"group": g, "title": t["inv_title"].format(group=ctx.typo.label("group", g)),
             "sizes": [{"level": ctx.typo.label("level", k), "n": f.cell(x)} for k, x in inv.get("sizes", {}).items()],
             "tables": [], "skipped": "", "excluded": "", "mode": "", "flagged": "", "tests": [],
             "steps": []}
    if inv.get("excluded"):
        entry["excluded"] = t["inv_excluded"].format(
            value=f.int(inv["min_group_size"]),
            groups=", ".join(f"{ctx.typo.label('level', k)} (n {f.cell(x)})" for k, x in inv["excluded"].items()))
    if inv.get("skipped"):
        entry["skipped"] = t["inv_skipped"].format(reason=ctx.explain(inv["skipped"], inv.get("reason", "")))
        return entry
    entry["mode"] = (t["inv_mode_model"].format(k=f.int(len(ctx.model))) if inv.get("mode") == "model"
                     else t["inv_mode_scale"])
    entry["tables"] = [table(name, fit, ctx) for name, fit in inv.get("fits", {}).items()]
    entry["steps"] = step_lines(inv.get("fits", {}), ctx)
    flagged = inv.get("flagged") or []
    entry["flagged"] = t["non_invariant_items"].format(items=", ".join(flagged)) if flagged else t["no_non_invariant"]
    entry["tests"] = tests(inv, ctx)
    return entry


def table(name: str, fit: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    skipped = ctx.skipped_table(name, fit)
    if skipped is not None:
        return skipped
    scale = ctx.scale(name) if name != "model" else ""
    rows = []
    for model_name, row in fit["table"].items():
        holds = row.get("holds")
        rows.append({
            "model": t.get(f"inv_{model_name}", model_name),
            "chisq": f"{f.num(row.get('chisq'), 1)} ({f.int(row.get('df'))})",
            "cfi": f.num(row.get("cfi"), 3), "rmsea": f.num(row.get("rmsea"), 3), "srmr": f.num(row.get("srmr"), 3),
            "dcfi": f.num(row.get("delta_cfi"), 3) if row.get("delta_cfi") is not None else "",
            "drmsea": f.num(row.get("delta_rmsea"), 3) if row.get("delta_rmsea") is not None else "",
            "holds": "" if holds is None else (t["word_yes"] if holds else t["word_no"]),
            "fails": holds is False,
        })
    return {"scale": scale, "rows": rows, "skipped": ""}


def tests(inv: dict, ctx: Context) -> list[dict]:
    f = ctx.typo
    alpha = inv.get("alpha", 0.05)
    return [{"item": x["item"], "param": ctx.t.get(f"param_{x['parameter']}", x["parameter"]),
             "group": ctx.typo.label("level", x["group"]), "ref": ctx.typo.label("level", x["reference_group"]),
             "x2": f.num(x["X2"], 2), "p": f.p(x["p_adj"]),
             # the test that set its item aside: flagged item, significant test
             "flag": x["flagged"] and x["p_adj"] is not None and x["p_adj"] < alpha}
            for x in inv.get("score_tests", [])]


def step_lines(fits: dict, ctx: Context) -> list[str]:
    """A sentence per fit with a step that released or failed; the scales where every step
    holds are named together in one sentence (scale by scale), or said to hold (one model)."""
    named = len(fits) > 1
    tested = {name: fit for name, fit in fits.items() if fit.get("steps")}
    clean = [name for name, fit in tested.items()
             if len(fit["steps"]) == 2 and all(s["verdict"] == "holds" for s in fit["steps"])]
    lines = [steps(name, fit, ctx, named) for name, fit in tested.items() if not named or name not in clean]
    if named and clean:
        key = "inv_others_hold" if lines else "inv_all_hold"
        lines.append(ctx.typo.text(ctx.t[key]))
    return lines


def steps(name: str, fit: dict, ctx: Context, named: bool) -> str:
    """One fit's step sequence in words: each step's verdict and what it released."""
    t, f = ctx.t, ctx.typo
    parts = []
    for st in fit["steps"]:
        released = ", ".join(t["inv_released"].format(
            parameter=t.get(f"param_{r['parameter']}", r["parameter"]), item=r["item"],
            x2=f.num(r["X2"], 1), p=f.p_eq(r["p_adj"]))
            for r in st["released"])
        if st["verdict"] == "fails":
            released = t["inv_fails_after"].format(released=released) if released else ""
        parts.append(t[f"inv_step_{st['verdict']}"].format(step=t[f"inv_step_{st['step']}"], released=released))
    if named:  # after "Intégrité :" the sentence goes on in lower case
        parts[0] = parts[0][:1].lower() + parts[0][1:]
    label = t["inv_scale_label"].format(name=ctx.scale(name)) + " " if named else ""
    return f.text(label + " ".join(parts))
