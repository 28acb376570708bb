"""The single case writer: a command applies once, the log chains by hash, a replay changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from core.cases import OpenCase
from core.events import EVENT_ADAPTER
from core.vocabulary import CaseState
from dispatch.cases.machine import GENESIS, CaseRecord, CommandRefused, LogEntry, apply, entry_hash
from dispatch.cases.writer import write
from dispatch.routing.decision import decide
from tests.unit.factories import event_body, snapshot


class MemoryStore:
    """A CaseStore in a dict, to test the writer's logic without a database."""

    def __init__(self) -> None:
        self.cases: dict[UUID, CaseRecord] = {}
        self.log: list[LogEntry] = []
        self.links: dict[UUID, UUID] = {}
        self.refused: dict[UUID, str] = {}

    async def load(self, case_id: UUID) -> tuple[CaseRecord | None, str]:
        entries = [e for e in self.log if e.case_id == case_id]
        return self.cases.get(case_id), entries[-1].hash if entries else GENESIS

    async def applied(self, case_id: UUID, command_id: UUID) -> bool:
        return any(e.case_id == case_id and e.command_id == command_id for e in self.log) or command_id in self.refused

    async def commit(self, case: CaseRecord, entries: list[LogEntry]) -> None:
        self.log.extend(entries)
        self.cases[case.id] = case
        self.links.update({UUID(e.payload["source"]["event_id"]): case.id for e in entries if "source" in e.payload})

    async def refuse(self, case_id: UUID, command_id: UUID, kind: str, actor_id: str, reason: str) -> None:
        self.refused[command_id] = reason


def open_command() -> OpenCase:
    result = decide(EVENT_ADAPTER.validate_python(event_body()), snapshot(), datetime.now(UTC))
    assert isinstance(result, OpenCase)
    return result


async def test_opening_registers_and_dispatches_the_case() -> None:
    store, cmd = MemoryStore(), open_command()
    result = await write(store, cmd, datetime.now(UTC))
    assert result.fresh and result.change is not None
    assert result.change.case.state is CaseState.DISPATCHED and result.change.version == 2
    assert [e.kind for e in store.log] == ["registered", "dispatched"]
    assert store.links == {cmd.source.event_id: cmd.case_id}


async def test_a_replayed_command_changes_nothing_and_republishes_the_same_version() -> None:
    store, cmd = MemoryStore(), open_command()
    first = await write(store, cmd, datetime.now(UTC))
    again = await write(store, cmd, datetime.now(UTC))
    assert not again.fresh and again.change is not None and first.change is not None
    assert again.change.version == first.change.version
    assert len(store.log) == 2 and len(store.cases) == 1


def test_the_log_is_chained_by_hash() -> None:
    cmd = open_command()
    outcome = apply(None, cmd)
    first, second = outcome.entries
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    recomputed = entry_hash(
        first.prev_hash, first.case_id, first.seq, first.command_id, first.kind, first.actor, first.at, first.payload
    )
    assert recomputed == first.hash
    tampered = entry_hash(
        first.prev_hash,
        first.case_id,
        first.seq,
        first.command_id,
        first.kind,
        first.actor,
        first.at,
        {**first.payload, "grid_code": "510822999999001"},
    )
    assert tampered != first.hash


def test_opening_an_existing_case_is_refused() -> None:
    cmd = open_command()
    outcome = apply(None, cmd)
    with pytest.raises(CommandRefused, match="already exists"):
        apply(outcome.case, cmd, outcome.entries[-1].hash)
