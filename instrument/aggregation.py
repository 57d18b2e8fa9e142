"""``intangibles aggregate``: scale scores at the level of organizations or consortia.

Reads a table of scores (what ``intangibles score`` writes, or any table with one row per
person), computes per group the mean, SD, n and agreement of each score
(:func:`psychometrics.aggregate`), suppresses the groups under the minimum size, and writes
CSV, XLSX, SPSS .sav, Stata .dta or Parquet (:func:`instrument.output.write_table`, atomic;
never over the input).
"""

from __future__ import annotations

from pathlib import Path

from instrument.typography import say

__all__ = ["aggregate_command"]

#: Columns of a scored table that are never scale scores.
NOT_SCORES = ("respondent", "source_file", "source_place", "language", "order_version")


def aggregate_command(scores, *, by, out, form=None, keys=None, scales=None, min_size=5,
                      console=None) -> int:
    """The ``intangibles aggregate`` command; returns the exit code (0 done, 1 a problem
    in the input, 2 bad usage)."""
    from rich.console import Console

    from instrument.datafile import DataError
    from instrument.validation import InputError

    console = console or Console()
    try:
        return _run(Path(scores), by=list(by), out=Path(out), form=form, keys=keys,
                    scales=scales, min_size=min_size, console=console)
    except (InputError, DataError) as e:  # DataError: a missing or unreadable scores file
        say(console, "erreur", "error", tail=f": {e}", style="red")
        return e.status


def _run(path: Path, *, by, out, form, keys, scales, min_size, console) -> int:
    import psychometrics as pm
    from instrument.files import OutputError, check_output
    from instrument.output import FORMATS, write_table
    from instrument.validation import InputError, read_data
    from psychometrics.errors import PsychometricsError

    try:  # before any work: not over an input, a known suffix, a writable folder
        check_output(out, inputs=[path, *(x for x in (form, keys) if x is not None)], suffixes=FORMATS)
    except OutputError as exc:
        raise InputError(str(exc), exc.status) from None
    if min_size < 2:
        raise InputError(f"--min-size must be at least 2; got {min_size}.", 2)
    df = read_data(path)
    missing = [b for b in by if b not in df.columns]
    if missing:
        raise InputError(f"{path}: no column {missing[0]!r} (--by); the table has columns "
                         f"{', '.join(map(repr, list(df.columns)[:12]))}.")
    names, low, high = _scales(df, by, form, keys, scales, path)
    try:
        table = pm.aggregate(df, by, scales=names, low=low, high=high, min_size=min_size)
    except PsychometricsError as e:
        raise InputError(f"{path}: {e}") from e
    write_table(table, out, sheet="groups")
    shown = int((~table["suppressed"]).sum())
    by, hidden = ", ".join(by), len(table) - shown
    say(console, f"{len(table)} groupe(s) par {by} : {shown} montré(s), {hidden} masqué(s) "
        f"(moins de {min_size} personnes)",
        f"{len(table)} group(s) by {by}: {shown} shown, {hidden} suppressed "
        f"(fewer than {min_size} people)", tail=f" -> {out}")
    return 0


def _scales(df, by, form, keys, scales, path):
    """The score columns and the response range, from the form, the keys or the table."""
    import pandas as pd

    from instrument.validation import InputError

    low = high = None
    if form is not None:
        from instrument.form import load_form

        loaded = load_form(form)
        names = [s.name for s in loaded.scales]
        low, high = loaded.response_set.low, loaded.response_set.high
    elif keys is not None:
        import psychometrics as pm

        k = pm.load_keys(keys)
        names, low, high = list(k.scales), k.min, k.max
    else:
        names = [c for c in df.columns if c not in by and c not in NOT_SCORES
                 and not str(c).endswith("_n") and not str(c).startswith("careless_")
                 and pd.api.types.is_numeric_dtype(df[c])]
    if scales:
        names = list(scales)
    absent = [s for s in names if s not in df.columns]
    if absent or not names:
        raise InputError(f"{path}: no score column {absent[0] if absent else '(none found)'!r}; "
                         "give --scales, --form or --keys.")
    return names, low, high
