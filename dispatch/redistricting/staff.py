"""People at a plan's date: read whom the plan touches, decide their fate (`staff_rule`), and write it as history.

A carried person's membership ends at the date and a new one starts (the team history keeps both), and `people`
takes the new unit and team (it holds the latest); an ended person's service and posts end at the date. Their
accounts follow on the date itself (`dispatch.access.account_follow`): at once when the plan applies on or after it,
else by the processors' clock when the day comes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.plans import RedistrictingPlan
from dispatch.access.account_follow import accounts_of, follow_service
from dispatch.clock import local_day
from dispatch.db import Conn
from dispatch.redistricting.inherit import inherit_overrides
from dispatch.redistricting.model import Unit
from dispatch.redistricting.staff_rule import (
    Decision,
    Serving,
    StaffPlan,
    Team,
    decide,
    item_errors,
    predecessors,
    successors,
)
from dispatch.redistricting.validate import Outcome
from dispatch.redistricting.writes import move_people
from dispatch.registry.load import township_teams

TOUCHED = """
SELECT p.id, p.role, p.unit_code, p.team_id, t.kind AS team_kind, t.agency_type,
       coalesce(array_agg(gp.grid_code ORDER BY gp.grid_code) FILTER (WHERE gp.grid_code IS NOT NULL), '{}') AS grids
FROM people p
LEFT JOIN teams t ON t.id = p.team_id
LEFT JOIN grid_posts gp ON gp.person_id = p.id AND (gp.valid_to IS NULL OR $2 < gp.valid_to)
WHERE p.valid_from <= $2 AND (p.valid_to IS NULL OR $2 < p.valid_to)
  AND (p.unit_code = ANY($1::text[]) OR p.id = ANY($3::text[])
       OR EXISTS (SELECT 1 FROM grid_posts g WHERE g.person_id = p.id AND g.grid_code = ANY($4::text[])
                  AND (g.valid_to IS NULL OR $2 < g.valid_to)))
GROUP BY p.id, t.kind, t.agency_type
"""
TEAMS_ON = (
    "SELECT id, kind, agency_type, unit_code FROM teams WHERE left(unit_code, 6) = $1"
    " AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)"
)


async def plan_staff(conn: Conn, plan: RedistrictingPlan, out: Outcome, before: dict[str, Unit]) -> StaffPlan:
    """Every person the plan touches and their fate, with the staff items' errors; nothing is written."""
    eff = plan.effective_date
    heirs = successors(before, out.units, out.lineage)
    moves = out.post_moves()
    items = {i.person: i for i in plan.staff}
    rows = await conn.fetch(TOUCHED, sorted(heirs), eff, sorted(items), sorted(moves))
    people = {
        r["id"]: Serving(
            r["id"],
            r["role"],
            r["unit_code"],
            r["team_id"],
            r["team_kind"],
            r["agency_type"],
            tuple(moves.get(g, g) for g in r["grids"] if moves.get(g, g) in out.grids),
        )
        for r in rows
    }
    teams = await teams_on(conn, plan, out, before)
    result = StaffPlan()
    seen: set[str] = set()
    for n, item in enumerate(plan.staff):
        if item.person in seen:
            result.errors.append(f"staff {n + 1} ({item.person}): {item.person} is named twice")
        seen.add(item.person)
        result.errors += item_errors(n, item, people.get(item.person), plan.county, out.units, teams, str(eff))
    result.decisions = decide([people[p] for p in sorted(people)], items, heirs, teams)
    return result


async def teams_on(conn: Conn, plan: RedistrictingPlan, out: Outcome, before: dict[str, Unit]) -> list[Team]:
    """The county's teams on the plan's date once it applies: those of units that remain, and the new townships'."""
    rows = await conn.fetch(TEAMS_ON, plan.county, plan.effective_date)
    kept = [Team(r["id"], r["kind"], r["agency_type"], r["unit_code"]) for r in rows if r["unit_code"] in out.units]
    made = [
        Team(t[0], t[1], t[2], t[4])
        for code, u in sorted(out.units.items())
        if code not in before and u.level == "township"
        for t in township_teams(code, u.name, plan.effective_date)
    ]
    known = {t.id for t in kept}
    return kept + [t for t in made if t.id not in known]


async def follow_plan(
    conn: Conn, plan: RedistrictingPlan, out: Outcome, before: dict[str, Unit], staff: StaffPlan, by: str
) -> dict[str, int]:
    """After the plan's units and grids are written: posts follow their grids, people their decisions, and new
    townships inherit their predecessor's overrides; returns the counts of what changed."""
    eff = plan.effective_date
    posted = await move_people(conn, out, before, eff)
    changed = await write_staff(conn, plan.plan_id, staff, eff)
    touched = sorted(posted | changed)
    heirs = predecessors(before, out.units, successors(before, out.units, out.lineage))
    return {
        "people_changed": len(touched),
        **await _accounts_follow(conn, touched, eff),
        **await inherit_overrides(conn, plan.plan_id, heirs, eff, by),
    }


async def _accounts_follow(conn: Conn, people: list[str], eff: date) -> dict[str, int]:
    """The people's accounts follow now when the date has come, else on the date (counted as waiting)."""
    today = local_day(datetime.now(UTC))
    if eff > today:
        return {"accounts_moved": 0, "accounts_disabled": 0, "accounts_on_date": await accounts_of(conn, people)}
    done = await follow_service(conn, today, people)
    return {"accounts_moved": len(done.moved), "accounts_disabled": len(done.disabled), "accounts_on_date": 0}


async def write_staff(conn: Conn, plan_id: str, staff: StaffPlan, eff: date) -> set[str]:
    """Write every decision; returns the ids of the people changed."""
    carried = [d for d in staff.decisions if d.action == "carry"]
    await _carry(conn, plan_id, carried, eff)
    ended = sorted(d.person for d in staff.decisions if d.action == "end")
    await conn.execute(
        "UPDATE people SET valid_to = greatest(valid_from, $2) WHERE id = ANY($1::text[])"
        " AND (valid_to IS NULL OR $2 < valid_to)",
        ended,
        eff,
    )
    await conn.execute(
        "UPDATE grid_posts SET valid_to = greatest(valid_from, $2) WHERE person_id = ANY($1::text[])"
        " AND (valid_to IS NULL OR $2 < valid_to)",
        ended,
        eff,
    )
    return {d.person for d in carried} | set(ended)


MOVES = "unnest($1::text[], $2::text[], $3::text[]) AS d(person, unit, team)"


async def _carry(conn: Conn, plan_id: str, carried: list[Decision], eff: date) -> None:
    """End each person's membership at the date and start the new one (a membership starting on or after the date
    is the new one); `people` takes the new unit and team."""
    moves = ([d.person for d in carried], [d.unit for d in carried], [d.team for d in carried])
    reused = await conn.fetch(
        f"UPDATE team_memberships m SET unit_code = d.unit, team_id = d.team, plan_id = $4::text FROM {MOVES}"
        " WHERE m.person_id = d.person AND m.valid_to IS NULL AND m.valid_from >= $5 RETURNING m.person_id",
        *moves,
        plan_id,
        eff,
    )
    await conn.execute(
        "UPDATE team_memberships SET valid_to = $2 WHERE person_id = ANY($1::text[]) AND valid_to IS NULL"
        " AND valid_from < $2 AND NOT person_id = ANY($3::text[])",
        moves[0],
        eff,
        [r["person_id"] for r in reused],
    )
    await conn.execute(
        f"INSERT INTO team_memberships (person_id, unit_code, team_id, valid_from, plan_id)"
        f" SELECT d.person, d.unit, d.team, $4::date, $5::text FROM {MOVES} WHERE NOT d.person = ANY($6::text[])",
        *moves,
        eff,
        plan_id,
        [r["person_id"] for r in reused],
    )
    await conn.execute(
        f"UPDATE people p SET unit_code = d.unit, team_id = d.team FROM {MOVES} WHERE p.id = d.person", *moves
    )
    await conn.executemany(
        "UPDATE grid_posts SET valid_to = $3 WHERE person_id = $1 AND valid_to IS NULL AND valid_from < $3"
        " AND NOT starts_with(grid_code, $2)",
        [(d.person, d.unit, eff) for d in carried if d.by_item],
    )
