"""Check that children tile their parent: no gaps, no overlaps, nothing outside; errors name the child."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

RELATIVE_TOLERANCE = 1e-6
GRID = 1e-9  # degrees (~0.1 mm): a fixed precision keeps GEOS overlays robust on shared edges
METRES_PER_DEGREE = 111_320.0

FaultKind = Literal["invalid", "outside", "overlap", "gap", "empty"]


@dataclass(frozen=True)
class TilingFault:
    """One way children fail to tile their parent: the child at fault (the parent for a gap), the other child of an
    overlap or the children beside a gap, the area in square degrees and where it lies (lon, lat)."""

    kind: FaultKind
    code: str
    area: float = 0.0
    other: tuple[str, ...] = ()
    where: tuple[float, float] | None = None
    reason: str = ""

    @property
    def square_metres(self) -> float:
        """The area in square metres, near enough at its latitude."""
        lat = self.where[1] if self.where else 0.0
        return self.area * METRES_PER_DEGREE**2 * math.cos(math.radians(lat))


def tiling_errors(parent_code: str, parent: BaseGeometry, children: Mapping[str, BaseGeometry]) -> list[str]:
    """Every way in which `children` fail to tile `parent`, each naming the child (or the parent for gaps)."""
    return [_message(parent_code, f) for f in tiling_faults(parent_code, parent, children)]


def _message(parent_code: str, f: TilingFault) -> str:
    if f.kind == "empty":
        return f"{parent_code} has no children"
    if f.kind == "invalid":
        return f"{f.code} is not a valid polygon: {f.reason}"
    if f.kind == "outside":
        return f"{f.code} extends {f.area:.3g} deg² outside {parent_code}"
    if f.kind == "overlap":
        return f"{f.code} overlaps {f.other[0]} by {f.area:.3g} deg²"
    return f"{parent_code} has {f.area:.3g} deg² covered by none of its children"


def tiling_faults(parent_code: str, parent: BaseGeometry, children: Mapping[str, BaseGeometry]) -> list[TilingFault]:
    """Every way in which `children` fail to tile `parent` beyond a millionth of its area."""
    if not children:
        return [TilingFault("empty", parent_code)]
    tolerance = parent.area * RELATIVE_TOLERANCE
    codes = sorted(children)
    geoms = [children[c] for c in codes]
    invalid = [
        TilingFault("invalid", c, reason=shapely.is_valid_reason(g))
        for c, g in zip(codes, geoms, strict=True)
        if not g.is_valid
    ]
    if invalid:
        return invalid
    faults: list[TilingFault] = []
    for code, geom in zip(codes, geoms, strict=True):
        outside = shapely.difference(geom, parent, grid_size=GRID)
        if outside.area > tolerance:
            faults.append(TilingFault("outside", code, outside.area, (parent_code,), _spot(outside)))
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            overlap = shapely.intersection(geoms[i], geoms[j], grid_size=GRID)
            if overlap.area > tolerance:
                faults.append(TilingFault("overlap", codes[i], overlap.area, (codes[j],), _spot(overlap)))
    gap = shapely.difference(parent, shapely.union_all(geoms, grid_size=GRID), grid_size=GRID)
    if gap.area > tolerance:
        beside = tree.query(gap, predicate="dwithin", distance=math.sqrt(tolerance) + GRID * 10)
        faults.append(
            TilingFault("gap", parent_code, gap.area, tuple(codes[k] for k in sorted(beside.tolist())), _spot(gap))
        )
    return faults


def _spot(area: BaseGeometry) -> tuple[float, float]:
    """A point inside an area, rounded to about a metre."""
    point = area.point_on_surface()
    return (round(point.x, 5), round(point.y, 5))
