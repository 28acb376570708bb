"""A township's cameras and a noisy sensor for the living demo: registered through the device API, then posting
alerts through the batch door as their gateway would (the sensor every few seconds, folding into one case; the
cameras now and then, each alert with a snapshot)."""

from __future__ import annotations

import base64
import logging
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("simulator.devices")
SNAPSHOT = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAADklEQVR4nGNoQAIMODkAXzYSAY5zHKsAAAAASUVORK5CYII="
)
"""A 4×3 grey PNG: the camera's snapshot (the demo has no real video)."""
CAMERAS = (
    ("烟火识别", "fire", "urgent", "烟火识别告警：疑似明火"),
    ("占道识别", "public_order", "normal", "占道经营识别告警"),
)


class DeviceSimSettings(BaseSettings):
    """GRID_SIMULATOR_DEVICES and its pace."""

    model_config = SettingsConfigDict(env_prefix="GRID_SIMULATOR_")

    devices: bool = True
    """Register a few cameras and a noisy sensor in the township, and post their alerts."""
    sensor_every_seconds: float = 5.0
    camera_every_seconds: float = 240.0


def devices_in(grids: list[dict[str, Any]], points: list[tuple[float, float]]) -> list[tuple[str, dict[str, Any]]]:
    """Three cameras and one water-level sensor at points inside the first grids (id and registration body)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for n, (grid, (lon, lat)) in enumerate(zip(grids[:4], points[:4], strict=False)):
        props = grid["properties"]
        unit = props["township_code"]
        location = {"lon": round(lon, 6), "lat": round(lat, 6)}
        if n < 3:
            body = {"kind": "camera", "name": f"{props['name']}监控点{n + 1}", "location": location, "unit_code": unit}
            body["live_url"] = f"rtsp://127.0.0.1:8554/{props['code']}-{n + 1}"
            out.append((f"cam-{props['code']}-{n + 1}", body))
        else:
            body = {"kind": "sensor", "sensor_kind": "water_level", "name": f"{props['name']}水位计"}
            out.append((f"wl-{props['code']}", {**body, "location": location, "unit_code": unit}))
    return out


def alert(device: str, body: dict[str, Any], category: str, severity: str, text: str) -> dict[str, Any]:
    """One alert of a device, as its gateway posts it."""
    now = datetime.now(UTC).isoformat()
    return {
        "event_id": str(uuid.uuid4()),
        "type": "sensor_alert",
        "occurred_at": now,
        "reported_at": now,
        "source": "sensor",
        "reporter": {"id": device},
        "device_id": device,
        "confidence": 0.9,
        "location": body["location"],
        "category": category,
        "severity": severity,
        "description": text,
    }


def play_devices(url: str, auth: httpx.Auth, grids: list[dict[str, Any]], points: list[tuple[float, float]]) -> None:
    """Register the devices, then post their alerts until interrupted (a client of its own: it runs in a thread)."""
    settings = DeviceSimSettings()
    if settings.devices:
        with httpx.Client(base_url=url, timeout=10, auth=auth) as client:
            _post_alerts(client, settings, devices_in(grids, points))


def _post_alerts(client: httpx.Client, settings: DeviceSimSettings, devices: list[tuple[str, dict[str, Any]]]) -> None:
    rng = random.Random(11)
    for device, body in devices:
        reply = client.put(f"/api/v1/devices/{device}", json=body)
        log.info("device %s registered → %s", device, reply.status_code)
    cameras, (sensor, sensor_body) = devices[:-1], devices[-1]
    next_camera = time.monotonic() + settings.camera_every_seconds / 4
    while True:
        batch = [alert(sensor, sensor_body, "flood", "high", "水位计：水位超警戒线")]
        if time.monotonic() >= next_camera:
            device, body = rng.choice(cameras)
            _, category, severity, text = rng.choice(CAMERAS)
            snap = client.post("/api/v1/media", content=SNAPSHOT, headers={"Content-Type": "image/png"})
            item = alert(device, body, category, severity, text)
            if snap.status_code == 201:
                item["media"] = [{k: snap.json()[k] for k in ("sha256", "content_type", "size")}]
            batch.append(item)
            next_camera = time.monotonic() + rng.expovariate(1 / settings.camera_every_seconds)
        try:
            reply = client.post("/api/v1/events/batch", json=batch)
            log.info("%d device alert(s) → %s", len(batch), reply.status_code)
        except httpx.HTTPError as exc:
            log.warning("device alerts failed, will go on: %s", exc)
        time.sleep(settings.sensor_every_seconds)
