"""Cameras and sensors on the real stack: the registry with derived grids and versions, scoped reads and writes,
and an alert storm of 1,000 alerts from one camera folding into one case with its count."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from core.cases import case_id_for_event
from dispatch.clock import local_day
from tests.integration.auth import gateway_headers
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, client_on, wait_for
from tests.integration.security.townships import two_townships
from tests.media_samples import MP4, png

pytestmark = pytest.mark.integration


def alert(
    device: str, lon: float, lat: float, at: datetime, media: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A camera's alert as its gateway posts it."""
    return {
        "event_id": str(uuid.uuid4()),
        "type": "sensor_alert",
        "occurred_at": at.isoformat(),
        "reported_at": at.isoformat(),
        "source": "sensor",
        "reporter": {"id": device},
        "device_id": device,
        "confidence": 0.93,
        "location": {"lon": lon, "lat": lat},
        "category": "fire",
        "severity": "high",
        "description": "烟火识别告警",
        "media": media or [],
    }


async def test_an_alert_storm_of_a_thousand_alerts_is_one_case_with_its_count(
    live_stack: LiveStack, db: asyncpg.Pool
) -> None:
    east, _ = await two_townships(db)
    start = datetime.now(UTC) - timedelta(minutes=2)
    async with client_on(live_stack, gateway_headers()) as gateway:
        snap = await gateway.post("/api/v1/media", content=png(note="snapshot"), headers={"Content-Type": "image/png"})
        clip = await gateway.post("/api/v1/media", content=MP4, headers={"Content-Type": "video/mp4"})
        assert snap.status_code == clip.status_code == 201, clip.text
        media = [{k: r.json()[k] for k in ("sha256", "content_type", "size")} for r in (snap, clip)]
        storm = [
            alert("cam-storm-1", east.lon, east.lat, start + timedelta(milliseconds=50 * i), media) for i in range(1000)
        ]
        answer = await gateway.post("/api/v1/events/batch", json=storm)
    assert answer.status_code == 200 and answer.json()["accepted"] == 1000, answer.text
    ids = [uuid.UUID(a["event_id"]) for a in storm]

    async def folded() -> list[asyncpg.Record] | None:
        held = await db.fetch(
            "SELECT case_id, count(*) FROM case_events WHERE event_id = ANY($1) GROUP BY case_id", ids
        )
        return held if sum(r["count"] for r in held) == 1000 else None

    (held,) = await wait_for(folded, "every alert of the storm in a case", within=120)
    case_id = held["case_id"]
    assert await db.fetchval("SELECT event_count FROM cases WHERE id = $1", case_id) == 1000
    assert await db.fetchval("SELECT count(*) FROM cases WHERE id = ANY($1)", [case_id_for_event(i) for i in ids]) == 1
    view = await _case(live_stack, east.dispatcher_headers, case_id)
    assert view["case"]["event_count"] == 1000
    kinds = [e["kind"] for e in view["log"]]
    assert kinds.count("attached") == 999
    opening = view["log"][0]["payload"]["source"]
    assert opening["device_id"] == "cam-storm-1"
    assert [m["content_type"] for m in opening["media"]] == ["image/png", "video/mp4"]


async def _case(stack: LiveStack, headers: dict[str, str], case_id: uuid.UUID) -> dict[str, Any]:
    async with client_on(stack, headers) as client:
        reply = await client.get(f"/api/v1/cases/{case_id}")
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def gridctl(stack: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "gridctl"), *args],
        env={**stack.env, "COLUMNS": "250"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_devices_are_registered_with_their_grid_and_read_within_the_area(
    live_stack: LiveStack, db: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    east, west = await two_townships(db)
    done = gridctl(
        live_stack,
        "devices",
        "add",
        "cam-gate-1",
        "--kind",
        "camera",
        "--name",
        "镇政府门口",
        "--lon",
        str(east.lon),
        "--lat",
        str(east.lat),
        "--unit",
        east.code,
        "--live-url",
        "rtsp://10.0.0.8/stream1",
    )
    assert done.returncode == 0, done.stderr
    async with (
        client_on(live_stack, east.dispatcher_headers) as mine,
        client_on(live_stack, west.dispatcher_headers) as theirs,
    ):
        (device,) = [d for d in (await mine.get("/api/v1/devices")).json() if d["id"] == "cam-gate-1"]
        assert device["grid_code"] == east.grid and device["live_url"] == "rtsp://10.0.0.8/stream1"
        assert "cam-gate-1" not in [d["id"] for d in (await theirs.get("/api/v1/devices")).json()]
        refused = await mine.put("/api/v1/devices/cam-x", json=_spec(east.code, east.lon, east.lat))
        assert refused.status_code == 403
    listing = gridctl(live_stack, "devices", "list", "--unit", east.code)
    assert "cam-gate-1" in listing.stderr + listing.stdout


async def test_a_moved_device_keeps_its_history_and_bad_input_names_the_field(
    live_stack: LiveStack, db: asyncpg.Pool, http: httpx.AsyncClient
) -> None:
    east, west = await two_townships(db)
    today = local_day(datetime.now(UTC))
    placed = await http.put("/api/v1/devices/sensor-river-1", json=_spec(east.code, east.lon, east.lat, today))
    assert placed.status_code == 200, placed.text
    moved = _spec(west.code, west.lon, west.lat, today + timedelta(days=3))
    assert (await http.put("/api/v1/devices/sensor-river-1", json=moved)).status_code == 200
    before = (await http.get("/api/v1/devices", params={"on": today.isoformat()})).json()
    after = (await http.get("/api/v1/devices", params={"on": (today + timedelta(days=3)).isoformat()})).json()
    assert [d["grid_code"] for d in before if d["id"] == "sensor-river-1"] == [east.grid]
    assert [d["grid_code"] for d in after if d["id"] == "sensor-river-1"] == [west.grid]
    stale = await http.put("/api/v1/devices/sensor-river-1", json=_spec(east.code, east.lon, east.lat, today))
    assert stale.status_code == 409
    bad_url = await http.put(
        "/api/v1/devices/cam-y", json={**_spec(east.code, east.lon, east.lat), "live_url": "ftp://x"}
    )
    assert bad_url.status_code == 422 and bad_url.json()["detail"][0]["loc"][-1] == "live_url"
    async with client_on(live_stack, gateway_headers()) as gateway:
        foreign = await gateway.put("/api/v1/devices/cam-z", json=_spec("510802001", east.lon, east.lat))
    assert foreign.status_code == 404 and foreign.json()["detail"][0]["loc"] == ["body", "unit_code"]
    assert (await http.delete("/api/v1/devices/sensor-river-1")).status_code == 204
    assert (await http.delete("/api/v1/devices/sensor-river-1")).status_code == 404


def _spec(unit: str, lon: float, lat: float, valid_from: date | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "sensor",
        "sensor_kind": "water_level",
        "name": "河道水位计",
        "location": {"lon": lon, "lat": lat},
        "unit_code": unit,
        "live_url": "https://video.example.cn/live/1.m3u8",
    }
    if valid_from is not None:
        body["valid_from"] = valid_from.isoformat()
    return body
