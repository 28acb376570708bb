"""The command centre in Chromium: the map renders the grids, a worker's report shows up live within two seconds
(its photo fetched with the bearer token), the case view acts through the API as the signed-in dispatcher, the
metrics view charts, and the language switch relabels the page."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import TOWNSHIP, SignIn, account_for, grid_point, people, screenshot
from tests.integration.auth import as_person
from tests.integration.harness import wait_for
from tests.media_samples import png

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]


def event_body(kind: str, reporter: str, lon: float, lat: float, description: str, **extra: Any) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "type": kind,
        "occurred_at": now,
        "reported_at": now,
        "source": "phone",
        "reporter": {"id": reporter},
        "location": {"lon": lon, "lat": lat},
        "description": description,
        **extra,
    }


async def dispatcher_of_the_township(http: httpx.AsyncClient, db: asyncpg.Pool) -> str:
    """The username of the test township's dispatcher."""
    return await account_for(db, (await people(http, "dispatcher"))[0]["id"])


async def test_the_map_renders_grid_and_township_features(
    contexts: Contexts, open_page: Opener, sign_in: SignIn
) -> None:
    context = await contexts("desk")
    await sign_in(context, "admin")  # the whole county
    page = await open_page(context, "/")
    rendered = await page.evaluate(
        """() => {
            const map = window.__app.map;
            const grids = map.queryRenderedFeatures({ layers: ['grids-fill'] });
            const towns = map.queryRenderedFeatures({ layers: ['townships-line'] });
            return { grids: new Set(grids.map((f) => f.properties.code)).size, towns: towns.length };
        }"""
    )
    assert rendered["grids"] > 100, rendered
    assert rendered["towns"] > 0, rendered
    # The administrator sees the dead letters too.
    assert await page.locator(".tab[data-tab=deadletter]").is_visible()
    await screenshot(page, "command-centre")


async def test_a_report_from_the_worker_page_appears_on_the_command_centre_within_two_seconds(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[0]
    grid = member["posts"][0]["grid_code"]
    lon, lat = await grid_point(http, grid)
    desk = await contexts("desk")
    await sign_in(desk, await dispatcher_of_the_township(http, db))
    centre = await open_page(desk, "/")
    phone = await contexts("phone", geolocation={"longitude": lon, "latitude": lat})
    await sign_in(phone, await account_for(db, member["id"]))
    worker = await open_page(phone, "/m/worker")
    await worker.evaluate("([lon, lat]) => window.__app.setPosition(lon, lat)", [lon, lat])

    token = f"村口垃圾堆放-{uuid.uuid4().hex[:8]}"
    await worker.select_option("select[name=category_major]", "01")
    await worker.select_option("select[name=category]", "0102")
    await worker.fill("textarea[name=description]", token)
    await worker.set_input_files(
        "input[name=photos]", files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png(8, 6, token)}]
    )
    await screenshot(worker, "worker-report")
    async with worker.expect_response(lambda r: r.url.endswith("/api/v1/events") and r.status == 202) as posted:
        await worker.click("button.submit")
    await posted.value
    started = time.monotonic()
    await centre.wait_for_function(
        """(token) => [...document.querySelectorAll('.case-list [data-case-id]')]
            .some((li) => li.textContent.includes(token))""",
        arg=token,
        timeout=2_000,
    )
    elapsed = time.monotonic() - started
    assert elapsed < 2.0, f"shown after {elapsed:.2f}s"
    # On the map too, as a case feature of the new case's id.
    event_id = await worker.evaluate("() => window.__app.lastEventId()")
    case_id = await db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(event_id))
    assert case_id is not None
    assert await db.fetchval("SELECT count(*) FROM media") >= 1
    await centre.evaluate("(id) => window.__app.openCase(id)", str(case_id))
    await centre.wait_for_selector(f".drawer[data-case-id='{case_id}'] .timeline li[data-kind='registered']")
    # The report's photo: fetched with the bearer header and shown through an object URL.
    photo = centre.locator(f".drawer[data-case-id='{case_id}'] .case-photos img[data-sha256]")
    await photo.wait_for(timeout=5_000)
    await centre.wait_for_function(
        "(img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth === 8",
        arg=await photo.element_handle(),
        timeout=5_000,
    )
    await screenshot(centre, "command-centre-case-view")


async def test_the_case_view_supervises_and_reassigns_through_the_api(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[1]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    body = event_body("incident", member["id"], lon, lat, f"道路塌陷-{uuid.uuid4().hex[:6]}", category="road")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the case of the report",
    )
    dispatcher = (await people(http, "dispatcher"))[0]["id"]
    desk = await contexts("desk")
    await sign_in(desk, await account_for(db, dispatcher))
    centre = await open_page(desk, "/")
    # Dead letters are the administrator's: a dispatcher's panel has no such tab.
    assert await centre.locator(".tab[data-tab=deadletter]").is_hidden()
    await centre.evaluate("(id) => window.__app.openCase(id)", str(case_id))
    drawer = centre.locator(f".drawer[data-case-id='{case_id}']")
    assert dispatcher in (await drawer.locator(".acting").text_content() or "")
    await drawer.locator("form[data-action=supervise] summary").click()
    await drawer.locator("form[data-action=supervise] input[name=reason]").fill("请尽快处理")
    await drawer.locator("form[data-action=supervise] button[type=submit]").click()
    await centre.wait_for_selector(f".drawer[data-case-id='{case_id}'] .timeline li[data-kind='supervised']")

    await drawer.locator("form[data-action=assign] summary").click()
    team = f"enf-{TOWNSHIP}"
    await drawer.locator("select[name=assignee]").select_option(team)
    await drawer.locator("form[data-action=assign] input[name=reason]").fill("需执法队处理")
    await drawer.locator("form[data-action=assign] button[type=submit]").click()
    await wait_for(
        lambda: db.fetchval("SELECT assignee_id = $2 FROM cases WHERE id = $1", case_id, team),
        "the case to be assigned to the team",
    )
    await centre.wait_for_selector(f".drawer[data-case-id='{case_id}'] .timeline li[data-kind='dispatched'] >> nth=1")
    actors = await db.fetch(
        "SELECT DISTINCT actor_id FROM case_log WHERE case_id = $1 AND kind = 'supervised'", case_id
    )
    assert [r["actor_id"] for r in actors] == [dispatcher]
    await screenshot(centre, "command-centre-actions")


async def test_the_metrics_view_charts_by_township(contexts: Contexts, open_page: Opener, sign_in: SignIn) -> None:
    context = await contexts("desk")
    await sign_in(context, "supervisor")
    page = await open_page(context, "/")
    await page.click("button.metrics-toggle")
    await page.wait_for_selector(".metrics-view[data-rows]")
    assert await page.locator(".metrics-view canvas").count() == 3
    await screenshot(page, "command-centre-metrics")


async def test_switching_language_switches_the_labels(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    context = await contexts("desk")
    await sign_in(context, "supervisor")
    page = await open_page(context, "/")
    assert await page.text_content("h1.title") == "镇村治理指挥调度中心"
    assert "案件" in (await page.text_content(".tab[data-tab=cases]") or "")
    await page.click("button.lang-switch")
    assert await page.text_content("h1.title") == "Township Command Centre"
    assert "Cases" in (await page.text_content(".tab[data-tab=cases]") or "")
    assert await page.get_attribute("html", "lang") == "en"
    await screenshot(page, "command-centre-en")

    assert await page.text_content("button.sign-out") == "Sign out"
    member = (await people(http, "grid_member"))[2]
    phone = await contexts("phone")
    await sign_in(phone, await account_for(db, member["id"]))
    worker = await open_page(phone, "/m/worker")
    assert await worker.text_content(".nav-item[data-view=report] .nav-label") == "上报"
    await worker.click("button.lang-switch")
    assert await worker.text_content(".nav-item[data-view=report] .nav-label") == "Report"
    assert await worker.text_content("button.submit") == "Send report"
    await screenshot(worker, "worker-en")


async def test_a_dropped_connection_shows_reconnects_and_catches_up_without_duplicates(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    member = (await people(http, "grid_member"))[8]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    desk = await contexts("desk")
    await sign_in(desk, await dispatcher_of_the_township(http, db))
    page = await open_page(desk, "/")
    body = event_body("incident", member["id"], lon, lat, f"井盖缺失-{uuid.uuid4().hex[:6]}", category="road")

    await page.evaluate("() => window.__app.live.drop()")
    await page.wait_for_selector("body[data-ws='closed']", state="attached")
    assert await page.get_attribute(".conn", "data-status") == "closed"
    await screenshot(page, "command-centre-disconnected")
    # The case opens while the page is disconnected; it comes with the snapshot after the reconnect.
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the case opened while disconnected",
    )
    await page.wait_for_selector("body[data-ws='open']", state="attached", timeout=10_000)
    item = page.locator(f".case-list [data-case-id='{case_id}']")
    await item.wait_for(timeout=5_000)
    assert await item.count() == 1
    shown = await page.evaluate("() => window.__app.shown()")
    assert len(shown) == len(set(shown))


async def upload_png(
    http: httpx.AsyncClient, width: int, height: int, text: str, who: dict[str, str] | None = None
) -> dict[str, Any]:
    """A stored photo (uploaded as `who`, else the administrator): {sha256, content_type, size} as an event's
    `media` names it."""
    data = png(width, height, text)
    stored = await http.post("/api/v1/media", content=data, headers={**(who or {}), "content-type": "image/png"})
    assert stored.status_code in (200, 201), stored.text
    return {"sha256": stored.json()["sha256"], "content_type": "image/png", "size": len(data)}


async def report_case(http: httpx.AsyncClient, db: asyncpg.Pool, body: dict[str, Any]) -> uuid.UUID:
    """Posts a report and waits for its case."""
    assert (await http.post("/api/v1/events", json=body)).status_code == 202, body
    case_id: uuid.UUID = await wait_for(
        lambda: db.fetchval("SELECT case_id FROM case_events WHERE event_id = $1", uuid.UUID(body["event_id"])),
        "the case of the report",
    )
    return case_id


async def command(http: httpx.AsyncClient, headers: dict[str, str], case_id: uuid.UUID, body: dict[str, Any]) -> None:
    """A command on a case as a person, applied."""
    done = await http.post(f"/api/v1/cases/{case_id}/commands", json=body, headers=headers)
    assert done.status_code == 200, done.text


async def test_the_case_view_shows_each_reporters_photos_labelled_by_report(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """A case opened from a report with a photo, and a second report (with its own photo) merged into it: the case
    view shows both photos, each under the report it came from."""
    members = await people(http, "grid_member")
    first, second = members[24], members[25]
    lon1, lat1 = await grid_point(http, first["posts"][0]["grid_code"])
    lon2, lat2 = await grid_point(http, second["posts"][0]["grid_code"])
    photo1 = await upload_png(http, 9, 7, f"first-{uuid.uuid4()}")
    photo2 = await upload_png(http, 5, 11, f"second-{uuid.uuid4()}")
    body1 = event_body("incident", first["id"], lon1, lat1, f"污水外溢-{uuid.uuid4().hex[:6]}", media=[photo1])
    body2 = event_body("incident", second["id"], lon2, lat2, f"污水外溢-{uuid.uuid4().hex[:6]}", media=[photo2])
    case1 = await report_case(http, db, body1)
    case2 = await report_case(http, db, body2)
    dispatcher = (await people(http, "dispatcher"))[0]["id"]
    merge = {"kind": "merge", "into": str(case1), "reason": "同一污水点"}
    await command(http, await as_person(db, dispatcher), case2, merge)
    await wait_for(
        lambda: db.fetchval("SELECT true FROM case_log WHERE case_id = $1 AND kind = 'attached'", case1),
        "the second report attached to the first case",
    )

    desk = await contexts("desk")
    await sign_in(desk, await account_for(db, dispatcher))
    centre = await open_page(desk, "/")
    await centre.evaluate("(id) => window.__app.openCase(id)", str(case1))
    drawer = f".drawer[data-case-id='{case1}']"
    await centre.wait_for_selector(f"{drawer} .timeline li[data-kind='attached']")
    for body, photo, first_report, size in ((body1, photo1, "1", (9, 7)), (body2, photo2, "0", (5, 11))):
        group = centre.locator(
            f"{drawer} .case-photos .report-media[data-event-id='{body['event_id']}'][data-first='{first_report}']"
        )
        await group.wait_for(timeout=5_000)
        label = await group.locator(".media-label").text_content() or ""
        assert ("首次上报" if first_report == "1" else "关联上报") in label, label
        img = group.locator(f"img[data-sha256='{photo['sha256']}']")
        await centre.wait_for_function(
            "([img, w, h]) => img.src.startsWith('blob:') && img.complete"
            " && img.naturalWidth === w && img.naturalHeight === h",
            arg=[await img.element_handle(), *size],
            timeout=5_000,
        )
    # The reporters' photos are apart from the evidence of the handling (none yet).
    assert await centre.locator(f"{drawer} .evidence-photos img").count() == 0
    await screenshot(centre, "command-centre-report-photos")


async def test_the_metrics_view_charts_the_rework_rate_over_time(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    """A case checked as failed once (through the API) shows in the rework chart: this week's 返工率 is the week's
    reworked cases over its checked cases, summed over the townships."""
    members = await people(http, "grid_member")
    member, reporter = members[22], members[23]
    lon, lat = await grid_point(http, member["posts"][0]["grid_code"])
    case_id = await report_case(
        http, db, event_body("incident", reporter["id"], lon, lat, f"路面破损-{uuid.uuid4().hex[:6]}", category="road")
    )
    me = await as_person(db, member["id"])
    dispatcher = await as_person(db, (await people(http, "dispatcher"))[0]["id"])
    photo = await upload_png(http, 4, 4, f"result-{case_id}", me)
    await command(http, me, case_id, {"kind": "accept"})
    await command(http, me, case_id, {"kind": "verify", "finding": "路面坑洞约1平方米", "evidence": []})
    await command(http, me, case_id, {"kind": "start", "note": ""})
    evidence = [{"sha256": photo["sha256"], "kind": "photo", "caption": "修补后"}]
    await command(http, me, case_id, {"kind": "submit", "summary": "已修补", "evidence": evidence})
    await command(http, dispatcher, case_id, {"kind": "check", "passed": False, "note": "修补不平整，请返工"})

    context = await contexts("desk")
    await sign_in(context, "supervisor")
    page = await open_page(context, "/")
    await page.click("button.metrics-toggle")
    await page.wait_for_selector(".metrics-view[data-rows]")
    series = await page.evaluate("() => window.__app.metrics()")
    assert len(series["rework"]) == 8 and len(series["extension"]) == 8
    week = series["periods"][-1]
    assert week["checked"] >= 1 and week["reworked"] >= 1, week
    assert series["rework"][-1] == round(week["reworked"] / week["checked"] * 1000) / 10
    assert series["rework"][-1] > 0
    # The chart draws it: the rework line's points of the canvas.
    drawn = await page.get_attribute(".metrics-view canvas.metrics-quality", "data-rework")
    assert drawn is not None and json.loads(drawn)[-1] == series["rework"][-1]
    await screenshot(page, "command-centre-metrics-rework")
