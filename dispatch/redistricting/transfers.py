"""Carry open cases across redistricting: each case of a grid that no longer exists goes to its successor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid5

import asyncpg

from core.cases import Actor, Assignee, TransferCase
from core.vocabulary import PartyKind
from dispatch.errors import Conflict, NotFound
from dispatch.routing.model import GridRef, Party
from dispatch.routing.snapshot import RoutingSnapshot

TRANSFER_NAMESPACE = UUID("0d6c3e0a-6f0e-4b53-9d1c-6a8e4a1f7b22")
REGISTRY_ACTOR = Actor(id="system:registry", role="system")


@dataclass(frozen=True)
class OpenCaseRef:
    """What a transfer needs to know about an open case."""

    id: UUID
    grid_code: str
    township_code: str
    assignee_kind: str
    assignee_id: str
    agency_type: str | None
    plan_id: str | None = None
    """The plan that ended the case's grid (by lineage), when one did."""
    pieces: tuple[str, ...] = ()
    """Every grid the case's grid became (a cut grid becomes several)."""
    location: tuple[float, float] | None = None
    ended_on: date | None = None
    """The day the case's grid ended (its last row's valid_to), when it did."""


class NoSuccessor(NotFound):
    """The case's grid has no successor today; the case stays and is reported."""


class StaleSnapshot(Conflict):
    """The routing snapshot predates the plan: it still has the case's grid; retry after a reload."""


def transfer_for(
    case: OpenCaseRef, snap: RoutingSnapshot, today: date, now: datetime, plan_id: str | None
) -> TransferCase:
    """The command that moves a case to the successor grid's responsible people of the same kind: the piece its
    location lies in, else its grid's successor by lineage, else (grids redrawn outside any plan, as by a grid
    import) the grid its location lies in today."""
    grid = _piece_at(case, snap, today) or snap.index.current(case.grid_code, today) or _grid_at(case, snap, today)
    if grid is None:
        raise NoSuccessor(f"case {case.id}: grid {case.grid_code} has no successor on {today}")
    if grid.code == case.grid_code:
        raise StaleSnapshot(f"case {case.id}: the snapshot still routes to {grid.code}")
    party = _successor_party(case, grid, snap)
    why = f"区划调整 {plan_id}" if plan_id else "网格调整"
    return TransferCase(
        command_id=uuid5(TRANSFER_NAMESPACE, f"{plan_id or 'regrid:' + case.grid_code}:{case.id}"),
        case_id=case.id,
        issued_at=now,
        actor=REGISTRY_ACTOR,
        grid_code=grid.code,
        grid_name=grid.name,
        village_code=grid.village_code,
        township_code=grid.township_code,
        township_name=grid.township_name,
        assignee=Assignee(kind=party.kind, id=party.id, name=party.name),
        reason=f"{why}: {case.grid_code} → {grid.code}",
        plan_id=plan_id,
    )


def _piece_at(case: OpenCaseRef, snap: RoutingSnapshot, today: date) -> GridRef | None:
    """Of the grids a cut grid became, the one the case's location lies in today."""
    if case.location is None or len(case.pieces) < 2:
        return None
    found = snap.index.locate(*case.location, today)
    return found if found is not None and found.code in case.pieces else None


def _grid_at(case: OpenCaseRef, snap: RoutingSnapshot, today: date) -> GridRef | None:
    """The grid the case's location lies in today."""
    return None if case.location is None else snap.index.locate(*case.location, today)


def _successor_party(case: OpenCaseRef, grid: GridRef, snap: RoutingSnapshot) -> Party:
    """Who takes the case in its new grid, of the same kind: the township's team or agency, else the grid's member,
    or while the grid is vacant its village's and then its township's duty post (as routing falls back)."""
    d, township = snap.directory, grid.township_code
    found: Party | None
    if case.assignee_kind == PartyKind.ENFORCEMENT:
        found = d.enforcement_teams.get(township)
    elif case.assignee_kind == PartyKind.AGENCY:
        found = d.agencies.get((township, case.agency_type or ""))
    else:
        found = d.grid_members.get(grid.code) or d.duty_posts.get(grid.village_code) or d.duty_posts.get(township)
    if found is None:
        raise NoSuccessor(f"case {case.id}: nobody in {township} to take a {case.assignee_kind} case")
    return found


CUT_AWAY = (
    "SELECT 1 FROM unit_lineage l JOIN redistricting_plans r ON r.plan_id = l.plan_id"
    " JOIN grids p ON p.code = l.to_code WHERE l.from_code = c.grid_code"
    " AND l.level = 'grid' AND l.kind = 'split_into' AND l.to_code <> c.grid_code AND l.effective_date <= $1"
    " AND c.opened_at < greatest(r.applied_at, l.effective_date::timestamp AT TIME ZONE 'Asia/Shanghai')"
    " AND p.valid_from <= $1 AND (p.valid_to IS NULL OR $1 < p.valid_to) AND ST_Covers(p.geom, c.location)"
    " AND NOT EXISTS (SELECT 1 FROM grids k WHERE k.code = c.grid_code AND k.valid_from <= $1"
    "  AND (k.valid_to IS NULL OR $1 < k.valid_to) AND ST_Covers(k.geom, c.location))"
)
"""A case opened before its grid was cut, lying in a piece that went to another village (the grid's remainder
kept the code): it follows its piece."""


async def stranded_cases(pool: asyncpg.Pool, today: date) -> list[OpenCaseRef]:
    """Open cases whose grid is not valid today (abolished or recoded) or that lie in a piece cut away from it,
    each with the plan that ended or cut its grid."""
    rows = await pool.fetch(
        "SELECT c.id, c.grid_code, c.township_code, c.assignee_kind, c.assignee_id, t.agency_type,"
        " (SELECT l.plan_id FROM unit_lineage l WHERE l.from_code = c.grid_code AND l.level = 'grid'"
        "  AND l.effective_date <= $1 ORDER BY l.effective_date DESC, l.id DESC LIMIT 1) AS plan_id,"
        " ARRAY(SELECT l.to_code FROM unit_lineage l WHERE l.from_code = c.grid_code AND l.level = 'grid'"
        "  AND l.effective_date <= $1) AS pieces, ST_X(c.location) AS lon, ST_Y(c.location) AS lat,"
        " (SELECT max(g.valid_to) FROM grids g WHERE g.code = c.grid_code) AS ended_on FROM cases c"
        " LEFT JOIN teams t ON t.id = c.assignee_id"
        " WHERE c.closed_at IS NULL AND c.grid_code IS NOT NULL AND (NOT EXISTS ("
        "   SELECT 1 FROM grids g WHERE g.code = c.grid_code AND g.valid_from <= $1"
        "   AND (g.valid_to IS NULL OR $1 < g.valid_to))"
        f" OR EXISTS ({CUT_AWAY}))",
        today,
    )
    return [
        OpenCaseRef(
            r["id"],
            r["grid_code"],
            r["township_code"],
            r["assignee_kind"],
            r["assignee_id"],
            r["agency_type"],
            r["plan_id"],
            tuple(r["pieces"]),
            None if r["lon"] is None else (r["lon"], r["lat"]),
            r["ended_on"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class PlanInEffect:
    """An applied plan in effect, and whether its transfers were completed once."""

    plan_id: str
    county: str
    done: bool
    effective_date: date | None = None


async def plans_in_effect(pool: asyncpg.Pool, today: date) -> list[PlanInEffect]:
    """Plans in effect, oldest first."""
    rows = await pool.fetch(
        "SELECT plan_id, county, transfers_done_at IS NOT NULL AS done, effective_date FROM redistricting_plans"
        " WHERE effective_date <= $1 ORDER BY effective_date, applied_at, plan_id",
        today,
    )
    return [PlanInEffect(r["plan_id"], r["county"], r["done"], r["effective_date"]) for r in rows]


def plan_of(case: OpenCaseRef, plans: list[PlanInEffect]) -> str | None:
    """The plan a case's transfer names: the one that ended its grid by lineage, else the plan of its county that
    took effect the day its grid ended (the newest of its county when that day is unknown); None when no plan ended
    it (its grids were redrawn by an import): the case then follows its location."""
    if case.plan_id is not None:
        return case.plan_id
    county = case.township_code[:6] if case.township_code else case.grid_code[:6]
    mine = [p for p in reversed(plans) if p.county == county]
    if case.ended_on is None:
        return next((p.plan_id for p in mine), None)
    return next((p.plan_id for p in mine if p.effective_date == case.ended_on), None)


async def mark_done(pool: asyncpg.Pool, plan_id: str) -> None:
    """Every stranded case of the plan has its transfer command on the broker."""
    await pool.execute("UPDATE redistricting_plans SET transfers_done_at = now() WHERE plan_id = $1", plan_id)
