"""Tell the stream processors that part of the registry changed (compacted registry topic)."""

from __future__ import annotations

from kafka import KafkaProducer

from core import topics
from core.plans import RedistrictingPlan
from core.queues import RegistryChange
from dispatch.settings import CommonSettings


def announce(
    settings: CommonSettings,
    part: str,
    revision: int,
    reason: str,
    plan_id: str | None = None,
    plan: RedistrictingPlan | None = None,
) -> None:
    """Publish a registry change (with the plan itself, when given) and wait for the broker to have it."""
    change = RegistryChange.now(part, revision, reason, plan_id, plan)
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        client_id="gridctl",
        compression_type="gzip",
        max_request_size=topics.REGISTRY_MAX_BYTES,
        **settings.kafka_options(),
    )
    try:
        producer.send(
            settings.topic(topics.REGISTRY.name), key=change.key, value=change.model_dump_json().encode()
        ).get(timeout=15)
    finally:
        producer.close()
