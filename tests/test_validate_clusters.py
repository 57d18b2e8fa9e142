"""``validate --form``: the form's organization and consortium context questions are the
nesting levels when no ``--cluster`` is given (said in results.json and in the report);
``--cluster`` still overrides them; a question answered with one code only is no level."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from rich.console import Console

from instrument.form import load_form
from instrument.simulate import simulate
from instrument.validation import form_clusters, validate_command

SPEC = """id: nested_small
version: '1'
title: {fr: Confiance, en: Trust}
introduction: {fr: Merci., en: Thank you.}
consortium: {fr: Agir ensemble, en: Acting Together}
languages: [fr, en]
role: colleague
select:
  constructs: [trust]
  levels: [individual]
context_block: [sector, respondent_role, organization_id, consortium_id]
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """150 colleagues in 30 organizations in 6 consortia, answering a 9-item trust form."""
    root = tmp_path_factory.mktemp("clusters")
    spec = root / "form.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    form = load_form(spec)
    data = simulate(form, 150, seed=3).responses
    org = np.arange(150) % 30
    data["organization_id"] = [f"O{o + 1:02d}" for o in org]
    data["consortium_id"] = [f"C{o // 5 + 1}" for o in org]
    path = root / "data.csv"
    data.to_csv(path, index=False)
    return spec, path, form, data


def _run(study, tmp_path, **options):
    spec, data, *_ = study
    out = tmp_path / "report"
    console = Console(file=io.StringIO(), width=200)
    assert validate_command(data, form=spec, out=out, console=console, n_boot=20, **options) == 0
    return json.loads((out / "results.json").read_text()), (out / "report.html").read_text()


def test_the_form_questions_are_the_levels(study, tmp_path):
    results, html = _run(study, tmp_path)
    assert results["clusters"]["levels"] == ["organization_id", "consortium_id"]
    assert results["clusters"]["origin"] == "form"
    assert set(results["nesting"]) == {"organization_id", "consortium_id"}
    assert results["nesting"]["organization_id"]["trust"]["n_groups"] == 30
    assert "questions de contexte du formulaire" in html and "Organisme, Consortium" in html and "<code>--cluster</code>" in html
    assert re.search(r"Niveau\s*:\s*Organisme", html)


def test_cluster_option_overrides_the_form(study, tmp_path):
    results, html = _run(study, tmp_path, clusters=["consortium_id"])
    assert results["clusters"]["levels"] == ["consortium_id"]
    assert results["clusters"]["origin"] == "option"
    assert "donnés à la commande" in html


def test_a_question_with_one_code_is_no_level(study):
    _, _, form, data = study
    assert form_clusters(form, data) == ["organization_id", "consortium_id"]
    one = data.assign(consortium_id="C1")
    assert form_clusters(form, one) == ["organization_id"]
    assert form_clusters(form, one.drop(columns="organization_id")) == []
