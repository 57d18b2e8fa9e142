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

HELP_OPTION = "Afficher cette aide et quitter / show this message and exit."


class _BilingualHelp:
    """The ``--help`` option's own line in French and English (click writes it in English)."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option


class _Command(_BilingualHelp, typer.core.TyperCommand):
    pass


class _Group(_BilingualHelp, typer.core.TyperGroup):
    pass


app = typer.Typer(
    cls=_Group,
    name="intangibles",
    help=(
        "Questionnaires et psychométrie des retombées intangibles des consortiums "
        "intersectoriels / Questionnaires and psychometrics for the intangible benefits "
        "of intersectoral consortia.\n\n"
        "Bâtir un questionnaire bilingue à partir de la banque d'énoncés, calculer les scores "
        "des classeurs retournés et valider les échelles (fidélité, AFE, AFC, invariance) "
        "avec des chiffres qui concordent avec psych et lavaan de R.\n\n"
        "Build a bilingual questionnaire from the item bank, score returned workbooks, "
        "and validate the scales (reliability, EFA, CFA, invariance) with numbers that "
        "agree with R's psych and lavaan."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
bank_app = typer.Typer(cls=_Group, help="Examiner et vérifier la banque d'énoncés bilingue / inspect and check the bilingual item bank.", no_args_is_help=True)
form_app = typer.Typer(cls=_Group, help="Bâtir un questionnaire à partir d'une spécification et l'exporter / build a questionnaire from a form spec and export it.", no_args_is_help=True)
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
        typer.Option("--version", callback=_version, is_eager=True, help="Afficher la version et quitter / print the version and exit."),
    ] = False,
):
    """Faites ``intangibles COMMANDE --help`` pour les options d'une commande / run ``intangibles COMMAND --help`` for the options of one command."""


@bank_app.command("check", cls=_Command)
def bank_check(
    bank: Annotated[
        Path | None,
        typer.Option(help="Dossier de fichiers YAML de banque à vérifier (par défaut : la banque livrée) / "
                     "folder of bank YAML files to check (default: the bank shipped with intangibles)."),
    ] = None,
):
    """Vérifier la banque d'énoncés et afficher sa couverture / check the item bank and print its coverage.

    Items by construct x level x language. Exits with status 1 and lists every problem (code, file and line) when the bank is broken.
    """
    from instrument.bank import coverage_table, read_bank
    from instrument.typography import say

    loaded, problems = read_bank(bank)  # load_bank() without raising: warnings are wanted too
    errors = sum(p.severity == "error" for p in problems)
    for problem in problems:
        warning = f"avertissement / warning: {problem}"
        text, style = (str(problem), "red") if problem.severity == "error" else (warning, "yellow")
        err_console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)
    k = len(problems) - errors
    fr, en = (f" ({k} avertissement(s) ci-dessus)", f" ({k} warning(s) above)") if k else ("", "")
    if errors:
        say(err_console, f"{errors} problème(s) dans la banque{fr}.",
            f"{errors} problem(s) in the bank{en}.")
        raise typer.Exit(1)
    console.print(coverage_table(loaded))
    say(console, f"Banque {loaded.version} : {len(loaded.items)} items, aucun problème{fr}.",
        f"Bank {loaded.version}: {len(loaded.items)} items, no problem{en}.")


FORMATS = ("print", "pdf", "xlsx", "grid", "xlsform", "limesurvey", "redcap", "codebook")


@form_app.command("build", cls=_Command)
def form_build(
    spec: Annotated[Path, typer.Argument(help="La spécification du questionnaire (YAML) / the form spec (YAML), e.g. data_samples/form_member.yaml.")],
    out: Annotated[Path, typer.Option("--out", help="Dossier où écrire les fichiers (créé au besoin) / folder to write the files into (created if missing).")],
    format: Annotated[
        str,
        typer.Option(help="Formats, séparés par des virgules / comma-separated formats: " + ",".join(FORMATS) + ". Default: all."),
    ] = ",".join(FORMATS),
    respondents: Annotated[
        Path | None,
        typer.Option(help="Liste CSV avec une colonne 'respondent' : un classeur xlsx personnalisé par code / "
                     "CSV roster with a 'respondent' column: one personalized xlsx workbook per code."),
    ] = None,
    paper: Annotated[str, typer.Option(help="Format du papier (print, pdf) / paper size for print/pdf: A4 or Letter.")] = "A4",
):
    """Bâtir le questionnaire dans chaque format, en français et en anglais / build a questionnaire in each format.

    Writes the questionnaire of FORM.yaml in each format, in French and English.

    Exemple / example: intangibles form build data_samples/form_member.yaml --out form/ --format pdf,xlsx
    """
    from instrument.export.build import build_command

    raise typer.Exit(build_command(spec, out, format, respondents=respondents, paper=paper, console=console))


@app.command(cls=_Command)
def simulate(
    spec: Annotated[Path, typer.Argument(help="La spécification du questionnaire (YAML) / the form spec (YAML).")],
    n: Annotated[int, typer.Option("--n", help="Nombre de répondants simulés / number of synthetic respondents.")] = 300,
    out: Annotated[Path, typer.Option("--out", help="Dossier des classeurs simulés / folder for the simulated returned workbooks.")] = Path("simulated"),
    seed: Annotated[int, typer.Option(help="Germe aléatoire (même germe, mêmes octets) / random seed (same seed, same bytes).")] = 1,
    grid: Annotated[bool, typer.Option(help="Une seule grille de saisie plutôt qu'un classeur par répondant / "
                     "write one data-entry grid instead of one workbook per respondent.")] = False,
    as_: Annotated[
        str | None,
        typer.Option("--as", help="Écrire plutôt l'export des réponses d'une plateforme / write one response export "
                     "of a survey platform instead: kobo, odk, limesurvey, redcap."),
    ] = None,
):
    """Simuler des répondants à partir d'un modèle connu / simulate respondents from a known measurement model.

    Simuler des personnes répondantes et écrire leurs classeurs retournés (ou, avec --as, l'export d'une plateforme).
    Writes them as returned workbooks (or, with --as, as a platform's response export).

    Exemple / example: intangibles simulate data_samples/form_member.yaml --n 300 --out simulated/
    """
    from instrument.simulate import simulate_command

    raise typer.Exit(simulate_command(spec, n=n, out=out, seed=seed, grid=grid, platform=as_, console=console))


@app.command(cls=_Command)
def score(
    inputs: Annotated[list[Path], typer.Argument(help="Classeurs retournés, fichiers CSV, exports de plateformes ou dossiers / "
                     "returned workbooks, CSV files, platform exports, or folders of them.")],
    form: Annotated[Path, typer.Option("--form", help="La spécification qui a servi à bâtir les fichiers / the form spec the files were built from.")],
    out: Annotated[Path, typer.Option("--out", help="Fichier de sortie / output file: .csv, .xlsx, .sav, .dta or .parquet.")],
    log: Annotated[Path | None, typer.Option("--log", help="Journal CSV : une ligne par fichier et par cellule rejetée / CSV log: one row per file and per rejected cell.")] = None,
    min_answered: Annotated[
        float, typer.Option(help="Part des énoncés d'une échelle requise pour un score (0-1) / "
                     "share of a scale's items that must be answered for a score (0-1).")
    ] = 0.5,
    jobs: Annotated[int, typer.Option(help="Processus de calcul (0 = tous les cœurs) / worker processes (0 = every core).")] = 0,
    source: Annotated[
        str | None,
        typer.Option(help="Forcer la plateforme plutôt que la détecter / read every input as this platform's "
                     "response export (kobo, odk, limesurvey, redcap) instead of detecting it."),
    ] = None,
    include_incomplete: Annotated[
        bool,
        typer.Option("--include-incomplete", help="Garder les réponses incomplètes / keep the platform responses not submitted "
                     "(LimeSurvey) or not marked complete (REDCap)."),
    ] = False,
    id_column: Annotated[
        str | None,
        typer.Option("--id-column", help="Colonne des codes des personnes répondantes / column of a platform export holding "
                     "the respondent codes (default: the platform's submission id)."),
    ] = None,
):
    """Calculer les scores des classeurs retournés / read returned workbooks, check, reverse-key, score, flag.

    Lit les classeurs retournés, vérifie chaque cellule, inverse les énoncés, calcule les scores et repère les réponses négligentes; lit aussi les exports de réponses des plateformes.

    Also reads the response exports of KoboToolbox, ODK Central or Briefcase, LimeSurvey and REDCap for a form exported with form build (detected from the file).

    Every input file is accounted for in the log (scored, scored-with-issues or rejected, with a code); the command prints files in = scored + rejected.

    Exemple / example: intangibles score returned/ --form data_samples/form_member.yaml --out scores.xlsx --log scoring-log.csv
    """
    from instrument.scoring import score_command

    raise typer.Exit(
        score_command(inputs, form=form, out=out, log=log, min_answered=min_answered, jobs=jobs, console=console,
                      source=source, include_incomplete=include_incomplete, id_column=id_column)
    )


@app.command(cls=_Command)
def validate(
    data: Annotated[Path, typer.Argument(help="Réponses aux énoncés (une colonne par énoncé, une ligne par répondant) / "
                     "item responses: .csv, .xlsx, .parquet or .sav (one column per item, one row per respondent).")],
    out: Annotated[Path, typer.Option("--out", help="Dossier du rapport / folder for report.html, report.pdf and results.json.")],
    form: Annotated[Path | None, typer.Option("--form", help="La spécification (échelles et libellés) / the form spec (gives the scales and labels).")] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="Fichier de clés à la psych (JSON ou YAML) / a psych-style keys file (JSON or YAML).")] = None,
    group: Annotated[
        list[str] | None, typer.Option("--group", help="Colonne pour l'invariance de mesure (répétable) / column for measurement invariance (repeatable).")
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
    lang: Annotated[str, typer.Option(help="Langue du rapport / language of the report: fr or en.")] = "fr",
    keep_careless: Annotated[
        bool,
        typer.Option(
            "--keep-careless",
            help="Garder les répondants signalés à la fois straightlining et low-irv (exclus par défaut, "
            "toujours listés au rapport) / keep the respondents flagged both straightlining and low-irv "
            "in the analyses (by default they are left out; they are always listed in the report).",
        ),
    ] = False,
):
    """Valider les échelles et écrire le rapport de validation / validate the scales and write the report.

    Fidélité, analyses factorielles et invariance; écrit report.html, report.pdf et results.json.
    Writes the validation report (HTML, PDF) and results.json.

    Exemple / example: intangibles validate scores.xlsx --form data_samples/form_member.yaml --out report/ --group language
    """
    from instrument.validation import validate_command

    raise typer.Exit(
        validate_command(data, out=out, form=form, keys=keys, groups=group or [], lang=lang,
                         exclude_careless=not keep_careless, console=console, clusters=cluster or [],
                         ties=ties)
    )


@app.command(cls=_Command)
def network(
    ties: Annotated[Path, typer.Argument(help="Liens entre organisations (colonnes from, to et attributs) / "
                     "ties between organizations (.csv or .xlsx): columns from, to, and any attributes.")],
    nodes: Annotated[Path, typer.Option("--nodes", help="Organisations : les codes en première colonne, puis p. ex. member_org, scores / "
                     "organizations (.csv or .xlsx): first column the codes, then e.g. member_org, scores.")],
    out: Annotated[Path, typer.Option("--out", help="Dossier du rapport / folder for network.html, network.svg and results.json.")],
    outcome: Annotated[str | None, typer.Option("--outcome", help="Colonne à tester : va-t-elle de pair avec celle des partenaires? / "
                     "a column of the nodes file: test whether it goes with the partners' (lnam, Moran's I).")] = None,
    covariates: Annotated[str | None, typer.Option("--covariates", help="Colonnes du modèle, séparées par des virgules / "
                     "columns of the nodes file for the model, comma-separated (the intercept is added).")] = None,
    directed: Annotated[bool, typer.Option("--directed", help="Liens orientés (qui a nommé qui) / read ties as directed (who named whom).")] = False,
    lang: Annotated[str, typer.Option(help="Langue du rapport / language of the report: fr or en.")] = "fr",
):
    """Rapport de réseau / network report: the drawn network, its measures and, with --outcome, the autocorrelation model.

    Rapport de réseau : le réseau dessiné, ses mesures (densité, centralisations) et, avec --outcome, le modèle d'autocorrélation de réseau (comme sna::lnam) expliqué en mots simples.

    Exemple / example: intangibles network ties.csv --nodes orgs.csv --out net/ --outcome outcome --covariates member_org,x1
    """
    from instrument.network_report import network_command

    cov = [c.strip() for c in (covariates or "").split(",") if c.strip()]
    raise typer.Exit(network_command(ties, nodes=nodes, out=out, outcome=outcome, covariates=cov,
                                     lang=lang, directed=directed, console=console))


@app.command(cls=_Command)
def plan(
    spec: Annotated[Path, typer.Argument(help="Une spécification ou un fichier de modèle (YAML) / a form spec (YAML) or a model file (YAML with factors:).")],
    n: Annotated[str, typer.Option("--n", help="Tailles d'échantillon, séparées par des virgules / sample sizes, comma-separated: 100,150,200.")],
    out: Annotated[Path, typer.Option("--out", help="Dossier du rapport / folder for report.html, power.svg and results.json.")],
    reps: Annotated[int, typer.Option(help="Réplications par taille / replications per sample size.")] = 500,
    design: Annotated[Path | None, typer.Option(help="Fichier de devis (YAML) / design file (YAML): planted non-invariant items, careless share, "
                     "missing, clusters, analyses.")] = None,
    scheduler: Annotated[str | None, typer.Option(help="Adresse de l'ordonnanceur Dask (par défaut : processus locaux) / "
                     "Dask scheduler address (tcp://host:8786); default: local processes.")] = None,
    seed: Annotated[int, typer.Option(help="Germe aléatoire (même germe, mêmes chiffres, partout) / random seed (same seed, same numbers, wherever it runs).")] = 1,
    processes: Annotated[int | None, typer.Option(help="Processus locaux (par défaut : un par cœur) / local worker processes (default: one per core).")] = None,
    lang: Annotated[str, typer.Option(help="Langue du rapport / language of the report: fr or en.")] = "fr",
):
    """Planifier une étude par Monte Carlo / plan a study by Monte Carlo: power, type I error, bias, CI coverage.

    Planifier une étude par simulation Monte Carlo : puissance, erreur de type I, biais et couverture des intervalles pour chaque taille d'échantillon, en local ou sur une grappe Dask (--scheduler).

    Exemple / example: intangibles plan data_samples/form_member.yaml --n 100,200,300 --reps 200 --out plan/
    """
    from instrument.plan import plan_command

    raise typer.Exit(plan_command(spec, ns=n, reps=reps, out=out, design=design, scheduler=scheduler, seed=seed,
                                  lang=lang, processes=processes, console=console))


@app.command(cls=_Command)
def aggregate(
    scores: Annotated[Path, typer.Argument(help="Scores produits par 'intangibles score' / scores: what 'intangibles score' writes (.csv, .xlsx, .parquet, .sav).")],
    by: Annotated[list[str], typer.Option("--by", help="Colonne de regroupement / group column: org, consortium (repeatable).")],
    out: Annotated[Path, typer.Option("--out", help="Fichier de sortie / output file: .csv, .xlsx, .sav, .dta or .parquet.")],
    form: Annotated[Path | None, typer.Option("--form", help="La spécification (échelles et étendue des réponses) / the form spec (gives the scales and the response range).")] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="Fichier de clés (échelles et étendue des réponses) / a keys file (gives the scales and the response range).")] = None,
    scales: Annotated[str | None, typer.Option("--scales", help="Colonnes de scores, séparées par des virgules / score columns, comma-separated (default: from the form or keys).")] = None,
    min_size: Annotated[int, typer.Option("--min-size", help="Taille minimale : les groupes plus petits sont masqués / groups with fewer people are suppressed.")] = 5,
):
    """Scores par organisme ou consortium / scores at the group level: mean, SD, n and agreement (rwg, awg, AD) of each group.

    Groups with fewer than --min-size people are suppressed (no number, not even n).

    Exemple / example: intangibles aggregate scores.xlsx --by org --form data_samples/form_member.yaml --out orgs.xlsx
    """
    from instrument.aggregation import aggregate_command

    raise typer.Exit(
        aggregate_command(scores, by=by, out=out, form=form, keys=keys,
                          scales=[s.strip() for s in scales.split(",")] if scales else None,
                          min_size=min_size, console=console)
    )


@app.command(cls=_Command)
def feedback(
    data: Annotated[Path, typer.Argument(help="Scores (de intangibles score) ou réponses aux énoncés / "
                     "scored data (from intangibles score) or item responses: .csv, .xlsx, .parquet, .sav.")],
    out: Annotated[Path, typer.Option("--out", help="Dossier des rapports, un sous-dossier par consortium / "
                     "folder for the reports: one sub-folder per consortium, index.html, summary.csv.")],
    form: Annotated[Path | None, typer.Option("--form", help="La spécification (échelles, niveaux et énoncés) / the form spec (gives the scales, levels and item texts).")] = None,
    keys: Annotated[Path | None, typer.Option("--keys", help="Fichier de clés à la psych, au lieu de --form / a psych-style keys file (JSON or YAML), instead of --form.")] = None,
    by: Annotated[str, typer.Option("--by", help="Colonne du code de consortium de chaque répondant / column holding each respondent's consortium code.")] = "consortium",
    lang: Annotated[str, typer.Option(help="Langue des rapports / language of the reports: fr or en.")] = "fr",
    min_group: Annotated[int, typer.Option("--min-group", help="Minimum de répondants pour un rapport (sinon, un avis seulement) / "
                     "fewest respondents for a report (smaller consortia get a notice only).")] = 5,
    names: Annotated[Path | None, typer.Option("--names", help="CSV (colonnes code, name) : le nom de chaque consortium / CSV with columns code, name: each consortium's name.")] = None,
    roster: Annotated[Path | None, typer.Option("--roster", help="CSV des personnes invitées, avec la colonne --by : donne le taux de réponse / "
                     "CSV of the people invited, with the --by column: gives the response rate.")] = None,
):
    """Un rapport de rétroaction par consortium / one feedback report per consortium, for its partners.

    Un rapport de rétroaction par consortium : profil des retombées perçues (moyennes et intervalles), accord entre membres, position parmi les consortiums de l'étude (5 ou plus, sans en nommer aucun), énoncés les plus et les moins partagés; aucun chiffre sous --min-group personnes.

    Exemple / example: intangibles feedback scores.xlsx --form data_samples/form_member.yaml --by consortium_id --out feedback/
    """
    from instrument.feedback_report import feedback_command
    from instrument.typography import say

    if lang not in ("fr", "en"):
        say(err_console, f"L'option « --lang » doit être fr ou en ; reçu {lang!r}.",
            f"The '--lang' option must be one of fr, en; got {lang!r}.")
        raise typer.Exit(2)
    raise typer.Exit(feedback_command(data, out=out, form=form, keys=keys, by=by, lang=lang, min_group=min_group,
                                      names=names, roster=roster, console=console))


@app.command(cls=_Command)
def demo(
    out: Annotated[Path, typer.Option("--out", help="Dossier de tout ce qu'écrit la démo / folder for everything the demo writes.")] = Path("demo-output"),
    n: Annotated[int, typer.Option("--n", help="Nombre de répondants simulés / number of simulated respondents.")] = 300,
):
    """Démonstration sur l'exemple intégré / run the three jobs on the embedded sample.

    Bâtir, simuler des retours, calculer les scores, valider. Build, simulate returns, score, validate.

    Exemple / example: intangibles demo --out demo-output
    """
    from instrument.demo import demo_command

    raise typer.Exit(demo_command(out, n=n, console=console))


@app.command(cls=_Command)
def doctor(
    lang: Annotated[str, typer.Option(help="Langue du rapport / language of the report: fr or en.")] = "fr",
):
    """Vérifier la machine / check this machine: Python packages, PDF libraries and fonts, optional tools.

    Vérifie la machine : paquets Python (comparés au verrou), bibliothèques PDF et polices, outils facultatifs (LibreOffice, pdftoppm, Chromium, R). Each gap comes with the apt-get or pip line that fixes it. Exit status 0 when everything required is there, 1 otherwise.

    Exemple / example: intangibles doctor --lang en
    """
    from instrument.doctor import doctor_command
    from instrument.typography import say

    if lang not in ("fr", "en"):
        say(err_console, f"L'option « --lang » doit être fr ou en ; reçu {lang!r}.",
            f"The '--lang' option must be one of fr, en; got {lang!r}.")
        raise typer.Exit(2)
    raise typer.Exit(doctor_command(lang=lang, console=console))


def main():
    app()
