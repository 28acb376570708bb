"""The live hub: one broker consumer fans case and queue changes out to websocket clients.

Each client subscribes before its snapshot is read, so nothing falls in between; the client
deduplicates the overlap by case version. Each client has a bounded queue; one that falls
behind is dropped, never allowed to stall the others. Every message is serialised once, and
each client admits only what its user's scope reaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from uuid import UUID

import orjson
from aiokafka import AIOKafkaConsumer

from core import topics
from core.case_views import CaseChange, CaseView
from core.queues import QueueChange
from core.vocabulary import Role
from dispatch.access.scope import COMMAND_CENTRE, Scope
from web.settings import WebSettings

log = logging.getLogger(__name__)


class Overflow(Exception):
    """The client fell too far behind."""


@dataclass(frozen=True)
class LiveMessage:
    """A serialised message with what decides who may receive it."""

    text: str
    case: CaseView | None = None
    queue: str | None = None
    region: str | None = None


class LiveClient:
    """One websocket's bounded queue of serialised messages, filtered by the user's scope.

    A case the client was shown and that has left its reach (transferred away) is announced as removed.
    """

    def __init__(self, size: int, scope: Scope | None = None) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue(maxsize=size)
        self._overflow = asyncio.Event()
        self.scope = scope
        self.known: set[UUID] = set()

    def offer(self, message: LiveMessage | str) -> None:
        """Queue a message the user may see, or mark the client as overflowed."""
        if isinstance(message, str):
            message = LiveMessage(message)
        text = self._admit(message)
        if text is None:
            return
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self._overflow.set()

    def _admit(self, message: LiveMessage) -> str | None:
        scope = self.scope
        if scope is None:
            return message.text
        if message.queue is not None:
            may = scope.role in COMMAND_CENTRE and (message.queue != "deadletter" or scope.role is Role.ADMIN)
            return message.text if may else None
        if message.region is not None:
            return message.text if scope.role in COMMAND_CENTRE and message.region.startswith(scope.area) else None
        case = message.case
        if case is None:
            return message.text
        if scope.sees(case):
            self.known.add(case.id)
            return message.text
        if case.id in self.known:
            self.known.discard(case.id)
            return orjson.dumps({"type": "case_removed", "case_id": str(case.id), "version": case.version}).decode()
        return None

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


def to_client_message(topic_base: str, value: bytes) -> LiveMessage | None:
    """Turn a broker record into the websocket message clients receive."""
    if topic_base == topics.CASE_CHANGES.name:
        change = CaseChange.model_validate_json(value)
        text = orjson.dumps(
            {"type": "case_changed", "change": change.change, "case": change.case.model_dump(mode="json")}
        ).decode()
        return LiveMessage(text, case=change.case)
    if topic_base == topics.QUEUE_CHANGES.name:
        notice = QueueChange.model_validate_json(value)
        key = "event_id" if notice.queue == "unrouted" else "id"
        text = orjson.dumps({"type": notice.queue, "change": notice.change, "item": {key: notice.item_id}}).decode()
        return LiveMessage(text, queue=notice.queue)
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

    def subscribe(self, scope: Scope | None = None) -> LiveClient:
        """Register a client seeing `scope`; call before reading its snapshot."""
        client = LiveClient(self._settings.ws_queue_size, scope)
        self._clients.add(client)
        return client

    def unsubscribe(self, client: LiveClient) -> None:
        """Forget a client."""
        self._clients.discard(client)

    def broadcast(self, message: LiveMessage | str) -> None:
        """Offer one serialised message to every client; each admits what its user may see."""
        for client in list(self._clients):
            client.offer(message)
        self.delivered += 1

    async def _pump(self) -> None:
        assert self._consumer is not None
        prefix = len(self._settings.topic_prefix)
        async for record in self._consumer:
            try:
                message = to_client_message(record.topic[prefix:], record.value)
            except ValueError:
                log.exception("unreadable record on %s@%d skipped", record.topic, record.offset)
                continue
            if message is not None:
                self.broadcast(message)
