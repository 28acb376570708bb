"""A command's answer on the real stack comes from the change the case writer publishes, not from polling the
database: the web servers here reach PostgreSQL through a proxy that counts the statements they run.

`counted_web` is a second web process on the session's topics (as with GRID_WEB_WORKERS > 1): its hub has a
consumer of its own beside the session web server's, and still hears every change. `quiet_web` publishes to topics
no case writer reads, so its commands publish no change, like a refused or quarantined one.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from core.cases import case_id_for_event
from tests.integration.auth import as_person
from tests.integration.conftest import _delete_topics, another_web
from tests.integration.harness import VENV_BIN, LiveStack, wait_for
from tests.integration.helpers import event, grid_point
from tests.integration.pgwire import CountingProxy
from web.cases_api import WAIT_SECONDS

pytestmark = pytest.mark.integration

READ_ONCE = 2
"""Statements the outcome may cost when no change came: the log, then the refusals."""

READ_APPLIED = 1
"""Statements the outcome may cost once its change came: the log."""


@dataclass
class CountedWeb:
    """A web server and the count of statements it has run."""

    base_url: str
    proxy: CountingProxy

    @property
    def statements(self) -> int:
        """Statements with parameters run so far (a pool's connection reset, if any, left out)."""
        return self.proxy.traffic().executes


@contextlib.contextmanager
def counted_server(live_stack: LiveStack, name: str, suffix: str | None = None) -> Iterator[CountedWeb]:
    """A web server on the session's database behind a counting proxy, on the session's topics or a fresh set."""
    with CountingProxy(live_stack.env["GRID_DATABASE_URL"]) as proxy:
        topics = LiveStack(suffix=suffix or live_stack.suffix, extra_env=live_stack.extra_env)
        try:
            if suffix is not None:
                topics.run(str(VENV_BIN / "python"), "-m", "streams.topics")
            # The account behind the token is checked once, then remembered beyond the test's few seconds.
            env = {"GRID_DATABASE_URL": proxy.url, "GRID_SESSION_CHECK_SECONDS": "600"}
            with another_web(live_stack, name, env, suffix=suffix) as web:
                yield CountedWeb(web.base_url, proxy)
        finally:
            if suffix is not None:
                _delete_topics(topics)


@pytest.fixture(scope="module")
def counted_web(live_stack: LiveStack) -> Iterator[CountedWeb]:
    """A second web process on the session's topics, whose case writer answers its commands."""
    with counted_server(live_stack, "counted-web") as web:
        yield web


@pytest.fixture(scope="module")
def quiet_web(live_stack: LiveStack) -> Iterator[CountedWeb]:
    """A web process on topics of its own, which no case writer reads."""
    with counted_server(live_stack, "quiet-web", suffix=f"q{uuid.uuid4().hex[:7]}") as web:
        yield web


async def dispatched_case(http: httpx.AsyncClient, spot: dict[str, Any]) -> str:
    """A new case dispatched to the member of the spot's grid."""
    body = event(lon=spot["lon"], lat=spot["lat"])
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = str(case_id_for_event(uuid.UUID(body["event_id"])))

    async def dispatched() -> bool:
        r = await http.get(f"/api/v1/cases/{case_id}")
        return r.status_code == 200 and r.json()["case"]["state"] == "dispatched"

    await wait_for(dispatched, f"case {case_id} dispatched")
    return case_id


async def post(web: httpx.AsyncClient, case_id: str, **params: str) -> tuple[httpx.Response, float]:
    """Accept a case; the answer and how long it took."""
    started = time.monotonic()
    reply = await web.post(f"/api/v1/cases/{case_id}/commands", json={"kind": "accept"}, params=params)
    return reply, time.monotonic() - started


async def baseline(web: httpx.AsyncClient, server: CountedWeb, case_ids: list[str]) -> int:
    """Statements of a command answered without waiting (the last of a few, once warm): its checks, no wait."""
    for case_id in case_ids:
        before = server.statements
        reply, _ = await post(web, case_id, wait="false")
        assert reply.status_code == 202 and reply.json()["status"] == "pending", reply.text
    spent = server.statements - before
    assert spent >= 3, "the proxy sees the command's checks"
    return spent


async def test_an_applied_command_is_answered_from_its_change_with_one_read(
    counted_web: CountedWeb, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await grid_point(db, offset=7)
    *warm, case_id = [await dispatched_case(http, spot) for _ in range(3)]
    headers = await as_person(db, spot["member_id"])
    async with httpx.AsyncClient(base_url=counted_web.base_url, headers=headers, timeout=15) as web:
        checks = await baseline(web, counted_web, warm)
        before = counted_web.statements
        reply, took = await post(web, case_id)
        spent = counted_web.statements - before
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert (answer["status"], answer["case_id"]) == ("applied", case_id)
    assert [e["kind"] for e in answer["entries"]] == ["accepted"] and answer["entries"][0]["seq"] > 0
    assert took < WAIT_SECONDS - 1, f"answered in {took:.2f}s: the change woke it, the wait did not run out"
    assert spent <= checks + READ_APPLIED, f"{spent} statements, {checks} of them the checks: no polling"


async def test_a_command_without_a_change_is_read_once_when_the_wait_runs_out(
    quiet_web: CountedWeb, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await grid_point(db, offset=8)
    case_id = await dispatched_case(http, spot)
    refused, pending = uuid.uuid4(), uuid.uuid4()
    reason = "cannot accept a case that is accepted"
    # What the case writer records when it refuses a command (store.refuse); no writer reads these topics.
    await db.execute(
        "INSERT INTO command_refusals (command_id, case_id, kind, actor_id, reason, at)"
        " VALUES ($1, $2, 'accept', $3, $4, $5)",
        refused,
        uuid.UUID(case_id),
        spot["member_id"],
        reason,
        datetime.now(UTC),
    )
    headers = await as_person(db, spot["member_id"])
    try:
        async with httpx.AsyncClient(base_url=quiet_web.base_url, headers=headers, timeout=15) as web:
            checks = await baseline(web, quiet_web, [case_id, case_id])
            answers = []
            for command_id in (refused, pending):
                web.headers["Idempotency-Key"] = str(command_id)
                before = quiet_web.statements
                reply, took = await post(web, case_id)
                answers.append((reply, took, quiet_web.statements - before))
    finally:
        await db.execute("DELETE FROM command_refusals WHERE command_id = $1", refused)
    (no, no_took, no_spent), (wait, wait_took, wait_spent) = answers
    assert no.status_code == 409, no.text
    assert {k: v for k, v in no.json().items() if k != "at"} == {
        "command_id": str(refused),
        "status": "refused",
        "case_id": case_id,
        "kind": "accept",
        "reason": reason,
    }
    assert wait.status_code == 202 and wait.json() == {"command_id": str(pending), "status": "pending"}, wait.text
    for took, spent in ((no_took, no_spent), (wait_took, wait_spent)):
        assert took >= WAIT_SECONDS - 0.1, "nothing answered it before the wait ran out"
        assert spent <= checks + READ_ONCE, f"{spent} statements in {took:.1f}s, {checks} of them the checks"
