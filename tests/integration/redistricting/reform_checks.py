"""What a real plan must do to a county's open cases, history and staff: events posted into the 2019 registry land
once in the 2020 one, with a transfer naming the plan; history answers the old unit before the date and the new one
on it; nobody serves a unit that ended."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from dispatch.geometry.synthetic import read_divisions
from tests.integration.harness import wait_for
from tests.integration.helpers import event

EVENTS_PER_COUNTY = 4


@dataclass(frozen=True)
class Posted:
    """An event posted before the plan, and where its case was routed then."""

    case_id: uuid.UUID
    lon: float
    lat: float
    grid_code: str
    township_code: str


def touched_townships(before: Path, after: Path, county: str) -> list[str]:
    """The county's 2019 townships that the 2020 list abolishes or changes (name or villages), abolished first."""
    old, new = read_divisions(before), read_divisions(after)

    def towns(divisions: list[Any]) -> dict[str, str]:
        return {d.code: d.name for d in divisions if d.level == "township" and d.parent_code == county}

    def villages(divisions: list[Any], town: str) -> set[tuple[str, str]]:
        return {(d.code, d.name) for d in divisions if d.level == "village" and d.parent_code == town}

    old_towns, new_towns = towns(old), towns(new)
    gone = sorted(t for t in old_towns if t not in new_towns)
    changed = sorted(
        t
        for t in old_towns
        if t in new_towns and (old_towns[t] != new_towns[t] or villages(old, t) != villages(new, t))
    )
    return (gone + changed)[:EVENTS_PER_COUNTY]


ROUTED = "SELECT grid_code, township_code FROM cases WHERE id = $1 AND assignee_id IS NOT NULL"


async def post_events(http: httpx.AsyncClient, db: asyncpg.Pool, townships: list[str], day: date) -> list[Posted]:
    """One incident inside a staffed grid of each township, waited on until it is a case routed to someone."""
    bodies = []
    for town in townships:
        spot = await db.fetchrow(
            "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
            " WHERE g.township_code = $1 AND g.valid_from <= $2 AND (g.valid_to IS NULL OR $2 < g.valid_to)"
            " AND EXISTS (SELECT 1 FROM grid_posts gp WHERE gp.grid_code = g.code AND gp.valid_to IS NULL)"
            " ORDER BY g.code LIMIT 1",
            town,
            day,
        )
        assert spot is not None, f"{town} has no staffed grid"
        body = event(lon=spot["lon"], lat=spot["lat"])
        answer = await http.post("/api/v1/events", json=body)
        assert answer.status_code == 202, answer.text
        bodies.append((town, body))
    posted = []
    for town, body in bodies:
        case_id = case_id_for_event(uuid.UUID(body["event_id"]))
        row = await wait_for(_routed(db, case_id), f"a routed case in {town}", within=30)
        assert row["township_code"] == town, f"the event in {town} was routed to {row['township_code']}"
        loc = body["location"]
        posted.append(Posted(case_id, loc["lon"], loc["lat"], row["grid_code"], row["township_code"]))
    return posted


def _routed(db: asyncpg.Pool, case_id: uuid.UUID) -> Callable[[], Awaitable[asyncpg.Record | None]]:
    return lambda: db.fetchrow(ROUTED, case_id)


LANDED = """
SELECT c.id, c.grid_code, c.township_code,
       (SELECT count(*) FROM cases o WHERE ST_Equals(o.location, c.location)) AS rows_here,
       ARRAY(SELECT l.payload::jsonb ->> 'plan_id' FROM case_log l WHERE l.case_id = c.id AND l.kind = 'transferred')
         AS transfers
FROM cases c
WHERE c.id = ANY($1::uuid[]) AND c.closed_at IS NULL
  AND EXISTS (SELECT 1 FROM grids g WHERE g.code = c.grid_code AND g.township_code = c.township_code
              AND g.valid_from <= $2 AND (g.valid_to IS NULL OR $2 < g.valid_to) AND ST_Covers(g.geom, c.location))
  AND EXISTS (SELECT 1 FROM admin_units t WHERE t.code = c.township_code AND t.level = 'township'
              AND t.valid_from <= $2 AND (t.valid_to IS NULL OR $2 < t.valid_to))
"""
"""The posted cases that lie, open, in a grid of the registry valid on the day that covers their point."""


async def check_cases_landed(
    db: asyncpg.Pool, posted: list[Posted], plan_id: str, day: date, wanted_towns: set[str]
) -> dict[uuid.UUID, asyncpg.Record]:
    """Every posted case lands exactly once in a unit of the new registry, with one transfer naming the plan when
    its grid or township changed and none otherwise; returns the landed rows by case."""
    ids = [p.case_id for p in posted]

    async def all_landed() -> dict[uuid.UUID, asyncpg.Record] | None:
        rows = {r["id"]: r for r in await db.fetch(LANDED, ids, day)}
        moved_unlogged = [
            p for p in posted if p.case_id in rows and _moved(p, rows[p.case_id]) and not rows[p.case_id]["transfers"]
        ]
        return rows if len(rows) == len(ids) and not moved_unlogged else None

    rows = await wait_for(all_landed, f"the open cases of plan {plan_id} to land in the new registry", within=60)
    for p in posted:
        row = rows[p.case_id]
        assert row["township_code"] in wanted_towns, f"{p.case_id} landed in {row['township_code']}, not a 2020 unit"
        assert row["rows_here"] == 1, f"{p.case_id}: {row['rows_here']} case rows at its point"
        expected = [plan_id] if _moved(p, row) else []
        assert list(row["transfers"]) == expected, f"{p.case_id} ({p.grid_code} → {row['grid_code']})"
    return rows


def _moved(p: Posted, row: asyncpg.Record) -> bool:
    return bool(row["grid_code"] != p.grid_code or row["township_code"] != p.township_code)


async def check_history_at_points(
    admin: httpx.AsyncClient, posted: list[Posted], landed: dict[uuid.UUID, asyncpg.Record], day: date
) -> None:
    """history/point answers the case's old grid and township the day before the plan, and its new ones on the day."""
    for p in posted:
        for on, grid, town in (
            (day - timedelta(days=1), p.grid_code, p.township_code),
            (day, landed[p.case_id]["grid_code"], landed[p.case_id]["township_code"]),
        ):
            answer = await admin.get("/api/v1/history/point", params={"lon": p.lon, "lat": p.lat, "on": str(on)})
            assert answer.status_code == 200, f"({p.lon}, {p.lat}) on {on}: {answer.text}"
            found = answer.json()
            assert (found["grid_code"], found["township_code"]) == (grid, town), f"({p.lon}, {p.lat}) on {on}"


ENDED = """
SELECT a.code FROM admin_units a WHERE left(a.code, 6) = $1 AND a.level IN ('township', 'village') AND a.valid_to = $2
  AND NOT EXISTS (SELECT 1 FROM admin_units b WHERE b.code = a.code AND b.valid_from <= $2
                  AND (b.valid_to IS NULL OR $2 < b.valid_to))
"""
"""The county's townships and villages that ended on the plan's date (their code not carried on)."""

SERVING = """
SELECT p.id, p.role, p.unit_code, m.unit_code AS team_unit, m.team_id FROM people p
LEFT JOIN team_memberships m ON m.person_id = p.id AND m.valid_from <= $2 AND (m.valid_to IS NULL OR $2 < m.valid_to)
LEFT JOIN teams t ON t.id = m.team_id
WHERE p.valid_from <= $2 AND (p.valid_to IS NULL OR $2 < p.valid_to)
  AND (p.unit_code = ANY($1::text[]) OR m.unit_code = ANY($1::text[]) OR t.unit_code = ANY($1::text[])
       OR (t.id IS NOT NULL AND t.valid_from <= $2 AND t.valid_to IS NOT NULL AND t.valid_to <= $2))
"""
"""People serving on a day in one of the units, or in a team of one of them or a team that has ended."""


async def staff_of(db: asyncpg.Pool, units: list[str], day: date) -> list[asyncpg.Record]:
    """Who serves any of the units (or their teams) on the day."""
    return list(await db.fetch(SERVING, units, day))


async def check_nobody_serves_ended_units(
    db: asyncpg.Pool, county: str, day: date, abolished: list[str]
) -> tuple[int, int]:
    """Every township and village that ended on the day has nobody serving it, though the abolished townships had
    staff the day before; returns how many units ended and how many people served them the day before."""
    ended = [r["code"] for r in await db.fetch(ENDED, county, day)]
    assert set(abolished) <= set(ended), f"{county}: {sorted(set(abolished) - set(ended))} did not end"
    assert not abolished or await staff_of(db, abolished, day - timedelta(days=1)), f"{county}: nobody to carry"
    left = [dict(r.items()) for r in await staff_of(db, ended, day)]
    assert not left, f"{county}: still serving an ended unit on {day}: {left[:5]}"
    return len(ended), len({r["id"] for r in await staff_of(db, ended, day - timedelta(days=1))})
