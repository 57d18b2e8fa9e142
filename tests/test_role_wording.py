"""A colleague or a non-member is never asked as if they sat in the consortium: no form for
those roles shows the members' recall contexts or wording, in French or in English, in the
form itself or in the printed questionnaire (issue 16: "a colleague who never sat in the
consortium is not asked 'since you have been taking part'")."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from typer.testing import CliRunner

from instrument.bank import load_bank
from instrument.cli import app
from instrument.form import load_form
from instrument.model import item_roles

ROOT = Path(__file__).resolve().parents[1]
CONSTRUCTS = ["trust", "social_capital", "learning", "legitimacy", "drawbacks"]

#: Wording that presumes the respondent sits in the consortium (the members' individual items).
PERSON = {
    "fr": [r"vous participez", r"\bje participe", r"\bma participation", r"(?<!d')\bautres membres\b",
           r"membre à part entière", r"\blors des rencontres", r"\bma contribution au consortium",
           r"votre expérience au sein du consortium"],
    "en": [r"you have been taking part", r"\bI take part", r"\bmy participation", r"\bthe other members\b",
           r"\bfull member\b", r"\bat meetings\b", r"\bmy contribution to the consortium",
           r"\byour experience in the\b",
           r"^Taking part in the consortium (takes (too much|a reasonable amount) of my time|strengthens my)", r"^Taking part sometimes"],
}
#: Wording that presumes the respondent's organization is a member (fine for colleagues).
ORGANIZATION = {
    "fr": [r"votre organisme participe", r"autres organismes membres", r"\bnotre participation",
           r"\bsa participation au consortium", r"^participer au consortium"],
    "en": [r"your organization has been taking part", r"other member organizations", r"\bour participation",
           r"\bits participation in the consortium", r"^Taking part in the consortium"],
}
FORBIDDEN = {"colleague": PERSON, "nonmember": {lang: PERSON[lang] + ORGANIZATION[lang] for lang in PERSON}}


def _every_level_spec(tmp_path: Path, role: str) -> Path:
    """A form for ``role`` with every construct at every level the role may be asked."""
    spec = tmp_path / f"all_{role}.yaml"
    spec.write_text(
        f"id: all_{role}\nversion: '1'\ntitle: {{fr: Tout, en: All}}\n"
        "introduction: {fr: Merci., en: Thank you.}\n"
        "consortium: {fr: Agir ensemble, en: Acting Together}\nlanguages: [fr, en]\n"
        f"role: {role}\nselect:\n  constructs: [{', '.join(CONSTRUCTS)}]\n"
        "  levels: [individual, organization, ecosystem, users]\n"
        "context_block: [sector, respondent_role, organization_id, consortium_id]\n",
        encoding="utf-8")
    return spec


def _forms(tmp_path: Path, role: str) -> list[tuple[str, Path]]:
    return [("sample", ROOT / "data_samples" / f"form_{role}.yaml"), ("every level", _every_level_spec(tmp_path, role))]


def _hits(text: str, patterns: list[str]) -> list[str]:
    return [p for p in patterns if re.search(p, text, re.IGNORECASE | re.MULTILINE)]


@pytest.mark.parametrize("role", ["colleague", "nonmember"])
def test_no_member_wording_in_the_items_or_their_recall_contexts(tmp_path, role):
    for name, spec in _forms(tmp_path, role):
        form = load_form(spec)
        assert form.role == role
        assert {it.construct for it in form.items} == set(CONSTRUCTS), name
        assert not {it.context for it in form.items} & {"since_joined"}, name
        for it in form.items:
            assert role in item_roles(it), (name, it.id)
            context = form.bank.contexts[it.context].text
            for lang in ("fr", "en"):
                text = it.text[lang]
                assert not _hits(text, FORBIDDEN[role][lang]), (name, it.id, lang, text)
                assert not _hits(context[lang], FORBIDDEN[role][lang]), (name, it.id, lang, context[lang])


@pytest.mark.parametrize("role", ["colleague", "nonmember"])
def test_no_member_wording_in_the_printed_questionnaire(tmp_path, role):
    bank = load_bank()
    member_leads = [bank.contexts[c].text for c in ("since_joined",)
                    + (("since_org_joined",) if role == "nonmember" else ())]
    for name, spec in _forms(tmp_path, role):
        out = tmp_path / f"{role}_{name.replace(' ', '_')}"
        res = CliRunner().invoke(app, ["form", "build", str(spec), "--out", str(out), "--format", "print"])
        assert res.exit_code == 0, res.output
        for lang in ("fr", "en"):
            (page,) = out.glob(f"*_{lang}.html")
            html = page.read_text(encoding="utf-8")
            text = unescape(re.sub(r"<[^>]+>", " ", html)).replace("\u202f", " ").replace("\u00a0", " ")
            text = re.sub(r"[ \t]+", " ", text)
            for lead in member_leads:
                head = lead[lang].split("{consortium}")[0].strip()
                assert head not in text, (name, lang, head)
            assert not _hits(text, [p for p in FORBIDDEN[role][lang] if not p.startswith("^")]), (name, lang)


def test_every_scored_facet_can_be_asked_of_each_role():
    """Each facet of the five scales has at least 3 items a colleague may be asked at the
    individual level, and 3 a non-member may be asked (the form's too-few-items rule)."""
    bank = load_bank()
    for role in ("colleague", "nonmember"):
        for facet, f in bank.facets.items():
            if bank.constructs[f.construct].kind == "tangible":
                continue
            own = [it for it in bank.items if it.facet == facet and it.level == "individual"
                   and it.status == "active" and role in item_roles(it)]
            assert len(own) >= 3, (role, facet, [it.id for it in own])
