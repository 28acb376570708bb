"""Check that children tile their parent: no gaps, no overlaps, nothing outside; errors name the child."""

from __future__ import annotations

from collections.abc import Mapping

import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

RELATIVE_TOLERANCE = 1e-6
GRID = 1e-9  # degrees (~0.1 mm): a fixed precision keeps GEOS overlays robust on shared edges


def tiling_errors(parent_code: str, parent: BaseGeometry, children: Mapping[str, BaseGeometry]) -> list[str]:
    """Every way in which `children` fail to tile `parent`, each naming the child (or the parent for gaps)."""
    if not children:
        return [f"{parent_code} has no children"]
    tolerance = parent.area * RELATIVE_TOLERANCE
    codes = sorted(children)
    geoms = [children[c] for c in codes]
    errors = [
        f"{c} is not a valid polygon: {shapely.is_valid_reason(g)}"
        for c, g in zip(codes, geoms, strict=True)
        if not g.is_valid
    ]
    if errors:
        return errors
    for code, geom in zip(codes, geoms, strict=True):
        outside = shapely.difference(geom, parent, grid_size=GRID).area
        if outside > tolerance:
            errors.append(f"{code} extends {outside:.3g} deg² outside {parent_code}")
    tree = STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            overlap = shapely.intersection(geoms[i], geoms[j], grid_size=GRID).area
            if overlap > tolerance:
                errors.append(f"{codes[i]} overlaps {codes[j]} by {overlap:.3g} deg²")
    gap = shapely.difference(parent, shapely.union_all(geoms, grid_size=GRID), grid_size=GRID).area
    if gap > tolerance:
        errors.append(f"{parent_code} has {gap:.3g} deg² covered by none of its children")
    return errors
