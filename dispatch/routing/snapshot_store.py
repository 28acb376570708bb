"""Load the routing snapshot (grids, rules, responsible parties, step SLAs) from PostGIS."""

from __future__ import annotations

from datetime import date

import asyncpg
import shapely
from shapely.geometry.base import BaseGeometry

from core.categories import CategoryTable
from core.vocabulary import PartyKind, SelfReport, Severity
from dispatch.db import Conn
from dispatch.registry.categories_store import load_table
from dispatch.routing.locate import GridIndex
from dispatch.routing.model import Directory, GridRef, Party, Person, RoutingRule, successor_map, townships_served
from dispatch.routing.rules import RuleBook
from dispatch.routing.self_report import SelfReportBook
from dispatch.routing.snapshot import RoutingSnapshot
from dispatch.routing.step_sla import StepSlaBook, StepSlaPolicy

GRIDS = """
SELECT g.code, g.name, g.village_code, g.township_code, g.county_code, g.valid_from, g.valid_to,
       coalesce(t.name, g.township_code) AS township_name, ST_AsBinary(g.geom) AS wkb
FROM grids g
LEFT JOIN LATERAL (
    SELECT name FROM admin_units a WHERE a.code = g.township_code ORDER BY a.valid_from DESC LIMIT 1
) t ON true
"""

MEMBERS = """
SELECT DISTINCT ON (gp.grid_code) gp.grid_code, p.id, p.name
FROM grid_posts gp JOIN people p ON p.id = gp.person_id
WHERE gp.valid_from <= $1 AND (gp.valid_to IS NULL OR $1 < gp.valid_to)
  AND p.valid_from <= $1 AND (p.valid_to IS NULL OR $1 < p.valid_to)
ORDER BY gp.grid_code, gp.post = 'full_time' DESC, gp.id
"""

PEOPLE = """
SELECT p.id, p.role, m.unit_code, m.team_id,
       coalesce(array_agg(gp.grid_code) FILTER (WHERE gp.grid_code IS NOT NULL), '{}') AS grids
FROM people p
JOIN team_memberships m ON m.person_id = p.id AND m.valid_from <= $1 AND (m.valid_to IS NULL OR $1 < m.valid_to)
LEFT JOIN grid_posts gp ON gp.person_id = p.id AND gp.valid_from <= $1 AND (gp.valid_to IS NULL OR $1 < gp.valid_to)
WHERE p.valid_from <= $1 AND (p.valid_to IS NULL OR $1 < p.valid_to)
GROUP BY p.id, m.id
"""

# Units that ceased to exist and what they became; a part transferred away leaves its unit in place.
UNIT_LINEAGE = (
    "SELECT from_code, to_code FROM unit_lineage WHERE level <> 'grid'"
    " AND kind IN ('merged_into', 'recoded_to', 'split_into', 'divided_into') ORDER BY effective_date, id"
)

SELF_REPORT_POLICIES = "SELECT unit_code, policy FROM self_report_policies"

VALID_NOW = "valid_from <= $1 AND (valid_to IS NULL OR $1 < valid_to)"


async def load_snapshot(pool: asyncpg.Pool, today: date) -> RoutingSnapshot:
    """Everything routing needs, read in one repeatable-read transaction."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        revision = await conn.fetchval("SELECT coalesce(sum(revision), 0) FROM registry_revisions")
        grid_rows = await conn.fetch(GRIDS)
        rule_rows = await conn.fetch("SELECT * FROM routing_rules")
        lineage_rows = await conn.fetch(
            "SELECT from_code, to_code FROM unit_lineage WHERE level = 'grid' ORDER BY effective_date, id"
        )
        directory = await _directory(conn, today)
        sla_rows = await conn.fetch(
            "SELECT unit_code, accept_minutes, verify_minutes, category, priority, valid_from, valid_to FROM step_slas"
        )
        self_report = SelfReportBook(
            {r["unit_code"]: SelfReport(r["policy"]) for r in await conn.fetch(SELF_REPORT_POLICIES)}
        )
        categories: CategoryTable = await load_table(conn)
    successors = {r["from_code"]: r["to_code"] for r in lineage_rows if r["from_code"] != r["to_code"]}
    slas = StepSlaBook(StepSlaPolicy(**dict(r)) for r in sla_rows)
    index = GridIndex(_grids(grid_rows), revision, successors)
    book = RuleBook([_rule(r) for r in rule_rows], revision)
    return RoutingSnapshot(index, book, directory, slas, self_report, categories)


def _grids(rows: list[asyncpg.Record]) -> list[tuple[GridRef, BaseGeometry]]:
    """Grid references with their polygons, decoded in one vectorised call."""
    geoms = shapely.from_wkb([r["wkb"] for r in rows]) if rows else []
    return [
        (
            GridRef(
                r["code"],
                r["name"],
                r["village_code"],
                r["township_code"],
                r["township_name"],
                r["county_code"],
                r["valid_from"],
                r["valid_to"],
            ),
            geom,
        )
        for r, geom in zip(rows, geoms, strict=True)
    ]


def _rule(r: asyncpg.Record) -> RoutingRule:
    """A routing rule from its row."""
    return RoutingRule(
        id=r["id"],
        unit_code=r["unit_code"],
        position=r["position"],
        target=PartyKind(r["target"]),
        sla_hours=r["sla_hours"],
        event_type=r["event_type"],
        category=r["category"],
        min_severity=Severity(r["min_severity"]) if r["min_severity"] else None,
        agency_type=r["agency_type"],
        priority=Severity(r["priority"]) if r["priority"] else None,
        valid_from=r["valid_from"],
        valid_to=r["valid_to"],
    )


async def _directory(conn: Conn, today: date) -> Directory:
    """Who answers for what today: grid members, duty posts, teams, agencies and every serving person."""
    member_rows = await conn.fetch(MEMBERS, today)
    people_rows = await conn.fetch(PEOPLE, today)
    unit_lineage = successor_map((r["from_code"], r["to_code"]) for r in await conn.fetch(UNIT_LINEAGE))
    duty_rows = await conn.fetch(f"SELECT id, name, unit_code FROM people WHERE role = 'duty' AND {VALID_NOW}", today)
    team_rows = await conn.fetch(f"SELECT id, kind, agency_type, name, unit_code FROM teams WHERE {VALID_NOW}", today)
    return Directory(
        grid_members={r["grid_code"]: Party(PartyKind.GRID_MEMBER, r["id"], r["name"]) for r in member_rows},
        duty_posts={r["unit_code"]: Party(PartyKind.GRID_MEMBER, r["id"], r["name"]) for r in duty_rows},
        enforcement_teams={
            r["unit_code"]: Party(PartyKind.ENFORCEMENT, r["id"], r["name"])
            for r in team_rows
            if r["kind"] == "enforcement"
        },
        agencies={
            (r["unit_code"], r["agency_type"]): Party(PartyKind.AGENCY, r["id"], r["name"], r["agency_type"])
            for r in team_rows
            if r["kind"] == "agency"
        },
        people={
            r["id"]: Person(
                r["id"],
                r["role"],
                r["unit_code"],
                r["team_id"],
                townships_served(r["unit_code"], r["grids"], unit_lineage),
            )
            for r in people_rows
        },
    )
