"""Questions about the registry's past: who was responsible for a point on a day, what a code became."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from core.plans import PLAN_ADAPTER, RedistrictingPlan

RESPONSIBLE = """
SELECT g.code AS grid_code, g.name AS grid_name, g.village_code, g.township_code, g.valid_from, g.valid_to,
       (SELECT json_build_object('id', p.id, 'name', p.name) FROM grid_posts gp JOIN people p ON p.id = gp.person_id
        WHERE gp.grid_code = g.code AND gp.valid_from <= $3 AND (gp.valid_to IS NULL OR $3 < gp.valid_to)
        ORDER BY gp.post = 'full_time' DESC LIMIT 1) AS member,
       (SELECT json_build_object('id', t.id, 'name', t.name) FROM teams t
        WHERE t.unit_code = g.township_code AND t.kind = 'enforcement' AND t.valid_from <= $3
          AND (t.valid_to IS NULL OR $3 < t.valid_to) LIMIT 1) AS enforcement_team,
       (SELECT name FROM admin_units a WHERE a.code = g.township_code AND a.valid_from <= $3
          AND (a.valid_to IS NULL OR $3 < a.valid_to) LIMIT 1) AS township_name
FROM grids g
WHERE ST_Covers(g.geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
  AND g.valid_from <= $3 AND (g.valid_to IS NULL OR $3 < g.valid_to) AND starts_with(g.code, $4)
ORDER BY g.code LIMIT 1
"""

SUCCESSORS = """
WITH RECURSIVE chain(code, kind, plan_id, effective_date, share, depth) AS (
    SELECT to_code, kind, plan_id, effective_date, share, 1 FROM unit_lineage WHERE from_code = $1 AND to_code <> $1
  UNION
    SELECT l.to_code, l.kind, l.plan_id, l.effective_date, l.share, c.depth + 1
    FROM unit_lineage l JOIN chain c ON l.from_code = c.code WHERE l.to_code <> l.from_code AND c.depth < 20
)
SELECT code, kind, plan_id, effective_date, share, depth FROM chain ORDER BY depth, code
"""

EXPORT = {
    "township": "SELECT code, name, parent_code AS parent, synthetic_geometry AS synthetic, geom, '{}'::jsonb AS extra"
    " FROM admin_units WHERE level = 'township'"
    " AND parent_code = $1",
    "village": "SELECT code, name, parent_code AS parent, synthetic_geometry AS synthetic, geom, '{}'::jsonb AS extra"
    " FROM admin_units WHERE level = 'village'"
    " AND left(code, 6) = $1",
    "grid": "SELECT code, name, village_code AS parent, synthetic_geometry AS synthetic, geom,"
    " jsonb_build_object('kind', kind, 'households', households, 'population', population) AS extra"
    " FROM grids WHERE county_code = $1",
}


async def responsible_at(
    pool: asyncpg.Pool, lon: float, lat: float, day: date, area: str = ""
) -> dict[str, Any] | None:
    """The grid of `area` (a code prefix) covering the point on `day`, with its member and the township's
    enforcement team then."""
    row = await pool.fetchrow(RESPONSIBLE, lon, lat, day, area)
    return None if row is None else {k: (str(v) if isinstance(v, date) else v) for k, v in row.items()}


async def successors(pool: asyncpg.Pool, code: str) -> list[dict[str, Any]]:
    """Every unit or grid an old code became, nearest first, with the plan that did it and, where the operation
    recorded it, the share that went there (villages moved, fraction of the area)."""
    rows = await pool.fetch(SUCCESSORS, code)
    return [
        {**{k: v for k, v in r.items() if k != "share" or v is not None}, "effective_date": str(r["effective_date"])}
        for r in rows
    ]


async def known_code(pool: asyncpg.Pool, code: str) -> bool:
    """Whether a unit or grid ever had this code."""
    found = await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM admin_units WHERE code = $1) OR EXISTS (SELECT 1 FROM grids WHERE code = $1)",
        code,
    )
    return bool(found)


async def applied_plans(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every applied redistricting plan, newest effective date first, without its items."""
    rows = await pool.fetch(
        "SELECT plan_id, county, effective_date, legal_basis, title, applied_by, applied_at, transfers_done_at,"
        " jsonb_array_length(body -> 'items') AS items FROM redistricting_plans"
        " ORDER BY effective_date DESC, applied_at DESC"
    )
    return [dict(r.items()) for r in rows]


async def applied_plan(pool: asyncpg.Pool, plan_id: str) -> RedistrictingPlan | None:
    """The plan as it was applied."""
    body = await pool.fetchval("SELECT body FROM redistricting_plans WHERE plan_id = $1", plan_id)
    return None if body is None else PLAN_ADAPTER.validate_python(body)


async def export_geojson(pool: asyncpg.Pool, county: str, level: str, day: date) -> str:
    """One level of a county on `day` as a GeoJSON FeatureCollection; generated polygons say `synthetic`."""
    if level not in EXPORT:
        raise ValueError(f"level must be one of {', '.join(EXPORT)}")
    sql = (
        "SELECT json_build_object('type','FeatureCollection','features',coalesce(json_agg(json_build_object("
        "'type','Feature','geometry',ST_AsGeoJSON(x.geom,6)::json,'properties',json_build_object("
        "'code',x.code,'name',x.name,'parent',x.parent,'synthetic',x.synthetic)::jsonb || x.extra)"
        " ORDER BY x.code),'[]'::json))::text"
        f" FROM ({EXPORT[level]} AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)) x"
    )
    text: str = await pool.fetchval(sql, county, day)
    return text
