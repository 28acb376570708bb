"""The single writer of a partition's cases, a batch at a time: every command applied once, one transaction a batch.

The writer owns the cases of its partitions (commands are keyed by case id), so it keeps them in a cache and
reads the database only for cases it has not seen since the partition was assigned.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from core.case_views import CaseChange
from core.cases import AttachEvent, CaseCommand
from core.queues import UnroutedEvent
from dispatch.cases.machine import GENESIS, CaseRecord, CommandRefused, LogEntry, apply
from dispatch.cases.notices import NoticeDraft, notices_for

Loaded = tuple[CaseRecord | None, str]
"""A case as stored (None when it does not exist) and the hash of its last log entry."""


@dataclass(frozen=True)
class WriteResult:
    """What to publish: the change (the case unchanged when refused), work for other cases, events to route again."""

    change: CaseChange | None
    fresh: bool
    refused: str | None = None
    follow_ups: tuple[CaseCommand, ...] = ()
    republish: tuple[dict[str, Any], ...] = ()
    unrouted: UnroutedEvent | None = None


@dataclass(frozen=True)
class Refusal:
    """A command the state machine refused, recorded so its sender can see why."""

    case_id: UUID
    command_id: UUID
    kind: str
    actor_id: str
    reason: str


@dataclass
class BatchWrite:
    """What one batch stores in one transaction: new log entries, the cases they changed, refusals, and the notices
    the entries stand for."""

    entries: list[LogEntry] = field(default_factory=list)
    cases: dict[UUID, CaseRecord] = field(default_factory=dict)
    refusals: list[Refusal] = field(default_factory=list)
    notices: list[NoticeDraft] = field(default_factory=list)


class BatchStore(Protocol):
    """Where cases and their logs live, read and written a batch at a time."""

    async def load_many(self, case_ids: Sequence[UUID]) -> dict[UUID, Loaded]:
        """Each case (None when new) and the hash of its last log entry."""
        ...

    async def applied_many(self, commands: Sequence[tuple[UUID, UUID]]) -> set[tuple[UUID, UUID]]:
        """The (case id, command id) pairs already in that case's log, or whose command was refused."""
        ...

    async def commit_batch(self, write: BatchWrite) -> None:
        """Store the batch atomically."""
        ...


class CaseCache:
    """The cases of the partitions this writer owns, newest used last, bounded; dropped when partitions move."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._cases: dict[int, OrderedDict[UUID, Loaded]] = {}

    def get(self, partition: int, case_id: UUID) -> Loaded | None:
        """The cached case, if this writer has it."""
        found = self._cases.get(partition, OrderedDict()).get(case_id)
        if found is not None:
            self._cases[partition].move_to_end(case_id)
        return found

    def put(self, partition: int, case_id: UUID, loaded: Loaded) -> None:
        """Remember a case as stored, forgetting the least recently used beyond capacity."""
        cases = self._cases.setdefault(partition, OrderedDict())
        cases[case_id] = loaded
        cases.move_to_end(case_id)
        while len(cases) > self.capacity:
            cases.popitem(last=False)

    def drop(self, partitions: Iterable[int]) -> None:
        """Forget the cases of partitions revoked, or assigned anew (another writer may have changed them)."""
        for partition in partitions:
            self._cases.pop(partition, None)

    def forget(self, partition: int, case_ids: Iterable[UUID]) -> None:
        """Forget cases whose stored state is unknown (a commit that failed)."""
        cases = self._cases.get(partition, OrderedDict())
        for case_id in case_ids:
            cases.pop(case_id, None)


async def write_batch(
    store: BatchStore, cache: CaseCache, partition: int, commands: Sequence[CaseCommand], now: datetime
) -> list[WriteResult]:
    """Apply each command of one partition once, in order; store them in one transaction; say what changed.

    The batch works on the cases as it found them (cached or loaded): a rebalance while it waits on the store may drop
    the partition from the cache, and a case missing there must not pass for a case that does not exist."""
    ids = list(dict.fromkeys(c.case_id for c in commands))
    cases = {case_id: found for case_id in ids if (found := cache.get(partition, case_id)) is not None}
    missing = [case_id for case_id in ids if case_id not in cases]
    if missing:
        cases.update(await store.load_many(missing))
    done = await store.applied_many([(c.case_id, c.command_id) for c in commands])
    write, results = BatchWrite(), []
    try:
        for command in commands:
            results.append(_apply_one(cases, command, done, write, now))
        await store.commit_batch(write)
    except BaseException:
        cache.forget(partition, ids)
        raise
    for case_id, loaded in cases.items():
        cache.put(partition, case_id, loaded)
    return results


def _apply_one(
    cases: dict[UUID, Loaded], command: CaseCommand, done: set[tuple[UUID, UUID]], write: BatchWrite, now: datetime
) -> WriteResult:
    """One command against the batch's copy of its case: replayed, refused, or applied into the batch."""
    case, last_hash = cases.get(command.case_id) or (None, GENESIS)
    if (command.case_id, command.command_id) in done:
        if case is None:
            return WriteResult(None, fresh=False, refused="refused before")
        return WriteResult(change_of(case, "replayed", now, command.command_id), fresh=False)
    done.add((command.case_id, command.command_id))
    try:
        outcome = apply(case, command, last_hash if case else GENESIS)
    except CommandRefused as exc:
        if isinstance(command, AttachEvent):
            return _not_attached(command, str(exc), now)
        write.refusals.append(Refusal(command.case_id, command.command_id, command.kind, command.actor.id, str(exc)))
        # The case as it stands, marked refused, so the request waiting for this command hears at once.
        unchanged = change_of(case, "refused", now, command.command_id) if case is not None else None
        return WriteResult(unchanged, fresh=True, refused=str(exc))
    write.entries.extend(outcome.entries)
    write.notices.extend(n for e in outcome.entries for n in notices_for(e, case, outcome.case))
    write.cases[outcome.case.id] = outcome.case
    cases[outcome.case.id] = (outcome.case, outcome.entries[-1].hash)
    return WriteResult(
        change_of(outcome.case, outcome.change, now, command.command_id),
        fresh=True,
        follow_ups=outcome.follow_ups,
        republish=outcome.republish,
    )


def _not_attached(command: AttachEvent, reason: str, now: datetime) -> WriteResult:
    """An event whose case closed or merged before it could be attached: it opens the case routing chose for it, or
    waits in the unrouted queue for a person; it is never dropped. Nothing is refused on record, so the case
    opened instead (under the same command id) is not taken for a replay."""
    if command.fallback is not None:
        return WriteResult(None, fresh=True, refused=reason, follow_ups=(command.fallback,))
    raw = command.event
    location = raw.get("location") or {}
    item = UnroutedEvent(
        event_id=command.source.event_id,
        type=command.source.event_type,
        category=command.source.category,
        lon=float(location.get("lon", command.source.location.lon)),
        lat=float(location.get("lat", command.source.location.lat)),
        reason=f"not attached to case {command.case_id}: {reason}"[:1000],
        description=command.source.description,
        received_at=now,
        event=raw,
    )
    return WriteResult(None, fresh=True, refused=reason, unrouted=item)


def change_of(case: CaseRecord, change: str, now: datetime, command_id: UUID) -> CaseChange:
    """The change the writer publishes for a case after a command."""
    return CaseChange(
        case_id=case.id, version=case.version, change=change, at=now, case=case.view(), command_id=command_id
    )
