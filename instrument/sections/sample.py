"""Section 1, the sample: rows received, excluded and analyzed, missing answers, group
sizes (small cells suppressed), careless responding and the respondents flagged."""

from __future__ import annotations

from instrument.sections.common import Context, options

__all__ = ["MAX_LISTED", "build"]

MAX_LISTED = 40  # respondents listed in the report (all of them are in results.json)


def build(results: dict, ctx: Context) -> dict:
    t, f = ctx.t, ctx.typo
    s, n = results["sample"], results["n"]
    received = s.get("n_received", n)
    n_excluded = s.get("n_excluded", 0)
    care = s.get("careless") or {}
    n_flagged = s.get("n_flagged", care.get("n_flagged", 0))
    shown = [kv for kv in sorted(s["missing_items"].items(), key=lambda kv: -kv[1]) if kv[1] > 0][:10]
    limit = ctx.threshold("missing_pct")["value"]
    return {
        "facts": [
            (t["received"], f.int(received)),
            (t["flagged_careless"], f.int(n_flagged)),
            (t["excluded_careless"], f.int(n_excluded)),
            (t["analyzed"], f.int(n)),
            (t["complete_rows"], f"{f.int(s['n_complete'])} ({f.pct(100 * s['n_complete'] / n if n else None)})"),
            (t["missing_overall"], f.pct(s["missing_pct"])),
        ],
        "interp_sample": (t["interp_sample"] if n_excluded else t["interp_sample_all"]).format(
            received=f.int(received), excluded=f.int(n_excluded), n=f.int(n)),
        "by_respondent": [(t[f"missing_{k}"], f.int(c)) for k, c in s["missing_respondents"].items()],
        "by_item": [{"item": i, "pct": f.pct(p), "flag": p > limit} for i, p in shown],
        "interp_missing": t["interp_missing"].format(value=f.num(limit, 0), source=ctx.source_of("missing_pct")),
        "careless": careless_rows(s, ctx),
        "interp_careless": careless_text(s, ctx),
        **respondents(results, ctx),
        "groups": groups(s, n, ctx),
        "interp_groups": t["interp_groups"].format(value=f.int(ctx.threshold("cell")["value"]),
                                                   source=ctx.source_of("cell")),
    }


def careless_rows(s: dict, ctx: Context) -> list[dict]:
    from psychometrics.report import RESPONDENT_FLAGS

    t, f = ctx.t, ctx.typo
    care = s.get("careless") or {}
    if not care:
        return []
    excluded_for = s.get("excluded_for") or []
    rules = {
        "straightlining": t["rule_straightlining"].format(cut=f.int(care["longstring_cut"])),
        "low-irv": t["rule_low_irv"].format(cut=f.num(care["irv_cut"], 2)),
        "multivariate-outlier": t["rule_outlier"],
        "too-few-answers": t["rule_few"].format(cut=f.num(100 * care["min_answered"], 0)),
    }
    return [{"code": code, "label": t[f"flag_{code}"], "rule": rules[code],
             "count": f.int(care.get("counts", {}).get(code, 0)),
             "effect": t["effect_excluded"] if code in excluded_for else t["effect_flagged"]}
            for code in RESPONDENT_FLAGS]


def careless_text(s: dict, ctx: Context):
    from psychometrics.report import EXCLUDED_FLAGS

    t, f = ctx.t, ctx.typo
    care = s.get("careless") or {}
    excluded_for = s.get("excluded_for") or []
    codes = f" {t['word_or']} ".join(f"{t[f'flag_{c}']} ({c})" for c in (excluded_for or EXCLUDED_FLAGS))
    text = t["interp_careless"] if excluded_for else t["interp_careless_kept"]
    return options(text.format(n=f.int(s.get("n_flagged", care.get("n_flagged", 0))),
                               excluded=f.int(s.get("n_excluded", 0)), codes=codes))


def flagged_respondents(results: dict) -> tuple[dict[str, list[str]], set[str]]:
    """Respondent -> the codes of their flags, and the respondents left out."""
    by_resp: dict[str, list[str]] = {}
    left_out: set[str] = set()
    for fl in results["flags"]["respondents"]:
        by_resp.setdefault(fl["respondent"], []).append(fl["reason"])
        if fl.get("excluded"):
            left_out.add(fl["respondent"])
    return by_resp, left_out


def respondents(results: dict, ctx: Context) -> dict:
    t = ctx.t
    by_resp, left_out = flagged_respondents(results)
    rows = [{"respondent": k, "reasons": ", ".join(c),
             "analyzed": t["word_no"] if k in left_out else t["word_yes"]}
            for k, c in list(by_resp.items())[:MAX_LISTED]]
    more = t["more_rows"].format(n=ctx.typo.int(len(by_resp) - MAX_LISTED)) if len(by_resp) > MAX_LISTED else ""
    return {"respondents": rows, "more_respondents": more}


def groups(s: dict, n: int, ctx: Context) -> list[dict]:
    t, f = ctx.t, ctx.typo
    minimum = ctx.threshold("cell")["value"]
    out = []
    for g, levels in s["groups"].items():
        rows = []
        for level, e in levels.items():
            small = e["n"] is None or e["n"] < minimum
            rows.append({"level": ctx.typo.label("level", level), "n": f.cell(e["n"]),
                         "share": f.cell(None) if small else f.pct(100 * e["n"] / n),
                         "missing": f.cell(None) if small or "missing_pct" not in e else f.pct(e["missing_pct"])})
        out.append({"group": g, "title": t["groups_title"].format(group=ctx.typo.label("group", g)), "rows": rows})
    return out
