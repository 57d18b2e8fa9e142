"""The consortium feedback reports as files: one page per consortium, an index, a summary.

:func:`write_feedback` turns the numbers of :mod:`instrument.feedback` into, for each
consortium, ``<code>/feedback.html`` (self-contained: inline CSS and SVG),
``<code>/feedback.pdf`` (WeasyPrint, same HTML) and ``<code>/summary.json`` (the same
numbers as the page), then ``index.html`` and ``summary.csv``. Pages are rendered in
parallel processes (a hundred consortia in well under a minute). Every file is written
atomically; what a respondent typed never reaches a page (only codes and the form's texts).
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from instrument import feedback as fb
from instrument.typography import Typography, bilingual, say

__all__ = ["build_views", "feedback_command", "write_feedback"]

LANGS = ("fr", "en")


def strings(lang: str) -> dict:
    """The page's texts in ``lang``, typeset (Québec spaces in French)."""
    from instrument.typography import strings as typeset

    return typeset(lang, "feedback_strings.yaml")


# --------------------------------------------------------------------------- view models


def build_views(data: pd.DataFrame, study: fb.Study, by: str, *, lang: str = "fr", min_group: int = 5,
                names: dict | None = None, invited: dict | None = None) -> list[dict]:
    """One view model per consortium (suppressed ones carry only their code, n and reason)."""
    t = strings(lang)
    sizes = data[by].dropna().astype(str).value_counts(sort=False)
    keep = data[by].astype(str).isin(sizes[sizes >= min_group].index) & data[by].notna()
    reported = sorted(sizes[sizes >= min_group].index)
    frame = data[keep].assign(**{by: data.loc[keep, by].astype(str)})
    table = fb.profile(frame, study, by) if reported else pd.DataFrame()
    where = fb.positions(table, reported) if reported else pd.DataFrame()
    rates = fb.item_rates(frame, study, by) if reported else pd.DataFrame()
    taken: set = set()
    views = []
    single = study.consortium_name.get(lang) if len(sizes) == 1 else None  # the form names one consortium
    for code in sorted(sizes.index):
        base = {"code": code, "folder": fb.slug(code, taken), "n": int(sizes[code]), "invited": (invited or {}).get(code),
                "name": (names or {}).get(code) or single or code}
        if code not in reported:
            views.append({**base, "suppressed": t["index_reason"].format(min=min_group)})
            continue
        mine = frame[frame[by] == code]
        views.append({**base, "suppressed": None, **_numbers(code, table, where, rates, mine, study, t, lang, min_group)})
    return views


def _numbers(code, table, where, rates, mine, study, t, lang, min_group) -> dict:
    rows = table[table["group"] == code].set_index("scale")
    role = study.role or ("role" if "role" in mine.columns else None)
    pos = where[where["group"] == code].set_index("scale") if len(where) else None
    scales = [_scale_row(s, rows, pos, t, lang) for s in study.scales if s.name in rows.index]
    return {
        "scales": scales,
        "peers": int(where["group"].nunique()) if len(where) else 0,
        "items": _extremes(rates[rates["group"] == code], study, lang),
        "tangible": _tangible(rates[rates["group"] == code], study, lang),
        "roles": _roles(mine, role, study, lang, min_group),
    }


def _roles(mine, role, study, lang, min_group) -> list:
    """Role, count and typeset line per role; codes become the form's labels; "other" merges
    the small roles (count None when even merged it is under the minimum)."""
    if role not in mine.columns:
        return []
    codes = mine[role].map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v),
                           na_action="ignore")
    counts = fb.role_counts(codes, min_group)
    t, typo = strings(lang), Typography(lang, min_cell=min_group)  # member, colleague...: short plural names
    named = [(t.get("role_" + study.role_labels.get(r, {}).get("name", r))
              or study.role_labels.get(r, {}).get(lang, r), n) for r, n in counts]
    return [{"role": label, "n": n, "line": typo.text(t["role_line"].format(role=label, n=typo.cell(n)))}
            for label, n in named]


def _scale_row(scale, rows, pos, t, lang) -> dict:
    r = rows.loc[scale.name]
    p = pos.loc[scale.name] if pos is not None and scale.name in pos.index else None
    return {
        "name": scale.name, "kind": scale.kind, "drawback": scale.drawback,
        "label": scale.label.get(lang, scale.name), "n": int(r["n"]),
        "mean": float(r["mean"]), "sd": _num(r["sd"]), "ci_low": _num(r["ci_low"]), "ci_high": _num(r["ci_high"]),
        "share_agree": float(r["share_agree"]), "rwg_j": _num(r["rwg_j"]),
        "rwg_words": _rwg_words(r["rwg_j"], t),
        "percentile": _num(p["percentile"]) if p is not None else None,
        "position": _position_words(p["percentile"], t) if p is not None else None,
        "peers": {q: float(p[q]) for q in ("q0", "q1", "q2", "q3", "q4")} if p is not None else None,
    }


def _num(v):
    return None if pd.isna(v) else float(v)


def _rwg_words(value, t) -> str:
    if pd.isna(value):
        return t["rwg_none"]
    return t["rwg_strong"] if value > 0.70 else t["rwg_moderate"] if value >= 0.50 else t["rwg_weak"]


def _position_words(percentile, t) -> str:
    if percentile >= 0.75:
        return t["position_top"]
    if percentile >= 0.5:
        return t["position_upper"]
    return t["position_lower"] if percentile > 0.25 else t["position_bottom"]


def _extremes(rates, study, lang, k: int = 3) -> dict:
    """The k items with the highest and the lowest agreement (benefit and drawback items
    alike, tangible items apart), in full text."""
    rated = rates[~rates["item"].isin(study.tangible) & (rates["n"] > 0)].sort_values(["share_agree", "item"])
    rows = [{"item": r.item, "text": study.items.get(r.item, {}).get(lang, r.item), "share": float(r.share_agree),
             "reverse": r.item in study.reverse} for r in rated.itertuples()]
    k = min(k, len(rows) // 2)
    return {"high": rows[::-1][:k], "low": rows[:k]}


def _tangible(rates, study, lang) -> list[dict]:
    rated = rates[rates["item"].isin(study.tangible) & (rates["n"] > 0)]
    return [{"item": r.item, "text": study.items.get(r.item, {}).get(lang, r.item), "share": float(r.share_agree)}
            for r in rated.itertuples()]


# --------------------------------------------------------------------------- files


def summary_json(view: dict) -> dict:
    """The numbers of one page, as summary.json holds them."""
    if view["suppressed"]:
        return {k: view[k] for k in ("code", "name", "n", "invited", "suppressed")}
    keys = ("name", "kind", "n", "mean", "sd", "ci_low", "ci_high", "share_agree", "rwg_j", "percentile")
    return {"code": view["code"], "name": view["name"], "n": view["n"], "suppressed": None,
            "invited": view["invited"], "roles": [{"role": r["role"], "n": r["n"]} for r in view["roles"]],
            "scales": {s["name"]: {k: s[k] for k in keys if k != "name"} for s in view["scales"]},
            "items": view["items"], "tangible": view["tangible"]}


def summary_rows(views: list[dict]) -> pd.DataFrame:
    """summary.csv: one row per consortium and scale (one row, no scale, when suppressed)."""
    rows = []
    for v in views:
        if v["suppressed"]:
            rows.append({"consortium": v["code"], "n_respondents": v["n"], "suppressed": v["suppressed"]})
        for s in v.get("scales", []):
            rows.append({"consortium": v["code"], "n_respondents": v["n"], "scale": s["name"], "label": s["label"],
                         **{k: s[k] for k in ("n", "mean", "sd", "ci_low", "ci_high", "share_agree", "rwg_j",
                                              "percentile")}, "suppressed": ""})
    return pd.DataFrame(rows)


def render(view: dict, *, lang: str, study: fb.Study, min_group: int) -> str:
    """One consortium's page as self-contained HTML."""
    import markupsafe

    from instrument import __version__, plots
    from instrument.resources import environment, templates_dir

    t, typo = strings(lang), Typography(lang, min_cell=min_group)
    svg = None if view["suppressed"] else plots.profile_dots(view["scales"], low=study.low, high=study.high,
                                                             lang=lang, text=t)
    css = (templates_dir() / "feedback.css").read_text(encoding="utf-8")
    return environment().get_template("feedback.html.j2").render(
        v=view, t=t, lang=lang, typo=typo, low=typo.num(study.low, 0), high=typo.num(study.high, 0),
        agree=typo.num(study.agree, 0), min_group=min_group, version=__version__,
        fig=markupsafe.Markup(svg) if svg else None, css=markupsafe.Markup(css))


def _write_one(args) -> str:
    from instrument.files import write_bytes, write_text
    from instrument.validation import render_pdf

    view, folder, lang, study, min_group, pdf = args
    html = render(view, lang=lang, study=study, min_group=min_group)
    write_text(folder / "feedback.html", html)
    if pdf and not view["suppressed"]:
        write_bytes(folder / "feedback.pdf", render_pdf(html))
    write_text(folder / "summary.json", json.dumps(summary_json(view), ensure_ascii=False, indent=2))
    return view["code"]


def write_feedback(views: list[dict], out, *, lang: str, study: fb.Study, min_group: int, pdf: bool = True,
                   jobs: int = 0, progress=None) -> Path:
    """Write every page, then index.html and summary.csv into ``out``; returns ``out``."""
    import os

    from instrument.files import write_text
    from instrument.output import write_table
    from instrument.resources import environment, templates_dir

    out = Path(out)
    tasks = [(v, out / v["folder"], lang, study, min_group, pdf) for v in views]
    workers = min(jobs or os.cpu_count() or 1, max(1, len(tasks)))
    if workers == 1:
        for k, task in enumerate(tasks, 1):
            _write_one(task)
            progress and progress(k, len(tasks))
    else:
        with ProcessPoolExecutor(workers) as pool:
            for k, _ in enumerate(pool.map(_write_one, tasks), 1):
                progress and progress(k, len(tasks))
    css = (templates_dir() / "feedback.css").read_text(encoding="utf-8")
    import markupsafe

    index = environment().get_template("feedback_index.html.j2").render(
        views=views, t=strings(lang), lang=lang, css=markupsafe.Markup(css))
    write_text(out / "index.html", index)
    write_table(summary_rows(views), out / "summary.csv")
    return out


# --------------------------------------------------------------------------- command


def read_names(path) -> dict:
    """``--names``: a CSV with columns ``code`` and ``name`` (the consortium's name)."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"code", "name"} - set(table.columns)
    if missing:
        raise ValueError(f"{path}: the names file needs the columns code and name; missing {', '.join(sorted(missing))}.")
    return dict(zip(table["code"], table["name"], strict=True))


def read_roster(path, by: str) -> dict:
    """``--roster``: the people invited, one row each, with the grouping column: the
    response rate's denominator per consortium."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if by not in table.columns:
        raise ValueError(f"{path}: the roster needs a {by!r} column (the --by column); it has {', '.join(table.columns)}.")
    return table[by].value_counts().astype(int).to_dict()


def feedback_command(data, *, out, form=None, keys=None, by="consortium", lang="fr", min_group=5,
                     names=None, roster=None, console=None) -> int:
    """The ``intangibles feedback`` command; returns the exit code (0 done, 1 bad input)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from instrument.validation import InputError, read_data

    console = console or Console()
    try:
        frame = read_data(data)
        study = _study(form, keys)
        _check(frame, study, by, data)
        views = build_views(frame, study, by, lang=lang, min_group=min_group,
                            names=read_names(names) if names else None,
                            invited=read_roster(roster, by) if roster else None)
    except (InputError, ValueError) as e:
        say(console, "erreur", "error", tail=f": {e}")
        return 1
    with Progress(TextColumn("[bold]" + bilingual("Rapports", "reports")), BarColumn(),
                  MofNCompleteColumn(), console=console, transient=True) as bar:
        task = bar.add_task("write", total=len(views))
        write_feedback(views, out, lang=lang, study=study, min_group=min_group,
                       progress=lambda k, n: bar.update(task, completed=k, total=n))
    done = sum(not v["suppressed"] for v in views)
    say(console, f"{len(views)} consortium(s) : {done} rapport(s), {len(views) - done} masqué(s) "
        f"(moins de {min_group} personnes)", f"{len(views)} consortium(s): {done} report(s), "
        f"{len(views) - done} suppressed (fewer than {min_group} respondents).")
    say(console, "Index des rapports", "Index", tail=f": {Path(out) / 'index.html'}")
    return 0


def _study(form, keys) -> fb.Study:
    if (form is None) == (keys is None):
        raise ValueError("give exactly one of --form and --keys.")
    if form is not None:
        from instrument.form import load_form

        return fb.study_from_form(load_form(form))
    return fb.study_from_keys(keys)


def _check(frame, study, by, path) -> None:
    if by not in frame.columns:
        raise ValueError(f"{path}: no column {by!r} (the --by column); the data has {', '.join(map(str, frame.columns[:12]))}.")
    items = {k.lstrip("-") for v in study.keys.values() for k in v}
    missing = sorted(items - set(frame.columns))
    if missing:
        raise ValueError(f"{path}: item column(s) {', '.join(missing[:5])} not found.")
