"""跟踪督办 by the clock: which open cases are past their step's deadline, how far, and who must hear of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID, uuid5

import asyncpg

from core.cases import Actor, Supervise
from core.vocabulary import Role
from dispatch.clock import in_force, local_day

CLOCK = Actor(id="system:clock", role=Role.SYSTEM)
LEVEL_NAMES = {1: "township", 2: "county", 3: "county, repeated"}

OVERDUE = """
SELECT id, township_code, step, step_due_at, supervision_level, assignee_id
FROM cases WHERE closed_at IS NULL AND step_due_at < $1
ORDER BY step_due_at LIMIT $2
"""

LEADERS = f"""
SELECT p.id FROM people p JOIN team_memberships m ON m.person_id = p.id AND {in_force("m", "$3")}
WHERE ((p.role = 'township_leader' AND m.unit_code = $1)
    OR (p.role = 'county_supervisor' AND m.unit_code = left($1, 6) AND $2 >= 2))
  AND {in_force("p", "$3")}
ORDER BY p.role DESC, p.id
"""
"""The township's leader and (from level 2) the county's supervisor serving on the day, by their membership then."""


@dataclass(frozen=True)
class Overdue:
    """An open case whose current step is past its deadline."""

    case_id: UUID
    township_code: str | None
    step: str
    step_due_at: datetime
    supervision_level: int
    assignee_id: str | None


def breach_level(due: datetime, now: datetime, escalate_every: timedelta) -> int:
    """0 when on time; 1 when late (township leader); 2 after another interval (county); 3 after a third."""
    if now <= due:
        return 0
    return min(3, 1 + int((now - due) / escalate_every))


def supervise_command(case: Overdue, level: int, now: datetime, notified: tuple[str, ...]) -> Supervise:
    """The clock's supervision command; its id is fixed per case, step deadline and level, so repeats are no-ops."""
    late = now - case.step_due_at
    minutes = int(late.total_seconds() // 60)
    return Supervise(
        command_id=uuid5(case.case_id, f"overdue:{case.step}:{case.step_due_at.isoformat()}:{level}"),
        case_id=case.case_id,
        issued_at=now,
        actor=CLOCK,
        level=level,
        reason=f"step {case.step} overdue by {minutes} min; escalated to {LEVEL_NAMES[level]}",
        notified=notified,
    )


async def overdue_cases(pool: asyncpg.Pool, now: datetime, limit: int = 500) -> list[Overdue]:
    """Open cases past their step's deadline, most overdue first."""
    rows = await pool.fetch(OVERDUE, now, limit)
    return [_overdue(r) for r in rows]


def _overdue(r: asyncpg.Record) -> Overdue:
    return Overdue(r["id"], r["township_code"], r["step"], r["step_due_at"], r["supervision_level"], r["assignee_id"])


async def recipients(pool: asyncpg.Pool, case: Overdue, level: int, day: date) -> tuple[str, ...]:
    """Who is told: the responsible party, the township's leader, and from level 2 the county's supervisor."""
    leaders = [r["id"] for r in await pool.fetch(LEADERS, case.township_code or "", level, day)]
    return tuple(dict.fromkeys([*([case.assignee_id] if case.assignee_id else []), *leaders]))


async def supervision_round(pool: asyncpg.Pool, now: datetime, escalate_every: timedelta) -> list[Supervise]:
    """Supervision commands for every overdue case that has not been supervised at its current level."""
    commands: list[Supervise] = []
    for case in await overdue_cases(pool, now):
        level = breach_level(case.step_due_at, now, escalate_every)
        if level > case.supervision_level:
            commands.append(supervise_command(case, level, now, await recipients(pool, case, level, local_day(now))))
    return commands
