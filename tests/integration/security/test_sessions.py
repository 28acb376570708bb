"""Sessions against a hostile colleague or local process, on the real stack: a token lives only as long as its
account, person, password and sign-in do; a refresh retried within its grace opens no second branch; a forged
token, a forged X-Forwarded-For and a stranger's wrong passwords get nothing; an account's live connections are
capped. The staff of two townships act; each test checks the refusal and that nothing changed."""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from core.vocabulary import Role
from dispatch.access.demo_accounts import DEMO_PASSWORD
from dispatch.access.tokens import TokenIssuer
from dispatch.access.users import User
from dispatch.clock import local_day
from tests.integration.access.test_auth import gridctl, new_user, refused_after, sign_in
from tests.integration.auth import ISSUER, as_person, person_user
from tests.integration.conftest import another_web
from tests.integration.harness import LiveStack, wait_for

PASSWORD = "correct-horse-9"
CHECK_SECONDS = 2.0
"""GRID_SESSION_CHECK_SECONDS of the session's web server (the default)."""


async def townships(db: asyncpg.Pool) -> tuple[str, str]:
    """The demo county's first two townships: the dispatcher's and dispatcher-b's."""
    rows = await db.fetch(
        "SELECT code FROM admin_units WHERE level = 'township' AND parent_code = '510822' AND valid_to IS NULL"
        " ORDER BY code LIMIT 2"
    )
    return rows[0]["code"], rows[1]["code"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def refused_soon(base_url: str, headers: dict[str, str]) -> httpx.Response:
    """The first 401 a token gets, waiting at most a few check intervals."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as c:

        async def probe() -> httpx.Response | None:
            reply = await c.get("/api/v1/auth/me")
            return reply if reply.status_code == 401 else None

        return await wait_for(probe, "the token to be refused", within=3 * CHECK_SECONDS + 3)


@contextlib.asynccontextmanager
async def live(base_url: str, token: str) -> AsyncIterator[websockets.ClientConnection]:
    """An open live channel past its snapshot."""
    url = base_url.replace("http", "ws", 1) + "/ws/live"
    protocols = [Subprotocol("grid.live"), Subprotocol(f"bearer.{token}")]
    async with websockets.connect(url, subprotocols=protocols, max_size=None) as ws:
        first = await asyncio.wait_for(ws.recv(), 15)
        assert '"snapshot"' in str(first)[:40]
        yield ws


async def closed_with(ws: websockets.ClientConnection, within: float) -> tuple[int, str]:
    """The close code and reason the server ends the channel with."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def signed_in(base_url: str, username: str) -> dict[str, Any]:
    reply = await sign_in(base_url, username, PASSWORD)
    assert reply.status_code == 200, reply.text
    tokens: dict[str, Any] = reply.json()
    return tokens


async def test_a_disabled_account_is_refused_within_seconds_and_its_live_channel_closed(
    live_stack: LiveStack,
) -> None:
    name = new_user(live_stack)
    tokens = await signed_in(live_stack.base_url, name)
    async with live(live_stack.base_url, tokens["access_token"]) as ws:
        assert gridctl(live_stack, "users", "disable", name).returncode == 0
        code, reason = await closed_with(ws, within=3 * CHECK_SECONDS + 5)
    assert code == 4401 and "the account is disabled" in reason
    refused = await refused_soon(live_stack.base_url, auth(tokens["access_token"]))
    assert refused.json()["detail"] == "access token refused: the account is disabled"
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        again = await c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


async def test_ending_a_person_disables_their_accounts_and_a_colleague_elsewhere_cannot(
    live_stack: LiveStack, db: asyncpg.Pool
) -> None:
    town_a, town_b = await townships(db)
    b_dispatcher = await as_person(db, f"disp-{town_b}")
    a_dispatcher = await as_person(db, f"disp-{town_a}")
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        added = await c.post(
            "/api/v1/people", json={"role": "officer", "name": "临时执法员", "unit_code": town_b}, headers=b_dispatcher
        )
        assert added.status_code == 201, added.text
        officer = added.json()["id"]
        account = await person_user(db, officer)
        token = ISSUER.issue(account, datetime.now(UTC))
        assert (await c.get("/api/v1/auth/me", headers=auth(token))).status_code == 200

        elsewhere = await c.delete(f"/api/v1/people/{officer}", headers=a_dispatcher)
        assert elsewhere.status_code == 404
        assert await db.fetchval("SELECT disabled_at FROM users WHERE person_id = $1", officer) is None
        assert (await c.get("/api/v1/auth/me", headers=auth(token))).status_code == 200

        ended = await c.delete(f"/api/v1/people/{officer}", headers=b_dispatcher)
        assert ended.status_code == 204
    assert await db.fetchval("SELECT disabled_at FROM users WHERE person_id = $1", officer) is not None
    refused = await refused_soon(live_stack.base_url, auth(token))
    assert refused.json()["detail"].startswith("access token refused:")


async def test_an_account_ends_with_its_persons_service_on_the_day_before_any_process_disables_it(
    live_stack: LiveStack, db: asyncpg.Pool
) -> None:
    _, town = await townships(db)
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        added = await c.post(
            "/api/v1/people",
            json={"role": "officer", "name": "调离执法员", "unit_code": town},
            headers=await as_person(db, f"disp-{town}"),
        )
    assert added.status_code == 201, added.text
    officer = added.json()["id"]
    await person_user(db, officer)
    reply = await sign_in(live_stack.base_url, officer, DEMO_PASSWORD)
    assert reply.status_code == 200, reply.text
    tokens = reply.json()

    # A plan applied last week ended this officer's service today: the day has come, the account is still enabled.
    await db.execute("UPDATE people SET valid_to = $2 WHERE id = $1", officer, local_day(datetime.now(UTC)))
    refused = await refused_soon(live_stack.base_url, auth(tokens["access_token"]))
    assert refused.json()["detail"] == "access token refused: the account is disabled"
    assert (await sign_in(live_stack.base_url, officer, DEMO_PASSWORD)).status_code == 401
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        again = await c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


async def test_a_password_change_and_a_sign_out_end_existing_access_tokens(live_stack: LiveStack) -> None:
    name = new_user(live_stack)
    before = await signed_in(live_stack.base_url, name)
    other = await signed_in(live_stack.base_url, name)
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        out = await c.post(
            "/api/v1/auth/logout", json={"refresh_token": other["refresh_token"]}, headers=auth(other["access_token"])
        )
        assert out.status_code == 204
        signed_out = await c.get("/api/v1/auth/me", headers=auth(other["access_token"]))
        assert signed_out.status_code == 401 and "signed out" in signed_out.json()["detail"]
        assert (await c.get("/api/v1/auth/me", headers=auth(before["access_token"]))).status_code == 200, (
            "signing out one sign-in leaves the others"
        )
    assert gridctl(live_stack, "users", "passwd", name, stdin="another-horse-10\n").returncode == 0
    refused = await refused_soon(live_stack.base_url, auth(before["access_token"]))
    assert "session ended" in refused.json()["detail"]
    assert (await sign_in(live_stack.base_url, name, "another-horse-10")).status_code == 200


async def test_a_refresh_retried_within_its_grace_answers_the_same_pair_and_opens_no_branch(
    live_stack: LiveStack, db: asyncpg.Pool
) -> None:
    name = new_user(live_stack)
    first = await signed_in(live_stack.base_url, name)
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        replies = await asyncio.gather(
            *(c.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}) for _ in range(3))
        )
    assert [r.status_code for r in replies] == [200] * 3
    assert replies[0].json() == replies[1].json() == replies[2].json()
    assert replies[0].json()["refresh_token"] != first["refresh_token"]
    families = await db.fetchval("SELECT count(DISTINCT family) FROM refresh_tokens WHERE username = $1", name)
    rows = await db.fetchval("SELECT count(*) FROM refresh_tokens WHERE username = $1", name)
    assert (families, rows) == (1, 2), "one sign-in: the first token and its one successor"


async def test_a_token_signed_with_another_secret_is_refused(live_stack: LiveStack) -> None:
    forger = TokenIssuer("an-attacker-secret-with-length-and-variety-42", timedelta(hours=1))
    admin = forger.issue(User("admin", Role.ADMIN, "510822", None, None), datetime.now(UTC))
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        reply = await c.get("/api/v1/access-log", headers=auth(admin))
        me = await c.get("/api/v1/auth/me", headers=auth(admin))
    assert reply.status_code == 401 and me.status_code == 401
    assert me.json()["detail"].startswith("invalid access token")


@pytest.fixture(scope="module")
def behind_proxy(live_stack: LiveStack) -> Iterator[str]:
    """A web server behind a trusted proxy on 127.0.0.1, so that the tests can speak from several addresses; a name
    tried more than 8 times a minute from everywhere is answered a second later."""
    env = {
        "GRID_TRUSTED_PROXIES": "127.0.0.1",
        "GRID_RATE_LOGIN_PER_USER": "8/minute",
        "GRID_LOGIN_SLOWDOWN_SECONDS": "1",
    }
    with another_web(live_stack, "proxied-web", env) as web:
        yield web.base_url


async def test_a_strangers_wrong_passwords_do_not_stop_the_real_user(behind_proxy: str, live_stack: LiveStack) -> None:
    name = new_user(live_stack)
    async with httpx.AsyncClient(base_url=behind_proxy, timeout=30) as c:

        async def attempt(password: str, at: str) -> httpx.Response:
            form = {"username": name, "password": password}
            return await c.post("/api/v1/auth/token", data=form, headers={"X-Forwarded-For": at})

        stranger = [(await attempt("wrong-password", "198.51.100.66")).status_code for _ in range(12)]
        assert refused_after(stranger, 5)
        real = await attempt(PASSWORD, "203.0.113.7")
        assert real.status_code == 200 and real.json()["user"]["username"] == name
        # From many addresses the stranger only slows the name down: the real user still signs in, a second later.
        for n in range(5):
            assert (await attempt("wrong-password", f"198.51.100.{n + 1}")).status_code == 401
        started = time.perf_counter()
        slowed = await attempt(PASSWORD, "203.0.113.7")
        assert slowed.status_code == 200 and time.perf_counter() - started >= 1.0


async def test_unknown_and_known_names_are_answered_alike(live_stack: LiveStack) -> None:
    known = new_user(live_stack)
    unknown = f"u{uuid.uuid4().hex[:10]}"

    async def timed(username: str) -> tuple[httpx.Response, float]:
        started = time.perf_counter()
        reply = await sign_in(live_stack.base_url, username, "wrong-password")
        return reply, time.perf_counter() - started

    answers = {name: [await timed(name) for _ in range(4)] for name in (known, unknown)}
    for name, tries in answers.items():
        assert {(r.status_code, r.text) for r, _ in tries} == {(401, '{"detail":"wrong username or password"}')}, name
        assert {r.headers["www-authenticate"] for r, _ in tries} == {"Bearer"}
    known_time = statistics.median(t for _, t in answers[known])
    unknown_time = statistics.median(t for _, t in answers[unknown])
    assert unknown_time > known_time / 2, "an unknown name costs a password hash too"
    more = {n: [await sign_in(live_stack.base_url, n, "wrong-password") for _ in range(4)] for n in (known, unknown)}
    for name, replies in more.items():
        assert refused_after([401] * 4 + [r.status_code for r in replies], 5), name
    waits = {re.sub(r"\d+ s$", "N s", r[-1].json()["detail"]) for r in more.values()}  # the wait: when they began
    assert waits == {"too many wrong passwords for this name from this address; retry in N s"}


async def test_a_forged_forwarded_for_neither_escapes_the_address_limit_nor_enters_the_access_log(
    live_stack: LiveStack, db: asyncpg.Pool
) -> None:
    town_a, _ = await townships(db)
    subject = f"off-{town_a}-1"
    dispatcher = await as_person(db, f"disp-{town_a}")
    with another_web(live_stack, "plain-web", {"GRID_RATE_LOGIN_PER_ADDRESS": "3/minute"}) as web:
        async with httpx.AsyncClient(base_url=web.base_url, timeout=30) as c:
            codes = []
            for n in range(6):
                form = {"username": f"nobody-{n}", "password": "wrong-password"}
                forged = {"X-Forwarded-For": f"192.0.2.{n + 1}"}
                codes.append((await c.post("/api/v1/auth/token", data=form, headers=forged)).status_code)
            assert refused_after(codes, 3)
            read = await c.get(f"/api/v1/people/{subject}", headers={**dispatcher, "X-Forwarded-For": "192.0.2.99"})
            assert read.status_code == 200
    logged = await db.fetchval("SELECT address FROM access_log WHERE subject = $1 ORDER BY id DESC LIMIT 1", subject)
    assert logged == "127.0.0.1"
    assert await db.fetchval("SELECT count(*) FROM access_log WHERE address LIKE '192.0.2.%'") == 0


async def test_an_accounts_live_connections_are_capped(live_stack: LiveStack) -> None:
    name = new_user(live_stack)
    token = (await signed_in(live_stack.base_url, name))["access_token"]
    url = live_stack.base_url.replace("http", "ws", 1) + "/ws/live"
    protocols = [Subprotocol("grid.live"), Subprotocol(f"bearer.{token}")]
    async with contextlib.AsyncExitStack() as stack:
        channels = [await stack.enter_async_context(live(live_stack.base_url, token)) for _ in range(5)]
        async with websockets.connect(url, subprotocols=protocols) as sixth:
            code, reason = await closed_with(sixth, within=10)
        assert code == 4429 and "too many live connections for this account (5)" in reason
        for ws in channels:
            await asyncio.wait_for(await ws.ping(), 5)
        await channels[0].close()

        async def admitted() -> bool | None:
            try:
                async with live(live_stack.base_url, token):
                    return True
            except websockets.ConnectionClosed:
                return None

        assert await wait_for(admitted, "a place once a window closed", within=10)


async def test_a_new_secret_ends_every_session(live_stack: LiveStack) -> None:
    name = new_user(live_stack)
    tokens = await signed_in(live_stack.base_url, name)
    rotated = {"GRID_JWT_SECRET": f"rotated-{uuid.uuid4().hex}-{uuid.uuid4().hex}"}
    with another_web(live_stack, "rotated-web", rotated) as web:
        async with httpx.AsyncClient(base_url=web.base_url) as c:
            me = await c.get("/api/v1/auth/me", headers=auth(tokens["access_token"]))
            refreshed = await c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert me.status_code == 401 and refreshed.status_code == 401
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        still = await c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert still.status_code == 200, "the refusal spent nothing: the old secret's server still honours it"
