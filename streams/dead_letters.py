"""Records the agents cannot act on go to the dead-letter topic, with the reason and the record's bytes as text
(escaped when they are not clean UTF-8: core.queues.DeadLetter.of_record)."""

from __future__ import annotations

import logging
from typing import Any

from faust.types import EventT, TopicT

from core.queues import DeadLetter
from core.registry import dump
from streams.context import StreamContext

log = logging.getLogger(__name__)


class DeadLetters:
    """Sends consumed records to the dead-letter topic and counts them."""

    def __init__(self, ctx: StreamContext, topic: TopicT) -> None:
        self.ctx = ctx
        self.topic = topic

    async def send(self, event: EventT[Any], reason: str) -> None:
        """Dead-letter the record behind `event`, saying why it was not acted on."""
        msg = event.message
        self.ctx.counters["dead_letters"] += 1
        log.warning("dead letter from %s[%d]@%d: %s", msg.topic, msg.partition, msg.offset, reason)
        value = msg.value if isinstance(msg.value, bytes) or msg.value is None else repr(msg.value).encode()
        key = msg.key if isinstance(msg.key, bytes) else None
        letter = DeadLetter.of_record(msg.topic, msg.partition, msg.offset, key, value, reason)
        await self.topic.send(key=msg.topic.encode(), value=dump(letter))
