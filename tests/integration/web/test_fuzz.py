"""Hostile input (#6, #13): every operation of the OpenAPI schema fuzzed by schemathesis as every role, on a stack of
its own. No request may get a 5xx, and every response must have a status, media type and body the schema declares.

The budget is fixed and the run deterministic (one seed, Hypothesis derandomized, no example database), so a
failure here fails again on the next run. Half the time a path parameter names something that exists (cases, an
unrouted event, a dead letter, a photo, people, grids, rules, step SLA policies, codes), so the fuzzer gets past 404
into the handlers. The websocket /ws/live is not in the OpenAPI schema; test_auth and the browser tests drive it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import schemathesis
from kafka import KafkaProducer
from schemathesis import Case

from core.cases import case_id_for_event
from streams.acls import ADMIN
from tests.integration.auth import admin_headers, as_person, gateway_headers
from tests.integration.conftest import running_stack, topic_name
from tests.integration.harness import LiveStack, login_as, pool_on, wait_for
from tests.integration.helpers import event, grid_point
from tests.media_samples import png
from web.app import create_app

pytestmark = pytest.mark.integration

SEED = 6
# Examples per operation and generation mode in the fuzzing phase. The coverage phase adds its own: boundary
# values, wrong types and missing parts of each parameter (most of the run's time goes there).
MAX_EXAMPLES = 20
DISPATCHER = "disp-510822100"
# All requests come from 127.0.0.1, so the per-address and per-person intake limits are lifted. The sign-in
# throttles (a name waits after 5 wrong passwords from one address; 20 attempts a minute on a name slow it) stay:
# fuzzed sign-ins use made-up names, and the tokens here are minted for the demo's accounts.
FUZZ_ENV = {
    "GRID_RATE_INTAKE_PER_ADDRESS": "1000000/minute",
    "GRID_RATE_INTAKE_PER_USER": "1000000/minute",
    "GRID_RATE_LOGIN_PER_ADDRESS": "1000000/minute",
}
CASE_EVENTS = [uuid.uuid5(uuid.NAMESPACE_URL, f"fuzz:case:{n}") for n in range(3)]
UNROUTED_EVENT = uuid.uuid5(uuid.NAMESPACE_URL, "fuzz:unrouted")
PHOTO = png(note="fuzz")
KNOWN: dict[str, list[Any]] = {
    "path.case_id": [str(case_id_for_event(e)) for e in CASE_EVENTS],
    "query.case": [str(case_id_for_event(e)) for e in CASE_EVENTS],
    "path.event_id": [str(UNROUTED_EVENT)],
    "path.letter_id": [1],
    "path.sha256": [hashlib.sha256(PHOTO).hexdigest()],
    # Not the dispatcher: the administrator's pass may end their service, and the dispatcher's pass needs it.
    "path.person_id": ["gm-510822100001001", "off-510822100-1", "duty-510822100"],
    "path.grid_code": ["510822100001001", "510822100001002"],
    "path.rule_id": [1, 2, 3, 4],
    "path.policy_id": [1, 2, 3, 4],
    "path.code": ["510822100", "510822100001", "510822100001001", "14", "0102"],
}
CONFIG: dict[str, Any] = {
    "seed": SEED,
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "checks": {
        "enabled": False,
        "not_a_server_error": {"enabled": True},
        "response_schema_conformance": {"enabled": True},
        "content_type_conformance": {"enabled": True},
        "status_code_conformance": {"enabled": True},
    },
    "dictionaries": {key: {"values": values} for key, values in KNOWN.items()},
    "parameters": {key: {"dictionary": key, "probability": 0.5} for key in KNOWN},
    "request-timeout": 30,
}
# Sign-in answers 401 to wrong credentials; every other operation reads the bearer token, and a 401 there would
# mean the fuzzer tested nothing past the door.
SIGN_IN = frozenset({"/api/v1/auth/token", "/api/v1/auth/refresh"})
RULE = '{{"unit_code": "510822", "position": {position}, "target": "team", "sla_hours": {hours}, "note": "{note}"}}'
PLAN = (
    '{"plan_id": "p-1", "county": "510822", "effective_date": "0001-01-01", "legal_basis": "测试",'
    ' "items": [{"op": "rename", "code": "510822100", "name": "新"}]}'
)
# Hostile input the generator does not make, each once the cause of a 500.
BY_HAND = [
    # What json.loads takes but JSON cannot write back, echoed by the validation error.
    ("POST", "/api/v1/rules", RULE.format(position="1e400", hours="NaN", note=""), "position"),
    ("POST", "/api/v1/rules", RULE.format(position=1, hours=3, note="\\ud800"), "note"),
    # Text PostgreSQL cannot store, numbers its columns cannot hold.
    ("POST", "/api/v1/rules", RULE.format(position=1, hours=3, note="a\\u0000"), "note"),
    ("POST", "/api/v1/auth/token", "username=a%00&password=x", "username"),
    ("GET", "/api/v1/access-log?subject=a%00", None, "subject"),
    ("DELETE", "/api/v1/rules/99999999999999999999", None, "rule_id"),
    # Moments beyond the year 1 or 9999 once in UTC, and a plan whose day before does not exist.
    ("GET", "/api/v1/cases?from=0001-01-01T00:00:00%2B14:00", None, "from"),
    ("POST", "/api/v1/plans/validate", PLAN, "effective_date"),
]
# The tests are made per operation when pytest collects them, before any server runs, so the schema is the app's
# own; `test_the_served_schema_is_the_fuzzed_one` holds the live server to it. (schemathesis.pytest.from_fixture,
# which would load it from the server, fails on pytest 9.2: it sets `Function._nodeid`, which no longer exists.)
SCHEMA = create_app().openapi()


def _schema(**overrides: Any) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_dict(SCHEMA, config=schemathesis.Config.from_dict({**CONFIG, **overrides}))


every_phase = _schema()
# The coverage phase's cases exercise validation, which answers the same to every role.
fuzzing_only = _schema(phases={"coverage": {"enabled": False}})
# Every other role gets a smaller budget: what differs for them is whether the door opens, not the input.
FEW = {"max-examples": 5, "deterministic": True, "database": "none"}
briefly = _schema(phases={"coverage": {"enabled": False}}, generation=FEW)
# The demo accounts of the other roles (dispatch/access/demo_accounts.py).
STAND_IN = (
    "SELECT id FROM people WHERE role = $1 AND starts_with(unit_code, $2) AND id <> ALL($3::text[])"
    " AND valid_to IS NULL ORDER BY id LIMIT 1"
)
OTHER_ROLES = ["supervisor", "leader", "officer", "legal", "agency", "worker", "duty", "gateway", "dispatcher-b"]


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[LiveStack]:
    """The demo county on a database and topics of its own, so fuzzed people, rules, plans and commands stay here."""
    with running_stack(["demo", "load", "--no-notify"], extra_env=FUZZ_ENV) as ts:
        yield ts


@pytest_asyncio.fixture(scope="module")
async def fuzz_db(fuzz_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the fuzzed stack's database."""
    async with pool_on(fuzz_stack, max_size=2) as pool:
        yield pool


@pytest_asyncio.fixture(scope="module")
async def seeded(fuzz_stack: LiveStack, fuzz_db: asyncpg.Pool) -> LiveStack:
    """The stack with what `KNOWN` names: cases in the dispatcher's township, an event no grid covers, a record no
    processor can read, and a photo."""
    async with httpx.AsyncClient(base_url=fuzz_stack.base_url, timeout=15, headers=admin_headers()) as http:
        for n, event_id in enumerate(CASE_EVENTS):
            spot = await grid_point(fuzz_db, offset=n)
            body = event(lon=spot["lon"], lat=spot["lat"], event_id=str(event_id))
            assert (await http.post("/api/v1/events", json=body)).status_code == 202
        body = event(lon=116.40, lat=39.90, event_id=str(UNROUTED_EVENT))
        assert (await http.post("/api/v1/events", json=body)).status_code == 202
        photo = await http.post("/api/v1/media", content=PHOTO, headers={"Content-Type": "image/png"})
        assert photo.status_code == 201
    producer = KafkaProducer(
        bootstrap_servers=fuzz_stack.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"), **login_as(ADMIN)
    )
    try:
        producer.send(topic_name(fuzz_stack, "grid.events"), b'{"type": "incident"', key=b"fuzz").get(10)
    finally:
        producer.close()
    case_ids = [case_id_for_event(e) for e in CASE_EVENTS]

    async def ready() -> bool:
        cases = await fuzz_db.fetchval("SELECT count(*) FROM cases WHERE id = any($1)", case_ids)
        unrouted = await fuzz_db.fetchval("SELECT count(*) FROM unrouted_events WHERE event_id = $1", UNROUTED_EVENT)
        letter = await fuzz_db.fetchval("SELECT count(*) FROM dead_letters WHERE id = 1")
        return bool(cases == len(case_ids) and unrouted and letter)

    await wait_for(ready, "the seeded cases, unrouted event and dead letter", within=30)
    return fuzz_stack


@pytest_asyncio.fixture(scope="module")
async def dispatcher_headers(fuzz_db: asyncpg.Pool) -> dict[str, str]:
    """The Authorization header of the first township's dispatcher (a person with an area and cases to act on)."""
    return await as_person(fuzz_db, DISPATCHER)


@pytest_asyncio.fixture(scope="module")
async def role_headers(fuzz_db: asyncpg.Pool) -> dict[str, dict[str, str]]:
    """The Authorization header of each demo account's role, by username. An account whose person the other passes
    may end (`KNOWN`) is stood in for by a colleague of the same role and township, whom nothing ends."""
    accounts = "SELECT username, role, person_id, unit_code FROM users WHERE username = ANY($1)"
    headers = {}
    for row in await fuzz_db.fetch(accounts, OTHER_ROLES):
        person = row["person_id"]
        if person in KNOWN["path.person_id"]:
            person = await fuzz_db.fetchval(STAND_IN, row["role"], row["unit_code"][:9], KNOWN["path.person_id"])
        headers[row["username"]] = await as_person(fuzz_db, person) if person else gateway_headers()
    assert headers.keys() == set(OTHER_ROLES)
    return headers


def _call(case: Case, ts: LiveStack, headers: dict[str, str]) -> None:
    response = case.call_and_validate(base_url=ts.base_url, headers=headers)
    assert response.status_code != 401 or case.operation.path in SIGN_IN, "the token was refused"


def test_the_served_schema_is_the_fuzzed_one(fuzz_stack: LiveStack) -> None:
    assert httpx.get(f"{fuzz_stack.base_url}/openapi.json").json() == SCHEMA


@pytest.mark.parametrize(("method", "url", "body", "field"), BY_HAND)
def test_hostile_input_made_by_hand_is_refused_naming_the_field(
    fuzz_stack: LiveStack, method: str, url: str, body: str | None, field: str
) -> None:
    kind = "application/x-www-form-urlencoded" if url.endswith("/token") else "application/json"
    headers = {**admin_headers(), "Content-Type": kind}
    response = httpx.request(method, fuzz_stack.base_url + url, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert field in [error["loc"][-1] for error in response.json()["detail"]]


@every_phase.parametrize()
def test_fuzz_as_administrator(case: Case, seeded: LiveStack) -> None:
    _call(case, seeded, admin_headers())


@fuzzing_only.parametrize()
def test_fuzz_as_dispatcher(case: Case, seeded: LiveStack, dispatcher_headers: dict[str, str]) -> None:
    _call(case, seeded, dispatcher_headers)


@briefly.parametrize()
@pytest.mark.parametrize("account", OTHER_ROLES)
def test_fuzz_as_every_other_role(
    case: Case, seeded: LiveStack, role_headers: dict[str, dict[str, str]], account: str
) -> None:
    _call(case, seeded, role_headers[account])
