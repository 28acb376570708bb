"""Publish registry notices from the web process so the stream processors reload what changed."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from core import topics
from core.plans import RedistrictingPlan
from core.queues import RegistryChange
from web.settings import WebSettings


class RegistryNotices:
    """A small producer for the compacted registry topic."""

    def __init__(self, settings: WebSettings) -> None:
        self._topic = settings.topic(topics.REGISTRY.name)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            client_id="gridcmd-web-registry",
            compression_type="gzip",
            max_request_size=topics.REGISTRY_MAX_BYTES,
            **settings.kafka_options(),
        )

    async def start(self) -> None:
        """Connect."""
        await self._producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self._producer.stop()

    async def announce(
        self, part: str, reason: str, *, revision: int = 0, plan: RedistrictingPlan | None = None
    ) -> None:
        """Tell every stream processor that `part` of the registry changed; a plan notice carries the plan."""
        change = RegistryChange.now(part, revision, reason, plan=plan)
        await self._producer.send_and_wait(self._topic, change.model_dump_json().encode(), key=change.key)
