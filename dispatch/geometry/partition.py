"""Splitting a polygon into contiguous pieces of given area shares: a Voronoi mesh of the polygon, grown into
regions from seeds; deterministic for a seeded generator."""

from __future__ import annotations

import heapq
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely

Polygonal: TypeAlias = shapely.Polygon | shapely.MultiPolygon
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MAX_CELLS = 600


def stable_rng(seed: int, key: str, stream: int = 0) -> np.random.Generator:
    """Return a generator seeded from the seed, a CRC32 of the key and a stream number."""
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8")), stream])


def partition(
    parent: Polygonal, weights: Sequence[float], rng: np.random.Generator, cells_per_unit: int = 6
) -> list[Polygonal]:
    """Split a polygon into len(weights) contiguous pieces with areas roughly proportional to weights."""
    n = len(weights)
    if n == 0:
        return []
    if n == 1:
        return [parent]
    mesh = build_mesh(parent, max(n + 2, min(MAX_CELLS, n * cells_per_unit)), rng)
    labels = split_mesh(mesh, np.arange(len(mesh.parts)), weights, rng)
    return [merge_parts(mesh.parts[labels == region]) for region in range(n)]


@dataclass(frozen=True)
class Mesh:
    """Single-part Voronoi pieces that exactly cover a polygon, with centres, areas and neighbours."""

    parts: Any
    centres: FloatArray
    areas: FloatArray
    adjacency: list[list[int]]


Piece: TypeAlias = "tuple[Mesh, IntArray]"
"""Some cells of a mesh: a region already drawn, to split further."""


def build_mesh(parent: Polygonal, n: int, rng: np.random.Generator) -> Mesh:
    """Cut a polygon into pieces: Voronoi cells of n relaxed random seeds, clipped and exploded."""
    if not shapely.area(parent) > 0:
        raise ValueError("cannot partition a polygon without area")
    kx = math.cos(math.radians(shapely.centroid(parent).y))
    seeds = _sample_points(parent, n, rng)
    cells = _clipped_cells(parent, seeds, kx)
    centroids = shapely.get_coordinates(shapely.centroid(cells))
    if len(centroids) == len(seeds):  # one Lloyd step, keeping seeds whose centroid left the parent
        inside = shapely.contains_xy(parent, centroids[:, 0], centroids[:, 1])
        cells = _clipped_cells(parent, np.where(inside[:, None], centroids, seeds), kx)
    parts = shapely.get_parts(cells)
    parts = parts[shapely.area(parts) > 0]
    centres = shapely.get_coordinates(shapely.centroid(parts)) * np.array([kx, 1.0])
    return Mesh(parts, centres, shapely.area(parts), _neighbours(parts))


def _sample_points(parent: Polygonal, n: int, rng: np.random.Generator) -> FloatArray:
    """Draw n uniform random points inside a polygon by rejection from its bounding box."""
    minx, miny, maxx, maxy = parent.bounds
    fill = max(float(shapely.area(parent)) / max((maxx - minx) * (maxy - miny), 1e-300), 0.01)
    shapely.prepare(parent)
    found: list[FloatArray] = []
    have = 0
    while have < n:
        batch = max(16, int(1.5 * (n - have) / fill))
        xy = np.column_stack([rng.uniform(minx, maxx, batch), rng.uniform(miny, maxy, batch)])
        xy = xy[shapely.contains_xy(parent, xy[:, 0], xy[:, 1])]
        found.append(xy)
        have += len(xy)
    return np.concatenate(found)[:n]


def _clipped_cells(parent: Polygonal, seeds: FloatArray, kx: float) -> Any:
    """Return the Voronoi cells of the seeds (computed with x scaled by kx) clipped to the parent."""
    scale = np.array([kx, 1.0])
    points = shapely.multipoints(seeds * scale)
    frame = shapely.transform(shapely.envelope(parent), lambda c: c * scale)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=frame, ordered=True))
    cells = shapely.transform(cells, lambda c: c / scale)
    shapely.prepare(parent)
    edge = ~shapely.contains_properly(parent, cells)
    cells[edge] = shapely.intersection(cells[edge], parent)
    return cells[~shapely.is_empty(cells)]


def _neighbours(parts: Any) -> list[list[int]]:
    """List, for each part of an exact coverage, the parts sharing a boundary segment with it."""
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring[1:] == ring[:-1]
    start, end, part = coords[:-1][same_ring], coords[1:][same_ring], ring_part[ring[:-1][same_ring]]
    flip = (start[:, 0] > end[:, 0]) | ((start[:, 0] == end[:, 0]) & (start[:, 1] > end[:, 1]))
    segments = np.column_stack([np.where(flip[:, None], end, start), np.where(flip[:, None], start, end)])
    order = np.lexsort(segments.T[::-1])
    segments, part = segments[order], part[order]
    twin = np.all(segments[1:] == segments[:-1], axis=1) & (part[1:] != part[:-1])
    left, right = part[:-1][twin].tolist(), part[1:][twin].tolist()
    pairs = sorted({(min(a, b), max(a, b)) for a, b in zip(left, right, strict=True)})
    adjacency: list[list[int]] = [[] for _ in range(len(parts))]
    for a, b in pairs:
        adjacency[a].append(b)
        adjacency[b].append(a)
    return adjacency


def split_mesh(mesh: Mesh, members: IntArray, weights: Sequence[float], rng: np.random.Generator) -> IntArray:
    """Label the given mesh parts with len(weights) contiguous regions sized by the weights."""
    local = np.full(len(mesh.parts), -1, dtype=np.int64)
    local[members] = np.arange(len(members))
    adjacency = [[int(local[j]) for j in mesh.adjacency[g] if local[j] >= 0] for g in members.tolist()]
    if len(members) < len(weights):
        raise ValueError(f"{len(members)} mesh parts cannot make {len(weights)} regions")
    if not all(math.isfinite(w) and w > 0 for w in weights):
        raise ValueError("weights must be positive and finite")
    centres, areas = mesh.centres[members], mesh.areas[members]
    starts = _start_parts(centres, areas, len(weights), rng)
    return _grow(mesh.parts[members], centres, areas, adjacency, starts, np.asarray(weights, dtype=np.float64))


def _start_parts(centres: FloatArray, areas: FloatArray, n: int, rng: np.random.Generator) -> list[int]:
    """Pick n distinct, well spread parts by area-weighted k-means over part centres."""
    means = centres[np.sort(rng.choice(len(centres), n, replace=False))]
    previous = np.full(len(centres), -1)
    for _ in range(8):
        nearest = np.argmin(((centres[:, None, :] - means[None, :, :]) ** 2).sum(axis=2), axis=1)
        if np.array_equal(nearest, previous):
            break
        previous = nearest
        mass = np.bincount(nearest, weights=areas, minlength=n)
        used = mass > 0
        for axis in range(2):
            total = np.bincount(nearest, weights=areas * centres[:, axis], minlength=n)
            means[used, axis] = total[used] / mass[used]
    taken: set[int] = set()
    starts: list[int] = []
    for j in range(n):
        order = np.argsort(((centres - means[j]) ** 2).sum(axis=1), kind="stable")
        pick = next(int(i) for i in order if int(i) not in taken)
        taken.add(pick)
        starts.append(pick)
    return starts


def _grow(
    parts: Any,
    centres: FloatArray,
    areas: FloatArray,
    adjacency: list[list[int]],
    starts: list[int],
    weights: FloatArray,
) -> IntArray:
    """Grow regions from start parts over shared edges, feeding the least-filled region first."""
    targets = (weights / weights.sum() * areas.sum()).tolist()
    size = areas.tolist()
    xy = [(float(x), float(y)) for x, y in centres]
    owner = [-1] * len(parts)
    filled = [0.0] * len(starts)
    frontier: list[set[int]] = [set() for _ in starts]
    queue: list[tuple[float, int]] = []

    def take(region: int, part: int) -> None:
        owner[part] = region
        filled[region] += size[part]
        frontier[region].update(j for j in adjacency[part] if owner[j] < 0)
        heapq.heappush(queue, (filled[region] / targets[region], region))

    for region, part in enumerate(starts):
        take(region, part)
    remaining = len(parts) - len(starts)
    while remaining:
        if not queue:  # a detached piece (island): give it to the region of the nearest owned part
            loose = [i for i, o in enumerate(owner) if o < 0]
            piece = max(loose, key=lambda i: (size[i], -i))
            owned = np.array([i for i, o in enumerate(owner) if o >= 0])
            nearest = shapely.STRtree(parts[owned]).query_nearest(parts[piece], all_matches=False)
            take(owner[int(owned[int(nearest[0])])], piece)
            remaining -= 1
            continue
        ratio, region = heapq.heappop(queue)
        if ratio != filled[region] / targets[region]:  # stale entry: the region has grown since
            continue
        frontier[region] = {j for j in frontier[region] if owner[j] < 0}
        if not frontier[region]:
            continue
        x0, y0 = xy[starts[region]]
        take(region, min(frontier[region], key=lambda j: ((xy[j][0] - x0) ** 2 + (xy[j][1] - y0) ** 2, j)))
        remaining -= 1
    return np.array(owner, dtype=np.int64)


def merge_parts(parts: Any) -> Polygonal:
    """Dissolve pieces of an exact coverage into one Polygon or MultiPolygon."""
    if len(parts) == 1:
        return polygonal(parts[0])
    merged = shapely.coverage_union_all(parts)
    if not shapely.is_valid(merged):
        merged = shapely.union_all(parts)
    return polygonal(merged, checked=True)


def polygonal(geometry: Any, checked: bool = False) -> Polygonal:
    """Return a valid Polygon or MultiPolygon, dropping stray lines and points."""
    if isinstance(geometry, shapely.Polygon | shapely.MultiPolygon) and (checked or shapely.is_valid(geometry)):
        return geometry
    if not shapely.is_valid(geometry):
        geometry = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    polygons: list[shapely.Polygon] = []
    pending = [geometry]
    while pending:
        item = pending.pop()
        if isinstance(item, shapely.Polygon):
            if not item.is_empty:
                polygons.append(item)
        elif isinstance(item, shapely.MultiPolygon | shapely.GeometryCollection):
            pending.extend(reversed(shapely.get_parts(item).tolist()))
    if not polygons:
        raise ValueError("geometry has no polygonal part")
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def oriented(geometry: Polygonal) -> Polygonal:
    """Orient exterior rings counter-clockwise and holes clockwise, as GeoJSON expects."""
    result: Polygonal = shapely.orient_polygons(geometry, exterior_cw=False)
    return result
