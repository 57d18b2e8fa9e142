"""The platforms' texts (LimeSurvey, XLSForm, REDCap) typeset by instrument.typography:
Québec French spaces before ? ! : ; and inside « », none in English; codes, names,
expressions and annotations untouched; and what comes back from a platform (headings
and answer labels, typeset or typed plainly) still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from instrument.answers import normalize_label
from instrument.export import limesurvey, redcap, xlsform
from instrument.form import load_form
from instrument.typography import NBSP, NNBSP

SAMPLE = Path(__file__).resolve().parents[1] / "data_samples" / "form_member.yaml"
#: a French question ending with "?" in the sample form's context block
QUESTION = "Dans quel secteur travaillez-vous principalement"


@pytest.fixture(scope="module")
def sample():
    return load_form(SAMPLE)


def test_limesurvey_texts_are_typeset_codes_are_not(sample):
    rows = limesurvey.rows(sample)
    fr = [r for r in rows if r.get("language") == "fr"]
    en = [r for r in rows if r.get("language") == "en"]
    assert any(r["text"] == f"{QUESTION}{NNBSP}?" for r in fr)
    assert not any(" ?" in r["text"] or f"{NNBSP}?" in r["text"] for r in en)
    welcome = next(r["text"] for r in fr if r.get("name") == "surveyls_welcometext")
    assert f"suivante{NBSP}:" in welcome
    end = next(r["text"] for r in fr if r.get("name") == "surveyls_endtext")
    assert end.endswith(f"questionnaire{NNBSP}!")
    codes = [r["name"] for r in rows if r.get("class") in ("Q", "SQ", "A")]
    assert all(NNBSP not in c and NBSP not in c for c in codes)


def test_xlsform_labels_are_typeset_names_are_not(sample):
    sheets = xlsform.rows(sample)
    fr, en = (f"label::{xlsform.LANGUAGE_NAMES[lang]}" for lang in ("fr", "en"))
    sector = next(r for r in sheets["survey"] if r["name"] == "sector")
    assert sector[fr] == f"{QUESTION}{NNBSP}?"
    assert sector[en].endswith("?") and not sector[en].endswith(" ?")
    for row in sheets["survey"] + sheets["choices"]:
        for col in ("name", "type", "relevant", "constraint", "appearance"):
            assert NNBSP not in str(row.get(col, "")) and NBSP not in str(row.get(col, ""))


def test_redcap_labels_are_typeset_annotations_are_not(sample):
    rows = redcap.rows(sample, "fr")
    sector = next(r for r in rows if r["Variable / Field Name"] == "sector")
    assert sector["Field Label"] == f"{QUESTION}{NNBSP}?"
    for r in rows:  # machine-read columns keep their plain "; " and names
        for col in ("Field Annotation", "Branching Logic (Show field only if...)", "Variable / Field Name"):
            assert NNBSP not in r[col] and NBSP not in r[col]
    assert any("; facet=" in r["Field Annotation"] for r in rows)
    en = redcap.rows(sample, "en")
    assert all(f"{NNBSP}?" not in r["Field Label"] for r in en)


@pytest.mark.parametrize("plain, typeset", [
    ("Dans quel secteur travaillez-vous principalement?", f"Dans quel secteur travaillez-vous principalement{NNBSP}?"),
    ("Merci !", f"Merci{NNBSP}!"),
    ("Période : depuis « toujours »", f"Période{NBSP}: depuis «{NNBSP}toujours{NNBSP}»"),
])
def test_a_heading_typed_plainly_or_typeset_is_the_same_label(plain, typeset):
    """Platform exports made before the typography (tests/platforms/*.csv), or edited by
    hand, still match the form's typeset headings and answer labels."""
    assert normalize_label(plain) == normalize_label(typeset)
