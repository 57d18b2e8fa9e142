"""The validation report: ``intangibles validate DATA (--form FORM.yaml | --keys KEYS) --out DIR``.

:func:`validate_command` reads the data (.csv, .xlsx, .parquet, .sav), takes the scales,
the item texts and the missing codes from the form spec (or the scales from a psych-style
keys file), runs :func:`psychometrics.report.validate`, and writes three files atomically:

* ``report.html``: one self-contained page (inline CSS and SVG figures, no script, no
  network), in French or English;
* ``report.pdf``: the same HTML laid out by WeasyPrint;
* ``results.json``: every number (the contract in DESIGN.md).

:func:`render_html` draws the report from a :class:`~psychometrics.report.Validation`
alone, so a report can be re-drawn from ``results.json``: one section after another
(:mod:`instrument.sections`, each a view model + a template partial), every number, space
and label through one :class:`~instrument.typography.Typography`. Everything that comes from the
data or the spec (item texts, group values, respondent codes) is escaped (jinja2
autoescape; matplotlib escapes the text of the SVG figures).
"""

from __future__ import annotations

import json
from pathlib import Path

from instrument.datafile import DataError, read_data
from instrument.typography import LANGS, Typography, bilingual, say, strings

__all__ = ["LANGS", "group_labels", "read_data", "render_html", "render_pdf", "validate_command"]



class InputError(Exception):
    """A problem with the command's input files or options (message names the file/column)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------- render


def render_html(validation, *, lang: str = "fr", source: dict | None = None, figures: bool = True) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script).

    Built from the sections of :mod:`instrument.sections` over ``validation.results``.
    ``source`` may give ``data``, ``form`` or ``keys`` (file names shown in the header),
    ``scale_kinds`` (scale -> "facet"/"construct"...) and ``labels`` by kind (``group``,
    ``level``) added to the validation's own labels. Example::

        html = render_html(pm.validate(df, keys), lang="en", source={"data": "survey.csv"})
    """
    import markupsafe

    from instrument import __version__, sections
    from instrument.resources import environment, templates_dir
    from instrument.sections import cover
    from instrument.typography import Typography, strings

    if lang not in LANGS:
        raise ValueError(f"The 'lang' parameter of render_html must be one of {', '.join(LANGS)}; got {lang!r}.")
    source = dict(source or {})
    t = strings(lang)
    labels = {**(validation.labels or {}), **(source.get("labels") or {})}
    cell = validation.results["thresholds"].get("cell", {}).get("value", 5)
    typo = Typography(lang, labels, na=t["na"], min_cell=int(cell))
    ctx = sections.Context(typo=typo, t=t, results=validation.results, source=source, figures=figures)
    built = sections.build_all(validation.results, ctx)
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    return environment().get_template("report.html.j2").render(
        lang=lang, t=t, typo=typo, version=__version__, cover=cover.build(validation.results, ctx, built),
        sections=built, css=markupsafe.Markup(css))


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


# --------------------------------------------------------------------------- command


def _ties(path):
    from instrument.network_report import NetworkInputError, read_ties

    try:
        return read_ties(path)
    except NetworkInputError as e:
        raise InputError(str(e)) from e


def validate_command(data, *, out, form=None, keys=None, groups=(), lang="fr", console=None,
                     n_boot: int | None = None, seed: int = 1, exclude_careless: bool = True,
                     clusters=(), ties=None) -> int:
    """The ``intangibles validate`` command; returns the exit code (0 done, 1 a problem in
    the input files, 2 bad usage). ``exclude_careless=False`` (``--keep-careless``) keeps
    the straightliners and low-variability respondents in the analyses (see
    :func:`psychometrics.report.validate`). ``clusters`` (``--cluster``, innermost first)
    override the keys' ``cluster``; with a form and no ``--cluster``, the form's
    organization and consortium context questions are the levels (:func:`form_clusters`),
    and ``results["clusters"]["origin"]`` says which (``option``, ``keys`` or ``form``). ``ties`` (``--ties``): a ties file (``from``, ``to``
    organization codes) for the contagion analysis."""
    from rich.console import Console

    console = console or Console()
    try:
        return _run(data, out=out, form=form, keys=keys, groups=list(groups or []), lang=lang,
                    console=console, n_boot=n_boot, seed=seed, exclude_careless=exclude_careless,
                    clusters=list(clusters or []), ties=ties)
    except (InputError, DataError) as e:
        say(console, "erreur", "error", tail=f": {e}", style="red")
        return e.status


def _run(data, *, out, form, keys, groups, lang, console, n_boot, seed, exclude_careless,
         clusters=(), ties=None) -> int:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
    if path.suffix.lower() in (".csv", ".xlsx"):  # "row 7" in a message is the file's row 7 (header: row 1)
        df.index = range(2, len(df) + 2)
    source = {"data": path.name}
    origin = "option" if clusters else "keys"
    if form is not None:
        spec = _from_form(form, df, path, groups, console)
        if spec is None:
            return 1
        df, keys_arg, model, labels, more = spec
        source.update(more)
        if not clusters and more["form_clusters"]:  # the form's organization/consortium questions
            clusters, origin = list(more["form_clusters"]), "form"
    else:  # read and checked against the data's columns once, by validate
        keys_arg, model, labels = keys, None, {}
        source["keys"] = Path(keys).name
    for g, option in [(g, "--group") for g in groups] + [(c, "--cluster") for c in clusters]:
        if g not in df.columns:  # the options, named as the user typed them (the data: by validate)
            raise InputError(f"{path}: no {option[2:]} column {g!r} ({option}); the data has columns "
                             f"{', '.join(map(repr, list(df.columns)[:12]))}{'...' if df.shape[1] > 12 else ''}.")
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("validation", total=None)

        def step(name):
            fr = STEPS.get(name) or name.replace("invariance:", "invariance : ")
            bar.update(task, description=bilingual(f"validation : {fr}", f"validation: {name}"))

        try:
            result = validate(df, keys_arg, groups=groups, clusters=clusters or None,
                              ties=None if ties is None else _ties(ties),
                              labels=labels, model=model,
                              n_boot=n_boot or N_BOOT, seed=seed,
                              exclude_careless=exclude_careless, progress=step)
        except PsychometricsError as exc:
            raise InputError(f"{path}: {exc}") from exc
        if "clusters" in result.results:  # where the nesting levels came from
            result.results["clusters"]["origin"] = origin
        step("report.html")
        html = render_html(result, lang=lang, source=source)
        step("report.pdf")
        pdf = render_pdf(html)
    _write(Path(out), result, html, pdf, console)
    return 0


def _from_form(form, df, path, groups, console):
    """The data with missing codes as NA, the keys, the model, the labels and the source
    entries of a form spec; None when the spec is broken (its problems printed)."""
    import pandas as pd

    from instrument.form import FormError, load_form
    from psychometrics.keys import Keys

    try:
        loaded = load_form(form)
    except FormError as exc:
        for problem in exc.problems:
            console.print(str(problem), style="red", markup=False, highlight=False)
        return None
    except OSError as e:
        raise InputError(f"{form}: cannot read the form spec ({e}).") from e
    items = list(loaded.item_ids)
    rs = loaded.response_set
    df = df.copy()
    for i in (i for i in items if i in df.columns):  # the missing codes as NA
        df[i] = _without_missing_codes(df[i], rs.missing_codes)
    asked = {q.id: q for q in loaded.context_block}
    if "respondent_role" in asked and "respondent_role" in df.columns:  # by name (member...), for contagion
        q = asked["respondent_role"]
        df[q.id] = pd.to_numeric(df[q.id], errors="coerce").map({c.code: c.name for c in q.choices})
    elif "role" in asked and "role" in df.columns and "role" not in groups:
        # the form's "role" asks in what capacity one takes part, not the respondent's role
        # (member, colleague...): left out, so the contagion analysis does not read it as one
        df = df.drop(columns="role")
    kept = [s for s in loaded.scales if s.kind in ("facet", "construct")]
    key_doc = Keys(scales={s.name: tuple(s.keys) for s in kept}, min=rs.low, max=rs.high,
                   id="respondent" if "respondent" in df.columns else None, source=f"form spec {str(form)!r}")
    model = {s.name: list(s.items) for s in kept if s.kind == "facet"} or None
    labels = {i: dict(loaded.texts[i]) for i in items}
    labels.update({s.name: dict(s.label) for s in kept if s.label})
    source = {"form": Path(form).name, "scale_kinds": {s.name: s.kind for s in kept},
              "labels": group_labels(loaded, groups), "form_clusters": form_clusters(loaded, df)}
    for q in CLUSTER_QUESTIONS:  # the nesting levels by a short name, not the question's text
        source["labels"]["group"][q] = {lang: strings(lang)[f"nest_name_{q}"] for lang in LANGS}
    return df, key_doc, model, labels, source


#: The form's context questions that are nesting levels, innermost first.
CLUSTER_QUESTIONS = ("organization_id", "consortium_id")


def form_clusters(form, df) -> list[str]:
    """The nesting levels a form declares (its organization and consortium context
    questions, innermost first) that the data answer with at least two codes."""
    asked = {q.id for q in form.context_block}
    return [q for q in CLUSTER_QUESTIONS
            if q in asked and q in df.columns and df[q].dropna().nunique() >= 2]


def group_labels(form, groups) -> dict:
    """The labels of the group columns and of their values (as the scored table has them),
    by kind (``group``, ``level``), in every language: ``render_html(source={"labels": ...})``."""
    from instrument.scoring import table_labels
    from instrument.typography import strings

    out: dict = {"group": {}, "level": {}}
    for lang in LANGS:
        names, values = table_labels(form, lang, list(groups))
        t = strings(lang)
        for g in groups:
            if g in names:
                out["group"].setdefault(g, {})[lang] = names[g]
            for code, text in (values.get(g) or {}).items():
                out["level"].setdefault(str(code), {})[lang] = text
        for code in LANGS:  # the questionnaire's language, and a missing group value
            out["level"].setdefault(code, {})[lang] = t[f"language_{code}"]
        out["level"].setdefault("NA", {})[lang] = t["missing_value"]
    return out


def _without_missing_codes(column, missing_codes):
    """An item column as numbers with its missing codes (8, 9...) as NA; a column holding
    text that is not a number is left as it is, for validate to name the cell it refuses."""
    import pandas as pd

    numbers = pd.to_numeric(column, errors="coerce")
    blank = column.map(lambda v: isinstance(v, str) and not v.strip())
    if not (numbers.notna() | column.isna() | blank).all():
        return column
    return numbers.astype("float64").where(~numbers.isin(list(missing_codes)))


def _write(out: Path, result, html: str, pdf: bytes, console) -> None:
    """report.html, report.pdf and results.json, each written atomically."""
    from instrument.files import atomic_path

    out.mkdir(parents=True, exist_ok=True)
    files = {"report.html": html.encode("utf-8"), "report.pdf": pdf,
             "results.json": (json.dumps(result.results, ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")}
    for name, content in files.items():
        with atomic_path(out / name) as tmp:
            tmp.write_bytes(content)
    _print_summary(console, result.results, result.flags)
    say(console, "Rapport", "report", tail=f": {out / 'report.html'}")
    say(console, "PDF et chiffres", "PDF and numbers",
        tail=f": {out / 'report.pdf'}, {out / 'results.json'}")


#: The French names of the steps validate() reports as it goes (its progress display).
STEPS = {"sample": "échantillon", "reliability": "fidélité", "factorability": "factorisabilité",
         "dimensionality": "dimensionnalité", "efa": "AFE", "cfa": "AFC", "cfa:wlsmv": "AFC WLSMV",
         "nesting": "emboîtement", "flags": "signalements"}


def _print_summary(console, r: dict, flags: dict) -> None:
    """What validate prints (French first, then English, as Validation.summary() in
    English): the sample, each scale's alpha and omega, the CFA's fit, the flags."""
    fr, en = Typography("fr"), Typography("en")
    sample, n, k = r.get("sample") or {}, r["n"], len(r["scales"])
    received, left = sample.get("n_received", n), sample.get("n_excluded", 0)
    say(console, f"Validation de {k} échelle(s), {r['n_items']} items, n = {n}",
        f"Validation of {k} scale(s), {r['n_items']} items, n = {n}")
    if received != n:
        say(console, f"{received} réponses reçues, {left} écartée(s) pour inattention",
            f"{received} received, {left} careless respondent(s) left out", indent="  ")
    for name, s in r["scales"].items():
        codes = ", ".join(s.get("not_ready") or [])
        ready = s.get("ready", True)
        alpha, omega = s.get("alpha"), s.get("omega_total")
        say(console, f"{name:<22} alpha {fr.num(alpha, 3)}  oméga {fr.num(omega, 3)}"
            + ("" if ready else f"  PAS PRÊTE ({codes})"),
            f"alpha {en.num(alpha, 3)}  omega {en.num(omega, 3)}"
            + ("" if ready else f"  NOT READY ({codes})"), indent="  ")
    fit = (r.get("cfa") or {}).get("fit")
    if fit:
        indices = [("CFI", "cfi"), ("TLI", "tli"), ("RMSEA", "rmsea"), ("SRMR", "srmr")]
        say(console, "AFC : " + ", ".join(f"{label} {fr.num(fit.get(v), 3)}" for label, v in indices),
            "CFA: " + ", ".join(f"{label} {en.num(fit.get(v), 3)}" for label, v in indices),
            indent="  ")
    items, people = len(flags["items"]), len(flags["respondents"])
    scales = len({f["scale"] for f in flags["scales"]})
    say(console, f"signalements : {items} d'items, {people} de personnes, "
        f"{scales} échelle(s) pas prête(s)",
        f"item flags: {items}, respondent flags: {people}, scales not ready: {scales}", indent="  ")
