"""What becomes of people when a plan applies: staff items first, then the default rule. Pure: no I/O.

The default rule: a duty post ends with its unit; a grid member follows their grids (their unit becomes the unit
of the same level holding their grids after the plan); anyone else serving an abolished unit is carried to its
successor (the unit it merged into, or for a divided unit the largest successor, listed for review) and into the
successor's team of the same kind, or is ended when there is no successor or no such team.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from core.plans import StaffItem
from dispatch.redistricting.model import Lineage, Unit


@dataclass(frozen=True)
class Serving:
    """A person in service at the plan's date, as the plan may change them."""

    id: str
    role: str
    unit: str
    team: str | None = None
    team_kind: str | None = None
    agency_type: str | None = None
    grids_after: tuple[str, ...] = ()
    """The grids their posts are on once the plan's grid moves are made, one per post."""


@dataclass(frozen=True)
class Team:
    """A team that exists on the plan's date."""

    id: str
    kind: str
    agency_type: str | None
    unit: str


@dataclass(frozen=True)
class Decision:
    """One person's fate: carried to a unit and team from the date, or ended; `review` says why a human should look."""

    person: str
    action: Literal["carry", "end"]
    unit: str | None = None
    team: str | None = None
    reason: str = ""
    review: str = ""
    by_item: bool = False


@dataclass
class StaffPlan:
    """Every decision of a plan, the staff items' errors, and what needs review."""

    decisions: list[Decision] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def review(self) -> list[str]:
        """One line per person left for a human to confirm."""
        return [f"{d.person}: {d.review}" for d in self.decisions if d.review]

    def counts(self) -> dict[str, int]:
        """People carried, ended and left for review, exactly."""
        tally = Counter(d.action for d in self.decisions)
        return {
            "people_carried": tally["carry"],
            "people_ended": tally["end"],
            "people_review": sum(1 for d in self.decisions if d.review),
        }


def successors(
    before: Mapping[str, Unit], after: Mapping[str, Unit], lineage: Iterable[Lineage]
) -> dict[str, list[str]]:
    """For each unit the plan abolishes, the units of its level that took its area, the largest share first: those
    its lineage names, else those its area overlaps."""
    named: dict[str, set[str]] = {}
    for e in lineage:
        named.setdefault(e.from_code, set()).add(e.to_code)
    found: dict[str, list[str]] = {}
    for code, old in before.items():
        if code in after:
            continue
        level = [u for u in after.values() if u.level == old.level]
        picked = [u for u in level if u.code in named.get(code, set())] or [
            u for u in level if old.geom.intersects(u.geom)
        ]
        shares = {u.code: old.geom.intersection(u.geom).area for u in picked}
        found[code] = sorted((c for c, a in shares.items() if a > 0 or len(shares) == 1), key=lambda c: (-shares[c], c))
    return found


def decide(
    people: Sequence[Serving],
    items: Mapping[str, StaffItem],
    abolished: Mapping[str, list[str]],
    teams: Sequence[Team],
) -> list[Decision]:
    """The fate of each person the plan touches; people the plan leaves where they are get no decision."""
    decisions: list[Decision] = []
    for person in people:
        item = items.get(person.id)
        if item is not None:
            decisions.append(_as_item(person, item, teams))
            continue
        found = _default(person, abolished, teams)
        if found is not None:
            decisions.append(found)
    return decisions


def _as_item(person: Serving, item: StaffItem, teams: Sequence[Team]) -> Decision:
    if item.end:
        return Decision(person.id, "end", reason="ended by a staff item", by_item=True)
    team = next((t for t in teams if t.id == item.team), None) if item.team else None
    unit = item.to or (team.unit if team else None)
    if team is None and person.team is not None:
        team = _same_team(person, unit or "", teams)
    return Decision(person.id, "carry", unit, team.id if team else None, "carried by a staff item", by_item=True)


def _default(person: Serving, abolished: Mapping[str, list[str]], teams: Sequence[Team]) -> Decision | None:
    gone = person.unit in abolished
    if person.role == "grid_member":
        return _follow_grids(person, abolished)
    if not gone:
        return None
    if person.role == "duty":
        return Decision(person.id, "end", reason=f"the duty post of {person.unit} ends with its unit")
    heirs = abolished[person.unit]
    if not heirs:
        return Decision(person.id, "end", reason=f"{person.unit} has no successor", review="ended: no successor")
    target = heirs[0]
    review = ""
    if len(heirs) > 1:
        review = f"{person.unit} was divided among {', '.join(heirs)}; carried to the largest, {target}"
    team = _same_team(person, target, teams) if person.team is not None else None
    if person.team is not None and team is None:
        why = f"{target} has no {person.agency_type or person.team_kind} team"
        return Decision(person.id, "end", reason=why, review=f"ended: {why}")
    return Decision(person.id, "carry", target, team.id if team else None, f"{person.unit} → {target}", review)


def _follow_grids(person: Serving, abolished: Mapping[str, list[str]]) -> Decision | None:
    """A grid member's unit becomes the unit of its level holding most of their grids after the plan."""
    digits = len(person.unit)
    units = Counter(g[:digits] for g in person.grids_after)
    if not units:
        if person.unit not in abolished:
            return None
        heirs = abolished[person.unit]
        if not heirs:
            return Decision(person.id, "end", reason=f"{person.unit} has no successor", review="ended: no grid left")
        return Decision(person.id, "carry", heirs[0], None, f"{person.unit} → {heirs[0]}", "no grid left")
    if person.unit in units:
        return None  # their unit still holds grids of theirs
    target = min(units, key=lambda c: (-units[c], c))
    review = f"their grids lie in {', '.join(sorted(units))}; carried to {target}" if len(units) > 1 else ""
    return Decision(person.id, "carry", target, None, f"their grids moved: {person.unit} → {target}", review)


def _same_team(person: Serving, unit: str, teams: Sequence[Team]) -> Team | None:
    """The team of `unit` of the kind (and agency) of the person's team."""
    return next(
        (
            t
            for t in sorted(teams, key=lambda t: t.id)
            if t.unit == unit and t.kind == person.team_kind and t.agency_type == person.agency_type
        ),
        None,
    )


def item_errors(
    index: int,
    item: StaffItem,
    person: Serving | None,
    county: str,
    units: Mapping[str, Unit],
    teams: Sequence[Team],
    day: str,
) -> list[str]:
    """What is wrong with a staff item: the person must serve in the plan's county, the target exist on the date."""
    at = f"staff {index + 1} ({item.person})"
    if person is None or not person.unit.startswith(county):
        return [f"{at}: {item.person} does not serve in county {county} on {day}"]
    errors: list[str] = []
    if item.to is not None and item.to not in units:
        errors.append(f"{at}: unit {item.to} does not exist on {day}")
    team = next((t for t in teams if t.id == item.team), None)
    if item.team is not None:
        if team is None:
            errors.append(f"{at}: team {item.team} does not exist on {day}")
        elif item.to is not None and team.unit != item.to:
            errors.append(f"{at}: team {item.team} serves {team.unit}, not {item.to}")
        elif person.team is None:
            errors.append(f"{at}: {item.person} is a {person.role}, who belongs to no team")
    elif person.team is not None and item.to is not None and _same_team(person, item.to, teams) is None:
        errors.append(f"{at}: {item.to} has no {person.agency_type or person.team_kind} team; name one in `team`")
    return errors


def predecessors(
    before: Mapping[str, Unit], after: Mapping[str, Unit], heirs: Mapping[str, list[str]]
) -> dict[str, str]:
    """Each township the plan creates and the township whose overrides it inherits: of the abolished townships it
    succeeds, else of all townships it took area from, the one it took most of its area from."""
    found: dict[str, str] = {}
    for code, unit in sorted(after.items()):
        if code in before or unit.level != "township":
            continue
        olds = [old for old, new in heirs.items() if code in new and before[old].level == "township"] or [
            old for old, u in before.items() if u.level == "township" and u.geom.intersects(unit.geom)
        ]
        shares = {old: before[old].geom.intersection(unit.geom).area for old in olds}
        if any(shares.values()):
            found[code] = max(shares, key=lambda o: (shares[o], o))
    return found
