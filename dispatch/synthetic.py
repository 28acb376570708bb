"""Deterministic synthetic township, village and grid polygons inside a real county outline."""

from __future__ import annotations

import csv
import heapq
import json
import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

Polygonal: TypeAlias = shapely.Polygon | shapely.MultiPolygon
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

STATISTICAL_MIN = "400"
COMMUNITY_MARKERS = ("社区", "居委会", "居民委员会", "居民委会员")
_VILLAGE_SUFFIX = re.compile(r"(?<=村)(村民委员会|村委会)$")
_COMMUNITY_SUFFIX = re.compile(r"(?<=社区)(居民委员会|居民委会员|居委会)$")
_MAX_CELLS = 600
_CELLS_PER_GRID = 3


@dataclass(frozen=True)
class Division:
    """One row of a divisions CSV: code, name, level and parent code."""

    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True)
class SyntheticUnit:
    """A township, village or grid with a synthetic polygon and synthetic household figures."""

    code: str
    name: str
    level: str
    parent_code: str
    polygon: Polygonal
    households: int
    population: int
    kind: str
    statistical_only: bool


def read_divisions(path: Path) -> list[Division]:
    """Read a divisions CSV with columns code,name,level,parent_code."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        return [
            Division(r["code"].strip(), r["name"].strip(), r["level"].strip(), r["parent_code"].strip())
            for r in csv.DictReader(f)
        ]


def load_county_outline(geojson_path: Path, county_code: str) -> Polygonal:
    """Return the outline of one county from a GeoJSON FeatureCollection keyed by property `code`."""
    data = json.loads(geojson_path.read_text(encoding="utf-8"))
    for feature in data["features"]:
        if str(feature["properties"].get("code")) == county_code:
            return _polygonal(shape(feature["geometry"]))
    raise KeyError(f"county {county_code} not in {geojson_path.name}")


def is_statistical_only(township_code: str) -> bool:
    """Tell whether a township code (9 or 12 digits) is a statistical area (township digits 400+)."""
    return township_code[6:9] >= STATISTICAL_MIN


def is_community(village_name: str) -> bool:
    """Tell whether a village-level name is an urban community (社区/居委会) rather than a village."""
    return any(marker in village_name for marker in COMMUNITY_MARKERS)


def short_name(village_name: str) -> str:
    """Drop the committee suffix: 张家村村民委员会 -> 张家村, 秦兴社区居民委员会 -> 秦兴社区."""
    return _COMMUNITY_SUFFIX.sub("", _VILLAGE_SUFFIX.sub("", village_name))


def grid_code(village_code: str, sequence: int) -> str:
    """Build a 15-digit grid code from a 12-digit village code and a 1-based sequence."""
    if len(village_code) != 12 or not village_code.isdigit() or not 1 <= sequence <= 999:
        raise ValueError(f"bad grid code parts {village_code!r}, {sequence}")
    return f"{village_code}{sequence:03d}"


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
    mesh = _mesh(parent, max(n + 2, min(_MAX_CELLS, n * cells_per_unit)), rng)
    labels = _split(mesh, np.arange(len(mesh.parts)), weights, rng)
    return [_merge(mesh.parts[labels == region]) for region in range(n)]


def generate_county(
    outline: Polygonal,
    divisions: list[Division],
    county_code: str,
    seed: int = 2020,
    households_per_grid: int = 300,
) -> list[SyntheticUnit]:
    """Generate townships, villages and grids of one county, tiling its outline, sorted by code."""
    if households_per_grid < 1:
        raise ValueError("households_per_grid must be positive")
    townships = sorted(
        (d for d in divisions if d.level == "township" and d.parent_code == county_code), key=lambda d: d.code
    )
    if not townships:
        raise ValueError(f"no townships of county {county_code} in the division list")
    villages: dict[str, list[Division]] = {t.code: [] for t in townships}
    for d in sorted(divisions, key=lambda d: d.code):
        if d.level == "village" and d.parent_code in villages:
            villages[d.parent_code].append(d)

    plans = {
        t.code: [_plan_village(v, is_statistical_only(t.code), seed, households_per_grid) for v in villages[t.code]]
        for t in townships
    }
    area = {t.code: sum(p.area_weight for p in plans[t.code]) for t in townships}
    typical = float(
        np.median([area[t.code] for t in townships if area[t.code] > 0 and not is_statistical_only(t.code)] or [1.0])
    )
    township_weights = []
    for t in townships:
        own = area[t.code] * float(stable_rng(seed, t.code, 1).uniform(0.8, 1.25))
        township_weights.append(max(own, typical) if is_statistical_only(t.code) or own == 0 else own)

    shapes = partition(outline, township_weights, stable_rng(seed, county_code), cells_per_unit=8)
    units: list[SyntheticUnit] = []
    for township, township_shape in zip(townships, shapes, strict=True):
        units.extend(_township_units(township, township_shape, plans[township.code], seed))
    units.sort(key=lambda u: u.code)
    return units


@dataclass(frozen=True)
class _VillagePlan:
    """A village's synthetic figures decided before its geometry: households, population, grids."""

    division: Division
    area_weight: float
    households: int
    population: int
    grid_weights: list[float]
    grid_kinds: list[str]


def _plan_village(village: Division, statistical: bool, seed: int, households_per_grid: int) -> _VillagePlan:
    """Draw a village's relative area, households and population and derive its grids."""
    rng = stable_rng(seed, village.code, 1)
    community = is_community(village.name)
    area_weight = (0.35 if community else 1.0) * float(rng.uniform(0.7, 1.4))
    households, population = _households(rng, community, statistical)
    count = min(999, max(1, math.ceil(households / households_per_grid)))
    grid_weights = rng.uniform(0.8, 1.25, count).tolist()
    draws = rng.random(count)
    if statistical:
        kinds = ["special"] * count
    elif community:
        kinds = ["commercial" if d < 0.2 else "residential" for d in draws]
    else:
        kinds = ["rural"] * count
    return _VillagePlan(village, area_weight, households, population, grid_weights, kinds)


def _township_units(
    township: Division, township_shape: Polygonal, plans: list[_VillagePlan], seed: int
) -> list[SyntheticUnit]:
    """Generate a township, its villages and their grids inside the township's polygon."""
    statistical = is_statistical_only(township.code)
    if not plans:
        rng = stable_rng(seed, township.code, 2)
        households, population = _households(rng, is_community(township.name), statistical)
        shape_ = _oriented(township_shape)
        kind = "special" if statistical else "rural"
        return [
            SyntheticUnit(
                township.code,
                township.name,
                "township",
                township.parent_code,
                shape_,
                households,
                population,
                "",
                statistical,
            ),
            SyntheticUnit(
                grid_code(township.code + "000", 1),
                f"{township.name}第1网格",
                "grid",
                township.code,
                shape_,
                households,
                population,
                kind,
                statistical,
            ),
        ]
    rng = stable_rng(seed, township.code)
    layout: list[tuple[_VillagePlan, Polygonal, _Piece | None]] = [(plans[0], township_shape, None)]
    if len(plans) > 1:
        mesh = _mesh(
            township_shape, max(6 * len(plans), _CELLS_PER_GRID * sum(len(p.grid_weights) for p in plans)), rng
        )
        labels = _split(mesh, np.arange(len(mesh.parts)), [p.area_weight for p in plans], rng)
        members = [np.flatnonzero(labels == i) for i in range(len(plans))]
        layout = [(plan, _merge(mesh.parts[m]), (mesh, m)) for plan, m in zip(plans, members, strict=True)]
    out = [
        SyntheticUnit(
            township.code,
            township.name,
            "township",
            township.parent_code,
            _oriented(township_shape),
            sum(p.households for p in plans),
            sum(p.population for p in plans),
            "",
            statistical,
        )
    ]
    for plan, village_shape, piece in layout:
        out.extend(_village_units(plan, village_shape, piece, statistical, seed))
    return out


def _village_units(
    plan: _VillagePlan, village_shape: Polygonal, piece: _Piece | None, statistical: bool, seed: int
) -> list[SyntheticUnit]:
    """Generate a village and its grids, reusing its parts of the township's mesh when there are enough."""
    village = plan.division
    count = len(plan.grid_weights)
    rng = stable_rng(seed, village.code)
    if count == 1:
        grid_shapes = [village_shape]
    elif piece is not None and len(piece[1]) >= count:
        mesh, members = piece
        labels = _split(mesh, members, plan.grid_weights, rng)
        grid_shapes = [_merge(mesh.parts[members[labels == g]]) for g in range(count)]
    else:
        grid_shapes = partition(village_shape, plan.grid_weights, rng)
    label = short_name(village.name)
    out = [
        SyntheticUnit(
            village.code,
            village.name,
            "village",
            village.parent_code,
            _oriented(village_shape),
            plan.households,
            plan.population,
            "",
            statistical,
        )
    ]
    for g, grid_shape in enumerate(grid_shapes):
        out.append(
            SyntheticUnit(
                grid_code(village.code, g + 1),
                f"{label}第{g + 1}网格",
                "grid",
                village.code,
                _oriented(grid_shape),
                _share(plan.households, count, g),
                _share(plan.population, count, g),
                plan.grid_kinds[g],
                statistical,
            )
        )
    return out


def _households(rng: np.random.Generator, community: bool, statistical: bool) -> tuple[int, int]:
    """Draw synthetic households and population: communities are larger, statistical areas tiny."""
    if statistical:
        households = int(rng.integers(30, 301))
    elif community:
        households = int(rng.integers(1500, 4001))
    else:
        households = int(rng.integers(200, 1501))
    return households, round(households * float(rng.uniform(2.3, 3.1)))


def _share(total: int, count: int, index: int) -> int:
    """Split an integer total into count near-equal integer shares and return share index."""
    return total // count + (1 if index < total % count else 0)


@dataclass(frozen=True)
class _Mesh:
    """Single-part Voronoi pieces that exactly cover a polygon, with centres, areas and neighbours."""

    parts: Any
    centres: FloatArray
    areas: FloatArray
    adjacency: list[list[int]]


_Piece: TypeAlias = "tuple[_Mesh, IntArray]"


def _mesh(parent: Polygonal, n: int, rng: np.random.Generator) -> _Mesh:
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
    return _Mesh(parts, centres, shapely.area(parts), _neighbours(parts))


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


def _split(mesh: _Mesh, members: IntArray, weights: Sequence[float], rng: np.random.Generator) -> IntArray:
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


def _merge(parts: Any) -> Polygonal:
    """Dissolve pieces of an exact coverage into one Polygon or MultiPolygon."""
    if len(parts) == 1:
        return _polygonal(parts[0])
    merged = shapely.coverage_union_all(parts)
    if not shapely.is_valid(merged):
        merged = shapely.union_all(parts)
    return _polygonal(merged, checked=True)


def _polygonal(geometry: Any, checked: bool = False) -> Polygonal:
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


def _oriented(geometry: Polygonal) -> Polygonal:
    """Orient exterior rings counter-clockwise and holes clockwise, as GeoJSON expects."""
    result: Polygonal = shapely.orient_polygons(geometry, exterior_cw=False)
    return result
