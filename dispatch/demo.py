"""Demo data: one real county (青川县) with synthetic township, village and grid polygons, named people,
one enforcement team and stationed agencies per township, and county routing rules."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import shapely
from shapely.geometry.base import BaseGeometry

from dispatch.db import Conn
from dispatch.registry_store import bump_revision
from dispatch.synthetic import Division, SyntheticUnit, generate_county, load_county_outline, read_divisions

DATA = Path(__file__).with_name("data") / "guangyuan"
DEMO_COUNTY = "510822"
DEMO_VALID_FROM = date(2019, 12, 24)  # 广府〔2019〕: first batch of Guangyuan's mergers approved
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅春梅德明德华永刚玉兰小红晓东晓燕"
AGENCIES = (("police", "派出所"), ("market", "市场监管所"), ("justice", "司法所"))


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
    DefaultRule(20, "team", 72, category="illegal_construction", priority="high", note="违法建设交综合执法队"),
    DefaultRule(30, "agency", 48, category="market", agency_type="market", note="市场监管交市场监管所"),
    DefaultRule(40, "agency", 4, category="public_order", agency_type="police", priority="urgent", note="治安交派出所"),
    DefaultRule(50, "team", 24, category="fire", min_severity="high", priority="urgent", note="重大消防隐患交执法队"),
    DefaultRule(
        60, "agency", 72, category="dispute", min_severity="high", agency_type="justice", note="重大矛盾纠纷交司法所"
    ),
    DefaultRule(1000, "grid_member", 48, note="其余由网格员属地处置"),
)


def person_name(key: str) -> str:
    """A deterministic, plausible Chinese name for a synthetic person."""
    h = zlib.crc32(key.encode())
    given = GIVEN[(h >> 8) % len(GIVEN)] + (GIVEN[(h >> 16) % len(GIVEN)] if h % 3 else "")
    return SURNAMES[h % len(SURNAMES)] + given


def person_phone(key: str) -> str:
    """A deterministic synthetic mobile number (not a real subscriber)."""
    return f"1{zlib.crc32(key.encode()) % 10**10:010d}"[:11]


def _multi(geom: BaseGeometry) -> bytes:
    wkb: bytes = shapely.to_wkb(geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom]))
    return wkb


async def load_demo(pool: asyncpg.Pool, county: str = DEMO_COUNTY, force: bool = False) -> dict[str, int]:
    """Load the demo county once (again with `force`); returns counts of what is there."""
    divisions = read_divisions(DATA / "divisions-2020.csv")
    outline = load_county_outline(DATA / "counties.geojson", county)
    async with pool.acquire() as conn:
        present = await conn.fetchval("SELECT count(*) FROM grids WHERE county_code = $1", county)
    if present and not force:
        return await counts(pool, county)
    units = generate_county(outline, divisions, county)
    async with pool.acquire() as conn, conn.transaction():
        await _clear(conn, county)
        await _load_units(conn, county, divisions, outline, units)
        await _load_people(conn, units)
        await _load_rules(conn, county)
        for part in ("boundaries", "people", "rules"):
            await bump_revision(conn, part)
    return await counts(pool, county)


async def counts(pool: asyncpg.Pool, county: str) -> dict[str, int]:
    """How many townships, villages, grids, people and rules the county has."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM admin_units WHERE level='township' AND parent_code=$1) AS townships,"
            " (SELECT count(*) FROM admin_units WHERE level='village' AND left(code,6)=$1) AS villages,"
            " (SELECT count(*) FROM grids WHERE county_code=$1) AS grids,"
            " (SELECT count(*) FROM people WHERE left(unit_code,6)=$1) AS people,"
            " (SELECT count(*) FROM routing_rules WHERE unit_code=$1) AS rules",
            county,
        )
    assert row is not None
    return dict(row.items())


async def _clear(conn: Conn, county: str) -> None:
    like = county + "%"
    await conn.execute("DELETE FROM grid_posts WHERE grid_code LIKE $1", like)
    await conn.execute("DELETE FROM people WHERE unit_code LIKE $1", like)
    await conn.execute("DELETE FROM teams WHERE unit_code LIKE $1", like)
    await conn.execute("DELETE FROM grids WHERE county_code = $1", county)
    await conn.execute("DELETE FROM routing_rules WHERE unit_code = $1", county)
    await conn.execute("DELETE FROM admin_units WHERE code LIKE $1 OR code = $2", like, county[:4] + "00")


async def _load_units(
    conn: Conn, county: str, divisions: list[Division], outline: BaseGeometry, units: list[SyntheticUnit]
) -> None:
    by_code = {d.code: d for d in divisions}
    city, cnty = by_code[county[:4] + "00"], by_code[county]
    rows = [
        (city.code, city.name, "city", None, False, False, None),
        (cnty.code, cnty.name, "county", city.code, False, False, _multi(outline)),
    ]
    rows += [
        (u.code, u.name, u.level, u.parent_code, u.statistical_only, True, _multi(u.polygon))
        for u in units
        if u.level in ("township", "village")
    ]
    await conn.executemany(
        "INSERT INTO admin_units (code, name, level, parent_code, statistical_only, synthetic_geometry, geom,"
        " valid_from) VALUES ($1,$2,$3,$4,$5,$6,ST_SetSRID(ST_GeomFromWKB($7),4326),$8)",
        [(*r, DEMO_VALID_FROM) for r in rows],
    )
    villages = {u.code: u for u in units if u.level == "village"}
    await conn.executemany(
        "INSERT INTO grids (code, name, village_code, township_code, county_code, kind, households, population,"
        " geom, valid_from) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,ST_SetSRID(ST_GeomFromWKB($9),4326),$10)",
        [
            (
                g.code,
                g.name,
                g.parent_code,
                _township_of(g, villages),
                county,
                g.kind,
                g.households,
                g.population,
                _multi(g.polygon),
                DEMO_VALID_FROM,
            )
            for g in units
            if g.level == "grid"
        ],
    )


def _township_of(grid: SyntheticUnit, villages: dict[str, SyntheticUnit]) -> str:
    village = villages.get(grid.parent_code)
    return village.parent_code if village else grid.code[:9]


async def _load_people(conn: Conn, units: list[SyntheticUnit]) -> None:
    people: list[tuple[str, str, str, str, str, str | None]] = []
    posts: list[tuple[str, str]] = []
    teams: list[tuple[str, str, str | None, str, str]] = []
    for u in units:
        if u.level == "grid":
            pid = f"gm-{u.code}"
            people.append((pid, person_name(pid), person_phone(pid), "grid_member", u.code, None))
            posts.append((u.code, pid))
        elif u.level in ("village", "township"):
            pid = f"duty-{u.code}"
            people.append((pid, person_name(pid), person_phone(pid), "duty", u.code, None))
        if u.level == "township":
            team_id = f"enf-{u.code}"
            teams.append((team_id, "enforcement", None, f"{u.name}综合行政执法队", u.code))
            for n in range(1, 5):
                pid = f"off-{u.code}-{n}"
                people.append((pid, person_name(pid), person_phone(pid), "officer", u.code, team_id))
            teams += [(f"{kind}-{u.code}", "agency", kind, f"{u.name}{label}", u.code) for kind, label in AGENCIES]
    await conn.executemany(
        "INSERT INTO teams (id, kind, agency_type, name, unit_code, valid_from) VALUES ($1,$2,$3,$4,$5,$6)",
        [(*t, DEMO_VALID_FROM) for t in teams],
    )
    await conn.executemany(
        "INSERT INTO people (id, name, phone, role, unit_code, team_id, valid_from) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        [(*p, DEMO_VALID_FROM) for p in people],
    )
    await conn.executemany(
        "INSERT INTO grid_posts (grid_code, person_id, post, valid_from) VALUES ($1,$2,'full_time',$3)",
        [(*p, DEMO_VALID_FROM) for p in posts],
    )


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
