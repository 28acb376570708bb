"""The single case writer, a batch at a time: a command applies once, a batch is one commit, a replay changes nothing,
and an event that can no longer be attached is never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from core.cases import AcceptCase, Actor, CancelCase, CaseCommand, OpenCase
from core.events import EVENT_ADAPTER
from core.vocabulary import CaseState
from dispatch.cases.machine import GENESIS, CaseRecord, CommandRefused, LogEntry, apply, entry_hash
from dispatch.cases.writer import BatchWrite, CaseCache, Loaded, WriteResult, write_batch
from dispatch.routing.decision import decide
from dispatch.routing.duplicates import attach_instead
from tests.unit.factories import event_body, snapshot


class MemoryStore:
    """A BatchStore in dicts, to test the writer's logic without a database; it counts what it is asked."""

    def __init__(self) -> None:
        self.cases: dict[UUID, CaseRecord] = {}
        self.log: list[LogEntry] = []
        self.refused: dict[UUID, str] = {}
        self.loads = self.commits = 0
        self.fail_next_commit = False

    async def load_many(self, case_ids: Sequence[UUID]) -> dict[UUID, Loaded]:
        self.loads += 1
        found = {}
        for case_id in case_ids:
            entries = [e for e in self.log if e.case_id == case_id]
            found[case_id] = (self.cases.get(case_id), entries[-1].hash if entries else GENESIS)
        return found

    async def applied_many(self, commands: Sequence[tuple[UUID, UUID]]) -> set[tuple[UUID, UUID]]:
        logged = {(e.case_id, e.command_id) for e in self.log}
        return {(c, k) for c, k in commands if (c, k) in logged or k in self.refused}

    async def commit_batch(self, write: BatchWrite) -> None:
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise ConnectionResetError("the database went away mid-commit")
        self.commits += 1
        self.log.extend(write.entries)
        self.cases.update(write.cases)
        self.refused.update({r.command_id: r.reason for r in write.refusals})


MEMBER_ACTOR = Actor(id="gm-1", role="grid_member")
DISPATCHER = Actor(id="disp-510822100", role="dispatcher", unit_code="510822100")


def open_command(**fields: Any) -> OpenCase:
    result = decide(EVENT_ADAPTER.validate_python(event_body(**fields)), snapshot(), datetime.now(UTC))
    assert isinstance(result, OpenCase)
    return result


async def write(store: MemoryStore, cache: CaseCache, *commands: CaseCommand) -> list[WriteResult]:
    return await write_batch(store, cache, 0, list(commands), datetime.now(UTC))


async def test_opening_registers_and_dispatches_the_case() -> None:
    store, cmd = MemoryStore(), open_command()
    (result,) = await write(store, CaseCache(), cmd)
    assert result.fresh and result.change is not None
    assert result.change.case.state is CaseState.DISPATCHED and result.change.version == 2
    assert [e.kind for e in store.log] == ["registered", "dispatched"]


async def test_a_replayed_batch_changes_nothing_and_republishes_the_same_versions() -> None:
    store, commands = MemoryStore(), [open_command() for _ in range(3)]
    first = await write(store, CaseCache(), *commands)
    again = await write(store, CaseCache(), *commands)
    assert all(r.fresh for r in first) and not any(r.fresh for r in again)
    assert [r.change.version for r in again if r.change] == [r.change.version for r in first if r.change]
    assert len(store.log) == 6 and len(store.cases) == 3


async def test_a_command_delivered_twice_in_one_batch_applies_once() -> None:
    store, cmd = MemoryStore(), open_command()
    once, twice = await write(store, CaseCache(), cmd, cmd)
    assert once.fresh and not twice.fresh
    assert len(store.log) == 2


async def test_a_batch_is_one_commit_and_cached_cases_are_not_read_again() -> None:
    store, cache = MemoryStore(), CaseCache()
    commands = [open_command() for _ in range(5)]
    await write(store, cache, *commands)
    assert store.commits == 1 and store.loads == 1
    accept = AcceptCase(
        command_id=uuid4(), case_id=commands[0].case_id, issued_at=datetime.now(UTC), actor=MEMBER_ACTOR
    )
    (accepted,) = await write(store, cache, accept)
    assert accepted.change is not None and accepted.change.case.state is CaseState.ACCEPTED
    assert store.loads == 1 and store.commits == 2


async def test_a_failed_commit_forgets_the_batch_so_its_retry_applies_it_in_full() -> None:
    store, cache, cmd = MemoryStore(), CaseCache(), open_command()
    store.fail_next_commit = True
    with pytest.raises(ConnectionResetError):
        await write(store, cache, cmd)
    assert store.log == []
    (retried,) = await write(store, cache, cmd)
    assert retried.fresh and [e.kind for e in store.log] == ["registered", "dispatched"]


async def test_revoking_a_partition_drops_its_cases_so_another_writers_changes_are_read() -> None:
    store, cache, cmd = MemoryStore(), CaseCache(), open_command()
    await write(store, cache, cmd)
    cache.drop([0])
    assert cache.get(0, cmd.case_id) is None
    await write(store, cache, cmd)
    assert store.loads == 2


async def test_an_event_whose_case_closed_meanwhile_opens_the_case_routing_chose_instead() -> None:
    store, cache = MemoryStore(), CaseCache()
    first, second = open_command(), open_command()
    await write(store, cache, first)
    cancel = CancelCase(
        command_id=uuid4(), case_id=first.case_id, issued_at=datetime.now(UTC), actor=DISPATCHER, reason="重复"
    )
    (cancelled,) = await write(store, cache, cancel)
    assert cancelled.change is not None and cancelled.change.case.state is CaseState.CANCELLED
    attach = attach_instead(second, first.case_id, {"event_id": str(second.source.event_id)})
    (result,) = await write(store, cache, attach)
    assert result.change is None and result.follow_ups == (second,)
    (opened,) = await write(store, cache, *result.follow_ups)
    assert opened.fresh and opened.change is not None and opened.change.case_id == second.case_id


async def test_an_event_not_attached_and_without_a_fallback_waits_in_the_unrouted_queue() -> None:
    store, cache = MemoryStore(), CaseCache()
    first, second = open_command(), open_command()
    await write(store, cache, first)
    cancel = CancelCase(
        command_id=uuid4(), case_id=first.case_id, issued_at=datetime.now(UTC), actor=DISPATCHER, reason="重复"
    )
    await write(store, cache, cancel)
    raw = {"event_id": str(second.source.event_id), "location": {"lon": 105.05, "lat": 32.05}}
    attach = attach_instead(second, first.case_id, raw).model_copy(update={"fallback": None})
    (result,) = await write(store, cache, attach)
    assert result.unrouted is not None and result.unrouted.event_id == second.source.event_id
    assert str(first.case_id) in result.unrouted.reason


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


async def test_a_refused_command_publishes_the_case_unchanged_so_its_sender_hears_at_once() -> None:
    store, cache, cmd = MemoryStore(), CaseCache(), open_command()
    (opened,) = await write(store, cache, cmd)
    stranger = Actor(id="gm-9", role="grid_member")
    accept = AcceptCase(command_id=uuid4(), case_id=cmd.case_id, issued_at=datetime.now(UTC), actor=stranger)
    (refused,) = await write(store, cache, accept)
    assert refused.refused is not None and refused.change is not None and opened.change is not None
    assert refused.change.change == "refused" and refused.change.version == opened.change.version
    assert refused.change.command_id == accept.command_id and accept.command_id in store.refused


class RebalancedStore(MemoryStore):
    """A store during whose query the partition is revoked and assigned again (faust does not wait for the agent)."""

    def __init__(self, cache: CaseCache) -> None:
        super().__init__()
        self.cache = cache

    async def applied_many(self, commands: Sequence[tuple[UUID, UUID]]) -> set[tuple[UUID, UUID]]:
        self.cache.drop([0])
        return await super().applied_many(commands)


async def test_a_rebalance_while_the_batch_waits_does_not_make_its_cases_vanish() -> None:
    cache = CaseCache()
    store, cmd = RebalancedStore(cache), open_command()
    await write(store, cache, cmd)
    accept = AcceptCase(command_id=uuid4(), case_id=cmd.case_id, issued_at=datetime.now(UTC), actor=MEMBER_ACTOR)
    (accepted,) = await write(store, cache, accept)
    assert accepted.refused is None and accepted.change is not None
    assert accepted.change.case.state is CaseState.ACCEPTED and store.refused == {}
