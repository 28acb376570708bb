"""Import boundaries (GeoJSON or ESRI shapefile) for existing units by code, as new versions from a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import shapefile
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from dispatch.db import Conn
from dispatch.errors import Invalid


@dataclass(frozen=True)
class Boundary:
    """One feature: the unit's code and its polygon."""

    code: str
    geom: BaseGeometry


class BadBoundaryFile(Invalid):
    """The file cannot be imported; `problems` names each bad feature."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(problems[:5]))
        self.problems = problems


def _features(path: Path) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    if path.suffix.lower() == ".shp":
        with shapefile.Reader(str(path)) as reader:
            return [(rec.record.as_dict(), rec.shape.__geo_interface__) for rec in reader.iterShapeRecords()]
    data = orjson.loads(path.read_bytes())
    return [(f.get("properties") or {}, f.get("geometry")) for f in data.get("features", [])]


def read_polygon(geometry: dict[str, Any] | None) -> tuple[BaseGeometry | None, str]:
    """A feature's valid lon/lat polygon, or None and what is wrong with it."""
    try:
        geom = shape(geometry) if geometry else None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, ShapelyError) as exc:
        return None, f"geometry unreadable: {exc}"
    if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        return None, "geometry must be a non-empty polygon"
    if not geom.is_valid:
        return None, f"invalid polygon: {shapely.is_valid_reason(geom)}"
    if not (geom.bounds[0] >= 73 and geom.bounds[2] <= 135.5 and geom.bounds[1] >= 3.5 and geom.bounds[3] <= 54):
        return None, "coordinates are not lon/lat in China (EPSG:4326/4490 expected)"
    return geom, ""


def read_boundaries(path: Path, code_field: str = "code") -> list[Boundary]:
    """Every feature's code and valid polygon, or BadBoundaryFile naming each bad feature."""
    try:
        features = _features(path)
    except (OSError, ValueError, shapefile.ShapefileException) as exc:
        raise BadBoundaryFile([f"{path.name}: cannot be read: {exc}"]) from exc
    problems: list[str] = []
    found: list[Boundary] = []
    for n, (props, geometry) in enumerate(features, start=1):
        code = str(props.get(code_field, "")).strip()
        where = f"feature {n} ({code or 'no code'})"
        if not code.isdigit() or len(code) not in (6, 9, 12):
            problems.append(f"{where}: `{code_field}` must be a 6, 9 or 12-digit division code")
            continue
        geom, problem = read_polygon(geometry)
        if geom is None:
            problems.append(f"{where}: {problem}")
        else:
            found.append(Boundary(code, geom))
    if problems:
        raise BadBoundaryFile(problems)
    return found


async def store_boundaries(conn: Conn, boundaries: list[Boundary], valid_from: date) -> int:
    """End each unit's current version at `valid_from` and start one with the new boundary; all or nothing."""
    codes = [b.code for b in boundaries]
    current = {
        r["code"]: r
        for r in await conn.fetch(
            "SELECT code, name, level, parent_code, statistical_only, valid_from FROM admin_units"
            " WHERE code = ANY($1::text[]) AND valid_to IS NULL",
            codes,
        )
    }
    missing = [c for c in codes if c not in current]
    if missing:
        raise BadBoundaryFile([f"unit {c} is not in the registry: import its division list first" for c in missing])
    late = [c for c in codes if current[c]["valid_from"] >= valid_from]
    if late:
        raise BadBoundaryFile(
            [f"unit {c} has a version from {current[c]['valid_from']}: use a later date" for c in late]
        )
    await conn.execute(
        "UPDATE admin_units SET valid_to = $2 WHERE code = ANY($1::text[]) AND valid_to IS NULL", codes, valid_from
    )
    await conn.executemany(
        "INSERT INTO admin_units (code, name, level, parent_code, statistical_only, synthetic_geometry, geom,"
        " valid_from) VALUES ($1,$2,$3,$4,$5,false,ST_Multi(ST_SetSRID(ST_GeomFromWKB($6),4326)),$7)",
        [
            (
                b.code,
                current[b.code]["name"],
                current[b.code]["level"],
                current[b.code]["parent_code"],
                current[b.code]["statistical_only"],
                shapely.to_wkb(b.geom),
                valid_from,
            )
            for b in boundaries
        ],
    )
    return len(boundaries)
