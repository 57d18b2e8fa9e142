"""A small hand-made item bank and form specs for the form and export tests.

The tests do not depend on the shipped bank's content: this bank has two benefit
constructs (trust with two facets, learning with one), a drawbacks construct and a
tangible construct, two levels, the agree5 and extent5 response sets and a context block.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from instrument.model import (
    Choice,
    Construct,
    ContextQuestion,
    Facet,
    Item,
    ItemBank,
    Level,
    RecallContext,
    ResponseSet,
)


def _t(fr, en):
    return {"fr": fr, "en": en}


AGREE5 = ResponseSet(
    id="agree5",
    label=_t("Accord (5 points)", "Agreement (5 points)"),
    choices=(
        Choice(1, _t("Tout à fait en désaccord", "Strongly disagree")),
        Choice(2, _t("Plutôt en désaccord", "Somewhat disagree")),
        Choice(3, _t("Ni en accord ni en désaccord", "Neither agree nor disagree")),
        Choice(4, _t("Plutôt d'accord", "Somewhat agree")),
        Choice(5, _t("Tout à fait d'accord", "Strongly agree")),
    ),
    missing=(Choice(8, _t("Je ne sais pas", "Don't know")), Choice(9, _t("Ne s'applique pas", "Not applicable"))),
)

EXTENT5 = ResponseSet(
    id="extent5",
    label=_t("Mesure (5 points)", "Extent (5 points)"),
    choices=(
        Choice(1, _t("Pas du tout, d'aucune façon", "Not at all, in no way whatsoever")),
        Choice(2, _t("Dans une faible mesure, à peine", "To a small extent, barely")),
        Choice(3, _t("Dans une certaine mesure, en partie", "To some extent, partly")),
        Choice(4, _t("Dans une grande mesure, nettement", "To a great extent, clearly")),
        Choice(5, _t("Dans une très grande mesure, tout à fait", "To a very great extent, entirely")),
    ),
    missing=(
        Choice(8, _t("Je ne sais pas, je n'ai pas d'avis", "Don't know, no opinion")),
        Choice(9, _t("Ne s'applique pas à ma situation", "Does not apply to my situation")),
    ),
)

CONTEXT_BLOCK = (
    ContextQuestion(
        "sector",
        "select_one",
        _t("Dans quel secteur votre organisme est-il actif ?", "In which sector is your organization active?"),
        choices=(
            Choice(1, _t("Public", "Public")),
            Choice(2, _t("Communautaire", "Community")),
            Choice(3, _t("Privé", "Private")),
        ),
        required=True,
    ),
    ContextQuestion(
        "years",
        "integer",
        _t("Depuis combien d'années participez-vous au consortium ?", "For how many years have you taken part in the consortium?"),
        minimum=0,
        maximum=60,
    ),
    ContextQuestion("consortium_id", "text", _t("Code du consortium", "Consortium code")),
)


def _items():
    spec = [
        # id, construct, facet, level, polarity, response set
        ("trcpi1", "trust", "trust_competence", "individual", "+", "agree5"),
        ("trcpi2", "trust", "trust_competence", "individual", "+", "agree5"),
        ("trcpo1", "trust", "trust_competence", "organization", "-", "agree5"),
        ("trcpo2", "trust", "trust_competence", "organization", "+", "agree5"),
        ("trbni1", "trust", "trust_benevolence", "individual", "+", "agree5"),
        ("trbni2", "trust", "trust_benevolence", "individual", "-", "agree5"),
        ("trbno1", "trust", "trust_benevolence", "organization", "+", "agree5"),
        ("lrini1", "learning", "learning_individual", "individual", "+", "agree5"),
        ("lrini2", "learning", "learning_individual", "individual", "+", "agree5"),
        ("lrini3", "learning", "learning_individual", "organization", "-", "agree5"),
        ("lrine1", "learning", "learning_individual", "ecosystem", "+", "agree5"),
        ("drcst1", "drawbacks", "drawbacks_cost", "individual", "+", "agree5"),
        ("drcst2", "drawbacks", "drawbacks_cost", "individual", "+", "agree5"),
        ("drcst3", "drawbacks", "drawbacks_cost", "organization", "+", "agree5"),
        ("tgmkt1", "tangible", "tangible_outputs", "users", "+", "agree5"),
        ("lrext1", "learning", "learning_individual", "individual", "+", "extent5"),
        ("trold1", "trust", "trust_competence", "individual", "+", "agree5"),
    ]
    out = []
    for line, (iid, construct, facet, level, pol, rs) in enumerate(spec, start=10):
        context = "since_org_joined" if level == "organization" else "since_joined"
        out.append(
            Item(
                id=iid,
                construct=construct,
                facet=facet,
                level=level,
                polarity=pol,
                text=_t(f"Énoncé {iid} du consortium {{consortium}}.", f"Statement {iid} of the {{consortium}} consortium."),
                response_set=rs,
                context=context,
                source_inspiration="Test, A. (2000). A test. Journal, 1, 1-2.",
                status="retired" if iid == "trold1" else "active",
                tangible=construct == "tangible",
                file=f"bank/{construct}.yaml",
                line=line,
            )
        )
    return tuple(out)


def make_bank() -> ItemBank:
    constructs = {
        "trust": Construct("trust", _t("Confiance", "Trust"), _t("d", "d"), ("trust_competence", "trust_benevolence")),
        "learning": Construct("learning", _t("Apprentissages", "Learning"), _t("d", "d"), ("learning_individual",)),
        "drawbacks": Construct("drawbacks", _t("Inconvénients", "Drawbacks"), _t("d", "d"), ("drawbacks_cost",), kind="drawback"),
        "tangible": Construct("tangible", _t("Retombées tangibles", "Tangible outcomes"), _t("d", "d"), ("tangible_outputs",), kind="tangible"),
    }
    facets = {
        "trust_competence": Facet("trust_competence", "trust", _t("Compétence", "Competence"), _t("d", "d")),
        "trust_benevolence": Facet("trust_benevolence", "trust", _t("Bienveillance", "Benevolence"), _t("d", "d")),
        "learning_individual": Facet("learning_individual", "learning", _t("Apprentissage individuel", "Individual learning"), _t("d", "d")),
        "drawbacks_cost": Facet("drawbacks_cost", "drawbacks", _t("Coûts", "Costs"), _t("d", "d")),
        "tangible_outputs": Facet("tangible_outputs", "tangible", _t("Réalisations", "Outputs"), _t("d", "d")),
    }
    levels = {
        lid: Level(lid, _t(fr, en), _t("d", "d"))
        for lid, fr, en in [
            ("individual", "Individu", "Individual"),
            ("organization", "Organisme", "Organization"),
            ("ecosystem", "Écosystème", "Ecosystem"),
            ("users", "Usagers", "Users"),
        ]
    }
    contexts = {
        "since_joined": RecallContext(
            "since_joined",
            _t("Depuis que vous participez au consortium {consortium}", "Since you have been taking part in the {consortium} consortium"),
        ),
        "since_org_joined": RecallContext(
            "since_org_joined",
            _t(
                "Depuis que votre organisme participe au consortium {consortium}",
                "Since your organization has been taking part in the {consortium} consortium",
            ),
        ),
    }
    return ItemBank(
        version="test",
        items=_items(),
        constructs=constructs,
        facets=facets,
        levels=levels,
        response_sets={"agree5": AGREE5, "extent5": EXTENT5},
        contexts=contexts,
        context_block=CONTEXT_BLOCK,
    )


GOOD_SPEC = """\
id: demo
version: "1.0"
title:
  fr: Questionnaire de démonstration
  en: Demonstration questionnaire
introduction:
  fr: Merci de participer au consortium {consortium}.
  en: Thank you for taking part in the {consortium} consortium.
consortium:
  fr: Vivre ensemble
  en: Living Together
select:
  constructs: [trust, learning, drawbacks]
  levels: [individual, organization]
  items: [lrine1]
  exclude: [lrext1]
context_block: [sector, years, consortium_id]
response_set: agree5
order: grouped
versions: [A, B]
"""


def write_spec(tmp_path: Path, text: str = GOOD_SPEC, name: str = "spec.yaml") -> Path:
    path = Path(tmp_path) / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
