"""`gridctl audit verify`: every case's log chain recomputed, and every piece of evidence checked against its hash."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from dispatch.cases.machine import GENESIS, LogEntry, entry_hash
from dispatch.cases.store import LOG_COLUMNS, entry_from_row
from dispatch.media import store as media_store


@dataclass
class AuditReport:
    """What the audit looked at and what it found broken."""

    cases: int = 0
    entries: int = 0
    media: int = 0
    problems: list[str] = field(default_factory=list)


def first_break(entries: list[LogEntry]) -> str | None:
    """The first entry of one case's log (ordered by seq) that breaks the chain, described; None when intact."""
    prev = GENESIS
    for expected_seq, e in enumerate(entries, start=1):
        where = f"case {e.case_id} entry {e.seq} ({e.kind})"
        if e.seq != expected_seq:
            return f"{where}: expected entry {expected_seq}, an entry is missing"
        if e.prev_hash != prev:
            return f"{where}: does not follow the previous entry's hash"
        if entry_hash(e.prev_hash, e.case_id, e.seq, e.command_id, e.kind, e.actor, e.at, e.payload) != e.hash:
            return f"{where}: content does not match its hash (edited)"
        prev = e.hash
    return None


def evidence_hashes(entries: Iterable[LogEntry]) -> Iterator[str]:
    """Every media hash the log refers to."""
    for e in entries:
        items: list[Any] = list(e.payload.get("evidence") or [])
        for item in items:
            yield item["sha256"]


async def verify(pool: asyncpg.Pool, media_dir: str | Path) -> AuditReport:
    """Check every chain and every referenced file."""
    report = AuditReport()
    hashes: set[str] = set()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        current: list[LogEntry] = []
        async for row in conn.cursor(f"SELECT {LOG_COLUMNS} FROM case_log ORDER BY case_id, seq"):
            entry = entry_from_row(row)
            if current and current[0].case_id != entry.case_id:
                _close(report, current, hashes)
                current = []
            current.append(entry)
        if current:
            _close(report, current, hashes)
    report.media = len(hashes)
    report.problems += await media_store.verify_files(pool, media_dir, sorted(hashes))
    return report


def _close(report: AuditReport, entries: list[LogEntry], hashes: set[str]) -> None:
    report.cases += 1
    report.entries += len(entries)
    broken = first_break(entries)
    if broken:
        report.problems.append(broken)
    hashes.update(evidence_hashes(entries))
