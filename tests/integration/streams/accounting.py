"""Where every accepted event ended: the case it opened, the case it was attached to, or a queue.

An accepted event must end in exactly one of them: none lost, none in two cases.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from core.cases import case_id_for_event
from dispatch.settings import CommonSettings
from streams.acls import ADMIN
from tests.integration.harness import LiveStack, login_as

FATES = """
SELECT e.id AS event_id,
       (SELECT c.id FROM cases c WHERE c.id = e.own) AS opened,
       (SELECT ce.case_id FROM case_events ce WHERE ce.event_id = e.id) AS in_case,
       EXISTS (SELECT 1 FROM unrouted_events u WHERE u.event_id = e.id) AS unrouted,
       EXISTS (SELECT 1 FROM patrol_log p WHERE p.event_id = e.id) AS patrol
FROM unnest($1::uuid[], $2::uuid[]) AS e(id, own)
"""


@dataclass(frozen=True)
class Fate:
    """What became of one event."""

    event_id: uuid.UUID
    opened: uuid.UUID | None
    """Its own case (case_id_for_event), when it exists."""
    in_case: uuid.UUID | None
    """The case case_events puts it in (its own when it opened one)."""
    unrouted: bool
    patrol: bool

    @property
    def endings(self) -> list[str]:
        found = []
        if self.opened is not None:
            found.append(f"opened case {self.opened}")
        if self.in_case is not None and self.in_case != case_id_for_event(self.event_id):
            found.append(f"attached to case {self.in_case}")
        if self.unrouted:
            found.append("in the unrouted queue")
        if self.patrol:
            found.append("in the patrol log")
        return found


async def fates(db: asyncpg.Pool, event_ids: Iterable[str]) -> dict[str, Fate]:
    """The fate of each event, in one query."""
    ids = [uuid.UUID(e) for e in event_ids]
    rows = await db.fetch(FATES, ids, [case_id_for_event(i) for i in ids])
    return {
        str(r["event_id"]): Fate(r["event_id"], r["opened"], r["in_case"], r["unrouted"], r["patrol"]) for r in rows
    }


async def wait_accounted(db: asyncpg.Pool, event_ids: Iterable[str], within: float) -> dict[str, Fate]:
    """Poll until every event has ended somewhere, or fail after `within` seconds naming a few that have not."""
    wanted = list(event_ids)
    deadline = time.monotonic() + within
    while True:
        found = await fates(db, wanted)
        lost = [e for e in wanted if not found[e].endings]
        if not lost:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(lost)} of {len(wanted)} accepted events never ended anywhere: {lost[:5]}")
        await asyncio.sleep(0.5)


async def check_accounts(db: asyncpg.Pool, found: dict[str, Fate]) -> None:
    """Each event ended exactly once, and every case an event is attached to exists."""
    twice = {e: f.endings for e, f in found.items() if len(f.endings) > 1}
    assert not twice, f"{len(twice)} events ended in more than one place: {list(twice.items())[:5]}"
    targets = {f.in_case for f in found.values() if f.in_case is not None}
    existing = {r["id"] for r in await db.fetch("SELECT id FROM cases WHERE id = ANY($1::uuid[])", list(targets))}
    assert targets <= existing, f"events attached to cases that do not exist: {list(targets - existing)[:5]}"


def check_pairs(found: dict[str, Fate], pairs: list[tuple[str, str]]) -> None:
    """Both events of each near-duplicate pair are in one case."""
    split = [(a, b, found[a].in_case, found[b].in_case) for a, b in pairs if found[a].in_case != found[b].in_case]
    assert not split, f"{len(split)} of {len(pairs)} near-duplicate pairs ended in different cases: {split[:3]}"
    assert all(found[a].in_case is not None for a, _ in pairs), "a pair's event is in no case"


def consumer_lag(ts: LiveStack) -> int:
    """How many records the stream workers' consumer group has yet to commit, over every topic it consumes."""
    bootstrap = ts.env.get("GRID_KAFKA_BOOTSTRAP", CommonSettings().kafka_bootstrap)
    group = f"{ts.env['GRID_TOPIC_PREFIX']}gridcmd-streams"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, **login_as(ADMIN))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, **login_as(ADMIN))
    try:
        committed = {tp: meta.offset for tp, meta in admin.list_group_offsets({group: None})[group].items()}
        partitions = [
            TopicPartition(topic, p)
            for topic in {tp.topic for tp in committed}
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        ends = consumer.end_offsets(partitions)
        return sum(max(0, ends[tp] - max(committed.get(tp, 0), 0)) for tp in partitions)
    finally:
        consumer.close()
        admin.close()


async def wait_settled(ts: LiveStack, within: float) -> None:
    """Until the workers have committed everything on their topics (so no replay is still on its way)."""
    deadline = time.monotonic() + within
    while (lag := await asyncio.to_thread(consumer_lag, ts)) > 0:
        if time.monotonic() > deadline:
            raise AssertionError(f"the stream workers still had {lag} records to commit after {within:.0f}s")
        await asyncio.sleep(0.5)
