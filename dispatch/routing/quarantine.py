"""Quarantine: which events and case commands go to the dead-letter topic instead of being acted on, and why."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from core.cases import Actor
from core.events import EventEnvelope
from core.vocabulary import Role
from dispatch.clock import local_day
from dispatch.routing.locate import GridIndex
from dispatch.routing.model import GridRef, Person, township_of

SYSTEM_PREFIX = "system:"
# Roles held by signed-in accounts rather than registry persons (an administrator acts as their account).
ACCOUNT_ROLES = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class Sighting:
    """An event already on record under some id: where it is recorded, and where and when it happened."""

    record: str
    lon: float
    lat: float
    occurred_at: datetime


class RecentSightings:
    """Events this worker placed lately, so an id reused before the case writer stored the first is still caught."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[UUID, Sighting] = OrderedDict()

    def remember(self, event: EventEnvelope) -> None:
        """Note an event just placed in a township, forgetting the oldest beyond capacity."""
        loc = event.location
        self._items[event.event_id] = Sighting("an event routed moments ago", loc.lon, loc.lat, event.occurred_at)
        self._items.move_to_end(event.event_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, event_id: UUID) -> Sighting | None:
        """The remembered event with this id, if any."""
        return self._items.get(event_id)


def unknown_type(detail: str) -> str:
    """The reason for a record of a type this build does not know."""
    return f"unknown event type {detail}"


def places(index: GridIndex, lon: float, lat: float, occurred_at: datetime, today: date) -> frozenset[str]:
    """The townships a point lies in: its grid's on the day it happened, and that grid's successor's today."""
    return places_of(index, index.locate(lon, lat, local_day(occurred_at)), today)


def places_of(index: GridIndex, grid: GridRef | None, today: date) -> frozenset[str]:
    """The townships of a grid already located: its own, and its successor's today."""
    if grid is None:
        return frozenset()
    now = index.current(grid.code, today)
    return frozenset(t for g in (grid, now) if g is not None and (t := township_of(g.township_code)) is not None)


def event_places(index: GridIndex, event: EventEnvelope, today: date) -> frozenset[str]:
    """The townships an event lies in (empty when it lies in no grid: the unrouted queue takes it)."""
    return places(index, event.location.lon, event.location.lat, event.occurred_at, today)


def foreign_reporter(event: EventEnvelope, people: Mapping[str, Person], where: frozenset[str]) -> str | None:
    """Why an event a township's person reports from another township is quarantined; None to route it.

    Reporters outside the registry (sensors, hotline tickets, citizens) and people above the township are not bound.
    """
    person = people.get(event.reporter.id)
    if person is None or not person.townships or not where or where & person.townships:
        return None
    return (
        f"coordinates in township {_codes(where)}, but reporter {person.id} ({person.role}) serves township "
        f"{_codes(person.townships)}"
    )


def forged_id(
    event: EventEnvelope, where: frozenset[str], seen: Iterable[Sighting], index: GridIndex, today: date
) -> str | None:
    """Why an event reusing the id of an event in another township is quarantined; None to route it.

    A re-delivery of the same event (or an event split off a case, published again) lies where it did the first
    time, so it is not quarantined.
    """
    if not where:
        return None
    for s in seen:
        if (s.lon, s.lat) == (event.location.lon, event.location.lat):
            continue
        theirs = places(index, s.lon, s.lat, s.occurred_at, today)
        if theirs and not theirs & where:
            return (
                f"forged event id: {event.event_id} already names an event in township {_codes(theirs)} "
                f"({s.record}); this one lies in township {_codes(where)}"
            )
    return None


def impostor(claimed: Actor, registered: Actor | None) -> str | None:
    """Why a case command's actor does not match the registry; None when it does.

    System processes are named `system:<process>`; a person must serve, in the role claimed, and a unit or team
    claimed must be theirs (a command that claims none is checked as the rules check it: it gains nothing). An
    account that is no registry person (an administrator's) is not the registry's to check.
    """
    if claimed.role == Role.SYSTEM:
        if claimed.id.startswith(SYSTEM_PREFIX):
            return None
        return f"actor {claimed.id} claims the system role, which only {SYSTEM_PREFIX}<process> actors have"
    if registered is None:
        if claimed.role in ACCOUNT_ROLES:
            return None
        return f"actor {claimed.id} is not a person serving today"
    if claimed.role != registered.role:
        return f"actor {claimed.id} claims role {claimed.role}, but the registry has them as {registered.role}"
    if claimed.unit_code is not None and claimed.unit_code != registered.unit_code:
        return f"actor {claimed.id} claims unit {claimed.unit_code}, but serves unit {registered.unit_code}"
    if claimed.team_id is not None and claimed.team_id != registered.team_id:
        return f"actor {claimed.id} claims team {claimed.team_id}, but is in team {registered.team_id or 'none'}"
    return None


def _codes(townships: frozenset[str]) -> str:
    return " or ".join(f"{t}000" for t in sorted(townships))
