"""Scale keys, psych style: which items make each scale, and which are reverse keyed.

A keys file (JSON or YAML) or an equivalent mapping::

    {"scales": {"TRU": ["TRU1", "-TRU2", "TRU3"], "SOC": ["SOC1", "SOC2"]},
     "min": 1, "max": 5, "groups": ["lang", "sector"], "id": "respondent",
     "cluster": ["org", "consortium"], "role": "role",
     "roles": ["member", "colleague", "nonmember"]}

A leading ``-`` marks a reverse-keyed item (recoded ``max + min - x``). ``min``/``max``
(the response range), ``groups``, ``id``, ``cluster`` (the nesting columns, innermost
first: people in organizations in consortia), ``role`` (the column of the respondent's
role) and ``roles`` (the roles it may hold) are optional; other fields (``name``,
``nfactors``...) are ignored. This is R's ``psych::make.keys`` / ``scoreItems`` key list.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from psychometrics.errors import PsychometricsError

__all__ = ["Keys", "KeysError", "load_keys"]


class KeysError(PsychometricsError):
    """Every problem found in one keys file or mapping, reported together.

    ``code`` is the code of the first problem; ``problems`` lists ``(code, message)`` for
    all of them. Codes: ``unreadable-keys``, ``bad-keys`` (wrong shape), ``empty-scale``,
    ``bad-item``, ``duplicate-item``, ``unknown-item``, ``unknown-column``, ``bad-range``.
    """

    def __init__(self, source: str, problems: list[tuple[str, str]]):
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"- {code}: {msg}" for code, msg in problems)
        n = len(problems)
        super().__init__(
            problems[0][0], f"Keys {source} has {n} problem{'s' * (n > 1)}:\n{lines}"
        )


@dataclass(frozen=True)
class Keys:
    """A checked scale key.

    Attributes
    ----------
    scales : dict[str, tuple[str, ...]]
        Scale name -> its keyed items in order, a leading ``-`` marking reverse keying.
    min, max : float or None
        The response range (both given, ``min < max``) or None.
    groups : tuple[str, ...]
        Grouping columns (may be empty).
    id : str or None
        The respondent identifier column.
    cluster : tuple[str, ...]
        Nesting columns, innermost first (``("org", "consortium")``; may be empty).
    role : str or None
        The column holding each respondent's role.
    roles : tuple[str, ...] or None
        The roles declared (None: not declared).
    source : str
        The file it came from, or ``"<mapping>"``.
    """

    scales: dict
    min: float | None = None
    max: float | None = None
    groups: tuple = ()
    id: str | None = None
    source: str = "<mapping>"
    cluster: tuple = ()
    role: str | None = None
    roles: tuple | None = None

    @property
    def items(self) -> tuple[str, ...]:
        """Every item named by a scale, without its sign, in first-seen order."""
        return tuple(dict.fromkeys(k.removeprefix("-") for ks in self.scales.values() for k in ks))

    def check_columns(self, columns) -> Keys:
        """These keys, when every item and every named column (groups, cluster, id, role)
        is one of ``columns``; else :class:`KeysError` listing each one that is not
        (``unknown-item``, ``unknown-column``), as :func:`load_keys` with ``columns``."""
        cols = {str(c) for c in columns}
        where = _where(self.source)
        problems = (_item_problems(self.scales, cols, where)
                    + _column_problems(self.groups, self.cluster, self.id, self.role, cols, where))
        if problems:
            raise KeysError(self.source, problems)
        return self


def load_keys(path_or_mapping, *, columns=None) -> Keys:
    """Read and check a keys file (``.json``, ``.yaml``/``.yml``) or mapping.

    Parameters
    ----------
    path_or_mapping : str, Path or Mapping
        The keys file, or a mapping with the same fields.
    columns : iterable of str, optional
        The columns of the data the keys will score; when given, every item must be one of
        them (``unknown-item``), and so must ``groups`` and ``id`` (``unknown-column``).

    Returns
    -------
    Keys

    Raises
    ------
    KeysError
        (a :class:`PsychometricsError`) listing every problem, each naming the file, the
        scale, the item and the rule broken.

    Examples
    --------
    >>> import psychometrics as pm
    >>> keys = pm.load_keys({"scales": {"TRU": ["TRU1", "-TRU2"]}, "min": 1, "max": 5})
    >>> keys.scales["TRU"], keys.items
    (('TRU1', '-TRU2'), ('TRU1', 'TRU2'))

    The R equivalent is the key list given to ``psych::scoreItems``::

        keys <- list(TRU = c("TRU1", "-TRU2"))
    """
    if isinstance(path_or_mapping, Mapping):
        source, doc = "<mapping>", path_or_mapping
    elif isinstance(path_or_mapping, str | Path):
        source = f"file {str(path_or_mapping)!r}"
        doc = _read(Path(path_or_mapping), source)
    else:
        raise PsychometricsError(
            "bad-keys",
            "The 'path_or_mapping' parameter of load_keys must be a path or a mapping; "
            f"got {type(path_or_mapping).__name__}.",
        )
    problems: list[tuple[str, str]] = []
    where = _where(source)
    if not isinstance(doc, Mapping):
        raise KeysError(source, [("bad-keys", f"{where}: the top level must be a mapping with "
                                  f"a 'scales' field; got {type(doc).__name__}.")])
    if "scales" not in doc:
        raise KeysError(source, [("bad-keys", f"{where}: the 'scales' field is required "
                                  "(scale name -> list of items).")])
    scales = check_scales(doc["scales"], problems, where)
    cols = None if columns is None else {str(c) for c in columns}
    if cols is not None:
        problems += _item_problems(scales, cols, where)
    lo, hi = (_bound(doc.get(f), f, problems, where) for f in ("min", "max"))
    if (lo is None) != (hi is None):
        problems.append(("bad-range", f"{where}: give both 'min' and 'max' or neither; got "
                         f"min={_brief(doc.get('min'))}, max={_brief(doc.get('max'))}."))
    elif lo is not None and not lo < hi:
        problems.append(("bad-range", f"{where}: 'min' must be < 'max'; got min={lo:g}, max={hi:g}."))
    groups = doc.get("groups") or []
    if isinstance(groups, str):
        groups = [groups]
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        problems.append(("bad-keys", f"{where}: 'groups' must be a list of column names; "
                         f"got {_brief(groups)}."))
        groups = []
    cluster = _names(doc.get("cluster"), "cluster", problems, where)
    roles = None if doc.get("roles") is None else _names(doc.get("roles"), "roles", problems, where)
    role = doc.get("role")
    if role is not None and not (isinstance(role, str) and role):
        problems.append(("bad-keys", f"{where}: 'role' must be a column name; got {role!r}."))
        role = None
    ident = doc.get("id")
    if ident is not None and not (isinstance(ident, str) and ident):
        problems.append(("bad-keys", f"{where}: 'id' must be a column name; got {_brief(ident)}."))
        ident = None
    if cols is not None:
        problems += _column_problems(groups, cluster, ident, role, cols, where)
    if problems:
        raise KeysError(source, problems)
    return Keys(scales=scales, min=lo, max=hi, groups=tuple(groups), id=ident, source=source,
                cluster=tuple(cluster), role=role, roles=None if roles is None else tuple(roles))


def _where(source: str) -> str:
    return f"in {source}" if source != "<mapping>" else "in the keys mapping"


#: Items missing from the data named one by one, at most (the others are counted).
MAX_LISTED = 10


def _item_problems(scales: dict, cols: set, where: str) -> list[tuple[str, str]]:
    """``unknown-item``: each keyed item that is not a data column, once (with the first
    scale naming it), the first :data:`MAX_LISTED` by name and the others counted."""
    found: dict[str, list[tuple[str, str]]] = {}
    for scale, keyed in scales.items():
        for k in keyed:
            if k.removeprefix("-") not in cols:
                found.setdefault(k.removeprefix("-"), []).append((scale, k))
    out = []
    for item, places in list(found.items())[:MAX_LISTED]:
        scale, k = places[0]
        more = f" (and {len(places) - 1} other scale{'s' * (len(places) > 2)})" if len(places) > 1 else ""
        out.append(("unknown-item", f"{where}: scale {_brief(scale)}, item {_brief(k)}{more}: "
                    f"{_brief(item)} is not a data column."))
    if len(found) > MAX_LISTED:
        rest = list(found)[MAX_LISTED:]
        out.append(("unknown-item", f"{where}: {len(rest)} more item(s) are not data columns: "
                    f"{', '.join(map(_brief, rest[:5]))}{', ...' if len(rest) > 5 else ''}."))
    return out


def _column_problems(groups, cluster, ident, role, cols: set, where: str) -> list[tuple[str, str]]:
    """``unknown-column``: a group, cluster, id or role column that is not a data column."""
    named = ([("groups", g) for g in groups] + [("cluster", c) for c in cluster]
             + [(f, v) for f, v in (("id", ident), ("role", role)) if v is not None])
    return [("unknown-column", f"{where}: {field!r} names {_brief(name)}, which is not a data column.")
            for field, name in named if name not in cols]


def _names(value, field: str, problems: list, where: str) -> list:
    """A list of non-empty, distinct names (a single name allowed); [] when absent."""
    value = [value] if isinstance(value, str) else (value or [])
    if (not isinstance(value, list) or not all(isinstance(v, str) and v for v in value)
            or len(set(value)) != len(value)):
        problems.append(("bad-keys", f"{where}: {field!r} must be a list of distinct names; "
                         f"got {value!r}."))
        return []
    return value


def check_scales(scales, problems: list, where: str) -> dict:
    """Check ``scale name -> list of keyed items``; append ``(code, message)`` problems.

    Returns the scales that were well formed, items as tuples of strings.
    """
    if not isinstance(scales, Mapping) or not scales:
        problems.append(("bad-keys", f"{where}: 'scales' must be a non-empty mapping of "
                         f"scale name -> list of items; got {_brief(scales)}."))
        return {}
    out = {}
    for scale, keyed in scales.items():
        if not isinstance(scale, str) or not scale:
            problems.append(("bad-keys", f"{where}: scale names must be non-empty strings; "
                             f"got {_brief(scale)}."))
            continue
        if isinstance(keyed, str) or not isinstance(keyed, list | tuple):
            problems.append(("bad-keys", f"{where}: scale {_brief(scale)} must be a list of items; "
                             f"got {_brief(keyed)}."))
            continue
        if not keyed:
            problems.append(("empty-scale", f"{where}: scale {_brief(scale)} has no items."))
            continue
        seen: set[str] = set()
        good = True
        for k in keyed:
            name = k.removeprefix("-") if isinstance(k, str) else ""
            if not name or name != name.strip() or name.startswith("-"):
                problems.append(("bad-item", f"{where}: scale {_brief(scale)}, item {_brief(k)}: an item "
                                 "must be a column name, with one leading '-' if reverse keyed."))
                good = False
            elif name in seen:
                problems.append(("duplicate-item", f"{where}: scale {_brief(scale)}, item {_brief(k)}: "
                                 f"{_brief(name)} appears more than once in the scale."))
                good = False
            seen.add(name)
        if good:
            out[scale] = tuple(keyed)
    return out


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _brief(value) -> str:
    """``repr(value)`` cut short (a 40,000-character item name or a huge list stays one line)."""
    if isinstance(value, dict):
        value = dict(value)
    elif isinstance(value, list):
        value = list(value)
    return _REPR.repr(value)


def _bound(value, field: str, problems: list, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        problems.append(("bad-range", f"{where}: {field!r} must be a finite number; got {_brief(value)}."))
        return None
    return float(value)


def _read(path: Path, source: str):
    """The keys file through the one safe loader of user files (:mod:`psychometrics.userfile`:
    no alias, no tag, bounded size and nesting); its problems become ``unreadable-keys``,
    each message starting with the loader's own code (``yaml-alias``, ``json-too-large``...)."""
    from psychometrics.userfile import UNREADABLE, read_document

    problems: list[tuple[str, str]] = []
    seen: set[str] = set()

    def add(code, message, _file, line):  # the first of each kind (a bomb has hundreds of aliases)
        if code not in seen:
            seen.add(code)
            at = f" (line {line})" if line else ""
            problems.append(("unreadable-keys", f"{code}: {message}{at}"))

    data = read_document(path, source, add)
    if data is UNREADABLE or problems:
        raise KeysError(source, problems or [("unreadable-keys", f"cannot read {source}.")])
    return data
