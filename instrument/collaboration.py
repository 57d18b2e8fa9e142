"""The roster question: with which organizations did yours work, how often, how well?

A form spec may list the organizations of the consortium or milieu::

    network:
      organizations: organizations.csv     # columns code, name (or name_fr, name_en); next to the spec
      period: {fr: "Au cours des 12 derniers mois", en: "In the past 12 months"}

The question becomes ordinary context questions, so every export and every reader carries
it unchanged (print, workbook, grid, XLSForm, LimeSurvey, REDCap, codebook; ``score`` and
the platforms' exports read them back): ``net_self`` (which listed organization the
respondent answers for), then per organization ``net_<code>_with`` (worked with it in the
period: 1 yes, 0 no), ``net_<code>_freq`` (1 once or twice ... 4 weekly or more),
``net_<code>_trust`` and ``net_<code>_value`` (1-4, in the spirit of the PARTNER tool's
trust and value scores; the wording is ours). Codes: letters, digits and ``_``, a letter
first, at most 15 characters, distinct ignoring case (REDCap variables are lowercase and at
most 26 characters long).

Those ids are what ``score`` reads back and what the workbook and data-entry grid ask. The
platforms ask the "worked with" question once for every organization (:func:`roster`):
XLSForm ``select_multiple`` :data:`SELECTION_ID` then one page per organization checked,
LimeSurvey multiple choice + arrays filtered by it, REDCap checkbox + matrices; the paper
form one line per organization. Their response exports are read back into the same ids
(:mod:`instrument.platforms`).

:func:`ties_from_responses` turns the answers back into a ties table ``from, to, frequency,
trust, value, respondent`` with coded problems: ``unknown-organization`` (no or an
unlisted ``net_self``), ``self-tie`` (a respondent's organization named as its own
partner), ``answering-for-another`` (``net_self`` differs from the organization the
respondent was assigned), ``ratings-without-tie`` (ratings given for an organization not
worked with).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from instrument.model import Choice, ContextQuestion, Problem

__all__ = ["ATTRIBUTES", "CODE_PATTERN", "SELECTION_ID", "Network", "Roster", "parse_network", "problems_log",
           "question_ids", "questions", "roster", "ties_from_responses"]

CODE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,14}$")
MAX_ORGANIZATIONS = 200
ATTRIBUTES = ("frequency", "trust", "value")
_SUFFIX = {"frequency": "freq", "trust": "trust", "value": "value"}
#: The name the platforms' forms give the "worked with" question asked once for every
#: organization (XLSForm select_multiple, LimeSurvey multiple choice, REDCap checkbox).
SELECTION_ID = "net_with"


@dataclass(frozen=True)
class Network:
    """The roster question of a form: the organizations (code, name per language), the
    period asked about, and the organizations file's name."""

    organizations: tuple  # ((code, {"fr": name, "en": name}), ...)
    period: dict
    source: str = ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(code for code, _ in self.organizations)


def question_ids(code: str) -> dict:
    """The context question ids of one organization: attribute -> id (``with`` included)."""
    base = f"net_{code.lower()}"
    return {"with": f"{base}_with", **{a: f"{base}_{s}" for a, s in _SUFFIX.items()}}


_SCALES = {
    "with": ({"fr": "Oui", "en": "Yes"}, {"fr": "Non", "en": "No"}),
    "frequency": (
        {"fr": "Une ou deux fois", "en": "Once or twice"},
        {"fr": "Quelques fois", "en": "A few times"},
        {"fr": "Environ chaque mois", "en": "About monthly"},
        {"fr": "Chaque semaine ou plus", "en": "Weekly or more"},
    ),
    "trust": (
        {"fr": "Pas du tout", "en": "Not at all"},
        {"fr": "Un peu", "en": "A little"},
        {"fr": "Assez", "en": "Fairly"},
        {"fr": "Tout à fait", "en": "Completely"},
    ),
    "value": (
        {"fr": "Aucune", "en": "None"},
        {"fr": "Peu", "en": "Little"},
        {"fr": "Assez", "en": "Some"},
        {"fr": "Beaucoup", "en": "A lot"},
    ),
}
_WORDING = {
    "self": {"fr": "Pour quelle organisation répondez-vous\u00a0?",
             "en": "Which organization are you answering for?"},
    "with": {"fr": "{period}, votre organisation a-t-elle travaillé avec {name}\u00a0?",
             "en": "{period}, did your organization work with {name}?"},
    "frequency": {"fr": "{name}\u00a0: si oui, à quelle fréquence\u00a0?",
                  "en": "{name}: if so, how often?"},
    "trust": {"fr": "{name}\u00a0: si oui, dans quelle mesure votre organisation peut-elle compter "
                    "sur elle pour tenir ses engagements\u00a0?",
              "en": "{name}: if so, how far can your organization count on it to keep its "
                    "commitments?"},
    "value": {"fr": "{name}\u00a0: si oui, quelle importance a ce qu'elle apporte au travail commun\u00a0?",
              "en": "{name}: if so, how much does what it brings matter to the joint work?"},
}
#: The same questions where the platform asks them once for all organizations: the
#: selection (check every organization worked with), then per organization chosen.
_SELECTION_WORDING = {
    "title": {"fr": "Vos collaborations", "en": "Your collaborations"},
    "short": {"fr": {"frequency": "fréquence", "trust": "confiance", "value": "valeur"},
              "en": {"frequency": "frequency", "trust": "trust", "value": "value"}},
    "with": {"fr": "{period}, avec quelles organisations la vôtre a-t-elle travaillé\u00a0? "
                   "Cochez toutes celles qui s'appliquent (pas la vôtre).",
             "en": "{period}, which organizations did yours work with? Check all that apply (not your own)."},
    "self": {"fr": "Ne cochez pas l'organisation pour laquelle vous répondez.",
             "en": "Do not check the organization you are answering for."},
    "frequency": {"fr": "À quelle fréquence votre organisation a-t-elle travaillé avec elle\u00a0?",
                  "en": "How often did your organization work with it?"},
    "trust": {"fr": "Dans quelle mesure votre organisation peut-elle compter sur elle pour tenir ses "
                    "engagements\u00a0?",
              "en": "How far can your organization count on it to keep its commitments?"},
    "value": {"fr": "Quelle importance a ce qu'elle apporte au travail commun\u00a0?",
              "en": "How much does what it brings matter to the joint work?"},
    "one_frequency": {"fr": "À quelle fréquence votre organisation a-t-elle travaillé avec {name}\u00a0?",
                      "en": "How often did your organization work with {name}?"},
    "one_trust": {"fr": "Dans quelle mesure votre organisation peut-elle compter sur {name} pour tenir ses "
                        "engagements\u00a0?",
                  "en": "How far can your organization count on {name} to keep its commitments?"},
    "one_value": {"fr": "Quelle importance a ce que {name} apporte au travail commun\u00a0?",
                  "en": "How much does what {name} brings matter to the joint work?"},
}


def questions(net: Network, languages) -> list[ContextQuestion]:
    """The roster question as context questions, in the order they are asked."""
    def text(key, **values):
        return {lang: _WORDING[key][lang].format(**{k: v[lang] if isinstance(v, dict) else v
                                                    for k, v in values.items()})
                for lang in languages}

    out = [ContextQuestion(
        id="net_self", type="select_one", label=text("self"), required=True,
        choices=tuple(Choice(code=k + 1, label={lang: name[lang] for lang in languages}, name=code)
                      for k, (code, name) in enumerate(net.organizations)))]
    for code, name in net.organizations:
        ids = question_ids(code)
        yes, no = _SCALES["with"]
        out.append(ContextQuestion(id=ids["with"], type="select_one",
                                   label=text("with", period=net.period, name=name),
                                   choices=(Choice(1, yes, "yes"), Choice(0, no, "no"))))
        for attr in ATTRIBUTES:
            out.append(ContextQuestion(
                id=ids[attr], type="select_one", label=text(attr, name=name), ask_if=(ids["with"], 1),
                choices=tuple(Choice(k + 1, lab) for k, lab in enumerate(_SCALES[attr]))))
    return out


_PAPER = {
    "fr": {"question": "{period}, votre organisation a-t-elle travaillé avec chacune de ces organisations\u00a0?",
           "hint": "Une ligne par organisation (pas la vôtre)\u00a0: cochez Oui ou Non\u00a0; si Oui, cochez aussi "
                   "une case dans chacune des trois colonnes suivantes.",
           "organization": "Organisation", "worked_with": "A travaillé avec elle"},
    "en": {"question": "{period}, did your organization work with each of these organizations?",
           "hint": "One line per organization (not your own): tick Yes or No; if Yes, also tick one box in each "
                   "of the next three columns.",
           "organization": "Organization", "worked_with": "Worked with it"},
}


@dataclass(frozen=True)
class Roster:
    """The roster question as the platforms ask it: ``net_self``, one selection
    (:data:`SELECTION_ID`) whose choices are the organizations (the codes of ``net_self``'s
    choices), then per organization chosen its ratings. ``with_ids[k]``, ``ratings[k]``
    (attribute -> question id) and ``names[k]`` belong to the organization of choice code
    ``codes[k]``; ``label`` and ``headers`` are the selection's and the ratings' texts by
    language; ``choice_labels`` the answers of each attribute (code, label)."""

    codes: tuple  # choice codes 1..n, as net_self's
    org_codes: tuple  # the organizations' own codes (CISSS...)
    names: tuple  # {lang: name} per organization
    with_ids: tuple
    ratings: tuple  # ({attribute: question id}, ...)
    title: dict  # the page's title
    label: dict
    self_note: dict
    headers: dict  # attribute -> {lang: text}, the rating asked of every organization (matrix heading)
    labels: tuple  # per organization, attribute -> {lang: text} naming it (a page per organization)
    rows: tuple  # per organization, attribute -> {lang: "name (rating)"}: a matrix row, unique in the form
    choice_labels: dict  # attribute -> ((code, {lang: label}), ...)
    paper: dict  # lang -> the paper roster's texts (question, hint, column headings)

    def ids(self) -> set:
        """Every context question id the roster replaces on a platform (not ``net_self``)."""
        return {*self.with_ids, *(qid for r in self.ratings for qid in r.values())}


def roster(form) -> Roster | None:
    """The roster question of ``form`` as the platforms ask it, or None without one."""
    net = getattr(form, "network", None)
    if net is None:
        return None
    langs = form.languages
    ids = [question_ids(code) for code in net.codes]
    return Roster(
        codes=tuple(range(1, len(net.codes) + 1)), org_codes=net.codes,
        names=tuple({lang: name[lang] for lang in langs} for _, name in net.organizations),
        with_ids=tuple(i["with"] for i in ids),
        ratings=tuple({a: i[a] for a in ATTRIBUTES} for i in ids),
        title={lang: _SELECTION_WORDING["title"][lang] for lang in langs},
        label={lang: _SELECTION_WORDING["with"][lang].format(period=net.period[lang]) for lang in langs},
        self_note={lang: _SELECTION_WORDING["self"][lang] for lang in langs},
        headers={a: {lang: _SELECTION_WORDING[a][lang] for lang in langs} for a in ATTRIBUTES},
        labels=tuple({a: {lang: _SELECTION_WORDING["one_" + a][lang].format(name=name[lang]) for lang in langs}
                      for a in ATTRIBUTES} for _, name in net.organizations),
        rows=tuple({a: {lang: f"{name[lang]} ({_SELECTION_WORDING['short'][lang][a]})" for lang in langs}
                    for a in ATTRIBUTES} for _, name in net.organizations),
        choice_labels={a: tuple((k + 1, {lang: lab[lang] for lang in langs}) for k, lab in enumerate(_SCALES[a]))
                       for a in ATTRIBUTES},
        paper={lang: {"question": _PAPER[lang]["question"].format(period=net.period[lang]),
                      **{k: v for k, v in _PAPER[lang].items() if k != "question"},
                      "short": _SELECTION_WORDING["short"][lang],
                      "yes": _SCALES["with"][0][lang], "no": _SCALES["with"][1][lang]} for lang in langs})


def parse_network(value, spec_dir: Path, languages, add, line) -> Network | None:
    """Read the spec's ``network`` field; ``add(code, message, line)`` records a problem."""
    if not isinstance(value, dict):
        add("invalid-value", "'network' must be a mapping with 'organizations' (a CSV file) and 'period'", line)
        return None
    unknown = set(value) - {"organizations", "period"}
    if unknown:
        add("unknown-field", f"'network' has unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
            "fields: organizations, period", line)
    period = value.get("period")
    if isinstance(period, str) and period.strip():
        period = {lang: period.strip() for lang in languages}
    if not isinstance(period, dict) or any(not str(period.get(lang) or "").strip() for lang in languages):
        add("missing-translation", f"'network.period' needs a text in each language ({', '.join(languages)})", line)
        return None
    name = value.get("organizations")
    if not isinstance(name, str) or not name.strip():
        add("missing-field", "'network.organizations' must name a CSV file (columns code, name)", line)
        return None
    path = (spec_dir / name).resolve()
    orgs = _read_organizations(path, languages, lambda code, msg: add(code, f"{name}: {msg}", line))
    if orgs is None:
        return None
    return Network(organizations=orgs, period={lang: period[lang].strip() for lang in languages},
                   source=Path(name).name)


def _read_organizations(path: Path, languages, add) -> tuple | None:
    try:
        raw = path.read_bytes()[: 1_000_001]
    except OSError as e:
        add("unreadable-file", f"cannot read the organizations file ({e.strerror or e})")
        return None
    if len(raw) > 1_000_000:
        add("file-too-large", "an organizations file is at most 1,000,000 bytes")
        return None
    try:
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as e:
        add("invalid-encoding", f"the organizations file must be UTF-8 CSV ({e})")
        return None
    out, seen, ok = [], set(), True
    for k, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        names = {lang: (row.get(f"name_{lang}") or row.get("name") or "").strip() for lang in languages}
        if not CODE_PATTERN.match(code):
            add("invalid-organization-code", f"line {k}: code {code[:40]!r} must be a letter then letters, "
                "digits or _ (15 at most)")
            ok = False
        elif code.lower() in seen:
            add("duplicate-organization", f"line {k}: code {code!r} is listed twice (ignoring case)")
            ok = False
        elif not all(names.values()):
            add("missing-translation", f"line {k}: organization {code!r} needs a name (column name, "
                f"or name_{'/name_'.join(languages)})")
            ok = False
        seen.add(code.lower())
        out.append((code, names))
    if not out or len(out) > MAX_ORGANIZATIONS:
        add("invalid-value", f"the organizations file must list 1 to {MAX_ORGANIZATIONS} organizations; "
            f"it lists {len(out)}")
        ok = False
    return tuple(out) if ok else None


def ties_from_responses(responses, net: Network, assigned: dict | None = None):
    """The ties reported in ``responses`` (one row per respondent, the context answers as
    columns, e.g. ``Returns.responses``): ``(ties DataFrame, problems)``.

    One row per respondent and partner worked with: ``from`` (the respondent's
    organization, ``net_self``), ``to``, ``frequency``, ``trust``, ``value`` (codes or NA),
    ``respondent``. The organization a respondent was asked to answer for comes from
    ``assigned`` (respondent code -> organization code), else from the ``organization_id``
    context answer (pre-filled from the respondent roster): a different ``net_self`` is
    ``answering-for-another`` (a warning) and the ties stay with the assigned organization.
    """
    import pandas as pd

    codes = net.codes
    problems: list[Problem] = []
    rows = []
    for _, r in responses.iterrows():
        who = str(r.get("respondent", ""))
        where = str(r.get("source_file", "") or "")
        org = _self(r.get("net_self"), codes)
        if org is None:
            problems.append(Problem("unknown-organization", f"respondent {who!r}: the organization answered for "
                                    f"({r.get('net_self')!r}) is not one of the listed codes",
                                    file=where, item="net_self"))
            continue
        given = _assigned(r, who, assigned)
        if given is not None and given not in codes:
            problems.append(Problem("unknown-organization", f"respondent {who!r}: organization code {given!r} "
                                    "(organization_id) is not one of the listed codes; net_self used",
                                    file=where, item="organization_id", severity="warning"))
        elif given is not None and given != org:
            problems.append(Problem("answering-for-another", f"respondent {who!r} was asked to answer for "
                                    f"{given!r} but answered for {org!r}; ties kept for {given!r}",
                                    file=where, item="net_self", severity="warning"))
            org = given
        for code in codes:
            ids = question_ids(code)
            with_ = r.get(ids["with"])
            ratings = {a: r.get(ids[a]) for a in ATTRIBUTES}
            if not _yes(with_):
                if _no(with_) and any(pd.notna(v) for v in ratings.values()):
                    problems.append(Problem("ratings-without-tie", f"respondent {who!r}: ratings given for "
                                            f"{code!r} although the organization did not work with it",
                                            file=where, item=ids["with"], severity="warning"))
                continue
            if code == org:
                problems.append(Problem("self-tie", f"respondent {who!r}: organization {org!r} named as its own "
                                        "partner; tie left out", file=where, item=ids["with"]))
                continue
            rows.append({"from": org, "to": code, **{a: _int(v) for a, v in ratings.items()},
                         "respondent": who})
    ties = pd.DataFrame(rows, columns=["from", "to", *ATTRIBUTES, "respondent"])
    for a in ATTRIBUTES:
        ties[a] = ties[a].astype("Int64")
    return ties, problems


def _assigned(row, who: str, assigned: dict | None) -> str | None:
    """The organization a respondent was asked to answer for: ``assigned[who]``, else the
    pre-filled ``organization_id`` context answer (issue 16's roster), else None."""
    import pandas as pd

    value = assigned.get(who) if assigned else None
    if value is None:
        value = row.get("organization_id")
    if value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip():
        return None
    return str(value).strip()


def _self(value, codes) -> str | None:
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    if text in codes:
        return text
    try:
        k = int(float(text))
    except ValueError:
        return None
    return codes[k - 1] if 1 <= k <= len(codes) else None


def _int(v):
    import pandas as pd

    return None if v is None or pd.isna(v) else int(v)


def _yes(v) -> bool:
    return v is not None and str(v).strip() in ("1", "1.0", "True")


def _no(v) -> bool:
    return v is not None and str(v).strip() in ("0", "0.0", "False")


def problems_log(problems):
    """Problems as rows of the scoring log (``Returns.log()``'s columns)."""
    import pandas as pd

    cols = ["file", "status", "code", "sheet", "cell", "item", "respondents", "message"]
    return pd.DataFrame([{"file": p.file, "status": "", "code": p.code, "sheet": p.sheet, "cell": p.cell,
                          "item": p.item, "respondents": "", "message": p.message} for p in problems],
                        columns=cols)
