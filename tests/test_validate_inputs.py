"""validate's input: checked in one place (psychometrics.report), keys read once.

The command line converts and passes the data on; the checks (keys against the columns,
numeric answers, the response range) are validate's, and their messages name the file,
the column, the value and the file's row."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

import psychometrics as pm
from psychometrics.errors import PsychometricsError
from psychometrics.keys import KeysError

KEYS = {"scales": {"A": ["A1", "A2", "A3"], "B": ["B1", "B2", "-B3"]}, "min": 1, "max": 5}


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: rng.integers(1, 6, n).astype(float) for c in ("A1", "A2", "A3", "B1", "B2", "B3")})


def _console():
    return Console(file=io.StringIO(), width=300, color_system=None)


def test_a_keys_object_is_checked_not_read_again(monkeypatch):
    import psychometrics.report as report

    keys = pm.load_keys(KEYS)

    def read_again(*_a, **_k):
        raise AssertionError("a Keys object went through load_keys again")

    monkeypatch.setattr(report, "load_keys", read_again)
    v = report.validate(_data(), keys, n_boot=20, n_iter=5)
    assert set(v.results["scales"]) == {"A", "B"}
    with pytest.raises(KeysError) as e:  # the same checks against the data's columns
        report.validate(_data().drop(columns=["B3"]), keys, n_boot=20, n_iter=5)
    assert e.value.code == "unknown-item" and "scale 'B', item '-B3'" in str(e.value)


def test_missing_items_are_listed_once_each_and_counted_beyond_ten():
    scales = {"S": [f"x{i}" for i in range(14)], "T": [f"x{i}" for i in range(3)]}
    with pytest.raises(KeysError) as e:
        pm.load_keys({"scales": scales}, columns=["y"])
    messages = [m for _c, m in e.value.problems]
    assert len(messages) == 11  # ten by name, then the rest counted
    assert "item 'x0' (and 1 other scale)" in messages[0]
    assert "4 more item(s) are not data columns: 'x10', 'x11', 'x12', 'x13'." in messages[-1]


def test_command_names_the_file_column_value_and_file_row(tmp_path):
    from instrument.validation import validate_command

    df = _data().astype({"A2": object})
    df.loc[4, "A2"] = "beaucoup"  # the 5th respondent: row 6 of the file (header in row 1)
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    keys = tmp_path / "keys.json"
    keys.write_text(pd.Series(KEYS).to_json())
    console = _console()
    assert validate_command(data, keys=keys, out=tmp_path / "o", console=console) == 1
    text = console.file.getvalue()
    assert "d.csv" in text and "'A2'" in text and "'beaucoup'" in text and "(row 6)" in text
    assert not (tmp_path / "o").exists()


def test_form_data_with_text_answers_is_refused_not_blanked(tmp_path):
    """With --form the missing codes become NA, but a word typed in an answer column is
    refused (naming it), never turned silently into a missing answer."""
    from instrument.form import load_form
    from instrument.validation import validate_command

    form = load_form("data_samples/form_member.yaml")
    rng = np.random.default_rng(1)
    df = pd.DataFrame({i: rng.integers(1, 6, 40) for i in form.item_ids}).astype(object)
    item = form.item_ids[3]
    df.loc[2, item] = "oui"
    df.loc[3, item] = 8  # "Je ne sais pas": a missing code, not an error
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    console = _console()
    assert validate_command(data, form="data_samples/form_member.yaml", out=tmp_path / "o", console=console) == 1
    text = console.file.getvalue()
    assert f"'{item}'" in text and "'oui'" in text and "(row 4)" in text


def test_out_of_range_is_checked_by_validate():
    df = _data()
    df.loc[7, "B2"] = 6
    with pytest.raises(PsychometricsError) as e:
        pm.validate(df, KEYS, n_boot=20, n_iter=5)
    assert e.value.code == "out-of-range" and "'B2'" in str(e.value) and "row 7" in str(e.value)


def test_form_capacity_question_is_not_read_as_the_respondent_role(tmp_path):
    """The sample form's "role" asks in what capacity one takes part (1, 2), not the
    respondent's role (member, colleague...): the report said "unknown-role" under
    analyses not run. Without respondent_role and ties, no contagion analysis."""
    import json

    from instrument.form import load_form
    from instrument.validation import validate_command

    form = load_form("data_samples/form_member.yaml")
    assert "role" in {q.id for q in form.context_block}
    rng = np.random.default_rng(2)
    df = pd.DataFrame({i: rng.integers(1, 6, 80) for i in form.item_ids})
    df.insert(0, "role", rng.integers(1, 3, 80))
    df.insert(0, "respondent", [f"R{i:03d}" for i in range(80)])
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    assert validate_command(data, form="data_samples/form_member.yaml", out=tmp_path / "o",
                            console=_console(), n_boot=20) == 0
    results = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert "contagion" not in results
    assert not [n for n in results["notes"] if n["step"] == "contagion"]
