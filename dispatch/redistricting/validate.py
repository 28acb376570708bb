"""Validate a redistricting plan against the registry and compute the registry after it. Pure: no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from core.plans import Merge, PlanItem, Recode, RedistrictingPlan, Rename, Split, TransferPart
from dispatch.errors import Invalid, Loc
from dispatch.geometry.tiling import tiling_errors
from dispatch.redistricting.model import Grid, Lineage, LineageKind, Rows, Unit, grid_rows, unit_rows
from dispatch.redistricting.registry_check import county_errors

__all__ = ["Grid", "Lineage", "Outcome", "PlanInvalid", "Rows", "Unit", "apply_plan", "plan_error_loc"]

SLIVER = 1e-6  # a piece smaller than this share of its grid is not a piece


@dataclass
class Outcome:
    """The registry after the plan, what changed, exactly the rows to write, and every validation error."""

    units: dict[str, Unit]
    grids: dict[str, Grid]
    lineage: list[Lineage] = field(default_factory=list)
    changed_units: set[str] = field(default_factory=set)
    grid_pieces: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)
    gone: dict[str, str] = field(default_factory=dict)
    rows: Rows = field(default_factory=Rows)
    counts: dict[str, int] = field(default_factory=dict)
    staff_review: list[str] = field(default_factory=list)

    def post_moves(self) -> dict[str, str]:
        """Where the members of each ended grid go: a remainder keeping the code keeps them, else the largest piece."""
        moves: dict[str, str] = {}
        for old, pieces in self.grid_pieces.items():
            standing = self._standing(old)
            if old not in pieces and standing:
                moves[old] = max(standing, key=lambda code: (self.grids[code].geom.area, code))
        return moves

    def _standing(self, code: str, depth: int = 0) -> list[str]:
        """The grids a code ends up as, following pieces that later items moved or cut again."""
        pieces = self.grid_pieces.get(code)
        if pieces is None or code in pieces or depth > 20:
            return [code] if code in self.grids else []
        return [found for piece in dict.fromkeys(pieces) for found in self._standing(piece, depth + 1)]


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
            _apply_item(out, item, label)
        except ItemError as exc:
            out.errors.append(f"{label}: {exc}")
    if not out.errors:
        _finish(out, units, grids, plan.county, county_geom)
    return out


class ItemError(Invalid):
    """One item cannot be applied."""


def _need(out: Outcome, code: str, level: str | None = None) -> Unit:
    unit = out.units.get(code)
    if unit is None and code in out.gone:
        raise ItemError(f"unit {code} no longer exists on the plan's date: {out.gone[code]}")
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
    _cut_grids(out, item.code, parts, keep_rest=False)


def _next_sequence(out: Outcome, village: str) -> int:
    """After the highest sequence the village ever used, so a code never comes back with another meaning."""
    used = [int(code[12:]) for code in out.taken if code[:12] == village]
    return max(used, default=0) + 1


def _renumber(out: Outcome, old: Grid, village: str, kind: LineageKind, piece: Grid | None = None) -> None:
    """Give a grid (or a piece of one) the next code of `village`, with its lineage edge."""
    seq = _next_sequence(out, village)
    code = f"{village}{seq:03d}"
    village_name = out.units[village].name if village in out.units else village
    out.grids[code] = replace(piece or old, code=code, village=village, name=f"{village_name}第{seq}网格")
    out.taken.add(code)
    out.lineage.append(Lineage(old.code, code, kind, "grid"))
    out.grid_pieces.setdefault(old.code, []).append(code)


def _move_grids(out: Outcome, villages: list[str], into: str) -> None:
    moving = sorted((g for g in out.grids.values() if g.village in villages), key=lambda g: g.code)
    for grid in moving:
        del out.grids[grid.code]
        _renumber(out, grid, into, "recoded_to")


def _cut_grids(out: Outcome, village: str, parts: list[tuple[str, BaseGeometry]], keep_rest: bool) -> None:
    """Cut the village's grids along the parts: every piece stays a grid, with an edge from the old grid to it.

    The remainder of a grid that keeps its village keeps its code; a piece in another village takes that
    village's next code. A grid that moves whole is recoded, not split."""
    for grid in sorted((g for g in out.grids.values() if g.village == village), key=lambda g: g.code):
        pieces = [(code, _polygonal(grid.geom.intersection(geom))) for code, geom in parts]
        pieces = [(c, p) for c, p in pieces if p.area > grid.geom.area * SLIVER]
        if not pieces:
            continue
        rest = _polygonal(grid.geom.difference(shapely.union_all([p for _, p in pieces]))) if keep_rest else None
        kept = rest is not None and rest.area > grid.geom.area * SLIVER
        geoms = [p for _, p in pieces] + ([rest] if kept and rest is not None else [])
        shares = _shares(grid, geoms)
        del out.grids[grid.code]
        whole = len(geoms) == 1
        if kept and rest is not None:
            out.grids[grid.code] = shares[-1]
            out.lineage.append(Lineage(grid.code, grid.code, "split_into", "grid"))
            out.grid_pieces.setdefault(grid.code, []).append(grid.code)
        for (code, _), share in zip(pieces, shares, strict=False):
            _renumber(out, grid, code, "recoded_to" if whole else "split_into", share)


def _shares(grid: Grid, geoms: list[BaseGeometry]) -> list[Grid]:
    """The grid once per piece, its households and population divided by area, summing exactly to the grid's."""
    weights = [g.area for g in geoms]
    households, population = _apportion(grid.households, weights), _apportion(grid.population, weights)
    return [
        replace(grid, geom=geom, households=h, population=p)
        for geom, h, p in zip(geoms, households, population, strict=True)
    ]


def _apportion(total: int, weights: list[float]) -> list[int]:
    """`total` in whole shares proportional to `weights` (largest remainders), summing to `total`."""
    whole = sum(weights) or 1.0
    exact = [total * w / whole for w in weights]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type == "GeometryCollection":
        return shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    return geom


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
