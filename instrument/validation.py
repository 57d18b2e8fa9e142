"""The validation report: ``intangibles validate DATA (--form FORM.yaml | --keys KEYS) --out DIR``.

:func:`validate_command` reads the data (.csv, .xlsx, .parquet, .sav), takes the scales,
the item texts and the missing codes from the form spec (or the scales from a psych-style
keys file), runs :func:`psychometrics.report.validate`, and writes three files atomically:

* ``report.html``: one self-contained page (inline CSS and SVG figures, no script, no
  network), in French or English;
* ``report.pdf``: the same HTML laid out by WeasyPrint;
* ``results.json``: every number (the contract in DESIGN.md).

:func:`render_html` draws the report from a :class:`~psychometrics.report.Validation`
alone, so a report can be re-drawn from ``results.json``. Everything that comes from the
data or the spec (item texts, group values, respondent codes) is escaped (jinja2
autoescape; matplotlib escapes the text of the SVG figures).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from instrument.datafile import DataError, read_data

__all__ = ["LANGS", "read_data", "render_html", "render_pdf", "strings", "validate_command"]

LANGS = ("fr", "en")
#: Item flags that call for revising or dropping the item; the others ask for a look.
REVISE = ("low-item-rest-r", "raises-alpha-if-deleted", "low-loading", "cross-loading",
          "heywood", "non-invariant")
REVIEW = ("near-constant", "high-missing")
PERCENT_FLAGS = ("near-constant", "high-missing", "floor-ceiling")
MAX_LISTED = 40  # respondents listed in the report (all of them are in results.json)


class InputError(Exception):
    """A problem with the command's input files or options (message names the file/column)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- strings


def strings(lang: str) -> dict:
    """The report's labels in ``lang`` (``templates/report_strings.yaml``)."""
    import yaml

    from instrument.resources import templates_dir

    if lang not in LANGS:
        raise ValueError(f"The 'lang' parameter must be one of {', '.join(LANGS)}; got {lang!r}.")
    raw = yaml.safe_load((templates_dir() / "report_strings.yaml").read_text(encoding="utf-8"))
    return {k: (v if isinstance(v, str) else v[lang]) for k, v in raw.items()}


# --------------------------------------------------------------------------- formatting


class _Fmt:
    """Numbers as the report prints them: decimal comma and thin-space thousands in French."""

    def __init__(self, lang: str, na: str):
        self.lang, self.na = lang, na

    def num(self, v, digits: int = 2) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return self.na
        s = f"{v:.{digits}f}"
        if s.startswith("-") and float(s) == 0:
            s = s[1:]
        return s.replace(".", ",") if self.lang == "fr" else s

    def int(self, v) -> str:
        if v is None:
            return self.na
        s = f"{int(v):,}"
        return s.replace(",", "\u202f") if self.lang == "fr" else s

    def pct(self, v, digits: int = 1) -> str:
        return self.na if v is None else self.num(v, digits) + ("\u00a0%" if self.lang == "fr" else "%")

    def p(self, v) -> str:
        if v is None:
            return self.na
        if v < 0.001:
            return "< " + self.num(0.001, 3)
        return self.num(v, 3)

    def cell(self, n) -> str:
        """A count in a group table: "< 5" below the small-cell minimum."""
        from psychometrics.report import MIN_CELL

        if n is None or n < MIN_CELL.value:  # None: already suppressed in results.json
            return "< 5"
        return self.int(n)

    def threshold(self, v) -> str:
        if v is None:
            return ""
        return self.num(v, 2) if v < 1 else self.num(v, 0)


def _options(text: str):
    """``text`` escaped, with the command-line options in it (``--keep-careless``...) as
    ``<code class="option">`` that never breaks after its hyphens."""
    import re

    import markupsafe

    parts = re.split(r"((?:intangibles validate )?--[a-z][a-z-]*)", text)
    return markupsafe.Markup("").join(
        markupsafe.Markup('<code class="option">{}</code>').format(p) if k % 2 else markupsafe.escape(p)
        for k, p in enumerate(parts))


def _text(value, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or next(iter(value.values()), ""))
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- view


def _view(v, lang: str, *, source: dict | None = None) -> dict:
    """Everything the template prints, as plain rows of already formatted strings."""
    from instrument import __version__
    from psychometrics import report as R

    r = v.results
    t = strings(lang)
    f = _Fmt(lang, t["na"])
    labels = v.labels or {}
    th = R.THRESHOLDS

    def label(name):
        return _text(labels.get(name), lang)

    def scale_name(s):
        text = label(s)
        return f"{text} ({s})" if text and text != s else s

    model = r.get("model") or {}
    model_scale = {i: s for s, its in model.items() for i in its}
    item_flags: dict[str, list[dict]] = {}
    for fl in r["flags"]["items"]:
        item_flags.setdefault(fl["item"], []).append(fl)

    def where_text(fl):
        out = []
        for w in fl.get("where") or []:
            if w == "efa":
                out.append("AFE" if lang == "fr" else "EFA")
            elif w.startswith("cfa:"):
                out.append(("AFC" if lang == "fr" else "CFA") + f" ({w[4:]})")
            elif w == "cfa":
                out.append("AFC" if lang == "fr" else "CFA")
            else:
                out.append(w)
        return ", ".join(out)

    def why(fl):
        code = fl["reason"]
        value = fl.get("value")
        digits = 1 if code in PERCENT_FLAGS else 2
        where = where_text(fl)
        extra = {}
        if code == "floor-ceiling":
            extra["end"] = t[f"where_{fl.get('end', 'ceiling')}"]
        if code == "cfa-fit":
            extra["indices"] = ", ".join(f"{k.upper()} {f.num(x, 3)}" for k, x in (fl.get("indices") or {}).items())
        if code == "high-htmt":
            extra["other"] = fl.get("other", "")
        return t[f"why_{code}"].format(
            value=f.num(value, digits) if value is not None else "",
            threshold=f.threshold(fl.get("threshold")) if code not in PERCENT_FLAGS
            else f.num(fl.get("threshold"), 0),
            where=where, **extra)

    # ---------------------------------------------------------- sample
    s = r["sample"]
    n = r["n"]
    miss_items = sorted(s["missing_items"].items(), key=lambda kv: -kv[1])
    shown = [kv for kv in miss_items if kv[1] > 0][:10]
    care = s.get("careless") or {}
    care_rows = []
    received = s.get("n_received", n)
    n_excluded = s.get("n_excluded", 0)
    excluded_for = s.get("excluded_for") or []
    n_flagged = s.get("n_flagged", care.get("n_flagged", 0))
    if care:
        rules = {
            "straightlining": t["rule_straightlining"].format(cut=care["longstring_cut"]),
            "low-irv": t["rule_low_irv"].format(cut=f.num(care["irv_cut"], 2)),
            "multivariate-outlier": t["rule_outlier"],
            "too-few-answers": t["rule_few"].format(cut=f.num(100 * care["min_answered"], 0)),
        }
        for code in R.RESPONDENT_FLAGS:
            care_rows.append({"code": code, "label": t[f"flag_{code}"], "rule": rules[code],
                              "count": f.int(care.get("counts", {}).get(code, 0)),
                              "effect": t["effect_excluded"] if code in excluded_for else t["effect_flagged"]})
    by_resp: dict[str, list[str]] = {}
    left_out: set[str] = set()
    for fl in r["flags"]["respondents"]:
        by_resp.setdefault(fl["respondent"], []).append(fl["reason"])
        if fl.get("excluded"):
            left_out.add(fl["respondent"])
    resp_rows = [{"respondent": k, "reasons": ", ".join(c),
                  "analyzed": t["word_no"] if k in left_out else t["word_yes"]}
                 for k, c in list(by_resp.items())[:MAX_LISTED]]
    groups = []
    for g, levels in s["groups"].items():
        rows = []
        for level, e in levels.items():
            small = e["n"] is None or e["n"] < R.MIN_CELL.value
            rows.append({"level": level, "n": f.cell(e["n"]),
                         "share": t["suppressed"] if small else f.pct(100 * e["n"] / n),
                         "missing": t["suppressed"] if small or "missing_pct" not in e else f.pct(e["missing_pct"])})
        groups.append({"group": g, "title": t["groups_title"].format(group=g), "rows": rows})

    sample = {
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
        "by_item": [{"item": i, "pct": f.pct(p), "flag": p > th["missing_pct"].value} for i, p in shown],
        "interp_missing": t["interp_missing"].format(value=f.num(th["missing_pct"].value, 0),
                                                      source=th["missing_pct"].source),
        "careless": care_rows,
        "interp_careless": _options((t["interp_careless"] if excluded_for else t["interp_careless_kept"]).format(
            n=f.int(n_flagged), excluded=f.int(n_excluded),
            codes=f" {t['word_or']} ".join(
                c if t[f"flag_{c}"] == c else f"{t[f'flag_{c}']} ({c})"
                for c in (excluded_for or R.EXCLUDED_FLAGS)))),
        "respondents": resp_rows,
        "more_respondents": t["more_rows"].format(n=len(by_resp) - MAX_LISTED) if len(by_resp) > MAX_LISTED else "",
        "groups": groups,
        "interp_groups": t["interp_groups"].format(value=f.int(R.MIN_CELL.value), source=R.MIN_CELL.source),
    }

    # ---------------------------------------------------------- items
    item_rows = []
    for i in r["item_order"]:
        e = r["items"][i]
        sc = model_scale.get(i) or (e["scales"][0] if e["scales"] else None)
        st = (r["scales"].get(sc) or {}).get("items", {}).get(i, {}) if sc else {}
        codes = [fl["reason"] for fl in item_flags.get(i, [])]
        item_rows.append({
            "item": i + (" (R)" if e.get("reverse") else ""), "text": label(i), "scale": sc or "",
            "mean": f.num(e.get("mean")), "sd": f.num(e.get("sd")),
            "floor": f.pct(e.get("floor_pct"), 0), "ceiling": f.pct(e.get("ceiling_pct"), 0),
            "fc_flag": "near-constant" in codes and e.get("modal_value") in (
                r["response_range"]["low"], r["response_range"]["high"]),
            "rest": f.num(st.get("item_rest_r")), "rest_flag": "low-item-rest-r" in codes,
            "aid": f.num(st.get("alpha_if_deleted")), "aid_flag": "raises-alpha-if-deleted" in codes,
            "codes": codes,
        })
    items = {
        "rows": item_rows,
        "caption": t["caption_items"].format(value=f.num(th["category_pct"].value, 0)),
        "interp": t["interp_items"].format(
            rest=f.num(th["item_rest_r"].value), rest_source=th["item_rest_r"].source,
            gain=f.num(th["alpha_if_deleted_gain"].value), gain_source=th["alpha_if_deleted_gain"].source,
            cat=f.num(th["category_pct"].value, 0), cat_source=th["category_pct"].source,
            fc=f.num(th["floor_ceiling_pct"].value, 0), fc_source=th["floor_ceiling_pct"].source),
    }

    # ---------------------------------------------------------- reliability
    rel_rows = []
    kinds = (source or {}).get("scale_kinds") or {}
    for name, e in r["scales"].items():
        def ci(lo, hi, est):
            if est is None:
                return t["na"]
            if lo is None or hi is None:
                return f.num(est)
            return f"{f.num(est)} [{f.num(lo)}, {f.num(hi)}]"
        rel_rows.append({
            "scale": scale_name(name), "kind": kinds.get(name, ""), "k": e.get("n_items"),
            "n": f.int(e.get("n")),
            "alpha": ci(e.get("ci_low"), e.get("ci_high"), e.get("alpha")),
            "alpha_flag": e.get("alpha") is not None and not th["alpha"].ok(e["alpha"]),
            "omega": ci(e.get("omega_ci_low"), e.get("omega_ci_high"), e.get("omega_total")),
            "omega_flag": e.get("omega_total") is not None and not th["omega"].ok(e["omega_total"]),
            "ord_alpha": f.num(e.get("ordinal_alpha")), "ord_omega": f.num(e.get("ordinal_omega")),
            "fc": (f"{f.pct(e.get('floor_pct'), 0)} / {f.pct(e.get('ceiling_pct'), 0)}"
                   if e.get("floor_pct") is not None else t["na"]),
            "fc_flag": e.get("floor_pct") is not None and not th["floor_ceiling_pct"].ok(
                max(e["floor_pct"], e.get("ceiling_pct") or 0)),
            "ready": e.get("ready", True),
        })
    settings = r["settings"]
    reliability = {
        "rows": rel_rows, "ordinal": r["ordinal"], "kinds": bool(kinds),
        "interp": t["interp_reliability"].format(
            alpha=f.num(th["alpha"].value), alpha_source=th["alpha"].source,
            omega_source="; ".join(x for x in th["omega"].source.split("; ") if x not in th["alpha"].source.split("; ")),
            n_boot=f.int(settings["n_boot"]), seed=settings["seed"]),
        "interp_cont": t["interp_reliability_cont"].format(
            cats=int(th["categories"].value), source=th["categories"].source),
        "interp_fc": t["interp_scale_fc"].format(
            fc=f.num(th["floor_ceiling_pct"].value, 0), source=th["floor_ceiling_pct"].source),
    }

    # ---------------------------------------------------------- factorability
    km, bt = r.get("kmo"), r.get("bartlett")
    fact_rows = []
    if km:
        fact_rows.append({"label": t["kmo"], "value": f.num(km["overall"]),
                          "criterion": f"≥ {f.num(th['kmo'].value)} ({th['kmo'].source})", "ok": km["ok"]})
    if bt:
        fact_rows.append({"label": t["bartlett"],
                          "value": f"χ²({f.int(bt['df'])}) = {f.num(bt['chi2'], 1)}, p {_p_eq(f.p(bt['p']))}",
                          "criterion": f"p < {f.num(th['bartlett_p'].value)} ({th['bartlett_p'].source})",
                          "ok": bt["ok"]})
    low_kmo = [i for i, x in (km or {}).get("items", {}).items() if x is not None and x < th["kmo"].value]
    dim = r.get("dimensionality") or {}
    dim_rows = []
    if dim.get("parallel"):
        dim_rows.append((t["pa_method"].format(n_iter=f.int(dim["parallel"]["n_iter"])), dim["parallel"]["n_factors"]))
    if dim.get("map"):
        dim_rows.append((t["map_method"], dim["map"]["n_factors"]))
    dim_rows.append((t["model_method"], len(model)))
    corr_label = t["corr_polychoric"] if dim.get("corr") == "polychoric" else t["corr_pearson"]
    factorability = {
        "rows": fact_rows,
        "interp": t["interp_factorability"].format(
            kmo=f.num(th["kmo"].value), kmo_source=th["kmo"].source,
            p=f.num(th["bartlett_p"].value), p_source=th["bartlett_p"].source,
            n=f.int((km or bt or {}).get("n", r.get("n_complete")))),
        "low_kmo": t["kmo_low_items"].format(value=f.num(th["kmo"].value), items=", ".join(low_kmo)) if low_kmo else "",
        "dims": dim_rows,
        "interp_dims": t["interp_dimensions"].format(corr=corr_label, n=(r.get("efa") or {}).get("n_factors", len(model))),
    }

    # ---------------------------------------------------------- EFA
    efa = r.get("efa")
    efa_view = None
    if efa:
        match = efa.get("factor_scales") or {}
        rows = []
        for i in [i for its in model.values() for i in its if i in efa["primary"]]:
            pr = efa["primary"][i]
            codes = [fl["reason"] for fl in item_flags.get(i, [])]
            rows.append({"item": i, "scale": model_scale.get(i, ""),
                         "factor": pr["factor"] + (f" ({match[pr['factor']]})" if pr["factor"] in match else ""),
                         "loading": f.num(pr["loading"]), "low": "low-loading" in codes and abs(pr["loading"] or 0) < th["loading"].value,
                         "second": f.num(pr["second"]), "cross": "cross-loading" in codes,
                         "h2": f.num(efa["communalities"].get(i)), "heywood": i in efa["heywood"],
                         "mismatch": bool(match) and match.get(pr["factor"]) != model_scale.get(i)})
        factors = sorted(efa["factors"], key=lambda x: list(model).index(match[x]) if x in match else 1 << 20)
        phi = [{"name": x + (f" ({match[x]})" if x in match else ""),
                "cells": [{"v": f.num(efa["phi"][x][y]),
                           "bad": x != y and not th["factor_r"].ok(abs(efa["phi"][x][y] or 0))}
                          for y in factors]} for x in factors]
        efa_view = {
            "caption": t["caption_efa"].format(corr=corr_label.lower()),
            "rows": rows, "factors": [x for x in factors], "phi": phi,
            "interp": t["interp_efa"].format(
                load=f.num(th["loading"].value), load_source=th["loading"].source,
                cross=f.num(th["cross_loading"].value), gap=f.num(th["cross_loading_gap"].value),
                cross_source=th["cross_loading"].source),
            "warnings": efa.get("warnings") or [],
            "interp_phi": t["interp_phi"].format(value=f.num(th["factor_r"].value),
                                                 source=th["factor_r"].source),
        }

    # ---------------------------------------------------------- CFA
    cfa = r.get("cfa")
    cfa_view = None
    validity = None
    if cfa:
        w = cfa.get("wlsmv") or {}
        wl = w if "fit" in w else None

        def fit_cells(fit, scaled=False):
            def g(k):
                return fit.get(f"{k}_scaled") if scaled and fit.get(f"{k}_scaled") is not None else fit.get(k)
            return g

        rows = []
        ml = fit_cells(cfa["fit"])
        wf = fit_cells(wl["fit"], scaled=True) if wl else None
        chis = f"{f.num(ml('chisq'), 1)} ({f.int(ml('df'))}, p {_p_eq(f.p(ml('pvalue')))})"
        rows.append({"index": t["chisq"], "ml": chis,
                     "wlsmv": f"{f.num(wf('chisq'), 1)} ({f.int(wf('df'))}, p {_p_eq(f.p(wf('pvalue')))})" if wf else "",
                     "cutoff": "", "ok": None, "ok_w": None})
        for key, cut in R.FIT_CUTOFFS.items():
            sign = "≥" if cut.rule.startswith(">") else "≤"
            val = ml(key)
            txt = f.num(val, 3)
            if key == "rmsea":
                txt += f" [{f.num(ml('rmsea_ci_lower'), 3)}, {f.num(ml('rmsea_ci_upper'), 3)}]"
            rows.append({"index": t["rmsea_ci"] if key == "rmsea" else key.upper(), "ml": txt,
                         "wlsmv": f.num(wf(key), 3) if wf else "",
                         "cutoff": f"{sign} {f.num(cut.value)}", "ok": cut.ok(val) if val is not None else None,
                         "ok_w": cut.ok(wf(key)) if wf and wf(key) is not None else None})
        load_rows = []
        for fac, its in model.items():
            for i in its:
                val = (cfa["loadings"].get(i) or {}).get(fac)
                load_rows.append({"factor": fac, "item": i, "text": label(i), "loading": f.num(val),
                                  "r2": f.num((cfa.get("r_squared") or {}).get(i)),
                                  "low": val is not None and not th["loading"].ok(abs(val))})
        resid = [{"pair": f"{x['item1']} ~ {x['item2']}", "value": f.num(x["residual"]),
                  "big": not th["residual_r"].ok(abs(x["residual"] or 0))} for x in cfa.get("residuals", [])]
        mis = [{"param": f"{x['lhs']} {x['op']} {x['rhs']}", "mi": f.num(x["mi"], 1),
                "sepc": f.num(x["sepc_all"])} for x in cfa.get("modindices", [])]
        missing_txt = t["missing_fiml"] if cfa.get("missing") == "fiml" else t["missing_listwise"]
        cfa_view = {
            "rows": rows, "wlsmv": bool(wl),
            "wlsmv_skipped": t["wlsmv_skipped"].format(code=w.get("skipped")) if w.get("skipped") else "",
            "interp_misfit": t["interp_misfit"].format(value=f.num(th["residual_r"].value),
                                                       source=th["residual_r"].source),
            "interp": t["interp_fit"].format(cfi=f.num(th["cfi"].value), rmsea=f.num(th["rmsea"].value),
                                             srmr=f.num(th["srmr"].value), estimator="ML", n=f.int(cfa["n"]),
                                             missing=missing_txt),
            "loadings": load_rows,
            "interp_loadings": t["interp_loadings"].format(value=f.num(th["loading"].value), source=th["loading"].source),
            "residuals": resid, "modindices": mis,
            "warnings": [x["message"] for x in cfa.get("warnings", [])],
        }
        ave = cfa.get("ave") or {}
        rel = cfa.get("reliability") or {}
        facs = [x for x in model if x in ave]
        fl = cfa.get("fornell_larcker") or {}
        fl_rows = []
        for a in facs:
            cells = []
            for b in facs:
                x = (fl.get(a) or {}).get(b)
                bold = a != b and x is not None and (abs(x) > ((fl.get(a) or {}).get(a) or 0) or abs(x) > ((fl.get(b) or {}).get(b) or 0))
                cells.append({"v": f.num(x), "bold": bold, "diag": a == b})
            fl_rows.append({"name": a, "cells": cells})
        ht = cfa.get("htmt") or {}
        ht_rows = []
        for a in facs:
            cells = []
            for j, b in enumerate(facs):
                x = (ht.get(a) or {}).get(b)
                lower = j < facs.index(a)
                cells.append({"v": f.num(x) if lower else "", "bold": lower and x is not None and not th["htmt"].ok(x)})
            ht_rows.append({"name": a, "cells": cells})
        validity = {
            "ave": [{"factor": a, "ave": f.num(ave.get(a)), "low": ave.get(a) is not None and not th["ave"].ok(ave[a]),
                     "cr": f.num(rel.get(a))} for a in facs],
            "interp_ave": t["interp_ave"].format(value=f.num(th["ave"].value), source=th["ave"].source),
            "factors": facs, "fl": fl_rows, "htmt": ht_rows,
            "interp_htmt": t["interp_htmt"].format(value=f.num(th["htmt"].value), source=th["htmt"].source),
        }

    # ---------------------------------------------------------- invariance
    inv_view = []
    for g, inv in (r.get("invariance") or {}).items():
        sizes = [{"level": k, "n": f.cell(x)} for k, x in inv.get("sizes", {}).items()]  # None: suppressed
        entry = {"group": g, "title": t["inv_title"].format(group=g), "sizes": sizes, "tables": [],
                 "skipped": "", "excluded": "", "mode": "", "flagged": "", "tests": []}
        if inv.get("excluded"):
            entry["excluded"] = t["inv_excluded"].format(
                value=f.int(inv["min_group_size"]),
                groups=", ".join(f"{k} (n {f.cell(x)})" for k, x in inv["excluded"].items()))
        if inv.get("skipped"):
            entry["skipped"] = t["inv_skipped"].format(reason=inv.get("reason", inv["skipped"]))
            inv_view.append(entry)
            continue
        entry["mode"] = t["inv_mode_model"].format(k=len(model)) if inv.get("mode") == "model" else t["inv_mode_scale"]
        for name, fit in inv.get("fits", {}).items():
            if "table" not in fit:
                entry["tables"].append({"scale": name, "rows": [], "skipped": fit.get("reason", fit.get("skipped"))})
                continue
            rows = []
            for model_name, row in fit["table"].items():
                rows.append({
                    "model": t.get(model_name, model_name),
                    "chisq": f"{f.num(row.get('chisq'), 1)} ({f.int(row.get('df'))})",
                    "cfi": f.num(row.get("cfi"), 3), "rmsea": f.num(row.get("rmsea"), 3),
                    "srmr": f.num(row.get("srmr"), 3),
                    "dcfi": f.num(row.get("delta_cfi"), 3) if row.get("delta_cfi") is not None else "",
                    "drmsea": f.num(row.get("delta_rmsea"), 3) if row.get("delta_rmsea") is not None else "",
                    "holds": "" if row.get("chen_2007") is None else (t["word_yes"] if row["chen_2007"] else t["word_no"]),
                    "fails": row.get("chen_2007") is False,
                })
            entry["tables"].append({"scale": name if name != "model" else "", "rows": rows, "skipped": ""})
        flagged = inv.get("flagged") or []
        entry["flagged"] = (t["non_invariant_items"].format(items=", ".join(flagged)) if flagged
                            else t["no_non_invariant"])
        entry["tests"] = [{"item": x["item"], "param": x["parameter"], "group": x["group"],
                           "ref": x["reference_group"], "x2": f.num(x["X2"], 2),
                           "p": f.p(x["p_adj"]),
                           # the test that set its item aside: flagged item, significant test
                           "flag": x["flagged"] and x["p_adj"] is not None
                           and x["p_adj"] < inv.get("alpha", 0.05)}
                          for x in inv.get("score_tests", [])]
        inv_view.append(entry)
    from psychometrics.invariance import CHEN_2007
    invariance = {"groups": inv_view, "interp": t["interp_invariance"].format(
        min=f.int(R.MIN_GROUP_SIZE.value), min_source=R.MIN_GROUP_SIZE.source,
        cfi=f.num(-CHEN_2007["delta_cfi"], 3), rmsea=f.num(CHEN_2007["delta_rmsea"], 3),
        srmr_m=f.num(CHEN_2007["delta_srmr_metric"], 3), srmr_s=f.num(CHEN_2007["delta_srmr_scalar"], 3),
        rows=f.int(R.INVARIANCE_ROWS_PER_ITEM.value))}

    # ---------------------------------------------------------- actions
    revise, review = [], []
    for i in r["item_order"]:
        fls = item_flags.get(i, [])
        rv = [fl for fl in fls if fl["reason"] in REVISE]
        rw = [fl for fl in fls if fl["reason"] in REVIEW]
        if rv:
            revise.append({"item": i, "text": label(i),
                           "reasons": [{"code": fl["reason"], "why": why(fl)} for fl in rv]})
        if rw:
            review.append({"item": i, "text": label(i),
                           "reasons": [{"code": fl["reason"], "why": why(fl)} for fl in rw]})
    not_ready = {}
    for fl in r["flags"]["scales"]:
        not_ready.setdefault(fl["scale"], []).append({"code": fl["reason"], "why": why(fl)})
    actions = {
        "revise": revise, "review": review,
        "scales": [{"scale": scale_name(k), "reasons": x} for k, x in not_ready.items()],
        "respondents": _options((t["respondents_summary_kept"] if not left_out
                                 else t["respondents_summary_all_out"] if len(left_out) == len(by_resp)
                                 else t["respondents_summary"]).format(
            n=f.int(len(by_resp)), excluded=f.int(len(left_out)),
            others=f.int(len(by_resp) - len(left_out)))) if by_resp else "",
    }

    # ---------------------------------------------------------- glance, notes
    n_ready = sum(1 for e in r["scales"].values() if e.get("ready", True))
    glance = [
        t["glance_n"].format(n=f.int(n), k=f.int(r["n_items"]), s=f.int(len(r["scales"])),
                             received=f.int(received)),
        t["glance_ready"].format(ready=n_ready, total=len(r["scales"])),
        t["glance_items"].format(revise=len(revise), review=len(review)),
        t["glance_resp"].format(n=f.int(len(by_resp)), excluded=f.int(len(left_out)))
        if left_out else t["glance_resp_kept"].format(n=f.int(len(by_resp))),
    ]
    if cfa:
        ok = all(x is not False for x in cfa["meets"].values())
        glance.append(t["glance_fit"].format(verdict=t["meets_all"] if ok else t["misses_some"]))
    symbol = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}
    thresholds = [{"name": x.name, "rule": f"{symbol[x.rule]} {f.num(x.value, 2) if x.value < 1 else f.num(x.value, 0)}",
                   "source": x.source} for x in th.values()]
    src = source or {}
    return {
        "lang": lang, "t": t, "version": __version__,
        "meta": [(t["data_file"], src.get("data", "")),
                 *([(t["form_label"], src["form"])] if src.get("form") else []),
                 *([(t["keys_label"], src["keys"])] if src.get("keys") else [])],
        "glance": glance, "sample": sample, "items": items, "reliability": reliability,
        "factorability": factorability, "efa": efa_view, "cfa": cfa_view, "validity": validity,
        "invariance": invariance, "actions": actions,
        "notes": r.get("notes") or [], "thresholds": thresholds,
    }


def _p_eq(p: str) -> str:
    return p if p.startswith("<") else "= " + p


# --------------------------------------------------------------------------- render


def render_html(validation, *, lang: str = "fr", source: dict | None = None) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script).

    ``source`` may give ``data``, ``form`` or ``keys`` (file names shown in the header)
    and ``scale_kinds`` (scale -> "facet"/"construct"...). Example::

        html = render_html(pm.validate(df, keys), lang="en", source={"data": "survey.csv"})
    """
    import markupsafe

    from instrument import plots
    from instrument.resources import environment, templates_dir

    if lang not in LANGS:
        raise ValueError(f"The 'lang' parameter of render_html must be one of {', '.join(LANGS)}; got {lang!r}.")
    view = _view(validation, lang, source=source)
    t = view["t"]
    figs = {}
    for name, fn in (("items", plots.item_distributions), ("scree", plots.scree),
                     ("efa", plots.efa_heatmap), ("cfa", plots.cfa_loadings)):
        svg = fn(validation.results, lang=lang, text=t)
        figs[name] = markupsafe.Markup(svg) if svg else None
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    return environment().get_template("report.html.j2").render(**view, figs=figs, css=markupsafe.Markup(css))


def render_pdf(html: str) -> bytes:
    """The HTML report laid out by WeasyPrint (no network: only ``data:`` URLs).

    The inline SVG figures become ``<img>`` with ``data:`` URLs first: same drawing, but
    WeasyPrint then does not run the CSS cascade over every SVG element (faster).
    """
    import base64
    import re

    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    def as_img(m):
        svg = m.group(0)
        label = re.search(r'aria-label="([^"]*)"', svg)
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        return (f'<img class="figure-svg" alt="{label.group(1) if label else ""}" '
                f'src="data:image/svg+xml;base64,{data}">')

    html = re.sub(r'<svg role="img".*?</svg>', as_img, html, flags=re.S)
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=["data"])).write_pdf(pdf_tags=True)


# --------------------------------------------------------------------------- input


def _check_items(df, items, path) -> None:
    missing = [i for i in items if i not in df.columns]
    if missing:
        more = f" (and {len(missing) - 5} more)" if len(missing) > 5 else ""
        raise InputError(f"{path}: item column(s) {', '.join(map(repr, missing[:5]))}{more} not found; "
                         f"the data has columns {', '.join(map(repr, list(df.columns)[:10]))}"
                         f"{'...' if df.shape[1] > 10 else ''}.")
    import pandas as pd

    for i in items:
        col = df[i]
        if not pd.api.types.is_numeric_dtype(col):
            bad = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
            if len(bad):
                raise InputError(f"{path}: column {i!r} must hold numeric answer codes; row "
                                 f"{bad.index[0] + 2 if isinstance(bad.index[0], int) else bad.index[0]} "
                                 f"holds {str(bad.iloc[0])[:40]!r}.")


# --------------------------------------------------------------------------- command


def validate_command(data, *, out, form=None, keys=None, groups=(), lang="fr", console=None,
                     n_boot: int | None = None, seed: int = 1, exclude_careless: bool = True,
                     clusters=()) -> int:
    """The ``intangibles validate`` command; returns the exit code (0 done, 1 a problem in
    the input files, 2 bad usage). ``exclude_careless=False`` (``--keep-careless``) keeps
    the straightliners and low-variability respondents in the analyses (see
    :func:`psychometrics.report.validate`). ``clusters`` (``--cluster``, innermost first)
    override the keys' ``cluster``."""
    from rich.console import Console

    console = console or Console()
    try:
        return _run(data, out=out, form=form, keys=keys, groups=list(groups or []), lang=lang,
                    console=console, n_boot=n_boot, seed=seed, exclude_careless=exclude_careless,
                    clusters=list(clusters or []))
    except (InputError, DataError) as e:
        console.print(f"[red]error:[/red] {e}", highlight=False, soft_wrap=True, markup=True)
        return e.status


def _run(data, *, out, form, keys, groups, lang, console, n_boot, seed, exclude_careless,
         clusters=()) -> int:
    import pandas as pd
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from instrument.files import atomic_path
    from psychometrics.errors import PsychometricsError
    from psychometrics.report import N_BOOT, validate

    if lang not in LANGS:
        raise InputError(f"--lang must be one of {', '.join(LANGS)}; got {lang!r}.", 2)
    if (form is None) == (keys is None):
        raise InputError("give exactly one of --form FORM.yaml or --keys KEYS"
                         + ("; got both." if form is not None else "; got neither."), 2)
    path = Path(data)
    from instrument.files import OutputError, check_output

    others = [x for x in (form, keys) if x is not None]
    try:  # the output folder is checked before the work, not after it
        check_output(out, inputs=[path, *others], folder=True)
    except OutputError as exc:
        raise InputError(str(exc), exc.status) from None
    df = read_data(path)
    source = {"data": path.name}
    labels: dict = {}
    model = None
    if form is not None:
        from instrument.form import FormError, load_form

        try:
            loaded = load_form(form)
        except FormError as exc:
            for problem in exc.problems:
                console.print(f"[red]{problem}[/red]", highlight=False, markup=True)
            return 1
        except OSError as e:
            raise InputError(f"{form}: cannot read the form spec ({e}).") from e
        items = list(loaded.item_ids)
        _check_items(df, items, path)
        rs = loaded.response_set
        codes = list(rs.missing_codes)
        values = df[items].apply(pd.to_numeric, errors="coerce").astype("float64")
        df = df.copy()
        df[items] = values.where(~values.isin(codes))
        kept = [s for s in loaded.scales if s.kind in ("facet", "construct")]
        key_doc = {"scales": {s.name: list(s.keys) for s in kept}, "min": rs.low, "max": rs.high}
        if "respondent" in df.columns:
            key_doc["id"] = "respondent"
        model = {s.name: list(s.items) for s in kept if s.kind == "facet"} or None
        labels = {i: dict(loaded.texts[i]) for i in items}
        labels.update({s.name: dict(s.label) for s in kept if s.label})
        source["form"] = Path(form).name
        source["scale_kinds"] = {s.name: s.kind for s in kept}
        keys_arg = key_doc
    else:
        from psychometrics.keys import KeysError, load_keys

        try:
            k = load_keys(keys, columns=list(df.columns))
        except KeysError as exc:
            raise InputError(str(exc)) from exc
        except PsychometricsError as exc:
            raise InputError(f"{keys}: {exc}") from exc
        _check_items(df, list(k.items), path)
        source["keys"] = Path(keys).name
        keys_arg = k
    for g, option in [(g, "--group") for g in groups] + [(c, "--cluster") for c in clusters]:
        if g not in df.columns:
            raise InputError(f"{path}: no {option[2:]} column {g!r} ({option}); the data has columns "
                             f"{', '.join(map(repr, list(df.columns)[:12]))}{'...' if df.shape[1] > 12 else ''}.")
    out = Path(out)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("validation", total=None)

        def step(name):
            bar.update(task, description=f"validation: {name}")

        try:
            result = validate(df, keys_arg, groups=groups, clusters=clusters or None,
                              labels=labels, model=model,
                              n_boot=n_boot or N_BOOT, seed=seed,
                              exclude_careless=exclude_careless, progress=step)
        except PsychometricsError as exc:
            raise InputError(f"{path}: {exc}") from exc
        step("report.html")
        html = render_html(result, lang=lang, source=source)
        step("report.pdf")
        pdf = render_pdf(html)
    out.mkdir(parents=True, exist_ok=True)
    files = {"report.html": html.encode("utf-8"), "report.pdf": pdf,
             "results.json": (json.dumps(result.results, ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")}
    for name, content in files.items():
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(content)
    console.print(result.summary(), markup=False, highlight=False)
    console.print(f"Rapport / report: {out / 'report.html'}  (PDF: {out / 'report.pdf'}, "
                  f"numbers: {out / 'results.json'})", markup=False, highlight=False, soft_wrap=True)
    return 0
