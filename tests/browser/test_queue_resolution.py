"""Resolving the queues from the command centre's panel in Chromium: an unrouted event (posted outside every grid) is
dismissed with a note and leaves the list for the resolved history; a retried one is published again (and, still
without a route, comes back); a dead letter that cannot be replayed says so in words."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import SignIn, screenshot
from tests.browser.test_command_centre import event_body
from tests.integration.conftest import topic_name
from tests.integration.harness import LiveStack, wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]


async def post_outside_every_grid(http: httpx.AsyncClient, db: asyncpg.Pool, lon: float, text: str) -> str:
    """An event far outside the county (posted as the administrator), once it waits in the unrouted queue."""
    body = event_body("incident", "gm-test", lon, 31.0, text, category="environment")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    await wait_for(
        lambda: db.fetchval("SELECT true FROM unrouted_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the event in the unrouted queue",
    )
    return str(body["event_id"])


async def open_unrouted_tab(contexts: Contexts, open_page: Opener, sign_in: SignIn) -> Page:
    desk = await contexts("desk")
    await sign_in(desk, "admin")  # the whole deployment: events outside the county too
    page = await open_page(desk, "/")
    await page.click(".tab[data-tab=unrouted]")
    return page


async def test_an_unrouted_event_is_dismissed_with_a_note_and_leaves_the_list(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    page = await open_unrouted_tab(contexts, open_page, sign_in)
    text = f"省外垃圾-{uuid.uuid4().hex[:6]}"
    event_id = await post_outside_every_grid(http, db, 121.3, text)
    item = page.locator(f".unrouted-list .unrouted-item[data-event-id='{event_id}']")
    await item.wait_for(timeout=5_000)  # live: the queue message reloads the list
    assert text in (await item.text_content() or "")

    # Shown on the map: a popup at its location, and a rendered feature of the unrouted layer there.
    await item.locator("button.show-on-map").click()
    await page.locator(f".popup[data-event-id='{event_id}']").wait_for(timeout=5_000)
    await page.wait_for_function(
        """(id) => window.__app.map.queryRenderedFeatures({ layers: ['unrouted-circle'] })
            .some((f) => f.properties.event_id === id)""",
        arg=event_id,
        timeout=10_000,
    )

    await item.locator("button.dismiss").click()
    dialog = page.locator("dialog.note-dialog[data-action='dismiss']")
    await dialog.wait_for()
    # A dismissal needs a note: said in words, nothing sent.
    await dialog.locator("button.confirm").click()
    assert "必填" in (await dialog.locator(".dialog-error").text_content() or "")
    assert await db.fetchval("SELECT resolved_at FROM unrouted_events WHERE event_id = $1", uuid.UUID(event_id)) is None
    note = "外省事件，已转12345热线"
    await dialog.locator("textarea[name=note]").fill(note)
    await screenshot(page, "command-centre-dismiss-unrouted")
    await dialog.locator("button.confirm").click()
    await dialog.wait_for(state="detached")
    await item.wait_for(state="detached", timeout=5_000)
    row = await db.fetchrow("SELECT * FROM unrouted_events WHERE event_id = $1", uuid.UUID(event_id))
    assert (row["resolution"], row["resolved_by"], row["note"]) == ("dismissed", "admin", note)
    # The resolved history below says who, how and why.
    done = page.locator(f".resolved-list [data-event-id='{event_id}'][data-resolution='dismissed']")
    await done.wait_for(timeout=5_000)
    assert note in (await done.text_content() or "")
    assert "admin" in (await done.text_content() or "")
    await screenshot(page, "command-centre-unrouted-resolved")


async def test_a_retried_unrouted_event_is_published_again(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    page = await open_unrouted_tab(contexts, open_page, sign_in)
    event_id = await post_outside_every_grid(http, db, 121.4, f"省外积水-{uuid.uuid4().hex[:6]}")
    first: datetime = await db.fetchval(
        "SELECT received_at FROM unrouted_events WHERE event_id = $1", uuid.UUID(event_id)
    )
    item = page.locator(f".unrouted-list .unrouted-item[data-event-id='{event_id}']")
    await item.wait_for(timeout=5_000)
    await item.locator("button.retry").click()
    dialog = page.locator("dialog.note-dialog[data-action='retry']")
    await dialog.locator("textarea[name=note]").fill("已补充网格边界")
    await dialog.locator("button.confirm").click()
    await dialog.wait_for(state="detached")

    # Published again: the processors route it afresh; still outside every grid, it is back in the queue
    # (received again), and the list shows it again, live.
    async def back() -> datetime | None:
        row = await db.fetchrow(
            "SELECT received_at, resolved_at FROM unrouted_events WHERE event_id = $1", uuid.UUID(event_id)
        )
        return row["received_at"] if row and row["resolved_at"] is None and row["received_at"] > first else None

    await wait_for(back, "the retried event back in the queue")
    await item.wait_for(timeout=10_000)


async def test_a_dead_letter_that_cannot_be_replayed_says_so_in_words(
    live_stack: LiveStack,
    contexts: Contexts,
    open_page: Opener,
    sign_in: SignIn,
    db: asyncpg.Pool,
) -> None:
    letter_id = await db.fetchval(
        'INSERT INTO dead_letters (source_topic, "partition", "offset", key, reason, raw, received_at)'
        " VALUES ($1, 0, $2, 'binary', 'not JSON', $3, now()) RETURNING id",
        topic_name(live_stack, "grid.events"),
        -int(uuid.uuid4().int % 1_000_000_000),
        "\ufffd\ufffdgarbage",
    )
    desk = await contexts("desk")
    await sign_in(desk, "admin")
    page = await open_page(desk, "/")
    await page.click(".tab[data-tab=deadletter]")  # opening the tab reads the queue afresh
    item = page.locator(f".dead-list [data-dead-id='{letter_id}']")
    await item.wait_for(timeout=5_000)
    await item.locator("button.replay").click()
    dialog = page.locator("dialog.note-dialog[data-action='replay']")
    await dialog.locator("button.confirm").click()
    error = dialog.locator(".dialog-error")
    await page.wait_for_function("(e) => e.textContent.includes('无法重放')", arg=await error.element_handle())
    await screenshot(page, "command-centre-dead-letter-refused")
    await dialog.locator("button.cancel").click()
    assert await db.fetchval("SELECT resolved_at FROM dead_letters WHERE id = $1", letter_id) is None
    # Dismissed with a note instead.
    await item.locator("button.dismiss").click()
    dialog = page.locator("dialog.note-dialog[data-action='dismiss']")
    await dialog.locator("textarea[name=note]").fill("设备固件错误，已通知厂家")
    await dialog.locator("button.confirm").click()
    await item.wait_for(state="detached", timeout=5_000)
    await page.locator(f".resolved-list [data-dead-id='{letter_id}'][data-resolution='dismissed']").wait_for()
