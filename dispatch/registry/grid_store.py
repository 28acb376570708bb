"""Import checked grids: read the registry of their effective date, check, and write them in one transaction (or
only report, in a dry run). The previous grids of each village in the file end the day before."""

from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict
from datetime import date
from typing import Any

import asyncpg
import shapely

from dispatch import errors
from dispatch.clock import in_force
from dispatch.db import Conn
from dispatch.registry.grid_check import ImportPlan, Member, RegistryView, Village, check_grids
from dispatch.registry.grid_fields import GridFields
from dispatch.registry.grid_file import GridFile
from dispatch.registry.grid_rows import GridRow, Problem, parse_rows
from dispatch.registry.load import multipolygon_wkb
from dispatch.registry.revisions import bump_revision

LOCK = zlib.crc32(b"grid import")
"""One import at a time: each reads the registry it then changes."""
VALID_ON = "valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"
VILLAGES = (
    "SELECT code, name, parent_code, ST_AsBinary(geom) AS wkb FROM admin_units WHERE level = 'village'"
    f" AND code = ANY($1::text[]) AND {VALID_ON} AND geom IS NOT NULL AND starts_with(code, $3)"
)
LATER = (
    "SELECT village_code, min(valid_from) AS day FROM grids WHERE village_code = ANY($1::text[]) AND valid_from >= $2"
    " GROUP BY village_code"
)
MEMBERS = (
    "SELECT p.id, p.name, m.unit_code, p.phone, u.username FROM people p LEFT JOIN users u ON u.person_id = p.id"
    f" JOIN team_memberships m ON m.person_id = p.id AND {in_force('m', '$2')}"
    f" WHERE p.role = 'grid_member' AND {in_force('p', '$2')}"
    " AND starts_with(m.unit_code, $3) AND (p.id = ANY($1::text[]) OR p.phone = ANY($1::text[])"
    " OR u.username = ANY($1::text[]))"
)
REPLACED = "village_code = ANY($1::text[]) AND valid_from < $2 AND (valid_to IS NULL OR $2 < valid_to)"


class BadGridFile(errors.Invalid):
    """The grid file cannot be imported; one entry per problem, each naming its grid (feature) and what is wrong."""

    kind = "grid_file_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s), nothing imported: " + "; ".join(p.msg for p in problems[:5]))
        self.problems = problems
        self.fields = [(p.loc, p.msg) for p in problems]


class GridReferencesNotFound(errors.NotFound, BadGridFile):
    """The file names a village or member that does not exist or lies outside the importer's reach (404, as any
    reference out of reach); the other problems are listed too."""

    kind = "not_found"


def refusal(problems: list[Problem]) -> BadGridFile:
    """The error for these problems: 404 when any names something out of reach, else 422."""
    return GridReferencesNotFound(problems) if any(p.missing for p in problems) else BadGridFile(problems)


def grid_rows(file: GridFile, options: GridFields) -> list[GridRow]:
    """The file's grids, or BadGridFile naming every bad feature and missing attribute."""
    rows, problems = parse_rows(file, options)
    if problems:
        raise BadGridFile(problems)
    return rows


async def import_grids(
    pool: asyncpg.Pool, rows: list[GridRow], day: date, area: str = "", dry_run: bool = False
) -> dict[str, Any]:
    """Check the grids against the registry on `day` within `area` (a code prefix) and, unless a dry run, write them:
    all or nothing. Returns what was (or would be) done; raises BadGridFile (or its 404) with every problem."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK)
        view = await read_view(conn, rows, day, area)
        plan = await asyncio.to_thread(check_grids, rows, view)
        if plan.problems:
            raise refusal(plan.problems)
        ended = [r["code"] for r in await conn.fetch(f"SELECT code FROM grids WHERE {REPLACED}", plan.villages, day)]
        gone = sorted(set(ended) - {r.code for r in rows})
        open_cases = await conn.fetchval(
            "SELECT count(*) FROM cases WHERE closed_at IS NULL AND grid_code = ANY($1::text[])", gone
        )
        report = _report(plan, ended, gone, open_cases, dry_run)
        if not dry_run:
            await _write(conn, plan, view, ended)
            report["revision"] = await bump_revision(conn, "boundaries")
            await bump_revision(conn, "people")
    return report


async def read_view(conn: Conn, rows: list[GridRow], day: date, area: str) -> RegistryView:
    """The villages the grids name, the members they name and later grid versions, as the registry has them on
    `day` within `area`."""
    villages = sorted({r.village for r in rows})
    keys = sorted({r.member for r in rows if r.member})
    found = {
        r["code"]: Village(r["code"], r["name"], r["parent_code"], shapely.from_wkb(r["wkb"]))
        for r in await conn.fetch(VILLAGES, villages, day, area)
    }
    later = {r["village_code"]: r["day"] for r in await conn.fetch(LATER, list(found), day)}
    members: dict[str, dict[str, Member]] = defaultdict(dict)
    wanted = set(keys)
    for r in await conn.fetch(MEMBERS, keys, day, area):
        member = Member(r["id"], r["name"], r["unit_code"])
        for key in {r["id"], r["phone"], r["username"]} & wanted:
            members[key][member.id] = member
    return RegistryView(day, found, {k: list(v.values()) for k, v in members.items()}, later)


def _report(plan: ImportPlan, ended: list[str], gone: list[str], open_cases: int, dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "effective_date": plan.day.isoformat(),
        "grids": len(plan.rows),
        "villages": plan.villages,
        "ended": len(ended),
        "ended_codes_not_kept": gone,
        "open_cases_on_ended_codes": open_cases,
        "members": {code: m.id for code, m in sorted(plan.members.items())},
        "vacant": plan.vacant,
        "revision": None,
    }


async def _write(conn: Conn, plan: ImportPlan, view: RegistryView, ended: list[str]) -> None:
    """End the villages' current grids and their posts at the effective date, then insert the new grids and posts."""
    day = plan.day
    await conn.execute(f"UPDATE grids SET valid_to = $2 WHERE {REPLACED}", plan.villages, day)
    await conn.execute(
        "UPDATE grid_posts SET valid_to = greatest(valid_from, $2::date) WHERE grid_code = ANY($1::text[])"
        " AND (valid_to IS NULL OR $2 < valid_to)",
        sorted({*ended, *(r.code for r in plan.rows)}),
        day,
    )
    await conn.executemany(
        "INSERT INTO grids (code, name, village_code, township_code, county_code, kind, households, population,"
        " synthetic_geometry, geom, valid_from)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,false,ST_SetSRID(ST_GeomFromWKB($9),4326),$10)",
        [
            (
                r.code,
                r.name or f"{view.villages[r.village].name}第{int(r.code[12:])}网格",
                r.village,
                view.villages[r.village].township,
                r.code[:6],
                r.kind,
                r.households,
                r.population,
                multipolygon_wkb(r.geom),
                day,
            )
            for r in plan.rows
        ],
    )
    await conn.executemany(
        "INSERT INTO grid_posts (grid_code, person_id, post, valid_from) VALUES ($1,$2,'full_time',$3)",
        [(code, m.id, day) for code, m in sorted(plan.members.items())],
    )
