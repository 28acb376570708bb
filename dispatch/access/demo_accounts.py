"""One demo account per role, bound to the demo county's first township (and one of a second, to show scoping).

They carry the `demo` mark: the service refuses to start in production while any of them is enabled.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from core.vocabulary import Role
from dispatch.access import users as users_store

DEMO_PASSWORD = "grid-demo"


@dataclass(frozen=True)
class DemoAccount:
    """A demo sign-in and who it is."""

    username: str
    role: Role
    person_id: str | None
    unit_code: str


async def plan_accounts(pool: asyncpg.Pool, county: str) -> list[DemoAccount]:
    """The demo accounts for `county`, bound to people the demo loader created (those still serving)."""
    townships = [
        r["code"]
        for r in await pool.fetch(
            "SELECT code FROM admin_units WHERE level = 'township' AND parent_code = $1 AND valid_to IS NULL"
            " ORDER BY code LIMIT 2",
            county,
        )
    ]
    if not townships:
        return []
    town = townships[0]
    grid = await pool.fetchval(
        "SELECT gp.person_id FROM grid_posts gp JOIN grids g ON g.code = gp.grid_code"
        " WHERE g.township_code = $1 AND gp.valid_to IS NULL AND g.valid_to IS NULL ORDER BY g.code LIMIT 1",
        town,
    )
    accounts = [
        DemoAccount("admin", Role.ADMIN, None, county),
        DemoAccount("gateway", Role.SYSTEM, None, county),
        DemoAccount("supervisor", Role.COUNTY_SUPERVISOR, f"sup-{county}", county),
        DemoAccount("dispatcher", Role.DISPATCHER, f"disp-{town}", town),
        DemoAccount("leader", Role.TOWNSHIP_LEADER, f"lead-{town}", town),
        DemoAccount("officer", Role.OFFICER, f"off-{town}-1", town),
        DemoAccount("officer2", Role.OFFICER, f"off-{town}-2", town),
        DemoAccount("legal", Role.LEGAL_REVIEWER, f"legal-{town}", town),
        DemoAccount("agency", Role.AGENCY_STAFF, f"police-{town}-1", town),
        DemoAccount("worker", Role.GRID_MEMBER, grid, town),
        DemoAccount("duty", Role.DUTY, f"duty-{town}", town),
    ]
    if len(townships) > 1:
        accounts.append(DemoAccount("dispatcher-b", Role.DISPATCHER, f"disp-{townships[1]}", townships[1]))
    wanted = [a.person_id for a in accounts if a.person_id is not None]
    serving = {
        r["id"] for r in await pool.fetch("SELECT id FROM people WHERE id = ANY($1) AND valid_to IS NULL", wanted)
    }
    return [a for a in accounts if a.person_id in serving or a.role in (Role.ADMIN, Role.SYSTEM)]


async def create_demo_accounts(pool: asyncpg.Pool, county: str) -> list[DemoAccount]:
    """Create the demo accounts that do not exist yet, and those of the people the simulator plays; returns the
    per-role ones."""
    accounts = await plan_accounts(pool, county)
    existing = {r["username"] for r in await pool.fetch("SELECT username FROM users")}
    for a in accounts:
        if a.username not in existing:
            await users_store.add_user(pool, a.username, DEMO_PASSWORD, a.role, a.unit_code, a.person_id, demo=True)
    town = next((a.unit_code for a in accounts if a.role is Role.DISPATCHER), None)
    if town is not None:
        await create_cast_accounts(pool, town)
    return accounts


CAST = """
INSERT INTO users (username, person_id, role, unit_code, team_id, password_hash, demo)
SELECT p.id, p.id, p.role, p.unit_code, p.team_id, $3, true FROM people p
WHERE p.valid_to IS NULL AND starts_with(p.unit_code, $1) AND p.role = ANY($2)
  AND NOT EXISTS (SELECT 1 FROM users u WHERE u.person_id = p.id OR u.username = p.id)
"""
CAST_ROLES = (Role.GRID_MEMBER, Role.DUTY, Role.OFFICER, Role.AGENCY_STAFF, Role.DISPATCHER)


async def create_cast_accounts(pool: asyncpg.Pool, township: str) -> int:
    """Demo accounts, named by the person's id, for the people of `township` the simulator plays (its grid members,
    duty posts, officers, agency staff and dispatcher) who have none yet; returns how many were made. One statement
    and one password hash for all: they share the demo password."""
    password_hash = await users_store.hash_password(DEMO_PASSWORD)
    status = await pool.execute(CAST, township, [r.value for r in CAST_ROLES], password_hash)
    return int(status.split()[-1])
