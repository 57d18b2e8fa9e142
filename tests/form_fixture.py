"""A small but realistic bilingual Form, built from the dataclasses directly, for the
print / PDF / codebook export tests (independent of the bank and of load_form)."""

from __future__ import annotations

from instrument.model import (
    Choice,
    Construct,
    ContextQuestion,
    Facet,
    Form,
    Item,
    ItemBank,
    Level,
    RecallContext,
    ResponseSet,
    Scale,
)

NASTY = '<script>alert("x")</script> & «\u00a0guillemets\u00a0»'

AGREE5 = ResponseSet(
    id="agree5",
    label={"fr": "Accord (5 points)", "en": "Agreement (5 points)"},
    choices=(
        Choice(1, {"fr": "Tout à fait en désaccord", "en": "Strongly disagree"}),
        Choice(2, {"fr": "Plutôt en désaccord", "en": "Somewhat disagree"}),
        Choice(3, {"fr": "Ni en accord ni en désaccord", "en": "Neither agree nor disagree"}),
        Choice(4, {"fr": "Plutôt d'accord", "en": "Somewhat agree"}),
        Choice(5, {"fr": "Tout à fait d'accord", "en": "Strongly agree"}),
    ),
    missing=(
        Choice(8, {"fr": "Je ne sais pas", "en": "Don't know"}),
        Choice(9, {"fr": "Ne s'applique pas", "en": "Not applicable"}),
    ),
)

# (id, construct, facet, level, polarity, context, fr, en)
_ROWS = [
    ("trcpi1", "trust", "trust_competence", "individual", "+", "since_joined",
     "Les membres du consortium {consortium} ont les compétences nécessaires pour mener à bien nos projets communs.",
     "The members of the {consortium} consortium have the skills needed to carry out our joint projects."),
    ("trcpi2", "trust", "trust_competence", "individual", "+", "since_joined",
     "Je peux compter sur l'expertise des autres membres quand un problème se présente.",
     "I can rely on the other members' expertise when a problem arises."),
    ("trbni1", "trust", "trust_benevolence", "individual", "+", "since_joined",
     "Les membres tiennent compte des intérêts de mon organisme dans leurs décisions.",
     "Members take my organization's interests into account in their decisions."),
    ("trbni2", "trust", "trust_benevolence", "individual", "-", "since_joined",
     "J'ai l'impression que certains membres profitent du consortium à mes dépens.",
     "I feel that some members take advantage of the consortium at my expense."),
    ("trint1", "trust", "trust_integrity", "individual", "+", "since_joined",
     "Les engagements pris lors des rencontres sont respectés.",
     "The commitments made at meetings are kept."),
    ("trint2", "trust", "trust_integrity", "individual", "-", "since_joined",
     "Il arrive que des membres ne tiennent pas parole.",
     "Some members sometimes do not keep their word."),
    ("scbro1", "social_capital", "sc_bridging", "individual", "+", "since_joined",
     "Je connais maintenant des personnes d'autres secteurs (santé, éducation, municipal) à qui je peux m'adresser.",
     "I now know people from other sectors (health, education, municipal) whom I can turn to."),
    ("scbro2", "social_capital", "sc_bridging", "individual", "+", "since_joined",
     "Mon réseau professionnel s'est élargi grâce au consortium.",
     "My professional network has grown thanks to the consortium."),
    ("screl1", "social_capital", "sc_relational", "individual", "+", "since_joined",
     "Les échanges entre les membres sont francs et respectueux.",
     "Exchanges between members are frank and respectful."),
    ("screl2", "social_capital", "sc_relational", "individual", "-", "since_joined",
     "Les tensions entre les membres nuisent au travail du consortium.",
     "Tensions between members hinder the consortium's work."),
    ("lnind1", "learning", "learning_individual", "individual", "+", "since_joined",
     "J'ai appris de nouvelles façons d'intervenir auprès de la population.",
     "I have learned new ways of working with the population."),
    ("lnind2", "learning", "learning_individual", "individual", "+", "since_joined",
     "Je comprends mieux les contraintes des autres secteurs.",
     "I better understand the constraints of the other sectors."),
    ("lnorg1", "learning", "learning_organization", "organization", "+", "since_org_joined",
     "Mon organisme a modifié certaines de ses pratiques à la suite des travaux du consortium.",
     "My organization has changed some of its practices following the consortium's work."),
    ("lnorg2", "learning", "learning_organization", "organization", "+", "since_org_joined",
     "Les connaissances acquises au consortium circulent au sein de mon organisme.",
     "The knowledge gained in the consortium circulates within my organization."),
    ("lgext1", "legitimacy", "legit_external", "organization", "+", "since_org_joined",
     "Mon organisme est davantage reconnu par les bailleurs de fonds.",
     "My organization is more recognized by funders."),
    ("lgext2", "legitimacy", "legit_external", "organization", "+", "since_org_joined",
     "La voix de mon organisme est mieux entendue par les instances municipales et régionales.",
     "My organization's voice is better heard by municipal and regional bodies."),
    ("lgint1", "legitimacy", "legit_internal", "ecosystem", "+", "since_org_joined",
     "Le consortium est perçu comme un interlocuteur crédible dans le milieu.",
     "The consortium is seen as a credible partner in the community."),
    ("drtim1", "drawbacks", "draw_time", "individual", "+", "since_joined",
     "Ma participation au consortium me demande plus de temps que prévu.",
     "Taking part in the consortium takes more of my time than expected."),
    ("drtim2", "drawbacks", "draw_time", "organization", "+", "since_org_joined",
     "La participation au consortium détourne des ressources des autres activités de mon organisme.",
     "Taking part in the consortium diverts resources from my organization's other activities."),
    ("drfru1", "drawbacks", "draw_frustration", "individual", "+", "since_joined",
     "Les décisions du consortium se prennent trop lentement.",
     "The consortium's decisions are made too slowly."),
]

FACETS = {
    "trust_competence": ("trust", "Compétence", "Competence"),
    "trust_benevolence": ("trust", "Bienveillance", "Benevolence"),
    "trust_integrity": ("trust", "Intégrité", "Integrity"),
    "sc_bridging": ("social_capital", "Capital social de pont", "Bridging social capital"),
    "sc_relational": ("social_capital", "Dimension relationnelle", "Relational dimension"),
    "learning_individual": ("learning", "Apprentissage individuel", "Individual learning"),
    "learning_organization": ("learning", "Apprentissage organisationnel", "Organizational learning"),
    "legit_external": ("legitimacy", "Légitimité externe", "External legitimacy"),
    "legit_internal": ("legitimacy", "Légitimité interne", "Internal legitimacy"),
    "draw_time": ("drawbacks", "Temps et ressources", "Time and resources"),
    "draw_frustration": ("drawbacks", "Frustration", "Frustration"),
}
CONSTRUCTS = {
    "trust": ("Confiance", "Trust", "benefit"),
    "social_capital": ("Capital social", "Social capital", "benefit"),
    "learning": ("Apprentissage", "Learning", "benefit"),
    "legitimacy": ("Légitimité", "Legitimacy", "benefit"),
    "drawbacks": ("Inconvénients", "Drawbacks", "drawback"),
}
CONTEXTS = {
    "since_joined": (
        "Depuis que vous participez au consortium {consortium}",
        "Since you have been taking part in the {consortium} consortium",
    ),
    "since_org_joined": (
        "Depuis que votre organisme participe au consortium {consortium}",
        "Since your organization has been taking part in the {consortium} consortium",
    ),
}


def _t(fr: str, en: str) -> dict:
    return {"fr": fr, "en": en}


def context_block() -> tuple[ContextQuestion, ...]:
    return (
        ContextQuestion(
            "sector", "select_one", _t("Dans quel secteur travaillez-vous?", "In which sector do you work?"),
            (Choice(1, _t("Public", "Public")), Choice(2, _t("Communautaire", "Community")), Choice(3, _t("Privé", "Private"))),
            required=True,
        ),
        ContextQuestion(
            "domain", "select_one", _t("Quel est votre domaine d'activité principal?", "What is your main field of activity?"),
            (
                Choice(1, _t("Santé", "Health")),
                Choice(2, _t("Services sociaux", "Social services")),
                Choice(3, _t("Éducation", "Education")),
                Choice(4, _t("Municipal", "Municipal")),
                Choice(5, _t("Développement économique", "Economic development")),
                Choice(6, _t("Environnement", "Environment")),
                Choice(7, _t("Autre", "Other")),
            ),
            required=True,
        ),
        ContextQuestion(
            "role", "select_one", _t("À quel titre participez-vous au consortium?", "In what capacity do you take part in the consortium?"),
            (
                Choice(1, _t("Membre à titre individuel", "Individual member")),
                Choice(2, _t("Représentant·e d'un organisme", "Representative of an organization")),
            ),
            required=True,
        ),
        ContextQuestion(
            "years", "integer",
            _t("Depuis combien d'années participez-vous au consortium?", "For how many years have you been taking part in the consortium?"),
            minimum=0, maximum=60,
        ),
        ContextQuestion("consortium_id", "text", _t("Code du consortium", "Consortium code")),
    )


def make_form(*, nasty: bool = False, versions: bool = True, consortium: str = "Vivre ensemble à Lévis") -> Form:
    """20 items over 5 constructs, two recall contexts, versions A and B (B = A reversed).

    ``nasty=True`` puts markup in the title, the consortium name and the first item's text
    in both languages (everything must come out escaped)."""
    name = NASTY if nasty else consortium
    items = []
    texts = {}
    for i, (iid, construct, facet, level, pol, ctx, fr, en) in enumerate(_ROWS):
        if nasty and i == 0:
            fr, en = fr + " " + NASTY, en + " " + NASTY
        items.append(Item(iid, construct, facet, level, pol, _t(fr, en), "agree5", ctx, "Mayer et al. 1995"))
        texts[iid] = {"fr": fr.replace("{consortium}", name), "en": en.replace("{consortium}", name)}
    items = tuple(items)
    bank = ItemBank(
        version="2026.1",
        items=items,
        constructs={c: Construct(c, _t(fr, en), _t("", ""), kind=kind) for c, (fr, en, kind) in CONSTRUCTS.items()},
        facets={f: Facet(f, c, _t(fr, en), _t("", "")) for f, (c, fr, en) in FACETS.items()},
        levels={lv: Level(lv, _t(lv, lv), _t("", "")) for lv in ("individual", "organization", "ecosystem", "users")},
        response_sets={"agree5": AGREE5},
        contexts={c: RecallContext(c, _t(fr, en)) for c, (fr, en) in CONTEXTS.items()},
        context_block=context_block(),
    )
    scales = []
    for f, (_c, fr, en) in FACETS.items():
        keys = tuple(it.key for it in items if it.facet == f)
        if len(keys) >= 2:
            scales.append(Scale(f, "facet", keys, _t(fr, en)))
    for c, (fr, en, _kind) in CONSTRUCTS.items():
        scales.append(Scale(c, "construct", tuple(it.key for it in items if it.construct == c), _t(fr, en)))
    ids = tuple(it.id for it in items)
    title = "Retombées de la participation au consortium" + (" " + NASTY if nasty else "")
    return Form(
        id="member",
        version="1.0",
        title=_t(title, "Benefits of taking part in the consortium" + (" " + NASTY if nasty else "")),
        introduction=_t(
            "Ce questionnaire porte sur ce que votre participation au consortium vous a apporté, "
            "à vous et à votre organisme.\n\nIl fait partie d'une recherche sur les consortiums "
            "intersectoriels au Québec.",
            "This questionnaire is about what taking part in the consortium has brought to you and "
            "to your organization.\n\nIt is part of a study of intersectoral consortia in Québec.",
        ),
        consortium=_t(name, name),
        languages=("fr", "en"),
        response_set=AGREE5,
        items=items,
        texts=texts,
        recall=_t(CONTEXTS["since_joined"][0].replace("{consortium}", name), CONTEXTS["since_joined"][1].replace("{consortium}", name)),
        context_block=context_block(),
        scales=tuple(scales),
        versions={"A": ids, "B": tuple(reversed(ids))} if versions else {"A": ids},
        hash="3f9a1c0d5e7b2a64c8d1e0f9a7b6c5d4",
        bank=bank,
    )
