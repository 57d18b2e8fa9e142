"""``intangibles network``: the collaboration network report (HTML, SVG, results.json).

Reads a ties table (``from``, ``to``, optional attributes) and a nodes table (first column
the organization codes; e.g. ``member_org``, a score), computes the measures
(:func:`psychometrics.network`), and with ``--outcome`` Moran's I and the network
autocorrelation model (:func:`psychometrics.lnam`, W row-normalized, X = intercept +
``--covariates``), then writes ``network.html`` (self-contained), ``network.svg`` and
``results.json``, each atomically. French first; ``--lang en`` for English.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from instrument.typography import say

__all__ = ["build_results", "network_command", "read_ties", "render_html"]

LANGS = ("fr", "en")


class NetworkInputError(Exception):
    """A problem with the command's files or options (the message names them)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


def read_ties(path):
    """A ties table (.csv, .xlsx...: columns ``from``, ``to`` and any attributes); raises
    :class:`NetworkInputError` naming the file when a column is missing, and
    :class:`instrument.datafile.DataError` when the file cannot be read."""
    from instrument.datafile import read_data

    ties = read_data(path, allow_empty=True)  # a header alone: no tie at all, a result in itself
    if not {"from", "to"} <= set(ties.columns):
        raise NetworkInputError(f"{path}: a ties table needs columns 'from' and 'to'; it has "
                                f"{', '.join(map(repr, list(ties.columns)[:12]))}.")
    return ties


def build_results(ties, nodes, *, outcome: str | None = None, covariates=(), directed=False) -> dict:
    """The analysis as plain values (what results.json holds). ``nodes`` is a DataFrame whose
    first column holds the codes; ``outcome`` and ``covariates`` are its columns."""
    import numpy as np
    import pandas as pd

    import psychometrics as pm

    net = pm.network(ties, nodes, directed=directed)
    per = net.nodes.replace({np.nan: None})
    out = {
        "network": net.to_dict(),
        "nodes": {str(k): {c: _plain(v) for c, v in row.items()} for k, row in per.iterrows()},
        "edges": [[str(a), str(b)] for a, b in zip(ties["from"], ties["to"], strict=True)
                  if pd.notna(a) and pd.notna(b) and str(a) != str(b)],
        "outcome": outcome, "covariates": list(covariates), "directed": bool(directed),
    }
    if outcome:
        out.update(_autocorrelation(ties, nodes, outcome, list(covariates)))
    return _finite(out)


def _finite(value):
    """``value`` with every NaN or infinity (no ties: no centralization, no rho) as None, so
    results.json is strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return _plain(value)


def _plain(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _autocorrelation(ties, nodes, outcome, covariates) -> dict:
    import pandas as pd

    import psychometrics as pm
    from psychometrics.network import node_table

    table = node_table(nodes, func="network")
    missing = [c for c in [outcome, *covariates] if c not in table.columns]
    if missing:
        raise NetworkInputError(f"the nodes file has no column {missing[0]!r} (columns: "
                                f"{', '.join(map(repr, table.columns))}).", 2)
    cols = table[[outcome, *covariates]].apply(pd.to_numeric, errors="coerce")
    keep = cols.notna().all(axis=1)
    codes = list(table.index[keep])
    inside = ties["from"].astype(str).isin(codes) & ties["to"].astype(str).isin(codes)
    w = pm.weights(ties[inside], codes)
    x = pd.concat([pd.Series(1.0, index=cols.index[keep], name="const"), cols.loc[keep, covariates]],
                  axis=1)
    y = cols.loc[keep, outcome]
    result = {"n_used": int(keep.sum()), "n_dropped": int((~keep).sum())}
    try:
        result["lnam"] = pm.lnam(y, x, w).to_dict()
    except pm.PsychometricsError as e:
        result["lnam"] = {"status": e.code, "message": str(e)}
    result["moran"] = pm.moran(y, w).to_dict()
    return result


def _sentences(results: dict, t: dict, f) -> list[str]:
    """The lnam table in plain words, and what it cannot say."""
    ln = results.get("lnam") or {}
    if ln.get("status") not in ("ok",):
        return [t["lnam_status"].format(status=ln.get("status", "?"))]
    rho = ln["table"]["rho1"]
    lo, hi = rho["estimate"] - 1.959964 * rho["se"], rho["estimate"] + 1.959964 * rho["se"]
    lines = [t["lnam_rho"].format(outcome=results["outcome"], rho=f.num(rho["estimate"]),
                                  lo=f.num(lo), hi=f.num(hi), p=f.p_eq(rho["p"]))]
    lines.append(t["lnam_yes"] if rho["p"] < 0.05 else t["lnam_no"])
    for term in results["covariates"]:
        row = ln["table"][term]
        lines.append(t["lnam_cov"].format(cov=term, b=f.num(row["estimate"]), se=f.num(row["se"]),
                                          p=f.p_eq(row["p"])))
    lines.append(t["lnam_caution"])
    return lines


RATINGS = ("trust", "value", "frequency")


def _degree(node: dict) -> int:
    """Ties of a node: its degree, or in + out degree when directed."""
    if node.get("degree") is not None:
        return node["degree"]
    return (node.get("in_degree") or 0) + (node.get("out_degree") or 0)


def _rated(results: dict, lang: str, f) -> dict | None:
    """Ratings received per organization (directed ties with trust / value / frequency), as
    the PARTNER tool's scores: the mean of what partners said about it."""
    nodes = results["nodes"]
    attrs = [a for a in RATINGS if any(v.get(f"{a}_received") is not None for v in nodes.values())]
    if not attrs:
        return None
    order = sorted(nodes, key=lambda c: -(nodes[c].get(f"{attrs[0]}_received") or 0))
    rows = [(nodes[c].get(f"name_{lang}") or nodes[c].get("name") or c, f.num(nodes[c].get("in_degree"), 0),
             *[f.num(nodes[c].get(f"{a}_received")) for a in attrs]) for c in order]
    return {"attrs": attrs, "rows": rows}


def render_html(results: dict, *, lang: str = "fr", source: dict | None = None) -> tuple[str, str]:
    """(HTML page, SVG drawing) of a network report from ``build_results``' dict."""
    import markupsafe

    from instrument import __version__, plots
    from instrument.resources import environment, templates_dir
    from instrument.typography import Typography, strings

    t = strings(lang, "network_strings.yaml")
    f = Typography(lang, na=t["na"])
    codes = list(results["nodes"])
    outcome = results.get("outcome")
    if outcome:
        colour = {c: results["nodes"][c].get(outcome) for c in codes}
        kind = "score"
    elif any(results["nodes"][c].get("member_org") is not None for c in codes):
        colour = {c: results["nodes"][c].get("member_org") for c in codes}
        kind = "membership"
    else:
        colour, kind = {}, "plain"
    legend = {"member": t["member_org"], "nonmember": t["nonmember_org"], "unknown": t["na"],
              "score": outcome or ""}
    svg = plots.network_drawing(codes, results["edges"], colour=colour, kind=kind, labels=legend,
                                lang=lang, title=t["fig_network"], names=len(codes) <= 40)
    net = results["network"]
    measures = [(t[k], f.num(net[k], 3 if "central" in k or k == "density" else 2))
                for k in ("density", "degree_centralization", "betweenness_centralization",
                          "closeness_centralization")]
    counts = [(t[k], str(net[k])) for k in ("n", "edges", "components", "largest_component", "isolates")]
    if net["directed"]:
        measures.append((t["reciprocity"], f.num(net["reciprocity"], 3)))
    top = sorted(codes, key=lambda c: -(results["nodes"][c].get("betweenness") or 0))[:10] if net["edges"] else []
    central = [(c, f.num(_degree(results["nodes"][c]), 0),
                f.num(results["nodes"][c].get("betweenness"), 1),
                f.num(results["nodes"][c].get("closeness"), 3)) for c in top]
    rated = _rated(results, lang, f)
    ln = results.get("lnam") or {}
    table = [(term, f.num(r["estimate"], 3), f.num(r["se"], 3), f.num(r["z"], 2), f.p(r["p"]))
             for term, r in (ln.get("table") or {}).items()]
    mo = results.get("moran")
    css = (templates_dir() / "report.css").read_text(encoding="utf-8")
    html = environment().get_template("network.html.j2").render(
        lang=lang, t=t, version=__version__, css=markupsafe.Markup(css),
        svg=markupsafe.Markup(svg), source=source or {}, membership=kind == "membership", measures=measures, counts=counts,
        notes=[t.get(f"note_{n}", n) for n in net["notes"]], central=central, table=table, rated=rated,
        sentences=_sentences(results, t, f) if outcome else [], outcome=outcome,
        moran=None if not mo else t["moran_line"].format(
            i=f.num(mo["i"], 3), e=f.num(mo["expected"], 3), z=f.num(mo["z"], 2), p=f.p_eq(mo["p"])),
        fit=None if not ln.get("loglik") else t["fit_line"].format(
            ll=f.num(ln["loglik"], 2), aic=f.num(ln["aic"], 2), n=ln["n"], sigma=f.num(ln["sigma"], 3)),
    )
    return html, svg


def network_command(ties, *, nodes, out, outcome=None, covariates=(), lang="fr", directed=False,
                    console=None) -> int:
    """The ``intangibles network`` command; returns the exit code (0, 1 bad files, 2 usage)."""
    from rich.console import Console

    from instrument.datafile import DataError, read_data
    from instrument.files import OutputError, check_output, write_text
    from psychometrics.errors import PsychometricsError

    console = console or Console()
    try:
        if lang not in LANGS:
            raise NetworkInputError(f"--lang must be one of fr, en; got {lang!r}.", 2)
        try:  # the output folder is checked before the work, not after it
            check_output(out, inputs=[ties, nodes], folder=True)
        except OutputError as exc:
            raise NetworkInputError(str(exc), exc.status) from None
        tie_df = read_ties(ties)
        node_df = read_data(nodes)
        results = build_results(tie_df, node_df, outcome=outcome, covariates=list(covariates),
                                directed=directed)
    except (DataError, NetworkInputError) as e:
        say(console, "erreur", "error", tail=f": {e}", style="red")
        return e.status
    except PsychometricsError as e:
        say(console, "erreur", "error", tail=f" ({e.code}): {e}", style="red")
        return 1
    source = {"ties": Path(ties).name, "nodes": Path(nodes).name}
    html, svg = render_html(results, lang=lang, source=source)
    out = Path(out)
    write_text(out / "results.json", json.dumps(results, ensure_ascii=False, indent=1, allow_nan=False))
    write_text(out / "network.svg", svg)
    write_text(out / "network.html", html)
    say(console, "Rapport de réseau", "network report",
        tail=f": {out / 'network.html'}, {out / 'network.svg'}, {out / 'results.json'}")
    return 0
