"""Section "invariance of ordinal items (WLSMV)" (instrument/sections/invariance_ordinal.py):
its view model over results.json ``invariance.<group>.ordinal`` and the rendered report in
both languages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrument.sections import Context, build_all
from instrument.sections import invariance_ordinal as section
from instrument.typography import Typography, strings
from instrument.validation import render_html


@pytest.fixture(scope="module")
def validation():
    """Two 4-item five-point scales, 2 x 150 respondents; T3's answers are shifted up in
    the English group (an intercept difference)."""
    from psychometrics.report import validate

    rng = np.random.default_rng(11)
    n = 300
    en = np.arange(n) >= 150
    f1, f2 = rng.normal(size=n), 0.4 * rng.normal(size=n) + rng.normal(size=n) * 0.9
    cols = {}
    for j in range(4):
        cols[f"T{j + 1}"] = 3 + 0.9 * f1 + rng.normal(0, 0.7, n) + (0.9 * en if j == 2 else 0)
        cols[f"L{j + 1}"] = 3 + 0.9 * f2 + rng.normal(0, 0.7, n)
    df = pd.DataFrame({k: np.clip(np.round(v), 1, 5) for k, v in cols.items()})
    df["lang"] = np.where(en, "en", "fr")
    keys = {"scales": {"trust_competence": ["T1", "T2", "T3", "T4"],
                       "learning_practice": ["L1", "L2", "L3", "L4"]}, "min": 1, "max": 5}
    return validate(df, keys, groups=["lang"], n_boot=20, n_iter=10)


def context(v, lang="fr"):
    t = strings(lang)
    return Context(typo=Typography(lang, v.labels, na=t["na"]), t=t, results=v.results, figures=False)


def test_results_hold_both_estimators(validation):
    inv = validation.results["invariance"]["lang"]
    assert inv["estimator"] == "ML" and inv["ordinal"]["estimator"] == "WLSMV"
    assert "T3" in inv["ordinal"]["flagged"]


def test_view_model(validation):
    view = section.build(validation.results, context(validation))
    (g,) = view["groups"]
    rows = g["tables"][0]["rows"]
    assert [r["model"].split(" ")[0] for r in rows[:2]] == ["configurale", "seuils"]
    assert any("partielle" in r["model"] and "T3~1" in r["released"] for r in rows)
    assert "," in rows[0]["cfi"]                                # decimal comma
    assert "T3" in g["flagged"] and any(t["item"] == "T3" and t["flag"] for t in g["tests"])


def test_left_out_without_ordinal_results(validation):
    results = dict(validation.results)
    results["invariance"] = {g: {k: v for k, v in inv.items() if k != "ordinal"}
                             for g, inv in results["invariance"].items()}
    assert section.build(results, context(validation)) is None
    assert "invariance_ordinal" not in [s["name"] for s in build_all(results, context(validation))]


@pytest.mark.parametrize(("lang", "title"), [("fr", "items ordinaux (WLSMV)"), ("en", "ordinal items (WLSMV)")])
def test_rendered(validation, lang, title):
    html = render_html(validation, lang=lang, figures=False)
    start = html.index('id="invariance_ordinal"')
    part = html[start:html.index("</section>", start)]
    assert title in part and "Wu" in part and "Satorra" in part


def test_categories_a_group_never_uses_are_merged_and_said():
    """lavaan refuses an ordinal item whose category is empty in one group; the report
    merges it with its neighbour toward the middle, fits, and says so in both languages."""
    from psychometrics.ordinal_invariance import merge_empty_categories, ordinal_summary

    rng = np.random.default_rng(3)
    n = 400
    g = np.where(np.arange(n) < 200, "fr", "en")
    f = rng.normal(size=n)
    x = pd.DataFrame({f"I{j}": np.clip(np.round(3 + f + rng.normal(0, 0.8, n)), 1, 5) for j in range(4)})
    x.loc[(g == "en") & (x["I0"] == 1), "I0"] = 2       # nobody in 'en' answers 1 to I0
    x.loc[(g == "fr") & (x["I1"] == 5), "I1"] = 4       # nobody in 'fr' answers 5 to I1
    x["lang"] = g
    merged_data, merged = merge_empty_categories(x, ["I0", "I1", "I2", "I3"], "lang")
    assert merged == {"I0": [[1, 2]], "I1": [[5, 4]]}
    assert sorted(merged_data["I0"].unique()) == [2, 3, 4, 5] and x["I0"].min() == 1   # input kept
    summary = ordinal_summary(x, {"F": ["I0", "I1", "I2", "I3"]}, "lang")
    assert summary["merged_categories"] == merged and "table" in summary["fits"]["model"]
    results = {"invariance": {"lang": {"ordinal": summary}}}
    for lang, words in (("fr", "Catégories fusionnées"), ("en", "Categories merged")):
        t = strings(lang)
        ctx = Context(typo=Typography(lang, {}, na=t["na"]), t=t, results=results, figures=False)
        (entry,) = section.build(results, ctx)["groups"]
        assert words in entry["merged"] and "I0 1 → 2" in entry["merged"] and "I1 5 → 4" in entry["merged"]
