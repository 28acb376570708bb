"""Sign-in on the real stack: tokens, refresh rotation, throttling, rate limits, the websocket's token, and the
refusal to run in production with demo secrets."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import orjson
import pytest
import websockets
from websockets.typing import Subprotocol

from core.vocabulary import Role
from dispatch.access.demo_accounts import DEMO_PASSWORD
from dispatch.access.tokens import TokenIssuer
from dispatch.access.users import User
from tests.integration.auth import ISSUER, SECRET, person_user
from tests.integration.conftest import another_web
from tests.integration.harness import ROOT, VENV_BIN, LiveStack
from tests.integration.helpers import event, grid_point

TOKEN = "/api/v1/auth/token"


async def sign_in(base_url: str, username: str, password: str) -> httpx.Response:
    """The OAuth2 password flow, as a browser's form post."""
    async with httpx.AsyncClient(base_url=base_url, timeout=15) as c:
        return await c.post(TOKEN, data={"username": username, "password": password})


def gridctl(ts: LiveStack, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run gridctl in the session's environment."""
    return subprocess.run(
        [str(VENV_BIN / "gridctl"), *args], env=ts.env, cwd=ROOT, input=stdin, capture_output=True, text=True
    )


def new_user(ts: LiveStack, role: str = "admin", password: str = "correct-horse-9") -> str:
    """An account made with `gridctl users add` (a throwaway, so slowing it harms no other test)."""
    name = f"u{uuid.uuid4().hex[:10]}"
    done = gridctl(ts, "users", "add", name, "--role", role, "--unit", "510822", stdin=password + "\n")
    assert done.returncode == 0, done.stderr
    return name


def refused_after(codes: list[int], allowed: int) -> bool:
    """Whether `codes` are at least `allowed` refusals (401), then 429s. The limits are sliding windows, which weigh
    the previous minute's hits by how much of it is left: attempts straddling the turn of a minute may let one or
    two more through."""
    first = codes.index(429) if 429 in codes else len(codes)
    return set(codes[:first]) == {401} and allowed <= first <= allowed + 2 < len(codes) and {*codes[first:]} == {429}


@pytest.fixture(scope="module")
def strict_web(live_stack: LiveStack) -> Iterator[str]:
    """A second web server on the session's database with low per-address limits."""
    limits = {"GRID_RATE_LOGIN_PER_ADDRESS": "4/minute", "GRID_RATE_INTAKE_PER_ADDRESS": "3/minute"}
    with another_web(live_stack, "strict-web", limits) as web:
        yield web.base_url


async def test_sign_in_gives_tokens_that_describe_the_user(live_stack: LiveStack) -> None:
    reply = await sign_in(live_stack.base_url, "dispatcher", DEMO_PASSWORD)
    assert reply.status_code == 200, reply.text
    tokens = reply.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    me = tokens["user"]
    assert me["role"] == "dispatcher" and len(me["area"]) == 9 and me["person_id"] == f"disp-{me['area']}"
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        who = await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert who.json() == me
        assert (await c.get("/api/v1/auth/me")).status_code == 401
        forged = TokenIssuer("not-the-secret-but-long-enough-000000", timedelta(minutes=5)).issue(
            User("admin", Role.ADMIN, "510822", None, None), datetime.now(UTC)
        )
        bad = await c.get("/api/v1/cases", headers={"Authorization": f"Bearer {forged}"})
        assert bad.status_code == 401 and "invalid access token" in bad.json()["detail"]
        expired = TokenIssuer(SECRET, timedelta(minutes=-1)).issue(
            User("admin", Role.ADMIN, "510822", None, None), datetime.now(UTC)
        )
        late = await c.get("/api/v1/cases", headers={"Authorization": f"Bearer {expired}"})
        assert late.status_code == 401 and late.json()["detail"] == "access token expired; refresh it"


async def test_wrong_passwords_make_the_name_wait_at_that_address_and_never_lock_it(live_stack: LiveStack) -> None:
    name = new_user(live_stack)
    replies = [await sign_in(live_stack.base_url, name, "wrong-password") for _ in range(8)]
    assert refused_after([r.status_code for r in replies], 5)
    assert {r.json()["detail"] for r in replies if r.status_code == 401} == {"wrong username or password"}
    waits = replies[-1]
    assert 1 <= int(waits.headers["Retry-After"]) <= 60
    assert "wrong passwords for this name from this address" in waits.json()["detail"]
    unknown = f"{name}-nobody"
    codes = [(await sign_in(live_stack.base_url, unknown, "wrong-password")).status_code for _ in range(8)]
    assert refused_after(codes, 5), "an unknown name is answered as a known one"


async def test_refresh_rotates_and_a_replayed_token_revokes_the_sign_in(
    live_stack: LiveStack, db: asyncpg.Pool
) -> None:
    name = new_user(live_stack)
    first = (await sign_in(live_stack.base_url, name, "correct-horse-9")).json()
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        second = await c.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
        # A phone whose answer was lost retries at once: answered the same pair, not a second branch.
        retry = await c.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert retry.status_code == 200 and retry.json() == second.json()
        # Long after, the same spent token is a replay: the whole sign-in is revoked.
        await db.execute(
            "UPDATE refresh_tokens SET used_at = now() - interval '10 minutes' WHERE username = $1 AND used_at"
            " IS NOT NULL",
            name,
        )
        replay = await c.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert replay.status_code == 401 and "already used" in replay.json()["detail"]
        newest = await c.post("/api/v1/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
        assert newest.status_code == 401
        bad = await c.post("/api/v1/auth/refresh", json={"refresh_token": "x" * 40, "extra": 1})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "extra"]

        third = (await sign_in(live_stack.base_url, name, "correct-horse-9")).json()
        auth = {"Authorization": f"Bearer {third['access_token']}"}
        out = await c.post("/api/v1/auth/logout", json={"refresh_token": third["refresh_token"]}, headers=auth)
        assert out.status_code == 204
        after = await c.post("/api/v1/auth/refresh", json={"refresh_token": third["refresh_token"]})
        assert after.status_code == 401


async def test_a_disabled_account_cannot_sign_in_or_refresh(live_stack: LiveStack) -> None:
    name = new_user(live_stack)
    tokens = (await sign_in(live_stack.base_url, name, "correct-horse-9")).json()
    assert gridctl(live_stack, "users", "disable", name).returncode == 0
    assert (await sign_in(live_stack.base_url, name, "correct-horse-9")).status_code == 401
    async with httpx.AsyncClient(base_url=live_stack.base_url) as c:
        refreshed = await c.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert refreshed.status_code == 401


def test_gridctl_refuses_bad_accounts_naming_the_field(live_stack: LiveStack) -> None:
    short = gridctl(live_stack, "users", "add", "shorty", "--role", "admin", "--unit", "510822", stdin="abc\n")
    assert short.returncode == 1 and "password: at least 8 characters" in short.stderr
    wrong = gridctl(
        live_stack, "users", "add", "wrongrole", "--role", "officer", "--person", "disp-510822100", stdin="x" * 10
    )
    assert wrong.returncode == 1 and "role: person disp-510822100 is a dispatcher" in wrong.stderr
    listed = gridctl(live_stack, "users", "list")
    assert listed.returncode == 0 and "dispatcher" in listed.stderr


async def test_per_address_limits_on_sign_in_and_intake(strict_web: str, db: asyncpg.Pool) -> None:
    codes = [(await sign_in(strict_web, "nobody-here", "wrong-password")).status_code for _ in range(7)]
    assert refused_after(codes, 4)
    spot = await grid_point(db)
    token = ISSUER.issue(await person_user(db, spot["member_id"]), datetime.now(UTC))
    async with httpx.AsyncClient(base_url=strict_web, headers={"Authorization": f"Bearer {token}"}) as c:
        replies = [await c.post("/api/v1/events", json={"type": "incident"}) for _ in range(4)]
    assert [r.status_code for r in replies] == [422, 422, 422, 429]
    assert int(replies[-1].headers["Retry-After"]) >= 1


async def test_intake_takes_reports_only_as_the_signed_in_person(live_stack: LiveStack, db: asyncpg.Pool) -> None:
    spot = await grid_point(db, offset=7)
    member = spot["member_id"]
    token = ISSUER.issue(await person_user(db, member), datetime.now(UTC))
    body = event(lon=spot["lon"], lat=spot["lat"], reporter={"id": "gm-someone-else"})
    async with httpx.AsyncClient(base_url=live_stack.base_url, headers={"Authorization": f"Bearer {token}"}) as c:
        posing = await c.post("/api/v1/events", json=body)
        assert posing.status_code == 403 and posing.json()["detail"].startswith("reporter.id:")
        own = await c.post("/api/v1/events", json={**body, "reporter": {"id": member}})
        assert own.status_code == 202
        anonymous = await c.post("/api/v1/events", json=body, headers={"Authorization": ""})
        assert anonymous.status_code == 401


async def test_the_websocket_needs_a_token_and_closes_when_it_expires(live_stack: LiveStack) -> None:
    url = live_stack.base_url.replace("http", "ws") + "/ws/live"
    async with websockets.connect(url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    user = User("dispatcher", Role.DISPATCHER, "510822100", "disp-510822100", None)
    short = TokenIssuer(SECRET, timedelta(seconds=3)).issue(user, datetime.now(UTC))
    protocols = [Subprotocol("grid.live"), Subprotocol(f"bearer.{short}")]
    async with websockets.connect(url, subprotocols=protocols) as ws:
        assert ws.subprotocol == "grid.live"
        first = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "snapshot"
        with pytest.raises(websockets.ConnectionClosed) as expired:
            while True:
                await asyncio.wait_for(ws.recv(), 15)
    assert expired.value.rcvd is not None and expired.value.rcvd.code == 4401
    assert "expired" in expired.value.rcvd.reason


def test_production_mode_refuses_the_demo_secrets(live_stack: LiveStack) -> None:
    env = {**live_stack.env, "GRID_ENV": "production", "GRID_JWT_SECRET": "short"}
    probe = "from web.app import create_app; create_app()"
    demo = subprocess.run([str(VENV_BIN / "python"), "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True)
    assert demo.returncode != 0
    assert "GRID_JWT_SECRET is shorter than 32" in demo.stderr
    assert "well-known default database password" in demo.stderr
    strong_url = "postgresql://u:Tr0ub4dor-and-3@127.0.0.1/x"
    strong = {**env, "GRID_JWT_SECRET": uuid.uuid4().hex * 2, "GRID_DATABASE_URL": strong_url}
    ok = subprocess.run([str(VENV_BIN / "python"), "-c", probe], env=strong, cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
