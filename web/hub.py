"""The live hub: one broker consumer fans case and queue changes out to websocket clients.

Each client subscribes before its snapshot is read, so nothing falls in between; the client
deduplicates the overlap by case version. Each client has a bounded backlog (web/backlog.py) in which a
burst of one case's changes is coalesced to the newest; one that still falls behind is dropped, never
allowed to stall the others. Every message is serialised once, and the same text goes to each client
whose user's scope admits it. An account holds at most GRID_WS_PER_ACCOUNT clients per process: one more is
refused (not the oldest evicted, which would make the account's windows displace each other in turn as each
reconnects). The hub also wakes the requests waiting for a command's change (web/waiters.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from uuid import UUID

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from core import topics
from core.case_views import CaseChange, CaseView
from core.notices import Notice
from core.queues import DeadLetter, QueueChange, RegistryChange
from core.registry import dump
from core.topics import REGISTRY_MAX_BYTES
from core.vocabulary import Role
from dispatch.access.scope import COMMAND_CENTRE, Scope
from dispatch.clock import seconds_to_next_day
from web.backlog import Backlog
from web.settings import WebSettings
from web.waiters import CommandWaiters

log = logging.getLogger(__name__)
Publish = Callable[[str, bytes | None, bytes], Awaitable[None]]
"""Sends a record (topic's full name, key, value) and waits for the broker's acknowledgement."""
MAP_PARTS = frozenset({"boundaries", "people", "plan"})
"""The registry parts a map draws."""
REFUSED = "refused"
"""The change the writer publishes for a refused command: the case unchanged, for the waiting request only."""


class Overflow(Exception):
    """The client fell too far behind."""


class TooManyConnections(Exception):
    """The account holds as many live connections as it may on this process."""


@dataclass(frozen=True)
class LiveMessage:
    """A serialised message with what decides who may receive it."""

    text: str
    case: CaseView | None = None
    queue: str | None = None
    region: str | None = None
    """The unit code a notice concerns (a queue item's township, a position's unit); None for the whole deployment."""
    recipient: str | None = None
    """The person an inbox notice is addressed to: only their clients receive it."""

    @cached_property
    def removal(self) -> str:
        """The `case_removed` text for clients the case has left, serialised once for all of them."""
        assert self.case is not None
        return orjson.dumps(
            {"type": "case_removed", "case_id": str(self.case.id), "version": self.case.version}
        ).decode()


class LiveClient:
    """One websocket's backlog of serialised messages, filtered by the user's scope.

    A case the client was shown and that has left its reach (transferred away) is announced as removed.
    """

    def __init__(self, size: int, scope: Scope | None = None) -> None:
        self._queue = Backlog(size)
        self._ready = asyncio.Event()
        self.overflowed = False
        self.scope = scope
        self.known: set[UUID] = set()

    def offer(self, message: LiveMessage | str) -> None:
        """Queue a message the user may see, or mark the client as overflowed."""
        if self.overflowed:
            return
        if isinstance(message, str):
            message = LiveMessage(message)
        admitted = self._admit(message)
        if admitted is None:
            return
        if not self._queue.put(*admitted):
            self.overflowed = True
        self._ready.set()

    def _admit(self, message: LiveMessage) -> tuple[str, UUID | None] | None:
        """The text the user may see, with the case whose pending change it replaces; None when not theirs."""
        scope = self.scope
        case = message.case
        if message.recipient is not None:
            mine = scope is not None and scope.person_id == message.recipient
            return (message.text, None) if mine else None
        if scope is None:
            return message.text, case.id if case is not None else None
        if message.queue is not None or message.region is not None:
            return (message.text, None) if _reaches(scope, message) else None
        if case is None:
            return message.text, None
        if scope.sees(case):
            self.known.add(case.id)
            return message.text, case.id
        if case.id in self.known:
            self.known.discard(case.id)
            return message.removal, None
        return None

    async def batch(self) -> list[str]:
        """Every pending message (at least one), oldest first; raises Overflow once the client has fallen behind."""
        while not self._queue.qsize() and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            raise Overflow
        return self._queue.drain()


def _reaches(scope: Scope, message: LiveMessage) -> bool:
    """Whether a notice that is not a case's lies in the user's area: dead letters and unrouted events outside every
    township are the administrators' alone; the rest go to the command centres whose area covers the region."""
    if scope.role is Role.ADMIN:
        return True
    if message.queue == "deadletter" or message.region is None:
        return False
    return scope.role in COMMAND_CENTRE and message.region.startswith(scope.area)


def case_message(change: CaseChange) -> LiveMessage:
    """The websocket message of a case change."""
    case = change.case.model_dump(mode="json")
    text = orjson.dumps({"type": "case_changed", "change": change.change, "case": case}).decode()
    return LiveMessage(text, case=change.case)


def to_client_message(topic_base: str, value: bytes) -> LiveMessage | None:
    """Turn a broker record into the websocket message clients receive."""
    if topic_base == topics.CASE_CHANGES.name:
        return case_message(CaseChange.model_validate_json(value))
    if topic_base == topics.QUEUE_CHANGES.name:
        notice = QueueChange.model_validate_json(value)
        key = "event_id" if notice.queue == "unrouted" else "id"
        text = orjson.dumps({"type": notice.queue, "change": notice.change, "item": {key: notice.item_id}}).decode()
        return LiveMessage(text, queue=notice.queue, region=notice.region)
    if topic_base == topics.INBOX.name:
        item = Notice.model_validate_json(value)
        text = orjson.dumps({"type": "notice", "notice": item.model_dump(mode="json")}).decode()
        return LiveMessage(text, recipient=item.person_id)
    if topic_base == topics.REGISTRY.name:
        try:
            return registry_message(RegistryChange.model_validate_json(value))
        except ValidationError:  # the registry agent dead-letters it, once
            log.warning("unreadable registry notice: no page is told of it")
            return None
    return None


def new_day_message() -> LiveMessage:
    """At local midnight the rows in force change (a plan dated today takes effect): every map draws today's."""
    return LiveMessage(orjson.dumps({"type": "registry_changed", "part": "day", "revision": 0}).decode())


def registry_message(change: RegistryChange) -> LiveMessage | None:
    """Tell every page that the map's registry changed (grids, units, people, a plan), so it draws today's again;
    rule and SLA edits change nothing drawn."""
    if change.part not in MAP_PARTS:
        return None
    text = orjson.dumps({"type": "registry_changed", "part": change.part, "revision": change.revision}).decode()
    return LiveMessage(text)


class LiveHub:
    """Consumes case.changes, queue.changes, inbox.notices and the registry notices from their end, offers each to
    every client (a notice to its recipient's only), wakes command waiters."""

    def __init__(self, settings: WebSettings, publish: Publish | None = None) -> None:
        self._settings = settings
        self._publish = publish
        self._clients: set[LiveClient] = set()
        self._by_account: dict[str, list[LiveClient]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._days: asyncio.Task[None] | None = None
        self.waiters = CommandWaiters(settings.command_waiters)
        self.delivered = 0
        self.dropped = 0

    @property
    def clients(self) -> int:
        """How many clients are connected."""
        return len(self._clients)

    async def start(self) -> None:
        """Start consuming from the current end, with positions fixed before any client subscribes."""
        # No consumer group: every partition is assigned, so each web process (GRID_WEB_WORKERS > 1) sees every
        # change, and the one whose request waits for a command hears of it.
        names = [self._settings.topic(t.name) for t in topics.LIVE]
        self._consumer = AIOKafkaConsumer(
            *names,
            bootstrap_servers=self._settings.kafka_bootstrap,
            group_id=None,
            auto_offset_reset="latest",
            enable_auto_commit=False,
            max_partition_fetch_bytes=REGISTRY_MAX_BYTES,  # a plan notice carries the plan
            client_id="gridcmd-web-hub",
            **self._settings.kafka_options(),
        )
        await self._consumer.start()
        if not self._consumer.assignment():
            raise RuntimeError(f"live hub: topics {names} have no partitions; run `python -m streams.topics`")
        await self._consumer.seek_to_end()
        for tp in self._consumer.assignment():
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._pump(), name="live-hub")
        self._days = asyncio.create_task(self._announce_days(), name="live-hub-days")

    async def stop(self) -> None:
        """Stop consuming."""
        for task in (self._task, self._days):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._consumer is not None:
            await self._consumer.stop()

    def subscribe(self, scope: Scope | None = None) -> LiveClient:
        """Register a client seeing `scope`; call before reading its snapshot. TooManyConnections when the account
        holds GRID_WS_PER_ACCOUNT already."""
        client = LiveClient(self._settings.ws_queue_size, scope)
        if scope is not None:
            held = self._by_account.setdefault(scope.username, [])
            if len(held) >= self._settings.ws_per_account:
                raise TooManyConnections
            held.append(client)
        self._clients.add(client)
        return client

    def unsubscribe(self, client: LiveClient) -> None:
        """Forget a client."""
        self._clients.discard(client)
        if client.scope is not None:
            held = self._by_account.get(client.scope.username, [])
            if client in held:
                held.remove(client)
            if not held:
                self._by_account.pop(client.scope.username, None)

    def broadcast(self, message: LiveMessage | str) -> None:
        """Offer one serialised message to every client; each admits what its user may see."""
        if isinstance(message, str):
            message = LiveMessage(message)
        for client in list(self._clients):
            client.offer(message)
        self.delivered += 1

    def receive(self, topic_base: str, value: bytes) -> None:
        """Take one broker record: wake the request waiting for a change's command, and tell the clients."""
        if topic_base == topics.CASE_CHANGES.name:
            change = CaseChange.model_validate_json(value)
            self.waiters.resolve(change)
            if change.change != REFUSED:  # the case as it stood: news only to the request that waits
                self.broadcast(case_message(change))
            return
        message = to_client_message(topic_base, value)
        if message is not None:
            self.broadcast(message)

    async def _pump(self) -> None:
        assert self._consumer is not None
        prefix = len(self._settings.topic_prefix)
        async for record in self._consumer:
            try:
                self.receive(record.topic[prefix:], record.value)
            except ValueError as exc:
                await self._dead_letter(record, exc)

    async def _announce_days(self) -> None:
        while True:
            await asyncio.sleep(seconds_to_next_day(datetime.now(UTC)) + 1)
            self.broadcast(new_day_message())

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], exc: ValueError) -> None:
        """Put a record the hub cannot read on the dead-letter topic (every web process does: the queue keeps one)."""
        why = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)[:200]
        log.error("unreadable record on %s[%d]@%d: %s", record.topic, record.partition, record.offset, why)
        if self._publish is None:
            return
        letter = DeadLetter.of_record(
            record.topic,
            record.partition,
            record.offset,
            record.key,
            record.value,
            f"unreadable on the live hub: {why}",
        )
        try:
            await self._publish(self._settings.topic(topics.DEAD_LETTER.name), record.topic.encode(), dump(letter))
        except (KafkaError, TimeoutError) as failed:
            log.error("could not dead-letter %s[%d]@%d: %s", record.topic, record.partition, record.offset, failed)
