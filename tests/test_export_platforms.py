"""XLSForm (converted by pyxform), LimeSurvey TSV and REDCap dictionaries, read back."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import defusedxml.ElementTree as ET
import openpyxl
import pytest
from _form_fixtures import GOOD_SPEC, make_bank, write_spec

from instrument.export import limesurvey, redcap, xlsform
from instrument.form import load_form

XF = "{http://www.w3.org/2002/xforms}"
SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "form_member.yaml"


@pytest.fixture(scope="module")
def form(tmp_path_factory):
    return load_form(write_spec(tmp_path_factory.mktemp("spec")), bank=make_bank())


@pytest.fixture(scope="module")
def interleaved(tmp_path_factory):
    text = GOOD_SPEC.replace("order: grouped", "order: interleaved")
    return load_form(write_spec(tmp_path_factory.mktemp("spec"), text), bank=make_bank())


@pytest.fixture(scope="module")
def sample():
    return load_form(SAMPLE)


# ----------------------------------------------------------------------------- XLSForm


def xform_of(path: Path, validate: bool = False) -> tuple[str, list[str]]:
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    result = convert(str(path), warnings=warnings, validate=validate)
    return result.xform, warnings


def check_xform(xml: str, form) -> None:
    root = ET.fromstring(xml)
    translations = {t.get("lang"): t for t in root.iter(f"{XF}translation")}
    assert set(translations) == {"Français (fr)", "English (en)"}
    assert translations["Français (fr)"].get("default") == "true()"
    for lang, name in (("fr", "Français (fr)"), ("en", "English (en)")):
        values = {v.text for v in translations[name].iter(f"{XF}value")}
        for item_id in form.item_ids:
            assert form.texts[item_id][lang] in values, (lang, item_id)
        for choice in form.response_set.all_choices():
            assert choice.label[lang] in values
    selects = [el for el in root.iter(f"{XF}select1") if el.get("appearance") == "likert"]
    assert [el.get("ref").rsplit("/", 1)[1] for el in selects] == list(form.versions["A"])
    groups = [el for el in root.iter(f"{XF}group") if el.get("appearance") == "field-list"]
    assert len(groups) >= 2
    binds = {b.get("nodeset").rsplit("/", 1)[1]: b for b in root.iter(f"{XF}bind")}
    assert binds["years"].get("type") == "int" and ". >= 0" in binds["years"].get("constraint")
    assert binds["sector"].get("required") == "true()"
    # the item choices: codes 1-5 then the missing codes
    first = selects[0]
    item_codes = [v.text for v in first.iter(f"{XF}value") if v.text]
    if not item_codes:  # itemset by reference: read the secondary instance
        instance = next(i for i in root.iter(f"{XF}instance") if i.get("id") == form.response_set.id)
        item_codes = [n.text for n in instance.iter(f"{XF}name")]
    assert item_codes == ["1", "2", "3", "4", "5", "8", "9"]
    title = root.find(".//{http://www.w3.org/1999/xhtml}title")
    assert title is not None and title.text == form.title["fr"]


def test_xlsform_sheets_and_columns(tmp_path, form):
    path = xlsform.write(form, tmp_path / "demo_xlsform.xlsx")[0]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["survey", "choices", "settings"]
    survey = [[c.value for c in row] for row in wb["survey"].iter_rows()]
    header = survey[0]
    for col in ("type", "name", "label::Français (fr)", "label::English (en)", "hint::Français (fr)", "hint::English (en)",
                "required", "appearance", "relevant", "constraint"):  # fmt: skip
        assert col in header
    rows = [dict(zip(header, r, strict=True)) for r in survey[1:]]
    likert = [r for r in rows if r["appearance"] == "likert"]
    assert [r["name"] for r in likert] == list(form.versions["A"])
    assert {r["type"] for r in likert} == {"select_one agree5"}
    assert sum(r["type"] == "begin_group" for r in rows) == sum(r["type"] == "end_group" for r in rows)
    assert all(r["appearance"] == "field-list" for r in rows if r["type"] == "begin_group")
    settings = dict(zip([c.value for c in wb["settings"][1]], [c.value for c in wb["settings"][2]], strict=True))
    assert settings["form_id"] == "demo" and settings["version"] == "1.0"
    assert settings["default_language"] == "Français (fr)" and settings["form_title"] == form.title["fr"]
    choices = [[c.value for c in row] for row in wb["choices"].iter_rows(values_only=False)]
    agree = [r for r in choices[1:] if r[0] == "agree5"]
    assert [r[1] for r in agree] == ["1", "2", "3", "4", "5", "8", "9"]
    assert agree[5][2:] == ["Je ne sais pas", "Don't know"]


def test_xlsform_converts_with_pyxform(tmp_path, form, interleaved, sample):
    for f in (form, interleaved, sample):
        path = xlsform.write(f, tmp_path / f"{f.id}_{f.hash[:6]}.xlsx")[0]
        xml, warnings = xform_of(path)
        assert warnings == []
        check_xform(xml, f)
    assert len(sample.items) == sum(1 for _ in ET.fromstring(xml).iter(f"{XF}select1")) - 3  # 3 context lists


def test_xls2xform_command_line(tmp_path, sample):
    # the console script installed beside the interpreter running the tests (pyxform is a dependency)
    exe = Path(sys.executable).parent / "xls2xform"
    if not exe.exists():
        exe = Path(shutil.which("xls2xform") or exe)
    if not exe.exists():
        pytest.skip("the xls2xform command is not installed")
    path = xlsform.write(sample, tmp_path / "member_xlsform.xlsx")[0]
    out = tmp_path / "member.xml"
    run = subprocess.run([str(exe), str(path), str(out), "--skip_validate"], capture_output=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr.decode(errors="replace")
    check_xform(out.read_text(encoding="utf-8"), sample)


@pytest.mark.tool
def test_xlsform_passes_odk_validate(tmp_path, sample):
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (ODK Validate needs it)")
    path = xlsform.write(sample, tmp_path / "member_xlsform.xlsx")[0]
    xml, warnings = xform_of(path, validate=True)
    assert not [w for w in warnings if "Error" in w]
    check_xform(xml, sample)


# ----------------------------------------------------------------------------- LimeSurvey


def read_tsv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter="\t", quotechar='"')
    rows = list(reader)
    header = rows[0]
    assert header == limesurvey.COLUMNS
    assert header[:14] == [
        "id", "related_id", "class", "type/scale", "name", "relevance", "text", "help",
        "language", "validation", "mandatory", "other", "default", "same_default",
    ]  # fmt: skip
    assert all(len(r) == len(header) for r in rows), Counter(len(r) for r in rows)
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def arrays(rows, lang):
    """{question code: (items, {answer code: assessment})} for the F arrays of one language."""
    out, current = {}, None
    for r in rows:
        if r["language"] != lang:
            continue
        if r["class"] == "Q":
            current = r["name"] if r["type/scale"] == "F" else None
            if current:
                out[current] = ([], {})
        elif current and r["class"] == "SQ":
            out[current][0].append(r["name"])
        elif current and r["class"] == "A":
            value = r["assessment_value"]
            out[current][1][r["name"]] = int(value) if value else None
    return out


def test_limesurvey_structure(tmp_path, form):
    rows = read_tsv(limesurvey.write(form, tmp_path / "demo_limesurvey.txt")[0])
    settings = {r["name"]: r["text"] for r in rows if r["class"] == "S"}
    # missing codes in the response set: no LimeSurvey assessment total (it would count them)
    assert settings["language"] == "fr" and settings["additional_languages"] == "en" and settings["assessments"] == "N"
    titles = {r["language"]: r["text"] for r in rows if r["class"] == "SL" and r["name"] == "surveyls_title"}
    assert titles == {"fr": form.title["fr"], "en": form.title["en"]}
    by_lang = {lang: [r for r in rows if r["language"] == lang and r["class"] in ("G", "Q", "SQ", "A")] for lang in ("fr", "en")}
    # the English copy has the same rows, ids and codes as the French one
    assert [(r["class"], r["id"], r["name"] if r["class"] != "G" else "") for r in by_lang["fr"]] == [
        (r["class"], r["id"], r["name"] if r["class"] != "G" else "") for r in by_lang["en"]
    ]
    for lang in ("fr", "en"):
        found = arrays(rows, lang)
        items = [i for items, _ in found.values() for i in items]
        assert sorted(items) == sorted(form.item_ids), lang
        texts = {r["name"]: r["text"] for r in by_lang[lang] if r["class"] == "SQ"}
        assert all(texts[i] == form.texts[i][lang] for i in form.item_ids)
        for code, (members, assessment) in found.items():
            polarity = {form.bank.item(i).polarity for i in members}
            assert len(polarity) == 1, code  # + and - items never share an array
            if polarity == {"-"}:
                assert code.endswith("N")
                assert assessment == {"1": 5, "2": 4, "3": 3, "4": 2, "5": 1, "8": None, "9": None}
            else:
                assert code.endswith("P")
                assert assessment == {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "8": None, "9": None}
    reverse = {i for items, a in arrays(rows, "fr").values() for i in items if a["1"] == 5}
    assert reverse == {it.id for it in form.items if it.reverse} and reverse
    # context block: list with codes, numerical with its range, short text
    questions = {r["name"]: r for r in rows if r["class"] == "Q" and r["language"] == "fr"}
    assert questions["sector"]["type/scale"] == "L" and questions["sector"]["mandatory"] == "Y"
    assert questions["years"]["type/scale"] == "N"
    assert (questions["years"]["min_num_value"], questions["years"]["max_num_value"]) == ("0", "60")
    assert questions["consortiumid"]["type/scale"] == "S"
    codes = [r["name"] for r in rows if r["class"] == "Q"]
    assert all(c.isalnum() and c[0].isalpha() and len(c) <= 20 for c in codes)
    assert len(set(codes)) == len(codes) // 2  # unique within a language
    assert all(r["random_order"] == "" for r in rows)  # grouped: no shuffling


def test_limesurvey_recall_lead_in_once_per_page(tmp_path, form):
    from instrument.export.common import blocks

    rows = read_tsv(limesurvey.write(form, tmp_path / "demo_limesurvey.txt")[0])
    for lang in ("fr", "en"):
        mine = [r for r in rows if r["language"] == lang]
        for block in blocks(form, "A"):
            lead = block.recall[lang].rstrip(".")
            if not lead:
                continue
            # one group per block: its description and its arrays hold the lead-in once
            start = next(k for k, r in enumerate(mine) if r["class"] == "G" and r["name"] == block.label[lang]
                         and any(lead in x["text"] for x in mine[k:k + 3]))
            end = next((k for k in range(start + 1, len(mine)) if mine[k]["class"] == "G"), len(mine))
            assert sum(r["text"].count(lead) for r in mine[start:end] if r["class"] in ("G", "Q")) == 1


def test_limesurvey_interleaved_asks_for_random_order(tmp_path, interleaved):
    rows = read_tsv(limesurvey.write(interleaved, tmp_path / "i.txt")[0])
    f_rows = [r for r in rows if r["class"] == "Q" and r["type/scale"] == "F" and r["language"] == "fr"]
    assert f_rows and all(r["random_order"] == "1" for r in f_rows)
    groups = [r["name"] for r in rows if r["class"] == "G" and r["language"] == "fr"]
    assert groups[0] == "À propos de vous" and groups[1].startswith("Partie")


def test_limesurvey_sample(tmp_path, sample):
    rows = read_tsv(limesurvey.write(sample, tmp_path / "member_limesurvey.txt")[0])
    for lang in ("fr", "en"):
        items = [i for members, _ in arrays(rows, lang).values() for i in members]
        assert sorted(items) == sorted(sample.item_ids)


# ----------------------------------------------------------------------------- REDCap


def read_dictionary(path: Path) -> list[dict]:
    text = path.read_bytes().decode("utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
        "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
        "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
        "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
        "Matrix Ranking?", "Field Annotation",
    ]  # fmt: skip
    assert all(len(r) == 18 for r in rows)
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def check_dictionary(fields, form, lang):
    names = [f["Variable / Field Name"] for f in fields]
    assert names[0] == "record_id"
    assert len(set(names)) == len(names)
    assert all(redcap.VARIABLE_PATTERN.match(n) for n in names), names
    assert {f["Form Name"] for f in fields} == {form.id}
    items = [f for f in fields if f["Matrix Group Name"]]
    assert [f["Variable / Field Name"] for f in items] == list(form.versions["A"])
    assert {f["Field Type"] for f in items} == {"radio"}
    expected = " | ".join(f"{c.code}, {c.label[lang]}" for c in form.response_set.all_choices())
    assert {f["Choices, Calculations, OR Slider Labels"] for f in items} == {expected}
    assert "8, " in expected and "9, " in expected
    # matrix groups: contiguous, one section header at the start of each
    groups = [f["Matrix Group Name"] for f in items]
    starts = [i for i, g in enumerate(groups) if i == 0 or groups[i - 1] != g]
    assert len(starts) == len(set(groups))  # each group is one contiguous run
    for i, f in enumerate(items):
        assert bool(f["Section Header"]) == (i in starts)
    for f in items:
        assert f["Field Label"] == form.texts[f["Variable / Field Name"]][lang]
        it = form.bank.item(f["Variable / Field Name"])
        assert f["Field Annotation"] == f"construct={it.construct}; facet={it.facet}; level={it.level}; key={it.polarity}"
    years = next(f for f in fields if f["Variable / Field Name"] == "years")
    assert (years["Text Validation Type OR Show Slider Number"], years["Text Validation Min"], years["Text Validation Max"]) == ("integer", "0", "60")
    return names


def test_redcap_dictionaries(tmp_path, form):
    fr = read_dictionary(redcap.write(form, tmp_path / "demo_redcap_fr.csv", lang="fr")[0])
    en = read_dictionary(redcap.write(form, tmp_path / "demo_redcap_en.csv", lang="en")[0])
    assert check_dictionary(fr, form, "fr") == check_dictionary(en, form, "en")
    sector = next(f for f in fr if f["Variable / Field Name"] == "sector")
    assert sector["Choices, Calculations, OR Slider Labels"] == "1, Public | 2, Communautaire | 3, Privé"
    assert sector["Required Field?"] == "y"


def test_redcap_sample(tmp_path, sample):
    fields = read_dictionary(redcap.write(sample, tmp_path / "member_redcap_fr.csv", lang="fr")[0])
    check_dictionary(fields, sample, "fr")
    assert len([f for f in fields if f["Matrix Group Name"]]) == len(sample.items)


def test_variable_names():
    assert redcap.variable_name("Consortium ID") == "consortium_id"
    assert redcap.variable_name("2nd") == "v_2nd"
    assert len(redcap.variable_name("x" * 40)) == 26
    assert limesurvey.question_code("consortium_id") == "consortiumid"
    assert limesurvey.question_code("9a") == "q9a"
