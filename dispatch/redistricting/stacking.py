"""Plans stack: each lands on the registry with every plan applied before it, in the order they take effect."""

from __future__ import annotations

from collections.abc import Mapping

import shapely

from core.plans import RedistrictingPlan
from dispatch.db import Conn
from dispatch.errors import Conflict
from dispatch.redistricting.model import Rows, Unit
from dispatch.redistricting.validate import Outcome
from dispatch.registry.load import multipolygon_wkb


class PlanAlreadyApplied(Conflict):
    """A plan with this id is already in the registry."""

    def __init__(self, plan_id: str) -> None:
        super().__init__(f"plan {plan_id} was already applied")
        self.plan_id = plan_id


class PlanConflict(Conflict):
    """The plan cannot land on the registry as it stands: out of order, stale, or clashing with another plan."""


async def registry_revision(conn: Conn) -> int:
    """The boundaries revision: bumped by every plan, import and generated county."""
    revision = await conn.fetchval("SELECT revision FROM registry_revisions WHERE part = 'boundaries'")
    return int(revision or 0)


async def ended_units(conn: Conn, plan: RedistrictingPlan, units: Mapping[str, Unit]) -> dict[str, str]:
    """Units of the county that applied plans ended by the plan's date, each with what became of it and by whom."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (from_code) from_code, to_codes, kind, plan_id, effective_date FROM ("
        " SELECT from_code, kind, plan_id, effective_date, max(id) AS id,"
        " string_agg(to_code, ', ' ORDER BY to_code) AS to_codes FROM unit_lineage"
        " WHERE level <> 'grid' AND left(from_code, 6) = $1 AND effective_date <= $2 AND from_code <> to_code"
        " GROUP BY from_code, kind, plan_id, effective_date) edges"
        " ORDER BY from_code, effective_date DESC, id DESC",
        plan.county,
        plan.effective_date,
    )
    return {  # a divided township names every successor
        r["from_code"]: f"{r['kind']} {r['to_codes']} by plan {r['plan_id']} on {r['effective_date']}"
        for r in rows
        if r["from_code"] not in units
    }


async def refuse_out_of_order(conn: Conn, plan: RedistrictingPlan) -> None:
    """A plan may not take effect before a plan of its county that is already applied."""
    later = await conn.fetchrow(
        "SELECT plan_id, effective_date FROM redistricting_plans WHERE county = $1 AND effective_date > $2"
        " ORDER BY effective_date DESC, applied_at DESC LIMIT 1",
        plan.county,
        plan.effective_date,
    )
    if later is not None:
        raise PlanConflict(
            f"out of order: plan {later['plan_id']} of county {plan.county} already takes effect on"
            f" {later['effective_date']}, after {plan.effective_date}; plans of a county are applied in the order"
            " they take effect (give this plan a date on or after it)"
        )


async def refuse_stale(conn: Conn, expected: int) -> None:
    """The registry must be the one the plan was validated against."""
    now = await registry_revision(conn)
    if now != expected:
        last = await conn.fetchrow(
            "SELECT plan_id, applied_by, applied_at FROM redistricting_plans ORDER BY applied_at DESC LIMIT 1"
        )
        since = f"; the last plan applied is {last['plan_id']} by {last['applied_by']}" if last else ""
        raise PlanConflict(
            f"stale: the plan was validated against registry revision {expected}, the registry is at {now}{since};"
            " validate it again"
        )


async def refuse_same_day_rows(conn: Conn, plan: RedistrictingPlan, rows: Rows) -> None:
    """A row another plan started on (or after) this plan's effective date cannot be ended or started again."""
    units = sorted({*rows.units_ended, *(u.code for u in rows.units_started)})
    grids = sorted({*rows.grids_ended, *(g.code for g in rows.grids_started)})
    clashes = await conn.fetch(
        "SELECT code FROM admin_units WHERE code = ANY($1::text[]) AND valid_from >= $3"
        " UNION SELECT code FROM grids WHERE code = ANY($2::text[]) AND valid_from >= $3 ORDER BY code",
        units,
        grids,
        plan.effective_date,
    )
    if clashes:
        others = await conn.fetch(
            "SELECT plan_id FROM redistricting_plans WHERE county = $1 AND effective_date = $2 ORDER BY plan_id",
            plan.county,
            plan.effective_date,
        )
        codes = ", ".join(r["code"] for r in clashes[:10]) + (" …" if len(clashes) > 10 else "")
        by = ", ".join(r["plan_id"] for r in others) or "another change"
        raise PlanConflict(
            f"{len(clashes)} rows this plan changes already start on {plan.effective_date} ({codes}), written by"
            f" {by}; give this plan a later effective date or fold it into that plan"
        )


async def cases_to_move(conn: Conn, out: Outcome) -> int:
    """Open cases whose grid ends without keeping its code, or that lie in a piece cut away from a grid that keeps
    it: each gets exactly one transfer."""
    gone = sorted(set(out.rows.grids_ended) - {g.code for g in out.rows.grids_started})
    count = await conn.fetchval(
        "SELECT count(*) FROM cases WHERE closed_at IS NULL AND grid_code = ANY($1::text[])", gone
    )
    for old, pieces in sorted(out.grid_pieces.items()):
        away = [out.grids[p].geom for p in set(pieces) if p != old and p in out.grids]
        if old not in out.grids or not away:
            continue
        count += await conn.fetchval(
            "SELECT count(*) FROM cases WHERE closed_at IS NULL AND grid_code = $1"
            " AND ST_Covers(ST_SetSRID(ST_GeomFromWKB($2), 4326), location)"
            " AND NOT ST_Covers(ST_SetSRID(ST_GeomFromWKB($3), 4326), location)",
            old,
            multipolygon_wkb(shapely.union_all(away)),
            multipolygon_wkb(out.grids[old].geom),
        )
    return int(count or 0)
