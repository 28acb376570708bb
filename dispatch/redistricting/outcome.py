"""A plan's working registry and the moves every operation is made of: villages moved whole, drawn areas moved,
grids carried or cut with every piece kept. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from dispatch.errors import Invalid
from dispatch.redistricting.model import Grid, Lineage, LineageKind, Rows, Unit

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


class ItemError(Invalid):
    """One item cannot be applied."""


def need(out: Outcome, code: str, level: str | None = None) -> Unit:
    """The unit as the plan has it so far, or the error naming why it is not there."""
    unit = out.units.get(code)
    if unit is None and code in out.gone:
        raise ItemError(f"unit {code} no longer exists on the plan's date: {out.gone[code]}")
    if unit is None:
        raise ItemError(f"unit {code} does not exist (or was already abolished by an earlier item)")
    if level is not None and unit.level != level:
        raise ItemError(f"{code} is a {unit.level}, not a {level}")
    return unit


def need_new(out: Outcome, code: str) -> None:
    """A code the plan gives a new unit must be free, and never have meant another unit."""
    if code in out.units:
        raise ItemError(f"code {code} is already in use")
    if code in out.gone:
        raise ItemError(f"code {code} belonged to a unit an applied plan ended ({out.gone[code]}): codes never return")


def drawn(geojson: dict[str, object], what: str) -> BaseGeometry:
    """A drawn area as a valid polygon, or the error saying what is wrong with it."""
    try:
        geom = shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ItemError(f"{what} is not a GeoJSON geometry: {exc}") from exc
    if geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.is_valid or geom.is_empty:
        raise ItemError(f"{what} must be a valid, non-empty polygon")
    return geom


def move_village(out: Outcome, code: str, new_code: str, name: str | None = None) -> None:
    """A village moves whole under `new_code`: it takes the code when free (recoded), or joins the village that
    already has it (merged); its grids follow with the receiving village's next codes."""
    unit = need(out, code, "village")
    if new_code == code:
        raise ItemError(f"village {code} would move onto its own code")
    township = out.units.get(new_code[:9])
    if township is None or township.level != "township":
        raise ItemError(f"{new_code} would lie in township {new_code[:9]}, which does not exist")
    target = out.units.get(new_code)
    if target is None:
        need_new(out, new_code)
    elif target.level != "village":
        raise ItemError(f"{new_code} is a {target.level}, not a village")
    del out.units[code]
    if target is None:
        out.units[new_code] = replace(unit, code=new_code, parent=new_code[:9], name=name or unit.name)
        out.lineage.append(Lineage(code, new_code, "recoded_to", "village"))
    else:
        geom = shapely.union_all([target.geom, unit.geom])
        out.units[new_code] = replace(target, geom=geom, name=name or target.name)
        out.lineage.append(Lineage(code, new_code, "merged_into", "village"))
    move_grids(out, [code], new_code)


def move_area(out: Outcome, source_code: str, target_code: str, area: BaseGeometry) -> None:
    """A drawn area of one village moves into another (of any township); grids it cuts keep every piece."""
    source, target = need(out, source_code, "village"), need(out, target_code, "village")
    if source_code == target_code:
        raise ItemError(f"the drawn area would move from {source_code} into itself")
    if area.difference(source.geom).area > area.area * 1e-6:
        raise ItemError(f"the drawn area is not inside village {source_code}")
    if area.area >= source.geom.area * (1 - 1e-6):
        raise ItemError(f"the drawn area is all of {source_code}: merge or move the village instead")
    out.units[source_code] = replace(source, geom=source.geom.difference(area))
    out.units[target_code] = replace(target, geom=shapely.union_all([target.geom, area]))
    share = {"area": round(area.area / source.geom.area, 4)}
    out.lineage.append(Lineage(source_code, target_code, "part_transferred_to", "village", share))
    cut_grids(out, source_code, [(target_code, area)], keep_rest=True)


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


def move_grids(out: Outcome, villages: list[str], into: str) -> None:
    """The villages' grids move whole into `into`, each with its next code."""
    moving = sorted((g for g in out.grids.values() if g.village in villages), key=lambda g: g.code)
    for grid in moving:
        del out.grids[grid.code]
        _renumber(out, grid, into, "recoded_to")


def cut_grids(out: Outcome, village: str, parts: list[tuple[str, BaseGeometry]], keep_rest: bool) -> None:
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
    households, population = apportion(grid.households, weights), apportion(grid.population, weights)
    return [
        replace(grid, geom=geom, households=h, population=p)
        for geom, h, p in zip(geoms, households, population, strict=True)
    ]


def apportion(total: int, weights: list[float]) -> list[int]:
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
