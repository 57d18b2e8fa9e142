"""Section "Structure emboîtée / Nested structure" (instrument/sections/nesting.py): its view
model over the nesting entries of results.json, and the rendered report in both languages."""

from __future__ import annotations

import pandas as pd
import pytest

from instrument.sections import Context, build_all
from instrument.sections import nesting as section
from instrument.typography import Typography, strings
from instrument.validation import render_html
from tests.conftest import REF

NESTED = REF / "nested"


@pytest.fixture(scope="module")
def validation():
    if not NESTED.is_dir():
        pytest.skip(f"shared nested reference not found at {NESTED}")
    import psychometrics as pm

    data = pd.read_csv(NESTED / "nested_dev.csv")
    data.loc[5, "org"] = None  # a missing code: reported, the rest analysed
    keys = pm.load_keys(NESTED / "keys_nested_dev.json")
    doc = {"scales": {k: list(v) for k, v in keys.scales.items()}, "min": 1, "max": 5,
           "id": "respondent", "cluster": ["org", "consortium"], "role": "role"}
    return pm.validate(data, doc, n_boot=20, n_iter=5)


def context(v, lang="fr"):
    t = strings(lang)
    return Context(typo=Typography(lang, v.labels, na=t["na"]), t=t, results=v.results, figures=False)


def test_not_applicable_without_clusters(validation):
    results = {k: v for k, v in validation.results.items() if k not in ("nesting", "clusters")}
    assert section.build(results, context(validation)) is None
    assert "nesting" not in [s["name"] for s in build_all(results, context(validation))]


def test_view_model(validation):
    view = section.build(validation.results, context(validation))
    org, _ = view["levels"]
    assert [r["scale"] for r in org["icc"]] == ["TRU", "SOC", "LRN"]
    tru = org["icc"][0]
    assert tru["icc1"].startswith("0,11") and not tru["ok"]  # decimal comma; ICC1 about .11
    assert tru["verdict"].startswith("non") and "CCI(2) < 0,70" in tru["verdict"]  # unreliable means
    assert org["sizes"][0]["size"].startswith("<")             # small groups pooled, never listed
    assert all(not r["size"].isdigit() or int(r["size"]) >= 5 for r in org["sizes"])
    assert "O001" in org["agreement"][0]["codes"]              # groups below threshold by code
    assert view["twolevel"]["fitted"] and "SRMR" in view["twolevel"]["text"]
    assert any("Heywood" in w for w in view["twolevel"]["warnings"])
    codes = {i["code"] for i in view["issues"]}
    assert "missing-cluster-code" in codes
    assert {r["role"] for r in view["roles"]} == {"member", "colleague", "nonmember"}


def test_consortium_level_has_no_twolevel_cfa_of_its_own(validation):
    view = section.build(validation.results, context(validation))
    assert view["levels"][1]["name"] == "consortium"
    assert len(view["levels"][1]["icc"]) == 3


@pytest.mark.parametrize("lang, title, foreign", [("fr", "Structure emboîtée", "negative variance"),
                                                   ("en", "Nested structure", "CCI(2)")])
def test_rendered_in_both_languages(validation, lang, title, foreign):
    html = render_html(validation, lang=lang, figures=True)
    start = html.index('id="nesting"')
    part = html[start:html.index("</section>", start)]
    assert title in html and foreign not in part
    assert "<svg" in part                                      # the rwg(j) figure
    assert "LeBreton" in part and "Bliese" in part


def test_variance_split_table(validation):
    view = section.build(validation.results, context(validation))
    v = view["variance"]
    assert v["columns"] == ["Personnes", "org", "consortium"]
    tru = v["rows"][0]
    assert tru["scale"] == "TRU" and all(s.endswith("\u00a0%") for s in tru["shares"])
    shares = [float(s.split("\u00a0")[0].replace(",", ".")) for s in tru["shares"]]
    assert sum(shares) == pytest.approx(100, abs=0.15) and shares[0] > 80  # mostly between people
    html = render_html(validation, lang="en", figures=False)
    assert "Variance decomposition" in html and "People" in html
