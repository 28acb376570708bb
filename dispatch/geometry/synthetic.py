"""Deterministic synthetic township, village and grid polygons inside a real county outline."""

from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from shapely.geometry import shape

from dispatch.geometry.partition import (
    Piece,
    Polygonal,
    build_mesh,
    merge_parts,
    oriented,
    partition,
    polygonal,
    split_mesh,
    stable_rng,
)

STATISTICAL_MIN = "400"
COMMUNITY_MARKERS = ("社区", "居委会", "居民委员会", "居民委会员")
_VILLAGE_SUFFIX = re.compile(r"(?<=村)(村民委员会|村委会)$")
_COMMUNITY_SUFFIX = re.compile(r"(?<=社区)(居民委员会|居民委会员|居委会)$")
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
            return polygonal(shape(feature["geometry"]))
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
        shape_ = oriented(township_shape)
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
    layout: list[tuple[_VillagePlan, Polygonal, Piece | None]] = [(plans[0], township_shape, None)]
    if len(plans) > 1:
        mesh = build_mesh(
            township_shape, max(6 * len(plans), _CELLS_PER_GRID * sum(len(p.grid_weights) for p in plans)), rng
        )
        labels = split_mesh(mesh, np.arange(len(mesh.parts)), [p.area_weight for p in plans], rng)
        members = [np.flatnonzero(labels == i) for i in range(len(plans))]
        layout = [(plan, merge_parts(mesh.parts[m]), (mesh, m)) for plan, m in zip(plans, members, strict=True)]
    out = [
        SyntheticUnit(
            township.code,
            township.name,
            "township",
            township.parent_code,
            oriented(township_shape),
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
    plan: _VillagePlan, village_shape: Polygonal, piece: Piece | None, statistical: bool, seed: int
) -> list[SyntheticUnit]:
    """Generate a village and its grids, reusing its parts of the township's mesh when there are enough."""
    village = plan.division
    count = len(plan.grid_weights)
    rng = stable_rng(seed, village.code)
    if count == 1:
        grid_shapes = [village_shape]
    elif piece is not None and len(piece[1]) >= count:
        mesh, members = piece
        labels = split_mesh(mesh, members, plan.grid_weights, rng)
        grid_shapes = [merge_parts(mesh.parts[members[labels == g]]) for g in range(count)]
    else:
        grid_shapes = partition(village_shape, plan.grid_weights, rng)
    label = short_name(village.name)
    out = [
        SyntheticUnit(
            village.code,
            village.name,
            "village",
            village.parent_code,
            oriented(village_shape),
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
                oriented(grid_shape),
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
