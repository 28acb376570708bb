"""Write accepted events to their topics and wait for the broker's acknowledgement (acks=all)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from core.events import EventEnvelope
from core.registry import REGISTRY
from ingest.settings import IngestSettings


@dataclass(frozen=True)
class Outgoing:
    """An event to publish, already serialized (the bytes its receipt's hash was taken of)."""

    event: EventEnvelope
    payload: bytes


class EventPublisher:
    """An idempotent aiokafka producer, keyed by event id."""

    def __init__(self, settings: IngestSettings) -> None:
        self._settings = settings
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            request_timeout_ms=settings.produce_timeout_ms,
            client_id="gridcmd-ingest",
            **settings.intake_kafka_options(),
        )

    async def start(self) -> None:
        """Connect to the broker."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    def _topic(self, event: EventEnvelope) -> str:
        return REGISTRY[(event.type, event.version)].topic.full_name(self._settings.topic_prefix)

    async def publish(self, out: Outgoing) -> None:
        """Send one event to its registered topic; returns once every in-sync replica has it."""
        key = str(out.event.event_id).encode()
        await self._producer.send_and_wait(self._topic(out.event), out.payload, key=key)

    async def publish_all(self, batch: Sequence[Outgoing]) -> list[BaseException | None]:
        """Send every event, then wait once for all acknowledgements; per event None, or why it was not acked.

        Once one cannot even be queued (no broker within the produce timeout), the rest are not tried."""
        futures: list[asyncio.Future[object]] = []
        refused: BaseException | None = None
        for out in batch:
            try:
                key = str(out.event.event_id).encode()
                futures.append(await self._producer.send(self._topic(out.event), out.payload, key=key))
            except Exception as exc:
                refused = exc
                break
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        acked = [o if isinstance(o, BaseException) else None for o in outcomes]
        return acked + [refused] * (len(batch) - len(acked))
