"""`pip install .` ships the bank, the templates and the samples (not only in editable mode)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling", reason="hatchling (test extra) builds the wheel offline")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("intangibles-*.whl")
    return found


def test_wheel_ships_bank_templates_and_samples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for banked in ("bank.yaml", "trust.yaml", "social_capital.yaml", "learning.yaml", "legitimacy.yaml",
                   "drawbacks.yaml", "tangible.yaml"):
        assert f"instrument/bank/{banked}" in names
    assert any(n.startswith("instrument/templates/") and n.endswith(".j2") for n in names)
    assert "instrument/data_samples/form_member.yaml" in names
    assert "psychometrics/__init__.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "intangibles = instrument.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_installed_wheel_finds_its_files(wheel, tmp_path):
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    py = env / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)  # what pip does for a pure-Python wheel, without fetching dependencies
    code = (
        "from instrument.resources import bank_dir, templates_dir, samples_dir\n"
        "print(bank_dir()); print(templates_dir()); print(samples_dir())\n"
        "assert (bank_dir() / 'bank.yaml').is_file()\n"
        "assert any(templates_dir().glob('*.j2'))\n"
        "assert (samples_dir() / 'form_member.yaml').is_file()\n"
    )
    # without PYTHONPATH, which a developer's worktree may set and the child would inherit
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([py, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=clean)
    assert run.returncode == 0, run.stderr
    for line in run.stdout.splitlines():
        assert line.startswith(site), line  # the installed copy, not the source checkout
