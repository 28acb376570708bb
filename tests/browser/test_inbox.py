"""The inbox in Chromium: an officer whose page is in the background (hidden, its live channel suspended as a phone
suspends it) gets a dispatch to their team; when they look, it is in the inbox and the badge counts it; opening it
marks it read. Meanwhile the delivery process has sent the officer an SMS and the township's robot a webhook call,
which the local sink received. A return reaches the command centre's inbox live and opens its case."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import TOWNSHIP, SignIn, account_for, people, screenshot
from tests.browser.test_field_apps import post_lead
from tests.integration.auth import as_person
from tests.integration.harness import LiveStack, wait_for
from tests.integration.inbox.processes import running_delivery, running_sink

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]

SET_VISIBILITY = """(state) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => state === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
}"""


@pytest_asyncio.fixture(scope="module")
async def sink_url(live_stack: LiveStack) -> AsyncIterator[str]:
    """The local sink and the delivery process sending to it, with the test township's robot."""
    async with running_sink(live_stack) as url, running_delivery(live_stack, url, TOWNSHIP):
        yield url


async def sink_calls(sink_url: str, text: str) -> dict[str, list[dict[str, Any]]] | None:
    """The SMS and robot calls the sink took whose text names `text`, once there is one of each."""
    async with httpx.AsyncClient(base_url=sink_url, timeout=5) as client:
        calls = (await client.get("/api/messages")).json()
    taken = [c for c in calls if c["accepted"] and text in str(c["body"])]
    found = {channel: [c for c in taken if c["channel"] == channel] for channel in ("sms", "webhook")}
    return found if all(found.values()) else None


async def test_a_dispatch_that_arrives_in_the_background_is_in_the_inbox_and_reaches_the_sink(
    contexts: Contexts,
    open_page: Opener,
    sign_in: SignIn,
    http: httpx.AsyncClient,
    db: asyncpg.Pool,
    sink_url: str,
) -> None:
    officer = (await people(http, "officer"))[0]
    phone = await contexts("phone")
    await sign_in(phone, await account_for(db, officer["id"]))
    page = await open_page(phone, "/m/officer")
    await page.locator(".inbox-button").wait_for()
    assert await page.locator(".inbox-label").text_content() == "消息"
    before = int(await page.evaluate("() => document.body.dataset.unread"))

    # The officer switches away: the page is hidden and the phone suspends its websocket.
    await page.evaluate(SET_VISIBILITY, "hidden")
    await page.evaluate("() => window.__app.live.stop()")
    text = f"夜间占道-{uuid.uuid4().hex[:6]}"
    case_id = await post_lead(http, db, 4, text)
    notice_id = await wait_for(
        lambda: db.fetchval(
            "SELECT id FROM notices WHERE case_id = $1 AND person_id = $2 AND kind = 'dispatched'",
            case_id,
            officer["id"],
        ),
        "the officer's notice",
    )
    calls = await wait_for(lambda: sink_calls(sink_url, text), "an SMS and a robot call at the sink", within=30)
    assert officer["phone"] in [c["body"]["phone"] for c in calls["sms"]]
    assert [c["target"] for c in calls["webhook"]] == [TOWNSHIP]
    assert calls["webhook"][0]["body"]["msgtype"] == "text"
    assert await page.locator(f".inbox-item[data-notice-id='{notice_id}']").count() == 0

    # The officer looks again: the inbox has caught up and the badge counts the dispatch (the websocket resumes
    # afterwards, as on a phone).
    await page.evaluate(SET_VISIBILITY, "visible")
    await page.wait_for_function(f"() => Number(document.body.dataset.unread) === {before + 1}", timeout=10_000)
    assert await page.locator(".inbox-badge").text_content() == str(before + 1)
    await page.locator(".inbox-button").click()
    item = page.locator(f".inbox-item.unread[data-notice-id='{notice_id}']")
    await item.wait_for(timeout=5_000)
    assert text in (await item.text_content() or "") and "派遣" in (await item.text_content() or "")
    await screenshot(page, "officer-inbox")
    await page.evaluate("() => window.__app.live.start()")

    # English on the switch, then opening the notice marks it read and opens the case.
    await page.locator(".lang-switch").click()
    assert await page.locator(".inbox-label").text_content() == "Inbox"
    assert "New dispatch" in (await item.text_content() or "")
    await item.click()
    await wait_for(
        lambda: db.fetchval("SELECT read_at IS NOT NULL FROM notices WHERE id = $1", notice_id), "the notice read"
    )
    await page.wait_for_function(f"() => Number(document.body.dataset.unread) === {before}", timeout=5_000)
    await page.locator(f"[data-case-id='{case_id}'].expanded").wait_for(timeout=5_000)


async def test_a_return_arrives_live_in_the_command_centres_inbox_and_opens_the_case(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    dispatcher = (await people(http, "dispatcher"))[0]
    desk = await contexts("desk")
    await sign_in(desk, await account_for(db, dispatcher["id"]))
    centre = await open_page(desk, "/")
    before = int(await centre.evaluate("() => document.body.dataset.unread"))
    text = f"门前堆物-{uuid.uuid4().hex[:6]}"
    case_id = await post_lead(http, db, 5, text)
    officer = await as_person(db, (await people(http, "officer"))[0]["id"])
    returned = await http.post(
        f"/api/v1/cases/{case_id}/commands", json={"kind": "return", "reason": "非执法事项"}, headers=officer
    )
    assert returned.status_code == 200, returned.text
    await centre.wait_for_function(f"() => Number(document.body.dataset.unread) === {before + 1}", timeout=10_000)
    await centre.locator(".inbox-button").click()
    item = centre.locator(f".inbox-item.unread[data-case-id='{case_id}'][data-kind='returned']")
    await item.wait_for(timeout=5_000)
    assert "非执法事项" in (await item.text_content() or "") and "退回" in (await item.text_content() or "")
    await item.click()
    await centre.locator(f".drawer[data-case-id='{case_id}']").wait_for(timeout=10_000)
    await centre.wait_for_function(f"() => Number(document.body.dataset.unread) === {before}", timeout=5_000)
