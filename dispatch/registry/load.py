"""Load a county's divisions into the registry with synthetic polygons, a named member per grid, one
enforcement team and the stationed agencies per township, and duty posts for every village and township."""

from __future__ import annotations

import zlib
from datetime import date

import shapely
from shapely.geometry.base import BaseGeometry

from dispatch.db import Conn
from dispatch.geometry.synthetic import Division, SyntheticUnit, generate_county
from dispatch.registry.revisions import bump_revision

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
    "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强海燕红梅春梅德明德华永刚玉兰小红晓东晓燕"
AGENCIES = (("police", "派出所"), ("market", "市场监管所"), ("justice", "司法所"))


async def load_county(
    conn: Conn,
    county: str,
    divisions: list[Division],
    outline: BaseGeometry,
    valid_from: date,
    seed: int = 2020,
) -> list[SyntheticUnit]:
    """Replace the county's registry with this division list and generated polygons, in the caller's transaction."""
    units = generate_county(outline, divisions, county, seed=seed)
    await _clear(conn, county)
    await _load_units(conn, county, divisions, outline, units, valid_from)
    await _load_people(conn, units, valid_from)
    supervisor = f"sup-{county}"
    await conn.execute(
        "INSERT INTO people (id, name, phone, role, unit_code, valid_from) VALUES ($1,$2,$3,'county_supervisor',$4,$5)",
        supervisor,
        person_name(supervisor),
        person_phone(supervisor),
        county,
        valid_from,
    )
    for part in ("boundaries", "people"):
        await bump_revision(conn, part)
    return units


def person_name(key: str) -> str:
    """A deterministic, plausible Chinese name for a synthetic person."""
    h = zlib.crc32(key.encode())
    given = GIVEN[(h >> 8) % len(GIVEN)] + (GIVEN[(h >> 16) % len(GIVEN)] if h % 3 else "")
    return SURNAMES[h % len(SURNAMES)] + given


def person_phone(key: str) -> str:
    """A deterministic synthetic mobile number (not a real subscriber)."""
    return f"1{zlib.crc32(key.encode()) % 10**10:010d}"[:11]


def multipolygon_wkb(geom: BaseGeometry) -> bytes:
    """A polygon or multipolygon as MultiPolygon WKB, the type of every area column."""
    wkb: bytes = shapely.to_wkb(geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom]))
    return wkb


async def _clear(conn: Conn, county: str) -> None:
    like = county + "%"
    await conn.execute("DELETE FROM grid_posts WHERE grid_code LIKE $1", like)
    await conn.execute(
        "DELETE FROM team_memberships WHERE person_id IN (SELECT id FROM people WHERE unit_code LIKE $1)", like
    )
    await conn.execute("DELETE FROM people WHERE unit_code LIKE $1", like)
    await conn.execute("DELETE FROM teams WHERE unit_code LIKE $1", like)
    await conn.execute("DELETE FROM grids WHERE county_code = $1", county)
    await conn.execute("DELETE FROM routing_rules WHERE unit_code = $1", county)
    await conn.execute("DELETE FROM admin_units WHERE code LIKE $1", like)


async def _load_units(
    conn: Conn,
    county: str,
    divisions: list[Division],
    outline: BaseGeometry,
    units: list[SyntheticUnit],
    valid_from: date,
) -> None:
    by_code = {d.code: d for d in divisions}
    city, cnty = by_code[county[:4] + "00"], by_code[county]
    await conn.execute(
        "INSERT INTO admin_units (code, name, level, valid_from, synthetic_geometry) VALUES ($1,$2,'city','1900-01-01',"
        "false) ON CONFLICT (code, valid_from) DO NOTHING",
        city.code,
        city.name,
    )
    rows = [
        (cnty.code, cnty.name, "county", city.code, False, False, multipolygon_wkb(outline)),
    ]
    rows += [
        (u.code, u.name, u.level, u.parent_code, u.statistical_only, True, multipolygon_wkb(u.polygon))
        for u in units
        if u.level in ("township", "village")
    ]
    await conn.executemany(
        "INSERT INTO admin_units (code, name, level, parent_code, statistical_only, synthetic_geometry, geom,"
        " valid_from) VALUES ($1,$2,$3,$4,$5,$6,ST_SetSRID(ST_GeomFromWKB($7),4326),$8)",
        [(*r, valid_from) for r in rows],
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
                multipolygon_wkb(g.polygon),
                valid_from,
            )
            for g in units
            if g.level == "grid"
        ],
    )


def _township_of(grid: SyntheticUnit, villages: dict[str, SyntheticUnit]) -> str:
    village = villages.get(grid.parent_code)
    return village.parent_code if village else grid.code[:9]


def township_teams(code: str, name: str, valid_from: date) -> list[tuple[str, str, str | None, str, str, date]]:
    """The township's one enforcement team and its stationed agencies, as team rows."""
    return [
        (f"enf-{code}", "enforcement", None, f"{name}综合行政执法队", code, valid_from),
        *((f"{kind}-{code}", "agency", kind, f"{name}{label}", code, valid_from) for kind, label in AGENCIES),
    ]


async def _load_people(conn: Conn, units: list[SyntheticUnit], valid_from: date) -> None:
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
            teams += [t[:5] for t in township_teams(u.code, u.name, valid_from)]
            for n in range(1, 5):
                pid = f"off-{u.code}-{n}"
                people.append((pid, person_name(pid), person_phone(pid), "officer", u.code, team_id))
            for role, prefix, team in (
                ("legal_reviewer", "legal", team_id),
                ("dispatcher", "disp", None),
                ("township_leader", "lead", None),
            ):
                pid = f"{prefix}-{u.code}"
                people.append((pid, person_name(pid), person_phone(pid), role, u.code, team))
            for kind, _ in AGENCIES:
                pid = f"{kind}-{u.code}-1"
                people.append((pid, person_name(pid), person_phone(pid), "agency_staff", u.code, f"{kind}-{u.code}"))
    await conn.executemany(
        "INSERT INTO teams (id, kind, agency_type, name, unit_code, valid_from) VALUES ($1,$2,$3,$4,$5,$6)",
        [(*t, valid_from) for t in teams],
    )
    await conn.executemany(
        "INSERT INTO people (id, name, phone, role, unit_code, team_id, valid_from) VALUES ($1,$2,$3,$4,$5,$6,$7)",
        [(*p, valid_from) for p in people],
    )
    await conn.executemany(
        "INSERT INTO grid_posts (grid_code, person_id, post, valid_from) VALUES ($1,$2,'full_time',$3)",
        [(*p, valid_from) for p in posts],
    )
