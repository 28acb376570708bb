"""Validate a redistricting plan against the registry and compute the registry after it. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

import shapely
from shapely.geometry.base import BaseGeometry

from core.plans import Create, Divide, Merge, PlanItem, Recode, RedistrictingPlan, Rename, Reparent, Split, TransferPart
from dispatch.errors import Invalid, Loc
from dispatch.geometry.tiling import tiling_errors
from dispatch.redistricting import operations
from dispatch.redistricting.model import Grid, Lineage, Rows, Unit, grid_rows, unit_rows
from dispatch.redistricting.outcome import (
    SLIVER,
    ItemError,
    Outcome,
    cut_grids,
    drawn,
    move_area,
    move_grids,
    need,
)
from dispatch.redistricting.registry_check import county_errors

__all__ = ["Grid", "ItemError", "Lineage", "Outcome", "PlanInvalid", "Rows", "Unit", "apply_plan", "plan_error_loc"]

ITEM = re.compile(r"^(item|staff) (\d+) \(")


def plan_error_loc(error: str) -> Loc:
    """Where a plan error points: the item it names (`item 3 (merge): …` is body.items.2, `staff 1 (…)` is
    body.staff.0), else the whole plan."""
    found = ITEM.match(error)
    if found is None:
        return ("body",)
    return ("body", "items" if found.group(1) == "item" else "staff", int(found.group(2)) - 1)


class PlanInvalid(Invalid):
    """The plan cannot be applied; the message lists every error, and each error points at its item."""

    kind = "plan_invalid"

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.fields = [(plan_error_loc(e), e) for e in errors]


def apply_plan(
    plan: RedistrictingPlan,
    county_geom: BaseGeometry,
    units: dict[str, Unit],
    grids: dict[str, Grid],
    taken: Iterable[str] = (),
    gone: Mapping[str, str] | None = None,
) -> Outcome:
    """Apply every item in order to a copy of the registry, compute the rows to write once, and check that the
    registry those rows make still tiles. `taken`: every grid code the county ever used (codes never return);
    `gone`: what became of units applied plans ended, to name them when an item refers to one."""
    out = Outcome(dict(units), dict(grids), taken={*taken, *grids}, gone=dict(gone or {}))
    for n, item in enumerate(plan.items, start=1):
        label = f"item {n} ({item.op})"
        try:
            _apply_item(out, item, plan.county)
        except ItemError as exc:
            out.errors.append(f"{label}: {exc}")
    if not out.errors:
        _finish(out, units, grids, plan.county, county_geom)
    return out


def _apply_item(out: Outcome, item: PlanItem, county: str) -> None:
    if isinstance(item, Rename):
        unit = need(out, item.code)
        out.units[item.code] = replace(unit, name=item.name)
        out.lineage.append(Lineage(item.code, item.code, "renamed", unit.level))
    elif isinstance(item, Recode):
        _recode(out, item)
    elif isinstance(item, Merge):
        _merge(out, item)
    elif isinstance(item, TransferPart):
        move_area(out, item.source, item.target, drawn(item.area, "area"))
    elif isinstance(item, Split):
        _split(out, item)
    elif isinstance(item, Create):
        operations.create(out, item, county)
    elif isinstance(item, Divide):
        operations.divide(out, item, county)
    elif isinstance(item, Reparent):
        operations.reparent(out, item)


def _recode(out: Outcome, item: Recode) -> None:
    unit = need(out, item.code, "village")
    if item.new_code in out.units:
        raise ItemError(f"new code {item.new_code} is already in use")
    del out.units[item.code]
    out.units[item.new_code] = replace(unit, code=item.new_code, parent=item.new_code[:9], name=item.name or unit.name)
    out.lineage.append(Lineage(item.code, item.new_code, "recoded_to", "village"))
    move_grids(out, [item.code], item.new_code)


def _merge(out: Outcome, item: Merge) -> None:
    if item.into in item.sources:
        raise ItemError(f"{item.into} cannot be merged into itself")
    sources = [need(out, code) for code in item.sources]
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
    if level == "village":
        move_grids(out, item.sources, item.into)


def _split(out: Outcome, item: Split) -> None:
    source = need(out, item.code, "village")
    parts = [(p.code, drawn(p.area, f"area of part {p.code}")) for p in item.parts]
    for code, _ in parts:
        if code in out.units and code != item.code:
            raise ItemError(f"part code {code} is already in use")
    problems = tiling_errors(item.code, source.geom, dict(parts))
    if problems:
        raise ItemError("the parts do not tile the village: " + "; ".join(problems))
    del out.units[item.code]
    for part, (code, geom) in zip(item.parts, parts, strict=True):
        out.units[code] = Unit(code, part.name, "village", code[:9], geom, source.statistical_only)
        share = {"area": round(geom.area / source.geom.area, 4)} if source.geom.area else None
        out.lineage.append(Lineage(item.code, code, "split_into", "village", share))
    cut_grids(out, item.code, parts, keep_rest=False)


def _finish(
    out: Outcome, units: dict[str, Unit], grids: dict[str, Grid], county: str, county_geom: BaseGeometry
) -> None:
    """Townships whose villages changed take their union; the rows to write are computed once, and the registry
    those rows make (not the one in memory) must tile."""
    for code in _reshaped_townships(out, units):
        unit = out.units.get(code)
        if unit is None or unit.level != "township":
            continue
        geom = shapely.union_all([u.geom for u in out.units.values() if u.level == "village" and u.parent == code])
        if geom.is_empty or shapely.symmetric_difference(geom, unit.geom).area > unit.geom.area * SLIVER:
            out.units[code] = replace(unit, geom=geom)
    units_ended, units_started = unit_rows(units, out.units)
    grids_ended, grids_started = grid_rows(grids, out.grids)
    out.rows = Rows(units_ended, units_started, grids_ended, grids_started)
    out.changed_units = {*units_ended, *(u.code for u in units_started)}
    out.errors += county_errors(county, county_geom, out.rows.units_after(units), out.rows.grids_after(grids))


def _reshaped_townships(out: Outcome, before: dict[str, Unit]) -> set[str]:
    """Townships that gained, lost or reshaped a village (a renamed village reshapes nothing)."""
    found: set[str] = set()
    for code in before.keys() | out.units.keys():
        versions = [u for u in (before.get(code), out.units.get(code)) if u is not None and u.level == "village"]
        if len(versions) < 2 or versions[0].parent != versions[1].parent or versions[0].geom is not versions[1].geom:
            found.update(u.parent for u in versions)
    return found
