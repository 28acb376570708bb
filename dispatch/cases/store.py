"""The PostGIS case store: the case log is the record; the case, event and supervision tables are its projections."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg

from core.cases import Actor
from core.notices import Notice
from dispatch.cases import inbox, rollup
from dispatch.cases.anchors import Heads, PendingHeads
from dispatch.cases.columns import CASE_COLUMNS, UPSERT_CASE, case_args, case_from_row
from dispatch.cases.machine import GENESIS, CaseRecord, LogEntry
from dispatch.cases.seal import AuditKeys, Seal
from dispatch.db import Conn
from dispatch.media import grants as media_grants

if TYPE_CHECKING:
    from dispatch.cases.writer import BatchWrite, Loaded

INSERT_LOG = """
INSERT INTO case_log (case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash, hash, key_id, mac)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
"""

LOG_COLUMNS = "case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash, hash, key_id, mac"


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
        seal=Seal(row["key_id"], row["mac"]) if row["key_id"] is not None else None,
    )


UPSERT_EVENT = (
    "INSERT INTO case_events (event_id, case_id, reporter_id, attached_at) VALUES ($1,$2,$3,$4)"
    " ON CONFLICT (event_id) DO UPDATE SET case_id = EXCLUDED.case_id,"
    " reporter_id = EXCLUDED.reporter_id, attached_at = EXCLUDED.attached_at, split_at = NULL"
)
MARK_SPLIT = "UPDATE case_events SET split_at = $3 WHERE event_id = $1 AND case_id = $2"
INSERT_SUPERVISION = (
    "INSERT INTO supervisions (case_id, seq, level, step, due_at, at, by_id, reason, notified)"
    " VALUES ($1,$2,$3,$4,$5::text::timestamptz,$6,$7,$8,$9) ON CONFLICT DO NOTHING"
)
INSERT_REFUSAL = (
    "INSERT INTO command_refusals (command_id, case_id, kind, actor_id, reason, at)"
    " VALUES ($1,$2,$3,$4,$5,now()) ON CONFLICT DO NOTHING"
)
LOAD_CASES = f"SELECT {CASE_COLUMNS} FROM cases WHERE id = ANY($1::uuid[])"
LAST_HASHES = (
    "SELECT DISTINCT ON (case_id) case_id, hash FROM case_log WHERE case_id = ANY($1::uuid[])"
    " ORDER BY case_id, seq DESC"
)
APPLIED = """
SELECT c.case_id, c.command_id FROM unnest($1::uuid[], $2::uuid[]) AS c(case_id, command_id)
WHERE EXISTS (SELECT 1 FROM case_log l WHERE l.case_id = c.case_id AND l.command_id = c.command_id)
   OR EXISTS (SELECT 1 FROM command_refusals r WHERE r.command_id = c.command_id)
"""


def sealed(entries: Iterable[LogEntry], keys: AuditKeys) -> list[LogEntry]:
    """The entries, each sealed with the current audit key over its hash."""
    return [replace(e, seal=keys.seal(e.hash)) for e in entries]


LOG_HEADS = "SELECT DISTINCT ON (case_id) case_id, seq, hash, mac FROM case_log ORDER BY case_id, seq DESC"


async def log_heads(pool: asyncpg.Pool) -> Heads:
    """The newest entry of every case's log, as anchors record it (the anchors' baseline)."""
    rows = await pool.fetch(LOG_HEADS)
    return {r["case_id"]: (r["seq"], r["mac"] or r["hash"]) for r in rows}


def _log_row(e: LogEntry) -> tuple[object, ...]:
    assert e.seal is not None, "log entries are sealed before they are stored"
    return (
        *(e.case_id, e.seq, e.command_id, e.kind, e.actor.id, e.actor.role, e.at, e.payload, e.prev_hash, e.hash),
        *(e.seal.key_id, e.seal.mac),
    )


async def project_entries(conn: Conn, entries: Iterable[LogEntry]) -> None:
    """Keep the side projections (which events belong to which case, supervision records) in step with the log.

    One statement per kind of row: events attached in order (the last attach of an event wins), then splits (which
    mark only an event still in the case it left), then supervision records, then the case's grants to read media."""
    events, splits, supervisions = [], [], []
    files: list[media_grants.CaseGrant] = []
    for e in entries:
        p = e.payload
        files += _media_granted(e)
        if e.kind in ("registered", "attached"):
            src = p["source"]
            events.append((UUID(src["event_id"]), e.case_id, src["reporter_id"], e.at))
        elif e.kind == "split":
            splits.append((UUID(p["event_id"]), e.case_id, e.at))
        elif e.kind == "supervised":
            supervisions.append(
                (e.case_id, e.seq, p["level"], p["step"], p["due_at"], e.at, e.actor.id, p["reason"], p["notified"])
            )
    for sql, rows in ((UPSERT_EVENT, events), (MARK_SPLIT, splits), (INSERT_SUPERVISION, supervisions)):
        if rows:
            await conn.executemany(sql, rows)
    await media_grants.grant_cases(conn, files)


EVIDENCE_ENTRIES = frozenset({"verified", "submitted", "stage"})


def _media_granted(e: LogEntry) -> list[media_grants.CaseGrant]:
    """The files an entry lets the case's readers see: its event's media, or the evidence it records."""
    if e.kind in ("registered", "attached"):
        return [(m["sha256"], e.case_id, "case") for m in e.payload["source"].get("media", ())]
    if e.kind in EVIDENCE_ENTRIES:
        return [(m["sha256"], e.case_id, "evidence") for m in e.payload.get("evidence", ())]
    return []


class PgCaseStore:
    """CaseStore on PostGIS through an asyncpg pool; only a store given the audit keys (the writer's) appends."""

    def __init__(self, pool: asyncpg.Pool, keys: AuditKeys | None = None, heads: PendingHeads | None = None) -> None:
        self._pool, self._keys, self._heads = pool, keys, heads
        self.announced: list[Notice] = []
        """The notices the last batch committed (none on a replay), for the writer to announce live."""

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

    async def load_many(self, case_ids: Sequence[UUID]) -> dict[UUID, Loaded]:
        """Each case (None when new) and the hash of its last log entry, in two queries."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(LOAD_CASES, list(case_ids))
            hashes = {r["case_id"]: r["hash"] for r in await conn.fetch(LAST_HASHES, list(case_ids))}
        cases = {r["id"]: case_from_row(r) for r in rows}
        return {c: (cases.get(c), hashes.get(c, GENESIS)) for c in case_ids}

    async def applied_many(self, commands: Sequence[tuple[UUID, UUID]]) -> set[tuple[UUID, UUID]]:
        """The (case id, command id) pairs already in that case's log, or whose command was refused."""
        if not commands:
            return set()
        rows = await self._pool.fetch(APPLIED, [c for c, _ in commands], [k for _, k in commands])
        return {(r["case_id"], r["command_id"]) for r in rows}

    async def commit_batch(self, write: BatchWrite) -> None:
        """Append every entry sealed, update the projections, the metrics rollup and the inboxes (with their
        deliveries) and record refusals, in one transaction; then note the new heads for the next anchor."""
        if write.entries and self._keys is None:
            raise RuntimeError("this case store has no audit key: it may read the log, not append to it")
        entries = sealed(write.entries, self._keys) if self._keys else []
        announced: list[Notice] = []
        async with self._pool.acquire() as conn, conn.transaction():
            if entries:
                await conn.executemany(INSERT_LOG, [_log_row(e) for e in entries])
                await project_entries(conn, entries)
                await rollup.record(conn, entries)
                announced = await inbox.record(conn, write.notices)
            if write.cases:
                await conn.executemany(UPSERT_CASE, [case_args(c) for c in write.cases.values()])
            if write.refusals:
                await conn.executemany(
                    INSERT_REFUSAL,
                    [(r.command_id, r.case_id, r.kind, r.actor_id, r.reason[:1000]) for r in write.refusals],
                )
        self.announced = announced
        if self._heads is not None:
            self._heads.note(entries)
