"""Collaboration networks between organizations: measures (NetworkX) and weight matrices.

Ties come as a DataFrame with columns ``from`` and ``to`` (organization codes) and any
attributes (``weight``, ``frequency``, ``trust``, ``value``...); nodes as a list of codes or
a DataFrame whose first column holds them (its other columns, e.g. ``member_org``, are
kept). The measures follow R's sna 2.7::

    net = pm.network(ties, orgs)
    net.density                     # sna::gden(A, mode = "graph")
    net.degree_centralization       # sna::centralization(A, degree, mode = "graph")
    net.betweenness_centralization  # sna::centralization(A, betweenness, mode = "graph")
    W = pm.weights(ties, orgs)      # row-normalized, as used with sna::lnam

Directed networks use sna's ``mode = "digraph"`` (Freeman degree, directed betweenness).
Degenerate networks (no tie, isolated nodes, several components, fewer than three nodes)
give a result whose ``notes`` list the codes, never an error; errors are for ties that do
not fit the nodes (``unknown-node``) or malformed tables (``missing-column``,
``not-a-dataframe``, ``invalid-option``).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy import sparse

from psychometrics._checks import check_choice, check_columns
from psychometrics.errors import PsychometricsError

__all__ = ["Network", "network", "node_table", "weights"]


@dataclass(frozen=True)
class Network:
    """Measures of one network.

    Attributes
    ----------
    n, edges : number of nodes and of distinct ties (an undirected pair counts once)
    directed : whether ties were read as directed
    density : ties / possible ties (sna::gden)
    degree_centralization, betweenness_centralization : Freeman centralization,
        sum(max - c_i) / its maximum over graphs of n nodes (sna::centralization);
        NaN under three nodes
    closeness_centralization : the same for closeness (NetworkX's closeness), NaN when
        the network is directed or not connected
    components : number of connected components (weakly, when directed)
    largest_component : nodes in the largest one
    isolates : nodes without any tie
    reciprocity : share of directed ties that are returned (NaN when undirected)
    nodes : DataFrame indexed by node: degree (in_degree, out_degree when directed),
        strength (with a weight), betweenness (raw counts, as sna), closeness, component
        (0 is the largest), isolate, and when directed ``<attr>_received`` /
        ``<attr>_given`` means of each numeric tie attribute (PARTNER-like trust and value
        scores per organization) and ``reciprocated`` (ties returned); node attributes kept
    notes : codes of what limits the reading: ``no-ties``, ``isolated-nodes``,
        ``disconnected``, ``too-few-nodes``, ``self-ties-dropped``
    """

    n: int
    edges: int
    directed: bool
    density: float
    degree_centralization: float
    betweenness_centralization: float
    closeness_centralization: float
    components: int
    largest_component: int
    isolates: int
    reciprocity: float
    nodes: pd.DataFrame
    notes: tuple[str, ...]

    def to_dict(self) -> dict:
        """Plain numbers for results.json (NaN as None)."""
        out = {
            k: getattr(self, k)
            for k in (
                "n",
                "edges",
                "directed",
                "density",
                "degree_centralization",
                "betweenness_centralization",
                "closeness_centralization",
                "components",
                "largest_component",
                "isolates",
                "reciprocity",
            )
        }
        out = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in out.items()}
        out["notes"] = list(self.notes)
        return out


def node_table(nodes: object, *, func: str) -> pd.DataFrame:
    """Nodes as a DataFrame indexed by code (a list of codes, or a DataFrame whose first
    column holds them); duplicated or missing codes raise ``duplicate-node`` / ``missing-node``."""
    if isinstance(nodes, pd.DataFrame):
        if nodes.shape[1] == 0:
            raise PsychometricsError(
                "no-columns", f"The 'nodes' parameter of {func} must have a column of codes."
            )
        table = nodes.set_index(nodes.columns[0])
    else:
        table = pd.DataFrame(index=pd.Index(list(nodes)))
    codes = table.index
    if codes.isna().any():
        raise PsychometricsError(
            "missing-node", f"The 'nodes' parameter of {func} has an empty organization code."
        )
    table.index = codes.astype(str)
    dup = table.index[table.index.duplicated()].unique()
    if len(dup):
        raise PsychometricsError(
            "duplicate-node",
            f"The 'nodes' parameter of {func} lists {dup[0]!r} more than once.",
        )
    return table


def _tie_table(ties: object, known: pd.Index | None, *, func: str) -> pd.DataFrame:
    if not isinstance(ties, pd.DataFrame):
        raise PsychometricsError(
            "not-a-dataframe",
            f"The 'ties' parameter of {func} must be a pandas DataFrame with columns "
            f"'from' and 'to'; got {type(ties).__name__}.",
        )
    check_columns(ties, ["from", "to"], name="ties", func=func)
    t = ties.dropna(subset=["from", "to"]).copy()
    t["from"] = t["from"].astype(str)
    t["to"] = t["to"].astype(str)
    if known is not None:
        ends = pd.concat([t["from"], t["to"]])
        unknown = ends[~ends.isin(known)]
        if len(unknown):
            row = unknown.index[0]
            raise PsychometricsError(
                "unknown-node",
                f"The 'ties' parameter of {func} names organization {unknown.iloc[0]!r} "
                f"(row {row}) which is not among the nodes.",
            )
    return t


def _graph(ties: pd.DataFrame, codes: list, directed: bool, weight: str | None) -> nx.Graph:
    g = nx.DiGraph() if directed else nx.Graph()
    g.add_nodes_from(codes)
    w = ties[weight].astype(float) if weight else pd.Series(1.0, index=ties.index)
    for a, b, x in zip(ties["from"], ties["to"], w, strict=True):
        if a == b:
            continue
        old = g.edges[a, b]["weight"] if g.has_edge(a, b) else -np.inf
        g.add_edge(a, b, weight=max(old, x))  # a tie named twice keeps its larger weight
    return g


def _centralization(values: dict, tmax: float) -> float:
    v = np.fromiter(values.values(), float)
    if tmax <= 0 or len(v) == 0:
        return float("nan")
    return float(np.sum(v.max() - v) / tmax)


def network(
    ties: pd.DataFrame,
    nodes: object = None,
    directed: bool = False,
    weight: str | None = None,
) -> Network:
    """Density, centralities and centralization, components, reciprocity of a network.

    ``nodes`` (list of codes or DataFrame, first column the codes) adds isolated
    organizations and keeps their attributes; without it the nodes are those named in the
    ties. ``weight`` names a numeric tie column (strength per node; the structural measures
    stay binary, as sna's default ``ignore.eval = TRUE``). R equivalent::

        A <- as.matrix(...); gden(A, mode = "graph")
        centralization(A, degree, mode = "graph"); centralization(A, betweenness, mode = "graph")
    """
    func = "network"
    table = node_table(nodes, func=func) if nodes is not None else None
    t = _tie_table(ties, None if table is None else table.index, func=func)
    if weight is not None:
        check_columns(t, [weight], name="weight", func=func)
    if table is None:
        table = pd.DataFrame(index=pd.Index(pd.unique(pd.concat([t["from"], t["to"]]))))
    codes = list(table.index)
    g = _graph(t, codes, bool(directed), weight)
    n, m = g.number_of_nodes(), g.number_of_edges()
    notes = _notes(g, t)
    per = _node_measures(g, t, directed, weight)
    comps = _components(g)
    return Network(
        n=n,
        edges=m,
        directed=bool(directed),
        density=float(nx.density(g)) if n > 1 else float("nan"),
        degree_centralization=_centralization(
            dict(g.degree()), (n - 1) * (2 * (n - 1) - 2) if directed else (n - 1) * (n - 2)
        ),
        betweenness_centralization=_centralization(
            nx.betweenness_centrality(g, normalized=False),
            (n - 1) ** 2 * (n - 2) * (1 if directed else 0.5),
        ),
        closeness_centralization=_closeness_centralization(g, per["closeness"], notes),
        components=len(comps),
        largest_component=len(comps[0]) if comps else 0,
        isolates=int(per["isolate"].sum()),
        reciprocity=float(nx.reciprocity(g)) if directed and m else float("nan"),
        nodes=table.join(per),
        notes=notes,
    )


def _components(g: nx.Graph) -> list:
    parts = nx.weakly_connected_components(g) if g.is_directed() else nx.connected_components(g)
    return sorted(parts, key=lambda c: (-len(c), min(c)))


def _notes(g: nx.Graph, t: pd.DataFrame) -> tuple[str, ...]:
    notes = []
    n = g.number_of_nodes()
    if g.number_of_edges() == 0:
        notes.append("no-ties")
    if n < 3:
        notes.append("too-few-nodes")
    if any(d == 0 for _, d in g.degree()):
        notes.append("isolated-nodes")
    if n and len(_components(g)) > 1:
        notes.append("disconnected")
    if (t["from"] == t["to"]).any():
        notes.append("self-ties-dropped")
    return tuple(notes)


def _closeness_centralization(g: nx.Graph, closeness: pd.Series, notes: tuple) -> float:
    n = g.number_of_nodes()
    if "disconnected" in notes or n < 3 or g.is_directed():
        return float("nan")
    # sna's maximum of closeness centralization for graphs (a star): (n-1)(n-2)/(2n-3)
    return _centralization(closeness.to_dict(), (n - 1) * (n - 2) / (2 * n - 3))


def _node_measures(g: nx.Graph, t: pd.DataFrame, directed: bool, weight: str | None):
    codes = list(g.nodes)
    per = pd.DataFrame(index=pd.Index(codes))
    if directed:
        per["in_degree"] = pd.Series(dict(g.in_degree()))
        per["out_degree"] = pd.Series(dict(g.out_degree()))
    else:
        per["degree"] = pd.Series(dict(g.degree()))
    if weight:
        per["strength"] = pd.Series(dict(g.degree(weight="weight")))
    per["betweenness"] = pd.Series(nx.betweenness_centrality(g, normalized=False))
    per["closeness"] = pd.Series(nx.closeness_centrality(g))
    label = {v: i for i, comp in enumerate(_components(g)) for v in comp}
    per["component"] = pd.Series(label)
    per["isolate"] = pd.Series(dict(g.degree())) == 0
    if directed:
        per["reciprocated"] = pd.Series(
            {v: sum(g.has_edge(u, v) for u in g.successors(v)) for v in codes}
        )
        per = per.join(_attribute_means(t, weight))
    return per


def _attribute_means(t: pd.DataFrame, weight: str | None) -> pd.DataFrame:
    """Mean of each numeric tie attribute received (``to``) and given (``from``) per node."""
    t = t[t["from"] != t["to"]]
    attrs = [
        c
        for c in t.columns
        if c not in ("from", "to", weight) and pd.api.types.is_numeric_dtype(t[c])
    ]
    if not attrs:
        return pd.DataFrame()
    got = t.groupby("to")[attrs].mean().add_suffix("_received")
    given = t.groupby("from")[attrs].mean().add_suffix("_given")
    return got.join(given, how="outer")


def weights(
    ties: pd.DataFrame,
    nodes: object,
    normalize: str = "row",
    directed: bool = False,
    weight: str | None = None,
) -> sparse.csr_array:
    """The n x n weight matrix W of a network, rows and columns in the order of ``nodes``.

    Undirected (default): W[i, j] = W[j, i] = the tie's weight (1 without ``weight``), as
    ``pmax(A, t(A))`` in R. ``normalize="row"`` divides each row by its sum (isolated
    organizations keep a row of zeros), the usual choice for ``sna::lnam``; ``"none"``
    keeps the raw values. Returns a SciPy sparse CSR array.
    """
    func = "weights"
    check_choice(normalize, name="normalize", choices=["row", "none"], func=func)
    table = node_table(nodes, func=func)
    t = _tie_table(ties, table.index, func=func)
    if weight is not None:
        check_columns(t, [weight], name="weight", func=func)
    g = _graph(t, list(table.index), bool(directed), weight)
    a = nx.to_scipy_sparse_array(g, nodelist=list(table.index), weight="weight", format="csr")
    a = sparse.csr_array(a, dtype=float)
    if normalize == "row":
        s = np.asarray(a.sum(axis=1)).ravel()
        inv = np.divide(1.0, s, out=np.zeros_like(s), where=s != 0)
        a = sparse.csr_array(sparse.diags_array(inv) @ a)
    return a
