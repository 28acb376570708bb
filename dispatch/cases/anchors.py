"""Anchors: the heads of the case logs, sealed and appended to a file outside the database, so that cutting off the
tail of a log (which leaves an intact chain behind) is caught by `gridctl audit verify`.

The stream workers append one line every few seconds with the newest entry of each case they wrote since (its seq
and its MAC). The first line of a new file is the baseline: the head of every case then in the log, entries written
before the chain was keyed among them. A line is canonical JSON, the key id and the MAC over the JSON and the
previous line's MAC, tab-separated; so a line removed from the middle or edited is caught too. Workers on several
machines share the folder (like the media folder) and take turns through a POSIX lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import orjson

from dispatch.cases.record import GENESIS, LogEntry
from dispatch.cases.seal import AuditKeys, Seal

ANCHOR_FILE = "anchors.log"
Heads = dict[UUID, tuple[int, str]]
"""Per case: the seq of its newest entry and that entry's anchor (its MAC, or its hash when unsealed)."""


class PendingHeads:
    """The newest entry of each case written since the last anchor line."""

    def __init__(self) -> None:
        self._heads: Heads = {}

    def note(self, entries: Iterable[LogEntry]) -> None:
        """Remember entries just committed."""
        self.merge({e.case_id: (e.seq, e.anchor) for e in entries})

    def merge(self, heads: Mapping[UUID, tuple[int, str]]) -> None:
        """Keep the newer head of each case (heads put back after a failed append, say)."""
        for case_id, head in heads.items():
            known = self._heads.get(case_id)
            if known is None or head[0] > known[0]:
                self._heads[case_id] = head

    def take(self) -> Heads:
        """Every head noted, forgetting them."""
        heads, self._heads = self._heads, {}
        return heads


@dataclass
class Anchored:
    """What the anchor file holds: every anchored entry per case, the baseline, and problems with the file itself."""

    entries: dict[UUID, dict[int, str]] = field(default_factory=dict)
    baseline: dict[UUID, int] | None = None
    lines: int = 0
    problems: list[str] = field(default_factory=list)


class AnchorFile:
    """The append-only anchor file in a folder the database cannot reach."""

    def __init__(self, folder: str | Path, keys: AuditKeys) -> None:
        self.path = Path(folder) / ANCHOR_FILE
        self.keys = keys

    def started(self) -> bool:
        """Whether the file has its baseline line."""
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, heads: Mapping[UUID, tuple[int, str]], baseline: bool = False) -> None:
        """Append one sealed line with these heads, chained to the last line; on disk (fsync) when it returns."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
            body = {
                "at": datetime.now(UTC).isoformat(),
                "baseline": baseline,
                "heads": sorted([str(case_id), seq, anchor] for case_id, (seq, anchor) in heads.items()),
                "prev": _last_mac(fd),
            }
            text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
            seal = self.keys.seal(text)
            os.write(fd, f"{text}\t{seal.key_id}\t{seal.mac}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock

    def read(self) -> Anchored:
        """Every line checked (its seal, its link to the line before) and its heads collected."""
        found = Anchored()
        if not self.path.exists():
            return found
        prev = GENESIS
        with self.path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                found.lines = number
                prev = self._read_line(found, number, raw.decode(errors="replace").rstrip("\n"), prev)
        return found

    def _read_line(self, found: Anchored, number: int, line: str, prev: str) -> str:
        """Check one line and collect its heads; its MAC, which the next line must name."""
        parts = line.split("\t")
        if len(parts) != 3:
            found.problems.append(f"anchor line {number} is unreadable")
            return prev
        text, key_id, mac = parts
        broken = self.keys.verdict(Seal(key_id, mac), text)
        if broken:
            found.problems.append(f"anchor line {number}: {broken} (forged or edited)")
            return mac
        body = orjson.loads(text)
        if body["prev"] != prev:
            found.problems.append(f"anchor line {number} does not follow line {number - 1} (a line was removed)")
        for case_id, seq, anchor in body["heads"]:
            found.entries.setdefault(UUID(case_id), {})[seq] = anchor
        if body["baseline"] and found.baseline is None:
            found.baseline = {UUID(case_id): seq for case_id, seq, _ in body["heads"]}
        return mac


def _last_mac(fd: int) -> str:
    """The MAC that ends the file's last line (GENESIS for an empty file)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return GENESIS
    tail = os.pread(fd, min(size, 65), size - min(size, 65)).decode(errors="replace")
    return tail.rstrip("\n")[-64:]
