"""Records the agents cannot act on go to the dead-letter topic, with the reason and the raw bytes as text."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from faust.types import EventT, TopicT

from core.queues import DeadLetter
from core.registry import dump
from streams.context import StreamContext

log = logging.getLogger(__name__)
RAW_CAP = 64 * 1024


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
        letter = DeadLetter(
            source_topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key.decode(errors="replace") if isinstance(msg.key, bytes) else None,
            reason=reason[:1000],
            raw=_lenient_text(msg.value),
            received_at=datetime.now(UTC),
        )
        await self.topic.send(key=msg.topic.encode(), value=dump(letter))


def _lenient_text(value: object) -> str:
    if isinstance(value, bytes):
        return value[:RAW_CAP].decode("utf-8", errors="replace")
    return repr(value)[:RAW_CAP]
