"""The PostGIS case store: the case log is the record; the case, event and supervision tables are its projections."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from core.cases import Actor
from dispatch.cases.columns import CASE_COLUMNS, UPSERT_CASE, case_args, case_from_row
from dispatch.cases.machine import GENESIS, CaseRecord, LogEntry
from dispatch.db import Conn

INSERT_LOG = """
INSERT INTO case_log (case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash, hash)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
"""

LOG_COLUMNS = "case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash, hash"


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
