"""The public interface: the names each package exports, light imports, the command line's help.

Changing a pinned list below is a change of the public API: do it on purpose, in the
package's ``__all__`` (and, for ``instrument``, its lazy ``_API`` map) and here together.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import instrument
import psychometrics
from instrument.cli import app

PSYCHOMETRICS_API = [
    "Population",
    "PsychometricsError",
    "aggregate",
    "agreement",
    "alpha",
    "bartlett",
    "bootstrap_reliability",
    "careless",
    "cfa",
    "contagion",
    "correlation",
    "efa",
    "invariance",
    "item_analysis",
    "kmo",
    "lnam",
    "load_keys",
    "map_test",
    "monte_carlo",
    "moran",
    "network",
    "omega",
    "ordinal_reliability",
    "parallel_analysis",
    "polychoric",
    "polychoric_full",
    "power",
    "power_n",
    "reverse_key",
    "score",
    "scree",
    "sem",
    "validate",
    "variance_split",
    "weights",
]

INSTRUMENT_API = [
    "BankError",
    "Construct",
    "Facet",
    "Form",
    "FormError",
    "Item",
    "ItemBank",
    "Problem",
    "ResponseSet",
    "load_bank",
    "load_form",
    "read_returns",
]

#: Modules a bare ``import`` of our packages must not pull in (slow to import).
HEAVY = ["numpy", "pandas", "scipy", "sklearn", "matplotlib", "pingouin", "factor_analyzer", "openpyxl", "weasyprint", "yaml"]


def test_psychometrics_all_is_pinned():
    assert psychometrics.__all__ == PSYCHOMETRICS_API


def test_instrument_all_is_pinned():
    assert instrument.__all__ == INSTRUMENT_API
    assert sorted(instrument._API) == INSTRUMENT_API


@pytest.mark.parametrize("name", PSYCHOMETRICS_API)
def test_each_psychometrics_name_is_defined_in_a_submodule(name):
    obj = getattr(psychometrics, name)
    assert not isinstance(obj, type(psychometrics))
    module = sys.modules[obj.__module__]
    assert module.__name__.startswith("psychometrics.")
    assert name in module.__all__


@pytest.mark.parametrize("name", INSTRUMENT_API)
def test_each_instrument_name_resolves_to_its_module(name):
    module = importlib.import_module(f"instrument.{instrument._API[name]}")
    assert name in module.__all__
    assert name in dir(instrument)
    assert getattr(instrument, name) is getattr(module, name)


@pytest.mark.parametrize("name", ["cfa", "correlation", "invariance", "sem"])
def test_public_function_is_not_shadowed_by_its_submodule(name):
    """``import psychometrics.cfa`` (any import path) leaves ``pm.cfa`` the function: the
    package imports its functions eagerly, after the submodules are loaded."""
    code = (
        "import importlib, psychometrics\n"
        f"importlib.import_module('psychometrics.{name}')\n"
        f"import psychometrics.{name}\n"
        f"print(type(psychometrics.{name}).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "function"


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        instrument.no_such_name  # noqa: B018


def test_versions_agree_with_the_distribution():
    version = importlib.metadata.version("intangibles")
    assert instrument.__version__ == version
    assert psychometrics.__version__ == version


@pytest.mark.parametrize("module", ["instrument", "instrument.cli"])
def test_import_pulls_in_no_heavy_module(module):
    """No work at import time: importing ``instrument`` (or the CLI, for a fast --help)
    loads none of the heavy dependencies. Checked in a fresh interpreter. (``psychometrics``
    imports its functions eagerly, like pingouin: numpy, pandas and scipy come with it.)"""
    code = (
        "import sys, json\n"
        "before = set(sys.modules)\n"
        f"import {module}\n"
        f"heavy = {HEAVY!r}\n"
        "new = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in heavy)\n"
        "print(json.dumps(new))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def _commands(group, path=()):
    """Every command path of the CLI: ("bank",), ("bank", "check"), ("simulate",) ..."""
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))


def test_cli_has_the_documented_commands():
    documented = {("bank", "check"), ("form", "build"), ("simulate",), ("score",), ("validate",), ("demo",),
                  ("doctor",), ("network",), ("aggregate",), ("feedback",)}
    assert documented <= set(COMMANDS)


def test_cli_help():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert "intersectoral consortia" in " ".join(result.output.split())
    for name in ("bank", "form", "simulate", "score", "validate", "demo"):
        assert name in result.output


def test_cli_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"intangibles {instrument.__version__}"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_each_command_has_help(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    summary = (command.help or "").strip().splitlines()[0]
    assert summary, f"{' '.join(path)} has no help text"
    assert summary.split()[0] in result.output


def test_console_script_runs():
    script = Path(sys.executable).parent / "intangibles"
    assert script.exists(), f"the console script is not installed beside {sys.executable}"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"intangibles {instrument.__version__}"
    result = subprocess.run([str(script), "bank", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "check" in result.stdout
