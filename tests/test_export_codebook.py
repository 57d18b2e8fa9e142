"""codebook.json (DESIGN.md's contract) and the human-readable HTML codebook."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from form_fixture import make_form
from markupsafe import escape

from instrument.export import codebook
from instrument.export.codebook import FORMAT_VERSION, keys_from_codebook, render_html
from instrument.resources import samples_dir

ITEM_KEYS = {
    "position",
    "positions",
    "id",
    "construct",
    "facet",
    "level",
    "polarity",
    "reverse",
    "key",
    "response_set",
    "values",
    "missing_codes",
    "text",
    "context",
    "recall",
    "scales",
    "source_inspiration",
    "item_version",
    "status",
}


@pytest.fixture(scope="module")
def form():
    return make_form()


def check_contract(cb: dict, form) -> None:
    """Everything DESIGN.md and the issue promise about codebook.json, checked on ``cb``."""
    langs = list(form.languages)
    assert cb["codebook_format"] == FORMAT_VERSION
    meta = cb["form"]
    assert (meta["id"], meta["version"], meta["hash"], meta["languages"]) == (form.id, form.version, form.hash, langs)
    assert meta["n_items"] == len(form.items)
    assert meta["versions"] == {v: list(ids) for v, ids in form.versions.items()}
    rs = form.response_set
    assert cb["response_set"]["id"] == rs.id
    assert [v["code"] for v in cb["response_set"]["values"]] == list(rs.codes)
    assert [v["code"] for v in cb["response_set"]["missing_codes"]] == list(rs.missing_codes)

    items = cb["items"]
    assert [it["id"] for it in items] == list(form.item_ids), "items in form order"
    assert [it["position"] for it in items] == list(range(1, len(items) + 1))
    by_id = {it.id: it for it in form.items}
    for entry in items:
        assert set(entry) == ITEM_KEYS, entry["id"]
        item = by_id[entry["id"]]
        assert (entry["construct"], entry["facet"], entry["level"]) == (item.construct, item.facet, item.level)
        assert entry["reverse"] is (item.polarity == "-")
        assert entry["polarity"] == item.polarity
        assert entry["key"] == ("-" if entry["reverse"] else "") + item.id
        assert entry["text"] == {lang: form.texts[item.id][lang] for lang in langs}
        assert all("{consortium}" not in t for t in entry["text"].values())
        assert all("{consortium}" not in t for t in entry["recall"].values())
        assert [v["code"] for v in entry["values"]] == list(rs.codes)
        assert [v["code"] for v in entry["missing_codes"]] == list(rs.missing_codes)
        assert not set(rs.codes) & set(rs.missing_codes)
        for choice in entry["values"] + entry["missing_codes"]:
            assert set(choice["label"]) == set(langs) and all(choice["label"].values())
        for v, ids in form.versions.items():
            assert entry["positions"][v] == list(ids).index(item.id) + 1

    # the scales are a keys file whose reverse marks agree with the items' polarity
    reverse = {it["id"]: it["reverse"] for it in items}
    assert set(cb["scales"]) == {s.name for s in form.scales}
    for name, keys in cb["scales"].items():
        assert keys, name
        for k in keys:
            assert k.startswith("-") is reverse[k.lstrip("-")], (name, k)
    details = cb["scale_details"]
    assert [d["name"] for d in details] == sorted(cb["scales"])
    for d in details:
        assert d["keys"] == cb["scales"][d["name"]]
        assert d["items"] == [k.lstrip("-") for k in d["keys"]]
        assert d["reverse_items"] == [k[1:] for k in d["keys"] if k.startswith("-")]
        assert d["kind"] in ("facet", "construct", "level")
    for entry in items:
        assert entry["scales"] == sorted(d["name"] for d in details if entry["id"] in d["items"])
    assert (cb["min"], cb["max"], cb["id"]) == (rs.low, rs.high, "respondent")

    assert [q["id"] for q in cb["context_block"]] == [q.id for q in form.context_block]
    for q, entry in zip(form.context_block, cb["context_block"], strict=True):
        assert [c["code"] for c in entry["choices"]] == [c.code for c in q.choices]
        assert entry["type"] == q.type and entry["required"] == q.required


def test_codebook_follows_the_contract(form):
    cb = codebook.codebook(form)
    check_contract(cb, form)
    # the fixture has reverse-keyed items: the check above is not vacuous
    assert sum(it["reverse"] for it in cb["items"]) == 3
    assert cb["scales"]["trust"] == ["trcpi1", "trcpi2", "trbni1", "-trbni2", "trint1", "-trint2"]
    first = cb["items"][0]
    assert first["text"]["fr"].startswith("Les membres du consortium Vivre ensemble à Lévis ont")
    assert first["recall"]["en"] == "Since you have been taking part in the Vivre ensemble à Lévis consortium"
    assert first["positions"] == {"A": 1, "B": 20}
    assert first["values"][0] == {"code": 1, "label": {"fr": "Tout à fait en désaccord", "en": "Strongly disagree"}}
    assert first["missing_codes"][1] == {"code": 9, "label": {"fr": "Ne s'applique pas", "en": "Not applicable"}}
    assert cb["constructs"]["drawbacks"] == {"kind": "drawback", "label": {"fr": "Inconvénients", "en": "Drawbacks"}}
    assert cb["facets"]["trust_integrity"]["construct"] == "trust"


def test_codebook_json_file_is_deterministic_utf8_and_round_trips(form, tmp_path):
    path = codebook.write(form, tmp_path / "codebook.json")
    raw = path.read_bytes()
    assert codebook.write(form, tmp_path / "again.json").read_bytes() == raw
    text = raw.decode("utf-8")
    assert "Lévis" in text and "\\u00e9" not in text  # ensure_ascii=False
    assert text.endswith("}\n") and text.startswith('{\n  "codebook_format": 1,')
    loaded = json.loads(text)
    assert json.dumps(loaded, ensure_ascii=False, indent=2, sort_keys=True) + "\n" == text
    check_contract(loaded, form)
    # the codebook is a keys file: same mapping as the form's own keys
    keys = keys_from_codebook(loaded)
    assert keys == form.keys()
    assert keys["scales"]["trust_benevolence"] == ["trbni1", "-trbni2"]


def test_codebook_without_bank_and_single_version():
    bare = make_form(versions=False)
    object.__setattr__(bare, "bank", None)
    cb = codebook.codebook(bare)
    check_contract(cb, bare)
    assert "constructs" not in cb and cb["form"]["bank_version"] is None
    assert cb["form"]["versions"] == {"A": list(bare.item_ids)}
    # without the bank, the recall context is the form's
    assert {it["recall"]["fr"] for it in cb["items"]} == {bare.recall["fr"]}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.parts.append(data)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_codebook_html_lists_items_codes_scales_and_context(form, lang, tmp_path):
    path = codebook.write_html(form, tmp_path / f"codebook_{lang}.html", lang=lang)
    html = path.read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in html
    parser = _Text()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    assert ("Livre de codes" if lang == "fr" else "Codebook") in text
    for item in form.items:  # both languages side by side, whatever the interface language
        for tl in form.languages:
            assert " ".join(form.texts[item.id][tl].split()) in text, (item.id, tl)
    assert form.hash in text
    for c in form.response_set.all_choices():
        assert c.label["fr"] in text and c.label["en"] in text
    for q in form.context_block:
        assert q.id in text
        for c in q.choices:
            assert c.label["fr"] in text
    # reverse-keyed items are marked in the item table and in the scales
    marker = "inversé" if lang == "fr" else "reversed"
    assert text.count(f"-trbni2 ({marker})") == 1
    assert "trbni1, -trbni2" in text
    rows = [attrs for tag, attrs in parser.tags if tag == "th" and attrs.get("scope") == "row"]
    assert len(rows) >= len(form.items) + len(form.scales)
    assert "<script" not in html


def test_codebook_html_escapes():
    nasty = make_form(nasty=True)
    for lang in ("fr", "en"):
        html = render_html(nasty, lang=lang)
        assert "<script" not in html.lower()
        assert str(escape('<script>alert("x")</script>')) in html


def test_codebook_html_bad_lang(form):
    with pytest.raises(ValueError, match=r"'lang' parameter .* got 'de'"):
        render_html(form, lang="de")


def test_codebook_of_the_sample_form(tmp_path):
    spec = samples_dir() / "form_member.yaml"
    from instrument.form import load_form

    real = load_form(spec)
    loaded = json.loads(codebook.write(real, tmp_path / "codebook.json").read_text(encoding="utf-8"))
    check_contract(loaded, real)
    assert any(it["reverse"] for it in loaded["items"])
    assert keys_from_codebook(loaded) == real.keys()
    html = codebook.write_html(real, tmp_path / "codebook_fr.html", lang="fr").read_text(encoding="utf-8")
    assert all(f">{it.id}<" in html for it in real.items)


def test_french_codebook_speaks_french_and_never_cuts_a_word(tmp_path):
    from instrument.export.codebook import render_html
    from instrument.form import load_form
    from instrument.resources import samples_dir

    sample = load_form(samples_dir() / "form_member.yaml")
    html = render_html(sample, lang="fr")
    # the Type of a context question and of a scale in French, typeset
    assert "Type\u00a0: choix unique" in html and "select_one" not in html
    assert "<td>facette</td>" in html and "<td>facet</td>" not in html
    assert "principalement\u202f?" in html
    # no rule that lets a browser cut a word anywhere; hyphenated names kept whole
    assert "overflow-wrap: anywhere" not in html and "table-layout: fixed" not in html
    assert '<span class="nobr">Rivière-Claire</span>' in html
    assert ".nobr { white-space: nowrap; }" in html  # the span alone did not keep it whole
    # no parentheses inside parentheses (the heading read "agree5 (Accord (5 points))")
    import re

    text = re.sub(r"<[^>]+>", "", html)
    assert not re.search(r"\([^()]*\(", text), re.search(r".{40}\([^()]*\(.{40}", text)
    en = render_html(sample, lang="en")
    assert "Type: single choice" in en and "<td>facet</td>" in en
