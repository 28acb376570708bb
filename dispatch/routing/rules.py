"""Decide who acts on a located event: township rules before county ones; within a unit the rule naming the event's
category most narrowly (小类, then 大类, then any), and among those the first in written order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from core.categories import specificity
from core.vocabulary import PartyKind, Severity
from dispatch.errors import NotFound
from dispatch.routing.model import Directory, GridRef, Party, RoutingRule


@dataclass(frozen=True)
class Routing:
    """The outcome of routing: the rule that matched and the party it names."""

    rule: RoutingRule
    party: Party
    fallback: str | None


class NoRoute(NotFound):
    """No rule matched, or the rule names a party that does not exist: the event needs a person."""


class RuleBook:
    """Routing rules grouped by the unit they are bound to, each group in its written order."""

    def __init__(self, rules: Iterable[RoutingRule], revision: int = 0) -> None:
        self.revision = revision
        self._by_unit: dict[str, list[RoutingRule]] = {}
        for rule in sorted(rules, key=lambda r: (r.unit_code, r.position, r.id)):
            self._by_unit.setdefault(rule.unit_code, []).append(rule)

    def first_match(
        self, units: Iterable[str], event_type: str, category: str, severity: Severity, day: date
    ) -> RoutingRule | None:
        """The matching rule of the most local unit that has one: the narrowest category, then the first written."""
        for unit in units:
            found = [r for r in self._by_unit.get(unit, ()) if r.matches(event_type, category, severity, day)]
            if found:
                return max(found, key=lambda r: specificity(r.category))  # max keeps the first of equals
        return None


def unit_chain(grid: GridRef) -> list[str]:
    """The units whose rules apply to a grid, most local first: township, county, city."""
    return [grid.township_code, grid.county_code, grid.county_code[:4] + "00"]


def route(
    grid: GridRef,
    book: RuleBook,
    directory: Directory,
    event_type: str,
    category: str,
    severity: Severity,
    day: date,
) -> Routing:
    """Pick the rule and resolve its target to a named party, with the duty-post fallback."""
    rule = book.first_match(unit_chain(grid), event_type, category, severity, day)
    if rule is None:
        raise NoRoute(f"no routing rule matches {event_type}/{category} in {grid.township_code}")
    if rule.target is PartyKind.GRID_MEMBER:
        member = directory.grid_members.get(grid.code)
        if member is not None:
            return Routing(rule, member, None)
        for unit, label in ((grid.village_code, "village duty post"), (grid.township_code, "township duty post")):
            duty = directory.duty_posts.get(unit)
            if duty is not None:
                return Routing(rule, duty, f"grid {grid.code} has no member: {label}")
        raise NoRoute(f"grid {grid.code} has no member and no duty post")
    if rule.target is PartyKind.ENFORCEMENT:
        team = directory.enforcement_teams.get(grid.township_code)
        if team is None:
            raise NoRoute(f"township {grid.township_code} has no enforcement team")
        return Routing(rule, team, None)
    agency = directory.agencies.get((grid.township_code, rule.agency_type or ""))
    if agency is None:
        raise NoRoute(f"township {grid.township_code} has no {rule.agency_type} agency")
    return Routing(rule, agency, None)
