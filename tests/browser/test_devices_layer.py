"""Cameras and sensors in Chromium: a registered camera is drawn on the command centre's map, its popup shows the
live view's address, and the case its alerts fold into shows the device, the alert count and the snapshot."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from playwright.async_api import BrowserContext, Page

from tests.browser.conftest import TOWNSHIP, SignIn, grid_point, people, screenshot
from tests.browser.test_command_centre import dispatcher_of_the_township
from tests.integration.auth import gateway_headers
from tests.integration.harness import wait_for
from tests.media_samples import png

Contexts = Callable[..., Awaitable[BrowserContext]]
Opener = Callable[..., Awaitable[Page]]
LIVE = "https://video.example.cn/live/cam-browser-1.m3u8"
RENDERED = """([id, lon, lat]) => {
    const map = window.__app.map;
    map.jumpTo({ center: [lon, lat], zoom: 15 });
    return map.queryRenderedFeatures({ layers: ['devices-circle'] }).filter((f) => f.properties.id === id).length;
}"""


def alert(lon: float, lat: float, at: datetime, media: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "type": "sensor_alert",
        "occurred_at": at.isoformat(),
        "reported_at": at.isoformat(),
        "source": "sensor",
        "reporter": {"id": "cam-browser-1"},
        "device_id": "cam-browser-1",
        "location": {"lon": lon, "lat": lat},
        "category": "fire",
        "severity": "urgent",
        "description": "烟火识别告警：疑似明火",
        "media": media,
    }


async def test_a_camera_on_the_map_and_its_alerts_in_one_case(
    contexts: Contexts, open_page: Opener, sign_in: SignIn, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    grid = (await people(http, "grid_member"))[3]["posts"][0]["grid_code"]
    lon, lat = await grid_point(http, grid)
    camera = {
        "kind": "camera",
        "name": "镇政府门口监控",
        "location": {"lon": lon, "lat": lat},
        "unit_code": TOWNSHIP,
        "live_url": LIVE,
    }
    assert (await http.put("/api/v1/devices/cam-browser-1", json=camera)).status_code == 200
    start = datetime.now(UTC) - timedelta(minutes=1)
    async with httpx.AsyncClient(base_url=str(http.base_url), headers=gateway_headers()) as gateway:
        snap = await gateway.post("/api/v1/media", content=png(6, 4, "snap"), headers={"Content-Type": "image/png"})
        media = [{k: snap.json()[k] for k in ("sha256", "content_type", "size")}]
        storm = [alert(lon, lat, start + timedelta(seconds=i), media) for i in range(5)]
        assert (await gateway.post("/api/v1/events/batch", json=storm)).json()["accepted"] == 5
    ids = [uuid.UUID(a["event_id"]) for a in storm]

    async def folded() -> uuid.UUID | None:
        rows = await db.fetch("SELECT DISTINCT case_id FROM case_events WHERE event_id = ANY($1)", ids)
        count = await db.fetchval("SELECT count(*) FROM case_events WHERE event_id = ANY($1)", ids)
        return rows[0]["case_id"] if count == 5 and len(rows) == 1 else None

    case_id = await wait_for(folded, "the camera's five alerts in one case", within=30)

    desk = await contexts("desk")
    await sign_in(desk, await dispatcher_of_the_township(http, db))
    centre = await open_page(desk, "/")
    await centre.wait_for_function(RENDERED, arg=["cam-browser-1", lon, lat], timeout=15_000)
    await centre.evaluate("([lon, lat]) => window.__app.map.jumpTo({ center: [lon, lat], zoom: 15 })", [lon, lat])
    await centre.wait_for_function("() => window.__app.map.loaded()")
    point = await centre.evaluate("([lon, lat]) => window.__app.map.project([lon, lat])", [lon, lat])
    box = await centre.locator(".maplibregl-canvas").bounding_box()
    assert box is not None
    await centre.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = centre.locator(".device-popup[data-device-id='cam-browser-1']")
    await popup.wait_for(timeout=5_000)
    assert await popup.locator("[data-live-url]").get_attribute("href") == LIVE
    await screenshot(centre, "device-popup")

    await centre.evaluate("(id) => window.__app.openCase(id)", str(case_id))
    alerts = centre.locator(f".drawer[data-case-id='{case_id}'] .device-alerts[data-device-id='cam-browser-1']")
    await alerts.wait_for(timeout=10_000)
    assert "共告警 5 次" in (await alerts.locator(".alert-count").text_content() or "")
    assert await alerts.locator("[data-live-url]").get_attribute("data-live-url") == LIVE
    snapshot = centre.locator(f".drawer[data-case-id='{case_id}'] .case-photos img[data-sha256]").first
    await snapshot.wait_for(timeout=5_000)
    await screenshot(centre, "device-case")
