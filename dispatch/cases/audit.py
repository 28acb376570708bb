"""`gridctl audit verify`: every case's log chain recomputed and its seals checked with the audit keys, every anchored
head found again, and every piece of evidence checked against its hash."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from dispatch.cases.anchors import Anchored, AnchorFile
from dispatch.cases.machine import GENESIS, LogEntry, entry_hash
from dispatch.cases.seal import AuditKeys
from dispatch.cases.store import LOG_COLUMNS, entry_from_row
from dispatch.media import store as media_store


@dataclass
class AuditReport:
    """What the audit looked at and what it found broken."""

    cases: int = 0
    entries: int = 0
    keyed: int = 0
    anchored: int = 0
    anchor_lines: int = 0
    media: int = 0
    problems: list[str] = field(default_factory=list)


def first_break(entries: list[LogEntry], keys: AuditKeys) -> str | None:
    """The first entry of one case's log (ordered by seq) that breaks the chain or its seal, described; None when
    intact. Unsealed entries (written before the chain was keyed) may only come before the sealed ones."""
    prev, sealed = GENESIS, False
    for expected_seq, e in enumerate(entries, start=1):
        where = f"case {e.case_id} entry {e.seq} ({e.kind})"
        if e.seq != expected_seq:
            return f"{where}: expected entry {expected_seq}, an entry is missing"
        if e.prev_hash != prev:
            return f"{where}: does not follow the previous entry's hash"
        if entry_hash(e.prev_hash, e.case_id, e.seq, e.command_id, e.kind, e.actor, e.at, e.payload) != e.hash:
            return f"{where}: content does not match its hash (edited)"
        if e.seal is not None:
            broken = keys.verdict(e.seal, e.hash)
            if broken:
                return f"{where}: {broken} (edited, or its chain recomputed without the key)"
        elif sealed:
            return f"{where}: unsealed after sealed entries (its seal was removed)"
        sealed = sealed or e.seal is not None
        prev = e.hash
    return None


def anchor_breaks(case_id: UUID, entries: list[LogEntry], anchored: Anchored) -> list[str]:
    """Where one case's log (possibly empty: every entry deleted) lost or changed an entry the anchors hold, and
    unsealed entries the baseline does not cover (written since the chain was keyed, without a key)."""
    problems: list[str] = []
    by_seq = {e.seq: e for e in entries}
    last = entries[-1].seq if entries else 0
    missing: list[int] = []
    for seq, anchor in sorted(anchored.entries.get(case_id, {}).items()):
        entry = by_seq.get(seq)
        if entry is None:
            missing.append(seq)
        elif entry.anchor != anchor:
            problems.append(f"case {case_id} entry {seq} ({entry.kind}): does not match its anchor (rewritten)")
    if missing:
        how = "its tail was cut" if missing[-1] > last else "deleted"
        problems.insert(
            0, f"case {case_id}: anchored entry {missing[-1]} is missing, the log ends at entry {last} ({how})"
        )
    unsealed = [e for e in entries if e.seal is None]
    if unsealed and anchored.baseline is not None and unsealed[-1].seq > anchored.baseline.get(case_id, 0):
        problems.append(
            f"case {case_id} entry {unsealed[-1].seq} ({unsealed[-1].kind}): unsealed, yet the anchors' baseline"
            " does not hold it (written or rewritten without the key)"
        )
    return problems


def evidence_hashes(entries: Iterable[LogEntry]) -> Iterator[str]:
    """Every media hash the log refers to."""
    for e in entries:
        items: list[Any] = list(e.payload.get("evidence") or [])
        for item in items:
            yield item["sha256"]


async def verify(pool: asyncpg.Pool, media_dir: str | Path, anchors: AnchorFile) -> AuditReport:
    """Check every chain, its seals with the anchors' keys, every anchored head, and every referenced file."""
    keys, anchored = anchors.keys, anchors.read()
    report = AuditReport(anchor_lines=anchored.lines, problems=list(anchored.problems))
    report.anchored = sum(len(seqs) for seqs in anchored.entries.values())
    hashes: set[str] = set()
    seen: set[UUID] = set()
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        current: list[LogEntry] = []
        async for row in conn.cursor(f"SELECT {LOG_COLUMNS} FROM case_log ORDER BY case_id, seq"):
            entry = entry_from_row(row)
            if current and current[0].case_id != entry.case_id:
                _close(report, current, hashes, keys, anchored)
                current = []
            current.append(entry)
            seen.add(entry.case_id)
        if current:
            _close(report, current, hashes, keys, anchored)
    for case_id in sorted(set(anchored.entries) - seen):
        report.problems += anchor_breaks(case_id, [], anchored)
    report.media = len(hashes)
    report.problems += await media_store.verify_files(pool, media_dir, sorted(hashes))
    return report


def _close(report: AuditReport, entries: list[LogEntry], hashes: set[str], keys: AuditKeys, anchored: Anchored) -> None:
    report.cases += 1
    report.entries += len(entries)
    report.keyed += sum(1 for e in entries if e.seal is not None)
    broken = first_break(entries, keys)
    if broken:
        report.problems.append(broken)
    report.problems += anchor_breaks(entries[0].case_id, entries, anchored)
    hashes.update(evidence_hashes(entries))
