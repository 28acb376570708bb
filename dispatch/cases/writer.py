"""The single writer of a case: applies a command once, stores it, and says what changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from core.case_views import CaseChange
from core.cases import CaseCommand
from dispatch.cases.machine import GENESIS, CaseRecord, CommandRefused, LogEntry, apply


class CaseStore(Protocol):
    """Where cases and their logs live (PostGIS in the product)."""

    async def load(self, case_id: UUID) -> tuple[CaseRecord | None, str]:
        """The case and the hash of its last log entry (GENESIS when new)."""
        ...

    async def applied(self, case_id: UUID, command_id: UUID) -> bool:
        """Whether this command is already in the case's log, or was refused."""
        ...

    async def commit(self, case: CaseRecord, entries: list[LogEntry]) -> None:
        """Append the entries and write the case, atomically."""
        ...

    async def refuse(self, case_id: UUID, command_id: UUID, kind: str, actor_id: str, reason: str) -> None:
        """Record why a command was refused."""
        ...


@dataclass(frozen=True)
class WriteResult:
    """What to publish: the change (None when refused), work for other cases, events to route again."""

    change: CaseChange | None
    fresh: bool
    refused: str | None = None
    follow_ups: tuple[CaseCommand, ...] = ()
    republish: tuple[dict[str, Any], ...] = ()


async def write(store: CaseStore, command: CaseCommand, now: datetime) -> WriteResult:
    """Apply `command` exactly once; a re-delivered command re-publishes the current state, unchanged."""
    if await store.applied(command.case_id, command.command_id):
        case, _ = await store.load(command.case_id)
        if case is None:
            return WriteResult(None, fresh=False, refused="refused before")
        return WriteResult(_change(case, "replayed", now, command.command_id), fresh=False)
    case, last_hash = await store.load(command.case_id)
    try:
        outcome = apply(case, command, last_hash if case else GENESIS)
    except CommandRefused as exc:
        await store.refuse(command.case_id, command.command_id, command.kind, command.actor.id, str(exc))
        return WriteResult(None, fresh=True, refused=str(exc))
    await store.commit(outcome.case, outcome.entries)
    return WriteResult(
        _change(outcome.case, outcome.change, now, command.command_id),
        fresh=True,
        follow_ups=outcome.follow_ups,
        republish=outcome.republish,
    )


def _change(case: CaseRecord, change: str, now: datetime, command_id: UUID) -> CaseChange:
    return CaseChange(
        case_id=case.id, version=case.version, change=change, at=now, case=case.view(), command_id=command_id
    )
