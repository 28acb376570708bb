"""The case tables are projections of the case log: rebuild them by folding the log, and compare."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from uuid import UUID

import asyncpg

from dispatch.cases import rollup
from dispatch.cases.columns import CASE_COLUMNS, UPSERT_CASE, case_args, case_from_row
from dispatch.cases.machine import CaseRecord, LogEntry, evolve
from dispatch.cases.store import LOG_COLUMNS, entry_from_row, project_entries


@dataclass
class RebuildReport:
    """How many cases the log holds and where the live tables differ from the fold."""

    cases: int = 0
    differences: list[str] = field(default_factory=list)
    written: bool = False


def fold(entries: list[LogEntry]) -> CaseRecord:
    """A case from its whole log."""
    case: CaseRecord | None = None
    for e in entries:
        case = evolve(case, e)
    assert case is not None
    return case


def differences(live: CaseRecord | None, folded: CaseRecord) -> list[str]:
    """Fields where the live row differs from the fold of the log."""
    if live is None:
        return [f"case {folded.id}: in the log but not in the cases table"]
    return [
        f"case {folded.id}: {f.name} is {getattr(live, f.name)!r}, the log says {getattr(folded, f.name)!r}"
        for f in fields(CaseRecord)
        if getattr(live, f.name) != getattr(folded, f.name)
    ]


async def rebuild(pool: asyncpg.Pool, write: bool) -> RebuildReport:
    """Fold every case's log; compare with the live tables; with `write`, replace the tables and the metrics rollup by
    the fold."""
    report = RebuildReport()
    async with pool.acquire() as conn, conn.transaction(isolation="serializable"):
        live = {r["id"]: case_from_row(r) for r in await conn.fetch(f"SELECT {CASE_COLUMNS} FROM cases")}
        logs: dict[UUID, list[LogEntry]] = {}
        async for row in conn.cursor(f"SELECT {LOG_COLUMNS} FROM case_log ORDER BY case_id, seq"):
            entry = entry_from_row(row)
            logs.setdefault(entry.case_id, []).append(entry)
        folded = {case_id: fold(entries) for case_id, entries in logs.items()}
        report.cases = len(folded)
        for case_id, record in folded.items():
            report.differences += differences(live.get(case_id), record)
        report.differences += [f"case {i}: in the cases table but not in the log" for i in live.keys() - folded.keys()]
        if write:
            await conn.execute("DELETE FROM supervisions")
            await conn.execute("DELETE FROM case_events")
            await conn.execute("DELETE FROM cases")
            for record in folded.values():
                await conn.execute(UPSERT_CASE, *case_args(record))
            # Across cases in time order: an event merged from one case into another ends on the latter.
            every = sorted((e for entries in logs.values() for e in entries), key=lambda e: (e.at, e.case_id, e.seq))
            await project_entries(conn, every)
            await rollup.replace_all(conn, (e for entries in logs.values() for e in entries))
            report.written = True
    return report
