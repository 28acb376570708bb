"""The grid network as the stream processors hold it in memory: grids, responsible parties, rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.vocabulary import PartyKind, Severity


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
    category: str | None = None
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
            and self.category in (None, category)
            and (self.min_severity is None or severity.rank >= self.min_severity.rank)
        )


@dataclass(frozen=True)
class Directory:
    """Who is responsible for what: grid members, duty posts, enforcement teams and agencies."""

    grid_members: dict[str, Party]
    duty_posts: dict[str, Party]
    enforcement_teams: dict[str, Party]
    agencies: dict[tuple[str, str], Party]
