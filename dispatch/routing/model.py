"""The grid network as the stream processors hold it in memory: grids, responsible parties, rules."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from core.cases import Actor
from core.categories import covers
from core.vocabulary import PartyKind, Severity


def township_of(code: str) -> str | None:
    """The 9-digit township a unit or grid code lies in; None for a county or anything above."""
    head = code[:9]
    return head if len(head) == 9 and head.isdigit() and head[6:] != "000" else None


def successor_map(edges: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Lineage edges (from, to) as each code's successors."""
    found: dict[str, tuple[str, ...]] = {}
    for old, new in edges:
        if old != new:
            found[old] = (*found.get(old, ()), new)
    return found


def townships_served(unit_code: str, grids: Iterable[str], successors: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """The townships a person may report from: their unit's, its successors' after redistricting, and those of the
    grids they hold; empty for a unit above the township (a county supervisor is not bound to one township)."""
    home = township_of(unit_code)
    if home is None:
        return frozenset()
    found = {home, *(t for g in grids if (t := township_of(g)) is not None)}
    todo, seen = [unit_code, f"{home}000"], set[str]()
    while todo:
        code = todo.pop()
        if code in seen:
            continue
        seen.add(code)
        for new in successors.get(code, ()):
            todo.append(new)
            if (t := township_of(new)) is not None:
                found.add(t)
    return frozenset(found)


def valid_on(valid_from: date, valid_to: date | None, day: date) -> bool:
    """Whether a record with these effective dates applies on `day` (valid_to is exclusive)."""
    return valid_from <= day and (valid_to is None or day < valid_to)


@dataclass(frozen=True)
class GridRef:
    """A grid and the units it lies in."""

    code: str
    name: str
    village_code: str
    township_code: str
    township_name: str
    county_code: str
    valid_from: date
    valid_to: date | None = None


@dataclass(frozen=True)
class Party:
    """Someone a case can be dispatched to."""

    kind: PartyKind
    id: str
    name: str
    agency_type: str | None = None


@dataclass(frozen=True)
class RoutingRule:
    """One row of the routing table: what it matches, whom it sends to, and the SLA it sets."""

    id: int
    unit_code: str
    position: int
    target: PartyKind
    sla_hours: int
    event_type: str | None = None
    category: str | None = None  # a 大类 takes in all its 小类
    min_severity: Severity | None = None
    agency_type: str | None = None
    priority: Severity | None = None
    valid_from: date = date(1900, 1, 1)
    valid_to: date | None = None

    def matches(self, event_type: str, category: str, severity: Severity, day: date) -> bool:
        """Whether this rule applies to an event of this kind on this day."""
        return (
            valid_on(self.valid_from, self.valid_to, day)
            and self.event_type in (None, event_type)
            and covers(self.category, category)
            and (self.min_severity is None or severity.rank >= self.min_severity.rank)
        )


@dataclass(frozen=True)
class Person:
    """A person serving on the snapshot's day, as a command's actor must match them, and where they report from."""

    id: str
    role: str
    unit_code: str
    team_id: str | None = None
    townships: frozenset[str] = frozenset()

    def as_actor(self) -> Actor:
        """The actor this person acts as."""
        return Actor(id=self.id, role=self.role, unit_code=self.unit_code, team_id=self.team_id)


@dataclass(frozen=True)
class Directory:
    """Who is responsible for what (grid members, duty posts, enforcement teams, agencies) and who serves."""

    grid_members: dict[str, Party]
    duty_posts: dict[str, Party]
    enforcement_teams: dict[str, Party]
    agencies: dict[tuple[str, str], Party]
    people: dict[str, Person] = field(default_factory=dict)
