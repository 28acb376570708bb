"""Validate a redistricting plan against the registry and compute the registry after it. Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from core.plans import Merge, PlanItem, Recode, RedistrictingPlan, Rename, Split, TransferPart
from dispatch.errors import Invalid, Loc
from dispatch.geometry.tiling import tiling_errors

LineageKind = Literal["merged_into", "recoded_to", "renamed", "part_transferred_to", "split_into"]


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


@dataclass
class Outcome:
    """The registry after the plan, what changed, and every validation error (each naming its item)."""

    units: dict[str, Unit]
    grids: dict[str, Grid]
    lineage: list[Lineage] = field(default_factory=list)
    changed_units: set[str] = field(default_factory=set)
    changed_grids: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def successor_grid(self, old_code: str) -> str:
        """The grid an old grid code became (itself when untouched)."""
        return self.changed_grids.get(old_code, old_code)


ITEM = re.compile(r"^item (\d+) \(")


def plan_error_loc(error: str) -> Loc:
    """Where a plan error points: the item it names (`item 3 (merge): …` is body.items.2), else the whole plan."""
    found = ITEM.match(error)
    return ("body", "items", int(found.group(1)) - 1) if found else ("body",)


class PlanInvalid(Invalid):
    """The plan cannot be applied; the message lists every error, and each error points at its item."""

    kind = "plan_invalid"

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.fields = [(plan_error_loc(e), e) for e in errors]


def apply_plan(
    plan: RedistrictingPlan, county_geom: BaseGeometry, units: dict[str, Unit], grids: dict[str, Grid]
) -> Outcome:
    """Apply every item in order to a copy of the registry, then check the result still tiles."""
    out = Outcome(dict(units), dict(grids))
    for n, item in enumerate(plan.items, start=1):
        label = f"item {n} ({item.op})"
        try:
            _apply_item(out, item, label)
        except ItemError as exc:
            out.errors.append(f"{label}: {exc}")
    if not out.errors:
        _finish(out, plan, county_geom)
    return out


class ItemError(Invalid):
    """One item cannot be applied."""


def _need(out: Outcome, code: str, level: str | None = None) -> Unit:
    unit = out.units.get(code)
    if unit is None:
        raise ItemError(f"unit {code} does not exist (or was already abolished by an earlier item)")
    if level is not None and unit.level != level:
        raise ItemError(f"{code} is a {unit.level}, not a {level}")
    return unit


def _apply_item(out: Outcome, item: PlanItem, label: str) -> None:
    if isinstance(item, Rename):
        unit = _need(out, item.code)
        out.units[item.code] = replace(unit, name=item.name)
        out.lineage.append(Lineage(item.code, item.code, "renamed", unit.level))
        out.changed_units.add(item.code)
    elif isinstance(item, Recode):
        _recode(out, item)
    elif isinstance(item, Merge):
        _merge(out, item)
    elif isinstance(item, TransferPart):
        _transfer_part(out, item)
    elif isinstance(item, Split):
        _split(out, item)


def _recode(out: Outcome, item: Recode) -> None:
    unit = _need(out, item.code, "village")
    if item.new_code in out.units:
        raise ItemError(f"new code {item.new_code} is already in use")
    del out.units[item.code]
    out.units[item.new_code] = replace(unit, code=item.new_code, parent=item.new_code[:9], name=item.name or unit.name)
    out.lineage.append(Lineage(item.code, item.new_code, "recoded_to", "village"))
    out.changed_units.update({item.code, item.new_code})
    _move_grids(out, [item.code], item.new_code)


def _merge(out: Outcome, item: Merge) -> None:
    if item.into in item.sources:
        raise ItemError(f"{item.into} cannot be merged into itself")
    sources = [_need(out, code) for code in item.sources]
    levels = {s.level for s in sources}
    if len(levels) != 1:
        raise ItemError(f"sources mix levels {sorted(levels)}")
    level = levels.pop()
    target = out.units.get(item.into)
    if target is None:
        if item.name is None:
            raise ItemError(f"{item.into} does not exist; give `name` to create it")
        parent = item.parent or (item.into[:9] if level == "village" else item.into[:6])
        target = Unit(item.into, item.name, level, parent, shapely.Polygon())
    elif target.level != level:
        raise ItemError(f"{item.into} is a {target.level}, the sources are {level}s")
    if level == "village" and (item.parent or target.parent) != item.into[:9]:
        raise ItemError(f"village {item.into} must lie in township {item.into[:9]}")
    geom = shapely.union_all([target.geom, *(s.geom for s in sources)])
    out.units[item.into] = replace(target, geom=geom)
    for s in sources:
        del out.units[s.code]
        out.lineage.append(Lineage(s.code, item.into, "merged_into", level))
    out.changed_units.update({item.into, *item.sources})
    if level == "village":
        _move_grids(out, item.sources, item.into)


def _area(geojson: dict[str, object], what: str) -> BaseGeometry:
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ItemError(f"{what} is not a GeoJSON geometry: {exc}") from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid or geom.is_empty:
        raise ItemError(f"{what} must be a valid, non-empty polygon")
    return geom


def _transfer_part(out: Outcome, item: TransferPart) -> None:
    source, target = _need(out, item.source, "village"), _need(out, item.target, "village")
    area = _area(item.area, "area")
    if area.difference(source.geom).area > area.area * 1e-6:
        raise ItemError(f"the drawn area is not inside village {item.source}")
    if area.area >= source.geom.area * (1 - 1e-6):
        raise ItemError(f"the drawn area is all of {item.source}: merge it instead")
    out.units[item.source] = replace(source, geom=source.geom.difference(area))
    out.units[item.target] = replace(target, geom=shapely.union_all([target.geom, area]))
    out.lineage.append(Lineage(item.source, item.target, "part_transferred_to", "village"))
    out.changed_units.update({item.source, item.target})
    _cut_grids(out, item.source, [(item.target, area)], keep_rest=True)


def _split(out: Outcome, item: Split) -> None:
    source = _need(out, item.code, "village")
    parts = [(p.code, _area(p.area, f"area of part {p.code}")) for p in item.parts]
    for code, _ in parts:
        if code in out.units and code != item.code:
            raise ItemError(f"part code {code} is already in use")
    problems = tiling_errors(item.code, source.geom, dict(parts))
    if problems:
        raise ItemError("the parts do not tile the village: " + "; ".join(problems))
    del out.units[item.code]
    for part, (code, geom) in zip(item.parts, parts, strict=True):
        out.units[code] = Unit(code, part.name, "village", code[:9], geom, source.statistical_only)
        out.lineage.append(Lineage(item.code, code, "split_into", "village"))
        out.changed_units.add(code)
    out.changed_units.add(item.code)
    _cut_grids(out, item.code, parts, keep_rest=False)


def _next_sequence(out: Outcome, village: str) -> int:
    used = [int(g[12:]) for g in out.grids if g[:12] == village]
    return max(used, default=0) + 1


def _renumber(out: Outcome, old: Grid, village: str, geom: BaseGeometry | None = None) -> None:
    seq = _next_sequence(out, village)
    code = f"{village}{seq:03d}"
    village_name = out.units[village].name if village in out.units else village
    out.grids[code] = replace(
        old, code=code, village=village, geom=geom if geom is not None else old.geom, name=f"{village_name}第{seq}网格"
    )
    out.lineage.append(Lineage(old.code, code, "recoded_to", "grid"))
    out.changed_grids[old.code] = code


def _move_grids(out: Outcome, villages: list[str], into: str) -> None:
    moving = sorted((g for g in out.grids.values() if g.village in villages), key=lambda g: g.code)
    for grid in moving:
        del out.grids[grid.code]
        _renumber(out, grid, into)


def _cut_grids(out: Outcome, village: str, parts: list[tuple[str, BaseGeometry]], keep_rest: bool) -> None:
    for grid in sorted((g for g in out.grids.values() if g.village == village), key=lambda g: g.code):
        pieces = [(code, grid.geom.intersection(geom)) for code, geom in parts]
        pieces = [(c, p) for c, p in pieces if p.area > grid.geom.area * 1e-6]
        if not pieces:
            continue
        if keep_rest:
            rest = grid.geom.difference(shapely.union_all([p for _, p in pieces]))
            if rest.area > grid.geom.area * 1e-6:
                out.grids[grid.code] = replace(grid, geom=_polygonal(rest))
                out.changed_grids[grid.code] = grid.code
            else:
                del out.grids[grid.code]
        else:
            del out.grids[grid.code]
        for code, piece in pieces:
            _renumber(out, grid, code, _polygonal(piece))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type == "GeometryCollection":
        return shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    return geom


def _finish(out: Outcome, plan: RedistrictingPlan, county_geom: BaseGeometry) -> None:
    """Townships take the union of their villages; then every level must still tile its parent."""
    villages_of: dict[str, dict[str, BaseGeometry]] = {}
    for unit in out.units.values():
        if unit.level == "village":
            if unit.parent not in out.units or out.units[unit.parent].level != "township":
                out.errors.append(
                    f"village {unit.code} lies in township {unit.parent}, which does not exist after "
                    "the plan: recode or merge it"
                )
            villages_of.setdefault(unit.parent, {})[unit.code] = unit.geom
    if out.errors:
        return
    for code, unit in list(out.units.items()):
        if unit.level == "township" and code in villages_of:
            geom = shapely.union_all(list(villages_of[code].values()))
            if not geom.equals(unit.geom):
                out.units[code] = replace(unit, geom=geom)
                out.changed_units.add(code)
    townships = {c: u.geom for c, u in out.units.items() if u.level == "township"}
    out.errors += tiling_errors(plan.county, county_geom, townships)
    for code, children in villages_of.items():
        out.errors += tiling_errors(code, out.units[code].geom, children)
    grids_of: dict[str, dict[str, BaseGeometry]] = {}
    for grid in out.grids.values():
        grids_of.setdefault(grid.village, {})[grid.code] = grid.geom
    for code, unit in out.units.items():
        if unit.level == "village":
            if code not in grids_of:
                out.errors.append(f"village {code} has no grid after the plan")
            else:
                out.errors += tiling_errors(code, unit.geom, grids_of[code])
