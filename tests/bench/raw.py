"""The broker's own rate from Python in the same run: what the product's figures are a fraction of."""

from __future__ import annotations

import asyncio
import os
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from streams.acls import ADMIN
from tests.integration.harness import login_as

RECORD_BYTES = 480


async def raw_produce(bootstrap: str, prefix: str, n: int = 200_000) -> tuple[float, float]:
    """Records/s produced with acks=all (sent without waiting, then every ack awaited), and consumed back."""
    topic = f"{prefix}bench.raw"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **login_as(ADMIN))
    admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)])
    admin.close()
    value = os.urandom(RECORD_BYTES // 2).hex().encode()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=1 << 20, **login_as(ADMIN)
    )
    await producer.start()
    try:
        start = time.perf_counter()
        futures = [await producer.send(topic, value, key=str(i).encode()) for i in range(n)]
        await asyncio.gather(*futures)
        produced = n / (time.perf_counter() - start)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None, **login_as(ADMIN)
    )
    await consumer.start()
    try:
        start, seen = time.perf_counter(), 0
        while seen < n:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
                seen += len(records)
        consumed = n / (time.perf_counter() - start)
    finally:
        await consumer.stop()
    return produced, consumed
