"""The validation report: psychometrics.report.validate (flags, results contract, R parity)
and instrument.validation (the command, the HTML/PDF report, escaping, small cells).

R references: ../shared/reference/ref_consortium_dev.json (make_reference.R); the R call
is written beside each comparison.
"""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import REF
from rich.console import Console

from psychometrics.report import (
    ITEM_FLAGS,
    RESPONDENT_FLAGS,
    SCALE_FLAGS,
    THRESHOLDS,
    validate,
)

FORM = "data_samples/form_member.yaml"
SECTIONS = ("sample", "items", "reliability", "factorability", "efa", "cfa", "validity",
            "invariance", "invariance_ordinal", "actions", "notes")


def _console():
    return Console(file=io.StringIO(), width=200, color_system=None)


def _toy(n=200, seed=0, extra=None):
    """Three 4-item scales (loading .7, factor r .3), 5-point answers; C4 reverse keyed."""
    rng = np.random.default_rng(seed)
    phi = np.full((3, 3), 0.3) + 0.7 * np.eye(3)
    eta = rng.multivariate_normal(np.zeros(3), phi, size=n)
    cols = {}
    for f, name in enumerate("ABC"):
        for j in range(1, 5):
            y = 0.7 * eta[:, f] + np.sqrt(1 - 0.49) * rng.standard_normal(n)
            cols[f"{name}{j}"] = np.digitize(y, [-1.3, -0.5, 0.5, 1.3]) + 1.0
    df = pd.DataFrame(cols)
    df["C4"] = 6 - df["C4"]
    df.insert(0, "respondent", [f"P{i:03d}" for i in range(n)])
    for k, v in (extra or {}).items():
        df[k] = v
    keys = {"scales": {"A": ["A1", "A2", "A3", "A4"], "B": ["B1", "B2", "B3", "B4"],
                       "C": ["C1", "C2", "C3", "-C4"]}, "min": 1, "max": 5, "id": "respondent"}
    return df, keys


# --------------------------------------------------------------------------- flags


@pytest.fixture(scope="module")
def simulated():
    """The member form, 500 simulated respondents: trigo1 weak (loading .15), lgcri1's
    intercept shifted by .8 for English respondents, and 4 straightliners written over
    4 rows (one constant answer on every item). No missing answers; answer shares
    symmetric with 5% at each end (so no floor/ceiling effect is built in)."""
    from instrument.form import load_form
    from instrument.simulate import Design, simulate

    form = load_form(FORM)
    design = Design(weak_items=("trigo1",), non_invariant=("lgcri1", "lang", "en", 0.8),
                    loading=0.75, within=0.45, between=0.3, shares=(0.05, 0.2, 0.5, 0.2, 0.05),
                    missing=0.0, dont_know=0.0, not_applicable=0.0)
    sample = simulate(form, 500, seed=7, design=design)
    df = sample.responses.copy()
    items = list(form.item_ids)
    rows = np.random.default_rng(7).choice(len(df), 4, replace=False)
    for value, r in zip((2, 4, 4, 5), rows, strict=True):
        df.loc[r, items] = value
    df[items] = df[items].astype("float64")
    kept = [s for s in form.scales if s.kind in ("facet", "construct")]
    keys = {"scales": {s.name: list(s.keys) for s in kept}, "min": 1, "max": 5, "id": "respondent"}
    model = {s.name: list(s.items) for s in kept if s.kind == "facet"}
    v = validate(df, keys, groups=["lang"], model=model, n_boot=100, seed=1)
    return v, set(df.loc[rows, "respondent"])


def test_flags_are_exactly_the_simulated_problems(simulated):
    v, straightliners = simulated
    items = {(f["item"], f["reason"]) for f in v.flags["items"]}
    # the weak item: low item-rest r, alpha rises without it, low loading; the shifted
    # item: non-invariant across lang; nothing else
    assert items == {
        ("trigo1", "low-item-rest-r"),
        ("trigo1", "raises-alpha-if-deleted"),
        ("trigo1", "low-loading"),
        ("lgcri1", "non-invariant"),
    }
    who = {f["respondent"] for f in v.flags["respondents"]}
    assert who == straightliners
    for r in straightliners:
        reasons = {f["reason"] for f in v.flags["respondents"] if f["respondent"] == r}
        # a constant answer string is both a straight line and zero variability; its
        # Mahalanobis distance may or may not reach p < .001
        assert {"straightlining", "low-irv"} <= reasons <= {"straightlining", "low-irv", "multivariate-outlier"}


def test_flag_details_name_where_and_threshold(simulated):
    v, _ = simulated
    by = {(f["item"], f["reason"]): f for f in v.flags["items"]}
    rest = by[("trigo1", "low-item-rest-r")]
    assert rest["value"] < THRESHOLDS["item_rest_r"].value == rest["threshold"] == 0.30
    assert "trust_integrity" in rest["where"]
    loading = by[("trigo1", "low-loading")]
    assert abs(loading["value"]) < 0.40
    assert any(w.startswith("cfa:") for w in loading["where"]) or "efa" in loading["where"]
    gain = by[("trigo1", "raises-alpha-if-deleted")]
    alpha = v.results["scales"]["trust_integrity"]["alpha"]
    assert gain["value"] > alpha + 0.01
    assert by[("lgcri1", "non-invariant")]["where"] == ["lang"]
    inv = v.results["invariance"]["lang"]
    assert inv["flagged"] == ["lgcri1"]
    # the scalar step's first score tests also flag lgcro2 (and lgcro5), items of the same
    # factor whose intercepts absorb part of lgcri1's shift; releasing lgcri1's intercept
    # alone makes the step hold: the released constraint is the flagged item, everywhere
    fit = inv["fits"]["legitimacy_cognitive"] if "legitimacy_cognitive" in inv["fits"] else next(
        f for f in inv["fits"].values() if f.get("flagged"))
    assert {"lgcri1", "lgcro2"} <= set(fit["flagged_first_pass"])
    assert all(i.startswith("lgcr") for i in fit["flagged_first_pass"])
    assert [s["item"] for s in fit["purification"]] == ["lgcri1"]
    assert fit["released"] == [["lgcri1", "intercept"]]
    steps = {s["step"]: s for s in fit["steps"]}
    assert steps["metric"]["verdict"] == "holds" and steps["scalar"]["verdict"] == "partial"
    assert [r["item"] for r in steps["scalar"]["released"]] == ["lgcri1"]
    assert fit["table"]["scalar"]["holds"] is False and fit["table"]["scalar_partial"]["holds"] is True
    assert fit["table"]["scalar_partial"]["compared_with"] == "metric"


def test_ordinal_invariance_beside_ml(simulated):
    # 5-point items: WLSMV invariance (Wu & Estabrook 2016) beside ML, each labelled; the
    # simulated intercept shift of lgcri1 (English respondents) is found at the intercepts
    # step and released there
    v, _ = simulated
    inv = v.results["invariance"]["lang"]
    assert inv["estimator"] == "ML"
    o = inv["ordinal"]
    assert o["estimator"] == "WLSMV" and o["identification"] == "Wu & Estabrook (2016)"
    assert o["flagged"] == ["lgcri1"]
    table = o["fits"]["model"]["table"]
    assert list(table)[:4] == ["configural", "thresholds", "loadings", "intercepts"]
    assert table["intercepts_partial"]["released"] == "lgcri1~1"
    assert table["intercepts_partial"]["p_diff"] > 0.05


def test_results_follow_the_contract(simulated):
    v, straightliners = simulated
    r = v.results
    json.dumps(r, allow_nan=False)  # plain JSON, no NaN
    # n: the respondents analyzed; the 4 straightliners are left out (exclude_careless)
    assert r["n"] == 496 and r["n_items"] == 40
    s = r["sample"]
    assert (s["n_received"], s["n_excluded"], s["n_analyzed"], s["n"]) == (500, 4, 496, 496)
    assert set(s["excluded"]) == straightliners and s["excluded_for"] == ["straightlining", "low-irv"]
    assert r["settings"]["exclude_careless"] is True
    assert all(f["excluded"] == (f["respondent"] in straightliners) for f in r["flags"]["respondents"])
    for name, s in r["scales"].items():
        for key in ("alpha", "ci_low", "ci_high", "omega_total", "omega_ci_low", "omega_ci_high",
                    "feldt_low", "feldt_high", "ordinal_alpha", "ordinal_omega", "n", "ready"):
            assert key in s, (name, key)
        assert s["ci_low"] < s["alpha"] < s["ci_high"]
        assert s["omega_ci_low"] < s["omega_total"] < s["omega_ci_high"]
        for item, it in s["items"].items():
            assert {"item_rest_r", "alpha_if_deleted"} <= set(it), (name, item)
    assert set(r["kmo"]) >= {"overall", "items"}
    assert set(r["bartlett"]) >= {"chi2", "df", "p"}
    assert r["efa"]["n_factors"] == 9 and len(r["efa"]["loadings"]) == 40
    fit = r["cfa"]["fit"]
    for key in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
                "rmsea_ci_upper", "srmr", "aic", "bic"):
        assert fit[key] is not None, key
    assert "lang" in r["invariance"] and r["invariance"]["lang"]["mode"] in ("model", "per-scale")
    assert set(r["flags"]) >= {"items", "respondents"}
    for f in r["flags"]["items"]:
        assert set(f) >= {"item", "reason"} and f["reason"] in ITEM_FLAGS
    for f in r["flags"]["respondents"]:
        assert set(f) >= {"respondent", "reason"} and f["reason"] in RESPONDENT_FLAGS
    for f in r["flags"]["scales"]:
        assert set(f) >= {"scale", "reason"} and f["reason"] in SCALE_FLAGS
    # every threshold is in the results with its source
    for name, t in THRESHOLDS.items():
        assert r["thresholds"][name] == {"value": t.value, "rule": t.rule, "source": t.source}


def test_same_seed_same_numbers():
    df, keys = _toy(150, seed=3)
    a = validate(df, keys, n_boot=30, seed=5).results
    b = validate(df, keys, n_boot=30, seed=5).results
    assert a == b
    c = validate(df, keys, n_boot=30, seed=6).results
    assert c["scales"]["A"]["ci_low"] != a["scales"]["A"]["ci_low"]


def test_scale_flags():
    # a scale of three unrelated items: low alpha and omega
    df, keys = _toy(300, seed=1)
    rng = np.random.default_rng(2)
    for j in range(1, 4):
        df[f"D{j}"] = rng.integers(1, 6, len(df)).astype(float)
    keys["scales"]["D"] = ["D1", "D2", "D3"]
    v = validate(df, keys, n_boot=30)
    reasons = {(f["scale"], f["reason"]) for f in v.flags["scales"]}
    assert ("D", "low-alpha") in reasons and ("D", "low-omega") in reasons
    assert not v.results["scales"]["D"]["ready"]
    assert v.results["scales"]["A"]["alpha"] > 0.7


def test_bad_input_names_the_column():
    from psychometrics.errors import PsychometricsError

    df, keys = _toy(60)
    with pytest.raises(PsychometricsError, match="'site'"):
        validate(df, keys, groups=["site"])
    df.loc[3, "B2"] = 7
    with pytest.raises(PsychometricsError, match="'B2'") as e:
        validate(df, keys)
    assert e.value.code == "out-of-range"


# --------------------------------------------------------------------------- groups


def test_small_groups_skipped_and_suppressed():
    from instrument.validation import render_html

    n = 200
    site = np.array(["north"] * 150 + ["south"] * 46 + ["tiny"] * 4)
    solo = np.array(["x"] * 196 + ["y"] * 4)
    df, keys = _toy(n, seed=4, extra={"site": site, "solo": solo})
    v = validate(df, keys, groups=["site", "solo"], n_boot=30)
    inv = v.results["invariance"]
    # "tiny" is below the minimum group size: left out, the others tested; results.json
    # never gives a count under 5 (None: suppressed)
    assert inv["site"]["excluded"] == {"tiny": None}
    assert inv["site"]["sizes"]["tiny"] is None and inv["site"]["sizes"]["south"] == 46
    assert v.results["sample"]["groups"]["site"]["tiny"] == {"n": None, "suppressed": True}
    assert "fits" in inv["site"] and "skipped" not in inv["site"]
    # one group only: recorded as skipped with the reason, not a crash
    assert inv["solo"]["skipped"] == "too-few-groups"
    assert "y=<5" in inv["solo"]["reason"] and "y=4" not in inv["solo"]["reason"]
    assert any(note["code"] == "too-few-groups" for note in v.results["notes"])

    html = render_html(v, lang="en")
    # group tables: the 4-respondent group shows "< 5", never its count or percentages
    rows = re.findall(r"<tr><th scope=\"row\">tiny</th>(.*?)</tr>", html)
    assert rows, "the tiny group is listed"
    for row in rows:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
        assert cells and all(c == "&lt;\u00a05" for c in cells), cells
    assert "tiny (n &lt;\u00a05)" in html  # the excluded-groups sentence
    y_rows = re.findall(r"<tr><th scope=\"row\">y</th>(.*?)</tr>", html)
    assert y_rows and all(">4<" not in row and "2.0%" not in row for row in y_rows)


# --------------------------------------------------------------------------- report


@pytest.fixture(scope="module")
def nasty():
    """A validation whose data and labels hold markup."""
    n = 160
    lang = np.array(['<script>alert("g")</script>'] * 80 + ["fr"] * 80)
    df, keys = _toy(n, seed=6, extra={"lang": lang})
    labels = {"A1": '<script>alert("x")</script> & <b>bold</b>',
              "A": {"fr": "Confiance <img src=x onerror=alert(1)>", "en": "Trust <i>x</i>"}}
    return validate(df, keys, groups=["lang"], labels=labels, n_boot=30)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_everything_from_the_data_is_escaped(nasty, lang):
    from instrument.validation import render_html

    html = render_html(nasty, lang=lang)
    low = html.lower()
    assert "<script" not in low
    assert "<img" not in low and "<b>bold" not in low and "<i>x" not in low
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(&#34;g&#34;)&lt;/script&gt;" in html  # the group value
    assert "onerror" not in low.replace("&lt;img src=x onerror=alert(1)&gt;", "")


@pytest.mark.parametrize("lang,titles", [
    ("fr", ("Échantillon", "Items", "Fidélité", "Factorisabilité et dimensionnalité",
            "Analyse factorielle exploratoire (AFE)", "Analyse factorielle confirmatoire (AFC)",
            "Validité convergente et discriminante", "Invariance de mesure",
            "Invariance de mesure des items ordinaux (WLSMV)",
            "Actions recommandées", "Notes et méthode")),
    ("en", ("Sample", "Items", "Reliability", "Factorability and dimensionality",
            "Exploratory factor analysis (EFA)", "Confirmatory factor analysis (CFA)",
            "Convergent and discriminant validity", "Measurement invariance",
            "Measurement invariance of ordinal items (WLSMV)",
            "Recommended actions", "Notes and method")),
])
def test_report_sections_in_both_languages(simulated, lang, titles):
    from instrument.validation import render_html

    v, _ = simulated
    html = render_html(v, lang=lang, source={"data": "sim.csv"})
    assert f'<html lang="{lang}">' in html
    # these sections in this order, numbered 1, 2, ... among the sections that apply
    numbers = [int(n) for n in re.findall(r"<h2>(\d+)\. ", html)]
    assert numbers == list(range(1, len(numbers) + 1))
    found = []
    for sec, title in zip(SECTIONS, titles, strict=True):
        assert f'<section id="{sec}">' in html
        found.append(int(re.search(rf"<h2>(\d+)\. {re.escape(title)}</h2>", html).group(1)))
    assert found == sorted(found) and found[0] == 1
    # self-contained: inline CSS and SVG, no script, no external resource
    assert "<style>" in html and html.count("<svg") == 4
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<link" not in html and "<script" not in html
    # a short interpretation with the threshold and its source under the tables
    assert html.count('class="interp"') >= 15
    assert "Hu &amp; Bentler" in html and "Henseler, Ringle &amp; Sarstedt 2015" in html
    assert "Terwee et al. 2007" in html and "Fornell &amp; Larcker 1981" in html
    # invariance: the text says what the table and results.json say (the released
    # constraint is the non-invariant item)
    released = {"fr": "libérées", "en": "releasing the intercept of lgcri1"}[lang]
    assert released in html and "lgcri1." in html
    # the recommended actions name the flagged items and their codes
    actions = html.split('<section id="actions">')[1].split("</section>")[0]
    assert "trigo1" in actions and "low-item-rest-r" in actions and "lgcri1" in actions
    assert "non-invariant" in actions
    if lang == "fr":
        assert "0,30" in html  # decimal comma
    else:
        assert "0.30" in html


def test_report_is_deterministic(nasty):
    from instrument.validation import render_html

    assert render_html(nasty, lang="en") == render_html(nasty, lang="en")


# --------------------------------------------------------------------------- command


@pytest.fixture(scope="module")
def consortium_run(tmp_path_factory):
    from instrument.validation import validate_command

    if not REF.is_dir():
        pytest.skip(f"R reference folder not found at {REF}")
    out = tmp_path_factory.mktemp("consortium")
    console = _console()
    code = validate_command(REF / "consortium_dev.csv", keys=REF / "consortium_dev.json", out=out,
                            groups=["lang"], lang="en", console=console, n_boot=50)
    assert code == 0, console.file.getvalue()
    ref = json.loads((REF / "ref_consortium_dev.json").read_text())
    return out, json.loads((out / "results.json").read_text()), ref, console.file.getvalue()


def test_keys_command_writes_three_files(consortium_run):
    out, results, _, printed = consortium_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert results["n"] == 800
    assert str(out / "report.html") in printed.replace("\n", "")
    assert not list(out.glob(".*.tmp"))  # atomic writes left nothing behind


def test_keys_command_matches_r(consortium_run):
    _, r, ref, _ = consortium_run
    for s, exp in ref["reliability"].items():
        got = r["scales"][s]
        # R: a <- psych::alpha(x[, items]); a$total$raw_alpha, std.alpha, G6(smc), average_r
        for key in ("alpha", "std_alpha", "g6", "average_r"):
            assert got[key] == pytest.approx(exp[key], abs=1e-9), (s, key)
        # R: a$feldt$lower.ci$raw_alpha, a$feldt$upper.ci$raw_alpha
        assert got["feldt_low"] == pytest.approx(exp["feldt_lower"], abs=1e-9)
        assert got["feldt_high"] == pytest.approx(exp["feldt_upper"], abs=1e-9)
        # R: a$item.stats$r.drop ; a$alpha.drop$raw_alpha
        for item, v in exp["item_rest_r"].items():
            assert got["items"][item]["item_rest_r"] == pytest.approx(v, abs=1e-9)
            assert got["items"][item]["alpha_if_deleted"] == pytest.approx(exp["alpha_if_deleted"][item], abs=1e-9)
        # R: psych::omega(x[, items], nfactors = 1, fm = "minres")$omega.tot
        assert got["omega_total"] == pytest.approx(exp["omega_total_psych"], abs=1e-4)
        # R: semTools::compRelSEM(cfa("F =~ ...", std.lv = TRUE))
        assert got["omega_cfa"] == pytest.approx(exp["omega_cfa"], abs=1e-4)
    # R: psych::KMO(cor(x))$MSA, $MSAi ; psych::cortest.bartlett(cor(x), n = nrow(x))
    assert r["kmo"]["overall"] == pytest.approx(ref["kmo"]["overall"], abs=1e-9)
    for item, v in ref["kmo"]["items"].items():
        assert r["kmo"]["items"][item] == pytest.approx(v, abs=1e-9)
    assert r["bartlett"]["chi2"] == pytest.approx(ref["bartlett"]["chisq"], rel=1e-9)
    assert r["bartlett"]["df"] == ref["bartlett"]["df"]
    # R: fitMeasures(lavaan::cfa(model, data = x, estimator = "ML"))
    fit = ref["cfa_ml"]["fit"]
    for key, rkey in (("chisq", "chisq"), ("cfi", "cfi"), ("tli", "tli"), ("rmsea", "rmsea"),
                      ("rmsea_ci_upper", "rmsea.ci.upper"), ("srmr", "srmr"), ("aic", "aic"),
                      ("bic", "bic")):
        assert r["cfa"]["fit"][key] == pytest.approx(fit[rkey], rel=1e-5, abs=1e-6), key
    assert r["cfa"]["fit"]["df"] == fit["df"]
    # R: standardizedSolution(fit) std.all ; semTools::AVE(fit) ; semTools::htmt(model, x)
    for name, v in ref["cfa_ml"]["std_loadings"].items():
        f, item = name.split("=~")
        assert r["cfa"]["loadings"][item][f] == pytest.approx(v, abs=1e-4), name
    for f, v in ref["cfa_ml"]["ave"].items():
        assert r["cfa"]["ave"][f] == pytest.approx(v, abs=1e-4)
    # R: cfa(model, data, group = "lang", group.equal = ...) ; fitMeasures
    inv = r["invariance"]["lang"]
    assert inv["mode"] == "model"
    for step in ("configural", "metric", "scalar"):
        exp = ref["invariance"]["lang"][step]
        got = inv["table"][step]
        assert got["chisq"] == pytest.approx(exp["chisq"], rel=1e-5)
        assert got["df"] == exp["df"]
        assert got["cfi"] == pytest.approx(exp["cfi"], abs=1e-5)
    # a well-behaved data set: no item flag
    assert r["flags"]["items"] == []


@pytest.fixture(scope="module")
def form_run(tmp_path_factory):
    from instrument.form import load_form
    from instrument.simulate import simulate
    from instrument.validation import validate_command

    form = load_form(FORM)
    sample = simulate(form, 220, seed=11)  # default design: missing answers and codes 8/9
    folder = tmp_path_factory.mktemp("form")
    data = folder / "answers.csv"
    sample.responses.to_csv(data, index=False)
    out = folder / "report"
    console = _console()
    code = validate_command(data, form=FORM, out=out, groups=["lang"], lang="fr",
                            console=console, n_boot=50)
    assert code == 0, console.file.getvalue()
    return sample, out, json.loads((out / "results.json").read_text())


def test_form_command_missing_codes_become_na(form_run):
    sample, _out, r = form_run
    items = r["item_order"]
    raw = sample.responses[items].astype("float64")
    assert raw.isin([8, 9]).to_numpy().sum() > 0  # the simulated data hold the codes...
    for item in items:
        freq = r["items"][item]["frequencies"]
        assert set(freq) <= {"1", "2", "3", "4", "5"}  # ...never analysed as answers
        expected = 100 * (raw[item].isna() | raw[item].isin([8, 9])).mean()
        assert r["sample"]["missing_items"][item] == pytest.approx(expected)
    # scales: facets and constructs of the form; model: the facets
    assert "trust" in r["scales"] and "trust_competence" in r["scales"]
    assert set(r["model"]) == {"trust_competence", "trust_integrity", "social_bridging",
                               "social_access", "learning_sectors", "learning_practice",
                               "legit_credibility", "legit_consortium", "drawback_time"}
    assert r["cfa"]["missing"] == "fiml"


def test_form_command_report_in_french(form_run):
    _, out, _ = form_run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html and "Rapport de validation des échelles" in html
    # item texts from the form, in French
    assert "Je peux compter sur l&#39;expertise des autres membres." in html
    assert (out / "report.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("kwargs,code,message", [
    ({"form": FORM, "keys": "k.json"}, 2, "got both"),
    ({}, 2, "got neither"),
    ({"form": FORM, "lang": "de"}, 2, "--lang must be one of fr, en; got 'de'"),
])
def test_command_usage_errors(tmp_path, kwargs, code, message):
    from instrument.validation import validate_command

    data = tmp_path / "d.csv"
    _toy(20)[0].to_csv(data, index=False)
    console = _console()
    assert validate_command(data, out=tmp_path / "o", console=console, **kwargs) == code
    assert message in console.file.getvalue().replace("\n", "")
    assert not (tmp_path / "o").exists()


def test_command_file_errors_name_the_file_and_column(tmp_path):
    from instrument.validation import validate_command

    df, keys = _toy(60)
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps(keys))
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)

    console = _console()
    assert validate_command(data, keys=keys_file, out=tmp_path / "o", groups=["site"], console=console) == 1
    text = console.file.getvalue().replace("\n", "")
    assert "d.csv" in text and "'site'" in text

    df.drop(columns=["B3"]).to_csv(data, index=False)
    console = _console()
    assert validate_command(data, keys=keys_file, out=tmp_path / "o", console=console) == 1
    assert "B3" in console.file.getvalue()

    console = _console()
    assert validate_command(data, form=FORM, out=tmp_path / "o", console=console) == 1
    text = console.file.getvalue().replace("\n", "")
    assert "d.csv" in text and "trcpi1" in text  # the form's items are not in the data

    bad = tmp_path / "d.txt"
    bad.write_text("x")
    console = _console()
    assert validate_command(bad, keys=keys_file, out=tmp_path / "o", console=console) == 2
    assert "d.txt" in console.file.getvalue()
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".sav"])
def test_read_data_formats(tmp_path, suffix):
    from instrument.output import write_table
    from instrument.validation import read_data

    df, _ = _toy(30)
    path = tmp_path / f"d{suffix}"
    write_table(df, path)
    back = read_data(path)
    assert list(back["A1"].astype(float)) == list(df["A1"])
    assert list(back["respondent"].astype(str)) == list(df["respondent"])


def test_heywood_cross_loading_near_constant_and_missing_flags():
    # heywood.csv: r12 r13 / r23 > 1, so h1 cannot be fitted without a negative residual
    # variance (R: psych::fa(heywood, nfactors = 1); lavaan::cfa("H =~ h1 + h2 + h3 + h4"))
    from pathlib import Path

    x = pd.read_csv(Path(__file__).resolve().parent / "reference" / "heywood.csv")
    v = validate(x, {"scales": {"H": ["h1", "h2", "h3", "h4"]}}, n_boot=30)
    hey = [f for f in v.flags["items"] if f["reason"] == "heywood"]
    assert [(f["item"], f["where"]) for f in hey] == [("h1", ["efa", "cfa"])]
    assert v.results["ordinal"] is False and "wlsmv" not in v.results["cfa"]

    rng = np.random.default_rng(9)
    n = 600
    eta = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
    cols = {}
    for f, name in enumerate("AB"):
        for j in range(1, 6):
            y = 0.75 * eta[:, f] + 0.66 * rng.standard_normal(n)
            cols[f"{name}{j}"] = np.digitize(y, [-1.3, -0.5, 0.5, 1.3]) + 1.0
    # A5 measures both factors equally; B5 is answered "5" by 84%; A2 misses 20% of answers
    cols["A5"] = np.digitize(0.5 * eta[:, 0] + 0.5 * eta[:, 1] + 0.6 * rng.standard_normal(n),
                             [-1.3, -0.5, 0.5, 1.3]) + 1.0
    cols["B5"] = np.digitize(0.75 * eta[:, 1] + 0.66 * rng.standard_normal(n),
                             [-2.6, -2.2, -1.8, -1.0]) + 1.0
    df = pd.DataFrame(cols)
    df.loc[rng.choice(n, n // 5, replace=False), "A2"] = np.nan
    keys = {"scales": {"A": [f"A{j}" for j in range(1, 6)], "B": [f"B{j}" for j in range(1, 6)]},
            "min": 1, "max": 5}
    v = validate(df, keys, n_boot=30)
    got = {(f["item"], f["reason"]) for f in v.flags["items"]}
    assert ("A5", "cross-loading") in got
    assert ("B5", "near-constant") in got and ("A2", "high-missing") in got
    assert {i for i, _ in got} <= {"A5", "B5", "A2"}
    b5 = next(f for f in v.flags["items"] if f["reason"] == "near-constant")
    top = v.results["items"]["B5"]
    freq = top["frequencies"]
    assert b5["value"] == top["modal_pct"] == pytest.approx(100 * freq["5"] / sum(freq.values()))
    assert b5["value"] > 80 and max(freq, key=freq.get) == "5"
    assert b5["where"] == ["5"] and top["modal_value"] == 5 and b5["threshold"] == 80
    pr = v.results["efa"]["primary"]["A5"]
    assert pr["second"] >= 0.30 and abs(pr["loading"]) - pr["second"] < 0.20
    assert v.results["cfa"]["missing"] == "fiml"


def test_floor_ceiling_is_judged_on_scale_scores():
    """Terwee et al. (2007): > 15% of the respondents at the lowest/highest possible SCALE
    score. Items with 45% of "5" are common and not flagged; a 3-item scale whose score is
    5 for a quarter of the respondents is (a scale flag, so the scale is not ready)."""
    rng = np.random.default_rng(12)
    n = 400
    eta = rng.multivariate_normal([0, 0], [[1, 0.3], [0.3, 1]], size=n)
    cols = {}
    for j in range(1, 5):
        cols[f"A{j}"] = np.digitize(0.75 * eta[:, 0] + 0.66 * rng.standard_normal(n),
                                    [-1.3, -0.5, 0.5, 1.3]) + 1.0
    for j in range(1, 4):  # about 45% of "5" on each item, 9 in 10 loadings
        cols[f"C{j}"] = np.digitize(0.9 * eta[:, 1] + 0.44 * rng.standard_normal(n),
                                    [-1.5, -0.9, -0.4, 0.1]) + 1.0
    df = pd.DataFrame(cols)
    keys = {"scales": {"A": ["A1", "A2", "A3", "A4"], "C": ["C1", "C2", "C3"]}, "min": 1, "max": 5}
    # everyone analyzed: on 7 items, a run of 4 identical answers is a straight line
    v = validate(df, keys, n_boot=30, exclude_careless=False)
    assert v.results["n"] == v.results["sample"]["n_received"] == n
    ceiling = 100 * (df[["C1", "C2", "C3"]] == 5).all(axis=1).mean()
    floor = 100 * (df[["C1", "C2", "C3"]] == 1).all(axis=1).mean()
    c = v.results["scales"]["C"]
    assert c["ceiling_pct"] == pytest.approx(ceiling) and ceiling > 15
    assert c["floor_pct"] == pytest.approx(floor) and c["n_scored"] == n
    assert [f for f in v.flags["scales"] if f["reason"] == "floor-ceiling"] == [
        {"scale": "C", "reason": "floor-ceiling", "value": pytest.approx(ceiling),
         "threshold": 15.0, "end": "ceiling"}]
    assert not c["ready"] and "floor-ceiling" in c["not_ready"]
    # the items' own percentages are reported, not flagged
    assert all(v.results["items"][i]["ceiling_pct"] > 30 for i in ("C1", "C2", "C3"))
    assert not [f for f in v.flags["items"] if f["item"].startswith("C")]
    assert v.results["scales"]["A"]["ceiling_pct"] < 15


def test_careless_respondents_left_out_unless_kept(tmp_path):
    """Straightliners are flagged and, by default, left out of every analysis; with
    exclude_careless=False (--keep-careless) they are analyzed too. Either way they are
    listed in flags.respondents."""
    from typer.testing import CliRunner

    from instrument.cli import app
    from psychometrics import careless

    df, keys = _toy(150, seed=8)
    items = [c for c in df.columns if c != "respondent"]
    df.loc[[3, 40, 77], items] = [[1.0] * 12, [5.0] * 12, [3.0] * 12]
    liners = {"P003", "P040", "P077"}
    # on 12 items a run of 6 identical answers is a straight line: a few attentive
    # respondents also have one (4 items of a factor in a row), but their answers still
    # vary; only respondents flagged for both straightlining and low-irv are left out
    care = careless(df, items, low=1, high=5).table
    both = care["flags"].str.contains("straightlining") & care["flags"].str.contains("low-irv")
    flagged = set(df.loc[both, "respondent"])
    assert liners <= flagged
    assert care["flags"].str.contains("straightlining").sum() > len(flagged)  # some only one flag
    v = validate(df, keys, n_boot=30)
    r = v.results
    n = 150 - len(flagged)
    assert r["n"] == n and r["sample"]["n_received"] == 150
    assert set(r["sample"]["excluded"]) == flagged and r["sample"]["n_excluded"] == len(flagged)
    assert r["scales"]["A"]["n"] == n and r["cfa"]["n"] == n
    assert {f["respondent"] for f in v.flags["respondents"] if f["excluded"]} == flagged
    kept = validate(df, keys, n_boot=30, exclude_careless=False).results
    assert kept["n"] == kept["scales"]["A"]["n"] == kept["cfa"]["n"] == 150
    assert kept["sample"]["n_excluded"] == 0 and kept["settings"]["exclude_careless"] is False
    assert {f["respondent"] for f in kept["flags"]["respondents"]} >= liners
    assert not any(f["excluded"] for f in kept["flags"]["respondents"])
    # the alpha of A moves when the straightliners are analyzed (1s, 5s and 3s agree)
    assert kept["scales"]["A"]["alpha"] != r["scales"]["A"]["alpha"]

    data, keys_file = tmp_path / "d.csv", tmp_path / "k.json"
    df.to_csv(data, index=False)
    keys_file.write_text(json.dumps(keys))
    for extra, expected in (([], n), (["--keep-careless"], 150)):
        out = tmp_path / f"o{expected}"
        res = CliRunner().invoke(app, ["validate", str(data), "--keys", str(keys_file),
                                       "--out", str(out), "--lang", "en", *extra])
        assert res.exit_code == 0, res.output
        got = json.loads((out / "results.json").read_text())
        assert got["n"] == expected and got["sample"]["n_received"] == 150
        html = (out / "report.html").read_text(encoding="utf-8")
        sample = html.split('<section id="sample">')[1].split("</section>")[0]
        assert "Respondents received" in sample and "Left out of the analyses" in sample
        assert ("left out of every analysis below" in sample) == (expected == n)
