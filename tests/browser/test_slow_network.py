"""The worker's page on a slow network: a phone that never saw the site opens /m/worker over an emulated slow-3G
link (Chromium's network emulation through CDP: 400 kbit/s each way, 400 ms round trip). The test measures the time
until the report form can be used and until the page says it is ready, and the bytes that crossed the link, prints
them (BENCHMARKS.md records a run) and holds them to generous bounds."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
from playwright.async_api import BrowserContext

from tests.browser.conftest import SignIn, account_for, grid_point, people

Contexts = Callable[..., Awaitable[BrowserContext]]

KBIT = 1000 / 8
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT, "uploadThroughput": 400 * KBIT}
"""Chromium's network emulation (Network.emulateNetworkConditions): throughputs in bytes per second, latency in ms."""
USABLE_WITHIN_S = 45.0
READY_WITHIN_S = 90.0
MOST_BYTES = 1_000_000
"""The page, its scripts and styles and its first API reads, as they cross the link (compressed)."""


async def test_the_worker_page_loads_on_a_slow_3g_network(
    contexts: Contexts, sign_in: SignIn, site: str, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[11]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, member["id"]))
    page = await phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    cdp = await phone.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    encodings: dict[str, str] = {}
    transferred: dict[str, int] = {}

    def answered(event: dict[str, Any]) -> None:
        headers = {name.lower(): value for name, value in event["response"]["headers"].items()}
        encodings[event["requestId"]] = f"{event['response']['url']} {headers.get('content-encoding', 'identity')}"

    def finished(event: dict[str, Any]) -> None:
        transferred[event["requestId"]] = int(event["encodedDataLength"])

    cdp.on("Network.responseReceived", answered)
    cdp.on("Network.loadingFinished", finished)

    started = time.monotonic()
    await page.goto(site + "/m/worker", timeout=int(READY_WITHIN_S * 1000))
    await page.locator("form.report-form button.submit").wait_for(timeout=int(USABLE_WITHIN_S * 1000))
    usable = time.monotonic() - started
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=int(READY_WITHIN_S * 1000))
    ready = time.monotonic() - started

    total = sum(transferred.values())
    print(f"\nslow 3G (400 kbit/s, 400 ms RTT), first load of /m/worker: form usable after {usable:.1f} s,")
    print(f"page ready after {ready:.1f} s, {total / 1000:.0f} kB transferred in {len(transferred)} responses")
    for request_id, size in sorted(transferred.items(), key=lambda item: -item[1])[:8]:
        print(f"  {size / 1000:8.1f} kB  {encodings.get(request_id, '?')}")
    assert not errors, errors
    assert usable < USABLE_WITHIN_S
    assert ready < READY_WITHIN_S
    assert total < MOST_BYTES, f"{total} bytes crossed the link"
