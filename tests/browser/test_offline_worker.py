"""The worker's page without a network, in Chromium: after one visit the service worker opens it offline; a report
written offline (with a photo) waits in the outbox through a restart of the phone, and is sent when the network
returns, landing as exactly one receipt and one case.

The phone is a browser with a profile on disk (a persistent context): closing it and launching a new browser on the
same profile is a restart, keeping what a phone keeps (the service worker and its cache, IndexedDB, localStorage)
and nothing else (no page, no memory)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from playwright.async_api import Browser, BrowserContext, Page

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DIST,
    PHONE,
    SignIn,
    account_for,
    grid_point,
    people,
    screenshot,
)
from tests.integration.harness import wait_for
from tests.media_samples import png

Phone = Callable[[], Awaitable[BrowserContext]]
READY = "body[data-ready='1']"


def phone_on_disk(browser: Browser, profile: Path, lon: float, lat: float) -> Phone:
    """Starts a phone browser on a profile kept in `profile` (each call is one boot of the phone)."""

    async def boot() -> BrowserContext:
        return await browser.browser_type.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            geolocation={"longitude": lon, "latitude": lat},
            permissions=["geolocation"],
        )

    return boot


def build_version() -> str:
    """The version the build wrote into the service worker (its cache is named by it)."""
    found = re.search(r'^const VERSION = "([0-9a-f]+)";', (DIST / "sw.js").read_text(), re.MULTILINE)
    assert found, "the build wrote no service worker"
    return found.group(1)


async def drawn_grids(page: Page) -> dict[str, int]:
    """The features of the pin map's grid sources: the worker's own grid and its township's."""
    counts: dict[str, int] = await page.evaluate(
        """() => Object.fromEntries(['my-grid', 'township-grids'].map((id) => {
            const source = window.__app.map.getSource(id);
            return [id, source ? source.serialize().data.features.length : 0];
        }))"""
    )
    return counts


def watch(page: Page, errors: list[str]) -> Page:
    """Collect the page's uncaught errors and CSP violations."""
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return page


async def shell_server_reachable(phone: BrowserContext) -> bool:
    """Whether the service worker itself reaches the server (it must not, for "offline" to mean anything)."""
    worker = phone.service_workers[0]
    reached: bool = await worker.evaluate("() => fetch('/healthz').then(() => true, () => false)")
    return reached


async def outbox_items(page: Page) -> list[dict[str, Any]]:
    """What the outbox holds in IndexedDB: event id, status, photos still to upload and their sizes."""
    items: list[dict[str, Any]] = await page.evaluate(
        """async () => (await window.__app.outbox.items()).map((item) => ({
            event_id: item.event_id,
            status: item.status,
            photo_sizes: item.photos.map((photo) => photo.size),
            photo_types: item.photos.map((photo) => photo.type),
        }))"""
    )
    return items


async def test_the_worker_page_opens_offline_and_a_report_survives_a_restart_until_the_network_returns(
    browser: Browser, sign_in: SignIn, site: str, http: httpx.AsyncClient, db: asyncpg.Pool, tmp_path: Path
) -> None:
    member = (await people(http, "grid_member"))[12]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    boot = phone_on_disk(browser, tmp_path / "phone", lon, lat)
    errors: list[str] = []

    # One visit online: the page loads, and its service worker installs the shell and takes over the page.
    phone = await boot()
    await sign_in(phone, await account_for(db, member["id"]))
    page = watch(await phone.new_page(), errors)
    await page.goto(site + "/m/worker")
    await page.wait_for_selector(READY, state="attached", timeout=30_000)
    township_grids = (await drawn_grids(page))["township-grids"]
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    assert len(phone.service_workers) == 1
    assert phone.service_workers[0].url == site + "/m/sw.js"
    assert await page.evaluate("() => caches.keys()") == [f"gridcmd-shell-{build_version()}"]

    # Offline, the page opens again, from the service worker: nothing reaches the server.
    await phone.set_offline(True)
    assert not await shell_server_reachable(phone)
    reloaded = await page.reload()
    assert reloaded is not None and reloaded.from_service_worker
    await page.wait_for_selector(READY, state="attached", timeout=30_000)
    assert await page.get_attribute("body", "data-ws") == "closed"

    # A report with a photo, written offline, waits in the outbox.
    await page.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])
    token = f"井盖缺失-{uuid.uuid4().hex[:6]}"
    photo = png(8, 8, token)
    await page.fill("textarea[name=description]", token)
    await page.set_input_files(
        "input[name=photos]", files=[{"name": "cover.png", "mimeType": "image/png", "buffer": photo}]
    )
    await page.click("button.submit")
    await page.wait_for_selector("body[data-outbox='1']", state="attached")
    event_id = await page.evaluate("() => window.__app.lastEventId()")
    await screenshot(page, "worker-offline-queued")

    # The phone restarts, still without a network: the page opens from the cache, the report still waits, photo
    # and all, and is shown waiting.
    await phone.close()
    phone = await boot()
    await phone.set_offline(True)
    page = watch(await phone.new_page(), errors)
    opened = await page.goto(site + "/m/worker")
    assert opened is not None and opened.from_service_worker
    await page.wait_for_selector(READY, state="attached", timeout=30_000)
    assert await page.get_attribute("body", "data-outbox") == "1"
    assert await drawn_grids(page) == {"my-grid": 1, "township-grids": township_grids}
    assert await outbox_items(page) == [
        {"event_id": event_id, "status": "pending", "photo_sizes": [len(photo)], "photo_types": ["image/png"]}
    ]
    await page.click(".nav-item[data-view=queue]")
    waiting = page.locator(f".queue-item[data-event-id='{event_id}']")
    await waiting.wait_for()
    assert token in (await waiting.text_content() or "")
    await screenshot(page, "worker-offline-after-restart")
    assert await db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = $1", uuid.UUID(event_id)) == 0

    # The network returns: the report goes, once, with its photo, and becomes one case.
    await phone.set_offline(False)
    await page.wait_for_selector("body[data-outbox='0']", state="attached", timeout=30_000)
    await page.wait_for_selector(f".sent-item[data-event-id='{event_id}']", state="attached")
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(event_id)),
        "the case of the report queued before the restart",
    )
    await page.wait_for_timeout(1_000)  # time for any second send to show up
    assert await db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = $1", uuid.UUID(event_id)) == 1
    assert await db.fetchval("SELECT count(*) FROM case_events WHERE event_id = $1", uuid.UUID(event_id)) == 1
    assert await db.fetchval("SELECT count(*) FROM cases WHERE description LIKE $1", f"%{token}%") == 1
    sha = hashlib.sha256(photo).hexdigest()
    assert await db.fetchval(
        "SELECT count(*) FROM media_grants WHERE media_hash = $1 AND case_id = $2", sha, case_id
    ), "the photo did not reach the case"
    await phone.close()
    assert not errors, errors


async def test_the_officer_page_opens_offline_after_one_visit(
    browser: Browser, sign_in: SignIn, site: str, tmp_path: Path
) -> None:
    errors: list[str] = []
    phone = await phone_on_disk(browser, tmp_path / "officer-phone", 105.2, 32.6)()
    await sign_in(phone, "officer")
    page = watch(await phone.new_page(), errors)
    await page.goto(site + "/m/officer")
    await page.wait_for_selector(READY, state="attached", timeout=30_000)
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    await phone.set_offline(True)
    assert not await shell_server_reachable(phone)
    reloaded = await page.reload()
    assert reloaded is not None and reloaded.from_service_worker
    await page.wait_for_selector(READY, state="attached", timeout=30_000)
    assert await page.get_attribute("body", "data-ws") == "closed"
    await screenshot(page, "officer-offline")
    await phone.close()
    assert not errors, errors


async def test_a_new_build_replaces_the_cached_shell(
    browser: Browser, sign_in: SignIn, site: str, tmp_path: Path
) -> None:
    """A deployment is a new /m/sw.js (another version): the phone installs it and keeps only the new cache."""
    errors: list[str] = []
    phone = await phone_on_disk(browser, tmp_path / "updated-phone", 105.2, 32.6)()
    await sign_in(phone, "officer")
    page = watch(await phone.new_page(), errors)
    await page.goto(site + "/m/officer")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=60_000)
    old = build_version()
    new = "0" * 16 if old != "0" * 16 else "1" * 16
    assert await page.evaluate("() => caches.keys()") == [f"gridcmd-shell-{old}"]

    worker = DIST / "sw.js"
    kept = {path: path.read_bytes() for path in (worker, *(DIST / f"sw.js{suffix}" for suffix in (".br", ".gz")))}
    try:
        worker.write_text(kept[worker].decode().replace(f'const VERSION = "{old}"', f'const VERSION = "{new}"'))
        for copy in kept:
            if copy != worker:
                copy.unlink()
        await page.evaluate("() => navigator.serviceWorker.getRegistration().then((r) => r.update())")

        async def replaced() -> bool | None:
            keys: list[str] = await page.evaluate("() => caches.keys()")
            return keys == [f"gridcmd-shell-{new}"] or None

        await wait_for(replaced, "the new build's cache, alone", within=60)
    finally:
        for path, content in kept.items():
            path.write_bytes(content)
    await phone.close()
    assert not errors, errors
