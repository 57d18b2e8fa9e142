"""load_form: a spec + the bank -> a checked Form; every problem collected with its line."""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
from pathlib import Path

import pytest
from _form_fixtures import GOOD_SPEC, make_bank, write_spec

from instrument.form import FormError, load_form, read_spec
from instrument.model import Form

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "form_member.yaml"


@pytest.fixture(scope="module")
def bank():
    return make_bank()


def problems_of(tmp_path, text, bank):
    path = write_spec(tmp_path, text)
    with pytest.raises(FormError) as info:
        load_form(path, bank=bank)
    return info.value.problems


def codes(problems):
    return sorted(p.code for p in problems)


# ----------------------------------------------------------------------------- a good spec


def test_good_spec_builds_the_form(tmp_path, bank):
    form = load_form(write_spec(tmp_path), bank=bank)
    assert isinstance(form, Form)
    assert form.id == "demo" and form.version == "1.0"
    assert form.languages == ("fr", "en")
    # levels filter the constructs; explicit items are added whatever their level;
    # exclude removes; retired items are never selected; tangible not asked
    assert set(form.item_ids) == {
        "trcpi1", "trcpi2", "trcpo1", "trcpo2", "trbni1", "trbni2", "trbno1",
        "lrini1", "lrini2", "lrini3", "lrine1", "drcst1", "drcst2", "drcst3",
    }  # fmt: skip
    assert form.texts["trcpi1"] == {
        "fr": "Énoncé trcpi1 du consortium Vivre ensemble.",
        "en": "Statement trcpi1 of the Living Together consortium.",
    }
    assert form.title["en"] == "Demonstration questionnaire"
    assert form.introduction["fr"] == "Merci de participer au consortium Vivre ensemble."
    assert form.recall["fr"] == "Depuis que vous participez au consortium Vivre ensemble"
    assert form.response_set.id == "agree5"
    assert [q.id for q in form.context_block] == ["sector", "years", "consortium_id"]
    assert form.bank is not None


def test_grouped_order_and_version_b(tmp_path, bank):
    form = load_form(write_spec(tmp_path), bank=bank)
    constructs = [it.construct for it in form.items]
    # grouped: by construct in the order of first mention, then facet, then recall context
    assert constructs == ["trust"] * 7 + ["learning"] * 4 + ["drawbacks"] * 3
    facets = [it.facet for it in form.items[:7]]
    assert facets == ["trust_competence"] * 4 + ["trust_benevolence"] * 3
    assert form.versions["A"] == form.item_ids
    # B: the construct blocks in reverse order, items in the same order inside a block
    b = form.versions["B"]
    assert b == form.item_ids[11:] + form.item_ids[7:11] + form.item_ids[:7]


def test_interleaved_order_never_puts_two_items_of_a_facet_side_by_side(tmp_path, bank):
    form = load_form(write_spec(tmp_path, GOOD_SPEC.replace("order: grouped", "order: interleaved")), bank=bank)
    facets = [it.facet for it in form.items]
    assert sorted(form.item_ids) == sorted(load_form(write_spec(tmp_path, name="g.yaml"), bank=bank).item_ids)
    assert all(a != b for a, b in itertools.pairwise(facets))
    # B reads A backwards: still no neighbours from the same facet
    assert form.versions["B"] == tuple(reversed(form.versions["A"]))


def test_shuffled_order_is_reproducible_and_depends_on_the_seed(tmp_path, bank):
    text = GOOD_SPEC.replace("order: grouped", "order: shuffled\nseed: 11")
    a1 = load_form(write_spec(tmp_path, text, "a.yaml"), bank=bank)
    a2 = load_form(write_spec(tmp_path, text, "b.yaml"), bank=bank)
    other = load_form(write_spec(tmp_path, text.replace("seed: 11", "seed: 12"), "c.yaml"), bank=bank)
    grouped = load_form(write_spec(tmp_path), bank=bank)
    assert a1.versions == a2.versions and a1.hash == a2.hash
    assert a1.item_ids != other.item_ids
    assert sorted(a1.item_ids) == sorted(grouped.item_ids)
    assert a1.item_ids != grouped.item_ids
    assert a1.versions["B"] != a1.versions["A"] and sorted(a1.versions["B"]) == sorted(a1.item_ids)


def test_not_counterbalanced_has_only_version_a(tmp_path, bank):
    form = load_form(write_spec(tmp_path, GOOD_SPEC.replace("versions: [A, B]\n", "")), bank=bank)
    assert list(form.versions) == ["A"]


def test_scales_facets_constructs_levels_drawbacks_apart_no_tangible(tmp_path, bank):
    text = GOOD_SPEC.replace("items: [lrine1]", "items: [lrine1, tgmkt1]")
    form = load_form(write_spec(tmp_path, text), bank=bank)
    scales = {s.name: s for s in form.scales}
    assert scales["trust"].kind == "construct"
    assert scales["trust"].keys == ("trcpi1", "trcpi2", "-trcpo1", "trcpo2", "trbni1", "-trbni2", "trbno1")
    assert scales["trust_competence"].kind == "facet"
    assert scales["trust_competence"].keys == ("trcpi1", "trcpi2", "-trcpo1", "trcpo2")
    assert scales["trust_benevolence"].label == {"fr": "Bienveillance", "en": "Benevolence"}
    # level scales in benefit constructs spanning levels, with >= 3 items
    assert scales["trust_individual"].kind == "level"
    assert scales["trust_individual"].items == ("trcpi1", "trcpi2", "trbni1", "trbni2")
    assert scales["trust_organization"].items == ("trcpo1", "trcpo2", "trbno1")
    assert "learning_organization" not in scales  # 1 item at that level
    # drawbacks scored apart, tangible never in a scale
    assert scales["drawbacks"].items == ("drcst1", "drcst2", "drcst3")
    assert all("tgmkt1" not in s.items for s in form.scales)
    assert "tgmkt1" in form.item_ids
    assert all(set(s.items) <= {it.id for it in form.items if it.construct == "drawbacks"} for s in form.scales if s.name.startswith("draw"))
    keys = form.keys()
    assert keys["min"] == 1 and keys["max"] == 5 and keys["scales"]["trust_competence"][2] == "-trcpo1"


def test_hash_is_stable_and_tracks_what_matters(tmp_path, bank):
    form = load_form(write_spec(tmp_path), bank=bank)
    again = load_form(write_spec(tmp_path, name="again.yaml"), bank=bank)
    assert form.hash == again.hash and len(form.hash) == 64
    # texts do not matter for matching a returned file
    retitled = load_form(write_spec(tmp_path, GOOD_SPEC.replace("Questionnaire de démonstration", "Autre titre"), "t.yaml"), bank=bank)
    assert retitled.hash == form.hash
    # version, item order and response codes do
    assert load_form(write_spec(tmp_path, GOOD_SPEC.replace('"1.0"', '"1.1"'), "v.yaml"), bank=bank).hash != form.hash
    assert load_form(write_spec(tmp_path, GOOD_SPEC.replace("order: grouped", "order: interleaved"), "o.yaml"), bank=bank).hash != form.hash
    fewer = GOOD_SPEC.replace("exclude: [lrext1]", "exclude: [lrext1, trcpi1]")
    assert load_form(write_spec(tmp_path, fewer, "f.yaml"), bank=bank).hash != form.hash
    codes9 = dataclasses.replace(bank.response_sets["agree5"], missing=bank.response_sets["agree5"].missing[:1])
    bank9 = dataclasses.replace(bank, response_sets={**bank.response_sets, "agree5": codes9})
    assert load_form(write_spec(tmp_path), bank=bank9).hash != form.hash


def test_consortium_as_one_text_for_both_languages(tmp_path, bank):
    text = GOOD_SPEC.replace("consortium:\n  fr: Vivre ensemble\n  en: Living Together\n", "consortium: Rivière-Claire\n")
    form = load_form(write_spec(tmp_path, text), bank=bank)
    assert form.texts["trcpi1"]["en"] == "Statement trcpi1 of the Rivière-Claire consortium."
    assert form.consortium == {"fr": "Rivière-Claire", "en": "Rivière-Claire"}


def test_recall_override_by_id_and_by_text(tmp_path, bank):
    by_id = load_form(write_spec(tmp_path, GOOD_SPEC + "recall: since_org_joined\n", "i.yaml"), bank=bank)
    assert {it.context for it in by_id.items} == {"since_org_joined"}
    assert by_id.recall["en"] == "Since your organization has been taking part in the Living Together consortium"
    text = GOOD_SPEC + "recall:\n  fr: Au cours des 12 derniers mois ({consortium})\n  en: In the last 12 months ({consortium})\n"
    by_text = load_form(write_spec(tmp_path, text, "t.yaml"), bank=bank)
    assert {it.context for it in by_text.items} == {"form_recall"}
    assert by_text.recall == {"fr": "Au cours des 12 derniers mois (Vivre ensemble)", "en": "In the last 12 months (Living Together)"}
    assert by_text.bank.contexts["form_recall"].text["fr"].startswith("Au cours des 12 derniers mois")
    assert "form_recall" not in bank.contexts  # the shared bank is not changed


def test_languages_french_only(tmp_path, bank):
    text = GOOD_SPEC.replace("select:", "languages: [fr]\nselect:").replace("  en: Living Together\n", "")
    form = load_form(write_spec(tmp_path, text), bank=bank)
    assert form.languages == ("fr",)
    assert set(form.texts["trcpi1"]) == {"fr"}


# ----------------------------------------------------------------------------- problems

BAD_SPEC = """\
id: Demo-Form
version: "1.0"
colour: blue
title:
  fr: Titre
introduction:
  fr: Intro {consortium}
  en: Intro {consortium}
consortium:
  fr: Vivre ensemble
select:
  constructs: [trust, confidence]
  facets: [trust_nothing]
  levels: [galaxy]
  items: [zzz1, lrini1, trold1]
  exclude: [nope1]
  extra: 1
context_block: [sector, shoe_size]
response_set: agree7
recall: yesterday
order: sideways
versions: [A, C]
"""


def test_every_problem_is_collected_with_its_line(tmp_path, bank):
    problems = problems_of(tmp_path, BAD_SPEC, bank)
    found = {(p.code, p.line) for p in problems}
    expected = {
        ("invalid-form-id", 1),
        ("unknown-field", 3),
        ("missing-translation", 4),  # title has no English text
        ("unknown-construct", 12),
        ("unknown-facet", 13),
        ("unknown-level", 14),
        ("unknown-item", 15),  # zzz1
        ("retired-item", 15),  # trold1
        ("unknown-item", 16),  # cannot exclude nope1
        ("unknown-field", 17),  # select.extra
        ("unknown-context-question", 18),
        ("unknown-response-set", 19),
        ("unknown-context", 20),
        ("invalid-order", 21),
        ("invalid-versions", 22),
        ("unfilled-placeholder", 9),  # {consortium} has no English name
    }
    assert expected <= found, expected - found
    assert all(p.file.endswith("spec.yaml") for p in problems)
    assert any(p.item == "zzz1" for p in problems)
    # the message names the rule and the value
    form_id = next(p for p in problems if p.code == "invalid-form-id")
    assert "Demo-Form" in form_id.message and "[a-z]" in form_id.message
    text = str(FormError(problems))
    assert "spec.yaml:1: invalid-form-id" in text


def test_too_few_items_in_a_facet(tmp_path, bank):
    text = GOOD_SPEC.replace("  exclude: [lrext1]", "  exclude: [lrext1, trbni1, trbni2]")
    problems = problems_of(tmp_path, text, bank)
    assert codes(problems) == ["too-few-items"]
    assert "trust_benevolence" in problems[0].message and "too few items to score" in problems[0].message
    assert problems[0].line == 13  # the 'constructs' entry that brought the facet in


def test_too_few_items_in_a_construct(tmp_path, bank):
    text = GOOD_SPEC.replace("constructs: [trust, learning, drawbacks]", "constructs: [trust, learning]\n  facets: []\n  items: [lrine1, drcst1]")
    text = text.replace("  items: [lrine1]\n", "")
    problems = problems_of(tmp_path, text, bank)
    assert {(p.code, "'drawbacks'" in p.message or "'drawbacks_cost'" in p.message) for p in problems} == {("too-few-items", True)}
    assert len(problems) == 2  # the facet and the construct


def test_mixed_response_sets(tmp_path, bank):
    problems = problems_of(tmp_path, GOOD_SPEC.replace("  exclude: [lrext1]\n", ""), bank)
    assert codes(problems) == ["mixed-response-sets"]
    assert "lrext1" in problems[0].message
    assert problems[0].line == 17  # the response_set line (the exclude line is gone)


def test_unfilled_placeholder_when_consortium_is_missing_in_one_language(tmp_path, bank):
    problems = problems_of(tmp_path, GOOD_SPEC.replace("  en: Living Together\n", ""), bank)
    assert codes(problems) == ["unfilled-placeholder"]
    assert "'en'" in problems[0].message and "{consortium}" in problems[0].message
    assert problems[0].line == 9


def test_unknown_placeholder_is_reported(tmp_path, bank):
    text = GOOD_SPEC.replace("Merci de participer au consortium {consortium}.", "Bonjour {prenom}.")
    problems = problems_of(tmp_path, text, bank)
    assert codes(problems) == ["unfilled-placeholder"]
    assert "{prenom}" in problems[0].message and "introduction" in problems[0].message


def test_shuffled_needs_a_seed(tmp_path, bank):
    problems = problems_of(tmp_path, GOOD_SPEC.replace("order: grouped", "order: shuffled"), bank)
    assert codes(problems) == ["invalid-order"] and "seed" in problems[0].message


def test_version_must_be_quoted_text(tmp_path, bank):
    problems = problems_of(tmp_path, GOOD_SPEC.replace('version: "1.0"', "version: 1.10"), bank)
    assert codes(problems) == ["invalid-version"] and problems[0].line == 2


def test_missing_fields(tmp_path, bank):
    problems = problems_of(tmp_path, "id: demo\n", bank)
    assert codes(problems).count("missing-field") == 4  # version, title, introduction, select


def test_empty_selection(tmp_path, bank):
    problems = problems_of(tmp_path, GOOD_SPEC.replace("  levels: [individual, organization]", "  levels: [users]").replace("  items: [lrine1]\n", ""), bank)
    assert codes(problems) == ["empty-selection"]


# ----------------------------------------------------------------------------- unsafe YAML


def test_python_tags_are_refused(tmp_path, bank):
    text = GOOD_SPEC.replace('version: "1.0"', 'version: !!python/object/apply:os.system ["echo pwned"]')
    problems = problems_of(tmp_path, text, bank)
    assert codes(problems) == ["unsafe-yaml"] and problems[0].line == 2


def test_aliases_are_refused_no_billion_laughs(tmp_path, bank):
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    bomb += "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8))
    problems = problems_of(tmp_path, bomb, bank)
    assert set(codes(problems)) == {"yaml-alias"} and problems[0].line == 2


def test_duplicate_keys_and_invalid_yaml(tmp_path, bank):
    problems = problems_of(tmp_path, GOOD_SPEC + "order: interleaved\n", bank)
    assert ("duplicate-field", 21) in {(p.code, p.line) for p in problems}
    problems = problems_of(tmp_path, "id: [unclosed\n", bank)
    assert codes(problems) == ["yaml-syntax"]
    problems = problems_of(tmp_path, "- just\n- a list\n", bank)
    assert codes(problems) == ["not-a-mapping"]


def test_read_spec_records_lines(tmp_path):
    data, problems = read_spec(write_spec(tmp_path))
    assert problems == []
    assert data.line_of("select") == 12
    assert data["select"].line_of("exclude") == 16
    assert data["versions"].lines[1] == 20


# ----------------------------------------------------------------------------- the sample spec


@pytest.fixture(scope="module")
def shipped():
    from instrument.bank import load_bank

    return load_bank()


def test_sample_spec_with_the_shipped_bank(shipped):
    form = load_form(SAMPLE)
    assert 36 <= len(form.items) <= 44
    assert form.languages == ("fr", "en")
    constructs = {it.construct for it in form.items}
    assert {"trust", "social_capital", "learning", "legitimacy", "drawbacks"} <= constructs
    levels = {it.level for it in form.items}
    assert {"individual", "organization"} <= levels and levels & {"ecosystem", "users"}
    assert any(it.reverse for it in form.items)
    assert list(form.versions) == ["A", "B"]
    assert sorted(form.versions["B"]) == sorted(form.item_ids)
    for it in form.items:
        for lang in ("fr", "en"):
            assert "{" not in form.texts[it.id][lang]
    kinds = {s.kind for s in form.scales}
    assert {"facet", "construct"} <= kinds
    assert json.dumps(form.keys())  # a keys file
    assert load_form(SAMPLE, bank=shipped).hash == form.hash


def test_sample_spec_interleaved_keeps_facets_apart(tmp_path, shipped):
    path = tmp_path / "member.yaml"
    shutil.copy(SAMPLE, path)
    path.write_text(path.read_text(encoding="utf-8").replace("order: grouped", "order: interleaved"), encoding="utf-8")
    form = load_form(path, bank=shipped)
    facets = [it.facet for it in form.items]
    assert all(a != b for a, b in itertools.pairwise(facets))
    # items asked under one recall context stay together
    contexts = [it.context for it in form.items]
    changes = sum(a != b for a, b in itertools.pairwise(contexts))
    assert changes == len(set(contexts)) - 1 >= 2
    assert form.hash != load_form(SAMPLE, bank=shipped).hash
    shuffled = tmp_path / "shuffled.yaml"
    shuffled.write_text(path.read_text(encoding="utf-8").replace("order: interleaved", "order: shuffled\nseed: 5"), encoding="utf-8")
    for version in load_form(shuffled, bank=shipped).versions.values():
        ctx = [shipped.item(i).context for i in version]
        assert sum(a != b for a, b in itertools.pairwise(ctx)) == len(set(ctx)) - 1
