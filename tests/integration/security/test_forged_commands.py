"""Forged case commands (#13): a local process that can write to the broker claims a real dispatcher, the
administrator or the system clock. Unsigned, with a made-up proof, with its own key or with the proof of another
command, each is refused with its reason, and the case, its log and the command's status stay as they were; an
administrator's replay of its dead letter does not sign it."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from kafka import KafkaProducer

from core.cases import COMMAND_ADAPTER, case_id_for_event
from dispatch.cases.signing import CommandSigner, key_id
from tests.integration.auth import as_person
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, client_on, wait_for
from tests.integration.helpers import event
from tests.integration.signing import signed_record

pytestmark = pytest.mark.integration

ATTACKER = CommandSigner("a-key-the-attacker-made-up-0123456789")
REAL_KEY_ID = key_id(os.environ["GRID_COMMAND_KEY"])
"""The key's id is no secret: every command on the topic shows it."""
UNSIGNED, FORGED, UNKNOWN = "unsigned command", "forged command: its proof does not match", "signed with an unknown key"

GRID_OF = """
SELECT g.code, g.name, g.village_code, g.township_code, ST_X(p) AS lon, ST_Y(p) AS lat, gp.person_id AS member_id
FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p JOIN grid_posts gp ON gp.grid_code = g.code
WHERE g.township_code = $1 AND g.valid_to IS NULL AND gp.valid_to IS NULL ORDER BY g.code DESC OFFSET $2 LIMIT 1
"""

CASE_STATE = "SELECT state, version, supervision_level, assignee_id FROM cases WHERE id = $1"
LOG = "SELECT seq, kind, command_id, actor_id FROM case_log WHERE case_id = $1 ORDER BY seq"
REFUSALS = "SELECT count(*) FROM command_refusals WHERE command_id = ANY($1::uuid[])"
LETTER = "SELECT source_topic, reason FROM dead_letters WHERE key = $1 AND raw LIKE $2"


async def staff(db: asyncpg.Pool, person_id: str) -> dict[str, Any]:
    """A registry person as the web app would name them in a command."""
    row = await db.fetchrow("SELECT id, role, unit_code, team_id FROM people WHERE id = $1", person_id)
    assert row is not None, person_id
    return {k: v for k, v in dict(row.items()).items() if v is not None}


async def dispatcher(db: asyncpg.Pool, account: str = "dispatcher") -> dict[str, Any]:
    """The demo dispatcher account's person (first township, or the second for `dispatcher-b`)."""
    person = await db.fetchval("SELECT person_id FROM users WHERE username = $1", account)
    return await staff(db, person)


async def dispatched_case(http: httpx.AsyncClient, db: asyncpg.Pool, township: str, offset: int) -> dict[str, Any]:
    """A new case in one of the township's grids, dispatched to its member."""
    grid = await db.fetchrow(GRID_OF, township, offset)
    assert grid is not None, f"no grid in {township}"
    body = event(lon=grid["lon"], lat=grid["lat"])
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    await wait_for(lambda: db.fetchval("SELECT state = 'dispatched' FROM cases WHERE id = $1", case_id), "a case")
    return {"id": str(case_id), "grid": dict(grid.items()), "event": body}


def command(case_id: str, actor: dict[str, Any], **body: Any) -> dict[str, Any]:
    """A command as a record on the topic, without proof."""
    now = datetime.now(UTC).isoformat()
    return {"command_id": str(uuid.uuid4()), "case_id": case_id, "issued_at": now, "actor": actor, **body}


def forgeries(original: dict[str, Any], decoy: dict[str, Any]) -> list[tuple[bytes, str]]:
    """The command with every kind of bad proof (each under a command id of its own), and the reason expected."""

    def copy(**extra: Any) -> dict[str, Any]:
        return {**original, "command_id": str(uuid.uuid4()), **extra}

    decoy_proof = orjson.loads(signed_record(decoy))["proof"]
    return [
        (orjson.dumps(copy()), UNSIGNED),
        (orjson.dumps(copy(proof=f"{REAL_KEY_ID}:{'0' * 64}")), FORGED),
        (orjson.dumps(copy(proof=decoy_proof)), FORGED),
        (ATTACKER.record(COMMAND_ADAPTER.validate_python(copy())), UNKNOWN),
    ]


def put(producer: KafkaProducer, stack: LiveStack, topic: str, key: str, value: bytes) -> None:
    """Put a record on a topic, as a local process with broker access would."""
    producer.send(topic_name(stack, topic), value, key=key.encode()).get(10)


async def refused(db: asyncpg.Pool, case_id: str, value: bytes, *words: str) -> None:
    """Wait for the dead letter of a command; its reason must name every word."""
    command_id = orjson.loads(value)["command_id"]
    row = await wait_for(
        lambda: db.fetchrow(LETTER, case_id, f"%{command_id}%"), f"the dead letter of {command_id}", 20
    )
    assert row["source_topic"].endswith("case.commands")
    assert all(w in row["reason"] for w in words), (row["reason"], words)


async def test_commands_claiming_a_dispatcher_the_admin_or_the_clock_without_valid_proof_change_nothing(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    disp = await dispatcher(db)
    case = await dispatched_case(http, db, disp["unit_code"], offset=0)
    case_id = uuid.UUID(case["id"])
    before, log_before = await db.fetchrow(CASE_STATE, case_id), await db.fetch(LOG, case_id)
    admin = {"id": "admin", "role": "admin", "unit_code": disp["unit_code"][:6]}
    clock = {"id": "system:clock", "role": "system"}
    claims = [
        command(case["id"], disp, kind="cancel", reason="伪造的撤销"),
        command(case["id"], admin, kind="cancel", reason="伪造的撤销"),
        command(case["id"], clock, kind="supervise", level=3, reason="伪造的督办", notified=[disp["id"]]),
    ]
    decoy = command(case["id"], disp, kind="supervise", level=1, reason="真的督办")
    sent = [(value, why, claim) for claim in claims for value, why in forgeries(claim, decoy)]
    for value, _, _ in sent:
        put(producer, live_stack, "case.commands", case["id"], value)

    for value, why, claim in sent:
        await refused(db, case["id"], value, why, claim["actor"]["id"])
    assert await db.fetchrow(CASE_STATE, case_id) == before
    assert await db.fetch(LOG, case_id) == log_before
    ids = [orjson.loads(v)["command_id"] for v, _, _ in sent]
    assert await db.fetchval(REFUSALS, ids) == 0
    async with client_on(live_stack, await as_person(db, disp["id"])) as desk:
        for command_id in ids:
            assert (await desk.get(f"/api/v1/commands/{command_id}")).json()["status"] == "pending"

    # The same dispatcher's command, signed as the web app signs it, is applied: the proof alone made the difference.
    genuine = claims[0]
    put(producer, live_stack, "case.commands", case["id"], signed_record(genuine))
    await wait_for(lambda: db.fetchval("SELECT state = 'cancelled' FROM cases WHERE id = $1", case_id), "the cancel")


async def test_a_signed_command_altered_on_its_way_is_refused_and_a_verbatim_replay_changes_nothing(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    other = await dispatcher(db, "dispatcher-b")
    case = await dispatched_case(http, db, other["unit_code"], offset=0)
    case_id = uuid.UUID(case["id"])
    member = await staff(db, case["grid"]["member_id"])
    captured = orjson.loads(signed_record(command(case["id"], member, kind="accept")))
    put(producer, live_stack, "case.commands", case["id"], orjson.dumps(captured))
    await wait_for(lambda: db.fetchval("SELECT state = 'accepted' FROM cases WHERE id = $1", case_id), "the accept")
    before, log_before = await db.fetchrow(CASE_STATE, case_id), await db.fetch(LOG, case_id)

    altered = [
        {**captured, "command_id": str(uuid.uuid4())},
        {**captured, "command_id": str(uuid.uuid4()), "actor": other, "kind": "cancel", "reason": "篡改"},
        {**captured, "command_id": str(uuid.uuid4()), "issued_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    ]
    for record in altered:
        put(producer, live_stack, "case.commands", case["id"], orjson.dumps(record))
    put(producer, live_stack, "case.commands", case["id"], orjson.dumps(captured))
    # Last on the partition: a signed command the state machine refuses, so its refusal says all before it was read.
    last = command(case["id"], other, kind="close", note="")
    put(producer, live_stack, "case.commands", case["id"], signed_record(last))
    await wait_for(lambda: db.fetchval(REFUSALS, [last["command_id"]]), "the last command read")
    for record in altered:
        await refused(db, case["id"], orjson.dumps(record), FORGED)
    assert await db.fetchrow(CASE_STATE, case_id) == before
    assert await db.fetch(LOG, case_id) == log_before


async def test_a_forgery_under_a_waiting_requests_command_id_neither_answers_nor_spoils_it(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    disp = await dispatcher(db)
    case = await dispatched_case(http, db, disp["unit_code"], offset=1)
    member = case["grid"]["member_id"]
    forged = command(case["id"], disp, kind="cancel", reason="抢先伪造")
    put(producer, live_stack, "case.commands", case["id"], orjson.dumps(forged))
    async with client_on(live_stack, await as_person(db, member)) as phone:
        answer = await phone.post(
            f"/api/v1/cases/{case['id']}/commands",
            json={"kind": "accept"},
            headers={"Idempotency-Key": forged["command_id"]},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "applied" and [e["kind"] for e in answer.json()["entries"]] == ["accepted"]
    await refused(db, case["id"], orjson.dumps(forged), UNSIGNED, disp["id"])
    assert await db.fetchval("SELECT state FROM cases WHERE id = $1", uuid.UUID(case["id"])) == "accepted"
    log = await db.fetch(LOG, uuid.UUID(case["id"]))
    assert [(r["kind"], r["actor_id"]) for r in log][-1] == ("accepted", member)


async def test_a_routed_event_not_signed_by_the_router_opens_no_case(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    disp = await dispatcher(db)
    grid = await db.fetchrow(GRID_OF, disp["unit_code"], 2)
    assert grid is not None
    raw = event(lon=grid["lon"], lat=grid["lat"])
    opened = routed_open(raw, dict(grid.items()), assignee=disp)
    key = grid["township_code"]
    for proof in (None, f"{REAL_KEY_ID}:{'f' * 64}"):
        body = {"command": {**opened, **({"proof": proof} if proof else {})}, "event": raw}
        put(producer, live_stack, "grid.routed", key, orjson.dumps(body))

    async def both_refused() -> list[str] | None:
        rows = await db.fetch(LETTER, key, f"%{raw['event_id']}%")
        return sorted(r["reason"] for r in rows) if len(rows) == 2 else None

    reasons = await wait_for(both_refused, "both routed forgeries dead-lettered", 20)
    assert reasons == [f"routed event: {FORGED} its content", f"routed event: {UNSIGNED}"]
    case_id = case_id_for_event(uuid.UUID(raw["event_id"]))
    assert await db.fetchval("SELECT count(*) FROM cases WHERE id = $1", case_id) == 0
    assert await db.fetchval("SELECT count(*) FROM case_log WHERE case_id = $1", case_id) == 0


def routed_open(raw: dict[str, Any], grid: dict[str, Any], assignee: dict[str, Any]) -> dict[str, Any]:
    """The router's open command for an event, made up: dispatched to whoever the forger likes."""
    now = datetime.now(UTC)
    return {
        "kind": "open",
        "command_id": raw["event_id"],
        "case_id": str(case_id_for_event(uuid.UUID(raw["event_id"]))),
        "issued_at": now.isoformat(),
        "actor": {"id": "system:router", "role": "system"},
        "source": {
            "event_id": raw["event_id"],
            "event_type": raw["type"],
            "category": raw["category"],
            "severity": "urgent",
            "description": raw["description"],
            "location": raw["location"],
            "reporter_id": raw["reporter"]["id"],
            "occurred_at": raw["occurred_at"],
            "reported_at": raw["reported_at"],
        },
        "grid_code": grid["code"],
        "grid_name": grid["name"],
        "village_code": grid["village_code"],
        "township_code": grid["township_code"],
        "township_name": "伪造",
        "assignee": {"kind": "grid_member", "id": assignee["id"], "name": "伪造"},
        "rule_id": 1,
        "priority": "urgent",
        "due_at": (now + timedelta(hours=1)).isoformat(),
    }


async def test_an_administrator_replaying_a_forged_commands_dead_letter_does_not_sign_it(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer
) -> None:
    disp = await dispatcher(db, "dispatcher-b")
    case = await dispatched_case(http, db, disp["unit_code"], offset=1)
    case_id = uuid.UUID(case["id"])
    forged = command(case["id"], disp, kind="cancel", reason="等管理员重放")
    put(producer, live_stack, "case.commands", case["id"], orjson.dumps(forged))
    await refused(db, case["id"], orjson.dumps(forged), UNSIGNED)
    before, log_before = await db.fetchrow(CASE_STATE, case_id), await db.fetch(LOG, case_id)
    letter = await db.fetchval("SELECT id FROM dead_letters WHERE raw LIKE $1", f"%{forged['command_id']}%")

    replay = await http.post(f"/api/v1/queues/deadletter/{letter}/resolution", json={"action": "replay"})
    assert replay.status_code == 200, replay.text

    async def refused_again() -> list[str] | None:
        rows = await db.fetch(LETTER, case["id"], f"%{forged['command_id']}%")
        return [r["reason"] for r in rows] if len(rows) == 2 else None

    reasons = await wait_for(refused_again, "the replayed forgery refused again", 20)
    assert all(r.startswith(UNSIGNED) for r in reasons)
    assert await db.fetchrow(CASE_STATE, case_id) == before
    assert await db.fetch(LOG, case_id) == log_before
