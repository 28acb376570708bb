"""Queries the command centre reads: cases, grids and units as GeoJSON, and the person-facing queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from core.cases import CaseView
from dispatch.case_store import CASE_COLUMNS, case_from_row
from dispatch.scope import Scope


@dataclass(frozen=True)
class CaseFilter:
    """Filters of the case list; None means any."""

    state: str | None = None
    open_only: bool = False
    grid_code: str | None = None
    township_code: str | None = None
    category: str | None = None
    assignee: str | None = None
    overdue: bool = False
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    search: str | None = None
    limit: int = 200


async def list_cases(pool: asyncpg.Pool, f: CaseFilter, scope: Scope) -> list[CaseView]:
    """Cases within `scope` matching the filter, newest first."""
    args: list[object] = [
        f.state,
        f.open_only,
        f.grid_code,
        f.township_code,
        f.category,
        f.limit,
        f.assignee,
        f.overdue,
        f.opened_from,
        f.opened_to,
        f.search,
    ]
    reach = scope.case_sql(args)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {CASE_COLUMNS} FROM cases WHERE {reach} AND ($1::text IS NULL OR state = $1)"
            " AND (NOT $2 OR closed_at IS NULL)"
            " AND ($3::text IS NULL OR grid_code = $3) AND ($4::text IS NULL OR township_code = $4)"
            " AND ($5::text IS NULL OR category = $5) AND ($7::text IS NULL OR assignee_id = $7)"
            " AND (NOT $8 OR (closed_at IS NULL AND step_due_at < now()))"
            " AND ($9::timestamptz IS NULL OR opened_at >= $9) AND ($10::timestamptz IS NULL OR opened_at < $10)"
            " AND ($11::text IS NULL OR strpos(description, $11) > 0 OR grid_name = $11 OR id::text = $11)"
            " ORDER BY opened_at DESC, id LIMIT $6",
            *args,
        )
    return [case_from_row(r).view() for r in rows]


async def cases_reported_by(pool: asyncpg.Pool, reporter: str, limit: int, scope: Scope | None) -> list[CaseView]:
    """Cases holding an event this person reported (within `scope` unless it is the reporter's own list)."""
    args: list[object] = [reporter, limit]
    reach = scope.case_sql(args) if scope else "TRUE"
    rows = await pool.fetch(
        f"SELECT {CASE_COLUMNS} FROM cases WHERE id IN (SELECT case_id FROM case_events WHERE reporter_id = $1"
        f" AND split_at IS NULL) AND {reach} ORDER BY opened_at DESC LIMIT $2",
        *args,
    )
    return [case_from_row(r).view() for r in rows]


async def get_case(pool: asyncpg.Pool, case_id: UUID, scope: Scope) -> tuple[CaseView, list[dict[str, Any]]] | None:
    """A case within `scope` and its log, oldest entry first; None when there is none the user may see."""
    args: list[object] = [case_id]
    reach = scope.case_sql(args)
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {CASE_COLUMNS} FROM cases WHERE id = $1 AND {reach}", *args)
        if row is None:
            return None
        log = await conn.fetch(
            "SELECT seq, kind, actor_id, actor_role, at, payload, hash FROM case_log WHERE case_id = $1 ORDER BY seq",
            case_id,
        )
    return case_from_row(row).view(), [dict(r.items()) for r in log]


GRIDS_GEOJSON = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', g.code, 'geometry', ST_AsGeoJSON(g.geom, 6)::json,
    'properties', json_build_object(
        'code', g.code, 'name', g.name, 'kind', g.kind, 'households', g.households,
        'village_code', g.village_code, 'village_name', v.name,
        'township_code', g.township_code, 'township_name', t.name,
        'member_name', m.name, 'synthetic', g.synthetic_geometry)) ORDER BY g.code), '[]'::json))::text
FROM grids g
LEFT JOIN LATERAL (SELECT name FROM admin_units WHERE code = g.village_code ORDER BY valid_from DESC LIMIT 1) v
    ON true
LEFT JOIN LATERAL (SELECT name FROM admin_units WHERE code = g.township_code ORDER BY valid_from DESC LIMIT 1) t
    ON true
LEFT JOIN LATERAL (
    SELECT p.name FROM grid_posts gp JOIN people p ON p.id = gp.person_id
    WHERE gp.grid_code = g.code AND gp.valid_to IS NULL ORDER BY gp.post = 'full_time' DESC, gp.id LIMIT 1
) m ON true
WHERE g.valid_to IS NULL AND ($1::text IS NULL OR g.township_code = $1) AND starts_with(g.code, $2)
"""

UNITS_GEOJSON = """
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
    'type', 'Feature', 'id', a.code, 'geometry', ST_AsGeoJSON(a.geom, 6)::json,
    'properties', json_build_object('code', a.code, 'name', a.name, 'level', a.level,
        'parent_code', a.parent_code, 'statistical_only', a.statistical_only,
        'synthetic', a.synthetic_geometry)) ORDER BY a.code), '[]'::json))::text
FROM admin_units a WHERE a.level = $1 AND a.valid_to IS NULL AND a.geom IS NOT NULL
    AND (starts_with(a.code, $2) OR starts_with($2, a.code))
"""


async def grids_geojson(pool: asyncpg.Pool, township_code: str | None, area: str) -> str:
    """Current grids in `area` (a code prefix) as a GeoJSON FeatureCollection (text, built by PostGIS)."""
    async with pool.acquire() as conn:
        text: str = await conn.fetchval(GRIDS_GEOJSON, township_code, area)
    return text


async def units_geojson(pool: asyncpg.Pool, level: str, area: str) -> str:
    """Current admin units of one level in or above `area` as a GeoJSON FeatureCollection."""
    async with pool.acquire() as conn:
        text: str = await conn.fetchval(UNITS_GEOJSON, level, area)
    return text


# An unrouted event belongs to the area whose boundary covers it; one outside every boundary to the admin.
UNROUTED_AREA = """($2 = '' OR EXISTS (SELECT 1 FROM admin_units u
    WHERE u.code = $2 AND u.valid_to IS NULL AND ST_Covers(u.geom, e.location)))"""


async def unrouted(pool: asyncpg.Pool, area: str, limit: int = 200) -> list[dict[str, Any]]:
    """Unresolved unrouted events located in `area` (a unit code, '' for all), newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT event_id, type, category, description, ST_X(location) AS lon, ST_Y(location) AS lat, reason,"
            " received_at FROM unrouted_events e WHERE resolved_at IS NULL AND "
            + UNROUTED_AREA
            + " ORDER BY received_at DESC LIMIT $1",
            limit,
            area,
        )
    return [dict(r.items()) for r in rows]


async def dead_letters(pool: asyncpg.Pool, limit: int = 200) -> list[dict[str, Any]]:
    """Unresolved dead letters, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            'SELECT id, source_topic, "partition", "offset", key, reason, left(raw, 2000) AS raw, received_at'
            " FROM dead_letters WHERE resolved_at IS NULL ORDER BY received_at DESC LIMIT $1",
            limit,
        )
    return [dict(r.items()) for r in rows]


async def vacant_grids(pool: asyncpg.Pool, day: date, area: str = "") -> list[dict[str, Any]]:
    """Current grids in `area` with no member on `day`, with the village's or else the township's duty post."""
    rows = await pool.fetch(
        "SELECT g.code, g.name, g.village_code, g.township_code,"
        " coalesce(vd.id, td.id) AS fallback_id, coalesce(vd.name, td.name) AS fallback_name,"
        " CASE WHEN vd.id IS NOT NULL THEN 'village duty post' WHEN td.id IS NOT NULL THEN 'township duty post'"
        " END AS fallback"
        " FROM grids g"
        " LEFT JOIN people vd ON vd.role = 'duty' AND vd.unit_code = g.village_code AND vd.valid_to IS NULL"
        " LEFT JOIN people td ON td.role = 'duty' AND td.unit_code = g.township_code AND td.valid_to IS NULL"
        " WHERE g.valid_from <= $1 AND (g.valid_to IS NULL OR $1 < g.valid_to) AND starts_with(g.code, $2)"
        " AND NOT EXISTS ("
        "   SELECT 1 FROM grid_posts gp JOIN people p ON p.id = gp.person_id WHERE gp.grid_code = g.code"
        "   AND gp.valid_from <= $1 AND (gp.valid_to IS NULL OR $1 < gp.valid_to)"
        "   AND (p.valid_to IS NULL OR $1 < p.valid_to)) ORDER BY g.code",
        day,
        area,
    )
    return [dict(r.items()) for r in rows]


async def case_in_scope(pool: asyncpg.Pool, case_id: UUID, scope: Scope) -> bool:
    """Whether the case exists and is within the user's reach."""
    args: list[object] = [case_id]
    reach = scope.case_sql(args)
    return bool(await pool.fetchval(f"SELECT EXISTS (SELECT 1 FROM cases WHERE id = $1 AND {reach})", *args))
