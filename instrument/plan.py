"""Planning a study: ``intangibles plan SPEC --n 100,150,200 --reps 500 --out DIR``.

SPEC is a form spec (its measurement model: one factor per facet, see
:func:`instrument.simulate.population`) or a model file (YAML with ``factors:``, the fields
of :class:`psychometrics.Population`). A design file (``--design``, YAML) changes the
model: any field of :class:`instrument.simulate.Design` for a form (``loading``,
``weak_items``, ``non_invariant: [item, group, value, shift]``, ``careless``...), any
field of the population (``cluster``, ``cluster_size``, ``icc``, ``missing``...), and the
run: ``analyses`` (default ``cfa, alpha, omega``, plus ``invariance`` when an item is
planted non-invariant), ``alpha`` (test level) and ``fiml`` (true: ML fits on every row by
full-information ML, instead of complete rows).

:func:`psychometrics.monte_carlo` runs the replications in local processes, or on a Dask
cluster with ``--scheduler``. Three files are written atomically in DIR: ``report.html``
(self-contained, French or English), ``power.svg`` and ``results.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import yaml

from instrument.typography import say

__all__ = ["load_plan", "plan_command", "render_html"]

RUN_KEYS = ("analyses", "alpha", "fiml")
CLOSE_FIT = (0.05, 0.08)  # the analytic test of close fit shown beside the Monte Carlo


class PlanError(Exception):
    """A problem with the command's input files or options (the message names the file)."""


def _read_yaml(path: Path, what: str) -> dict:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PlanError(f"{what} {path}: cannot be read ({exc.__class__.__name__}: {exc}).") from exc
    if not isinstance(data, dict):
        raise PlanError(f"{what} {path}: expected a mapping of keys (YAML), got {type(data).__name__}.")
    return data


def load_plan(spec: Path, design_file: Path | None = None):
    """The population and run options of SPEC (form spec or model file) and a design file.

    Returns ``(population, options, label)``; ``options`` holds the run options
    (``analyses``, ``alpha``, ``fiml``) and, for a form, ``labels``: scale -> {fr, en}.
    """
    from psychometrics import Population, PsychometricsError

    design = _read_yaml(design_file, "Design file") if design_file else {}
    options = {k: design.pop(k) for k in RUN_KEYS if k in design}
    pop_fields = {f.name for f in dataclasses.fields(Population)}
    raw = _read_yaml(spec, "Spec")
    if "factors" in raw:  # a model file
        unknown = sorted(set(raw) - pop_fields)
        if unknown:
            raise PlanError(f"Model file {spec}: unknown key(s) {unknown}; allowed: {sorted(pop_fields)}.")
        raw.update(design)
        label = Path(spec).name
        kwargs = raw
    else:
        from instrument.form import FormError, load_form
        from instrument.simulate import Design, population

        try:
            form = load_form(spec)
        except FormError as exc:
            raise PlanError("\n".join(str(p) for p in exc.problems)) from exc
        design_fields = {f.name for f in dataclasses.fields(Design)}
        unknown = sorted(set(design) - design_fields - pop_fields)
        if unknown:
            raise PlanError(f"Design file {design_file}: unknown key(s) {unknown}.")
        nested = sorted(set(design) & {"consortium_icc", "organization_icc", "consortia", "organizations"})
        if nested:  # Design fields that population() does not carry: refused, not ignored
            raise PlanError(f"Design file {design_file}: {nested} nest simulated workbooks (intangibles "
                            "simulate); the planner's clusters are 'cluster', 'cluster_size' and 'icc'.")
        if "non_invariant" in design:
            design["non_invariant"] = tuple(design["non_invariant"])
        given = {k: (tuple(v) if isinstance(v, list) else v) for k, v in design.items() if k in design_fields}
        base = population(form, Design(**given))
        kwargs = {**dataclasses.asdict(base), **{k: v for k, v in design.items() if k in pop_fields - design_fields}}
        label = f"{form.id} {form.version}"
        options["labels"] = {sc.name: dict(sc.label) for sc in form.scales if sc.label}
    if kwargs.get("non_invariant") and isinstance(kwargs["non_invariant"][0], str):
        kwargs["non_invariant"] = [kwargs["non_invariant"]]
    kwargs["non_invariant"] = tuple(tuple(e) for e in kwargs.get("non_invariant") or ())
    try:
        pop = Population(**kwargs)
        pop.check()
    except (TypeError, PsychometricsError) as exc:
        raise PlanError(f"{spec}: {exc}") from exc
    options.setdefault("analyses", ["cfa", "alpha", "omega"] + (["invariance"] if pop.non_invariant else []))
    return pop, options, label


def _cfa_df(pop) -> int:
    p, k = len(pop.items), len(pop.factors)
    return p * (p + 1) // 2 - ((p - k) + p + k + k * (k - 1) // 2)


def _clean(value):
    """JSON-ready: NaN -> null, numpy scalars -> Python, keys -> str."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def results_dict(mc, label: str, where: dict, labels: dict | None = None) -> dict:
    """Everything the report shows, as plain JSON (``results.json``)."""
    import psychometrics as pm

    pop, plan = mc.plan.population, mc.plan
    df = _cfa_df(pop)
    analytic = None
    if df >= 1:
        analytic = {
            "df": df, "rmsea0": CLOSE_FIT[0], "rmsea1": CLOSE_FIT[1], "alpha": plan.alpha,
            "power": {n: pm.power(df=df, n=n, rmsea0=CLOSE_FIT[0], rmsea1=CLOSE_FIT[1], alpha=plan.alpha).power
                      for n in plan.ns},
            "n_for_80": pm.power_n(df=df, power=0.80, rmsea0=CLOSE_FIT[0], rmsea1=CLOSE_FIT[1], alpha=plan.alpha),
        }
    return _clean({
        "input": label, "where": where, "seed": plan.seed, "reps": plan.reps, "ns": list(plan.ns),
        "analyses": list(plan.analyses), "alpha": plan.alpha, "fiml": plan.fiml,
        "population": dataclasses.asdict(pop), "labels": labels or {}, "truth": mc.truth, "summary": mc.summary,
        "analytic": analytic,
    })


def plan_command(spec, *, ns, reps, out, design=None, scheduler=None, seed=1, lang="fr",
                 processes=None, console=None) -> int:
    """The ``intangibles plan`` command; returns the exit status."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    import psychometrics as pm
    from instrument.files import write_text

    console = console or Console()
    if lang not in ("fr", "en"):
        say(console, f"--lang doit être fr ou en ; reçu {lang!r}.",
            f"--lang must be fr or en; got {lang!r}.", style="red")
        return 2
    try:
        sizes = [int(x) for x in str(ns).split(",") if x.strip()]
    except ValueError:
        say(console, f"--n : des tailles séparées par des virgules (100,150,200) ; reçu {ns!r}.",
            f"--n must be sizes separated by commas (100,150,200); got {ns!r}.", style="red")
        return 2
    try:
        pop, options, label = load_plan(Path(spec), Path(design) if design else None)
        labels = options.pop("labels", {})
    except PlanError as exc:
        console.print(str(exc), style="red", markup=False, highlight=False)
        return 1
    where = {"scheduler": scheduler, "processes": processes}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("Monte Carlo", total=len(sizes) * reps)
            mc = pm.monte_carlo(pop, sizes, reps, seed=seed, processes=processes, scheduler=scheduler,
                                progress=lambda done, total: bar.update(task, completed=done), **options)
    except pm.PsychometricsError as exc:
        console.print(f"{exc.code}: {exc}", style="red", markup=False, highlight=False)
        return 2
    results = results_dict(mc, label, where, labels)
    out = Path(out)
    svg = power_svg(results, lang)
    write_text(out / "results.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_text(out / "power.svg", svg)
    write_text(out / "report.html", render_html(results, lang, svg))
    k = len(sizes) * reps
    say(console, f"{k} réplications ; report.html, power.svg et results.json écrits",
        f"{k} replications; report.html, power.svg and results.json written", tail=f" -> {out}/")
    return 0


# ---------------------------------------------------------------- the report


def strings(lang: str) -> dict:
    from instrument.typography import strings as typeset

    return typeset(lang, "plan_strings.yaml")


def _num(v, digits: int, lang: str) -> str:
    from instrument.typography import Typography

    return Typography(lang, na="–").num(v, digits)


def _pct(v, lang: str) -> str:
    from instrument.typography import Typography

    return Typography(lang, na="–").pct(None if v is None else 100 * v, 0)


def _scale(results: dict, scale: str, lang: str) -> str:
    from instrument.typography import Typography

    return Typography(lang, {"scale": results.get("labels") or {}}).label("scale", scale)


def power_curves(results: dict, t: dict) -> list[tuple[str, list]]:
    """The rejection-rate series to draw: (label, [rate per N])."""
    ns, summ = results["ns"], results["summary"]
    series = []
    for key, label in (("cfa", t["curve_cfa"]), ("cfa_wlsmv", t["curve_wlsmv"])):
        if key in results["analyses"]:
            series.append((label, [summ[str(n)][key]["reject"] for n in ns]))
    for key, test in (("invariance", "scalar_reject"), ("invariance_wlsmv", "intercepts_reject")):
        if key not in results["analyses"]:
            continue
        suffix = t["wlsmv_suffix"] if key == "invariance_wlsmv" else ""
        series.append((t["curve_scalar"] + suffix, [summ[str(n)][key][test] for n in ns]))
        for item in summ[str(ns[0])][key]["detect"]:
            series.append((t["curve_detect"].format(item=item) + suffix,
                           [summ[str(n)][key]["detect"][item] for n in ns]))
    if results["analytic"]:
        series.append((t["curve_analytic"], [results["analytic"]["power"][str(n)] for n in ns]))
    return series


def power_svg(results: dict, lang: str) -> str:
    from instrument.plots import rate_curves

    t = strings(lang)
    return rate_curves(results["ns"], power_curves(results, t), lang=lang, xlabel=t["axis_n"],
                       ylabel=t["axis_rate"], title=t["fig_power"], marks=(0.05, 0.80))


def _first_n(ns, values, ok) -> int | None:
    return next((n for n, v in zip(ns, values, strict=True) if v is not None and ok(v)), None)


def _glance(results: dict, t: dict, lang: str) -> list[str]:
    ns, summ, lines = results["ns"], results["summary"], []
    for key in ("invariance", "invariance_wlsmv"):
        if key not in results["analyses"]:
            continue
        for item in summ[str(ns[0])][key]["detect"]:
            n = _first_n(ns, [summ[str(m)][key]["detect"][item] for m in ns], lambda v: v is not None and v >= 0.8)
            name = item + (t["wlsmv_suffix"] if key == "invariance_wlsmv" else "")
            lines.append(t["glance_detect"].format(item=name, n=n) if n else t["glance_detect_none"].format(item=name, n=ns[-1]))
    if "alpha" in results["analyses"]:
        widths = [max((s["width"] for s in summ[str(n)]["alpha"].values() if s.get("width") is not None), default=None)
                  for n in ns]
        n = _first_n(ns, widths, lambda v: v <= 0.10)
        lines.append(t["glance_alpha"].format(n=n) if n else t["glance_alpha_none"].format(n=ns[-1]))
    for key in ("cfa", "cfa_wlsmv"):
        if key in results["analyses"]:
            conv = min(summ[str(n)][key]["converged"] for n in ns)
            lines.append(t["glance_converged"].format(model=t[f"col_{key}"], pct=_pct(conv, lang)))
    if results["analytic"]:
        a = results["analytic"]
        lines.append(t["glance_analytic"].format(df=a["df"], n=a["n_for_80"]))
    return lines


def _fit_rows(results: dict, t: dict, lang: str) -> tuple[list[str], list[list[str]]]:
    """One row per measure, one column per N."""
    ns, summ, a = results["ns"], results["summary"], results["analyses"]
    rows = []

    def add(label, values):
        rows.append([label, *values])

    for key in ("cfa", "cfa_wlsmv"):
        if key in a:
            model = t[f"col_{key}"]
            add(f"{model} · {t['col_converged']}", [_pct(summ[str(n)][key]["converged"], lang) for n in ns])
            add(f"{model} · {t['col_rows_used']}", [_num(summ[str(n)][key].get("rows_used"), 0, lang) for n in ns])
            add(f"{model} · {t['col_reject']}", [_pct(summ[str(n)][key]["reject"], lang) for n in ns])
            add(f"{model} · {t['col_rmsea']}", [_num(summ[str(n)][key]["rmsea"], 3, lang) for n in ns])
            add(f"{model} · {t['col_loading_bias']}", [_pct(summ[str(n)][key]["loading_rel_bias"], lang) for n in ns])
            add(f"{model} · {t['col_loading_coverage']}",
                [_pct(summ[str(n)][key].get("loading_coverage"), lang) for n in ns])
            add(f"{model} · {t['col_loading_width']}",
                [_num(summ[str(n)][key].get("loading_ci_width"), 2, lang) for n in ns])
    for key, tests in (("invariance", ("metric_reject", "scalar_reject")),
                       ("invariance_wlsmv", ("loadings_reject", "intercepts_reject"))):
        if key not in a:
            continue
        inv = {n: summ[str(n)][key] for n in ns}
        suffix = t["wlsmv_suffix"] if key == "invariance_wlsmv" else ""
        add(t["col_inv_converged"] + suffix, [_pct(inv[n]["converged"], lang) for n in ns])
        for test, col in zip(tests, ("col_metric", "col_scalar"), strict=True):
            add(t[col] + suffix, [_pct(inv[n][test], lang) for n in ns])
        for item in inv[ns[0]]["detect"]:
            add(t["col_detect"].format(item=item) + suffix, [_pct(inv[n]["detect"][item], lang) for n in ns])
        add(t["col_false_flag"] + suffix, [_pct(inv[n]["false_flag"], lang) for n in ns])
    if results["analytic"]:
        add(t["col_analytic"], [_pct(results["analytic"]["power"][str(n)], lang) for n in ns])
    return ["", *(f"N = {n}" for n in ns)], rows


def _reliability_rows(results: dict, t: dict, lang: str) -> list[list[str]]:
    rows = []
    for n in results["ns"]:
        s = results["summary"][str(n)]
        for scale in results["population"]["factors"]:
            a, o = s.get("alpha", {}).get(scale), s.get("omega", {}).get(scale)
            if not a and not o:
                continue
            row = [str(n), _scale(results, scale, lang)]
            row += [_num(a["mean"], 3, lang), _num(a["truth"], 3, lang), _pct(a["rel_bias"], lang),
                    _pct(a.get("coverage"), lang), _num(a.get("width"), 3, lang)] if a else ["–"] * 5
            row += [_num(o["mean"], 3, lang), _pct(o["rel_bias"], lang)] if o else ["–"] * 2
            rows.append(row)
    return rows


def _where(where: dict, t: dict) -> str:
    if where.get("scheduler"):
        return t["where_dask"].format(address=where["scheduler"])
    return t["where_local"].format(processes=where.get("processes") or t["all_cores"])


def _icc_rows(results: dict, lang: str) -> list[list[str]]:
    if "icc" not in results["analyses"]:
        return []
    rows = []
    for n in results["ns"]:
        for scale, c in results["summary"][str(n)]["icc"].items():
            rows.append([str(n), _scale(results, scale, lang), _num(c["mean"], 3, lang), _num(c["truth"], 3, lang), _pct(c["rel_bias"], lang),
                         _pct(c.get("coverage"), lang), _num(c.get("width"), 3, lang)])
    return rows


def render_html(results: dict, lang: str = "fr", svg: str | None = None) -> str:
    """The self-contained HTML report of a plan (from ``results.json`` alone)."""
    from instrument import __version__
    from instrument.resources import environment, templates_dir

    t = strings(lang)
    head, rows = _fit_rows(results, t, lang)
    meta = [(t["meta_input"], results["input"]), (t["meta_reps"], str(results["reps"])),
            (t["meta_ns"], ", ".join(map(str, results["ns"]))), (t["meta_seed"], str(results["seed"])),
            (t["meta_where"], _where(results["where"], t)), (t["meta_alpha"], _num(results["alpha"], 2, lang))]
    meta.append((t["meta_missing"], t["missing_fiml"] if results.get("fiml") else t["missing_listwise"]))
    pop = results["population"]
    if pop.get("cluster"):
        size = pop["cluster_size"]
        meta.append((t["meta_clusters"], t["clusters_line"].format(
            size=size, counts=", ".join(str(-(-n // size)) for n in results["ns"]), icc=_num(pop["icc"], 2, lang))))
    return environment().get_template("plan.html.j2").render(
        lang=lang, t=t, version=__version__, css=(templates_dir() / "report.css").read_text(encoding="utf-8"),
        meta=meta, glance=_glance(results, t, lang), svg=svg or power_svg(results, lang),
        fit_head=head, fit_rows=rows, rel_rows=_reliability_rows(results, t, lang), icc_rows=_icc_rows(results, lang),
        analyses=", ".join(results["analyses"]),
    )
