"""Demo data: one real county (青川县) with synthetic township, village and grid polygons, named people,
one enforcement team and stationed agencies per township, and county routing rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg

from core.vocabulary import SelfReport
from dispatch.access.demo_accounts import create_demo_accounts
from dispatch.db import Conn
from dispatch.geometry.synthetic import load_county_outline, read_divisions
from dispatch.registry.load import load_county
from dispatch.registry.revisions import bump_revision

DATA = Path(__file__).parents[1] / "data" / "guangyuan"
DEMO_COUNTY = "510822"
DEMO_VALID_FROM = date(2019, 12, 24)  # 广府〔2019〕: first batch of Guangyuan's mergers approved


@dataclass(frozen=True)
class DefaultRule:
    """A routing rule of the county default table."""

    position: int
    target: str
    sla_hours: int
    event_type: str | None = None
    category: str | None = None
    min_severity: str | None = None
    agency_type: str | None = None
    priority: str | None = None
    note: str = ""


COUNTY_RULES = (
    DefaultRule(10, "team", 72, event_type="enforcement_lead", priority="high", note="执法线索交综合执法队"),
    DefaultRule(20, "team", 72, category="10", priority="high", note="违法建设交综合执法队"),
    DefaultRule(30, "agency", 48, category="09", agency_type="market", note="市场监管交市场监管所"),
    DefaultRule(40, "agency", 4, category="13", agency_type="police", priority="urgent", note="治安交派出所"),
    DefaultRule(50, "team", 24, category="12", min_severity="high", priority="urgent", note="重大消防隐患交执法队"),
    DefaultRule(
        60, "agency", 72, category="07", min_severity="high", agency_type="justice", note="重大矛盾纠纷交司法所"
    ),
    DefaultRule(1000, "grid_member", 48, note="其余由网格员属地处置"),
)


@dataclass(frozen=True)
class DefaultStepSla:
    """A step SLA of the county default table (minutes to accept, minutes to verify)."""

    accept_minutes: int
    verify_minutes: int
    category: str | None = None
    priority: str | None = None


COUNTY_STEP_SLAS = (
    DefaultStepSla(60, 240),
    DefaultStepSla(30, 120, priority="high"),
    DefaultStepSla(10, 30, priority="urgent"),
    DefaultStepSla(10, 30, category="12"),
    DefaultStepSla(10, 60, category="11"),
    DefaultStepSla(30, 120, category="08"),
)


async def load_demo(
    pool: asyncpg.Pool,
    county: str = DEMO_COUNTY,
    force: bool = False,
    divisions_file: Path = DATA / "divisions-2020.csv",
    valid_from: date = DEMO_VALID_FROM,
) -> dict[str, int]:
    """Load the demo county once (again with `force`); returns counts of what is there."""
    divisions = read_divisions(divisions_file)
    outline = load_county_outline(DATA / "counties.geojson", county)
    async with pool.acquire() as conn:
        present = await conn.fetchval("SELECT count(*) FROM grids WHERE county_code = $1", county)
    if present and not force:
        await create_demo_accounts(pool, county)
        return await counts(pool, county)
    async with pool.acquire() as conn, conn.transaction():
        await load_county(conn, county, divisions, outline, valid_from)
        await install_default_rules(conn, county)
    await create_demo_accounts(pool, county)
    return await counts(pool, county)


async def install_default_rules(conn: Conn, county: str) -> int:
    """The county's default routing rules, step SLAs and self-report policy, replacing its rules and SLAs (in the
    caller's transaction); returns how many routing rules it has now."""
    await conn.execute("DELETE FROM routing_rules WHERE unit_code = $1", county)
    await _load_rules(conn, county)
    await conn.execute("DELETE FROM step_slas WHERE unit_code = $1", county)
    await conn.executemany(
        "INSERT INTO step_slas (unit_code, category, priority, accept_minutes, verify_minutes, updated_by)"
        " VALUES ($1,$2,$3,$4,$5,'demo-loader')",
        [(county, s.category, s.priority, s.accept_minutes, s.verify_minutes) for s in COUNTY_STEP_SLAS],
    )
    await conn.execute(
        "INSERT INTO self_report_policies (unit_code, policy, note, updated_by) VALUES ($1, $2, $3, 'demo-loader')"
        " ON CONFLICT (unit_code) DO NOTHING",
        county,
        SelfReport.REPORTER_REPORT.value,
        "县级默认：本人上报即视为快速核查",
    )
    await bump_revision(conn, "rules")
    installed: int = await conn.fetchval("SELECT count(*) FROM routing_rules WHERE unit_code = $1", county)
    return installed


async def counts(pool: asyncpg.Pool, county: str) -> dict[str, int]:
    """How many townships, villages, grids, people and rules the county has."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM admin_units WHERE level='township' AND parent_code=$1) AS townships,"
            " (SELECT count(*) FROM admin_units WHERE level='village' AND left(code,6)=$1) AS villages,"
            " (SELECT count(*) FROM grids WHERE county_code=$1) AS grids,"
            " (SELECT count(*) FROM people WHERE left(unit_code,6)=$1) AS people,"
            " (SELECT count(*) FROM routing_rules WHERE unit_code=$1) AS rules,"
            " (SELECT count(*) FROM users WHERE demo) AS demo_accounts",
            county,
        )
    assert row is not None
    return dict(row.items())


async def _load_rules(conn: Conn, county: str) -> None:
    await conn.executemany(
        "INSERT INTO routing_rules (unit_code, position, event_type, category, min_severity, target, agency_type,"
        " priority, sla_hours, note, updated_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'demo-loader')",
        [
            (
                county,
                r.position,
                r.event_type,
                r.category,
                r.min_severity,
                r.target,
                r.agency_type,
                r.priority,
                r.sla_hours,
                r.note,
            )
            for r in COUNTY_RULES
        ],
    )
