"""Quarantine on the real stack (#6): records no processor should trust reach the dead-letter queue with the reason,
and nothing of theirs is applied; legitimate events, re-deliveries and commands still pass."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from kafka import KafkaProducer

from core.cases import case_id_for_event
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import event
from tests.integration.signing import signed_record

# One grid (with its member) in each of two townships that the people, plans and browser tests leave alone.
TWO_TOWNSHIPS = """
SELECT DISTINCT ON (g.township_code) g.code, g.township_code, ST_X(p) AS lon, ST_Y(p) AS lat,
       pe.id AS member_id, pe.unit_code AS member_unit
FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p
JOIN grid_posts gp ON gp.grid_code = g.code JOIN people pe ON pe.id = gp.person_id
WHERE g.valid_to IS NULL AND left(g.township_code, 9) NOT IN ('510822104', '510822105', '510822107')
ORDER BY g.township_code DESC, g.code DESC
LIMIT 2
"""


def put(producer: KafkaProducer, stack: LiveStack, topic: str, key: str, body: dict[str, Any]) -> None:
    """Put a raw record on a topic, as a misbehaving client would."""
    producer.send(topic_name(stack, topic), orjson.dumps(body), key=key.encode()).get(10)


def put_signed(producer: KafkaProducer, stack: LiveStack, case_id: str, command: dict[str, Any]) -> None:
    """Put a command on the commands topic signed, as a trusted process (or one that has its key) would."""
    producer.send(topic_name(stack, "case.commands"), signed_record(command), key=case_id.encode()).get(10)


async def two_townships(db: asyncpg.Pool) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = await db.fetch(TWO_TOWNSHIPS)
    assert len(rows) == 2 and rows[0]["township_code"] != rows[1]["township_code"]
    return dict(rows[0].items()), dict(rows[1].items())


async def letters(db: asyncpg.Pool, key: str) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        "SELECT source_topic, key, reason FROM dead_letters WHERE key = $1 ORDER BY id", key
    )
    return rows


async def letter(db: asyncpg.Pool, key: str, *words: str) -> asyncpg.Record:
    """Wait for the dead letter of the record with this key whose reason has every word."""

    async def found() -> asyncpg.Record | None:
        return next((r for r in await letters(db, key) if all(w in r["reason"] for w in words)), None)

    return await wait_for(found, f"a dead letter for {key} naming {words}", within=20)


async def stored_case(db: asyncpg.Pool, event_id: str) -> asyncpg.Record:
    """Wait for the case the event opened."""
    case_id = case_id_for_event(uuid.UUID(event_id))
    return await wait_for(lambda: db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id), f"the case of {event_id}")


async def case_count(db: asyncpg.Pool, event_id: str) -> int:
    count: int = await db.fetchval("SELECT count(*) FROM cases WHERE id = $1", case_id_for_event(uuid.UUID(event_id)))
    return count


def at(spot: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return event(lon=spot["lon"], lat=spot["lat"], **fields)


async def test_an_unknown_event_type_is_dead_lettered_with_its_name(
    live_stack: LiveStack, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    home, _ = await two_townships(db)
    body = at(home, type="drone_sighting")
    put(producer, live_stack, "grid.events", body["event_id"], body)
    found = await letter(db, body["event_id"], "unknown event type 'drone_sighting'")
    assert found["source_topic"] == topic_name(live_stack, "grid.events")


async def test_a_township_member_reporting_from_another_township_is_quarantined(
    live_stack: LiveStack, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    home, away = await two_townships(db)
    member = {"id": home["member_id"], "name": "网格员"}
    abroad = at(away, reporter=member)
    put(producer, live_stack, "grid.events", abroad["event_id"], abroad)
    found = await letter(db, abroad["event_id"], home["township_code"], away["township_code"], home["member_id"])
    assert "coordinates in township" in found["reason"]
    assert await case_count(db, abroad["event_id"]) == 0

    at_home = at(home, reporter=member)
    supervisor = at(away, reporter={"id": f"sup-{home['township_code'][:6]}"})
    for body in (at_home, supervisor):
        put(producer, live_stack, "grid.events", body["event_id"], body)
        assert (await stored_case(db, body["event_id"]))["township_code"] in (
            home["township_code"],
            away["township_code"],
        )
        assert await letters(db, body["event_id"]) == []


async def test_a_forged_event_id_of_another_township_is_quarantined_and_a_redelivery_is_not(
    live_stack: LiveStack, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    home, away = await two_townships(db)
    original = at(home)
    key = original["event_id"]
    put(producer, live_stack, "grid.events", key, original)
    case = await stored_case(db, key)
    forged = {**original, "location": {"lon": away["lon"], "lat": away["lat"]}, "description": "伪造"}
    put(producer, live_stack, "grid.events", key, forged)
    found = await letter(db, key, "forged event id", home["township_code"], away["township_code"])
    assert f"case {case['id']}" in found["reason"]

    # at-least-once: the same record again, then a marker on the same partition, so the replay was processed first
    put(producer, live_stack, "grid.events", key, original)
    marker = at(home)
    put(producer, live_stack, "grid.events", key, marker)
    await stored_case(db, marker["event_id"])
    assert len(await letters(db, key)) == 1
    assert await db.fetchval("SELECT count(*) FROM case_log WHERE case_id = $1", case["id"]) == 2
    assert await db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(key)) == case["id"]


async def test_an_id_reused_before_the_first_case_is_stored_is_still_caught(
    live_stack: LiveStack, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    home, away = await two_townships(db)
    first = at(away)
    key = first["event_id"]
    put(producer, live_stack, "grid.events", key, first)
    put(producer, live_stack, "grid.events", key, {**first, "location": {"lon": home["lon"], "lat": home["lat"]}})
    # usually the first is still on its way to the case writer, and only the worker's memory knows its id
    await letter(db, key, "forged event id", home["township_code"], away["township_code"])
    assert (await stored_case(db, key))["township_code"] == away["township_code"]


async def test_case_commands_of_impostors_are_dead_lettered_and_not_applied(
    live_stack: LiveStack, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    home, _ = await two_townships(db)
    report = at(home)
    put(producer, live_stack, "grid.events", report["event_id"], report)
    case = await stored_case(db, report["event_id"])
    case_id = str(case["id"])
    assert case["assignee_id"] == home["member_id"]
    member = home["member_id"]

    def accept(actor: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "accept",
            "command_id": str(uuid.uuid4()),
            "case_id": case_id,
            "issued_at": datetime.now(UTC).isoformat(),
            "actor": actor,
        }

    impostors = [
        (accept({"id": member, "role": "dispatcher"}), "claims role dispatcher"),
        (accept({"id": "gm-nobody", "role": "grid_member"}), "not a person serving today"),
        (accept({"id": member, "role": "grid_member", "unit_code": "510822999000"}), "claims unit 510822999000"),
        (accept({"id": member, "role": "system"}), "claims the system role"),
        (accept({"id": "root", "role": "admin"}), "no enabled administrator account"),
    ]
    # Signed, so the registry's check is what refuses them (tests/integration/security covers unsigned ones).
    for command, _ in impostors:
        put_signed(producer, live_stack, case_id, command)
    genuine = accept({"id": member, "role": "grid_member", "unit_code": home["member_unit"]})
    put_signed(producer, live_stack, case_id, genuine)

    async def accepted() -> bool:
        return bool(await db.fetchval("SELECT state = 'accepted' FROM cases WHERE id = $1", case["id"]))

    await wait_for(accepted, "the genuine command to be applied")
    for command, words in impostors:
        found = await letter(db, case_id, words, command["actor"]["id"])
        assert found["source_topic"] == topic_name(live_stack, "case.commands")
    bad = [uuid.UUID(c["command_id"]) for c, _ in impostors]
    assert await db.fetchval("SELECT count(*) FROM case_log WHERE command_id = ANY($1::uuid[])", bad) == 0
    assert await db.fetchval("SELECT count(*) FROM command_refusals WHERE command_id = ANY($1::uuid[])", bad) == 0
    kinds = await db.fetch("SELECT kind FROM case_log WHERE case_id = $1 ORDER BY seq", case["id"])
    assert [r["kind"] for r in kinds] == ["registered", "dispatched", "accepted"]
