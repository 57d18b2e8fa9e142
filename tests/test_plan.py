"""intangibles plan: the command, its files, its report (French and English)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from instrument.cli import app
from instrument.plan import PlanError, load_plan, render_html

MODEL = """\
factors: {"T<b>": [t1, t2, t3], SOC: [s1, s2, s3]}
loadings: 0.7
phi: 0.3
groups: {lang: {fr: 0.5, en: 0.5}}
"""


def _run(tmp_path, *args, design: str | None = None):
    spec = tmp_path / "model.yaml"
    spec.write_text(MODEL, encoding="utf-8")
    extra = []
    if design is not None:
        (tmp_path / "design.yaml").write_text(design, encoding="utf-8")
        extra = ["--design", str(tmp_path / "design.yaml")]
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["plan", str(spec), "--out", str(out), "--processes", "1", *extra, *args])
    return result, out


def test_plan_writes_report_svg_and_results(tmp_path):
    result, out = _run(tmp_path, "--n", "60,80", "--reps", "3", "--seed", "4",
                       design="analyses: [cfa, alpha, invariance]\nnon_invariant: [t2, lang, en, 0.8]\n")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["power.svg", "report.html", "results.json"]
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert res["ns"] == [60, 80] and res["reps"] == 3 and res["seed"] == 4
    assert set(res["summary"]["60"]) >= {"reps", "cfa", "alpha", "invariance"}
    assert res["summary"]["80"]["invariance"]["detect"].keys() == {"t2"}
    assert res["analytic"]["df"] == 8
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="fr"' in html
    assert "Planification de l" in html and "<svg" in html
    assert "T&lt;b&gt;" in html and "T<b>" not in html  # names from the model file are escaped
    assert "<script" not in html


def test_same_seed_same_results(tmp_path):
    first, out = _run(tmp_path, "--n", "60", "--reps", "3", design="analyses: [cfa, omega]\n")
    before = (out / "results.json").read_bytes()
    second, _ = _run(tmp_path, "--n", "60", "--reps", "3", design="analyses: [cfa, omega]\n")
    assert first.exit_code == second.exit_code == 0
    assert (out / "results.json").read_bytes() == before


def test_scheduler_address_gives_the_local_numbers(tmp_path):
    # --scheduler ADDRESS: the same command on a Dask cluster, the same results.json
    # (except where it ran)
    distributed = pytest.importorskip("distributed")
    args = ["--n", "60", "--reps", "4", "--seed", "3"]
    local, out = _run(tmp_path, *args)
    assert local.exit_code == 0, local.output
    expected = json.loads((out / "results.json").read_text(encoding="utf-8"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:
        remote, out = _run(tmp_path, *args, "--scheduler", cluster.scheduler_address)
    assert remote.exit_code == 0, remote.output
    got = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert got.pop("where")["scheduler"] == cluster.scheduler_address
    expected.pop("where")
    assert got == expected


def test_report_in_english_from_results(tmp_path):
    result, out = _run(tmp_path, "--n", "60", "--reps", "2", "--lang", "en", design="analyses: [alpha]\n")
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Study planning" in html and 'lang="en"' in html
    again = render_html(json.loads((out / "results.json").read_text(encoding="utf-8")), "en")
    assert again == html


def test_plan_from_a_form(tmp_path):
    from instrument.resources import samples_dir

    design = tmp_path / "d.yaml"
    design.write_text("analyses: [alpha]\ncareless: 0.05\n", encoding="utf-8")
    pop, options, label = load_plan(samples_dir() / "form_member.yaml", design)
    assert options["analyses"] == ["alpha"]
    assert pop.careless == 0.05 and pop.categories == 5 and len(pop.factors) >= 2
    assert label.startswith("member")


@pytest.mark.parametrize(
    ("model", "args", "code", "words"),
    [
        ("factors: {F: [a, b, c]}\nloadingz: 0.5\n", ["--n", "60"], 1, "unknown key"),
        ("factors: {F: [a, b, c]}\nloadings: 1.5\n", ["--n", "60"], 1, "too high"),
        ("- just a list\n", ["--n", "60"], 1, "mapping"),
        ("factors: {F: [a, b, c]}\n", ["--n", "6O"], 2, "--n"),
        ("factors: {F: [a, b, c]}\n", ["--n", "60", "--lang", "de"], 2, "--lang"),
    ],
)
def test_plan_bad_input(tmp_path, model, args, code, words):
    spec = tmp_path / "m.yaml"
    spec.write_text(model, encoding="utf-8")
    result = CliRunner().invoke(app, ["plan", str(spec), "--out", str(tmp_path / "o"), "--reps", "2", *args])
    assert result.exit_code == code
    assert words in " ".join(result.output.split())  # rich wraps long lines
    assert not (tmp_path / "o").exists()


def test_plan_refuses_the_simulators_nesting(tmp_path):
    """Design's consortium_icc / organization_icc nest simulated workbooks; the planner's
    population has one level of clusters of its own: refused with the keys to use."""
    from instrument.resources import samples_dir

    design = tmp_path / "d.yaml"
    design.write_text("consortium_icc: 0.1\n", encoding="utf-8")
    with pytest.raises(PlanError, match="'cluster', 'cluster_size' and 'icc'"):
        load_plan(samples_dir() / "form_member.yaml", design)


def test_plan_with_clusters(tmp_path):
    result, out = _run(tmp_path, "--n", "100", "--reps", "2",
                       design="analyses: [icc]\ncluster: org\ncluster_size: 10\nicc: 0.2\n")
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(res["summary"]["100"]["icc"]) == {"T<b>", "SOC"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "CCI(1)" in html and "soit 10 grappes" in html


def test_plan_ordinal_invariance(tmp_path):
    result, out = _run(tmp_path, "--n", "200", "--reps", "2",
                       design="analyses: [invariance_wlsmv]\nnon_invariant: [t2, lang, en, 1.0]\n")
    assert result.exit_code == 0, result.output
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    inv = res["summary"]["200"]["invariance_wlsmv"]
    assert set(inv) == {"converged", "loadings_reject", "intercepts_reject", "detect", "false_flag"}
    assert "(WLSMV, ordinal)" in (out / "report.html").read_text(encoding="utf-8")
