"""``intangibles doctor``, the system-requirements table and the lock file.

The probes are replaced to simulate a machine without a library (the fresh-machine failure
of issue 11: no ``libharfbuzz-subset0``, WeasyPrint warns, every PDF test fails), and one
test writes a real PDF in a child process with warnings as errors.
"""

from __future__ import annotations

import io
import re
import tomllib
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from instrument import doctor, resources
from instrument.cli import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def healthy(monkeypatch):
    """Every probe succeeds, without touching the machine (R and fc-list are slow)."""
    monkeypatch.setattr(doctor, "probe_library", lambda soname: soname)
    monkeypatch.setattr(doctor, "probe_font", lambda family: "/usr/share/fonts/DejaVuSans.ttf")
    monkeypatch.setattr(doctor, "probe_tool", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(doctor, "probe_pdf", lambda: (True, "3576"))
    monkeypatch.setattr(doctor, "probe_r", lambda: ("4.2.2", []))
    return monkeypatch


def _invoke(*args):
    return CliRunner().invoke(app, ["doctor", *args])


def _report(lang: str) -> tuple[int, str]:
    """The doctor's exit code and its report, printed on a console wide enough that no cell
    wraps (the CLI's console takes the terminal's width)."""
    console = Console(file=io.StringIO(), width=400)
    code = doctor.doctor_command(lang=lang, console=console)
    return code, console.file.getvalue()


def test_everything_there_exits_0_in_both_languages(healthy):
    fr = _invoke()
    assert fr.exit_code == 0, fr.output
    assert "Tout ce qui est requis est là." in fr.output
    code, en = _report("en")
    assert code == 0
    assert "Everything required is there." in en
    assert "HarfBuzz-subset font subsetting (PDF)" in en


def test_missing_harfbuzz_subset_exits_1_with_the_apt_line(healthy):
    healthy.setattr(doctor, "probe_library", lambda soname: None if "subset" in soname else soname)
    assert _invoke("--lang", "en").exit_code == 1
    code, report = _report("en")
    assert code == 1
    assert "sudo apt-get install -y libharfbuzz-subset0" in report
    assert "1 required item(s) missing" in report
    [check] = [c for c in doctor.run_checks("en") if c.status == doctor.MISSING]
    assert check.need == "required" and "libharfbuzz-subset.so.0" in check.found


def test_a_pdf_that_cannot_be_written_is_a_failure(healthy):
    warning = "DeprecationWarning: HarfBuzz-Subset will be required by future versions of WeasyPrint."
    healthy.setattr(doctor, "probe_pdf", lambda: (False, warning))
    assert _invoke().exit_code == 1
    code, report = _report("fr")
    assert code == 1
    assert "HarfBuzz-Subset will be required" in report
    assert "manquant" in report


def test_missing_optional_tools_only_inform(healthy):
    healthy.setattr(doctor, "probe_tool", lambda name: None)
    healthy.setattr(doctor, "probe_r", lambda: (None, list(doctor.R_PACKAGES)))
    checks = doctor.run_checks("fr")
    missing = {c.what for c in checks if c.status == doctor.MISSING}
    assert {"LibreOffice : ouvrir les classeurs", "R et ses paquets (valeurs de référence)"} <= missing
    assert not any(c.failed for c in checks)  # poppler is for the tests, LibreOffice/R optional
    assert _invoke().exit_code == 0


def test_r_without_some_packages_names_the_debian_packages(healthy):
    healthy.setattr(doctor, "probe_r", lambda: ("4.2.2", ["sna", "lme4"]))
    [r] = [c for c in doctor.run_checks("en") if c.what.startswith("R and")]
    assert r.status == doctor.WARN
    assert r.fix == "sudo apt-get install -y r-cran-sna r-cran-lme4"


def test_versions_that_differ_from_the_lock_are_noted_not_failed(healthy, tmp_path):
    lock = tmp_path / "requirements-lock.txt"
    lock.write_text("numpy==0.0.1\n    # via pandas\npandas==0.0.2 ; python_version >= '3.11'\n")
    healthy.setattr(resources, "lock_file", lambda: lock)
    [_, packages] = doctor.check_packages(doctor.TEXT["en"])
    assert packages.status == doctor.WARN
    assert "2 differ from the lock" in packages.found and "numpy" in packages.found


def test_bad_language_is_a_usage_error():
    result = _invoke("--lang", "de")
    assert result.exit_code == 2
    assert "fr, en" in " ".join(result.output.split())  # rich wraps to the terminal


def test_a_real_pdf_is_written_without_any_warning():
    """On this machine, after tools/setup.sh: WeasyPrint writes a page with warnings as errors."""
    ok, detail = doctor.probe_pdf()
    assert ok, detail
    assert int(detail) > 1000


# --------------------------------------------------------------------------- the table


def test_the_table_lists_every_library_weasyprint_requires():
    """Derived from what WeasyPrint opens: every ``_dlopen`` without ``allow_fail`` in its
    text/ffi.py, plus harfbuzz-subset (allowed to fail, but then it warns)."""
    import weasyprint.text.ffi as ffi

    source = Path(ffi.__file__).read_text(encoding="utf-8")
    calls = re.findall(r"(\w+) = _dlopen\((.*?)\)\n", source, flags=re.S)
    sonames = {probe for need, kind, probe, *_ in resources.system_requirements() if kind == "lib"}
    for name, args in calls:
        if "allow_fail" in args and name != "harfbuzz_subset":
            continue
        linux = re.findall(r"'(lib[\w.\-]+\.so\.\d+)'", args)
        assert linux and linux[0] in sonames, f"WeasyPrint opens {name} ({linux}); not in the table"


def test_setup_installs_from_the_same_table():
    setup = (ROOT / "tools" / "setup.sh").read_text(encoding="utf-8")
    assert 'table="instrument/system_requirements.tsv"' in setup
    assert '-c "$lock"' in setup and 'lock="requirements-lock.txt"' in setup
    for row in resources.system_requirements():
        assert len(row) == 6 and row[0] in {"required", "test", "optional"} and row[1] in {"lib", "font", "tool"}


def test_the_lock_pins_every_dependency():
    """requirements-lock.txt (make lock) pins each dependency of pyproject.toml and of the test
    extra: a dependency added without refreshing the lock would install unpinned."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = doctor.read_lock(ROOT / "requirements-lock.txt")
    names = {re.sub(r"[-_.]+", "-", re.split(r"[\s;<>=!~\[]", dep, maxsplit=1)[0]).lower() for dep in wanted}
    assert names - set(pins) == set(), "run 'make lock'"
    assert pins["scikit-learn"].startswith("1.7")  # DESIGN.md trap: factor_analyzer breaks on 1.8
