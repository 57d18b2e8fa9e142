"""Score a batch of returned files: read, check, reverse-key, score, flag, write.

``intangibles score returned/ --form FORM.yaml --out scores.xlsx --log scoring-log.csv``
is :func:`score_command`; the work is :func:`score_returns` (a Returns -> one table).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import psychometrics as pm
from instrument.model import Form
from instrument.returns import Returns, read_returns
from instrument.typography import bilingual, say

__all__ = ["say_rows", "score_command", "score_returns", "table_labels"]


def score_returns(returns: Returns, form: Form, *, min_answered: float = 0.5) -> pd.DataFrame:
    """One row per respondent: identification, context, item codes, scale scores with the
    number of items answered, careless-responding indices and flags.

    Item columns keep the missing codes ("don't know", "not applicable") as read; they are
    set to NA before scoring, so they are never scored. A scale's score is the mean of its
    answered items (reverse keyed) when at least ``min_answered`` of them are answered
    (:func:`psychometrics.score`).
    """
    responses = returns.responses.reset_index(drop=True)
    rs = form.response_set
    items = list(form.item_ids)
    scored = responses[items].astype("float64")
    scored = scored.where(~scored.isin(rs.missing_codes))
    keys = {s.name: list(s.keys) for s in form.scales}
    scores = pm.score(scored, keys, low=rs.low, high=rs.high, min_answered=min_answered)
    if len(scored) > 0:
        flags = pm.careless(scored, items, low=rs.low, high=rs.high).table
    else:
        flags = pd.DataFrame(index=scored.index, columns=["flags"])
    flags = flags.rename(columns={c: f"careless_{c}" for c in flags.columns if c != "flags"})
    flags = flags.rename(columns={"flags": "careless_flags"})
    return pd.concat([responses, scores, flags], axis=1)


def table_labels(form: Form, lang: str, columns) -> tuple[dict, dict]:
    """Variable labels and value labels of a scored table, in ``lang``."""
    labels = {
        "respondent": {"fr": "Code de la personne répondante (pseudonyme)", "en": "Respondent code (pseudonymous)"}[lang],
        "source_file": {"fr": "Fichier d'origine", "en": "Source file"}[lang],
        "source_place": {"fr": "Feuille / ligne d'origine", "en": "Source sheet / row"}[lang],
        "language": {"fr": "Langue du questionnaire", "en": "Questionnaire language"}[lang],
        "order_version": {"fr": "Version de l'ordre des items (A/B)", "en": "Item order version (A/B)"}[lang],
        "platform": {"fr": "Plateforme de collecte", "en": "Survey platform"}[lang],
        "submitted_at": {"fr": "Date de soumission (plateforme)", "en": "Submission time (platform)"}[lang],
        "platform_status": {"fr": "Statut sur la plateforme", "en": "Status on the platform"}[lang],
    }
    values = {}
    answer_labels = {c.code: c.label[lang] for c in form.response_set.all_choices()}
    for item in form.items:
        labels[item.id] = form.texts[item.id][lang]
        values[item.id] = answer_labels
    for q in form.context_block:
        labels[q.id] = q.label[lang]
        if q.choices:
            values[q.id] = {c.code: c.label[lang] for c in q.choices}
    for scale in form.scales:
        name = scale.label.get(lang, scale.name) if scale.label else scale.name
        labels[scale.name] = {"fr": "Score : ", "en": "Score: "}[lang] + name
        labels[f"{scale.name}_n"] = {"fr": "Items répondus : ", "en": "Items answered: "}[lang] + name
    return {c: labels[c] for c in columns if c in labels}, {c: values[c] for c in columns if c in values}


def say_rows(console, files, fr: str, en: str, *, indent: str = "") -> None:
    """Print what became of the rows of platform exports (``files``: rows of
    ``Returns.files``), French first: ``fr : N ligne(s) = ... / en: N row(s) in = ...``."""
    columns = ("rows_in", "respondents", "rows_incomplete", "rows_rejected")
    n_in, n_ok, n_inc, n_rej = (int(files[c].sum()) for c in columns)
    say(console, f"{fr} : {n_in} ligne(s) = {n_ok} cotée(s) + {n_inc} incomplète(s) + "
        f"{n_rej} rejetée(s).",
        f"{en}: {n_in} row(s) in = {n_ok} scored + {n_inc} incomplete + {n_rej} rejected.",
        indent=indent)


def score_command(inputs, *, form, out, log=None, min_answered=0.5, jobs=0, console=None, source=None,
                  include_incomplete=False, id_column=None) -> int:
    """The ``intangibles score`` command. Returns the exit code (0, or 1 when the form is broken,
    2 for an unknown ``source``)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from instrument.form import FormError, load_form
    from instrument.output import write_table

    console = console or Console()
    try:
        loaded = load_form(form)
    except FormError as exc:
        for problem in exc.problems:
            console.print(str(problem), style="red", markup=False, highlight=False)  # [item] is no markup
        return 1
    from instrument.platforms import SOURCES

    if source is not None and source not in SOURCES:
        say(console, f"--source doit être l'une de {', '.join(SOURCES)} ; reçu {source!r}.",
            f"--source must be one of {', '.join(SOURCES)}; got {source!r}.")
        return 2
    from instrument.files import OutputError, check_output
    from instrument.output import FORMATS

    out = Path(out)
    log = Path(log) if log else out.with_name(out.stem + "-log.csv")
    try:  # every output path checked before the work, not after it
        check_output(out, inputs=inputs, others=[log], suffixes=FORMATS)
        check_output(log, inputs=inputs, others=[out], suffixes=FORMATS)
    except OutputError as exc:
        say(console, "erreur", "error", tail=f": {exc}")
        return exc.status
    with Progress(
        TextColumn("[bold]" + bilingual("Lecture", "reading")), BarColumn(), MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("read", total=None)
        returns = read_returns(inputs, loaded, jobs=jobs, progress=lambda done, total: bar.update(task, completed=done, total=total),
                               source=source, include_incomplete=include_incomplete, id_column=id_column)
    with console.status(bilingual("Calcul et écriture", "scoring and writing")):
        table = score_returns(returns, loaded, min_answered=min_answered)
        lang = loaded.languages[0]
        labels, values = table_labels(loaded, lang, table.columns)
        write_table(table, out, labels=labels, value_labels=values)
        log_table = returns.log()
        if loaded.network is not None:  # the roster question: its ties table, its problems in the log
            from instrument.collaboration import problems_log, ties_from_responses

            ties, tie_problems = ties_from_responses(returns.responses, loaded.network)
            write_table(ties, out.with_name(out.stem + "-ties.csv"))
            log_table = pd.concat([log_table, problems_log(tie_problems)], ignore_index=True)
        write_table(log_table, log)
    # refused cells of the files kept (a rejected file's reason is counted once, as "rejected")
    rejected = set(returns.files.loc[returns.files["status"] == "rejected", "file"])
    n_err = sum(p.severity == "error" and p.file not in rejected for p in returns.problems)
    n_warn = sum(p.severity == "warning" for p in returns.problems)
    files_in, scored, rejected = returns.n_files, returns.n_scored, returns.n_rejected
    say(console, f"{files_in} fichier(s) = {scored} coté(s) + {rejected} rejeté(s) ; "
        f"{len(table)} personne(s) ; {n_err} problème(s) de cellule ; {n_warn} avertissement(s).",
        f"{files_in} file(s) in = {scored} scored + {rejected} rejected; "
        f"{len(table)} respondent(s); {n_err} cell problem(s); {n_warn} warning(s).")
    exports = returns.files[returns.files["source"] != ""]
    if len(exports):
        say_rows(console, exports, f"{len(exports)} export(s) de plateforme",
                 f"{len(exports)} platform export(s)")
    flagged = int((table.get("careless_flags", pd.Series(dtype=object)).fillna("") != "").sum())
    if flagged:
        say(console, f"{flagged} personne(s) signalée(s) pour réponses inattentives "
            "(colonne careless_flags).",
            f"{flagged} respondent(s) flagged for careless responding (column careless_flags).")
    say(console, "Fichier des scores", "Scores", tail=f": {out}")
    say(console, "Journal", "Log", tail=f": {log}")
    return 0
