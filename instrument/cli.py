"""The ``intangibles`` command line.

Each command parses its options here and hands the work to a module; heavy imports
happen inside the commands so ``intangibles --help`` stays instant.
Exit codes: 0 success, 1 problems found in the user's files, 2 bad usage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from instrument import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="intangibles",
    help=(
        "Questionnaires and psychometrics for the intangible benefits of intersectoral "
        "consortia / Questionnaires et psychométrie des retombées intangibles des "
        "consortiums intersectoriels.\n\n"
        "Build a bilingual questionnaire from the item bank, score returned workbooks, "
        "and validate the scales (reliability, EFA, CFA, invariance) with numbers that "
        "agree with R's psych and lavaan."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
bank_app = typer.Typer(help="Inspect and check the bilingual item bank.", no_args_is_help=True)
form_app = typer.Typer(help="Build a questionnaire from a form spec and export it.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")
app.add_typer(form_app, name="form")

console = Console()
err_console = Console(stderr=True)


def _version(value: bool):
    if value:
        console.print(f"intangibles {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
):
    """Run ``intangibles COMMAND --help`` for the options of one command."""


@bank_app.command("check")
def bank_check(
    bank: Annotated[
        Path | None,
        typer.Option(help="Folder of bank YAML files to check (default: the bank shipped with intangibles)."),
    ] = None,
):
    """Check the item bank and print its coverage: items by construct x level x language.

    Exits with status 1 and lists every problem (code, file and line) when the bank is broken.
    """
    from instrument.bank import coverage_table, read_bank

    loaded, problems = read_bank(bank)  # load_bank() without raising: warnings are wanted too
    errors = sum(p.severity == "error" for p in problems)
    for problem in problems:
        text, style = (str(problem), "red") if problem.severity == "error" else (f"warning: {problem}", "yellow")
        err_console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)
    warnings = f" ({len(problems) - errors} warning(s) above)" if len(problems) > errors else ""
    if errors:
        err_console.print(f"{errors} problem(s) in the bank{warnings}.", markup=False, highlight=False)
        raise typer.Exit(1)
    console.print(coverage_table(loaded))
    console.print(f"Bank {loaded.version}: {len(loaded.items)} items, no problem{warnings}.", markup=False)


FORMATS = ("print", "pdf", "xlsx", "grid", "xlsform", "limesurvey", "redcap", "codebook")


@form_app.command("build")
def form_build(
    spec: Annotated[Path, typer.Argument(help="The form spec (YAML), e.g. data_samples/form_member.yaml.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the files into (created if missing).")],
    format: Annotated[
        str,
        typer.Option(help="Comma-separated formats: " + ",".join(FORMATS) + ". Default: all."),
    ] = ",".join(FORMATS),
    respondents: Annotated[
        Path | None,
        typer.Option(help="CSV roster with a 'respondent' column: one personalized xlsx workbook per code."),
    ] = None,
    paper: Annotated[str, typer.Option(help="Paper size for print/pdf: A4 or Letter.")] = "A4",
):
    """Build a questionnaire from FORM.yaml and write it in each format, in French and English."""
    from instrument.export.build import build_command

    raise typer.Exit(build_command(spec, out, format, respondents=respondents, paper=paper, console=console))


@app.command()
def simulate(
    spec: Annotated[Path, typer.Argument(help="The form spec (YAML).")],
    n: Annotated[int, typer.Option("--n", help="Number of synthetic respondents.")] = 300,
    out: Annotated[Path, typer.Option("--out", help="Folder for the simulated returned workbooks.")] = Path("simulated"),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 1,
    grid: Annotated[bool, typer.Option(help="Write one data-entry grid instead of one workbook per respondent.")] = False,
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Write one response export of a survey platform instead / Écrire plutôt l'export "
                     "des réponses d'une plateforme : kobo, odk, limesurvey, redcap."),
    ] = None,
):
    """Simulate respondents from a known measurement model and write them as returned workbooks.

    Simuler des personnes répondantes et écrire leurs classeurs retournés (ou, avec --as, l'export d'une plateforme).
    """
    from instrument.simulate import simulate_command

    raise typer.Exit(simulate_command(spec, n=n, out=out, seed=seed, grid=grid, platform=as_, console=console))


@app.command()
def score(
    inputs: Annotated[list[Path], typer.Argument(help="Returned workbooks, CSV files, platform exports, or folders of them.")],
    form: Annotated[Path, typer.Option("--form", help="The form spec the files were built from.")],
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv, .xlsx, .sav, .dta or .parquet.")],
    log: Annotated[Path | None, typer.Option("--log", help="CSV log: one row per file and per rejected cell.")] = None,
    min_answered: Annotated[
        float, typer.Option(help="Share of a scale's items that must be answered for a score (0-1).")
    ] = 0.5,
    jobs: Annotated[int, typer.Option(help="Worker processes (0 = every core).")] = 0,
    source: Annotated[
        str | None,
        typer.Option(help="Read every input as this platform's response export (kobo, odk, limesurvey, redcap) "
                     "instead of detecting it / Forcer la plateforme."),
    ] = None,
    include_incomplete: Annotated[
        bool,
        typer.Option("--include-incomplete", help="Keep the platform responses not submitted (LimeSurvey) or not "
                     "marked complete (REDCap) / Garder les réponses incomplètes."),
    ] = False,
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="Column of a platform export holding the respondent codes (default: the "
                     "platform's submission id) / Colonne des codes des personnes répondantes."),
    ] = None,
):
    """Read returned workbooks, check every cell, reverse-key, score, and flag careless answers.

    Also reads the response exports of KoboToolbox, ODK Central / Briefcase, LimeSurvey and REDCap for a form exported with form build (detected from the file) / Lit aussi les exports de réponses des plateformes.

    Every input file is accounted for in the log (scored, scored-with-issues or rejected, with a code); the command prints files in = scored + rejected.

    Example: intangibles score returned/ --form data_samples/form_member.yaml --out scores.xlsx --log scoring-log.csv
    """
    from instrument.scoring import score_command

    raise typer.Exit(
        score_command(inputs, form=form, out=out, log=log, min_answered=min_answered, jobs=jobs, console=console,
                      source=source, include_incomplete=include_incomplete, id_column=id_column)
    )


@app.command()
def validate(
    data: Annotated[Path, typer.Argument(help="Item responses: .csv, .xlsx, .parquet or .sav (one column per item, one row per respondent).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html, report.pdf and results.json.")],
    form: Annotated[Path | None, typer.Option("--form", help="The form spec (gives the scales and labels).")] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="A psych-style keys file (JSON or YAML).")] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="Column for measurement invariance (repeatable).")
    ] = None,
    cluster: Annotated[
        list[str] | None,
        typer.Option("--cluster", help="Colonne d'emboîtement, la plus fine d'abord (répétable) / "
                     "nesting column, innermost first (repeatable): --cluster org --cluster consortium."),
    ] = None,
    ties: Annotated[
        Path | None,
        typer.Option("--ties", help="Liens entre organisations (from, to) pour la section Contagion / "
                     "ties between organizations (from, to) for the Contagion section."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: fr or en.")] = "fr",
    keep_careless: Annotated[
        bool,
        typer.Option(
            "--keep-careless",
            help="Keep the respondents flagged both straightlining and low-irv in the analyses "
            "(by default they are left out; they are always listed in the report).",
        ),
    ] = False,
):
    """Validate the scales and write the validation report (HTML, PDF) and results.json.

    Example: intangibles validate scores.xlsx --form data_samples/form_member.yaml --out report/ --group language
    """
    from instrument.validation import validate_command

    raise typer.Exit(
        validate_command(data, out=out, form=form, keys=keys, groups=group or [], lang=lang,
                         exclude_careless=not keep_careless, console=console, clusters=cluster or [],
                         ties=ties)
    )


@app.command()
def network(
    ties: Annotated[Path, typer.Argument(help="Ties between organizations (.csv or .xlsx): columns from, to, and any attributes.")],
    nodes: Annotated[Path, typer.Option("--nodes", help="Organizations (.csv or .xlsx): first column the codes, then e.g. member_org, scores.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for network.html, network.svg and results.json.")],
    outcome: Annotated[str | None, typer.Option("--outcome", help="A column of the nodes file: test whether it goes with the partners' (lnam, Moran's I).")] = None,
    covariates: Annotated[str | None, typer.Option("--covariates", help="Columns of the nodes file for the model, comma-separated (the intercept is added).")] = None,
    directed: Annotated[bool, typer.Option("--directed", help="Read ties as directed (who named whom).")] = False,
    lang: Annotated[str, typer.Option(help="Language of the report: fr or en.")] = "fr",
):
    """Network report: the drawn network, its measures and, with --outcome, the network autocorrelation model in plain words.

    Rapport de réseau : le réseau dessiné, ses mesures (densité, centralisations) et, avec --outcome, le modèle d'autocorrélation de réseau (comme sna::lnam) expliqué en mots simples.

    Example: intangibles network ties.csv --nodes orgs.csv --out net/ --outcome outcome --covariates member_org,x1
    """
    from instrument.network_report import network_command

    cov = [c.strip() for c in (covariates or "").split(",") if c.strip()]
    raise typer.Exit(network_command(ties, nodes=nodes, out=out, outcome=outcome, covariates=cov,
                                     lang=lang, directed=directed, console=console))


@app.command()
def plan(
    spec: Annotated[Path, typer.Argument(help="A form spec (YAML) or a model file (YAML with factors:).")],
    n: Annotated[str, typer.Option("--n", help="Sample sizes, comma-separated / tailles d'échantillon : 100,150,200.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for report.html, power.svg and results.json.")],
    reps: Annotated[int, typer.Option(help="Replications per sample size / réplications par taille.")] = 500,
    design: Annotated[Path | None, typer.Option(help="Design file (YAML): planted non-invariant items, careless share, missing, clusters, analyses.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (tcp://host:8786); default: local processes.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same numbers, wherever it runs).")] = 1,
    processes: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core).")] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: fr or en / langue du rapport.")] = "fr",
):
    """Plan a study by Monte Carlo: power, type I error, bias and CI coverage for each sample size.

    Planifier une étude par simulation Monte Carlo : puissance, erreur de type I, biais et couverture des intervalles pour chaque taille d'échantillon, en local ou sur une grappe Dask (--scheduler).

    Example: intangibles plan data_samples/form_member.yaml --n 100,200,300 --reps 200 --out plan/
    """
    from instrument.plan import plan_command

    raise typer.Exit(plan_command(spec, ns=n, reps=reps, out=out, design=design, scheduler=scheduler, seed=seed,
                                  lang=lang, processes=processes, console=console))


@app.command()
def aggregate(
    scores: Annotated[Path, typer.Argument(help="Scores: what 'intangibles score' writes (.csv, .xlsx, .parquet, .sav).")],
    by: Annotated[list[str], typer.Option("--by", help="Colonne de regroupement / group column: org, consortium (repeatable).")],
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv, .xlsx, .sav, .dta or .parquet.")],
    form: Annotated[Path | None, typer.Option("--form", help="The form spec (gives the scales and the response range).")] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="A keys file (gives the scales and the response range).")] = None,
    scales: Annotated[str | None, typer.Option("--scales", help="Score columns, comma-separated (default: from the form or keys).")] = None,
    min_size: Annotated[int, typer.Option("--min-size", help="Groups with fewer people are suppressed / taille minimale.")] = 5,
):
    """Scores par organisme ou consortium / scores at the group level: mean, SD, n and agreement (rwg, awg, AD) of each group.

    Groups with fewer than --min-size people are suppressed (no number, not even n).

    Example: intangibles aggregate scores.xlsx --by org --form data_samples/form_member.yaml --out orgs.xlsx
    """
    from instrument.aggregation import aggregate_command

    raise typer.Exit(
        aggregate_command(scores, by=by, out=out, form=form, keys=keys,
                          scales=[s.strip() for s in scales.split(",")] if scales else None,
                          min_size=min_size, console=console)
    )


@app.command()
def feedback(
    data: Annotated[Path, typer.Argument(help="Scored data (from intangibles score) or item responses: .csv, .xlsx, .parquet, .sav.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the reports: one sub-folder per consortium, index.html, summary.csv.")],
    form: Annotated[Path | None, typer.Option("--form", help="The form spec (gives the scales, levels and item texts).")] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="A psych-style keys file (JSON or YAML), instead of --form.")] = None,
    by: Annotated[str, typer.Option("--by", help="Column holding each respondent's consortium code.")] = "consortium",
    lang: Annotated[str, typer.Option(help="Language of the reports: fr or en.")] = "fr",
    min_group: Annotated[int, typer.Option("--min-group", help="Fewest respondents for a report (smaller consortia get a notice only).")] = 5,
    names: Annotated[Path | None, typer.Option("--names", help="CSV with columns code, name: each consortium's name.")] = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="CSV of the people invited, with the --by column: gives the response rate.")] = None,
):
    """Write one feedback report per consortium: its perceived benefits at every level, for its partners.

    Un rapport de rétroaction par consortium : profil des retombées perçues (moyennes et intervalles), accord entre membres, position parmi les consortiums de l'étude (5 ou plus, sans en nommer aucun), énoncés les plus et les moins partagés; aucun chiffre sous --min-group personnes.

    Example: intangibles feedback scores.xlsx --form data_samples/form_member.yaml --by consortium_id --out feedback/
    """
    from instrument.feedback_report import feedback_command

    if lang not in ("fr", "en"):
        err_console.print(f"The '--lang' option must be one of fr, en; got {lang!r}.", markup=False)
        raise typer.Exit(2)
    raise typer.Exit(feedback_command(data, out=out, form=form, keys=keys, by=by, lang=lang, min_group=min_group,
                                      names=names, roster=roster, console=console))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Folder for everything the demo writes.")] = Path("demo-output"),
    n: Annotated[int, typer.Option("--n", help="Number of simulated respondents.")] = 300,
):
    """Run the three jobs on the embedded sample: build, simulate returns, score, validate."""
    from instrument.demo import demo_command

    raise typer.Exit(demo_command(out, n=n, console=console))


@app.command()
def doctor(
    lang: Annotated[str, typer.Option(help="Language of the report: fr or en / langue du rapport.")] = "fr",
):
    """Check this machine: Python packages against the lock, PDF libraries and fonts, optional tools.

    Vérifie la machine : paquets Python (comparés au verrou), bibliothèques PDF et polices, outils facultatifs (LibreOffice, pdftoppm, Chromium, R). Each gap comes with the apt-get or pip line that fixes it. Exit status 0 when everything required is there, 1 otherwise.

    Example: intangibles doctor --lang en
    """
    from instrument.doctor import doctor_command

    if lang not in ("fr", "en"):
        err_console.print(f"The '--lang' option must be one of fr, en; got {lang!r}.", markup=False)
        raise typer.Exit(2)
    raise typer.Exit(doctor_command(lang=lang, console=console))


def main():
    app()
