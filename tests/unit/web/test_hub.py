"""The live hub's fan-out: one serialisation per change, per-client backlogs that coalesce bursts of a case and drop
a client that still falls behind, and the command waiters that a case change wakes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from core import topics
from core.case_views import CaseChange, CaseView
from core.cases import Assignee
from core.notices import Notice
from core.queues import QueueChange, RegistryChange
from core.registry import dump
from core.vocabulary import CaseState, PartyKind, Role, Severity
from dispatch.access.scope import Scope
from web.hub import LiveClient, LiveHub, LiveMessage, Overflow, TooManyConnections, to_client_message
from web.settings import WebSettings
from web.waiters import CommandWaiters, settled

TOWN, OTHER = "510822100", "510822101"
DISPATCHER = Scope("d", Role.DISPATCHER, TOWN, "disp-1")
CHANGES = topics.CASE_CHANGES.name


def view(case_id: uuid.UUID | None = None, version: int = 1, township: str = TOWN) -> CaseView:
    """A dispatched case of a grid in `township`."""
    now = datetime.now(UTC)
    return CaseView(
        id=case_id or uuid.uuid4(),
        version=version,
        state=CaseState.DISPATCHED,
        category="0199",
        priority=Severity.NORMAL,
        event_type="incident",
        description="垃圾",
        grid_code=f"{township}201001",
        grid_name="一网格",
        township_code=township,
        township_name="乔庄镇",
        assignee=Assignee(kind=PartyKind.GRID_MEMBER, id="gm-1", name="某人"),
        lon=105.0,
        lat=32.0,
        opened_at=now,
        due_at=None,
        updated_at=now,
        event_count=1,
    )


def change(case: CaseView, command_id: uuid.UUID | None = None) -> bytes:
    """The record the case writer publishes for `case`."""
    at = datetime.now(UTC)
    record = CaseChange(case_id=case.id, version=case.version, change="x", at=at, case=case, command_id=command_id)
    return record.model_dump_json().encode()


def message(case: CaseView) -> LiveMessage:
    """The live message of a change of `case`."""
    found = to_client_message(CHANGES, change(case))
    assert found is not None
    return found


def shown(texts: list[str]) -> list[tuple[str, str, int]]:
    """(type, case id, version) of each case message."""
    out = []
    for raw in texts:
        msg = orjson.loads(raw)
        case_id, version = (
            (msg["case"]["id"], msg["case"]["version"]) if "case" in msg else (msg["case_id"], msg["version"])
        )
        out.append((msg["type"], case_id, version))
    return out


@pytest.fixture
def dumps_calls(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every object orjson.dumps serialises while the test runs."""
    calls: list[Any] = []
    real: Callable[..., bytes] = orjson.dumps

    def counted(obj: Any, *args: Any, **kwargs: Any) -> bytes:
        calls.append(obj)
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(orjson, "dumps", counted)
    return calls


async def test_a_slow_client_overflows_while_a_fast_one_keeps_receiving() -> None:
    hub = LiveHub(WebSettings(ws_queue_size=3))
    slow, fast = hub.subscribe(), hub.subscribe()
    received: list[str] = []
    for n in range(5):
        hub.broadcast(f"m{n}")
        received.extend(await asyncio.wait_for(fast.batch(), 1))
    assert received == ["m0", "m1", "m2", "m3", "m4"]
    with pytest.raises(Overflow):
        await asyncio.wait_for(slow.batch(), 1)


async def test_a_waiting_client_gets_the_next_message_and_is_dropped_once_it_overflows() -> None:
    client = LiveClient(size=1)
    client.offer("a")
    assert await client.batch() == ["a"]
    waiting = asyncio.ensure_future(client.batch())
    client.offer("b")
    assert await asyncio.wait_for(waiting, 1) == ["b"]
    client.offer("c")
    client.offer("d")
    with pytest.raises(Overflow):
        await client.batch()


async def test_a_batch_is_everything_pending_in_order() -> None:
    client = LiveClient(size=10)
    for n in range(5):
        client.offer(f"m{n}")
    assert await client.batch() == ["m0", "m1", "m2", "m3", "m4"]
    assert client._queue.qsize() == 0


def test_unsubscribed_clients_receive_nothing() -> None:
    hub = LiveHub(WebSettings())
    client = hub.subscribe()
    hub.unsubscribe(client)
    hub.broadcast("x")
    assert hub.clients == 0


def test_queue_notices_become_client_messages() -> None:
    notice = QueueChange(queue="unrouted", item_id="e1", at="2026-11-21T00:00:00Z")
    message = to_client_message(topics.QUEUE_CHANGES.name, notice.model_dump_json().encode())
    assert message is not None and orjson.loads(message.text) == {
        "type": "unrouted",
        "change": "added",
        "item": {"event_id": "e1"},
    }


async def test_a_change_is_serialised_once_and_the_same_text_goes_to_every_client(dumps_calls: list[Any]) -> None:
    hub = LiveHub(WebSettings(ws_per_account=20))
    clients = [hub.subscribe() for _ in range(20)] + [hub.subscribe(DISPATCHER) for _ in range(20)]
    outsider = hub.subscribe(Scope("x", Role.DISPATCHER, OTHER, "disp-9"))
    case = view()
    hub.receive(CHANGES, change(case))
    assert len(dumps_calls) == 1
    batches = [await asyncio.wait_for(client.batch(), 1) for client in clients]
    assert all(len(batch) == 1 and batch[0] is batches[0][0] for batch in batches)
    assert orjson.loads(batches[0][0])["case"]["version"] == 1
    assert outsider._queue.qsize() == 0

    dumps_calls.clear()
    hub.receive(CHANGES, change(view(case.id, version=2, township=OTHER)))
    assert len(dumps_calls) == 2, "the change once, and the removal once for every client the case left"
    removals = [await asyncio.wait_for(client.batch(), 1) for client in clients[20:]]
    assert all(batch[0] is removals[0][0] for batch in removals)
    assert shown(removals[0]) == [("case_removed", str(case.id), 2)]
    assert shown(await outsider.batch()) == [("case_changed", str(case.id), 2)]


async def test_an_account_beyond_its_live_connections_is_refused_until_one_closes() -> None:
    hub = LiveHub(WebSettings(ws_per_account=2))
    first, _ = hub.subscribe(DISPATCHER), hub.subscribe(DISPATCHER)
    hub.subscribe(Scope("x", Role.DISPATCHER, OTHER, "disp-9"))
    with pytest.raises(TooManyConnections):
        hub.subscribe(DISPATCHER)
    assert hub.clients == 3, "the refused one was never registered"
    hub.unsubscribe(first)
    hub.subscribe(DISPATCHER)
    assert hub.clients == 3


async def test_a_burst_of_one_case_reaches_a_busy_client_as_its_newest_version() -> None:
    client = LiveClient(size=5, scope=DISPATCHER)
    hot, other = view(), view()
    client.offer(message(hot))
    client.offer(message(other))
    client.offer(LiveMessage("queue notice", queue="unrouted", region=TOWN))
    for version in range(2, 11):
        client.offer(message(view(hot.id, version=version)))
    client.offer(message(view(other.id, version=2)))
    texts = await client.batch()
    assert texts[0] == "queue notice"
    assert shown(texts[1:]) == [("case_changed", str(hot.id), 10), ("case_changed", str(other.id), 2)]
    assert client._queue.coalesced == 10
    assert not client.overflowed, "ten changes of two cases take two places, not eleven"


async def test_a_removal_is_never_coalesced_away_and_the_last_state_comes_last() -> None:
    client = LiveClient(size=10, scope=DISPATCHER)
    case = view()
    client.offer(message(case))
    client.offer(message(view(case.id, version=2, township=OTHER)))
    client.offer(message(view(case.id, version=3, township=OTHER)))
    client.offer(message(view(case.id, version=4)))
    client.offer(message(view(case.id, version=5)))
    assert shown(await client.batch()) == [("case_removed", str(case.id), 2), ("case_changed", str(case.id), 5)]
    client.offer(message(view(case.id, version=6)))
    client.offer(message(view(case.id, version=7, township=OTHER)))
    assert shown(await client.batch()) == [("case_changed", str(case.id), 6), ("case_removed", str(case.id), 7)]


async def test_a_client_behind_on_many_cases_still_overflows() -> None:
    client = LiveClient(size=3)
    for _ in range(4):
        client.offer(message(view()))
    assert client.overflowed
    with pytest.raises(Overflow):
        await client.batch()


async def test_a_change_wakes_the_request_waiting_for_its_command() -> None:
    hub = LiveHub(WebSettings())
    mine, other = uuid.uuid4(), uuid.uuid4()
    with hub.waiters.expect(mine) as future:
        assert future is not None and len(hub.waiters) == 1
        hub.receive(CHANGES, change(view(), command_id=other))
        hub.receive(CHANGES, change(view(), command_id=None))
        assert not future.done(), "another command's change, or one without a command, wakes nobody"
        case = view()
        hub.receive(CHANGES, change(case, command_id=mine))
        found = await settled(future, 1)
        assert found is not None and (found.command_id, found.case_id) == (mine, case.id)
    assert len(hub.waiters) == 0


async def test_a_wait_that_runs_out_leaves_no_waiter_behind() -> None:
    waiters = CommandWaiters(limit=10)
    with waiters.expect(uuid.uuid4()) as future:
        assert await settled(future, 0.01) is None
    assert len(waiters) == 0
    with pytest.raises(asyncio.CancelledError), waiters.expect(uuid.uuid4()) as future:
        task = asyncio.ensure_future(settled(future, 10))
        await asyncio.sleep(0)
        task.cancel()
        await task
    assert len(waiters) == 0, "a request that goes away takes its waiter with it"


async def test_the_waiters_are_bounded_and_a_resent_command_shares_one() -> None:
    waiters = CommandWaiters(limit=2)
    first, second = uuid.uuid4(), uuid.uuid4()
    with waiters.expect(first) as a, waiters.expect(first) as again, waiters.expect(second) as b:
        assert a is not None and a is again and b is not None and len(waiters) == 2
        with waiters.expect(uuid.uuid4()) as refused:
            assert refused is None and waiters.full == 1
        assert await settled(refused, 10) is None, "a request without a waiter does not wait"
        assert waiters.resolve(CaseChange.model_validate_json(change(view(), command_id=first)))
        assert a.done() and not b.done()
    assert len(waiters) == 0


async def test_a_refused_command_wakes_its_request_at_once_and_no_screen_hears_of_it() -> None:
    hub = LiveHub(WebSettings())
    client, command_id, case = hub.subscribe(), uuid.uuid4(), view()
    record = CaseChange(
        case_id=case.id, version=case.version, change="refused", at=datetime.now(UTC), case=case, command_id=command_id
    )
    with hub.waiters.expect(command_id) as future:
        hub.receive(CHANGES, record.model_dump_json().encode())
        found = await settled(future, 1)
        assert found is not None and found.change == "refused"
    assert client._queue.qsize() == 0 and hub.delivered == 0


def test_a_notice_goes_to_its_recipients_clients_only() -> None:
    notice = Notice(
        id=7,
        person_id="gm-1",
        case_id=uuid.uuid4(),
        kind="dispatched",
        text_zh="新派遣：x",
        text_en="New dispatch: x",
        created_at=datetime.now(UTC),
    )
    message = to_client_message(topics.INBOX.name, dump(notice))
    assert message is not None and message.recipient == "gm-1"
    clients = {
        who: LiveClient(10, Scope(username=who, role=role, unit_code="510822100", person_id=who))
        for who, role in (("gm-1", Role.GRID_MEMBER), ("gm-2", Role.GRID_MEMBER), ("disp-1", Role.DISPATCHER))
    }
    for client in clients.values():
        client.offer(message)
    heard = {
        who: asyncio.run(asyncio.wait_for(c.batch(), 0.1)) if who == "gm-1" else None for who, c in clients.items()
    }
    assert heard["gm-1"] == [message.text]
    for who in ("gm-2", "disp-1"):
        with pytest.raises(TimeoutError):
            asyncio.run(asyncio.wait_for(clients[who].batch(), 0.05))


def test_a_registry_change_a_map_draws_reaches_every_page_and_a_rule_edit_none() -> None:
    plan = to_client_message(topics.REGISTRY.name, dump(RegistryChange.now("plan", 12, "plan p1 applied", "p1")))
    assert plan is not None
    assert orjson.loads(plan.text) == {"type": "registry_changed", "part": "plan", "revision": 12}
    clients = [
        LiveClient(10, DISPATCHER),
        LiveClient(10, Scope("gm", Role.GRID_MEMBER, OTHER, "gm-9")),
        LiveClient(10, Scope("a", Role.ADMIN, "510822")),
    ]
    for client in clients:
        client.offer(plan)
        assert asyncio.run(asyncio.wait_for(client.batch(), 0.1)) == [plan.text]
    assert to_client_message(topics.REGISTRY.name, dump(RegistryChange.now("rules", 13, "rule edited"))) is None
    assert to_client_message(topics.REGISTRY.name, b'{"part": "day"}') is None, "the registry agent dead-letters it"
