"""The PostGIS case store: the case log is the record; the case, event and supervision tables are its projections."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from core.cases import Actor, Assignee, CaseDetail
from core.vocabulary import CaseState, Category, PartyKind, Severity, Step
from dispatch.cases.machine import GENESIS, CaseRecord, LogEntry
from dispatch.db import Conn

CASE_COLUMNS = """
    id, version, state, category, priority, event_type, description, grid_code, grid_name, village_code,
    township_code, township_name, assignee_kind, assignee_id, assignee_name, assignee_fallback, rule_id,
    ST_X(location) AS lon, ST_Y(location) AS lat, opened_at, due_at, updated_at, event_count,
    step, step_due_at, closed_at, reporters, rework_count, extension_count, reopen_count, supervision_level,
    merged_into, detail
"""

UPSERT_CASE = """
INSERT INTO cases (id, version, state, category, priority, event_type, description, grid_code, grid_name,
    village_code, township_code, township_name, assignee_kind, assignee_id, assignee_name, assignee_fallback,
    rule_id, location, opened_at, due_at, updated_at, event_count, step, step_due_at, closed_at, reporters,
    rework_count, extension_count, reopen_count, supervision_level, merged_into, detail)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,
    ST_SetSRID(ST_MakePoint($18,$19),4326),$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32,$33)
ON CONFLICT (id) DO UPDATE SET version=EXCLUDED.version, state=EXCLUDED.state, category=EXCLUDED.category,
    priority=EXCLUDED.priority, description=EXCLUDED.description, grid_code=EXCLUDED.grid_code,
    grid_name=EXCLUDED.grid_name, village_code=EXCLUDED.village_code, township_code=EXCLUDED.township_code,
    township_name=EXCLUDED.township_name, assignee_kind=EXCLUDED.assignee_kind,
    assignee_id=EXCLUDED.assignee_id, assignee_name=EXCLUDED.assignee_name,
    assignee_fallback=EXCLUDED.assignee_fallback, rule_id=EXCLUDED.rule_id, due_at=EXCLUDED.due_at,
    updated_at=EXCLUDED.updated_at, event_count=EXCLUDED.event_count, step=EXCLUDED.step,
    step_due_at=EXCLUDED.step_due_at, closed_at=EXCLUDED.closed_at, reporters=EXCLUDED.reporters,
    rework_count=EXCLUDED.rework_count, extension_count=EXCLUDED.extension_count,
    reopen_count=EXCLUDED.reopen_count, supervision_level=EXCLUDED.supervision_level,
    merged_into=EXCLUDED.merged_into, detail=EXCLUDED.detail
"""

INSERT_LOG = """
INSERT INTO case_log (case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash, hash)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
"""

LOG_COLUMNS = "case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash, hash"


def case_from_row(row: asyncpg.Record) -> CaseRecord:
    """A case row as a record."""
    assignee = None
    if row["assignee_kind"]:
        assignee = Assignee(
            kind=PartyKind(row["assignee_kind"]),
            id=row["assignee_id"],
            name=row["assignee_name"],
            fallback=row["assignee_fallback"],
        )
    return CaseRecord(
        id=row["id"],
        version=row["version"],
        state=CaseState(row["state"]),
        category=Category(row["category"]),
        priority=Severity(row["priority"]),
        event_type=row["event_type"],
        description=row["description"],
        grid_code=row["grid_code"],
        grid_name=row["grid_name"],
        village_code=row["village_code"],
        township_code=row["township_code"],
        township_name=row["township_name"],
        assignee=assignee,
        rule_id=row["rule_id"],
        lon=row["lon"],
        lat=row["lat"],
        opened_at=row["opened_at"],
        due_at=row["due_at"],
        updated_at=row["updated_at"],
        event_count=row["event_count"],
        step=Step(row["step"]),
        step_due_at=row["step_due_at"],
        closed_at=row["closed_at"],
        reporters=tuple(row["reporters"]),
        rework_count=row["rework_count"],
        extension_count=row["extension_count"],
        reopen_count=row["reopen_count"],
        supervision_level=row["supervision_level"],
        merged_into=row["merged_into"],
        detail=CaseDetail.model_validate(row["detail"]),
    )


def entry_from_row(row: asyncpg.Record) -> LogEntry:
    """A case_log row as a log entry."""
    return LogEntry(
        case_id=row["case_id"],
        seq=row["seq"],
        command_id=row["command_id"],
        kind=row["kind"],
        actor=Actor(id=row["actor_id"], role=row["actor_role"]),
        at=row["at"],
        payload=row["payload"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def case_args(case: CaseRecord) -> tuple[object, ...]:
    """The UPSERT_CASE parameters for a case."""
    a = case.assignee
    return (
        case.id,
        case.version,
        case.state.value,
        case.category.value,
        case.priority.value,
        case.event_type,
        case.description,
        case.grid_code,
        case.grid_name,
        case.village_code,
        case.township_code,
        case.township_name,
        a.kind.value if a else None,
        a.id if a else None,
        a.name if a else None,
        a.fallback if a else None,
        case.rule_id,
        case.lon,
        case.lat,
        case.opened_at,
        case.due_at,
        case.updated_at,
        case.event_count,
        case.step.value,
        case.step_due_at,
        case.closed_at,
        list(case.reporters),
        case.rework_count,
        case.extension_count,
        case.reopen_count,
        case.supervision_level,
        case.merged_into,
        case.detail.model_dump(mode="json"),
    )


async def project_entries(conn: Conn, entries: Iterable[LogEntry]) -> None:
    """Keep the side projections (which events belong to which case, supervision records) in step with the log."""
    for e in entries:
        p = e.payload
        if e.kind in ("registered", "attached"):
            await conn.execute(
                "INSERT INTO case_events (event_id, case_id, reporter_id, attached_at) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT (event_id) DO UPDATE SET case_id = EXCLUDED.case_id,"
                " reporter_id = EXCLUDED.reporter_id, attached_at = EXCLUDED.attached_at, split_at = NULL",
                UUID(p["source"]["event_id"]),
                e.case_id,
                p["source"]["reporter_id"],
                e.at,
            )
        elif e.kind == "split":
            await conn.execute(
                "UPDATE case_events SET split_at = $3 WHERE event_id = $1 AND case_id = $2",
                UUID(p["event_id"]),
                e.case_id,
                e.at,
            )
        elif e.kind == "supervised":
            await conn.execute(
                "INSERT INTO supervisions (case_id, seq, level, step, due_at, at, by_id, reason, notified)"
                " VALUES ($1,$2,$3,$4,$5::text::timestamptz,$6,$7,$8,$9) ON CONFLICT DO NOTHING",
                e.case_id,
                e.seq,
                p["level"],
                p["step"],
                p["due_at"],
                e.at,
                e.actor.id,
                p["reason"],
                p["notified"],
            )


class PgCaseStore:
    """CaseStore on PostGIS through an asyncpg pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def load(self, case_id: UUID) -> tuple[CaseRecord | None, str]:
        """The case and the hash of its last log entry."""
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(f"SELECT {CASE_COLUMNS} FROM cases WHERE id = $1", case_id)
            last = await conn.fetchval(
                "SELECT hash FROM case_log WHERE case_id = $1 ORDER BY seq DESC LIMIT 1", case_id
            )
        return (case_from_row(row) if row else None), (last or GENESIS)

    async def applied(self, case_id: UUID, command_id: UUID) -> bool:
        """Whether the command is already in the log (or was refused)."""
        async with self._pool.acquire() as conn:
            found = await conn.fetchval(
                "SELECT 1 FROM case_log WHERE case_id = $1 AND command_id = $2"
                " UNION ALL SELECT 1 FROM command_refusals WHERE command_id = $2 LIMIT 1",
                case_id,
                command_id,
            )
        return found is not None

    async def commit(self, case: CaseRecord, entries: list[LogEntry]) -> None:
        """Append the log entries and write the projections in one transaction."""
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.executemany(
                INSERT_LOG,
                [
                    (
                        e.case_id,
                        e.seq,
                        e.command_id,
                        e.kind,
                        e.actor.id,
                        e.actor.role,
                        e.at,
                        e.payload,
                        e.prev_hash,
                        e.hash,
                    )
                    for e in entries
                ],
            )
            await project_entries(conn, entries)
            await conn.execute(UPSERT_CASE, *case_args(case))

    async def refuse(self, case_id: UUID, command_id: UUID, kind: str, actor_id: str, reason: str) -> None:
        """Record a refused command so its sender can see why."""
        await self._pool.execute(
            "INSERT INTO command_refusals (command_id, case_id, kind, actor_id, reason, at)"
            " VALUES ($1,$2,$3,$4,$5,now()) ON CONFLICT DO NOTHING",
            command_id,
            case_id,
            kind,
            actor_id,
            reason[:1000],
        )
