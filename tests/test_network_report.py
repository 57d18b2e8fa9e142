"""`intangibles network`: the report, its SVG and results.json on the shared nested study."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from instrument.cli import app
from instrument.network_report import network_command

SHARED = Path("/work/shared/reference/nested")
pytestmark = pytest.mark.skipif(not SHARED.exists(), reason="shared reference data absent")


def run(tmp_path, **kw):
    buf = io.StringIO()
    code = network_command(SHARED / "ties_dev.csv", nodes=SHARED / "orgs_dev.csv", out=tmp_path,
                           console=Console(file=buf, width=200), **kw)
    return code, buf.getvalue()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("net")
    code, _ = run(out, outcome="outcome", covariates=["member_org", "x1"])
    assert code == 0
    return out


def test_results_json_matches_the_library(report):
    res = json.loads((report / "results.json").read_text(encoding="utf-8"))
    ref = json.loads((SHARED / "ref_nested_dev.json").read_text())
    assert res["network"]["density"] == pytest.approx(ref["network"]["density"], abs=1e-10)
    assert res["lnam"]["rho1"] == pytest.approx(ref["lnam"]["rho1"], abs=1e-4)
    assert set(res["lnam"]["table"]) == {"rho1", "const", "member_org", "x1"}
    assert res["moran"]["p"] < 0.05 and res["n_used"] == 123
    assert len(res["nodes"]) == 123 and len(res["edges"]) == 255


def test_html_is_french_self_contained_and_in_plain_words(report):
    html = (report / "network.html").read_text(encoding="utf-8")
    html = html.replace("\u202f", " ").replace("\u00a0", " ")   # Québec spaces (typography)
    assert '<html lang="fr">' in html and "<script" not in html and "http" not in html.split("<svg")[0]
    assert "Les scores se ressemblent-ils entre partenaires ?" in html
    assert "ρ = 0,28" in html and "p &lt; 0,001" in html
    assert "ne prouve pas" in html
    svg = (report / "network.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count("<path") > 100


def test_english_membership_drawing(tmp_path):
    code, _ = run(tmp_path, lang="en")
    html = (tmp_path / "network.html").read_text(encoding="utf-8")
    assert code == 0 and '<html lang="en">' in html and "member" in html
    assert "Do partners have similar scores?" not in html   # no outcome, no model section


def test_bad_inputs_exit_with_a_message(tmp_path):
    ties = tmp_path / "ties.csv"
    pd.DataFrame({"from": ["O001"], "to": ["NOPE"]}).to_csv(ties, index=False)
    buf = io.StringIO()
    code = network_command(ties, nodes=SHARED / "orgs_dev.csv", out=tmp_path / "o",
                           console=Console(file=buf, width=200))
    assert code == 1 and "unknown-node" in buf.getvalue() and "'NOPE'" in buf.getvalue()
    assert not (tmp_path / "o").exists()
    code, out = run(tmp_path / "p", outcome="nope")
    assert code == 2 and "'nope'" in out


def test_cli_help_and_run(tmp_path):
    r = CliRunner().invoke(app, ["network", "--help"])
    assert r.exit_code == 0 and "--outcome" in r.output
    r = CliRunner().invoke(app, ["network", str(SHARED / "ties_dev.csv"), "--nodes",
                                 str(SHARED / "orgs_dev.csv"), "--out", str(tmp_path)])
    assert r.exit_code == 0 and (tmp_path / "network.html").exists()


def test_directed_ratings_table_like_partner(tmp_path):
    ties = tmp_path / "ties.csv"
    nodes = tmp_path / "orgs.csv"
    pd.DataFrame({"from": ["A", "B", "C", "A"], "to": ["B", "A", "A", "C"], "trust": [4, 2, 3, 1],
                  "value": [3, 3, 4, 2], "respondent": ["r1", "r2", "r3", "r1"]}).to_csv(ties, index=False)
    pd.DataFrame({"code": ["A", "B", "C", "D"], "name_fr": ["Alpha", "Bêta", "Gamma", "Delta"],
                  "name_en": ["Alpha", "Beta", "Gamma", "Delta"]}).to_csv(nodes, index=False)
    code = network_command(ties, nodes=nodes, out=tmp_path / "o", directed=True,
                           console=Console(file=io.StringIO()))
    html = (tmp_path / "o" / "network.html").read_text(encoding="utf-8")
    assert code == 0 and "Ce que les partenaires disent de chaque organisation" in html
    assert "<th scope=\"row\">Alpha</th><td class=\"num\">2</td><td class=\"num\">2,50</td>" in html
    res = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert res["network"]["reciprocity"] == 1.0 and "isolated-nodes" in res["network"]["notes"]


def test_output_folder_is_checked_before_the_work(tmp_path):
    ties = tmp_path / "ties.csv"
    pd.DataFrame({"from": ["A"], "to": ["B"]}).to_csv(ties, index=False)
    (tmp_path / "orgs.csv").write_text("code\nA\nB\n", encoding="utf-8")
    buf = io.StringIO()
    code = network_command(ties, nodes=tmp_path / "orgs.csv", out=ties, console=Console(file=buf, width=200))
    assert code != 0 and "output" in buf.getvalue()
    assert ties.read_text(encoding="utf-8").startswith("from,to")


@pytest.mark.parametrize(("ties", "nodes", "status"), [
    ("from,to\n", None, "no-ties"),                       # a ties file with its header only
    ("from,to\n", "org,outcome\nA,1\n", "too-few-nodes"),  # one organization
])
def test_degenerate_networks_give_a_coded_report(tmp_path, ties, nodes, status):
    (tmp_path / "ties.csv").write_text(ties, encoding="utf-8")
    node_file = SHARED / "orgs_dev.csv"
    if nodes:
        node_file = tmp_path / "orgs.csv"
        node_file.write_text(nodes, encoding="utf-8")
    code = network_command(tmp_path / "ties.csv", nodes=node_file, out=tmp_path / "o", outcome="outcome",
                           console=Console(file=io.StringIO()))
    assert code == 0
    text = (tmp_path / "o" / "results.json").read_text(encoding="utf-8")
    res = json.loads(text)  # strict JSON: no NaN
    assert "NaN" not in text and res["lnam"]["status"] == status
    assert "no-ties" in res["network"]["notes"] and res["network"]["edges"] == 0
    html = (tmp_path / "o" / "network.html").read_text(encoding="utf-8")
    assert f"code\u00a0: {status}" in html
    assert "Organisations les plus centrales" not in html  # no tie: no one is central
