"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, WebGL through SwiftShader) against the
session's real stack (tests/conftest.py `live_stack`). Screenshots go to test-artifacts/screenshots/.

Every page needs a signed-in user. Tests that are not about signing in sign in through the API and put the tokens
into the context's localStorage before the page loads (`sign_in`); test_sign_in.py signs in through the form. The
people of the test township get accounts (password `grid-demo`, like the demo accounts) when a test first needs
them (`account_for`)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright
from shapely.geometry import shape

from core.vocabulary import Role
from dispatch.access import users as users_store
from dispatch.access.demo_accounts import DEMO_PASSWORD
from dispatch.access.tokens import TokenIssuer
from dispatch.access.users import User
from tests.integration.auth import SECRET
from tests.integration.harness import ARTIFACTS, ROOT, LiveStack

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = os.environ.get("GRID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--lang=zh-CN"]
SHOTS = ARTIFACTS / "screenshots"
DIST = ROOT / "web" / "static" / "dist"
PAGES = ("index.html", "m/worker/index.html", "m/officer/index.html")
DESK = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}

# The browser tests work in their own township, apart from the integration tests' 乔庄镇 (510822100).
TOWNSHIP = "510822105"

PageFactory = Callable[..., Awaitable[Page]]
SignIn = Callable[..., Awaitable[dict[str, Any]]]

# Where the pages keep the session (web/frontend/src/shared/session.ts).
SESSION_KEY = "gridcmd.session"


@pytest.fixture(scope="session")
def site(live_stack: LiveStack) -> str:
    """The web server's base URL, once the front end is known to be built."""
    missing = [p for p in PAGES if not (DIST / p).is_file()]
    if missing:
        pytest.fail(f"front end not built ({', '.join(missing)} missing): run `npm --prefix web/frontend run build`")
    return live_stack.base_url


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the session."""
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 - once per session, before the browser starts
        pytest.fail(f"{CHROMIUM} is missing: run `make setup` (apt package chromium)")
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest_asyncio.fixture
async def contexts(browser: Browser) -> AsyncIterator[Callable[..., Awaitable[BrowserContext]]]:
    """Make browser contexts (a desk screen or a phone); all are closed after the test."""
    made: list[BrowserContext] = []

    async def make(kind: str = "desk", geolocation: dict[str, float] | None = None) -> BrowserContext:
        options: dict[str, Any] = {"locale": "zh-CN", "timezone_id": "Asia/Shanghai"}
        if kind == "phone":
            options |= {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
        else:
            options |= {"viewport": DESK}
        if geolocation:
            options |= {"geolocation": geolocation, "permissions": ["geolocation"]}
        context = await browser.new_context(**options)
        made.append(context)
        return context

    yield make
    for context in made:
        await context.close()


@pytest.fixture
def page_errors() -> list[str]:
    """Uncaught errors and Content-Security-Policy violations of every page opened with `open_page`; a test fails if
    any occurred."""
    return []


def _csp_violation(message: ConsoleMessage, path: str, page_errors: list[str]) -> None:
    """Record a console message in which the browser reports that the page's CSP refused something."""
    if "Content Security Policy" in message.text:
        page_errors.append(f"{path}: {message.text}")


@pytest_asyncio.fixture
async def open_page(site: str, page_errors: list[str]) -> AsyncIterator[Callable[..., Awaitable[Page]]]:
    """Open a path of the site in a context and wait until the page says it is ready and live (unless `ready` is
    False: a page waiting for a sign-in is not ready)."""

    async def open_(context: BrowserContext, path: str, live: bool = True, ready: bool = True) -> Page:
        page = await context.new_page()
        page.on("pageerror", lambda error: page_errors.append(f"{path}: {error}"))
        page.on("console", lambda message: _csp_violation(message, path, page_errors))
        await page.goto(site + path)
        if not ready:
            return page
        await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
        if live:
            await page.wait_for_selector("body[data-ws='open']", state="attached", timeout=15_000)
        return page

    yield open_
    assert not page_errors, f"uncaught errors or CSP violations in the pages: {page_errors}"


async def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot as a test artifact."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def grid_point(http: httpx.AsyncClient, grid_code: str) -> tuple[float, float]:
    """A point inside a current grid."""
    grids = (await http.get("/api/v1/grids", params={"township": grid_code[:9]})).json()
    feature = next(f for f in grids["features"] if f["properties"]["code"] == grid_code)
    point = shape(feature["geometry"]).representative_point()
    return point.x, point.y


async def people(http: httpx.AsyncClient, role: str, unit: str = TOWNSHIP) -> list[dict[str, Any]]:
    """People of a role in a unit, in id order."""
    found = (await http.get("/api/v1/people", params={"unit": unit, "role": role})).json()
    return sorted(found, key=lambda p: p["id"])


async def account_for(db: asyncpg.Pool, person_id: str) -> str:
    """The username of a registry person's account (password DEMO_PASSWORD), made if they have none yet."""
    username: str | None = await db.fetchval("SELECT username FROM users WHERE person_id = $1", person_id)
    if username is not None:
        return username
    role = await db.fetchval("SELECT role FROM people WHERE id = $1 AND valid_to IS NULL", person_id)
    assert role is not None, f"no serving person {person_id}"
    await users_store.add_user(db, person_id, DEMO_PASSWORD, Role(role), person_id=person_id)
    return person_id


async def api_sign_in(site: str, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """Tokens of a sign-in through the API (POST /api/v1/auth/token)."""
    async with httpx.AsyncClient(base_url=site, timeout=15) as client:
        for _ in range(4):  # a name another test just tried wrong passwords for waits, as a person would
            response = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
            if response.status_code != 429:
                break
            await asyncio.sleep(int(response.headers.get("Retry-After", "1")))
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def stored_session(tokens: dict[str, Any]) -> dict[str, Any]:
    """What the pages keep in localStorage for a sign-in."""
    return {
        "access_token": tokens["access_token"],
        "refresh_token": tokens["refresh_token"],
        "user": tokens["user"],
        "skew": 0,
    }


@pytest.fixture
def sign_in(site: str) -> SignIn:
    """Sign a browser context in as `username`: the tokens go into its localStorage before its pages load (unless
    a page has stored a session there since, e.g. after a refresh). Returns the tokens."""

    async def sign_in_(context: BrowserContext, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        tokens = await api_sign_in(site, username, password)
        value = json.dumps(json.dumps(stored_session(tokens)))
        await context.add_init_script(
            script=f"try {{ if (!localStorage.getItem('{SESSION_KEY}'))"
            f" localStorage.setItem('{SESSION_KEY}', {value}); }} catch (e) {{}}"
        )
        return tokens

    return sign_in_


def expired_access_token(user: dict[str, Any]) -> str:
    """An access token of `user` (as /auth/me describes them) that expired a minute ago, validly signed."""
    issuer = TokenIssuer(SECRET, timedelta(minutes=-1))
    who = User(user["username"], Role(user["role"]), user["unit_code"], user["person_id"], user["team_id"])
    return issuer.issue(who, datetime.now(UTC))


async def replace_stored_tokens(page: Page, **tokens: str) -> None:
    """Overwrite tokens of the session a page keeps (e.g. access_token=an expired one)."""
    await page.evaluate(
        """([key, tokens]) => {
            const held = JSON.parse(localStorage.getItem(key));
            localStorage.setItem(key, JSON.stringify({ ...held, ...tokens }));
        }""",
        [SESSION_KEY, tokens],
    )


async def stored_tokens(page: Page) -> dict[str, Any] | None:
    """The session a page keeps in localStorage, or None."""
    text = await page.evaluate("(key) => localStorage.getItem(key)", SESSION_KEY)
    return json.loads(text) if text else None
