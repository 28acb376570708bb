"""The PostGIS case store: the case table is a projection, the case log is the record."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from core.cases import Assignee
from core.vocabulary import CaseState, Category, PartyKind, Severity
from dispatch.casework import GENESIS, CaseRecord, LogEntry

CASE_COLUMNS = """
    id, version, state, category, priority, event_type, description, grid_code, grid_name, village_code,
    township_code, township_name, assignee_kind, assignee_id, assignee_name, assignee_fallback, rule_id,
    ST_X(location) AS lon, ST_Y(location) AS lat, opened_at, due_at, updated_at, event_count
"""

UPSERT_CASE = """
INSERT INTO cases (id, version, state, category, priority, event_type, description, grid_code, grid_name,
    village_code, township_code, township_name, assignee_kind, assignee_id, assignee_name, assignee_fallback,
    rule_id, location, opened_at, due_at, updated_at, event_count)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,
    ST_SetSRID(ST_MakePoint($18,$19),4326),$20,$21,$22,$23)
ON CONFLICT (id) DO UPDATE SET version=EXCLUDED.version, state=EXCLUDED.state, category=EXCLUDED.category,
    priority=EXCLUDED.priority, description=EXCLUDED.description, grid_code=EXCLUDED.grid_code,
    grid_name=EXCLUDED.grid_name, village_code=EXCLUDED.village_code, township_code=EXCLUDED.township_code,
    township_name=EXCLUDED.township_name, assignee_kind=EXCLUDED.assignee_kind,
    assignee_id=EXCLUDED.assignee_id, assignee_name=EXCLUDED.assignee_name,
    assignee_fallback=EXCLUDED.assignee_fallback, rule_id=EXCLUDED.rule_id, due_at=EXCLUDED.due_at,
    updated_at=EXCLUDED.updated_at, event_count=EXCLUDED.event_count
"""

INSERT_LOG = """
INSERT INTO case_log (case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash, hash)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
"""


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
        """Whether the command is already in the log."""
        async with self._pool.acquire() as conn:
            found = await conn.fetchval(
                "SELECT 1 FROM case_log WHERE case_id = $1 AND command_id = $2 LIMIT 1", case_id, command_id
            )
        return found is not None

    async def commit(self, case: CaseRecord, entries: list[LogEntry], event_ids: list[tuple[UUID, str]]) -> None:
        """Append the log entries, link the events and write the projection in one transaction."""
        a = case.assignee
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
            await conn.executemany(
                "INSERT INTO case_events (event_id, case_id, reporter_id, attached_at) VALUES ($1,$2,$3,$4) "
                "ON CONFLICT (event_id) DO NOTHING",
                [(eid, case.id, reporter, case.updated_at) for eid, reporter in event_ids],
            )
            await conn.execute(
                UPSERT_CASE,
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
            )
