"""The live hub: one broker consumer fans case and queue changes out to websocket clients.

Each client subscribes before its snapshot is read, so nothing falls in between; the client
deduplicates the overlap by case version. Each client has a bounded queue; one that falls
behind is dropped, never allowed to stall the others. Every message is serialised once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson
from aiokafka import AIOKafkaConsumer

from core import topics
from core.cases import CaseChange
from core.queues import QueueChange
from web.settings import WebSettings

log = logging.getLogger(__name__)


class Overflow(Exception):
    """The client fell too far behind."""


class LiveClient:
    """One websocket's bounded queue of serialised messages."""

    def __init__(self, size: int) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=size)
        self._overflow = asyncio.Event()

    def offer(self, text: str) -> None:
        """Queue a message, or mark the client as overflowed."""
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self._overflow.set()

    async def next(self) -> str:
        """The next message; raises Overflow once the client has fallen behind."""
        if self._overflow.is_set():
            raise Overflow
        getter = asyncio.ensure_future(self._queue.get())
        overflow = asyncio.ensure_future(self._overflow.wait())
        done, pending = await asyncio.wait({getter, overflow}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if getter in done:
            return getter.result()
        raise Overflow


def to_client_message(topic_base: str, value: bytes) -> str | None:
    """Turn a broker record into the websocket message clients receive."""
    if topic_base == topics.CASE_CHANGES.name:
        change = CaseChange.model_validate_json(value)
        return orjson.dumps(
            {"type": "case_changed", "change": change.change, "case": change.case.model_dump(mode="json")}
        ).decode()
    if topic_base == topics.QUEUE_CHANGES.name:
        notice = QueueChange.model_validate_json(value)
        key = "event_id" if notice.queue == "unrouted" else "id"
        return orjson.dumps({"type": notice.queue, "item": {key: notice.item_id}}).decode()
    return None


class LiveHub:
    """Consumes case.changes and queue.changes from their end and offers each to every client."""

    def __init__(self, settings: WebSettings) -> None:
        self._settings = settings
        self._clients: set[LiveClient] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.delivered = 0
        self.dropped = 0

    @property
    def clients(self) -> int:
        """How many clients are connected."""
        return len(self._clients)

    async def start(self) -> None:
        """Start consuming from the current end, with positions fixed before any client subscribes."""
        names = [self._settings.topic(t.name) for t in (topics.CASE_CHANGES, topics.QUEUE_CHANGES)]
        self._consumer = AIOKafkaConsumer(
            *names,
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="latest",
            enable_auto_commit=False,
            client_id="gridcmd-web-hub",
        )
        await self._consumer.start()
        if not self._consumer.assignment():
            raise RuntimeError(f"live hub: topics {names} have no partitions; run `python -m streams.topics`")
        await self._consumer.seek_to_end()
        for tp in self._consumer.assignment():
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._pump(), name="live-hub")

    async def stop(self) -> None:
        """Stop consuming."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    def subscribe(self) -> LiveClient:
        """Register a client; call before reading its snapshot."""
        client = LiveClient(self._settings.ws_queue_size)
        self._clients.add(client)
        return client

    def unsubscribe(self, client: LiveClient) -> None:
        """Forget a client."""
        self._clients.discard(client)

    def broadcast(self, text: str) -> None:
        """Offer one serialised message to every client."""
        for client in list(self._clients):
            client.offer(text)
        self.delivered += 1

    async def _pump(self) -> None:
        assert self._consumer is not None
        prefix = len(self._settings.topic_prefix)
        async for record in self._consumer:
            try:
                text = to_client_message(record.topic[prefix:], record.value)
            except ValueError:
                log.exception("unreadable record on %s@%d skipped", record.topic, record.offset)
                continue
            if text is not None:
                self.broadcast(text)
