"""People and grid posts in PostGIS: who serves a unit or grid, and adding or ending people and posts.

Nothing is deleted: ending sets `valid_to`, so who served where and when stays answerable. Every change bumps
the `people` registry revision in its transaction; the caller announces it so the stream processors reload.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg

from dispatch import errors
from dispatch.access.users import SERVING_PERSON, disable_person_accounts
from dispatch.db import Conn
from dispatch.people.model import PersonSpec, PostSpec, grid_in_unit, start_day
from dispatch.registry.revisions import bump_revision

Loc = errors.Loc

PERSON = """
SELECT p.id, p.name, p.phone, p.role, p.unit_code, p.team_id, t.name AS team_name, t.kind AS team_kind,
       t.agency_type, p.valid_from, p.valid_to,
       coalesce((SELECT json_agg(json_build_object('grid_code', gp.grid_code, 'post', gp.post,
                 'valid_from', gp.valid_from, 'valid_to', gp.valid_to) ORDER BY gp.valid_from, gp.grid_code)
                 FROM grid_posts gp WHERE gp.person_id = p.id), '[]'::json) AS posts,
       coalesce((SELECT json_agg(json_build_object('unit_code', m.unit_code, 'team_id', m.team_id,
                 'valid_from', m.valid_from, 'valid_to', m.valid_to, 'plan_id', m.plan_id) ORDER BY m.valid_from, m.id)
                 FROM team_memberships m WHERE m.person_id = p.id), '[]'::json) AS memberships
FROM people p LEFT JOIN teams t ON t.id = p.team_id
WHERE p.id = $1
"""

POST_ON_DAY = "gp.person_id = p.id AND gp.valid_from <= $1 AND (gp.valid_to IS NULL OR $1 < gp.valid_to)"

MEMBER_ON_DAY = "m.person_id = p.id AND m.valid_from <= $1 AND (m.valid_to IS NULL OR $1 < m.valid_to)"
"""A person's unit and team on a day: their membership then (the people row holds the latest)."""

PEOPLE = f"""
SELECT p.id, p.name, p.phone, p.role, m.unit_code, m.team_id, t.name AS team_name, t.kind AS team_kind,
       t.agency_type, p.valid_from, p.valid_to,
       coalesce((SELECT json_agg(json_build_object('grid_code', gp.grid_code, 'post', gp.post,
                 'valid_from', gp.valid_from, 'valid_to', gp.valid_to) ORDER BY gp.grid_code)
                 FROM grid_posts gp WHERE {POST_ON_DAY}), '[]'::json) AS posts
FROM people p JOIN team_memberships m ON {MEMBER_ON_DAY} LEFT JOIN teams t ON t.id = m.team_id
WHERE p.valid_from <= $1 AND (p.valid_to IS NULL OR $1 < p.valid_to)
  AND ($2::text IS NULL OR left(m.unit_code, length($2)) = $2
       OR EXISTS (SELECT 1 FROM grid_posts gp WHERE {POST_ON_DAY} AND left(gp.grid_code, length($2)) = $2))
  AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM grid_posts gp WHERE {POST_ON_DAY} AND gp.grid_code = $3))
  AND ($4::text IS NULL OR p.role = $4)
ORDER BY m.unit_code, p.role, p.id
LIMIT $5
"""

TEAMS = """
SELECT t.id, t.kind, t.agency_type, t.name, t.unit_code, t.valid_from, t.valid_to,
       (SELECT count(*) FROM team_memberships m WHERE m.team_id = t.id AND m.valid_from <= $1
          AND (m.valid_to IS NULL OR $1 < m.valid_to)) AS members
FROM teams t
WHERE t.valid_from <= $1 AND (t.valid_to IS NULL OR $1 < t.valid_to)
  AND ($2::text IS NULL OR left(t.unit_code, length($2)) = $2)
ORDER BY t.unit_code, t.kind DESC, t.id
"""

UNIT_ON = "SELECT level FROM admin_units WHERE code = $1 AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"
GRIDS_ON = (
    "SELECT code, village_code, township_code FROM grids WHERE code = ANY($1::text[])"
    " AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"
)
TEAM_BY_ID = (
    "SELECT id, kind, agency_type, unit_code FROM teams WHERE id = $1"
    " AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"
)
TEAM_OF_UNIT = (
    "SELECT id, kind, agency_type, unit_code FROM teams WHERE unit_code = $1 AND kind = $2"
    " AND ($3::text IS NULL OR agency_type = $3) AND valid_from <= $4 AND (valid_to IS NULL OR $4 < valid_to)"
    " ORDER BY id LIMIT 1"
)
END = "greatest(valid_from, $2::date)"


class Refused(errors.Invalid):
    """The request names something that does not exist or does not fit; each problem names its field."""

    kind = "value_error.reference"

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        super().__init__("; ".join(f"{'.'.join(str(p) for p in loc)}: {msg}" for loc, msg in problems))
        self.problems = problems
        self.fields = list(problems)


class NotFound(errors.NotFound):
    """No such person, or no such post, in service."""


class Conflict(errors.Conflict):
    """The person or post already exists."""


async def list_people(
    pool: asyncpg.Pool,
    day: date,
    unit: str | None = None,
    grid: str | None = None,
    role: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """People in service on `day` (in a unit or its grids, or posted to a grid), with their posts that day."""
    rows = await pool.fetch(PEOPLE, day, unit, grid, role, limit)
    return [dict(r.items()) for r in rows]


async def get_person(pool: asyncpg.Pool, person_id: str) -> dict[str, Any] | None:
    """A person with every post they ever held."""
    async with pool.acquire() as conn:
        return await _person(conn, person_id)


async def list_teams(pool: asyncpg.Pool, day: date, unit: str | None = None) -> list[dict[str, Any]]:
    """Enforcement teams and stationed agencies on `day`, with how many people serve in each."""
    rows = await pool.fetch(TEAMS, day, unit)
    return [dict(r.items()) for r in rows]


async def add_person(pool: asyncpg.Pool, spec: PersonSpec, today: date) -> dict[str, Any]:
    """Add a grid member with their posts, or a member of a township team, from `valid_from` (default today)."""
    day = _start(spec.valid_from, today, ("body", "valid_from"))
    person_id = spec.person_id()
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchval("SELECT 1 FROM people WHERE id = $1", person_id):
            raise Conflict(f"person {person_id} already exists")
        if spec.role == "grid_member":
            assert spec.unit_code is not None
            await _check_unit(conn, spec.unit_code, day)
            await _check_grids(
                conn, spec.unit_code, spec.grids, day, [("body", "grids", n) for n in range(len(spec.grids))]
            )
            unit_code, team_id = spec.unit_code, None
        else:
            team = await _team_for(conn, spec, day)
            unit_code, team_id = team["unit_code"], team["id"]
        try:
            await conn.execute(
                "INSERT INTO people (id, name, phone, role, unit_code, team_id, valid_from)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7)",
                person_id,
                spec.name,
                spec.phone,
                spec.role,
                unit_code,
                team_id,
                day,
            )
        except asyncpg.UniqueViolationError as exc:  # added meanwhile by someone else
            raise Conflict(f"person {person_id} already exists") from exc
        await conn.executemany(
            "INSERT INTO grid_posts (grid_code, person_id, post, valid_from) VALUES ($1,$2,$3,$4)",
            [(g, person_id, spec.post or "full_time", day) for g in spec.grids],
        )
        await bump_revision(conn, "people")
        found = await _person(conn, person_id)
    assert found is not None
    return found


async def add_post(pool: asyncpg.Pool, person_id: str, spec: PostSpec, today: date) -> dict[str, Any]:
    """Post a grid member to one more grid of their unit."""
    day = _start(spec.valid_from, today, ("body", "valid_from"))
    async with pool.acquire() as conn, conn.transaction():
        person = await conn.fetchrow(SERVING_PERSON, person_id, day)
        if person is None:
            raise NotFound(f"person {person_id} is not in service")
        if person["role"] != "grid_member":
            raise Refused([(("path", "person_id"), f"{person_id} is a {person['role']}; only grid members hold grids")])
        await _check_grids(conn, person["unit_code"], [spec.grid_code], day, [("body", "grid_code")])
        held = await conn.fetchval(
            "SELECT 1 FROM grid_posts WHERE person_id = $1 AND grid_code = $2 AND (valid_to IS NULL OR $3 < valid_to)",
            person_id,
            spec.grid_code,
            day,
        )
        if held:
            raise Conflict(f"{person_id} already holds a post on grid {spec.grid_code}")
        await conn.execute(
            "INSERT INTO grid_posts (grid_code, person_id, post, valid_from) VALUES ($1,$2,$3,$4)",
            spec.grid_code,
            person_id,
            spec.post,
            day,
        )
        await bump_revision(conn, "people")
        found = await _person(conn, person_id)
    assert found is not None
    return found


async def end_post(pool: asyncpg.Pool, person_id: str, grid_code: str, today: date) -> None:
    """End a person's post on a grid today; the grid is vacant unless someone else holds it."""
    async with pool.acquire() as conn, conn.transaction():
        ended = await conn.fetch(
            f"UPDATE grid_posts SET valid_to = {END} WHERE person_id = $1 AND grid_code = $3"
            " AND (valid_to IS NULL OR $2 < valid_to) RETURNING id",
            person_id,
            today,
            grid_code,
        )
        if not ended:
            raise NotFound(f"{person_id} holds no post on grid {grid_code}")
        await bump_revision(conn, "people")


async def end_person(pool: asyncpg.Pool, person_id: str, today: date) -> int:
    """End a person's service today, with every post they hold and every account they sign in with (their sessions
    end within seconds); returns how many posts ended."""
    async with pool.acquire() as conn, conn.transaction():
        ended = await conn.fetchval(
            f"UPDATE people SET valid_to = {END} WHERE id = $1 AND (valid_to IS NULL OR $2 < valid_to) RETURNING id",
            person_id,
            today,
        )
        if ended is None:
            raise NotFound(f"person {person_id} is not in service")
        posts = await conn.fetch(
            f"UPDATE grid_posts SET valid_to = {END} WHERE person_id = $1 AND (valid_to IS NULL OR $2 < valid_to)"
            " RETURNING id",
            person_id,
            today,
        )
        await disable_person_accounts(conn, [person_id])
        await bump_revision(conn, "people")
    return len(posts)


def _start(requested: date | None, today: date, loc: Loc) -> date:
    try:
        return start_day(requested, today)
    except ValueError as exc:
        raise Refused([(loc, str(exc))]) from exc


async def _person(conn: Conn, person_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(PERSON, person_id)
    return None if row is None else dict(row.items())


async def _check_unit(conn: Conn, unit_code: str, day: date) -> None:
    if await conn.fetchval(UNIT_ON, unit_code, day) is None:
        raise Refused([(("body", "unit_code"), f"unit {unit_code} does not exist on {day}")])


async def _check_grids(conn: Conn, unit_code: str, grids: list[str], day: date, locs: list[Loc]) -> None:
    """Every grid exists on `day` and lies in the unit; otherwise refuse, naming each grid's field."""
    found = {r["code"]: r for r in await conn.fetch(GRIDS_ON, grids, day)}
    problems: list[tuple[Loc, str]] = []
    for code, loc in zip(grids, locs, strict=True):
        grid = found.get(code)
        if grid is None:
            problems.append((loc, f"grid {code} does not exist on {day}"))
        elif not grid_in_unit(unit_code, code, grid["village_code"], grid["township_code"]):
            problems.append((loc, f"grid {code} is not in unit {unit_code} (it lies in {grid['village_code']})"))
    if problems:
        raise Refused(problems)


async def _team_for(conn: Conn, spec: PersonSpec, day: date) -> asyncpg.Record:
    """The team a new officer, legal reviewer or agency staff joins, checked against the role."""
    wanted = "agency" if spec.role == "agency_staff" else "enforcement"
    if spec.team_id is not None:
        team = await conn.fetchrow(TEAM_BY_ID, spec.team_id, day)
        if team is None:
            raise Refused([(("body", "team_id"), f"team {spec.team_id} does not exist on {day}")])
        if spec.role != "legal_reviewer" and team["kind"] != wanted:
            raise Refused([(("body", "team_id"), f"team {spec.team_id} is an {team['kind']} team, not {wanted}")])
        if spec.agency_type is not None and team["agency_type"] != spec.agency_type:
            raise Refused([(("body", "agency_type"), f"team {spec.team_id} is not a {spec.agency_type} agency")])
        if spec.unit_code is not None and spec.unit_code != team["unit_code"]:
            raise Refused([(("body", "unit_code"), f"team {spec.team_id} serves {team['unit_code']}")])
        return team
    assert spec.unit_code is not None
    level = await conn.fetchval(UNIT_ON, spec.unit_code, day)
    if level != "township":
        why = "does not exist" if level is None else f"is a {level}, not a township"
        raise Refused([(("body", "unit_code"), f"unit {spec.unit_code} {why} on {day}")])
    team = await conn.fetchrow(TEAM_OF_UNIT, spec.unit_code, wanted, spec.agency_type, day)
    if team is None:
        field = "agency_type" if spec.role == "agency_staff" else "unit_code"
        what = f"{spec.agency_type} agency" if spec.role == "agency_staff" else "enforcement team"
        raise Refused([(("body", field), f"township {spec.unit_code} has no {what} on {day}")])
    return team
