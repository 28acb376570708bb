"""What a plan sees of the registry, and exactly the rows a plan writes. Pure types: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from shapely.geometry.base import BaseGeometry

LineageKind = Literal["merged_into", "recoded_to", "renamed", "part_transferred_to", "split_into", "divided_into"]


@dataclass(frozen=True)
class Unit:
    """A township or village as the plan sees it."""

    code: str
    name: str
    level: str
    parent: str
    geom: BaseGeometry
    statistical_only: bool = False


@dataclass(frozen=True)
class Grid:
    """A grid as the plan sees it; its code is its village's code plus a sequence number."""

    code: str
    name: str
    village: str
    geom: BaseGeometry
    kind: str
    households: int
    population: int


@dataclass(frozen=True)
class Lineage:
    """One edge of a unit's or grid's history."""

    from_code: str
    to_code: str
    kind: LineageKind
    level: str
    share: Mapping[str, object] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Rows:
    """Exactly what a plan writes at its effective date: the current rows it ends and the rows it starts."""

    units_ended: tuple[str, ...] = ()
    units_started: tuple[Unit, ...] = ()
    grids_ended: tuple[str, ...] = ()
    grids_started: tuple[Grid, ...] = ()

    def units_after(self, before: Mapping[str, Unit]) -> dict[str, Unit]:
        """The units valid from the effective date once these rows are written."""
        ended = set(self.units_ended)
        return {c: u for c, u in before.items() if c not in ended} | {u.code: u for u in self.units_started}

    def grids_after(self, before: Mapping[str, Grid]) -> dict[str, Grid]:
        """The grids valid from the effective date once these rows are written."""
        ended = set(self.grids_ended)
        return {c: g for c, g in before.items() if c not in ended} | {g.code: g for g in self.grids_started}


def unit_rows(before: Mapping[str, Unit], after: Mapping[str, Unit]) -> tuple[tuple[str, ...], tuple[Unit, ...]]:
    """The unit rows that end (abolished or changed) and start (new or changed): unchanged units write nothing."""
    changed = {c for c in before.keys() & after.keys() if not _same_unit(before[c], after[c])}
    ended = sorted(changed | (before.keys() - after.keys()))
    started = sorted(changed | (after.keys() - before.keys()))
    return tuple(ended), tuple(after[c] for c in started)


def grid_rows(before: Mapping[str, Grid], after: Mapping[str, Grid]) -> tuple[tuple[str, ...], tuple[Grid, ...]]:
    """The grid rows that end and start, as for units."""
    changed = {c for c in before.keys() & after.keys() if before[c] != after[c]}
    ended = sorted(changed | (before.keys() - after.keys()))
    started = sorted(changed | (after.keys() - before.keys()))
    return tuple(ended), tuple(after[c] for c in started)


def _same_unit(a: Unit, b: Unit) -> bool:
    return a == b or (
        (a.name, a.level, a.parent, a.statistical_only) == (b.name, b.level, b.parent, b.statistical_only)
        and a.geom.equals(b.geom)
    )
