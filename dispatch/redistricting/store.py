"""Read a county's registry on a day from PostGIS, and validate and write a plan stacked on every plan applied."""

from __future__ import annotations

from datetime import date

import asyncpg
import shapely
from shapely.geometry.base import BaseGeometry

from core.plans import RedistrictingPlan
from dispatch.db import Conn
from dispatch.redistricting import stacking
from dispatch.redistricting.model import Grid, Unit
from dispatch.redistricting.registry_check import county_errors
from dispatch.redistricting.stacking import PlanAlreadyApplied, PlanConflict
from dispatch.redistricting.staff import follow_plan, plan_staff
from dispatch.redistricting.staff_rule import StaffPlan
from dispatch.redistricting.validate import Outcome, PlanInvalid, apply_plan
from dispatch.redistricting.writes import write_grids, write_lineage, write_units
from dispatch.registry.revisions import bump_revision

__all__ = ["PlanAlreadyApplied", "PlanConflict", "apply", "load_county", "refuse_broken_tiling", "validate"]

VALID_ON = "valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"


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


async def _outcome(
    conn: Conn, plan: RedistrictingPlan, expected_revision: int | None
) -> tuple[Outcome, dict[str, Unit], StaffPlan]:
    """The plan applied in memory to the registry of its effective date, with every applied plan in it; refused
    when it would land out of order, on a stale registry, or on rows another plan started that day."""
    await stacking.refuse_out_of_order(conn, plan)
    if expected_revision is not None:
        await stacking.refuse_stale(conn, expected_revision)
    outline, units, grids = await load_county(conn, plan.county, plan.effective_date)
    taken = await conn.fetch("SELECT DISTINCT code FROM grids WHERE county_code = $1", plan.county)
    gone = await stacking.ended_units(conn, plan, units)
    out = apply_plan(plan, outline, units, grids, (r["code"] for r in taken), gone)
    staff = await plan_staff(conn, plan, out, units)
    if out.errors or staff.errors:
        raise PlanInvalid(out.errors + staff.errors)
    out.staff_review = staff.review
    await stacking.refuse_same_day_rows(conn, plan, out.rows)
    out.counts = {
        "units_changed": len(out.changed_units),
        "units_ended": len(out.rows.units_ended),
        "units_started": len(out.rows.units_started),
        "grids_changed": len(out.rows.grids_ended),
        "grids_started": len(out.rows.grids_started),
        "cases_to_move": await stacking.cases_to_move(conn, out),
        **staff.counts(),
        "registry_revision": await stacking.registry_revision(conn),
    }
    return out, units, staff


async def validate(pool: asyncpg.Pool, plan: RedistrictingPlan, expected_revision: int | None = None) -> Outcome:
    """Apply the plan in memory to the registry as of its effective date; raise with every error or conflict."""
    async with pool.acquire() as conn:
        out, _, _ = await _outcome(conn, plan, expected_revision)
    return out


async def apply(
    pool: asyncpg.Pool, plan: RedistrictingPlan, applied_by: str, expected_revision: int | None = None
) -> Outcome:
    """Validate and write the plan in one transaction: the rows validated are the rows written (old rows end at
    the effective date, new rows start), and the county must still tile after the write, or nothing is kept."""
    eff = plan.effective_date
    try:
        async with pool.acquire() as conn, conn.transaction(isolation="serializable"):
            if await conn.fetchval("SELECT 1 FROM redistricting_plans WHERE plan_id = $1", plan.plan_id):
                raise PlanAlreadyApplied(plan.plan_id)
            out, before, staff = await _outcome(conn, plan, expected_revision)
            await conn.execute(
                "INSERT INTO redistricting_plans (plan_id, county, effective_date, legal_basis, title, body,"
                " applied_by) VALUES ($1,$2,$3,$4,$5,$6,$7)",
                plan.plan_id,
                plan.county,
                eff,
                plan.legal_basis,
                plan.title,
                plan.model_dump(mode="json"),
                applied_by,
            )
            await write_units(conn, out, eff)
            await write_grids(conn, out, plan.county, eff)
            out.counts.update(await follow_plan(conn, plan, out, before, staff, applied_by))
            await write_lineage(conn, out, plan.plan_id, eff)
            await refuse_broken_tiling(conn, plan)
            for part in ("boundaries", "people"):
                await bump_revision(conn, part)
            out.counts["registry_revision"] = await stacking.registry_revision(conn)
    except asyncpg.SerializationError as exc:
        raise PlanConflict("the registry changed while the plan was applied; nothing changed, try again") from exc
    return out


async def refuse_broken_tiling(conn: Conn, plan: RedistrictingPlan) -> None:
    """Read back what was written and check it tiles; raising here rolls the whole plan back."""
    outline, units, grids = await load_county(conn, plan.county, plan.effective_date)
    errors = county_errors(plan.county, outline, units, grids)
    if errors:
        raise PlanInvalid(
            [f"after writing, {plan.county} does not tile on {plan.effective_date} (nothing kept): {e}" for e in errors]
        )
