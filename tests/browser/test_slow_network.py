"""The worker's page on a slow network: a phone that never saw the site opens /m/worker over an emulated slow-3G
link (Chromium's network emulation through CDP, `Network.emulateNetworkConditions`: 400 kbit/s each way, 400 ms
round trip). The test measures the time until the report form can be used and until the page says it is ready, and
the bytes that crossed the link, prints them (BENCHMARKS.md records a run) and holds them to generous bounds.

The emulation is set on the page and, through CDP auto-attach, on the workers it starts: the service worker, which
downloads the shell once the page has loaded (among it MapLibre's worker script, which the map needs too), and
MapLibre's worker (its own target answers "Not supported": its script comes through the page). Without that, the
service worker's downloads would neither be slowed nor counted."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
from playwright.async_api import BrowserContext, CDPSession

from tests.browser.conftest import SignIn, account_for, grid_point, people

Contexts = Callable[..., Awaitable[BrowserContext]]

KBIT = 1000 / 8
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT, "uploadThroughput": 400 * KBIT}
"""Chromium's network emulation (Network.emulateNetworkConditions): throughputs in bytes per second, latency in ms."""
USABLE_WITHIN_S = 30.0
READY_WITHIN_S = 45.0
MOST_BYTES = 700_000
"""The page, its scripts and styles, MapLibre's worker, the first API reads and the shell, as they cross the link."""


@dataclass
class Link:
    """What crossed the emulated link, per response: its size on the wire, its coding, and who asked for it."""

    responses: dict[str, str] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)
    targets: dict[str, str] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    took: dict[str, float] = field(default_factory=dict)

    def sent(self, event: dict[str, Any]) -> None:
        self.sent_at[event["requestId"]] = float(event["timestamp"])

    def answered(self, event: dict[str, Any], target: str) -> None:
        coding = {k.lower(): v for k, v in event["response"]["headers"].items()}.get("content-encoding", "identity")
        self.responses[event["requestId"]] = f"{event['response']['url']} {coding}"
        self.targets[event["requestId"]] = target

    def finished(self, event: dict[str, Any]) -> None:
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])
        if event["requestId"] in self.sent_at:
            self.took[event["requestId"]] = float(event["timestamp"]) - self.sent_at[event["requestId"]]

    def total(self) -> int:
        return sum(self.sizes.values())

    def largest(self, count: int) -> list[str]:
        ranked = sorted(self.sizes.items(), key=lambda item: -item[1])[:count]
        return [
            f"{size / 1000:8.1f} kB {self.took.get(rid, 0):5.1f} s  {self.responses.get(rid, '?')} "
            f"({self.targets.get(rid, 'page')})"
            for rid, size in ranked
        ]


async def slow_link(cdp: CDPSession) -> Link:
    """Emulate slow 3G on the page's target and on every worker it starts, and count what crosses."""
    link = Link()
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    cdp.on("Network.responseReceived", lambda event: link.answered(event, "page"))
    cdp.on("Network.loadingFinished", link.finished)
    cdp.on("Network.requestWillBeSent", link.sent)

    async def attached(event: dict[str, Any]) -> None:
        setup = [("Network.enable", {}), ("Network.emulateNetworkConditions", SLOW_3G)]
        for n, (method, params) in enumerate([*setup, ("Runtime.runIfWaitingForDebugger", {})]):
            message = json.dumps({"id": n + 1, "method": method, "params": params})
            await cdp.send("Target.sendMessageToTarget", {"sessionId": event["sessionId"], "message": message})

    kinds: dict[str, str] = {}
    setting_up: set[asyncio.Task[None]] = set()

    def from_worker(event: dict[str, Any]) -> None:
        message = json.loads(event["message"])
        if message.get("method") == "Network.requestWillBeSent":
            link.sent(message["params"])
        elif message.get("method") == "Network.responseReceived":
            link.answered(message["params"], kinds.get(event["sessionId"], "worker"))
        elif message.get("method") == "Network.loadingFinished":
            link.finished(message["params"])

    def remember(event: dict[str, Any]) -> None:
        kinds[event["sessionId"]] = event["targetInfo"]["type"]
        task = asyncio.ensure_future(attached(event))
        setting_up.add(task)
        task.add_done_callback(setting_up.discard)

    cdp.on("Target.attachedToTarget", remember)
    cdp.on("Target.receivedMessageFromTarget", from_worker)
    # A session of our own next to Playwright's (which attaches flattened): workers wait for it before they start.
    await cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": False})
    return link


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
    link = await slow_link(await phone.new_cdp_session(page))

    started = time.monotonic()
    await page.goto(site + "/m/worker", timeout=int(READY_WITHIN_S * 1000))
    await page.locator("form.report-form button.submit").wait_for(timeout=int(USABLE_WITHIN_S * 1000))
    usable = time.monotonic() - started
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=int(READY_WITHIN_S * 1000))
    ready = time.monotonic() - started
    loaded = link.total()
    print(f"\nslow 3G (400 kbit/s, 400 ms RTT), first load of /m/worker: form usable after {usable:.1f} s,")
    print(f"page ready after {ready:.1f} s with {loaded / 1000:.0f} kB transferred;")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=120_000)
    shell = link.total()
    print(f"{shell / 1000:.0f} kB once the service worker holds the shell (it starts at the page's load event)")
    print("\n".join(link.largest(10)))
    assert not errors, errors
    assert usable < USABLE_WITHIN_S
    assert ready < READY_WITHIN_S
    assert shell < MOST_BYTES, f"{shell} bytes crossed the link"
