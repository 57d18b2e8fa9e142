"""``intangibles demo``, end to end (n = 300, seed 2026): every file accounted for, the
results.json contract, and the report finds exactly what the demo plants (DEMO_DESIGN):
the weak item lepri5, the non-invariant item trigi2 (English), the straightliners, the
share of the scores between consortia; and nothing else. About 25 s (a third of it the PDF).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from psychometrics.report import ITEM_FLAGS, RESPONDENT_FLAGS, SCALE_FLAGS

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples" / "returned"
N, SEED = 300, 2026
SECTIONS = {
    "sample": "Échantillon", "items": "Items", "reliability": "Fidélité",
    "factorability": "Factorisabilité et dimensionnalité",
    "efa": "Analyse factorielle exploratoire (AFE)",
    "cfa": "Analyse factorielle confirmatoire (AFC)",
    "validity": "Validité convergente et discriminante", "invariance": "Invariance de mesure",
    "invariance_ordinal": "Invariance de mesure des items ordinaux (WLSMV)",
    "actions": "Actions recommandées", "notes": "Notes et méthode",
}
WEAK_ITEM_CODES = {"low-item-rest-r", "raises-alpha-if-deleted", "low-loading"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from instrument.demo import demo_command

    out = tmp_path_factory.mktemp("demo")
    console = Console(file=io.StringIO(), width=200, color_system=None)
    code = demo_command(out, n=N, seed=SEED, console=console)
    printed = console.file.getvalue()
    assert code == 0, printed
    results = json.loads((out / "report" / "results.json").read_text(encoding="utf-8"))
    return out, results, printed


@pytest.fixture(scope="module")
def truth():
    """The simulated sample behind the demo (same form, design, n and seed)."""
    from instrument.demo import DEMO_DESIGN
    from instrument.form import load_form
    from instrument.resources import samples_dir
    from instrument.simulate import simulate

    form = load_form(samples_dir() / "form_member.yaml")
    return simulate(form, N, seed=SEED, design=DEMO_DESIGN)


def _log(out: Path) -> tuple[list[dict], list[dict]]:
    """The scoring log: one row per file (respondents filled in), then one per problem."""
    with open(out / "scoring-log.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    files = [r for r in rows if r["respondents"] != ""]
    problems = [r for r in rows if r["respondents"] == ""]
    assert rows[: len(files)] == files  # files first, then their problems
    return files, problems


# --------------------------------------------------------------------------- files


def test_every_file_is_accounted_for(demo):
    out, results, printed = demo
    files, _ = _log(out)
    on_disk = sorted(p.name for p in (out / "returned").iterdir() if p.is_file())
    assert sorted(Path(r["file"]).name for r in files) == on_disk
    samples = [p for p in SAMPLES.iterdir() if p.is_file() and p.name != "expected.csv"]
    assert len(on_disk) == N + len(samples) == 316
    status = [r["status"] for r in files]
    scored = sum(s in ("scored", "scored-with-issues") for s in status)
    rejected = status.count("rejected")
    assert scored + rejected == len(files) and rejected > 0
    assert f"{len(files)} files in = {scored} scored + {rejected} rejected" in printed
    # every simulated workbook is scored, one respondent each
    simulated = [r for r in files if not Path(r["file"]).name.startswith("sample-")]
    assert len(simulated) == N
    assert all(r["status"] == "scored" and r["respondents"] == "1" for r in simulated)
    # the scored respondents are the ones validated
    assert results["sample"]["n_received"] == sum(int(r["respondents"]) for r in files) == 315


def test_sample_files_get_their_expected_outcome(demo):
    out, _, _ = demo
    files, problems = _log(out)
    by_name = {Path(r["file"]).name: r for r in files}
    codes: dict[str, set] = {}
    for p in problems:
        codes.setdefault(Path(p["file"]).name, set()).add(p["code"])
    for r in files:  # a rejected file's reason is on its own row, not repeated as a problem
        if r["status"] == "rejected":
            codes.setdefault(Path(r["file"]).name, set()).add(r["code"])
    with open(SAMPLES / "expected.csv", encoding="utf-8", newline="") as fh:
        expected = [r for r in csv.DictReader(fh) if r["file"] != "expected.csv"]  # not copied
    assert len(expected) == 16
    for row in expected:
        got = by_name[f"sample-{row['file']}"]
        assert got["status"] == row["status"], row["file"]
        assert ";".join(sorted(codes.get(f"sample-{row['file']}", ()))) == row["codes"], row["file"]
        assert int(got["respondents"]) == int(row["respondents"]), row["file"]
        if row["status"] == "rejected":  # the foreign files, each with its reason
            assert got["code"] == row["codes"].split(";")[0] and got["message"]
    rejected = {r["file"]: r["codes"] for r in expected if r["status"] == "rejected"}
    assert rejected == {
        "member_R130_fr_v2.xlsx": "unknown-form-version",
        "member_R131_fr_no-meta.xlsx": "missing-metadata",
        "member_R132_en.xlsx": "legacy-xls",
        "member_fr_blank.xlsx": "empty-response",
        "member_wrong-columns.csv": "missing-column",
    }


# --------------------------------------------------------------------------- results


def test_results_follow_the_contract(demo):
    _, r, _ = demo
    json.dumps(r, allow_nan=False)
    s = r["sample"]
    # 315 received, the 12 straightliners left out, 303 analyzed
    assert (s["n_received"], s["n_excluded"], r["n"]) == (315, 12, 303)
    assert s["n_analyzed"] == s["n"] == r["n"] and len(s["excluded"]) == 12
    assert r["n_items"] == 40
    for name, e in r["scales"].items():
        for key in ("alpha", "ci_low", "ci_high", "omega_total", "floor_pct", "ceiling_pct"):
            assert e[key] is not None, (name, key)
        assert e["ci_low"] < e["alpha"] < e["ci_high"] and e["n"] <= r["n"]
        for item, it in e["items"].items():
            assert it["item_rest_r"] is not None and it["alpha_if_deleted"] is not None, (name, item)
    assert r["kmo"]["overall"] > 0.8 and r["bartlett"]["p"] < 0.05
    assert r["efa"]["n_factors"] == 9 and r["efa"]["n"] == 303
    fit = r["cfa"]["fit"]
    for key in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
                "rmsea_ci_upper", "srmr", "aic", "bic"):
        assert fit[key] is not None, key
    assert r["cfa"]["n"] == 303 and all(r["cfa"]["meets"].values())
    inv = r["invariance"]["language"]
    assert inv["sizes"] and inv["family_size"] > 0 and inv["fits"]
    # two respondents of the sample CSV give no language: in the sample's groups, not tested
    no_language = r["sample"]["groups"]["language"].get("NA", {}).get("n", 0)
    assert sum(inv["sizes"].values()) + no_language == 303
    for f in r["flags"]["items"]:
        assert {"item", "reason"} <= set(f) and f["reason"] in ITEM_FLAGS
    for f in r["flags"]["respondents"]:
        assert {"respondent", "reason", "excluded"} <= set(f) and f["reason"] in RESPONDENT_FLAGS
    for f in r["flags"]["scales"]:
        assert {"scale", "reason"} <= set(f) and f["reason"] in SCALE_FLAGS


def test_flags_are_exactly_the_planted_problems(demo, truth):
    _, r, _ = demo
    items: dict[str, set] = {}
    for f in r["flags"]["items"]:
        items.setdefault(f["item"], set()).add(f["reason"])
    # the weak item (loading .15): one or more of its codes; the shifted item: non-invariant
    assert set(items) == {"lepri5", "trigi2"}
    assert items["lepri5"] and items["lepri5"] <= WEAK_ITEM_CODES
    assert items["trigi2"] == {"non-invariant"}
    assert r["invariance"]["language"]["flagged"] == ["trigi2"]
    # respondents: the simulated straightliners, nobody else (no multivariate outlier on
    # this sample: Tukey's far-out fence of psychometrics.careless), all of them left out
    liners = set(truth.careless.index)
    assert len(liners) == 12 and set(truth.careless) == {"straightlining"}
    flagged = {f["respondent"] for f in r["flags"]["respondents"]}
    assert flagged == liners == set(r["sample"]["excluded"])
    for f in r["flags"]["respondents"]:
        assert f["reason"] in ("straightlining", "low-irv") and f["excluded"] is True
    # scales not ready: only the weak item's facet, for its low AVE (the weak item lowers its
    # alpha too: .696 on this draw, just under .70), and nothing else
    not_ready = {(f["scale"], f["reason"]) for f in r["flags"]["scales"]}
    assert ("learning_practice", "low-ave") in not_ready
    assert not_ready <= {("learning_practice", "low-ave"), ("learning_practice", "low-alpha")}
    assert [s for s, e in r["scales"].items() if not e["ready"]] == ["learning_practice"]


def test_nesting_finds_the_planted_consortium_effect(demo):
    """DEMO_DESIGN puts 8% of each factor's variance between the five consortia (5% between
    organizations, which the sample form does not ask: counted with the people). Every
    scale's score has a share between consortia and a positive ICC(1); on average a little
    under 8% (five answer categories and measurement error attenuate it), and with five
    consortia the share varies a lot from scale to scale (3.5% to 14% on this draw). On
    main before the planted effect: 0% and ICC(1) from -0.02 to 0.01."""
    _, r, _ = demo
    nesting = r["nesting"]["consortium_id"]
    assert set(nesting) == set(r["scales"])
    shares = [e["variance"]["share"]["consortium_id"] for e in nesting.values()]
    assert all(share > 0.02 for share in shares) and 0.04 < sum(shares) / len(shares) < 0.10
    assert all(e["icc1"] > 0 and e["variance"]["converged"] for e in nesting.values())
    assert sum(e["p"] < 0.05 for e in nesting.values()) >= len(nesting) // 2


# --------------------------------------------------------------------------- report


def test_report_has_every_section(demo):
    out, _, printed = demo
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    # these sections in this order, numbered 1, 2, ... among the sections that apply
    numbers = [int(n) for n in re.findall(r"<h2>(\d+)\. ", html)]
    assert numbers == list(range(1, len(numbers) + 1))
    found = []
    for sec, title in SECTIONS.items():
        assert f'<section id="{sec}">' in html
        found.append(int(re.search(rf"<h2>(\d+)\. {re.escape(title)}</h2>", html).group(1)))
    assert found == sorted(found) and found[0] == 1
    sample = html.split('<section id="sample">')[1].split("</section>")[0]
    assert ("Réponses reçues de 315 personnes\u202f; 12 ont été écartées pour réponses "
            "inattentives (voir plus bas)\u00a0: les analyses portent sur 303 personnes.") in sample
    actions = html.split('<section id="actions">')[1].split("</section>")[0]
    assert "lepri5" in actions and "trigi2" in actions and "non-invariant" in actions
    # scales by their French label, the weak item's advice quoting each scale's own numbers
    assert "Changement de pratiques" in actions and "learning_practice" not in actions
    assert ("r item-reste de 0,09 (&lt; 0,30) dans Apprentissage\u202f; "
            "r item-reste de 0,10 (&lt; 0,30) dans Changement de pratiques") in actions
    assert (out / "report" / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert (out / "scores.xlsx").is_file() and (out / "questionnaire").is_dir()
    assert "Done in" in printed


def test_console_lines_are_french_then_english(demo):
    """The demo's own lines pair the languages as the CLI's help does: French first, then
    English, a step line within 80 columns."""
    _, _, printed = demo
    steps = [line for line in printed.splitlines() if line.startswith("› ")]
    assert [line[2:5] for line in steps] == ["1/5", "2/5", "3/5", "4/5", "5/5"]
    assert all(" / " in line and len(line) <= 80 for line in steps), steps
    assert "› 3/5 Cotation des fichiers retournés / scoring the returned files" in steps
    assert "Planté\u00a0: item faible lepri5, trigi2 non invariant (en), 12 en ligne droite" in printed
    assert "Planted: weak item lepri5, trigi2 non-invariant (en), 12 straightliners" in printed
    assert "Variance entre consortiums 8\u00a0%, entre organismes 5\u00a0% (non demandés)" in printed
    assert printed.index("Terminé en ") < printed.index("Done in ")


def test_demo_writes_a_feedback_report_per_consortium(demo):
    """Issue 17: one report per consortium of the demo, each summary.json mean equal to the
    mean of its respondents' scale scores in scores.xlsx (1e-12)."""
    out, _, printed = demo
    scores = pd.read_excel(out / "scores.xlsx", engine="calamine")
    index = (out / "feedback" / "index.html").read_text(encoding="utf-8")
    assert "Rapports de rétroaction par consortium" in index
    reported = 0
    for code, rows in scores.groupby("consortium_id"):
        summary = json.loads((out / "feedback" / code / "summary.json").read_text(encoding="utf-8"))
        assert summary["n"] == len(rows)
        if summary["suppressed"]:  # a sample file's own consortium code: too few people
            assert len(rows) < 5 and code in index
            continue
        reported += 1
        for scale, entry in summary["scales"].items():
            assert entry["mean"] == pytest.approx(rows[scale].mean(), abs=1e-12)
        assert (out / "feedback" / code / "feedback.pdf").read_bytes()[:5] == b"%PDF-"
    assert reported >= 5  # the simulated consortia C01-C05: positions among them are shown
    assert "feedback" in printed
