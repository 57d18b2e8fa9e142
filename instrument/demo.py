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
from instrument.typography import Typography, bilingual, say

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


def _planted(console, sample, design: Design) -> None:
    """What the simulated workbooks hide, for the reader to find in the report."""
    item, _, lang, _ = design.non_invariant
    liners = len(sample.careless)
    c, o = design.consortium_icc, design.organization_icc
    weak = design.weak_items[0]
    say(console, f"Planté : item faible {weak}, {item} non invariant ({lang}), "
        f"{liners} en ligne droite",
        f"Planted: weak item {weak}, {item} non-invariant ({lang}), {liners} straightliners",
        indent="   ")
    say(console, f"Variance entre consortiums {_FR.pct(100 * c, 0)}, "
        f"entre organismes {_FR.pct(100 * o, 0)} (non demandés)",
        f"Variance between consortia {c:.0%}, between organizations {o:.0%} (not asked)",
        indent="   ")


def platform_exports(form, out, *, seed: int, console) -> None:
    """One simulated response export per survey platform in ``out``, scored on its own: what a
    team that collected on Kobo, ODK, LimeSurvey or REDCap gets (``scores.xlsx``, ``scoring-log.csv``)."""
    from instrument.output import write_table
    from instrument.platforms import SOURCES, write_export
    from instrument.returns import read_returns
    from instrument.scoring import say_rows, score_returns
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
    say(console, "Exports des plateformes, cotés à part", "platform exports, scored apart",
        indent="   ", tail=f" -> {out}")
    for k, name in enumerate(Path(f).name for f in returns.files["file"]):
        say_rows(console, returns.files.iloc[[k]], name, name, indent="   ")
    say(console, f"{len(table)} personnes (incomplètes écartées)",
        f"{len(table)} respondents (incomplete left out)", indent="   ",
        tail=f" -> {out / 'scores.xlsx'}")


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
        line = escape(bilingual(fr, en, width=78))  # 80 columns with the arrow
        console.print(f"[bold cyan]›[/bold cyan] {line}", highlight=False)

    step("1/5 Questionnaire, tous formats, fr + en", "questionnaire, every format")
    with console.status(bilingual("construction", "building...")):
        files = build(form, out / "questionnaire")
    count = sum(len(v) for v in files.values())
    say(console, f"« {form.title['fr']} » : {count} fichiers", f"{count} files", indent="   ",
        tail=f" -> {out / 'questionnaire'}")

    step(f"2/5 {n} classeurs retournés simulés", f"{n} simulated returned workbooks")
    returned = out / "returned"
    if returned.exists():
        shutil.rmtree(returned)
    sample = simulate(form, n, seed=seed, design=DEMO_DESIGN)
    _planted(console, sample, DEMO_DESIGN)
    with console.status(bilingual("écriture des classeurs", "writing workbooks...")):
        write_workbooks(form, sample, returned)
    extra = samples_dir() / "returned"
    copied = 0
    if extra.is_dir():
        for f in sorted(extra.iterdir()):
            if f.is_file() and f.suffix.lower() in {".xlsx", ".csv", ".xls"} and f.name != "expected.csv":
                shutil.copy2(f, returned / f"sample-{f.name}")
                copied += 1
    say(console, f"{n} simulés + {copied} exemples fautifs ou étrangers",
        f"{n} simulated + {copied} messy or foreign", indent="   ", tail=f" -> {returned}")

    step("3/5 Cotation des fichiers retournés", "scoring the returned files")
    returns = read_returns([returned], form, progress=None)
    table = score_returns(returns, form)
    labels, values = table_labels(form, "fr", table.columns)
    write_table(table, out / "scores.xlsx", labels=labels, value_labels=values)
    write_table(returns.log(), out / "scoring-log.csv")
    files_in, scored, rejected = returns.n_files, returns.n_scored, returns.n_rejected
    say(console, f"{files_in} fichiers = {scored} cotés + {rejected} rejetés",
        f"{files_in} files in = {scored} scored + {rejected} rejected", indent="   ")
    say(console, f"{len(table)} personnes", f"{len(table)} respondents", indent="   ",
        tail=f" -> {out / 'scores.xlsx'}")
    say(console, "Journal", "log", indent="   ", tail=f" -> {out / 'scoring-log.csv'}")
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
    console.print()
    say(console, f"Terminé en {seconds} s", f"Done in {seconds} s.", style="bold green")
    say(console, "Rapport", "report",
        tail=f": {out / 'report' / 'report.html'} (+ report.pdf, results.json)")
    say(console, "Rétroaction", "feedback", tail=f": {out / 'feedback' / 'index.html'}")
    return 0
