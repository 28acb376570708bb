"""Signing in on the three pages: the form (Chinese first, the reasons a sign-in fails, the language switch), a role
the page is not for, signing out, tokens refreshed on a 401 and on the live channel's 4401, and scoping: a
dispatcher of another township does not see the first township's cases."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from playwright.async_api import BrowserContext, Page

from core.vocabulary import Role
from dispatch.access.tokens import TokenIssuer
from dispatch.access.users import User
from tests.browser.conftest import (
    SignIn,
    account_for,
    api_sign_in,
    grid_point,
    people,
    replace_stored_tokens,
    screenshot,
    stored_tokens,
)
from tests.browser.test_command_centre import event_body
from tests.integration.harness import wait_for

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]

# page, demo account, screenshot name, what the page shows once signed in
FORM_PAGES = [
    ("/", "dispatcher", "command-centre", ".case-list"),
    ("/m/worker", "worker", "worker", ".report-form"),
    ("/m/officer", "officer", "officer", ".group-waiting"),
]


@pytest.mark.parametrize(("path", "username", "name", "content"), FORM_PAGES, ids=[p[2] for p in FORM_PAGES])
async def test_signing_in_through_the_form(
    contexts: Contexts, open_page: Opener, path: str, username: str, name: str, content: str
) -> None:
    context = await contexts("phone" if path.startswith("/m/") else "desk")
    page = await open_page(context, path, ready=False)
    form = page.locator("form.signin")
    await form.wait_for(timeout=15_000)
    assert await page.get_attribute("body", "data-ready") is None
    assert await page.locator(content).count() == 0  # nothing of the page before the sign-in
    # Chinese first.
    assert "登录" in (await form.locator(".signin-title").text_content() or "")
    assert await form.locator(".field-label").all_text_contents() == ["用户名", "密码"]
    assert await form.locator("button[type=submit]").text_content() == "登录"
    switch = form.locator("button.lang-switch")
    assert await switch.is_visible()

    # A wrong password says so, and in English after the switch.
    await form.locator("input[name=username]").fill(username)
    await form.locator("input[name=password]").fill("not-the-password")
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/token")) as answer:
        await form.locator("button[type=submit]").click()
    assert (await answer.value).status == 401
    error = form.locator(".signin-error")
    await page.wait_for_function("() => document.querySelector('.signin-error').textContent !== ''")
    assert await error.text_content() == "用户名或密码错误"
    assert await form.get_attribute("data-status") == "401"
    await screenshot(page, f"{name}-signin-error")
    await switch.click()
    assert await form.locator(".field-label").all_text_contents() == ["Username", "Password"]
    assert await error.text_content() == "Wrong username or password"
    assert await form.locator("button[type=submit]").text_content() == "Sign in"
    await switch.click()
    assert await error.text_content() == "用户名或密码错误"

    # The right password opens the page, live, with a sign-out button in the header.
    await form.locator("input[name=password]").fill("grid-demo")
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    await page.wait_for_selector("body[data-ws='open']", state="attached", timeout=15_000)
    assert await form.count() == 0
    assert await page.locator(content).count() > 0
    assert await page.text_content("header button.sign-out") == "退出登录"
    assert await page.evaluate("() => window.__app.user.username") == username
    held = await stored_tokens(page)
    assert held is not None and held["user"]["username"] == username
    await screenshot(page, f"{name}-signed-in")


async def test_repeated_wrong_passwords_and_a_missing_password_are_explained(
    contexts: Contexts, open_page: Opener, db: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    # An account of its own, so that slowing it (from this address) disturbs no other test.
    member = (await people(http, "grid_member"))[11]
    username = await account_for(db, member["id"])
    page = await open_page(await contexts("phone"), "/m/worker", ready=False)
    form = page.locator("form.signin")
    await form.wait_for(timeout=15_000)
    await form.locator("input[name=username]").fill(username)
    await form.locator("button[type=submit]").click()
    assert await form.locator(".signin-error").text_content() == "请输入用户名和密码"
    for _ in range(6):  # after five failures this name waits, from this address only
        await form.locator("input[name=password]").fill("wrong-password")
        async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/token")):
            await form.locator("button[type=submit]").click()
        await page.wait_for_function("() => !document.querySelector('.signin-submit').disabled")
    assert await form.get_attribute("data-status") == "429"
    text = await form.locator(".signin-error").text_content() or ""
    assert "尝试过于频繁" in text and "秒后再试" in text, text
    await screenshot(page, "worker-signin-throttled")


async def test_a_page_for_another_role_says_so_and_offers_another_sign_in(
    contexts: Contexts, open_page: Opener, sign_in: SignIn
) -> None:
    context = await contexts("desk")
    await sign_in(context, "worker")
    page = await open_page(context, "/", ready=False)
    box = page.locator(".wrong-role")
    await box.wait_for(timeout=15_000)
    assert "worker" in (await box.locator(".wrong-role-who").text_content() or "")
    assert "网格员" in (await box.locator(".wrong-role-who").text_content() or "")
    assert "调度员" in (await box.locator(".wrong-role-for").text_content() or "")
    assert await box.locator("a.own-page").get_attribute("href") == "/m/worker"
    assert await page.get_attribute("body", "data-ready") is None
    await screenshot(page, "command-centre-wrong-role")
    await box.locator("button.switch-account").click()
    form = page.locator("form.signin")
    await form.wait_for()
    assert await stored_tokens(page) is None
    await form.locator("input[name=username]").fill("leader")
    await form.locator("input[name=password]").fill("grid-demo")
    await form.locator("button[type=submit]").click()
    await page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)
    assert await page.evaluate("() => window.__app.user.role") == "township_leader"


async def test_signing_out_revokes_the_session_and_shows_the_form(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, site: str
) -> None:
    context = await contexts("phone")
    await sign_in(context, "officer2")
    page = await open_page(context, "/m/officer")
    held = await stored_tokens(page)
    assert held is not None
    async with page.expect_response(lambda r: r.url.endswith("/api/v1/auth/logout")) as answer:
        await page.click("header button.sign-out")
    assert (await answer.value).status == 204
    form = page.locator("form.signin")
    await form.wait_for()
    assert await form.locator(".signin-note").text_content() == "已退出登录"
    assert await form.locator("input[name=username]").input_value() == "officer2"
    assert await stored_tokens(page) is None
    await page.wait_for_selector("body[data-ws='closed']", state="attached")
    async with httpx.AsyncClient(base_url=site) as client:
        refused = await client.post("/api/v1/auth/refresh", json={"refresh_token": held["refresh_token"]})
    assert refused.status_code == 401, refused.text
    await screenshot(page, "officer-signed-out")

    # Signing in again (the same person) carries on where the page was.
    await form.locator("input[name=password]").fill("grid-demo")
    await form.locator("button[type=submit]").click()
    await form.wait_for(state="detached")
    await page.wait_for_selector("body[data-ws='open']", state="attached", timeout=15_000)


async def test_a_refused_token_is_refreshed_for_the_live_channel_and_once_for_concurrent_api_calls(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[10]
    phone = await contexts("phone")
    tokens = await sign_in(phone, await account_for(db, member["id"]))
    page = await open_page(phone, "/m/worker")
    refreshes: list[int] = []
    page.on("response", lambda r: refreshes.append(r.status) if r.url.endswith("/api/v1/auth/refresh") else None)
    # A token the page cannot tell from a good one (not expired), which the server refuses: signed with another key.
    user = tokens["user"]
    who = User(user["username"], Role(user["role"]), user["unit_code"], user["person_id"], user["team_id"])

    def forged() -> str:
        return TokenIssuer("not-the-server-secret-0000000000000000", timedelta(minutes=10)).issue(
            who, datetime.now(UTC)
        )

    # The live channel reconnects with it: the server closes with 4401, the page refreshes and reconnects.
    await replace_stored_tokens(page, access_token=forged())
    before = await page.evaluate("() => window.__app.session.refreshes")
    await page.evaluate("() => window.__app.live.drop()")
    await page.wait_for_selector("body[data-ws='closed']", state="attached")
    await page.wait_for_selector("body[data-ws='open']", state="attached", timeout=15_000)
    assert refreshes == [200], refreshes
    assert await page.evaluate("() => window.__app.session.refreshes") == before + 1

    # Two API calls at once get a 401 each: one refresh, and both are sent again and answered.
    bad = forged()
    await replace_stored_tokens(page, access_token=bad)
    async with (
        page.expect_response(lambda r: "/api/v1/reports" in r.url and r.status == 200) as reports,
        page.expect_response(lambda r: "/api/v1/cases?" in r.url and r.status == 200) as grid_cases,
    ):
        await page.click(".nav-item[data-view=mine]")
        await page.click(".nav-item[data-view=grid]")
    await reports.value
    await grid_cases.value
    await page.wait_for_timeout(300)
    assert refreshes == [200, 200], refreshes
    held = await stored_tokens(page)
    assert held is not None and held["access_token"] != bad

    # The reconnected channel is live: a report of the member's grid arrives.
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    body = event_body("incident", member["id"], lon, lat, f"树木倒伏-{uuid.uuid4().hex[:6]}", category="safety")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the case of the report",
    )
    await page.locator(f".view-grid [data-case-id='{case_id}']").wait_for(timeout=10_000)


async def test_a_dispatcher_of_another_township_does_not_see_the_first_townships_cases(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool, site: str
) -> None:
    first = (await api_sign_in(site, "dispatcher"))["user"]
    other = (await api_sign_in(site, "dispatcher-b"))["user"]
    town = first["unit_code"][:9]
    assert other["unit_code"][:9] != town
    member = (await people(http, "grid_member", unit=town))[0]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])

    async def report(text: str) -> uuid.UUID:
        body = event_body("incident", member["id"], lon, lat, text, category="environment")
        assert (await http.post("/api/v1/events", json=body)).status_code == 202
        case_id: uuid.UUID = await wait_for(
            lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
            "the case of the report",
        )
        return case_id

    text = f"垃圾乱倒-{uuid.uuid4().hex[:6]}"
    before = await report(text)
    desk_a = await contexts("desk")
    await sign_in(desk_a, "dispatcher")
    page_a = await open_page(desk_a, "/")
    desk_b = await contexts("desk")
    await sign_in(desk_b, "dispatcher-b")
    page_b = await open_page(desk_b, "/")
    # One more while both watch: it arrives live on the first township's page only.
    during = await report(f"{text}-2")

    for case_id in (before, during):
        await page_a.locator(f".case-list [data-case-id='{case_id}']").wait_for(timeout=5_000)
    assert {str(before), str(during)} <= set(await map_case_ids(page_a))
    await screenshot(page_a, "command-centre-township-a")

    # The other township's dispatcher: neither in the list nor on the map, not even when searched for.
    async with page_b.expect_response(lambda r: "/api/v1/cases?" in r.url and "q=" in r.url) as found:
        await page_b.fill(".filters input[name=q]", text)
    assert (await (await found.value).json()) == []
    await page_b.wait_for_timeout(1_000)
    for case_id in (before, during):
        assert await page_b.locator(f".case-list [data-case-id='{case_id}']").count() == 0
        assert not await page_b.evaluate("(id) => window.__app.cases.has(id)", str(case_id))
    shown = set(await map_case_ids(page_b))
    assert str(before) not in shown and str(during) not in shown
    grid_towns = await page_b.evaluate(
        """async () => {
            const grids = await window.__app.map.getSource('grids').getData();
            return [...new Set(grids.features.map((f) => f.properties.township_code))];
        }"""
    )
    assert grid_towns == [other["unit_code"][:9]]
    await screenshot(page_b, "command-centre-township-b")


async def map_case_ids(page: Page) -> list[str]:
    """The case ids on the command centre's map (its `cases` source)."""
    ids: list[str] = await page.evaluate(
        """async () => {
            const source = window.__app.map.getSource('cases');
            if (!source) return [];
            const data = await source.getData();
            return data.features.map((f) => f.properties.id);
        }"""
    )
    return ids
