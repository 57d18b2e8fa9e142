"""The small frozen records everything else passes around.

Texts in two languages are plain dicts ``{"fr": ..., "en": ...}`` (French first).
Records are frozen so a loaded bank or form cannot be changed behind a caller's back;
they hold dicts, so they compare by value but are not hashable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "LANGUAGES",
    "LEVEL_ROLES",
    "ROLES",
    "Choice",
    "Construct",
    "ContextQuestion",
    "Facet",
    "Form",
    "Item",
    "ItemBank",
    "Level",
    "Problem",
    "RecallContext",
    "ResponseSet",
    "Scale",
    "item_roles",
]

#: Languages every text must have, in the order they are shown (French first).
LANGUAGES: tuple[str, ...] = ("fr", "en")

Text = dict  # {"fr": str, "en": str}


@dataclass(frozen=True)
class Problem:
    """One problem found in a user's file: errors as data, collected, then reported.

    ``code`` is a stable kebab-case code (``duplicate-id``, ``out-of-range``...); the
    other fields say where: the file, and as much of line / sheet / cell / item as applies.
    """

    code: str
    message: str
    file: str = ""
    line: int | None = None
    sheet: str = ""
    cell: str = ""
    item: str = ""
    severity: str = "error"  # "error" or "warning"

    @property
    def place(self) -> str:
        """Where the problem is, as one short string (``bank/trust.yaml:12``, ``a.xlsx!Réponses!C7``)."""
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line else ""))
        if self.sheet:
            parts.append(self.sheet)
        if self.cell:
            parts.append(self.cell)
        where = "!".join(parts)
        if self.item:
            where = f"{where} [{self.item}]" if where else f"[{self.item}]"
        return where

    def __str__(self) -> str:
        return f"{self.place}: {self.code}: {self.message}" if self.place else f"{self.code}: {self.message}"


@dataclass(frozen=True)
class Choice:
    """One answer of a response set: its stored code and its label in each language."""

    code: int
    label: Text
    #: a short machine name (``public``, ``community``) when the bank gives one, else ""
    name: str = ""


@dataclass(frozen=True)
class ResponseSet:
    """A labelled answer scale, e.g. 5-point agreement.

    ``choices`` are the scored answers in increasing order; ``missing`` are the answers
    that are recorded but never scored ("don't know", "not applicable"), with codes
    outside the scored range.
    """

    id: str
    label: Text
    choices: tuple[Choice, ...]
    missing: tuple[Choice, ...] = ()
    ordered: bool = True

    @property
    def low(self) -> int:
        return min(c.code for c in self.choices)

    @property
    def high(self) -> int:
        return max(c.code for c in self.choices)

    @property
    def codes(self) -> tuple[int, ...]:
        """Scored codes, in order."""
        return tuple(c.code for c in self.choices)

    @property
    def missing_codes(self) -> tuple[int, ...]:
        return tuple(c.code for c in self.missing)

    def all_choices(self) -> tuple[Choice, ...]:
        return self.choices + self.missing


@dataclass(frozen=True)
class Level:
    """Where a benefit lands: individual, organization, ecosystem, users."""

    id: str
    label: Text
    definition: Text


@dataclass(frozen=True)
class Facet:
    id: str
    construct: str
    label: Text
    definition: Text
    source_inspiration: str = ""


@dataclass(frozen=True)
class Construct:
    id: str
    label: Text
    definition: Text
    facets: tuple[str, ...] = ()
    #: "benefit" or "drawback" (drawbacks are a counterweight, scored apart), or "tangible"
    kind: str = "benefit"


@dataclass(frozen=True)
class RecallContext:
    """The time frame an item refers to, e.g. "since your organization joined the consortium"."""

    id: str
    text: Text


@dataclass(frozen=True)
class ContextQuestion:
    """A question of the context block (sector, domain, role, years, consortium id)."""

    id: str
    type: str  # "select_one", "integer", "text"
    label: Text
    choices: tuple[Choice, ...] = ()
    required: bool = False
    minimum: int | None = None
    maximum: int | None = None
    #: ask only when another context question got this answer: (question id, code); () always
    ask_if: tuple = ()


#: Who answers a form: a member organization's representative in the consortium, a colleague
#: in a member organization who does not sit in it, the staff of a non-member organization.
ROLES = ("member", "colleague", "nonmember")

#: The roles an item suits when it does not say (``Item.roles``): individual-level items
#: presume sitting in the consortium; organization and users items, a member organization;
#: ecosystem items ask about the community, which everyone sees.
LEVEL_ROLES = {"individual": ("member",), "organization": ("member", "colleague"),
               "users": ("member", "colleague"), "ecosystem": ROLES}


def item_roles(item) -> tuple[str, ...]:
    """The roles ``item`` may be asked of: its own ``roles``, else its level's."""
    return item.roles or LEVEL_ROLES.get(item.level, ROLES)


@dataclass(frozen=True)
class Item:
    """One item of the bank.

    ``polarity`` is ``"+"`` or ``"-"``; a ``"-"`` item is reverse keyed when scored.
    ``text`` may hold placeholders such as ``{consortium}``, filled by a form.
    """

    id: str
    construct: str
    facet: str
    level: str
    polarity: str
    text: Text
    response_set: str
    context: str
    source_inspiration: str
    version: int = 1
    status: str = "active"  # "active", "draft", "retired"
    tangible: bool = False
    file: str = ""
    line: int | None = None
    roles: tuple[str, ...] = ()  # who may be asked it; () = by its level (see item_roles)

    @property
    def reverse(self) -> bool:
        return self.polarity == "-"

    @property
    def key(self) -> str:
        """The item as it appears in a psych-style key: ``"-id"`` when reverse keyed."""
        return f"-{self.id}" if self.reverse else self.id


@dataclass(frozen=True)
class ItemBank:
    """The whole bank, checked: every cross-reference resolves."""

    version: str
    items: tuple[Item, ...]
    constructs: dict  # id -> Construct
    facets: dict  # id -> Facet
    levels: dict  # id -> Level
    response_sets: dict  # id -> ResponseSet
    contexts: dict  # id -> RecallContext
    context_block: tuple[ContextQuestion, ...] = ()

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def select(self, *, construct=None, facet=None, level=None, status="active") -> tuple[Item, ...]:
        """Items matching every criterion given (each a value or a collection of values)."""

        def ok(value, wanted):
            if wanted is None:
                return True
            if isinstance(wanted, str):
                return value == wanted
            return value in wanted

        return tuple(
            it
            for it in self.items
            if ok(it.construct, construct) and ok(it.facet, facet) and ok(it.level, level) and ok(it.status, status)
        )


@dataclass(frozen=True)
class Scale:
    """A scored scale of a form: its name and its items in psych key style (``-id`` = reverse)."""

    name: str
    kind: str  # "facet", "construct", "level"
    keys: tuple[str, ...]
    label: Text = field(default_factory=dict)

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(k.lstrip("-") for k in self.keys)


@dataclass(frozen=True)
class Form:
    """A questionnaire built from a spec and the bank, checked, ready to export.

    ``items`` are in shown order for the base version; ``versions`` maps a version label
    ("A", "B") to the item ids in that version's order (one entry, "A", when the form is
    not counterbalanced). ``texts`` holds each item's text per language with placeholders
    filled. ``hash`` is a digest of everything that matters for matching a returned file.
    """

    id: str
    version: str
    title: Text
    introduction: Text
    consortium: Text
    languages: tuple[str, ...]
    response_set: ResponseSet
    items: tuple[Item, ...]
    texts: dict  # item id -> {"fr": ..., "en": ...} with placeholders filled
    recall: Text
    context_block: tuple[ContextQuestion, ...]
    scales: tuple[Scale, ...]
    versions: dict  # "A" -> tuple of item ids in shown order
    hash: str
    bank: ItemBank | None = None
    network: object = None  # instrument.collaboration.Network: the roster question, if any
    role: str = "member"  # who answers: member, colleague or nonmember (ROLES)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(it.id for it in self.items)

    def keys(self) -> dict:
        """The psych-style key of this form (DESIGN.md's keys file)."""
        return {
            "scales": {s.name: list(s.keys) for s in self.scales},
            "min": self.response_set.low,
            "max": self.response_set.high,
            "id": "respondent",
        }
