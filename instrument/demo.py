"""``intangibles demo``: the three jobs on the embedded sample, end to end.

1. build the sample questionnaire (``data_samples/form_member.yaml``) in every format;
2. simulate returned workbooks from a known measurement model in which one item is weak,
   one item reads differently in English (its intercept is shifted: a non-invariant item)
   and a few respondents straightline; add the messy and foreign files of
   ``data_samples/returned/`` (a formula, a decimal, a workbook of another version...);
3. score the folder (every file accounted for in the log); then one response export from each
   survey platform (KoboToolbox, ODK Central, LimeSurvey, REDCap), scored on its own
   (``platforms/``: the files, their scores and log);
4. validate the scales, with invariance across languages, and write the report;
5. write one feedback report per consortium (``feedback/``).

What the demo plants is what the report should find: the weak item, the non-invariant
item and the straightliners (see ``DEMO_DESIGN``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from instrument.resources import samples_dir
from instrument.simulate import Design

__all__ = ["DEMO_DESIGN", "PLATFORM_N", "demo_command", "platform_exports"]

#: The planted problems: a weak item, a non-invariant item (English), 4% straightliners.
DEMO_DESIGN = Design(
    weak_items=("lepri5",),
    non_invariant=("trigi2", "lang", "en", 1.0),
    careless=0.04,
    careless_kinds=("straightlining",),
)


#: Respondents in each platform's demo export (a few incomplete ones are planted in two of them).
PLATFORM_N = 20


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
    for f in returns.files.itertuples():
        console.print(f"   {Path(f.file).name}: {f.message}", markup=False, highlight=False)
    console.print(f"   {len(table)} respondents from {returns.n_scored} platform exports (incomplete responses left "
                  f"out) -> {out / 'scores.xlsx'}",
                  markup=False, highlight=False)


def demo_command(out, *, n: int = 300, seed: int = 2026, console=None) -> int:
    """Run the demo into ``out``; returns the exit code."""
    from rich.console import Console

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

    def step(text):
        console.print(f"[bold cyan]›[/bold cyan] {text}")

    step(f"1/5 Questionnaire « {form.title['fr']} »: every format, French and English")
    with console.status("building..."):
        files = build(form, out / "questionnaire")
    console.print(f"   {sum(len(v) for v in files.values())} files in {out / 'questionnaire'}")

    step(f"2/5 Simulating {n} returned workbooks (one weak item, one non-invariant item, straightliners)")
    returned = out / "returned"
    if returned.exists():
        shutil.rmtree(returned)
    sample = simulate(form, n, seed=seed, design=DEMO_DESIGN)
    with console.status("writing workbooks..."):
        write_workbooks(form, sample, returned)
    extra = samples_dir() / "returned"
    copied = 0
    if extra.is_dir():
        for f in sorted(extra.iterdir()):
            if f.is_file() and f.suffix.lower() in {".xlsx", ".csv", ".xls"} and f.name != "expected.csv":
                shutil.copy2(f, returned / f"sample-{f.name}")
                copied += 1
    console.print(f"   {n} simulated + {copied} messy or foreign sample files in {returned}")

    step("3/5 Scoring the returned files")
    returns = read_returns([returned], form, progress=None)
    table = score_returns(returns, form)
    labels, values = table_labels(form, "fr", table.columns)
    write_table(table, out / "scores.xlsx", labels=labels, value_labels=values)
    write_table(returns.log(), out / "scoring-log.csv")
    console.print(
        f"   {returns.n_files} files in = {returns.n_scored} scored + {returns.n_rejected} rejected; "
        f"{len(table)} respondents -> {out / 'scores.xlsx'}, log {out / 'scoring-log.csv'}"
    )
    platform_exports(form, out / "platforms", seed=seed, console=console)

    step("4/5 Validating the scales (reliability, EFA, CFA, invariance fr/en)")
    code = validate_command(out / "scores.xlsx", out=out / "report", form=spec, groups=["language"], lang="fr", console=console)
    if code:
        return code

    step("5/5 Feedback reports: one per consortium (column consortium_id), for its partners")
    code = feedback_command(out / "scores.xlsx", out=out / "feedback", form=spec, by="consortium_id", lang="fr",
                            console=console)
    if code:
        return code
    console.print(
        f"\n[bold green]Done in {time.perf_counter() - started:.0f} s.[/bold green] "
        f"Report: {out / 'report' / 'report.html'} (and report.pdf, results.json); "
        f"feedback: {out / 'feedback' / 'index.html'}"
    )
    return 0
