"""``intangibles demo``: the three jobs on the embedded sample, end to end.

1. build the sample questionnaire (``data_samples/form_member.yaml``) in every format;
2. simulate returned workbooks from a known measurement model in which one item is weak,
   one item reads differently in English (its intercept is shifted: a non-invariant item),
   a few respondents straightline, and people are nested in organizations nested in five
   consortia (a share of each factor's variance between them); add the messy and foreign files of
   ``data_samples/returned/`` (a formula, a decimal, a workbook of another version...);
3. score the folder (every file accounted for in the log); then one response export from each
   survey platform (KoboToolbox, ODK Central, LimeSurvey, REDCap), scored on its own
   (``platforms/``: the files, their scores and log);
4. validate the scales, with invariance across languages, and write the report;
5. write one feedback report per consortium (``feedback/``).

What the demo plants is what the report should find: the weak item, the non-invariant
item, the straightliners, and the share of the scores that lies between consortia (the
report's "nesting" section: variance split, ICC(1), agreement; see ``DEMO_DESIGN``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from instrument.resources import samples_dir
from instrument.simulate import Design
from instrument.typography import Typography

__all__ = ["DEMO_DESIGN", "PLATFORM_N", "demo_command", "platform_exports"]

#: What the demo plants: a weak item, a non-invariant item (English), 4% straightliners, and
#: people nested in organizations nested in five consortia (C01-C05): 8% of each factor's
#: variance between consortia, 5% between organizations (the sample form does not ask the
#: organization, so the report counts that part with the people's). The report's scores
#: show a little less between consortia (answers in five categories, measurement error).
DEMO_DESIGN = Design(
    weak_items=("lepri5",),
    non_invariant=("trigi2", "lang", "en", 1.0),
    careless=0.04,
    careless_kinds=("straightlining",),
    consortium_icc=0.08,
    organization_icc=0.05,
)


#: Respondents in each platform's demo export (a few incomplete ones are planted in two of them).
PLATFORM_N = 20

_FR = Typography("fr")


def _line(fr: str, en: str, tail: str = "") -> str:
    """One console line, French first then English (``français / English``, as the CLI's
    help pairs them), then ``tail`` (a path, the same in both)."""
    return f"{_FR.text(fr)} / {en}{tail}"


def _say(console, fr: str, en: str, *, indent: str = "   ", tail: str = "") -> None:
    console.print(indent + _line(fr, en, tail), markup=False, highlight=False)


def _planted(console, sample, design: Design) -> None:
    """What the simulated workbooks hide, for the reader to find in the report."""
    item, _, lang, _ = design.non_invariant
    liners = len(sample.careless)
    c, o = design.consortium_icc, design.organization_icc
    lines = [
        _FR.text(f"Planté : item faible {design.weak_items[0]}, {item} non invariant ({lang}), {liners} en ligne droite"),
        f"Planted: weak item {design.weak_items[0]}, {item} non-invariant ({lang}), {liners} straightliners",
        f"Variance entre consortiums {_FR.pct(100 * c, 0)}, entre organismes {_FR.pct(100 * o, 0)} (non demandés)",
        f"Variance between consortia {c:.0%}, between organizations {o:.0%} (not asked)",
    ]
    for line in lines:
        console.print("   " + line, markup=False, highlight=False)


def platform_exports(form, out, *, seed: int, console) -> None:
    """One simulated response export per survey platform in ``out``, scored on its own: what a
    team that collected on Kobo, ODK, LimeSurvey or REDCap gets (``scores.xlsx``, ``scoring-log.csv``)."""
    from instrument.output import write_table
    from instrument.platforms import SOURCES, write_export
    from instrument.returns import read_returns
    from instrument.scoring import score_returns
    from instrument.simulate import simulate

    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for k, source in enumerate(SOURCES):
        sample = simulate(form, PLATFORM_N, seed=seed + 1 + k)
        planted = 2 if source in ("limesurvey", "redcap") else 0
        write_export(form, sample.responses, out / f"{form.id}_{source}.csv", source, incomplete=planted)
    returns = read_returns([out], form, jobs=1)
    table = score_returns(returns, form)
    write_table(table, out / "scores.xlsx")
    write_table(returns.log(), out / "scoring-log.csv")
    _say(console, "Exports des plateformes, cotés à part", "platform exports, scored apart",
         tail=f" -> {out}")
    for f in returns.files.itertuples():
        console.print(f"   {Path(f.file).name}: {f.message}", markup=False, highlight=False)
    _say(console, f"{len(table)} personnes (incomplètes écartées)",
         f"{len(table)} respondents (incomplete left out)", tail=f" -> {out / 'scores.xlsx'}")


def demo_command(out, *, n: int = 300, seed: int = 2026, console=None) -> int:
    """Run the demo into ``out``; returns the exit code."""
    from rich.console import Console
    from rich.markup import escape

    from instrument.export.build import build
    from instrument.feedback_report import feedback_command
    from instrument.form import load_form
    from instrument.output import write_table
    from instrument.returns import read_returns
    from instrument.scoring import score_returns, table_labels
    from instrument.simulate import simulate, write_workbooks
    from instrument.validation import validate_command

    console = console or Console()
    out = Path(out)
    spec = samples_dir() / "form_member.yaml"
    started = time.perf_counter()
    form = load_form(spec)

    def step(fr, en):
        console.print(f"[bold cyan]›[/bold cyan] {escape(_line(fr, en))}", highlight=False)

    step("1/5 Questionnaire, tous formats, fr + en", "questionnaire, every format")
    with console.status("construction / building..."):
        files = build(form, out / "questionnaire")
    count = sum(len(v) for v in files.values())
    _say(console, f"« {form.title['fr']} » : {count} fichiers", f"{count} files", tail=f" -> {out / 'questionnaire'}")

    step(f"2/5 {n} classeurs retournés simulés", f"{n} simulated returned workbooks")
    returned = out / "returned"
    if returned.exists():
        shutil.rmtree(returned)
    sample = simulate(form, n, seed=seed, design=DEMO_DESIGN)
    _planted(console, sample, DEMO_DESIGN)
    with console.status("écriture des classeurs / writing workbooks..."):
        write_workbooks(form, sample, returned)
    extra = samples_dir() / "returned"
    copied = 0
    if extra.is_dir():
        for f in sorted(extra.iterdir()):
            if f.is_file() and f.suffix.lower() in {".xlsx", ".csv", ".xls"} and f.name != "expected.csv":
                shutil.copy2(f, returned / f"sample-{f.name}")
                copied += 1
    _say(console, f"{n} simulés + {copied} exemples fautifs ou étrangers", f"{n} simulated + {copied} messy or "
         "foreign", tail=f" -> {returned}")

    step("3/5 Cotation des fichiers retournés", "scoring the returned files")
    returns = read_returns([returned], form, progress=None)
    table = score_returns(returns, form)
    labels, values = table_labels(form, "fr", table.columns)
    write_table(table, out / "scores.xlsx", labels=labels, value_labels=values)
    write_table(returns.log(), out / "scoring-log.csv")
    _say(console, f"{returns.n_files} fichiers = {returns.n_scored} cotés + {returns.n_rejected} rejetés",
         f"{returns.n_files} files in = {returns.n_scored} scored + {returns.n_rejected} rejected")
    _say(console, f"{len(table)} personnes", "respondents", tail=f" -> {out / 'scores.xlsx'}")
    _say(console, "Journal", "log", tail=f" -> {out / 'scoring-log.csv'}")
    platform_exports(form, out / "platforms", seed=seed, console=console)

    step("4/5 Validation : AFE, AFC, invariance, emboîtement", "validating the scales")
    code = validate_command(out / "scores.xlsx", out=out / "report", form=spec, groups=["language"], lang="fr", console=console)
    if code:
        return code

    step("5/5 Rétroaction, un rapport par consortium", "feedback, one per consortium")
    code = feedback_command(out / "scores.xlsx", out=out / "feedback", form=spec, by="consortium_id", lang="fr",
                            console=console)
    if code:
        return code
    seconds = f"{time.perf_counter() - started:.0f}"
    console.print(f"\n[bold green]Terminé en {seconds} s / Done in {seconds} s.[/bold green]")
    _say(console, "Rapport", "report", indent="", tail=f": {out / 'report' / 'report.html'} (+ report.pdf, results.json)")
    _say(console, "Rétroaction", "feedback", indent="", tail=f": {out / 'feedback' / 'index.html'}")
    return 0
