"""The command line's help is bilingual: French first, then English, separated by " / ".

Many users are French-speaking non-programmers: a new option or command whose help is in
English only fails here. Rule, for every option and argument, and for the first line of every
command's and group's help: it contains " / ", and the part before it reads as French (an
accented letter or a common French word).
"""

from __future__ import annotations

import re

import click
import pytest
import typer.main
from typer.testing import CliRunner

from instrument.cli import app

FRENCH = re.compile(r"[àâçéèêëîïôûùüœ]|\b(le|la|les|des|du|de|un|une|et|par|pour|au|aux)\b", re.IGNORECASE)


def walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, (*path, name))


ROOT = typer.main.get_command(app)
COMMANDS = list(walk(ROOT))
PARAMS = [(path, p) for path, c in COMMANDS for p in c.params if not getattr(p, "hidden", False)]


def is_bilingual(text: str) -> bool:
    french, sep, english = text.partition(" / ")
    return bool(sep) and bool(FRENCH.search(french)) and bool(english.strip())


def test_walk_sees_every_command():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"validate", "score", "bank check", "form build", "aggregate"} <= names
    assert len(PARAMS) > 40


@pytest.mark.parametrize(("path", "param"), PARAMS, ids=lambda x: " ".join(x) if isinstance(x, tuple) else x.name)
def test_every_parameter_help_is_french_then_english(path, param):
    text = getattr(param, "help", None) or ""
    assert is_bilingual(text), f"intangibles {' '.join(path)} {param.opts[0]}: help {text!r} is not 'français / English'"


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=lambda x: " ".join(x) or "intangibles" if isinstance(x, tuple) else "")
def test_every_command_help_starts_french_then_english(path, command):
    first = (command.help or "").strip().splitlines()[0] if command.help else ""
    assert is_bilingual(first), f"intangibles {' '.join(path)}: first help line {first!r} is not 'français / English'"


def test_the_rule_catches_english_only_help():
    assert not is_bilingual("Output file: .csv, .xlsx or .parquet.")
    assert not is_bilingual("Read ties as directed / undirected.")
    assert is_bilingual("Fichier de sortie / output file: .csv.")


@pytest.mark.parametrize("path", [[], ["validate"], ["score"], ["form", "build"]])
def test_help_fits_80_columns(path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert " / " in result.output


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=lambda x: " ".join(x) or "intangibles" if isinstance(x, tuple) else "")
def test_the_help_option_itself_is_bilingual(path, command):
    option = command.get_help_option(click.Context(command))
    assert option is not None and is_bilingual(option.help), f"intangibles {' '.join(path)} --help: {option.help!r}"
    assert "Afficher cette aide" in CliRunner().invoke(app, [*path, "--help"], terminal_width=100).output
