"""The device registry: cameras and sensors in versions by effective date, each with the grid it falls in on a day
(derived from the grids of that day, never stored) and its live-view address."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from core.devices import DeviceSpec
from dispatch.db import Conn
from dispatch.errors import Conflict, NotInReach

COLUMNS = """
d.id, d.kind, d.sensor_kind, d.name, d.unit_code, ST_X(d.location) AS lon, ST_Y(d.location) AS lat, d.live_url,
d.valid_from, d.valid_to, d.updated_by, d.updated_at, g.code AS grid_code, g.name AS grid_name
"""
ON_DAY = f"""
SELECT {COLUMNS} FROM devices d
LEFT JOIN LATERAL (
    SELECT code, name FROM grids WHERE ST_Covers(geom, d.location) AND valid_from <= $2
      AND (valid_to IS NULL OR $2 < valid_to) ORDER BY code LIMIT 1
) g ON true
WHERE starts_with(d.unit_code, $1) AND d.valid_from <= $2 AND (d.valid_to IS NULL OR $2 < d.valid_to)
  AND ($3::text IS NULL OR d.kind = $3) AND ($4::text IS NULL OR d.id = $4)
ORDER BY d.id
"""


async def on_day(
    pool: asyncpg.Pool, area: str, day: date, kind: str | None = None, device_id: str | None = None
) -> list[dict[str, Any]]:
    """The devices of an area (a unit code prefix, '' for all) in service on a day, with their grid then."""
    return [dict(r) for r in await pool.fetch(ON_DAY, area, day, kind, device_id)]


async def put(pool: asyncpg.Pool, device_id: str, spec: DeviceSpec, area: str, by: str, today: date) -> dict[str, Any]:
    """Register a device, or record a new version of it from `spec.valid_from` (today by default)."""
    start = spec.valid_from or today
    async with pool.acquire() as conn, conn.transaction():
        await _unit_in_reach(conn, spec.unit_code, area)
        current = await conn.fetchrow(
            "SELECT valid_from, unit_code FROM devices WHERE id = $1 AND valid_to IS NULL FOR UPDATE", device_id
        )
        if current is not None and not current["unit_code"].startswith(area):
            raise NotInReach(("path", "device_id"), f"device {device_id}")
        if current is not None and start < current["valid_from"]:
            raise Conflict(f"valid_from: its current version starts {current['valid_from']}; a change starts after")
        if current is not None and start == current["valid_from"]:
            await conn.execute("DELETE FROM devices WHERE id = $1 AND valid_from = $2", device_id, start)
        elif current is not None:
            await conn.execute("UPDATE devices SET valid_to = $2 WHERE id = $1 AND valid_to IS NULL", device_id, start)
        await conn.execute(
            "INSERT INTO devices (id, valid_from, kind, sensor_kind, name, unit_code, location, live_url, updated_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, ST_SetSRID(ST_MakePoint($7, $8), 4326), $9, $10)",
            device_id,
            start,
            spec.kind.value,
            spec.sensor_kind,
            spec.name,
            spec.unit_code,
            spec.location.lon,
            spec.location.lat,
            spec.live_url,
            by,
        )
    (row,) = await on_day(pool, "", start, device_id=device_id)
    return row


async def end(pool: asyncpg.Pool, device_id: str, area: str, day: date) -> None:
    """Take a device out of service from `day` (kept in history)."""
    done = await pool.execute(
        "UPDATE devices SET valid_to = greatest($3, valid_from + 1) WHERE id = $1 AND valid_to IS NULL"
        " AND starts_with(unit_code, $2)",
        device_id,
        area,
        day,
    )
    if done.endswith(" 0"):
        raise NotInReach(("path", "device_id"), f"device {device_id} in service")


async def _unit_in_reach(conn: Conn, unit_code: str, area: str) -> None:
    exists = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM admin_units WHERE code = $1 AND valid_to IS NULL)", unit_code
    )
    if not exists or not unit_code.startswith(area):
        raise NotInReach(("body", "unit_code"), f"unit {unit_code}")
