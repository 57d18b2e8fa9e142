"""The report as sections (instrument/sections/): the contract, and each section's view
model on a small validation."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from instrument.resources import templates_dir
from instrument.sections import SECTIONS, Context, build_all
from instrument.typography import Typography, strings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def validation():
    from psychometrics.report import validate

    rng = np.random.default_rng(3)
    n = 240
    f1, f2 = rng.normal(size=n), rng.normal(size=n)
    cols = {}
    for j in range(4):
        cols[f"T{j + 1}"] = np.clip(np.round(3 + 0.9 * f1 + rng.normal(0, 0.8, n)), 1, 5)
        cols[f"L{j + 1}"] = np.clip(np.round(3 + 0.9 * f2 + rng.normal(0, 0.8, n)), 1, 5)
    cols["L4"] = rng.integers(1, 6, n).astype(float)  # a weak item
    df = pd.DataFrame(cols)
    df["lang"] = np.where(np.arange(n) < 120, "fr", "en")
    keys = {"scales": {"trust_competence": ["T1", "T2", "T3", "T4"],
                       "learning_practice": ["L1", "L2", "L3", "L4"]}, "min": 1, "max": 5}
    labels = {"trust_competence": {"fr": "Confiance : compétence", "en": "Trust: competence"},
              "learning_practice": {"fr": "Changement de pratiques", "en": "Change in practice"}}
    return validate(df, keys, groups=["lang"], labels=labels, n_boot=20, n_iter=10)


def context(v, lang="fr"):
    t = strings(lang)
    return Context(typo=Typography(lang, v.labels, na=t["na"]), t=t, results=v.results, figures=False)


def test_every_section_has_a_module_a_partial_and_titles():
    fr, en = strings("fr"), strings("en")
    for name in SECTIONS:
        module = importlib.import_module(f"instrument.sections.{name}")
        assert list(inspect.signature(module.build).parameters) == ["results", "ctx"]
        assert (templates_dir() / "sections" / f"{name}.html.j2").is_file(), name
        assert fr[f"sec_{name}"] != en[f"sec_{name}"] or name == "items"


def test_a_section_that_does_not_apply_is_left_out(validation):
    results = {**validation.results, "efa": None, "cfa": None}
    built = build_all(results, context(validation))
    names = [s["name"] for s in built]
    assert "efa" not in names and "cfa" not in names and "validity" not in names
    assert [s["number"] for s in built] == list(range(1, len(built) + 1))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_scales_are_named_by_their_label_in_every_table(validation, lang):
    ctx = context(validation, lang)
    built = {s["name"]: s["view"] for s in build_all(validation.results, ctx)}
    label = "Changement de pratiques" if lang == "fr" else "Change in practice"
    assert label in {r["scale"] for r in built["reliability"]["rows"]}
    assert label in {r["factor"] for r in built["cfa"]["loadings"]}
    assert label in built["validity"]["factors"]
    assert any(label in r["factor"] for r in built["efa"]["rows"])
    assert label in {r["scale"] for r in built["items"]["rows"]}
    flat = repr(built)
    assert "learning_practice" not in flat.replace("'id': 'learning_practice'", "")


def test_weak_item_advice_quotes_the_numbers_of_the_scale_it_names(validation):
    ctx = context(validation, "en")
    view = {s["name"]: s["view"] for s in build_all(validation.results, ctx)}["actions"]
    rows = {r["item"]: r for r in view["revise"]}
    assert "L4" in rows
    for reason in rows["L4"]["reasons"]:
        if reason["code"] == "low-item-rest-r":
            r = validation.results["scales"]["learning_practice"]["items"]["L4"]["item_rest_r"]
            assert f"item-rest r of {ctx.typo.num(r)}" in reason["why"] and "Change in practice" in reason["why"]


def test_report_modules_are_small_and_import_nothing_private():
    """Issue 13: the report's modules (and the form loader, the workbook and codebook
    writers it reads) have no function over 80 lines of code (its docstring aside)."""
    files = [ROOT / "instrument" / "validation.py", ROOT / "instrument" / "typography.py",
             ROOT / "psychometrics" / "report.py", ROOT / "psychometrics" / "thresholds.py",
             ROOT / "instrument" / "form.py", ROOT / "instrument" / "export" / "xlsx.py",
             ROOT / "instrument" / "export" / "codebook.py",
             *sorted((ROOT / "instrument" / "sections").glob("*.py"))]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body[1:] if ast.get_docstring(node) and len(node.body) > 1 else node.body
                length = node.end_lineno - body[0].lineno + 1
                assert length <= 80, f"{path.name}: {node.name} has {length} lines"
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("instrument", "psychometrics"):
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                assert not private, f"{path.name} imports {private} from {node.module}"


@pytest.fixture(scope="module")
def nested():
    import json

    from psychometrics.report import validate

    shared = Path("/work/shared/reference/nested")
    if not shared.exists():
        pytest.skip("shared reference data absent")
    data = pd.read_csv(shared / "nested_dev.csv")
    ties = pd.read_csv(shared / "ties_dev.csv")
    keys = json.loads((shared / "keys_nested_dev.json").read_text())
    return validate(data, keys, ties=ties, n_boot=20, n_iter=10)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_contagion_section_states_what_the_design_can_conclude(nested, lang):
    built = {s["name"]: s for s in build_all(nested.results, context(nested, lang))}
    view = built["contagion"]["view"]
    assert [r["n"] for r in view["roles"]] == ["170", "186", "183"]
    assert len(view["contrasts"]) == 9 and len(view["lnam"]) == 3
    lrn = next(r for r in view["lnam"] if r["scale"] == "LRN")
    assert lrn["rho"] == ("0,28" if lang == "fr" else "0.28") and lrn["sig"]
    assert view["can"][-1].endswith(".") and view["cannot"][0].endswith(";")
    word = "cause" if lang == "fr" else "causes"
    assert word in view["cannot"][0]


def test_contagion_section_left_out_without_roles_or_ties(validation):
    built = [s["name"] for s in build_all(validation.results, context(validation))]
    assert "contagion" not in built


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_report_text_has_no_doubled_parentheses_and_french_spaces(validation, lang):
    import re

    from instrument.validation import render_html

    html = render_html(validation, lang=lang, figures=False)
    from html import unescape

    text = unescape(re.sub(r"<style>.*?</style>|<code[^>]*>.*?</code>|<[^>]+>", " ", html, flags=re.S))
    text = re.sub(r"intangibles \d+\.\d+\.\d+", "", text)  # the version
    assert "((" not in text and "))" not in text
    if lang == "fr":
        assert not re.search(r"\w[;!?]", text), re.search(r".{30}\w[;!?].{10}", text)
        assert not re.search(r"\d\.\d", text), re.search(r".{30}\d\.\d.{10}", text)
        assert not re.search(r"\bconfigural\b", text) and "Field 2018 (an" not in text


def test_why_an_analysis_did_not_run_is_said_in_the_report_language(validation):
    results = {**validation.results, "notes": [
        {"step": "contagion", "code": "unknown-role", "message": "Column 'role', row 0: role 2.0 is not one of member"},
        {"step": "efa", "code": "some-new-code", "message": "The 'data' parameter of efa is not usable"}]}
    fr = {s["name"]: s["view"] for s in build_all(results, context(validation, "fr"))}["notes"]["notes"]
    assert "rôle inconnu" in fr[0]["text"] and "is not" not in fr[0]["text"]
    assert "some-new-code" in fr[1]["text"] and "parameter" not in fr[1]["text"]
    en = {s["name"]: s["view"] for s in build_all(results, context(validation, "en"))}["notes"]["notes"]
    assert "is not one of member" in en[0]["text"]


def test_item_statements_keep_hyphenated_names_whole(validation):
    """The items table cut "Rivière-/Claire" at the line end in the PDF."""
    import dataclasses

    from instrument.validation import render_html

    v = dataclasses.replace(validation, labels={**validation.labels, "T1": {
        "fr": "Le consortium Agir ensemble à Rivière-Claire est reconnu.", "en": "Known in Rivière-Claire."}})
    html = render_html(v, lang="fr", figures=False)
    assert 'à <span class="nobr">Rivière-Claire</span> est reconnu' in html
    assert ".nobr { white-space: nowrap; }" in html


@pytest.mark.parametrize("lang, expected", [
    ("fr", "Confiance\u00a0: compétence\u00a0: invariance métrique partielle\u202f; contraintes libérées\u00a0: "
           "saturation de T2 (χ² = 11,2, p Holm = 0,026). L'invariance scalaire tient."),
    ("en", "Trust: competence: the metric invariance holds partially, releasing the loading of T2 "
           "(χ² = 11.2, Holm p = 0.026). The scalar invariance holds."),
])
def test_invariance_steps_read_as_sentences(validation, lang, expected):
    """Was "Intégrité : Invariance métrique : partielle ; ...": a capital after the colon
    and two colons in one clause."""
    from instrument.sections.invariance import steps

    fit = {"steps": [
        {"step": "metric", "verdict": "partial",
         "released": [{"parameter": "loading", "item": "T2", "X2": 11.2, "p_adj": 0.026}]},
        {"step": "scalar", "verdict": "holds", "released": []}]}
    got = steps("trust_competence", fit, context(validation, lang), named=True)
    assert " ".join(got.split()) == " ".join(expected.split())  # the kinds of space aside
