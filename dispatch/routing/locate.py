"""Find the grid a point lies in, in memory, with a shapely STRtree over the grid polygons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import shapely
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from dispatch.routing.model import GridRef, valid_on


class GridIndex:
    """An immutable spatial index of every grid version; rebuilt, not mutated, when boundaries change."""

    def __init__(
        self,
        grids: Sequence[tuple[GridRef, BaseGeometry]],
        revision: int = 0,
        successors: Mapping[str, str] | None = None,
    ) -> None:
        self.revision = revision
        self._refs = [ref for ref, _ in grids]
        self._successors = dict(successors or {})
        self._versions: dict[str, list[GridRef]] = {}
        for ref in self._refs:
            self._versions.setdefault(ref.code, []).append(ref)
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

    def locate_many(self, points: Sequence[tuple[float, float, date]]) -> list[GridRef | None]:
        """The grid covering each (lon, lat, day), with one vectorised query for the whole batch."""
        found: list[GridRef | None] = [None] * len(points)
        if not points or not self._refs:
            return found
        hits = self._tree.query(shapely.points([(lon, lat) for lon, lat, _ in points]), predicate="intersects")
        for i, j in zip(hits[0].tolist(), hits[1].tolist(), strict=True):
            ref, best = self._refs[j], found[i]
            if valid_on(ref.valid_from, ref.valid_to, points[i][2]) and (best is None or ref.code < best.code):
                found[i] = ref
        return found

    def version(self, code: str, day: date) -> GridRef | None:
        """The grid with this code as it was on `day`."""
        return next((r for r in self._versions.get(code, ()) if valid_on(r.valid_from, r.valid_to, day)), None)

    def current(self, code: str, day: date) -> GridRef | None:
        """The grid responsible on `day` for what grid `code` covered: itself, or its successor by lineage."""
        seen: set[str] = set()
        while code not in seen:
            seen.add(code)
            found = self.version(code, day)
            if found is not None:
                return found
            if code not in self._successors:
                return None
            code = self._successors[code]
        return None
