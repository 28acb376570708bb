"""Find the grid a point lies in, in memory, with a shapely STRtree over the grid polygons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from dispatch.registry_model import GridRef, valid_on


class GridIndex:
    """An immutable spatial index of every grid version; rebuilt, not mutated, when boundaries change."""

    def __init__(self, grids: Sequence[tuple[GridRef, BaseGeometry]], revision: int = 0) -> None:
        self.revision = revision
        self._refs = [ref for ref, _ in grids]
        geoms = [geom for _, geom in grids]
        for geom in geoms:
            shapely.prepare(geom)
        self._tree = STRtree(geoms)

    def __len__(self) -> int:
        return len(self._refs)

    def locate(self, lon: float, lat: float, day: date) -> GridRef | None:
        """The grid covering the point on `day`; on a shared edge, the lowest grid code wins."""
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        found = [self._refs[i] for i in hits if valid_on(self._refs[i].valid_from, self._refs[i].valid_to, day)]
        return min(found, key=lambda ref: ref.code) if found else None
