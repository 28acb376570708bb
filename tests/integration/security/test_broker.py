"""The broker against a hostile local process: without credentials, with a wrong password, or with one service's
credentials used for what only another may do, it is refused and nothing changes on any topic. Poison records (a
NUL byte, invalid UTF-8) on every topic a worker or the web server reads become dead letters with their bytes
escaped, and the readers go on with the next record."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from core import topics
from core.cases import case_id_for_event
from core.queues import ESCAPED_NOTE, printable
from dispatch.settings import sasl_options
from streams.acls import ADMIN, INTAKE, STREAM, USERS, WEB
from tests.integration.auth import as_person
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, login_as, wait_for
from tests.integration.helpers import event, grid_point

pytestmark = pytest.mark.integration

POISON = {"nul": b'{"event_id": "\x00"}', "invalid utf-8": b'{"event_id": "\xff\xfe\xc3"}'}
"""A NUL byte inside JSON, and bytes that are no UTF-8 at all."""


def bootstrap(ts: LiveStack) -> str:
    return ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092")


def end_offsets(ts: LiveStack) -> dict[TopicPartition, int]:
    """Where every partition of the session's topics ends, as admin sees it."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap(ts), **login_as(ADMIN))
    try:
        names = [topic_name(ts, spec.name) for spec in topics.ALL_TOPICS]
        parts = [TopicPartition(n, p) for n in names for p in consumer.partitions_for_topic(n) or ()]
        assert len(parts) == sum(spec.partitions for spec in topics.ALL_TOPICS)
        return dict(consumer.end_offsets(parts))
    finally:
        consumer.close()


@pytest.fixture
def unchanged(live_stack: LiveStack) -> Iterator[None]:
    """The test may refuse whatever it likes: afterwards no topic of the session has gained a record."""
    before = end_offsets(live_stack)
    yield
    assert end_offsets(live_stack) == before


async def produce(ts: LiveStack, login: dict[str, str], base: str, value: bytes = b"{}") -> None:
    """Publish one record on a session topic, logged in as given."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap(ts), request_timeout_ms=5000, **login)
    try:
        await producer.start()
        await producer.send_and_wait(topic_name(ts, base), value, key=b"forged")
    finally:
        await producer.stop()


async def consume(ts: LiveStack, login: dict[str, str], base: str, group: str | None = None) -> None:
    """Subscribe to a session topic (in `group`, if given) and read from its start, logged in as given."""
    consumer = AIOKafkaConsumer(
        topic_name(ts, base),
        bootstrap_servers=bootstrap(ts),
        group_id=group,
        auto_offset_reset="earliest",
        request_timeout_ms=5000,
        **login,
    )
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=2000)
    finally:
        await consumer.stop()


async def test_a_client_without_credentials_is_refused(live_stack: LiveStack, unchanged: None) -> None:
    with pytest.raises(KafkaConnectionError):
        await produce(live_stack, {}, topics.CASE_COMMANDS.name)
    with pytest.raises(KafkaConnectionError):
        await consume(live_stack, {}, topics.CASE_CHANGES.name)


@pytest.mark.parametrize("user", [*USERS, "mallory"])
async def test_a_wrong_password_is_refused_as_an_authentication_failure(
    live_stack: LiveStack, unchanged: None, user: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await produce(live_stack, sasl_options(user, "guessed-" + uuid.uuid4().hex), topics.CASE_COMMANDS.name)
    assert "SaslAuthenticationFailed" in caplog.text and "invalid credentials" in caplog.text


async def test_the_controller_listener_refuses_clients_even_admin(live_stack: LiveStack, unchanged: None) -> None:
    host, port = bootstrap(live_stack).rsplit(":", 1)
    controller = live_stack.env.get("GRID_KAFKA_CONTROLLER_PORT", str(int(port) + 1))
    for login in ({}, login_as(ADMIN)):
        producer = AIOKafkaProducer(bootstrap_servers=f"{host}:{controller}", request_timeout_ms=5000, **login)
        try:
            with pytest.raises(KafkaConnectionError):
                await producer.start()
        finally:
            await producer.stop()


WRITES_REFUSED = {
    INTAKE: [t.name for t in topics.ALL_TOPICS if t is not topics.EVENTS],
    WEB: [topics.CASE_CHANGES.name],
    STREAM: [topics.REGISTRY.name],
}
READS_REFUSED = {
    INTAKE: [t.name for t in topics.ALL_TOPICS],
    WEB: [topics.EVENTS.name, topics.CASE_COMMANDS.name, topics.ROUTED.name, topics.DEAD_LETTER.name],
    STREAM: [topics.CASE_CHANGES.name, topics.QUEUE_CHANGES.name],
}


@pytest.mark.parametrize("user", [INTAKE, WEB, STREAM])
async def test_a_service_may_not_write_what_is_not_its_own(
    live_stack: LiveStack, db: asyncpg.Pool, unchanged: None, user: str
) -> None:
    cases = await db.fetchval("SELECT count(*) FROM cases")
    for base in WRITES_REFUSED[user]:
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(live_stack, login_as(user), base, b'{"kind": "accept"}')
    assert await db.fetchval("SELECT count(*) FROM cases") == cases


@pytest.mark.parametrize("user", [INTAKE, WEB, STREAM])
async def test_a_service_may_not_read_what_is_not_its_own(live_stack: LiveStack, unchanged: None, user: str) -> None:
    for base in READS_REFUSED[user]:
        with pytest.raises(TopicAuthorizationFailedError):
            await consume(live_stack, login_as(user), base)


async def test_only_the_workers_join_the_workers_group(live_stack: LiveStack, unchanged: None) -> None:
    group = live_stack.env["GRID_TOPIC_PREFIX"] + "gridcmd-streams"
    with pytest.raises(GroupAuthorizationFailedError):
        await consume(live_stack, login_as(WEB), topics.CASE_CHANGES.name, group=group)


CONSUMED = [
    topics.EVENTS,
    topics.ROUTED,
    topics.CASE_COMMANDS,
    topics.UNROUTED,
    topics.DEAD_LETTER,
    topics.REGISTRY,
    topics.CASE_CHANGES,  # the web server's live hub
    topics.QUEUE_CHANGES,  # the web server's live hub
    topics.INBOX,  # the web server's live hub
]


async def test_poison_records_on_every_consumed_topic_become_dead_letters_with_their_bytes_escaped(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    sent: list[tuple[str, int, int, bytes]] = []
    for spec in CONSUMED:
        for what, value in POISON.items():
            name = topic_name(live_stack, spec.name)
            meta = producer.send(name, value, key=f"poison {what}".encode()).get(10)
            sent.append((name, meta.partition, meta.offset, value))

    case_id = await dispatched_case_after_the_poison(http, db)
    member = await as_person(db, (await grid_point(db, offset=61))["member_id"])
    reply = await http.post(f"/api/v1/cases/{case_id}/commands", json={"kind": "accept"}, headers=member)
    assert reply.status_code == 200 and reply.json()["status"] == "applied", "the live hub answered from the change"

    for name, partition, offset, value in sent:
        letter = await dead_letter(db, name, partition, offset)
        assert letter["raw"] == printable(value)[0] and "\\x" in letter["raw"]
        assert letter["reason"].endswith(ESCAPED_NOTE) and letter["key"].startswith("poison")
    streams = live_stack.service("streams")
    assert streams.proc.poll() is None and "the worker exits" not in streams.log_text()


async def dead_letter(db: asyncpg.Pool, topic: str, partition: int, offset: int) -> asyncpg.Record:
    """Wait for the dead letter of one record."""
    query = 'SELECT raw, reason, key FROM dead_letters WHERE source_topic = $1 AND "partition" = $2 AND "offset" = $3'
    return await wait_for(
        lambda: db.fetchrow(query, topic, partition, offset), f"the dead letter of {topic}[{partition}]@{offset}", 30
    )


async def dispatched_case_after_the_poison(http: httpx.AsyncClient, db: asyncpg.Pool) -> str:
    """A good event sent after the poison records is still routed into a dispatched case."""
    spot = await grid_point(db, offset=61)
    body: dict[str, Any] = event(lon=spot["lon"], lat=spot["lat"])
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = str(case_id_for_event(uuid.UUID(body["event_id"])))

    async def dispatched() -> bool:
        reply = await http.get(f"/api/v1/cases/{case_id}")
        return reply.status_code == 200 and reply.json()["case"]["state"] == "dispatched"

    await wait_for(dispatched, f"case {case_id} dispatched after the poison records", within=30)
    return case_id


async def test_a_dead_letter_with_escaped_bytes_is_never_replayed_as_text(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    name = topic_name(live_stack, topics.EVENTS.name)
    meta = producer.send(name, POISON["invalid utf-8"], key=b"poison replay").get(10)
    await dead_letter(db, name, meta.partition, meta.offset)
    letter_id = await db.fetchval(
        'SELECT id FROM dead_letters WHERE source_topic = $1 AND "partition" = $2 AND "offset" = $3',
        name,
        meta.partition,
        meta.offset,
    )
    before = end_offsets(live_stack)
    reply = await http.post(f"/api/v1/queues/deadletter/{letter_id}/resolution", json={"action": "replay"})
    assert reply.status_code == 409, reply.text
    assert await db.fetchval("SELECT resolved_at FROM dead_letters WHERE id = $1", letter_id) is None
    assert end_offsets(live_stack)[TopicPartition(name, meta.partition)] == before[TopicPartition(name, meta.partition)]
