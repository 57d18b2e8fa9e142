"""Synthetic respondents from a known measurement model built from a form.

Used by the demo, the tests and the benchmarks, and useful to plan a study: simulate the
sample size you can hope for, then see whether alpha, the CFA and the invariance tests
would be precise enough (``intangibles simulate FORM --n 150`` then ``intangibles validate``).

The model (all documented in :class:`Design`):

- one factor per facet of the form (items of a facet load on it), standardized loadings
  drawn around ``loading`` (uniform ± ``spread``); ``weak_items`` load ``weak_loading``;
- factor correlations: ``within`` between facets of one construct, ``between`` across
  benefit constructs, ``drawback_r`` between a drawback and a benefit facet;
- a latent response ``y* = Λη + ε`` (unit variance) cut at thresholds that give the
  answer shares ``shares`` (agreement scales are usually skewed towards agreement);
- a reverse-keyed item is a negative statement: its answer is ``high + low - x``;
- ``non_invariant``: one item whose intercept differs in one group (``y* + shift``), the
  classic failure of scalar invariance between language versions;
- missingness: blank answers (MCAR, ``missing``), "don't know" (``dont_know``) and
  "not applicable" (``not_applicable``) codes;
- careless respondents (``careless`` share), alternating the ``careless_kinds``:
  straightliners (one answer repeated) and random responders (uniform answers);
- people nested in organizations nested in consortia (``consortium_icc``,
  ``organization_icc``): each facet's factor score is the sum of a consortium effect, an
  organization effect and the person's own part,
  ``η = √c·u_consortium + √o·u_organization + √(1 - c - o)·e``, the three drawn from the
  same factor correlations ``phi``, so each factor keeps a total variance of 1 and ``c`` and
  ``o`` are the shares of its variance between consortia and between organizations (the
  latent ICCs). The respondents' organization and consortium are drawn first, and go into
  the form's ``consortium_id`` and ``organization_id`` questions (or ``net_self``, the
  roster's organization). Scores of the answers show smaller shares: five categories and
  measurement error add within-person variance (a facet score's share is about the latent
  share times the score's reliability).

Same design, ``n`` and ``seed``: same respondents, byte for byte. The latent responses,
thresholds and careless respondents come from :mod:`psychometrics.generate`, the
population model of the Monte Carlo planner (``intangibles plan``).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from instrument.model import Form
from instrument.typography import bilingual, say
from psychometrics import generate

__all__ = ["Design", "Sample", "context_codes", "patch_cells", "population", "simulate", "simulate_command"]


@dataclass(frozen=True)
class Design:
    """What to simulate. Defaults give a realistic, well-behaved member survey.

    ``loading`` is the standardized loading on the latent response ``y*``; cutting ``y*``
    into five skewed categories attenuates it: the ML (Pearson) loadings of the answers
    come out about 10% lower. The default .85 gives answer loadings of about .76 and an
    AVE of about .58 for the form's 4- to 6-item facets at n = 300 (seeds 2026-2030: .54
    to .63), so that a well-behaved facet clears Fornell & Larcker's .50 with some margin;
    at the former .72 the answers' AVE was about .42 and every facet looked "not ready".
    """

    loading: float = 0.85
    spread: float = 0.08
    weak_items: tuple[str, ...] = ()
    weak_loading: float = 0.15
    within: float = 0.6
    between: float = 0.35
    drawback_r: float = -0.2
    shares: tuple[float, ...] = (0.06, 0.12, 0.24, 0.34, 0.24)
    missing: float = 0.01
    dont_know: float = 0.01
    not_applicable: float = 0.005
    careless: float = 0.0
    careless_kinds: tuple[str, ...] = ("straightlining", "random")
    groups: dict = field(
        default_factory=lambda: {
            "lang": {"fr": 0.6, "en": 0.4},
            "sector": {"public": 0.4, "community": 0.4, "private": 0.2},
        }
    )
    non_invariant: tuple = ()  # (item id, group column, group value, shift), e.g. ("lrkoi2", "lang", "en", 1.0)
    #: Shares of each factor's variance between consortia and between organizations (latent
    #: ICCs; 0 and 0: no nesting, the context codes are drawn at random as before).
    consortium_icc: float = 0.0
    organization_icc: float = 0.0
    #: With nesting: how many consortia (codes C01...; a select_one ``consortium_id``'s
    #: choices win) and organizations per consortium (codes O001...; a select_one
    #: ``organization_id``'s choices or a roster's organizations win). Each organization
    #: belongs to one consortium.
    consortia: int = 5
    organizations: int = 4


@dataclass(frozen=True)
class Sample:
    """Simulated respondents with the truth behind them.

    ``responses``: one row per respondent (``respondent``, ``lang``, ``sector`` and the other
    context answers, then the items as the respondent would answer them: raw codes, reverse-
    keyed items not recoded, missing codes kept). ``loadings``: items x facets (true,
    standardized). ``phi``: true factor correlations. ``careless``: codes of the careless
    respondents and their kind. ``factors``: the true factor scores, respondent x facet, on
    the latent scale (consortium and organization effects included).
    """

    responses: pd.DataFrame
    loadings: pd.DataFrame
    phi: pd.DataFrame
    careless: pd.Series
    factors: pd.DataFrame = field(default_factory=pd.DataFrame)


def _facets(form: Form) -> list:
    return [s for s in form.scales if s.kind == "facet"]


def _phi(form: Form, facets, design: Design) -> np.ndarray:
    construct = {}
    kinds = {}
    for s in facets:
        item = next(it for it in form.items if it.id == s.items[0])
        construct[s.name] = item.construct
        kinds[s.name] = form.bank.constructs[item.construct].kind if form.bank else "benefit"
    k = len(facets)
    phi = np.eye(k)
    for a in range(k):
        for b in range(a + 1, k):
            fa, fb = facets[a].name, facets[b].name
            if construct[fa] == construct[fb]:
                r = design.within
            elif "drawback" in (kinds[fa], kinds[fb]) and kinds[fa] != kinds[fb]:
                r = design.drawback_r
            else:
                r = design.between
            phi[a, b] = phi[b, a] = r
    # keep it a correlation matrix even for unusual settings
    w, v = np.linalg.eigh(phi)
    if w.min() < 1e-6:
        phi = v @ np.diag(np.clip(w, 1e-6, None)) @ v.T
        d = np.sqrt(np.diag(phi))
        phi = phi / np.outer(d, d)
    return phi


def population(form: Form, design: Design | None = None) -> generate.Population:
    """The form's measurement model as a :class:`psychometrics.Population` (``intangibles plan``).

    Same model as :func:`simulate`, with fixed loadings (``design.loading`` for every scored
    item, ``weak_loading`` for the weak ones: no random spread, so that bias is measured
    against known values); blanks and missing codes both become missing answers (they are
    once scored); the items come out already reverse keyed, ready to analyse.
    """
    design = design or Design()
    facets = _facets(form)
    factors = {s.name: list(s.items) for s in facets}
    loadings = {i: design.weak_loading if i in design.weak_items else design.loading
                for its in factors.values() for i in its}
    k = len(form.response_set.codes)
    return generate.Population(
        factors=factors,
        loadings=loadings,
        phi=_phi(form, facets, design).tolist(),
        categories=k,
        shares=tuple(design.shares[:k]),
        groups=design.groups,
        non_invariant=(tuple(design.non_invariant),) if design.non_invariant else (),
        careless=design.careless,
        careless_kinds=tuple(design.careless_kinds),
        missing=design.missing + design.dont_know + design.not_applicable,
    )


def simulate(form: Form, n: int, *, seed: int = 1, design: Design | None = None) -> Sample:
    """Simulate ``n`` respondents answering ``form`` (see the module docstring)."""
    if n < 1:
        raise ValueError(f"The 'n' parameter of simulate must be at least 1; got {n}.")
    design = design or Design()
    _check_nesting(design)
    rng = np.random.default_rng(seed)
    facets = _facets(form)
    items = list(form.item_ids)
    facet_of = {i: s.name for s in facets for i in s.items}
    scored_items = [i for i in items if i in facet_of]
    names = [s.name for s in facets]
    lam = np.zeros((len(items), len(facets)))
    for j, item in enumerate(items):
        if item in facet_of:
            value = design.weak_loading if item in design.weak_items else design.loading + rng.uniform(-design.spread, design.spread)
            lam[j, names.index(facet_of[item])] = value
    phi = _phi(form, facets, design)

    # who answers: groups and context
    context = pd.DataFrame(index=range(n))
    for col, shares in design.groups.items():
        levels, p = list(shares), np.array(list(shares.values()), float)
        context[col] = rng.choice(levels, size=n, p=p / p.sum())

    nested = design.consortium_icc > 0 or design.organization_icc > 0
    clusters = _clusters(form, design, n, rng) if nested else None
    eta = rng.multivariate_normal(np.zeros(len(facets)), phi, size=n, method="cholesky") if facets else np.zeros((n, 0))
    if nested and facets:
        eta = _with_cluster_effects(eta, phi, clusters, design, rng)
    ystar = generate.latent(lam, phi, eta, rng)
    # items outside any facet (tangible outcomes): independent, moderately related to the mean factor
    for j, item in enumerate(items):
        if item not in facet_of:
            ystar[:, j] = 0.4 * (eta.mean(axis=1) if facets else 0) + rng.standard_normal(n) * 0.9
    if design.non_invariant:
        item, col, value, shift = design.non_invariant
        j = items.index(item)
        ystar[:, j] += np.where(context[col].to_numpy() == value, shift, 0.0)

    rs = form.response_set
    codes = np.array(rs.codes)
    shares = np.asarray(design.shares[: len(codes)], float)
    x = generate.cut(ystar, generate.thresholds(shares), codes)
    reverse = np.array([form.bank.item(i).reverse if form.bank else False for i in items]) if items else np.zeros(0, bool)
    for j, item in enumerate(items):
        if item in facet_of and any(k == f"-{item}" for s in facets for k in s.keys):
            reverse[j] = True
    x = np.where(reverse, rs.high + rs.low - x, x).astype(float)

    # careless respondents
    kind = generate.careless(x, design.careless, design.careless_kinds, codes, rng)
    # missing answers and missing codes (never for careless respondents, who answer everything)
    u = rng.random(x.shape)
    keep = (kind == "")[:, None]
    missing_codes = rs.missing_codes
    if missing_codes:
        x = np.where(keep & (u < design.dont_know), missing_codes[0], x)
        if len(missing_codes) > 1:
            x = np.where(keep & (u >= design.dont_know) & (u < design.dont_know + design.not_applicable), missing_codes[1], x)
    lo = design.dont_know + design.not_applicable
    x = np.where(keep & (u >= lo) & (u < lo + design.missing), np.nan, x)

    width = max(4, len(str(n)))
    respondent = [f"R{i + 1:0{width}d}" for i in range(n)]
    frame = pd.DataFrame({"respondent": respondent})
    frame = pd.concat([frame, context.reset_index(drop=True)], axis=1)
    assigned = clusters.answers if clusters else {}
    for q in form.context_block:
        if q.id in assigned:
            frame[q.id] = assigned[q.id]
            continue
        if q.id in frame:
            continue
        if q.type == "select_one" and q.choices:
            frame[q.id] = rng.choice([c.code for c in q.choices], size=n)
        elif q.type == "integer":
            lo_, hi_ = q.minimum or 0, min(q.maximum or 30, 30)
            frame[q.id] = rng.integers(lo_, hi_ + 1, size=n)
        else:
            frame[q.id] = rng.choice([f"C{c:02d}" for c in range(1, 6)], size=n)
    if form.network is not None and "net_self" in frame:
        _roster_answers(form, frame)
    for q in form.context_block:  # a question asked only after a given answer is blank otherwise
        if q.ask_if and q.ask_if[0] in frame and q.type == "select_one":
            frame[q.id] = frame[q.id].where(frame[q.ask_if[0]] == q.ask_if[1]).astype("Int64")
    items_frame = pd.DataFrame(x, columns=items).astype("Int64")
    responses = pd.concat([frame, items_frame], axis=1)
    return Sample(
        responses=responses,
        loadings=pd.DataFrame(lam, index=items, columns=names).loc[scored_items] if items else pd.DataFrame(),
        phi=pd.DataFrame(phi, index=names, columns=names),
        careless=pd.Series(kind, index=respondent, name="careless")[kind != ""],
        factors=pd.DataFrame(eta, index=pd.Index(respondent, name="respondent"), columns=names),
    )


def _check_nesting(design: Design) -> None:
    c, o = design.consortium_icc, design.organization_icc
    if not (0 <= c < 1 and 0 <= o < 1 and c + o < 1):
        raise ValueError("The 'consortium_icc' and 'organization_icc' parameters of Design must be at least 0 "
                         f"with a sum below 1; got {c} and {o}.")
    if design.consortia < 1 or design.organizations < 1:
        raise ValueError("The 'consortia' and 'organizations' parameters of Design must be at least 1; "
                         f"got {design.consortia} and {design.organizations}.")


def _level_codes(question, count: int, prefix: str, width: int) -> np.ndarray:
    """The codes a context question can hold for one level: its choices, else ``count`` texts."""
    if question is not None and question.type == "select_one" and question.choices:
        return np.array([c.code for c in question.choices])
    return np.array([f"{prefix}{k:0{width}d}" for k in range(1, count + 1)])


class _Clusters(NamedTuple):
    """Who works where: each respondent's organization and consortium (indices), the
    context answers that hold them, and how many organizations and consortia there are."""

    organization: np.ndarray
    consortium: np.ndarray
    answers: dict
    n_organizations: int
    n_consortia: int


def _clusters(form: Form, design: Design, n: int, rng) -> _Clusters:
    """Each respondent's organization, drawn before the factor scores (every organization
    equally likely), and its consortium: organization ``k`` belongs to consortium ``k mod C``."""
    ctx = {q.id: q for q in form.context_block}
    consortia = _level_codes(ctx.get("consortium_id"), design.consortia, "C", 2)
    roster = "net_self" in ctx and form.network is not None
    if roster:
        organizations = np.array(form.network.codes)
    else:
        organizations = _level_codes(ctx.get("organization_id"), len(consortia) * design.organizations, "O", 3)
    parent = np.arange(len(organizations)) % len(consortia)
    organization = rng.integers(len(organizations), size=n)
    consortium = parent[organization]
    answers = {}
    if "consortium_id" in ctx:
        answers["consortium_id"] = consortia[consortium]
    if roster:
        answers["net_self"] = organization + 1  # its choice codes; _roster_answers fills organization_id
    elif "organization_id" in ctx:
        answers["organization_id"] = organizations[organization]
    return _Clusters(organization, consortium, answers, len(organizations), len(consortia))


def _with_cluster_effects(person: np.ndarray, phi: np.ndarray, clusters: _Clusters, design: Design,
                          rng) -> np.ndarray:
    """Factor scores with a random effect per consortium and per organization (see the
    module docstring); ``person`` holds the people's own parts, drawn from ``phi``."""
    zero = np.zeros(len(phi))
    u_consortium = rng.multivariate_normal(zero, phi, size=clusters.n_consortia, method="cholesky")
    u_organization = rng.multivariate_normal(zero, phi, size=clusters.n_organizations, method="cholesky")
    c, o = design.consortium_icc, design.organization_icc
    return (np.sqrt(c) * u_consortium[clusters.consortium] + np.sqrt(o) * u_organization[clusters.organization]
            + np.sqrt(1 - c - o) * person)


# ----------------------------------------------------------------------------- workbooks
_CELL = re.compile(r'<c r="([A-Z]{1,3}[0-9]{1,7})"([^>]*?)(?:/>|>(?:.*?)</c>)', re.S)


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell_xml(ref: str, attrs: str, value) -> str:
    attrs = re.sub(r'\s+t="[^"]*"', "", attrs).rstrip()
    if isinstance(value, int | float | np.integer | np.floating):
        return f'<c r="{ref}"{attrs}><v>{float(value):g}</v></c>'
    return f'<c r="{ref}"{attrs} t="inlineStr"><is><t xml:space="preserve">{_xml_text(str(value))}</t></is></c>'


def patch_cells(xlsx: bytes, part: str, values: dict) -> bytes:
    """Return a copy of the workbook ``xlsx`` with cells of one sheet part filled.

    ``values``: A1 address -> number or text (text is written as an inline string; None or
    NaN leaves the cell as it is). The cells must exist in the sheet XML (an empty, styled
    cell as openpyxl writes it). This is how :func:`simulate_command` fills thousands of
    workbooks from one template in a few milliseconds each, instead of re-building each
    with openpyxl.
    """
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    xml = src.read(part).decode("utf-8")
    todo = {ref: v for ref, v in values.items() if v is not None and not (isinstance(v, float) and np.isnan(v))}
    seen = set()

    def fill(m):
        ref = m.group(1)
        if ref not in todo:
            return m.group(0)
        seen.add(ref)
        return _cell_xml(ref, m.group(2), todo[ref])

    xml = _CELL.sub(fill, xml)
    if len(seen) != len(todo):
        raise KeyError(f"cells {sorted(set(todo) - seen)[:5]} are not in {part}")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = xml.encode("utf-8") if info.filename == part else src.read(info.filename)
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


PLACEHOLDER = "RESPONDENT-PLACEHOLDER"


def _roster_answers(form: Form, frame: pd.DataFrame) -> None:
    """The roster question as a platform collects it: the organization answered for is the
    one the respondent was assigned (``organization_id``), never checked as its own partner."""
    from instrument.collaboration import question_ids

    codes = form.network.codes
    if "organization_id" in frame:
        frame["organization_id"] = [codes[int(k) - 1] for k in frame["net_self"]]
    for k, code in enumerate(codes, start=1):
        with_id = question_ids(code)["with"]
        if with_id in frame:
            frame.loc[frame["net_self"] == k, with_id] = 0


def context_codes(form: Form, frame: pd.DataFrame) -> pd.DataFrame:
    """Group columns simulated by name (``public``) -> the context question's codes (1)."""
    frame = frame.copy()
    for q in form.context_block:
        if q.id in frame and q.type == "select_one" and not pd.api.types.is_numeric_dtype(frame[q.id]):
            by_name = {c.name: c.code for c in q.choices if c.name}
            frame[q.id] = frame[q.id].map(lambda v, m=by_name: m.get(v, v))
    return frame


def write_workbooks(form: Form, sample: Sample, out) -> list[Path]:
    """Write each simulated respondent as a returned workbook (their language, order A or B).

    Answers are written as a respondent picks them in the drop-down (``"4 - Plutôt d'accord"``),
    blanks stay blank. Returns the files written (``<form>_<respondent>.xlsx``).
    """
    from instrument.export.common import labelled, version_labels
    from instrument.export.xlsx import build_workbook
    from instrument.files import reproducible_zip, write_bytes
    from instrument.workbook import Workbook

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    responses = context_codes(form, sample.responses)
    versions = version_labels(form)
    templates = {}
    for lang in form.languages:
        for version in versions:
            wb = build_workbook(form, lang=lang, version=version, respondent=PLACEHOLDER)
            buf = io.BytesIO()
            wb.save(buf)
            data = reproducible_zip(buf.getvalue())  # no time of saving: same seed, same bytes
            book = Workbook(data)
            meta = {}
            for row in book.read("_meta").grid:
                if len(row) >= 2 and isinstance(row[0], str):
                    meta[row[0]] = row[1]
            part = book.sheets[meta["answer_sheet"]][0]
            cells = {k[5:]: v for k, v in meta.items() if k.startswith("cell:")}
            templates[lang, version] = (data, part, cells)
    answer = {lang: {c.code: labelled(c, lang) for c in form.response_set.all_choices()} for lang in form.languages}
    ctx = {q.id: q for q in form.context_block}
    written = []
    for i, row in enumerate(responses.itertuples(index=False)):
        rec = row._asdict()
        lang = rec.get("lang") if rec.get("lang") in form.languages else form.languages[0]
        version = versions[i % len(versions)]
        data, part, cells = templates[lang, version]
        values = {}
        for qid, ref in cells.items():
            v = rec.get(qid)
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
                continue
            if qid in ctx:
                q = ctx[qid]
                if q.type == "select_one":
                    choice = next((c for c in q.choices if c.code == int(v)), None)
                    values[ref] = labelled(choice, lang) if choice else v
                else:
                    values[ref] = v if q.type == "integer" else str(v)
            else:
                values[ref] = answer[lang].get(int(v), int(v))
        filled = patch_cells(data, part, values)
        filled = _replace_shared(filled, PLACEHOLDER, str(rec["respondent"]))
        path = out / f"{form.id}_{rec['respondent']}.xlsx"
        write_bytes(path, filled)
        written.append(path)
    return written


def _replace_shared(xlsx: bytes, old: str, new: str) -> bytes:
    """Replace a text in the shared strings of a workbook (the respondent code placeholder)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith(".xml"):
                data = data.replace(old.encode(), _xml_text(new).encode())
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def simulate_command(spec, *, n, out, seed, grid=False, platform=None, console=None) -> int:
    """The ``intangibles simulate`` command: returned workbooks, one grid, or one survey
    platform's response export (``platform``: kobo, odk, limesurvey, redcap)."""
    from rich.console import Console

    from instrument.form import FormError, load_form
    from instrument.output import write_table

    console = console or Console()
    try:
        form = load_form(spec)
    except FormError as exc:
        for problem in exc.problems:
            console.print(str(problem), style="red", markup=False, highlight=False)  # [item] is no markup
        return 1
    if n < 1:
        say(console, f"--n doit valoir au moins 1 ; reçu {n}.", f"--n must be at least 1; got {n}.",
            style="red")
        return 2
    from instrument.platforms import SOURCES, write_export

    if platform is not None and platform not in SOURCES:
        say(console, f"--as doit être l'une de {', '.join(SOURCES)} ; reçu {platform!r}.",
            f"--as must be one of {', '.join(SOURCES)}; got {platform!r}.", style="red")
        return 2
    sample = simulate(form, n, seed=seed)
    out = Path(out)
    if platform:
        path = write_export(form, sample.responses, out / f"{form.id}_{platform}.csv", platform)
        say(console, f"{n} personnes simulées, export de réponses {platform}",
            f"{n} simulated respondents, {platform} response export", tail=f" -> {path}")
        return 0
    if grid:
        table = context_codes(form, sample.responses)
        write_table(table, out / f"{form.id}_simulated.csv")
        say(console, f"{n} personnes simulées", f"{n} simulated respondents",
            tail=f" -> {out / f'{form.id}_simulated.csv'}")
        return 0
    with console.status(bilingual(f"Écriture de {n} classeurs", f"writing {n} workbooks...")):
        files = write_workbooks(form, sample, out)
    say(console, f"{len(files)} classeurs retournés simulés",
        f"{len(files)} simulated returned workbooks", tail=f" -> {out}/")
    return 0
