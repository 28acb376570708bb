"""Read a county's registry on a day from PostGIS and write a validated plan's outcome, atomically."""

from __future__ import annotations

from datetime import date, timedelta

import asyncpg
import shapely
from shapely.geometry.base import BaseGeometry

from core.plans import RedistrictingPlan
from dispatch.db import Conn
from dispatch.errors import Conflict
from dispatch.redistricting.validate import Grid, Outcome, PlanInvalid, Unit, apply_plan
from dispatch.registry.load import multipolygon_wkb, person_name, person_phone, township_teams
from dispatch.registry.revisions import bump_revision

VALID_ON = "valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"


class PlanAlreadyApplied(Conflict):
    """A plan with this id is already in the registry."""

    def __init__(self, plan_id: str) -> None:
        super().__init__(f"plan {plan_id} was already applied")
        self.plan_id = plan_id


async def load_county(conn: Conn, county: str, day: date) -> tuple[BaseGeometry, dict[str, Unit], dict[str, Grid]]:
    """The county's outline, townships, villages and grids valid on `day`."""
    rows = await conn.fetch(
        "SELECT code, name, level, parent_code, statistical_only, ST_AsBinary(geom) AS wkb FROM admin_units"
        f" WHERE (code = $1 OR left(code, 6) = $1) AND level IN ('county','township','village') AND {VALID_ON}",
        county,
        day,
    )
    outline = next((shapely.from_wkb(r["wkb"]) for r in rows if r["level"] == "county"), None)
    if outline is None:
        raise PlanInvalid([f"county {county} has no outline valid on {day}"])
    units = {
        r["code"]: Unit(
            r["code"], r["name"], r["level"], r["parent_code"], shapely.from_wkb(r["wkb"]), r["statistical_only"]
        )
        for r in rows
        if r["level"] != "county"
    }
    grid_rows = await conn.fetch(
        "SELECT code, name, village_code, kind, households, population, ST_AsBinary(geom) AS wkb FROM grids"
        f" WHERE county_code = $1 AND {VALID_ON}",
        county,
        day,
    )
    grids = {
        r["code"]: Grid(
            r["code"],
            r["name"],
            r["village_code"],
            shapely.from_wkb(r["wkb"]),
            r["kind"],
            r["households"],
            r["population"],
        )
        for r in grid_rows
    }
    return outline, units, grids


async def validate(pool: asyncpg.Pool, plan: RedistrictingPlan) -> Outcome:
    """Apply the plan in memory to the registry of the day before it takes effect; raise with every error."""
    async with pool.acquire() as conn:
        outline, units, grids = await load_county(conn, plan.county, plan.effective_date - timedelta(days=1))
    outcome = apply_plan(plan, outline, units, grids)
    if outcome.errors:
        raise PlanInvalid(outcome.errors)
    return outcome


async def apply(pool: asyncpg.Pool, plan: RedistrictingPlan, applied_by: str) -> Outcome:
    """Validate and write the plan in one transaction: old rows end at the effective date, new rows start."""
    eff = plan.effective_date
    async with pool.acquire() as conn, conn.transaction(isolation="serializable"):
        if await conn.fetchval("SELECT 1 FROM redistricting_plans WHERE plan_id = $1", plan.plan_id):
            raise PlanAlreadyApplied(plan.plan_id)
        outline, units, grids = await load_county(conn, plan.county, eff - timedelta(days=1))
        out = apply_plan(plan, outline, units, grids)
        if out.errors:
            raise PlanInvalid(out.errors)
        await conn.execute(
            "INSERT INTO redistricting_plans (plan_id, county, effective_date, legal_basis, title, body, applied_by)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7)",
            plan.plan_id,
            plan.county,
            eff,
            plan.legal_basis,
            plan.title,
            plan.model_dump(mode="json"),
            applied_by,
        )
        await _write_units(conn, out, units, eff)
        await _write_grids(conn, out, plan.county, eff)
        await _move_people(conn, out, units, eff)
        await conn.executemany(
            "INSERT INTO unit_lineage (from_code, to_code, kind, level, plan_id, effective_date)"
            " VALUES ($1,$2,$3,$4,$5,$6)",
            [(e.from_code, e.to_code, e.kind, e.level, plan.plan_id, eff) for e in out.lineage],
        )
        for part in ("boundaries", "people"):
            await bump_revision(conn, part)
    return out


async def _write_units(conn: Conn, out: Outcome, before: dict[str, Unit], eff: date) -> None:
    closing = sorted(code for code in out.changed_units if code in before)
    await conn.execute(
        "UPDATE admin_units SET valid_to = $2 WHERE code = ANY($1::text[]) AND valid_to IS NULL AND valid_from < $2",
        closing,
        eff,
    )
    opening = [out.units[c] for c in sorted(out.changed_units) if c in out.units]
    await conn.executemany(
        "INSERT INTO admin_units (code, name, level, parent_code, statistical_only, synthetic_geometry, geom,"
        " valid_from) VALUES ($1,$2,$3,$4,$5,true,ST_SetSRID(ST_GeomFromWKB($6),4326),$7)",
        [(u.code, u.name, u.level, u.parent, u.statistical_only, multipolygon_wkb(u.geom), eff) for u in opening],
    )


async def _write_grids(conn: Conn, out: Outcome, county: str, eff: date) -> None:
    await conn.execute(
        "UPDATE grids SET valid_to = $2 WHERE code = ANY($1::text[]) AND valid_to IS NULL AND valid_from < $2",
        sorted(out.changed_grids),
        eff,
    )
    fresh = sorted(set(out.changed_grids.values()))
    await conn.executemany(
        "INSERT INTO grids (code, name, village_code, township_code, county_code, kind, households, population,"
        " geom, valid_from) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,ST_SetSRID(ST_GeomFromWKB($9),4326),$10)",
        [
            (
                g.code,
                g.name,
                g.village,
                out.units[g.village].parent,
                county,
                g.kind,
                g.households,
                g.population,
                multipolygon_wkb(g.geom),
                eff,
            )
            for g in (out.grids[c] for c in fresh)
        ],
    )


async def _move_people(conn: Conn, out: Outcome, before: dict[str, Unit], eff: date) -> None:
    """Grid members follow their grid to its new code; teams and duty posts of abolished units end."""
    moves = sorted(out.changed_grids.items())
    posts = await conn.fetch(
        "SELECT grid_code, person_id, post FROM grid_posts WHERE grid_code = ANY($1::text[]) AND valid_to IS NULL",
        [old for old, _ in moves],
    )
    new_of = dict(moves)
    await conn.execute(
        "UPDATE grid_posts SET valid_to = $2 WHERE grid_code = ANY($1::text[]) AND valid_to IS NULL"
        " AND valid_from < $2",
        [old for old, new in moves if old != new],
        eff,
    )
    await conn.executemany(
        "INSERT INTO grid_posts (grid_code, person_id, post, valid_from) VALUES ($1,$2,$3,$4)",
        [
            (new_of[p["grid_code"]], p["person_id"], p["post"], eff)
            for p in posts
            if new_of[p["grid_code"]] != p["grid_code"]
        ],
    )
    abolished = sorted(c for c in before if c not in out.units)
    successor = {e.from_code: e.to_code for e in out.lineage if e.kind == "merged_into" and e.level == "township"}
    created = [u for c, u in sorted(out.units.items()) if c not in before]
    await conn.executemany(
        "INSERT INTO teams (id, kind, agency_type, name, unit_code, valid_from) VALUES ($1,$2,$3,$4,$5,$6)"
        " ON CONFLICT (id) DO NOTHING",
        [row for u in created if u.level == "township" for row in township_teams(u.code, u.name, eff)],
    )
    await conn.executemany(
        "INSERT INTO people (id, name, phone, role, unit_code, valid_from) VALUES ($1,$2,$3,'duty',$4,$5)"
        " ON CONFLICT (id) DO NOTHING",
        [
            (f"duty-{u.code}", person_name(f"duty-{u.code}"), person_phone(f"duty-{u.code}"), u.code, eff)
            for u in created
        ],
    )
    await conn.executemany(
        "UPDATE people p SET team_id = new.id, unit_code = new.unit_code FROM teams old, teams new"
        " WHERE p.team_id = old.id AND old.unit_code = $1 AND old.kind = 'enforcement'"
        " AND new.unit_code = $2 AND new.kind = 'enforcement' AND new.valid_to IS NULL",
        list(successor.items()),
    )
    await conn.execute(
        "UPDATE teams SET valid_to = $2 WHERE unit_code = ANY($1::text[]) AND valid_to IS NULL AND valid_from < $2",
        abolished,
        eff,
    )
    await conn.execute(
        "UPDATE people SET valid_to = $2 WHERE unit_code = ANY($1::text[]) AND valid_to IS NULL AND valid_from < $2"
        " AND role = 'duty'",
        abolished,
        eff,
    )
