"""The live hub's fan-out: each client has a bounded queue; a slow one is dropped, the others go on."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from core import topics
from core.queues import QueueChange
from web.hub import LiveClient, LiveHub, Overflow, to_client_message
from web.settings import WebSettings


async def test_a_slow_client_overflows_while_a_fast_one_keeps_receiving() -> None:
    hub = LiveHub(WebSettings(ws_queue_size=3))
    slow, fast = hub.subscribe(), hub.subscribe()
    received: list[str] = []
    for n in range(5):
        hub.broadcast(f"m{n}")
        received.append(await asyncio.wait_for(fast.next(), 1))
    assert received == ["m0", "m1", "m2", "m3", "m4"]
    with pytest.raises(Overflow):
        await asyncio.wait_for(slow.next(), 1)


async def test_a_waiting_client_gets_the_next_message_and_is_dropped_once_it_overflows() -> None:
    client = LiveClient(size=1)
    client.offer("a")
    assert await client.next() == "a"
    waiting = asyncio.ensure_future(client.next())
    client.offer("b")
    assert await asyncio.wait_for(waiting, 1) == "b"
    client.offer("c")
    client.offer("d")
    with pytest.raises(Overflow):
        await client.next()


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
