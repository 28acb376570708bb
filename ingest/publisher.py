"""Write accepted events to the events topic and wait for the broker's acknowledgement (acks=all)."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from core.events import EventEnvelope
from core.registry import REGISTRY
from ingest.settings import IngestSettings


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
        )

    async def start(self) -> None:
        """Connect to the broker."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def publish(self, event: EventEnvelope) -> None:
        """Send one event to its registered topic; returns once every in-sync replica has it."""
        kind = REGISTRY[(event.type, event.version)]
        topic = kind.topic.full_name(self._settings.topic_prefix)
        await self._producer.send_and_wait(topic, event.model_dump_json().encode(), key=str(event.event_id).encode())
