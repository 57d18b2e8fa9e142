"""The figures of the validation report, drawn with matplotlib as SVG strings.

Every function takes the ``results`` dict of :func:`psychometrics.report.validate` (so a
report can be re-drawn from ``results.json``) and returns one ``<svg>`` element to inline
in the HTML. Figures are drawn on a bare ``Figure`` (no pyplot, no GUI backend: the
Agg/SVG canvases only) and are deterministic: fixed ``svg.hashsalt`` (one per figure, so
ids never collide when several SVGs share a page), no date in the metadata, text kept as
text (``svg.fonttype = "none"``, escaped by matplotlib) in the report's font.
Numbers, axes and scale labels go through the report's
:class:`~instrument.typography.Typography` (``typo``): decimal comma on the French axes.
"""

from __future__ import annotations

import io
import re

import numpy as np

from instrument.typography import Typography

__all__ = ["cfa_loadings", "efa_heatmap", "item_distributions", "network_drawing", "profile_dots", "rate_curves", "scree"]

BLUE = "#2c6fad"
ORANGE = "#d9822b"
GREY = "#8a8f98"
RED = "#b8322a"
INK = "#1f2328"

_RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8,
    "axes.edgecolor": "#6b7078",
    "axes.labelcolor": INK,
    "axes.titlesize": 8,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")  # never a GUI backend, even if pyplot gets imported later
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig, name: str, title: str) -> str:
    """The figure as one ``<svg>`` element (no XML prolog), deterministic."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({**_RC, "svg.hashsalt": f"intangibles-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    start = text.index("<svg")
    svg = text[start:]
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" class="figure-svg" ', 1)
    return re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)


def _attr(text: str) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _rc():
    import matplotlib

    return matplotlib.rc_context(_RC)


def _typo(typo):
    return typo or Typography("en")


def _dec(v: float, digits: int, lang: str) -> str:
    """``v`` with ``digits`` decimals in ``lang`` (decimal comma in French): Typography's."""
    return Typography(lang).num(v, digits)


# --------------------------------------------------------------------------- items


def item_distributions(results: dict, *, typo=None, text: dict | None = None,
                       columns: int = 8) -> str:
    """Small multiples: the share of each answer for every item (raw answers, as asked).

    One panel per item (bars from 0 to 100%), drawn on a single Axes so that the SVG stays
    small even for a hundred items. Panels of near-constant items (one answer above the
    ``category_pct`` threshold) get a red title and frame; the dashed line marks that
    threshold.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Rectangle

    text = text or {}
    items = results["item_order"]
    low, high = results["response_range"]["low"], results["response_range"]["high"]
    cut = results["thresholds"].get("category_pct", {}).get("value", 80.0)
    if float(low).is_integer() and float(high).is_integer() and high - low <= 10:
        cats = list(np.arange(low, high + 1))
    else:
        cats = sorted({float(c) for i in items for c in (results["items"][i].get("frequencies") or {})})
    m = len(cats)
    n = len(items)
    cols = max(1, min(columns, n))
    rows = int(np.ceil(n / cols))
    pw, ph = m + 1.2, 1.55  # panel width (bar units) and height (1 = 100%)
    xs, ys, hs, colours, frames, dashes, bad_frames = [], [], [], [], [], [], []
    with _rc():
        fig = _figure(1.25 * cols, 0.95 * rows + 0.15)
        fig.set_layout_engine(None)
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
        for k, item in enumerate(items):
            r, c = divmod(k, cols)
            x0, y0 = c * pw, (rows - 1 - r) * ph
            entry = results["items"][item]
            freq = entry.get("frequencies") or {}
            total = sum(freq.values()) or 1
            for j, cat in enumerate(cats):
                xs.append(x0 + j + 0.6)
                ys.append(y0)
                hs.append(freq.get(_key(cat), 0) / total)
                colours.append(ORANGE if j == 0 else BLUE if j == m - 1 else GREY)
            flagged = 100 * max(freq.values(), default=0) / total > cut
            frame = [(x0 + 0.1, y0 + 1.0), (x0 + 0.1, y0), (x0 + m + 0.1, y0)]
            (bad_frames if flagged else frames).append(frame)
            dashes.append([(x0 + 0.1, y0 + cut / 100), (x0 + m + 0.1, y0 + cut / 100)])
            rev = " (R)" if entry.get("reverse") else ""
            ax.text(x0 + 0.1 + m / 2, y0 + 1.08, f"{item}{rev}", ha="center", va="bottom",
                    fontsize=7, color=RED if flagged else INK,
                    fontweight="bold" if flagged else "normal")
            if r == rows - 1 or k + cols >= n:
                for j, cat in enumerate(cats):
                    ax.text(x0 + j + 0.6, y0 - 0.04, _short(cat), ha="center", va="top", fontsize=5.5,
                            color="#5b6270")
            if c == 0:
                for v in (0, 50, 100):
                    ax.text(x0 + 0.02, y0 + v / 100, f"{v}", ha="right", va="center", fontsize=5.5,
                            color="#5b6270")
        ax.bar(xs, hs, bottom=ys, width=0.75, color=colours, linewidth=0)
        ax.add_collection(LineCollection(frames, colors="#6b7078", linewidths=0.6))
        ax.add_collection(LineCollection(bad_frames, colors=RED, linewidths=1.0))
        ax.add_collection(LineCollection(dashes, colors=RED, linewidths=0.6, linestyles=(0, (3, 2))))
        ax.add_patch(Rectangle((0, 0), 0, 0, visible=False))
        ax.set_xlim(-0.5, cols * pw)
        ax.set_ylim(-0.25, rows * ph)
        ax.set_axis_off()
        title = text.get("fig_items", "Answers per item")
    return _svg(fig, "items", title)


def _key(c) -> str:
    c = float(c)
    return str(int(c)) if c.is_integer() else str(c)


def _short(c) -> str:
    c = float(c)
    return str(int(c)) if c.is_integer() else f"{c:g}"


# --------------------------------------------------------------------------- scree


def scree(results: dict, *, typo=None, text: dict | None = None, most: int = 20) -> str | None:
    """Scree plot: observed eigenvalues, parallel analysis' simulated 95th percentile and
    mean, the number of factors parallel analysis retains."""
    text = text or {}
    dim = results.get("dimensionality") or {}
    ev, pa = dim.get("eigenvalues"), dim.get("parallel")
    if not ev or not pa:
        return None
    k = min(len(ev), most)
    x = np.arange(1, k + 1)
    with _rc():
        fig = _figure(6.4, 3.0)
        ax = fig.subplots()
        ax.plot(x, ev[:k], marker="o", ms=3.5, color=BLUE, lw=1.4, label=text.get("observed", "observed"))
        ax.plot(x, pa["threshold"][:k], color=ORANGE, lw=1.2, ls="--",
                label=text.get("simulated_q", "simulated, 95th percentile"))
        ax.plot(x, pa["sim_mean"][:k], color=GREY, lw=1.0, ls=":",
                label=text.get("simulated_mean", "simulated, mean"))
        m = pa["n_factors"]
        if 1 <= m <= k:
            ax.axvline(m + 0.5, color=RED, lw=0.8, ls=(0, (2, 2)))
            ax.annotate(text.get("pa_retains", "parallel analysis: {n}").format(n=m),
                        xy=(m + 0.5, max(ev[:k]) * 0.92), xytext=(6, 0),
                        textcoords="offset points", color=RED, fontsize=7.5)
        ax.axhline(1.0, color="#c9ccd1", lw=0.6)
        ax.set_xticks(x)
        ax.set_xlabel(text.get("factor_number", "factor / component"))
        ax.set_ylabel(text.get("eigenvalue", "eigenvalue"))
        ax.legend(frameon=False, fontsize=7.5, loc="upper right")
        _typo(typo).axes(ax)
        title = text.get("fig_scree", "Scree plot and parallel analysis")
    return _svg(fig, "scree", title)


# --------------------------------------------------------------------------- EFA


def efa_heatmap(results: dict, *, typo=None, text: dict | None = None) -> str | None:
    """Heat map of the EFA pattern loadings, items grouped by the scale of the model,
    factors in the order of the scales they match; values of .20 and more printed."""
    text = text or {}
    efa = results.get("efa")
    if not efa:
        return None
    model = results.get("model") or {}
    match = efa.get("factor_scales") or {}
    factors = list(efa["factors"])
    scale_pos = {s: j for j, s in enumerate(model)}
    factors.sort(key=lambda f: scale_pos.get(match.get(f), len(scale_pos)))
    items = [i for v in model.values() for i in v if i in efa["loadings"]]
    items += [i for i in efa["loadings"] if i not in items]
    mat = np.array([[efa["loadings"][i][f] or 0.0 for f in factors] for i in items])
    p, k = mat.shape
    with _rc():
        fig = _figure(min(1.6 + 0.62 * k, 7.4), 0.9 + 0.17 * p)
        ax = fig.subplots()
        im = ax.imshow(mat, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
        for (r, c), v in np.ndenumerate(mat):
            if abs(v) >= 0.2:
                ax.text(c, r, _typo(typo).num(v, 2),
                        ha="center", va="center", fontsize=6,
                        color="white" if abs(v) >= 0.55 else INK)
        ax.set_yticks(np.arange(p), items, fontsize=6.5)
        labels = [f"{f} {_typo(typo).label('scale', match[f])}" if f in match else f for f in factors]
        ax.xaxis.tick_top()
        ax.set_xticks(np.arange(k), labels, fontsize=6.5, rotation=40, ha="left", rotation_mode="anchor")
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        row = 0
        for v in list(model.values())[:-1]:
            row += sum(1 for i in v if i in efa["loadings"])
            ax.axhline(row - 0.5, color=INK, lw=0.6)
        bar = fig.colorbar(im, ax=ax, shrink=0.35, aspect=15, pad=0.02)
        bar.ax.tick_params(labelsize=6)
        bar.ax.yaxis.set_major_formatter(_typo(typo).formatter())
        title = text.get("fig_efa", "EFA loadings")
    return _svg(fig, "efa", title)


# --------------------------------------------------------------------------- CFA


def cfa_loadings(results: dict, *, typo=None, text: dict | None = None) -> str | None:
    """Horizontal bars of the standardized CFA loadings, grouped by factor; bars below
    the loading threshold in orange, the threshold as a dashed line."""
    text = text or {}
    cfa = results.get("cfa")
    if not cfa:
        return None
    cut = results["thresholds"]["loading"]["value"]
    rows = []
    for f, items in (results.get("model") or {}).items():
        for i in items:
            v = (cfa["loadings"].get(i) or {}).get(f)
            if v is not None:
                rows.append((f, i, v))
    if not rows:
        return None
    n = len(rows)
    with _rc():
        fig = _figure(6.4, 0.6 + 0.16 * n)
        ax = fig.subplots()
        y = np.arange(n)[::-1]
        vals = np.array([r[2] for r in rows])
        ax.barh(y, vals, color=[BLUE if abs(v) >= cut else ORANGE for v in vals], height=0.7)
        ax.axvline(cut, color=RED, lw=0.8, ls=(0, (3, 2)))
        ax.set_yticks(y, [r[1] for r in rows], fontsize=6.5)
        ax.set_xlim(min(0.0, float(vals.min()) - 0.05), 1.0)
        ax.tick_params(axis="y", length=0)
        start = 0
        prev = rows[0][0]
        for j, (f, _i, _v) in enumerate([*rows, (None, None, None)]):
            if f != prev:
                mid = (y[start] + y[j - 1]) / 2
                ax.text(1.0, mid, f" {_typo(typo).label('scale', prev)}", va="center", ha="left", fontsize=6.5, color=INK,
                        transform=ax.get_yaxis_transform(), clip_on=False)
                if f is not None:
                    ax.axhline(y[j] + 0.5, color="#c9ccd1", lw=0.6)
                start, prev = j, f
        ax.set_xlabel(text.get("std_loading", "standardized loading"))
        _typo(typo).axes(ax)
        title = text.get("fig_cfa", "CFA standardized loadings")
    return _svg(fig, "cfa", title)


# --------------------------------------------------------------------------- network


def network_drawing(codes: list, edges: list, *, colour: dict | None = None, kind: str = "membership",
                    labels: dict | None = None, lang: str = "fr", title: str = "Network",
                    names: bool = False) -> str:
    """The collaboration network: one dot per organization, one line per tie.

    ``kind="membership"``: ``colour`` maps a code to 1 (member organization, blue) or 0
    (grey); ``kind="plain"``: every dot blue, no legend; ``kind="score"``: to a number, drawn on a sequential scale with its colour bar
    (decimal comma in French). ``labels`` (legend texts: ``member``, ``nonmember``,
    ``unknown``, ``score``). Positions: NetworkX's spring layout with a fixed seed, so the
    drawing is the same from run to run.
    """
    import networkx as nx
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import FuncFormatter

    labels = labels or {}
    g = nx.Graph()
    g.add_nodes_from(codes)
    g.add_edges_from(edges)
    pos = nx.spring_layout(g, seed=7, k=1.5 / np.sqrt(max(len(codes), 1)))
    xy = np.array([pos[c] for c in codes]).reshape(-1, 2)
    colour = colour or {}
    with _rc():
        fig = _figure(6.5, 5.2)
        ax = fig.add_subplot()
        ax.add_collection(LineCollection([(pos[a], pos[b]) for a, b in g.edges], colors="#b9bec6",
                                         linewidths=0.5, zorder=1))
        size = 14 + 6 * np.array([g.degree(c) for c in codes])
        if kind == "score":
            vals = np.array([colour.get(c, np.nan) for c in codes], float)
            known = np.isfinite(vals)
            ax.scatter(xy[~known, 0], xy[~known, 1], s=size[~known], c="white", edgecolors=GREY,
                       linewidths=0.6, zorder=2, label=labels.get("unknown", "n/a"))
            sc = ax.scatter(xy[known, 0], xy[known, 1], s=size[known], c=vals[known], cmap="viridis",
                            edgecolors="white", linewidths=0.4, zorder=3)
            bar = fig.colorbar(sc, ax=ax, shrink=0.6)
            bar.set_label(labels.get("score", "score"))
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: Typography(lang).num(v, 1)))
        elif kind == "plain":
            ax.scatter(xy[:, 0], xy[:, 1], s=size, c=BLUE, edgecolors="white", linewidths=0.4, zorder=3)
        else:
            groups = ((1, BLUE, labels.get("member", "member")),
                      (0, GREY, labels.get("nonmember", "non-member")),
                      (None, "white", labels.get("unknown", "n/a")))
            for value, col, name in groups:
                mask = np.array([colour.get(c) == value if value is not None
                                 else colour.get(c) not in (0, 1) for c in codes], bool)
                if mask.any():
                    ax.scatter(xy[mask, 0], xy[mask, 1], s=size[mask], c=col, edgecolors=INK
                               if value is None else "white", linewidths=0.4, zorder=3, label=name)
            ax.legend(loc="lower left", frameon=False, fontsize=7)
        if names:  # small networks: each dot's code beside it
            for c, (x, y) in zip(codes, xy, strict=True):
                ax.annotate(str(c), (x, y), xytext=(4, 4), textcoords="offset points", fontsize=6.5,
                            color=INK, zorder=4)
        ax.set_axis_off()
        ax.set_aspect("equal")
    return _svg(fig, f"network-{kind}", title)


# --------------------------------------------------------------------------- planning


def rate_curves(ns, series, *, lang: str = "fr", xlabel: str = "N", ylabel: str = "",
                title: str = "", marks=(0.05, 0.80)) -> str:
    """Rejection rates against N (``intangibles plan``): one line per ``(label, rates)``.

    Rates are drawn in percent (0-100); ``marks`` are dashed reference lines (the test
    level, the usual .80 power). A rate that is None (nothing converged) leaves a gap.
    """
    from matplotlib.ticker import FuncFormatter

    colours = [BLUE, ORANGE, RED, "#1e7a46", "#6a3d9a", GREY, INK]
    with _rc():
        fig = _figure(6.4, 3.6)
        ax = fig.add_subplot()
        for y in marks:
            ax.axhline(100 * y, color=GREY, lw=0.8, ls="--")
        for k, (label, rates) in enumerate(series):
            ys = [np.nan if r is None else 100 * r for r in rates]
            ax.plot(ns, ys, marker="o", ms=3.5, lw=1.4, color=colours[k % len(colours)], label=label,
                    ls="-" if k < len(colours) else ":")
        ax.set_ylim(0, 100)
        ax.set_xticks(list(ns))
        pct = "\u202f%" if lang == "fr" else "%"
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f}{pct}"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(axis="y", color="#e4e6ea", lw=0.6)
        if series:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _svg(fig, "rate-curves", title)


# --------------------------------------------------------------------------- feedback


def profile_dots(scales: list[dict], *, low: float, high: float, lang: str = "fr", text: dict | None = None) -> str:
    """The benefit profile of one consortium: one row per scale, its mean (dot) with the 95%
    CI (line), over the range of the study's consortium means (grey band, median tick) when
    the view gives ``peers``. ``scales`` are the rows of a feedback view model."""
    text = text or {}
    n = len(scales)
    with _rc():
        fig = _figure(6.6, 0.3 * n + 0.9)
        ax = fig.add_subplot()
        ys = np.arange(n)[::-1]
        for y, s in zip(ys, scales, strict=True):
            peers = s.get("peers")
            if peers:
                ax.barh(y, peers["q4"] - peers["q0"], left=peers["q0"], height=0.55, color="#e3e6ea", linewidth=0)
                ax.plot([peers["q2"]] * 2, [y - 0.27, y + 0.27], color=GREY, linewidth=1)
            colour = ORANGE if s.get("drawback") else BLUE
            if s.get("ci_low") is not None:
                ax.plot([s["ci_low"], s["ci_high"]], [y, y], color=colour, linewidth=1.6)
            ax.plot([s["mean"]], [y], "o", color=colour, markersize=5)
        ax.set_yticks(ys, [("    " if s["kind"] not in ("construct", "scale") else "") + s["label"] for s in scales])
        for label, s in zip(ax.get_yticklabels(), scales, strict=True):
            label.set_fontweight("bold" if s["kind"] in ("construct", "scale") else "normal")
        ax.set_xlim(low - 0.05, high + 0.05)
        ax.set_ylim(-0.6, n - 0.4)
        typo = Typography(lang)
        ax.xaxis.set_major_formatter(typo.formatter())
        ax.set_xlabel(text.get("fig_axis", "Mean").format(low=typo.num(low, 0), high=typo.num(high, 0)))
        ax.grid(axis="x", color="#eef0f2", linewidth=0.6)
        ax.set_axisbelow(True)
    return _svg(fig, "feedback-profile", text.get("fig_title", "Profile"))


# --------------------------------------------------------------------------- nested designs


def agreement_distributions(results: dict, *, typo=None, text: dict | None = None) -> str | None:
    """rwg(j) of every group of two people or more, one row of dots per scale and level,
    its median as a bar and the .70 line (LeBreton & Senter 2008); read from
    ``results["nesting"][level][scale]["groups"]``."""
    text = text or {}
    rows = [(level, scale, [g["rwg_j"] for g in e.get("groups", {}).values() if g.get("rwg_j") is not None])
            for level, scales in (results.get("nesting") or {}).items() for scale, e in scales.items()]
    rows = [r for r in rows if r[2]]
    if not rows:
        return None
    typo = _typo(typo)
    rng = np.random.default_rng(16)  # fixed jitter: the same figure for the same results
    with _rc():
        fig = _figure(6.4, 0.42 * len(rows) + 1.0)
        ax = fig.subplots()
        for k, (_level, _scale, values) in enumerate(rows):
            y = len(rows) - 1 - k
            v = np.asarray(values, dtype=float)
            ax.scatter(v, y + rng.uniform(-0.22, 0.22, len(v)), s=7, color=BLUE, alpha=0.45, lw=0)
            ax.plot([np.median(v)] * 2, [y - 0.32, y + 0.32], color=RED, lw=1.6)
        ax.axvline(0.70, color=GREY, lw=0.8, ls="--")
        ax.set_xlim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(typo.formatter())
        ax.set_yticks(range(len(rows)), [f"{typo.label('scale', s)} ({typo.label('group', lv)})"
                                         for lv, s, _ in reversed(rows)])
        ax.set_xlabel(text.get("nest_fig_x", "rwg(j) of each group (median: bar; .70: dashed line)"))
        title = text.get("nest_fig_title", "Within-group agreement, rwg(j)")
    return _svg(fig, "agreement", title)
