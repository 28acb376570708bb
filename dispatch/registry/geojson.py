"""Registry reads of the command centre: grids and units as GeoJSON, and grids without a member."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from dispatch.clock import in_force

GRIDS_GEOJSON = f"""
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', g.code, 'geometry', ST_AsGeoJSON(g.geom, 6)::json,
    'properties', json_build_object(
        'code', g.code, 'name', g.name, 'kind', g.kind, 'households', g.households,
        'population', g.population,
        'village_code', g.village_code, 'village_name', v.name,
        'township_code', g.township_code, 'township_name', t.name,
        'member_name', CASE WHEN $3 THEN m.name END, 'synthetic', g.synthetic_geometry)) ORDER BY g.code),
    '[]'::json))::text
FROM grids g
LEFT JOIN LATERAL (SELECT name FROM admin_units a WHERE code = g.village_code AND {in_force("a")} LIMIT 1) v ON true
LEFT JOIN LATERAL (SELECT name FROM admin_units a WHERE code = g.township_code AND {in_force("a")} LIMIT 1) t ON true
LEFT JOIN LATERAL (
    SELECT p.name FROM grid_posts gp JOIN people p ON p.id = gp.person_id
    WHERE gp.grid_code = g.code AND {in_force("gp")} AND {in_force("p")}
    ORDER BY gp.post = 'full_time' DESC, gp.id LIMIT 1
) m ON true
WHERE {in_force("g")} AND ($1::text IS NULL OR g.township_code = $1) AND starts_with(g.code, $2)
"""

UNITS_GEOJSON = f"""
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', a.code, 'geometry', ST_AsGeoJSON(a.geom, 6)::json,
    'properties', json_build_object('code', a.code, 'name', a.name, 'level', a.level,
        'parent_code', a.parent_code, 'statistical_only', a.statistical_only,
        'synthetic', a.synthetic_geometry, 'label', regexp_replace(regexp_replace(a.name,
            '(村)?村民委员会$', '村'), '(社区)?居民委员会$', '社区'),
        'label_point', json_build_array(round(ST_X(l.point)::numeric, 6), round(ST_Y(l.point)::numeric, 6))))
        ORDER BY a.code), '[]'::json))::text
FROM admin_units a CROSS JOIN LATERAL (SELECT ST_PointOnSurface(a.geom) AS point) l
WHERE a.level = $1 AND {in_force("a")} AND a.geom IS NOT NULL
    AND (starts_with(a.code, $2) OR starts_with($2, a.code))
"""


async def grids_geojson(pool: asyncpg.Pool, township_code: str | None, area: str, names: bool = True) -> str:
    """Today's grids in `area` (a code prefix) as a GeoJSON FeatureCollection (text, built by PostGIS); with `names`
    false, members' names are null."""
    async with pool.acquire() as conn:
        text: str = await conn.fetchval(GRIDS_GEOJSON, township_code, area, names)
    return text


async def units_geojson(pool: asyncpg.Pool, level: str, area: str) -> str:
    """Today's admin units of one level in or above `area` as a GeoJSON FeatureCollection; each unit's
    `label_point` ([lon, lat], on its surface, never outside as a centroid may be) is where the map writes its
    `label`: the name as people say it (南丰村 for 南丰村村民委员会, 城关社区 for 城关社区居民委员会)."""
    async with pool.acquire() as conn:
        text: str = await conn.fetchval(UNITS_GEOJSON, level, area)
    return text


async def vacant_grids(pool: asyncpg.Pool, day: date, area: str = "") -> list[dict[str, Any]]:
    """Current grids in `area` with no member on `day`, with the village's or else the township's duty post."""
    rows = await pool.fetch(
        "SELECT g.code, g.name, g.village_code, g.township_code,"
        " coalesce(vd.id, td.id) AS fallback_id, coalesce(vd.name, td.name) AS fallback_name,"
        " CASE WHEN vd.id IS NOT NULL THEN 'village duty post' WHEN td.id IS NOT NULL THEN 'township duty post'"
        " END AS fallback"
        " FROM grids g"
        f" LEFT JOIN people vd ON vd.role = 'duty' AND vd.unit_code = g.village_code AND {in_force('vd', '$1')}"
        f" LEFT JOIN people td ON td.role = 'duty' AND td.unit_code = g.township_code AND {in_force('td', '$1')}"
        " WHERE g.valid_from <= $1 AND (g.valid_to IS NULL OR $1 < g.valid_to) AND starts_with(g.code, $2)"
        " AND NOT EXISTS ("
        "   SELECT 1 FROM grid_posts gp JOIN people p ON p.id = gp.person_id WHERE gp.grid_code = g.code"
        "   AND gp.valid_from <= $1 AND (gp.valid_to IS NULL OR $1 < gp.valid_to)"
        "   AND (p.valid_to IS NULL OR $1 < p.valid_to)) ORDER BY g.code",
        day,
        area,
    )
    return [dict(r.items()) for r in rows]
