"""instrument.bank: loading the item bank safely, every check of it, its coverage table.

Most tests start from the minimal valid bank in tests/banks/minimal/ and apply ONE edit
(one parametrized case per problem code), then assert the code, the file and the line.
"""

from __future__ import annotations

import dataclasses
import pickle
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from instrument.bank import (
    CODES,
    WARNINGS,
    BankError,
    coverage,
    coverage_table,
    load_bank,
    read_bank,
)
from instrument.cli import app
from instrument.resources import bank_dir
from psychometrics import userfile as yamlfile

MINIMAL = Path(__file__).parent / "banks" / "minimal"


# ---------------------------------------------------------------------------------------
# The minimal bank
# ---------------------------------------------------------------------------------------


def test_minimal_bank_loads_without_any_problem():
    bank, problems = read_bank(MINIMAL)
    assert problems == []
    assert bank is not None
    assert bank.version == "2026.1"
    assert [it.id for it in bank.items][:3] == ["tgsvo1", "trcpi1", "trcpi2"]  # files in sorted order
    assert len(bank.items) == 13


def test_loaded_records_carry_every_field():
    bank = load_bank(MINIMAL)
    item = bank.item("trcpi4")
    assert (item.construct, item.facet, item.level) == ("trust", "trust_competence", "individual")
    assert item.polarity == "-" and item.reverse and item.key == "-trcpi4"
    assert item.response_set == "agree5" and item.context == "since_joined"
    assert item.text == {"fr": "Je doute de l'expertise des autres membres.", "en": "I doubt the other members' expertise."}
    assert (item.version, item.status, item.tangible) == (1, "active", False)
    assert (item.file, item.line) == ("trust.yaml", 49)
    tangible = bank.item("tgsvo1")
    assert tangible.tangible and tangible.construct == "tangible"
    assert (tangible.version, tangible.status) == (1, "active")  # defaults when the file omits them
    assert bank.constructs["trust"].facets == ("trust_competence",)
    assert bank.constructs["tangible"].kind == "tangible"
    assert bank.facets["trust_competence"].construct == "trust"
    assert list(bank.levels) == ["individual", "organization", "ecosystem", "users"]
    agree = bank.response_sets["agree5"]
    assert (agree.codes, agree.missing_codes, agree.ordered) == ((1, 2, 3, 4, 5), (8, 9), True)
    assert agree.choices[3].label == {"fr": "Plutôt d'accord", "en": "Somewhat agree"}
    assert bank.response_sets["channels"].ordered is False
    assert bank.contexts["since_joined"].text["en"] == "Since you have been taking part in the {consortium} consortium"
    sector, years, consortium = bank.context_block
    assert (sector.id, sector.type, sector.required) == ("sector", "select_one", True)
    assert [(c.code, c.name) for c in sector.choices] == [(1, "public"), (2, "community"), (3, "private")]
    assert (years.type, years.minimum, years.maximum, years.required) == ("integer", 0, 60, False)
    assert (consortium.id, consortium.type, consortium.choices) == ("consortium_id", "text", ())


def test_load_bank_accepts_str_and_path_and_defaults_to_the_shipped_bank():
    assert load_bank(str(MINIMAL)) == load_bank(MINIMAL)
    assert load_bank() == load_bank(bank_dir())


# ---------------------------------------------------------------------------------------
# One case per problem code: one edit of the minimal bank
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    code: str
    file: str
    edits: tuple = ()  # (old, new): the first occurrence of old becomes new
    at: str | None = ""  # expected line: the line holding this text ("" = the first edit's line; None = no line)
    nth: int = 1  # ... its nth occurrence
    says: tuple = ()  # texts the message must hold (the item / field, the rule, the value)
    also: frozenset = frozenset()  # other codes this edit is expected to cause
    delete: bool = False
    encoding: str = "utf-8"
    reported: str = ""  # the file the problem is reported in, when not the edited one


FIRST_FR = "      fr: \"Je peux compter sur l'expertise des autres membres (1).\"\n"
FIRST_EN = "      en: \"I can count on the other members' expertise (1).\"\n"

CASES = [
    # reading the files
    Case("no-bank-yaml", "missing-file", "bank.yaml", delete=True, at=None, says=("bank.yaml",)),
    Case(
        "latin-1",
        "invalid-encoding",
        "trust.yaml",
        encoding="latin-1",
        at="Comp",
        says=("not UTF-8",),
    ),
    Case("syntax", "yaml-syntax", "trust.yaml", (("  kind: benefit\n", "  kind: benefit: oops\n"),), says=("mapping values",)),
    Case("too-large", "yaml-too-large", "trust.yaml", (("construct:\n", "#" + "x" * 1_000_001 + "\nconstruct:\n"),), at=None, says=("1,000,000",)),
    Case("too-deep", "yaml-too-large", "trust.yaml", (("items:\n", "deep: " + "[" * 20_000 + "]" * 20_000 + "\nitems:\n"),), says=("more than 20 deep",)),
    Case(
        "alias",
        "yaml-alias",
        "bank.yaml",
        (
            ("    label: {fr: Individu, en: Individual}\n", "    label: &lab {fr: Individu, en: Individual}\n"),
            ("    label: {fr: Organisme, en: Organization}\n", "    label: *lab\n"),
        ),
        at="*lab",
        says=("alias",),
    ),
    Case(
        "python-tag",
        "unsafe-yaml",
        "trust.yaml",
        (("  kind: benefit\n", '  kind: !!python/object/apply:os.system ["true"]\n'),),
        says=("!!python/object/apply:os.system", "nothing was executed"),
    ),
    Case("custom-tag", "unsafe-yaml", "bank.yaml", (("    ordered: false\n", "    ordered: !maybe false\n"),), says=("!maybe",)),
    Case(
        "repeated-key",
        "duplicate-field",
        "trust.yaml",
        (("  kind: benefit\n", "  kind: benefit\n  kind: drawback\n"),),
        at="kind: drawback",
        says=("'kind'", "line 4"),
    ),
    # structure
    Case(
        "no-level",
        "missing-field",
        "trust.yaml",
        (("    level: individual\n", ""),),
        at="- id: trcpi1",
        says=("item 'trcpi1'", "'level'"),
    ),
    Case(
        "empty-polarity",
        "missing-field",
        "trust.yaml",
        (('    polarity: "+"\n', "    polarity:\n"),),
        says=("item 'trcpi1'", "'polarity'"),
    ),
    Case(
        "typo",
        "unknown-field",
        "trust.yaml",
        (('    polarity: "+"\n', '    polarty: "+"\n'),),
        says=("item 'trcpi1'", "'polarty'", "did you mean 'polarity'"),
        also=frozenset({"missing-field"}),
    ),
    Case("unknown-language", "unknown-field", "trust.yaml", (("  label: {fr: Confiance, en: Trust}", "  label: {fr: Confiance, en: Trust, es: Confianza}"),), says=("'es'",)),
    Case("ordered-not-bool", "invalid-value", "bank.yaml", (("    ordered: false\n", "    ordered: maybe\n"),), says=("response set 'channels'", "'ordered'", "'maybe'")),
    Case("kind", "invalid-value", "trust.yaml", (("  kind: benefit\n", "  kind: benefits\n"),), says=("kind", "did you mean 'benefit'", "'benefits'")),
    Case("items-not-a-list", "invalid-value", "tangible.yaml", (("items:\n", "items: none\nold_items:\n"),), says=("'items' must be a list",), also=frozenset({"unknown-field"})),
    Case("question-bounds", "invalid-value", "bank.yaml", (("    minimum: 0\n", "    minimum: 70\n"),), says=("minimum 70", "maximum 60")),
    Case(
        "item-across-files",
        "duplicate-id",
        "tangible.yaml",
        (("  - id: tgsvo1\n", "  - id: trcpi1\n"),),
        reported="trust.yaml",  # tangible.yaml is read first
        at="  - id: trcpi1",
        says=("item id 'trcpi1'", "tangible.yaml:12"),
    ),
    Case(
        "facet-across-files",
        "duplicate-id",
        "tangible.yaml",
        (("  - id: tangible_services\n", "  - id: trust_competence\n"),),
        reported="trust.yaml",
        at="  - id: trust_competence",
        says=("facet id 'trust_competence'", "tangible.yaml:8"),
        also=frozenset({"unknown-facet"}),
    ),
    Case("construct-across-files", "duplicate-id", "tangible.yaml", (("  id: tangible\n", "  id: trust\n"),), reported="trust.yaml", at="  id: trust\n", says=("construct id 'trust'", "tangible.yaml:3")),
    Case("item-vs-question", "duplicate-id", "trust.yaml", (("  - id: trcpi1\n", "  - id: years\n"),), says=("item id 'years'", "context question", "bank.yaml:")),
    Case("item-id-rule", "invalid-id", "trust.yaml", (("  - id: trcpi1\n", "  - id: trcp_i1\n"),), says=("'trcp_i1'", "lowercase ASCII letters or digits")),
    Case("item-id-too-long", "invalid-id", "trust.yaml", (("  - id: trcpi1\n", "  - id: trustcompetence1\n"),), says=("'trustcompetence1'", "2 to 12")),
    Case("item-id-reserved", "invalid-id", "trust.yaml", (("  - id: trcpi1\n", "  - id: label\n"),), says=("'label'", "reserved", "XLSForm")),
    Case("item-id-stata", "invalid-id", "trust.yaml", (("  - id: trcpi1\n", "  - id: str12\n"),), says=("'str12'", "Stata")),
    Case(
        "facet-id-rule",
        "invalid-id",
        "trust.yaml",
        (("  - id: trust_competence\n", "  - id: Trust-competence\n"),),
        says=("'Trust-competence'", "underscores"),
        also=frozenset({"unknown-facet"}),
    ),
    # texts
    Case("text-not-mapping", "invalid-text", "trust.yaml", (("  label: {fr: Confiance, en: Trust}", "  label: Confiance"),), says=("construct 'trust'", "'label'", "'Confiance'")),
    Case("text-boolean", "invalid-text", "trust.yaml", (("  label: {fr: Confiance, en: Trust}", "  label: {fr: Confiance, en: No}"),), says=("'label.en'", "false", "quotes")),
    Case("no-english", "missing-translation", "trust.yaml", (("  label: {fr: Confiance, en: Trust}", "  label: {fr: Confiance}"),), says=("construct 'trust'", "'en'")),
    Case("no-french-item", "missing-translation", "trust.yaml", ((FIRST_FR, ""),), at="    text:", says=("item 'trcpi1'", "'fr'")),
    Case("empty-english", "empty-text", "trust.yaml", ((FIRST_EN, '      en: "  "\n'),), says=("item 'trcpi1'", "'text.en'")),
    Case("empty-source", "empty-text", "trust.yaml", (('    source_inspiration: "Mayer, Davis & Schoorman (1995)."\n    version', '    source_inspiration: ""\n    version'),), says=("source_inspiration",)),
    Case(
        "placeholder",
        "unknown-placeholder",
        "trust.yaml",
        ((FIRST_FR, "      fr: \"Je peux compter sur l'expertise des membres de {consortium_name}.\"\n"),),
        says=("item 'trcpi1'", "{consortium_name}", "{consortium}"),
    ),
    Case("stray-brace", "unknown-placeholder", "trust.yaml", ((FIRST_EN, '      en: "I can count on the {consortium consortium."\n'),), says=("stray brace",)),
    # cross-references
    Case("response-set", "unknown-response-set", "trust.yaml", (("    response_set: agree5\n", "    response_set: agree7\n"),), says=("item 'trcpi1'", "'agree7'", "did you mean 'agree5'")),
    Case(
        "item-construct",
        "unknown-construct",
        "trust.yaml",
        (("    facet: trust_competence\n", "    facet: trust_competence\n    construct: learning\n"),),
        at="construct: learning",
        says=("item 'trcpi1'", "'learning'"),
    ),
    Case("facet-typo", "unknown-facet", "trust.yaml", (("    facet: trust_competence\n", "    facet: trust_competense\n"),), says=("item 'trcpi1'", "'trust_competense'", "did you mean 'trust_competence'")),
    Case("facet-of-another-construct", "unknown-facet", "tangible.yaml", (("    facet: tangible_services\n", "    facet: trust_competence\n"),), says=("item 'tgsvo1'", "belongs to construct 'trust'")),
    Case("level", "unknown-level", "trust.yaml", (("    level: individual\n", "    level: person\n"),), says=("item 'trcpi1'", "'person'", "individual, organization")),
    Case("context", "unknown-context", "trust.yaml", (("    context: since_joined\n", "    context: since_ever\n"),), says=("item 'trcpi1'", "'since_ever'")),
    Case("roles", "invalid-roles", "trust.yaml", (("    context: since_joined\n", "    context: since_joined\n    roles: [member, mayor]\n"),), at="    roles:", says=("item 'trcpi1'", "mayor")),
    # item rules
    Case("polarity", "invalid-polarity", "trust.yaml", (('    polarity: "+"\n', '    polarity: "+-"\n'),), says=("item 'trcpi1'", "'+-'")),
    Case("unquoted-minus", "yaml-syntax", "trust.yaml", (('    polarity: "+"\n', "    polarity: -\n"),), says=('written in quotes: "-"',)),
    Case(
        "reverse-unordered",
        "reverse-on-unordered",
        "trust.yaml",
        (('    polarity: "-"\n    response_set: agree5\n', '    polarity: "-"\n    response_set: channels\n'),),
        says=("item 'trcpi4'", "'channels'", "ordered: false"),
    ),
    Case(
        "codes-not-increasing",
        "bad-response-set",
        "bank.yaml",
        (("      - {code: 2, label: {fr: Plutôt en désaccord", "      - {code: 1, label: {fr: Plutôt en désaccord"),),
        at="    choices:",
        says=("response set 'agree5'", "1, 1, 3, 4, 5"),
    ),
    Case("missing-code-in-range", "bad-response-set", "bank.yaml", (("      - {code: 8,", "      - {code: 3,"),), at="    missing:", says=("missing code 3", "1-5")),
    Case(
        "one-choice",
        "bad-response-set",
        "bank.yaml",
        (("      - {code: 2, label: {fr: Téléphone, en: Telephone}}\n      - {code: 3, label: {fr: Rencontre, en: Meeting}}\n", ""),),
        at="    choices:",
        nth=2,
        says=("response set 'channels'", "1 scored choice"),
    ),
    Case("code-not-number", "bad-response-set", "bank.yaml", (("      - {code: 5,", "      - {code: five,"),), says=("'five'",)),
    Case("question-choices", "bad-choices", "bank.yaml", (("      - {code: 2, name: community", "      - {code: 1, name: community"),), at="    choices:", nth=3, says=("context question 'sector'", "repeated: 1")),
    Case("status", "invalid-status", "trust.yaml", (("    status: active\n", "    status: actif\n"),), says=("item 'trcpi1'", "'actif'", "did you mean 'active'")),
    Case("item-version", "invalid-version", "trust.yaml", (("    version: 1\n", "    version: 1.5\n"),), says=("item 'trcpi1'", "1.5")),
    Case("bank-version", "invalid-version", "bank.yaml", (('version: "2026.1"\n', "version: 2026.1\n"),), says=("quoted", "2026.1")),
    # warnings
    Case(
        "few-facet-items",
        "few-items",
        "trust.yaml",
        (("  - id: trcpi2\n    facet: trust_competence\n    level: individual\n", "  - id: trcpi2\n    facet: trust_competence\n    level: organization\n"),),
        at="  - id: trust_competence",
        says=("facet 'trust_competence'", "3 active item(s) at the individual level"),
    ),
    Case(
        "few-ecosystem-items",
        "few-items",
        "trust.yaml",
        (("    level: ecosystem\n", "    level: users\n"),),
        at="  id: trust\n",
        says=("construct 'trust'", "1 active item(s) at the ecosystem level"),
    ),
    Case("no-reverse", "no-reverse-item", "trust.yaml", (('polarity: "-"', 'polarity: "+"'),), at="  id: trust\n", says=("construct 'trust'",)),
    Case("draft-reverse", "no-reverse-item", "trust.yaml", (("expertise.\"\n    source_inspiration: \"Mayer, Davis & Schoorman (1995).\"\n    version: 1\n    status: active\n", "expertise.\"\n    source_inspiration: \"Mayer, Davis & Schoorman (1995).\"\n    version: 1\n    status: draft\n"),), at="  id: trust\n", says=("construct 'trust'",), also=frozenset({"few-items"})),
    Case(
        "et-ou",
        "double-barrelled",
        "trust.yaml",
        ((FIRST_FR, "      fr: \"Je peux compter sur l'expertise et/ou l'écoute des autres membres.\"\n"),),
        says=("item 'trcpi1'", "et/ou"),
    ),
    Case(
        "placeholder-in-one-language",
        "placeholder-mismatch",
        "bank.yaml",
        (('      en: "Since you have been taking part in the {consortium} consortium"\n', '      en: "Since you have been taking part in the consortium"\n'),),
        at="    text:",
        says=("context 'since_joined'", "fr: {consortium}", "en: none"),
    ),
]


def make_bank(tmp_path: Path, case: Case) -> tuple[Path, int | None]:
    """A copy of the minimal bank with the case's edits; returns it and the expected line."""
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    path = folder / case.file
    if case.delete:
        path.unlink()
        return folder, None
    text = path.read_text(encoding="utf-8")
    first_line = None
    for old, new in case.edits:
        assert old in text, f"the edit of case {case.name} does not apply: {old!r}"
        at = text.index(old)
        first_line = first_line or text[:at].count("\n") + 1
        text = text.replace(old, new, 1)
    path.write_bytes(text.encode(case.encoding))
    if case.at is None:
        return folder, None
    if case.at == "":
        return folder, first_line
    if case.reported:
        text = (folder / case.reported).read_text(encoding="utf-8")
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if case.at in line + "\n"]
    return folder, lines[case.nth - 1]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.code}:{c.name}")
def test_each_problem_code(tmp_path, case):
    folder, line = make_bank(tmp_path, case)
    bank, problems = read_bank(folder)
    found = [p for p in problems if p.code == case.code]
    assert found, f"no {case.code} among {[str(p) for p in problems]}"
    places = [(p.file, p.line) for p in found]
    assert (case.reported or case.file, line) in places, places
    problem = found[places.index((case.reported or case.file, line))]
    for text in case.says:
        assert text in problem.message, problem.message
    assert problem.severity == ("warning" if case.code in WARNINGS else "error")
    # nothing but the expected codes: no cascade of spurious problems
    assert {p.code for p in problems} <= {case.code} | case.also, [str(p) for p in problems]
    if case.code in WARNINGS:
        assert bank is not None
        assert load_bank(folder) == bank
    else:
        assert bank is None
        with pytest.raises(BankError) as info:
            load_bank(folder)
        assert info.value.problems == problems


@pytest.mark.parametrize("name", ["syntax", "too-deep", "alias", "python-tag", "typo", "unquoted-minus"])
def test_pure_python_loader_gives_the_same_problems(tmp_path, monkeypatch, name):
    """Without libyaml the pure-Python SafeLoader subclass is used: same codes and lines."""
    (case,) = [c for c in CASES if c.name == name]
    folder, _ = make_bank(tmp_path, case)
    fast = [(p.code, p.file, p.line) for p in read_bank(folder)[1]]
    monkeypatch.setattr(yamlfile, "_FastLoader", yamlfile._Loader)
    assert [(p.code, p.file, p.line) for p in read_bank(folder)[1]] == fast
    assert read_bank(MINIMAL) == (load_bank(MINIMAL), [])


def test_every_code_has_a_case_and_a_description():
    assert {c.code for c in CASES} == set(CODES)
    assert set(WARNINGS) <= set(CODES)
    for code, description in CODES.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code)
        assert description


def test_item_problems_name_the_item(tmp_path):
    (case,) = [c for c in CASES if c.name == "status"]
    folder, _ = make_bank(tmp_path, case)
    (problem,) = read_bank(folder)[1]
    assert problem.item == "trcpi1"
    assert problem.place == "trust.yaml:24 [trcpi1]"


# ---------------------------------------------------------------------------------------
# Safety, collection, errors
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        '!!python/object/apply:os.system ["touch {marker}"]',
        '!!python/object/apply:subprocess.call [["touch", "{marker}"]]',
        '!!python/object/new:pathlib.Path ["{marker}"]',
        "!!python/name:os.system",
    ],
)
def test_python_tag_is_refused_not_executed(tmp_path, payload):
    marker = tmp_path / "executed"
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    path = folder / "trust.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  kind: benefit\n", f"  kind: {payload.format(marker=marker)}\n"), encoding="utf-8")
    bank, problems = read_bank(folder)
    assert bank is None
    assert [(p.code, p.file, p.line) for p in problems] == [("unsafe-yaml", "trust.yaml", 4)]
    assert not marker.exists()


def test_alias_bomb_is_refused(tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    (folder / "bomb.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    bank, problems = read_bank(folder)
    assert bank is None
    aliases = [p for p in problems if p.code == "yaml-alias"]
    assert len(aliases) == 81 and {p.file for p in aliases} == {"bomb.yaml"}
    assert [p.line for p in aliases[:9]] == [2] * 9
    assert {p.code for p in problems} == {"yaml-alias"}  # the file is not checked further


def test_every_problem_is_collected_before_raising(tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    edits = {
        "bank.yaml": ("    ordered: false\n", "    ordered: maybe\n"),
        "trust.yaml": ("    status: active\n", "    status: actif\n"),
        "tangible.yaml": ("    facet: tangible_services\n", "    facet: tangible_service\n"),
    }
    for name, (old, new) in edits.items():
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    (folder / "zzz.yaml").write_text("construct: [\n", encoding="utf-8")
    with pytest.raises(BankError) as info:
        load_bank(folder)
    error = info.value
    assert isinstance(error, ValueError)
    # errors in file order (bank.yaml first, then the construct files sorted), then by line
    assert [(p.code, p.file) for p in error.problems] == [
        ("invalid-value", "bank.yaml"),
        ("unknown-facet", "tangible.yaml"),
        ("invalid-status", "trust.yaml"),
        ("yaml-syntax", "zzz.yaml"),
    ]
    text = str(error)
    assert text.startswith("4 problem(s) in the item bank:")
    for problem in error.problems:
        assert str(problem) in text
    assert "tangible.yaml:13 [tgsvo1]: unknown-facet:" in text
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems


def test_warnings_are_listed_after_errors_and_marked(tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    path = folder / "trust.yaml"
    text = path.read_text(encoding="utf-8").replace("    status: active\n", "    status: old\n", 1)
    path.write_text(text.replace("(3).", "(3) et/ou plus.", 1), encoding="utf-8")
    with pytest.raises(BankError) as info:
        load_bank(folder)
    assert [(p.code, p.severity) for p in info.value.problems] == [("invalid-status", "error"), ("double-barrelled", "warning")]
    assert str(info.value).startswith("1 problem(s)")
    assert "warning: trust.yaml:44 [trcpi3]: double-barrelled:" in str(info.value)


def test_missing_folder_and_no_construct_file(tmp_path):
    bank, problems = read_bank(tmp_path / "nowhere")
    assert bank is None and [p.code for p in problems] == ["missing-file"]
    assert "nowhere" in problems[0].message
    folder = tmp_path / "only-definitions"
    folder.mkdir()
    shutil.copy(MINIMAL / "bank.yaml", folder / "bank.yaml")
    bank, problems = read_bank(folder)
    assert bank is None and [p.code for p in problems] == ["missing-file"]
    assert "no construct file" in problems[0].message


def test_empty_construct_file_lists_its_missing_fields(tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    (folder / "extra.yaml").write_text("# nothing yet\n", encoding="utf-8")
    _, problems = read_bank(folder)
    assert [(p.code, p.file, p.line) for p in problems] == [("missing-field", "extra.yaml", 1)] * 3
    assert ["'construct'" in problems[0].message, "'facets'" in problems[1].message, "'items'" in problems[2].message] == [True] * 3


# ---------------------------------------------------------------------------------------
# Coverage
# ---------------------------------------------------------------------------------------


def test_coverage_counts_by_construct_facet_level():
    table = coverage(load_bank(MINIMAL))
    assert list(table.columns) == ["construct", "kind", "facet", "level", "items", "fr", "en", "reverse"]
    assert len(table) == 2 * 4  # two facets x four levels, zero counts included
    trust = table[table["construct"] == "trust"].set_index("level")
    assert trust["items"].to_dict() == {"individual": 4, "organization": 4, "ecosystem": 2, "users": 2}
    assert trust["reverse"].to_dict() == {"individual": 1, "organization": 0, "ecosystem": 0, "users": 0}
    assert (trust["fr"] == trust["items"]).all() and (trust["en"] == trust["items"]).all()
    tangible = table[table["construct"] == "tangible"]
    assert tangible["items"].sum() == 1 and set(tangible["kind"]) == {"tangible"}


def test_coverage_counts_each_language_and_status():
    bank = load_bank(MINIMAL)
    edits = {
        "trcpi1": {"text": {"fr": bank.item("trcpi1").text["fr"], "en": " "}},
        "trcpo1": {"status": "draft"},
    }
    items = tuple(dataclasses.replace(it, **edits.get(it.id, {})) for it in bank.items)
    table = coverage(dataclasses.replace(bank, items=items)).set_index(["facet", "level"])
    row = table.loc[("trust_competence", "individual")]
    assert (row["items"], row["fr"], row["en"]) == (4, 4, 3)
    assert table.loc[("trust_competence", "organization"), "items"] == 3  # the draft is not counted
    every = coverage(dataclasses.replace(bank, items=items), status=None).set_index(["facet", "level"])
    assert every.loc[("trust_competence", "organization"), "items"] == 4


def test_coverage_table_renders_every_construct_and_facet():
    bank = load_bank(MINIMAL)
    console = Console(width=160, record=True, color_system=None)
    console.print(coverage_table(bank))
    text = console.export_text()
    assert "Item bank 2026.1" in text
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[2:-1]] for line in text.splitlines() if line.startswith("│")}
    # kind, individual, organization, ecosystem, users, total, reverse, fr, en
    assert rows["trust"] == ["benefit", "4", "4", "2", "2", "12", "1", "12", "12"]
    assert rows["trust_competence"] == ["", "4", "4", "2", "2", "12", "1", "12", "12"]
    assert rows["tangible"] == ["tangible", "0", "1", "0", "0", "1", "0", "1", "1"]
    assert rows["total"] == ["", "4", "5", "2", "2", "13", "1", "13", "13"]


# ---------------------------------------------------------------------------------------
# The shipped bank
# ---------------------------------------------------------------------------------------

EXPECTED_CONSTRUCTS = {
    "trust": "benefit",
    "social_capital": "benefit",
    "learning": "benefit",
    "legitimacy": "benefit",
    "drawbacks": "drawback",
    "tangible": "tangible",
}


@pytest.fixture(scope="module")
def shipped():
    return read_bank()


def test_shipped_bank_has_no_error(shipped):
    bank, problems = shipped
    errors = [str(p) for p in problems if p.severity == "error"]
    assert errors == []
    assert bank is not None and re.fullmatch(r"\d{4}\.\d+", bank.version)


def test_shipped_bank_has_every_construct_file(shipped):
    bank, _ = shipped
    assert {cid: c.kind for cid, c in bank.constructs.items()} == EXPECTED_CONSTRUCTS
    assert {p.stem for p in bank_dir().glob("*.yaml")} == {"bank", *EXPECTED_CONSTRUCTS}
    assert list(bank.levels) == ["individual", "organization", "ecosystem", "users"]


def test_shipped_bank_meets_the_counts_in_both_languages(shipped):
    bank, _ = shipped
    table = coverage(bank)
    scales = table[table["kind"].isin(["benefit", "drawback"])]
    assert set(scales["construct"]) == {c for c, kind in EXPECTED_CONSTRUCTS.items() if kind != "tangible"}
    for lang in ("fr", "en"):
        assert (scales[lang] == scales["items"]).all(), lang
    direct = scales[scales["level"].isin(["individual", "organization"])]
    short = direct[direct["items"] < 4]
    assert short.empty, short.to_string()
    by_construct = scales.groupby(["construct", "level"])["items"].sum().unstack()
    assert (by_construct[["ecosystem", "users"]] >= 2).all().all(), by_construct.to_string()
    reverse = scales.groupby("construct")["reverse"].sum()
    assert (reverse >= 1).all(), reverse.to_string()


def test_shipped_bank_keeps_tangible_items_apart(shipped):
    bank, _ = shipped
    tangible = [it for it in bank.items if it.tangible]
    assert tangible, "the bank has no tangible-outcome item"
    assert {it.construct for it in tangible} == {"tangible"}
    assert all(not it.tangible for it in bank.items if it.construct != "tangible")
    tangible_facets = set(bank.constructs["tangible"].facets)
    assert all(it.facet not in tangible_facets for it in bank.items if not it.tangible)


def test_shipped_items_are_cited_and_use_known_placeholders_only(shipped):
    bank, _ = shipped
    for item in bank.items:
        assert item.source_inspiration.strip(), item.id
        for text in item.text.values():
            assert set(re.findall(r"\{([^{}]*)\}", text)) <= {"consortium"}, item.id


# ---------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------


def test_cli_bank_check_on_the_shipped_bank():
    result = CliRunner().invoke(app, ["bank", "check"])
    assert result.exit_code == 0, result.output
    bank = load_bank()
    assert f"Bank {bank.version}: {len(bank.items)} items, no problem" in result.stdout
    for cid in bank.constructs:
        assert cid in result.stdout


def test_cli_bank_check_lists_every_problem_and_exits_1(tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    path = folder / "trust.yaml"
    text = path.read_text(encoding="utf-8").replace("    level: individual\n", "    level: person\n", 1)
    path.write_text(text.replace("    status: active\n", "    status: [active]\n", 1), encoding="utf-8")
    result = CliRunner().invoke(app, ["bank", "check", "--bank", str(folder)])
    assert result.exit_code == 1
    assert "trust.yaml:15 [trcpi1]: unknown-level: item 'trcpi1': level 'person'" in result.stderr
    assert "trust.yaml:24 [trcpi1]: invalid-status:" in result.stderr
    assert "2 problem(s) in the bank." in result.stderr
    assert "no problem" not in result.output


def test_cli_bank_check_shows_warnings_but_exits_0(tmp_path):
    folder = tmp_path / "bank"
    shutil.copytree(MINIMAL, folder)
    path = folder / "trust.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('polarity: "-"', 'polarity: "+"'), encoding="utf-8")
    result = CliRunner().invoke(app, ["bank", "check", "--bank", str(folder)])
    assert result.exit_code == 0, result.output
    assert "warning: trust.yaml:3: no-reverse-item:" in result.stderr
    assert "13 items, no problem (1 warning(s) above)." in result.stdout


def test_read_yaml_keeps_lines_and_reads_plain_values(tmp_path):
    from psychometrics.userfile import UNREADABLE, YamlList, YamlMap, read_yaml

    path = tmp_path / "a.yaml"
    path.write_text("top:\n  yes: =\n  list:\n    - 1\n    - {fr: a}\n  when: 2026-01-02\n", encoding="utf-8")
    problems = []
    data = read_yaml(path, "a.yaml", lambda *p: problems.append(p))
    assert problems == []
    top = data["top"]
    assert isinstance(top, YamlMap) and top.line == 2 and top.line_of("list") == 3
    assert top["yes"] == "="  # keys stay text; "=" (YAML's !!value) is read as text
    assert isinstance(top["list"], YamlList) and top["list"].lines == [4, 5]
    assert top["list"][1].line == 5 and str(top["when"]) == "2026-01-02"
    path.write_text("", encoding="utf-8")
    assert read_yaml(path, "a.yaml", lambda *p: problems.append(p)) is None
    assert read_yaml(tmp_path / "none.yaml", "none.yaml", lambda *p: problems.append(p)) is UNREADABLE
    assert [p[0] for p in problems] == ["missing-file"]
