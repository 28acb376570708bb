"""The two phone pages in Chromium: a dispatch reaches the officer live and is accepted, returned or taken through
an enforcement stage with evidence; the worker's offline queue sends each report exactly once, also when the access
token expired while offline (refreshed first) and when the refresh is refused (sent after signing in again)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Locator, Page, Request, Response

from tests.browser.conftest import (
    TOWNSHIP,
    SignIn,
    account_for,
    expired_access_token,
    grid_point,
    people,
    replace_stored_tokens,
    screenshot,
    stored_tokens,
)
from tests.browser.test_command_centre import event_body
from tests.integration.harness import wait_for
from tests.media_samples import PDF, png

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]
TEAM = f"enf-{TOWNSHIP}"


async def post_lead(http: httpx.AsyncClient, db: asyncpg.Pool, grid_index: int, text: str) -> uuid.UUID:
    """An enforcement lead in the test township (routed to its enforcement team); returns its case id."""
    member = (await people(http, "grid_member"))[grid_index]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    body = event_body(
        "enforcement_lead", member["id"], lon, lat, text, category="illegal_construction", severity="high"
    )
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id: uuid.UUID = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the lead's case",
    )
    return case_id


async def case_state(db: asyncpg.Pool, case_id: uuid.UUID) -> str:
    state: str = await db.fetchval("SELECT state FROM cases WHERE id = $1", case_id)
    return state


async def test_a_dispatch_reaches_the_officer_live_and_is_accepted(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    officer = (await people(http, "officer"))[0]
    phone = await contexts("phone")
    await sign_in(phone, await account_for(db, officer["id"]))
    page = await open_page(phone, "/m/officer")
    cues_before = await page.evaluate("() => window.__app.cues()")

    text = f"河道旁违建-{uuid.uuid4().hex[:6]}"
    case_id = await post_lead(http, db, 3, text)
    card = page.locator(f".group-waiting [data-case-id='{case_id}']")
    await card.wait_for(timeout=5_000)
    assert text in (await card.text_content() or "")
    assert await page.evaluate("() => window.__app.cues()") == cues_before + 1
    assert await page.locator(f".banner[data-case-id='{case_id}']").is_visible()
    await screenshot(page, "officer-dispatch")

    await card.locator("button.accept").click()
    await wait_for(lambda: _is(db, case_id, "accepted"), "the case to be accepted")
    await page.locator(f".group-working [data-case-id='{case_id}'][data-state='accepted']").wait_for(timeout=5_000)


async def test_the_officer_returns_a_dispatch_with_a_reason(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    officer = (await people(http, "officer"))[1]
    phone = await contexts("phone")
    await sign_in(phone, await account_for(db, officer["id"]))
    page = await open_page(phone, "/m/officer")
    case_id = await post_lead(http, db, 4, f"占道经营-{uuid.uuid4().hex[:6]}")
    card = page.locator(f"article[data-case-id='{case_id}']")
    await card.wait_for(timeout=5_000)
    await card.locator("button.return-open").click()
    await card.locator(".form-return input[name=reason]").fill("不属于本队职责，应由市场监管所处理")
    await card.locator(".form-return button[type=submit]").click()
    await wait_for(lambda: _is(db, case_id, "returned"), "the case to be returned")
    reason = await db.fetchval(
        "SELECT payload->>'reason' FROM case_log WHERE case_id = $1 AND kind = 'returned'", case_id
    )
    assert reason == "不属于本队职责，应由市场监管所处理"


async def test_the_officer_records_an_enforcement_stage_with_evidence_and_officers(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    officers = await people(http, "officer")
    me = next(o for o in officers if o.get("team_id") == TEAM)
    mate = next(o for o in officers if o.get("team_id") == TEAM and o["id"] != me["id"])
    phone = await contexts("phone")
    await sign_in(phone, await account_for(db, me["id"]))
    page = await open_page(phone, "/m/officer")
    case_id = await post_lead(http, db, 5, f"私搭乱建-{uuid.uuid4().hex[:6]}")
    card = page.locator(f"article[data-case-id='{case_id}']")
    await card.wait_for(timeout=5_000)
    await card.locator("button.accept").click()
    await wait_for(lambda: _is(db, case_id, "accepted"), "accepted")

    card = page.locator(f"article[data-case-id='{case_id}'][data-state='accepted']")
    await open_panel(card)
    await card.locator(".form-verify input[name=finding]").fill("现场核实：新建彩钢棚约40平方米")
    await card.locator(".form-verify button[type=submit]").click()
    await wait_for(lambda: _is(db, case_id, "verified"), "verified")
    card = page.locator(f"article[data-case-id='{case_id}'][data-state='verified']")
    await open_panel(card)
    await card.locator("button.start").click()
    await wait_for(lambda: _is(db, case_id, "in_progress"), "in progress")

    card = page.locator(f"article[data-case-id='{case_id}'][data-state='in_progress']")
    await open_panel(card)
    form = card.locator(".form-stage[data-stage='file']")
    await form.locator(f"input[name=officer][value='{mate['id']}']").check()
    await form.locator("input[name=evidence]").set_input_files(
        files=[
            {"name": "立案审批表.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "现场.png", "mimeType": "image/png", "buffer": png(5, 5, str(case_id))},
        ]
    )
    await form.locator(".evidence-list [data-sha256]").nth(1).wait_for(timeout=5_000)
    await form.locator("input[name=note]").fill("立案")
    await screenshot(page, "officer-stage")
    await form.locator("button[type=submit]").click()
    row = await wait_for(
        lambda: db.fetchrow("SELECT payload FROM case_log WHERE case_id = $1 AND kind = 'stage'", case_id),
        "the file stage in the log",
    )
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    assert payload["stage"] == "file"
    assert sorted(payload["officers"]) == sorted([me["id"], mate["id"]])
    assert {e["kind"] for e in payload["evidence"]} == {"document", "photo"}
    next_stage = page.locator(f"article[data-case-id='{case_id}'] .form-stage[data-stage='investigate']")
    await next_stage.wait_for(timeout=5_000)


async def test_the_offline_queue_sends_each_report_once_when_the_network_returns(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """Queued offline, while the access token expires; back online, the page refreshes the token first and sends the
    report exactly once."""
    member = (await people(http, "grid_member"))[6]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    tokens = await sign_in(phone, await account_for(db, member["id"]))
    page = await open_page(phone, "/m/worker")
    await page.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])
    # In order: "refresh" for each refresh the server answered, "events:<body>" for each attempt to post an event.
    calls: list[str] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/events"):
            calls.append(f"events:{request.post_data or ''}")

    def answered(response: Response) -> None:
        if response.url.endswith("/api/v1/auth/refresh") and response.status == 200:
            calls.append("refresh")

    page.on("request", record)
    page.on("response", answered)

    await phone.set_offline(True)
    # The access token expires while the phone is offline.
    expired = expired_access_token(tokens["user"])
    await replace_stored_tokens(page, access_token=expired)
    token = f"路灯损坏-{uuid.uuid4().hex[:6]}"
    await page.select_option("select[name=category_major]", "14")
    await page.select_option("select[name=category]", "1403")
    await page.fill("textarea[name=description]", token)
    await page.set_input_files(
        "input[name=photos]", files=[{"name": "lamp.png", "mimeType": "image/png", "buffer": png(6, 6, token)}]
    )
    await page.click("button.submit")
    await page.wait_for_selector("body[data-outbox='1']", state="attached")
    event_id = await page.evaluate("() => window.__app.lastEventId()")
    await page.click(".nav-item[data-view=queue]")
    await page.wait_for_selector(f".queue-item[data-event-id='{event_id}']")
    await page.click("button.retry")  # a retry while offline changes nothing
    await page.wait_for_timeout(500)
    assert await page.get_attribute("body", "data-outbox") == "1"
    await screenshot(page, "worker-outbox-offline")
    assert await db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = $1", uuid.UUID(event_id)) == 0
    assert not [c for c in calls if c.startswith("events:")]

    await phone.set_offline(False)
    await page.wait_for_selector("body[data-outbox='0']", state="attached", timeout=15_000)
    await page.wait_for_selector(f".sent-item[data-event-id='{event_id}']")
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(event_id)),
        "the queued report's case",
    )
    await page.wait_for_timeout(1_000)  # time for any second send to show up
    assert await db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = $1", uuid.UUID(event_id)) == 1
    assert await db.fetchval("SELECT count(*) FROM case_events WHERE event_id = $1", uuid.UUID(event_id)) == 1
    sends = [i for i, c in enumerate(calls) if c.startswith("events:") and event_id in c]
    assert len(sends) == 1, calls
    # The expired token was refreshed (once, however many parts of the page needed it) before the report went.
    assert calls.index("refresh") < sends[0], calls
    assert calls.count("refresh") == 1, calls
    held = await stored_tokens(page)
    assert held is not None
    assert held["access_token"] != expired
    assert held["refresh_token"] != tokens["refresh_token"]
    assert token in (await db.fetchval("SELECT description FROM cases WHERE id = $1", case_id))
    assert await db.fetchval("SELECT category FROM cases WHERE id = $1", case_id) == "1403"
    await screenshot(page, "worker-outbox-sent")

    await page.click(".nav-item[data-view=mine]")
    await page.wait_for_selector(f".view-mine [data-case-id='{case_id}']", timeout=10_000)
    await page.click(".nav-item[data-view=grid]")
    await page.wait_for_selector(f".view-grid [data-case-id='{case_id}']", timeout=10_000)
    await screenshot(page, "worker-my-grid")


async def test_a_queued_report_waits_for_a_new_sign_in_when_the_refresh_is_refused(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """The session ends while the phone is offline (expired access token, refresh refused): the report stays queued
    and visible, the page asks for the password, and after the sign-in the report is sent, once."""
    member = (await people(http, "grid_member"))[9]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    username = await account_for(db, member["id"])
    tokens = await sign_in(phone, username)
    page = await open_page(phone, "/m/worker")
    await page.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])
    sent: list[str] = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data or "") if r.method == "POST" and r.url.endswith("/api/v1/events") else None,
    )

    await phone.set_offline(True)
    await replace_stored_tokens(
        page, access_token=expired_access_token(tokens["user"]), refresh_token=f"revoked-{uuid.uuid4().hex}"
    )
    await page.fill("textarea[name=description]", f"积水-{uuid.uuid4().hex[:6]}")
    await page.click("button.submit")
    await page.wait_for_selector("body[data-outbox='1']", state="attached")
    event_id = await page.evaluate("() => window.__app.lastEventId()")
    await page.click(".nav-item[data-view=queue]")

    await phone.set_offline(False)
    form = page.locator("form.signin")
    await form.wait_for(timeout=15_000)
    assert "登录已过期" in (await form.locator(".signin-note").text_content() or "")
    assert await form.locator("input[name=username]").input_value() == username
    # The form says what waits for it; the queue under it still holds the report.
    assert "1条上报" in (await form.locator(".signin-waiting").text_content() or "")
    item = page.locator(f".queue-item[data-event-id='{event_id}']")
    await item.wait_for(state="attached")
    assert await item.get_attribute("data-status") == "pending"
    await item.locator(".error", has_text="重新登录").wait_for(state="attached", timeout=5_000)
    assert await page.get_attribute("body", "data-outbox") == "1"
    assert not [b for b in sent if event_id in b]
    await screenshot(page, "worker-signin-again")

    await form.locator("input[name=password]").fill("grid-demo")
    await form.locator("button[type=submit]").click()
    await form.wait_for(state="detached")
    await page.wait_for_selector("body[data-outbox='0']", state="attached", timeout=15_000)
    await page.wait_for_selector(f".sent-item[data-event-id='{event_id}']")
    await page.wait_for_selector("body[data-ws='open']", state="attached", timeout=10_000)
    await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(event_id)),
        "the case of the report sent after signing in again",
    )
    await page.wait_for_timeout(500)
    assert await db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = $1", uuid.UUID(event_id)) == 1
    assert sum(event_id in b for b in sent) == 1, sent


async def test_a_report_queued_offline_survives_closing_the_page(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[7]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, member["id"]))
    page = await open_page(phone, "/m/worker")
    await page.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])
    await phone.set_offline(True)
    await page.fill("textarea[name=description]", f"巡查-{uuid.uuid4().hex[:6]}")
    await page.click(".segment:has(input[value=patrol])")
    await page.click("button.submit")
    await page.wait_for_selector("body[data-outbox='1']", state="attached")
    event_id = await page.evaluate("() => window.__app.lastEventId()")
    await page.close()

    await phone.set_offline(False)
    again = await open_page(phone, "/m/worker")  # sends what the outbox holds at start
    await again.wait_for_selector("body[data-outbox='0']", state="attached", timeout=15_000)
    await wait_for(
        lambda: db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = $1", uuid.UUID(event_id)),
        "the receipt of the queued patrol",
    )
    assert await db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = $1", uuid.UUID(event_id)) == 1


async def open_panel(card: Locator) -> None:
    """Open a case card's action panel unless it is open already."""
    await card.wait_for(timeout=5_000)
    if await card.locator(".case-panel").count() == 0:
        await card.locator("button.more").click()
    await card.locator(".case-panel").wait_for(timeout=5_000)


async def _is(db: asyncpg.Pool, case_id: uuid.UUID, state: str) -> bool:
    return await case_state(db, case_id) == state


async def test_the_grid_worker_accepts_verifies_and_submits_a_case_dispatched_to_them(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """A case in my grid dispatched to me (reported by someone else, so that I may verify it) is worked from the
    phone: accept, verify with the finding and a photo, start, submit the result with a photo; the step deadline
    is in view."""
    members = await people(http, "grid_member")
    me, reporter = members[26], members[27]
    lon, lat = await grid_point(http, me["posts"][0]["grid_code"])
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, me["id"]))
    page = await open_page(phone, "/m/worker")
    await page.click(".nav-item[data-view=grid]")

    text = f"垃圾桶破损-{uuid.uuid4().hex[:6]}"
    body = event_body("incident", reporter["id"], lon, lat, text, category="environment")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the case of the report",
    )
    assert await db.fetchval("SELECT assignee_id FROM cases WHERE id = $1", case_id) == me["id"]
    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='dispatched']")
    await card.wait_for(timeout=5_000)  # live
    assert text in (await card.text_content() or "")
    assert await card.locator(".step-due").count() == 1
    await card.locator("button.accept").click()
    await wait_for(lambda: _is(db, case_id, "accepted"), "the case to be accepted")

    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='accepted']")
    await open_panel(card)
    assert "本环节时限" in (await card.locator(".step-deadline").text_content() or "")
    assert await card.locator(".form-extension").count() == 1
    verify = card.locator(".form-verify")
    await verify.locator("input[name=finding]").fill("现场核实：垃圾桶盖损坏")
    await verify.locator("input[name=evidence]").set_input_files(
        files=[{"name": "核查.png", "mimeType": "image/png", "buffer": png(7, 5, f"verify-{case_id}")}]
    )
    await verify.locator(".evidence-list [data-sha256]").wait_for(timeout=5_000)
    await screenshot(page, "worker-verify")
    await verify.locator("button[type=submit]").click()
    await wait_for(lambda: _is(db, case_id, "verified"), "the case to be verified")

    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='verified']")
    await open_panel(card)
    await card.locator("button.start").click()
    await wait_for(lambda: _is(db, case_id, "in_progress"), "handling to start")

    card = page.locator(f".assigned-list article[data-case-id='{case_id}'][data-state='in_progress']")
    await open_panel(card)
    submit = card.locator(".form-submit")
    await submit.locator("input[name=summary]").fill("已更换新垃圾桶")
    # Without a photo the result is not sent: said in words.
    await submit.locator("button[type=submit]").click()
    assert "照片" in (await submit.locator(".error").text_content() or "")
    await submit.locator("input[name=evidence]").set_input_files(
        files=[{"name": "结果.png", "mimeType": "image/png", "buffer": png(6, 7, f"result-{case_id}")}]
    )
    await submit.locator(".evidence-list [data-sha256]").wait_for(timeout=5_000)
    await screenshot(page, "worker-submit")
    await submit.locator("button[type=submit]").click()
    await wait_for(lambda: _is(db, case_id, "submitted"), "the result to be submitted")
    # Submitted, it waits for the check: no longer among mine to act on, still in my grid.
    await page.locator(f".view-grid article[data-case-id='{case_id}'][data-state='submitted']").wait_for(timeout=5_000)
    assert await page.locator(f".assigned-list [data-case-id='{case_id}']").count() == 0

    log = await db.fetch("SELECT kind, actor_id, payload FROM case_log WHERE case_id = $1 ORDER BY seq", case_id)
    by_kind = {r["kind"]: r for r in log}
    for kind in ("accepted", "verified", "started", "submitted"):
        assert by_kind[kind]["actor_id"] == me["id"], kind
    verified = by_kind["verified"]["payload"]
    verified = json.loads(verified) if isinstance(verified, str) else verified
    assert verified["finding"] == "现场核实：垃圾桶盖损坏" and [e["kind"] for e in verified["evidence"]] == ["photo"]
    submitted = by_kind["submitted"]["payload"]
    submitted = json.loads(submitted) if isinstance(submitted, str) else submitted
    assert submitted["summary"] == "已更换新垃圾桶" and len(submitted["evidence"]) == 1
