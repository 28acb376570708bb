"""Write a validated plan's rows: exactly the rows its outcome computed, and the people who follow them."""

from __future__ import annotations

from datetime import date

from dispatch.db import Conn
from dispatch.redistricting.model import Unit
from dispatch.redistricting.validate import Outcome
from dispatch.registry.load import multipolygon_wkb, person_name, person_phone, township_teams

END_CURRENT = "SET valid_to = $2 WHERE code = ANY($1::text[]) AND valid_to IS NULL AND valid_from < $2"


async def write_units(conn: Conn, out: Outcome, eff: date) -> None:
    """End the unit rows the plan ends and start the rows it starts, nothing else."""
    await conn.execute(f"UPDATE admin_units {END_CURRENT}", list(out.rows.units_ended), eff)
    await conn.executemany(
        "INSERT INTO admin_units (code, name, level, parent_code, statistical_only, synthetic_geometry, geom,"
        " valid_from) VALUES ($1,$2,$3,$4,$5,true,ST_SetSRID(ST_GeomFromWKB($6),4326),$7)",
        [
            (u.code, u.name, u.level, u.parent, u.statistical_only, multipolygon_wkb(u.geom), eff)
            for u in out.rows.units_started
        ],
    )


async def write_grids(conn: Conn, out: Outcome, county: str, eff: date) -> None:
    """End the grid rows the plan ends and start every piece it made, each with its own row."""
    await conn.execute(f"UPDATE grids {END_CURRENT}", list(out.rows.grids_ended), eff)
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
            for g in out.rows.grids_started
        ],
    )


async def write_lineage(conn: Conn, out: Outcome, plan_id: str, eff: date) -> None:
    """Every lineage edge of the plan, with the share that went where when the operation knows it."""
    await conn.executemany(
        "INSERT INTO unit_lineage (from_code, to_code, kind, level, plan_id, effective_date, share)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7)",
        [
            (e.from_code, e.to_code, e.kind, e.level, plan_id, eff, None if e.share is None else dict(e.share))
            for e in out.lineage
        ],
    )


async def move_people(conn: Conn, out: Outcome, before: dict[str, Unit], eff: date) -> set[str]:
    """Grid members' posts follow their grid (a cut grid's to its remainder or largest piece); teams of abolished
    units end; new units get their teams and duty posts (the people themselves: `staff`). Returns the ids of the
    people whose posts changed."""
    moves = out.post_moves()
    moved = await conn.fetch(
        "UPDATE grid_posts SET valid_to = $2 WHERE grid_code = ANY($1::text[]) AND valid_to IS NULL"
        " AND valid_from < $2 RETURNING grid_code, person_id, post",
        sorted(moves),
        eff,
    )
    await conn.executemany(
        "INSERT INTO grid_posts (grid_code, person_id, post, valid_from) VALUES ($1,$2,$3,$4)",
        [(moves[p["grid_code"]], p["person_id"], p["post"], eff) for p in moved],
    )
    changed = {p["person_id"] for p in moved}
    abolished = sorted(c for c in before if c not in out.units)
    created = [u for c, u in sorted(out.units.items()) if c not in before]
    await conn.executemany(
        "INSERT INTO teams (id, kind, agency_type, name, unit_code, valid_from) VALUES ($1,$2,$3,$4,$5,$6)"
        " ON CONFLICT (id) DO NOTHING",
        [row for u in created if u.level == "township" for row in township_teams(u.code, u.name, eff)],
    )
    for u in created:
        duty = f"duty-{u.code}"
        changed.update(
            r["id"]
            for r in await conn.fetch(
                "INSERT INTO people (id, name, phone, role, unit_code, valid_from) VALUES ($1,$2,$3,'duty',$4,$5)"
                " ON CONFLICT (id) DO NOTHING RETURNING id",
                duty,
                person_name(duty),
                person_phone(duty),
                u.code,
                eff,
            )
        )
    await conn.execute(
        "UPDATE teams SET valid_to = $2 WHERE unit_code = ANY($1::text[]) AND valid_to IS NULL AND valid_from < $2",
        abolished,
        eff,
    )
    return changed
