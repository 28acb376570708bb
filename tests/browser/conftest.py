"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, WebGL through SwiftShader) against the
session's real stack (tests/conftest.py `live_stack`). Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from shapely.geometry import shape

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
    """Uncaught errors of every page opened with `open_page`; a test fails if any occurred."""
    return []


@pytest_asyncio.fixture
async def open_page(site: str, page_errors: list[str]) -> AsyncIterator[Callable[..., Awaitable[Page]]]:
    """Open a path of the site in a context and wait until the page says it is ready and live."""

    async def open_(context: BrowserContext, path: str, live: bool = True) -> Page:
        page = await context.new_page()
        page.on("pageerror", lambda error: page_errors.append(f"{path}: {error}"))
        await page.goto(site + path)
        await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
        if live:
            await page.wait_for_selector("body[data-ws='open']", state="attached", timeout=15_000)
        return page

    yield open_
    assert not page_errors, f"uncaught errors in the pages: {page_errors}"


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
