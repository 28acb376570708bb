"""The single writer of a case: applies a command once, stores it, and says what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.cases import CaseChange, CaseCommand
from dispatch.casework import GENESIS, CaseRecord, LogEntry, apply


class CaseStore(Protocol):
    """Where cases and their logs live (PostGIS in the product)."""

    async def load(self, case_id: UUID) -> tuple[CaseRecord | None, str]:
        """The case and the hash of its last log entry (GENESIS when new)."""
        ...

    async def applied(self, case_id: UUID, command_id: UUID) -> bool:
        """Whether this command is already in the case's log."""
        ...

    async def commit(self, case: CaseRecord, entries: list[LogEntry], event_ids: list[tuple[UUID, str]]) -> None:
        """Append the entries and write the case, atomically."""
        ...


@dataclass(frozen=True)
class WriteResult:
    """The change to publish, and whether this delivery changed anything."""

    change: CaseChange
    fresh: bool


async def write(store: CaseStore, command: CaseCommand, now: datetime) -> WriteResult:
    """Apply `command` exactly once; a re-delivered command re-publishes the current state, unchanged."""
    if await store.applied(command.case_id, command.command_id):
        case, _ = await store.load(command.case_id)
        if case is None:
            raise RuntimeError(f"case {command.case_id} has a log but no state")
        return WriteResult(_change(case, "replayed", now), fresh=False)
    case, last_hash = await store.load(command.case_id)
    outcome = apply(case, command, last_hash if case else GENESIS)
    src = getattr(command, "source", None)
    event_ids = [(src.event_id, src.reporter_id)] if src is not None else []
    await store.commit(outcome.case, outcome.entries, event_ids)
    return WriteResult(_change(outcome.case, outcome.change, now), fresh=True)


def _change(case: CaseRecord, change: str, now: datetime) -> CaseChange:
    return CaseChange(case_id=case.id, version=case.version, change=change, at=now, case=case.view())
