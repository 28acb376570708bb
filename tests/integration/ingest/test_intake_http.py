"""The door refuses what is wrong with a 4xx that names the field, and serves the map's data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.integration.helpers import event


async def test_invalid_input_is_refused_naming_the_field(http: httpx.AsyncClient) -> None:
    reply = await http.post("/api/v1/events", json=event(lon=2.35, lat=48.85))
    assert reply.status_code == 422
    assert any(err["loc"][-2:] == ["location", "lon"] for err in reply.json()["detail"])
    missing = event()
    del missing["reporter"]
    reply = await http.post("/api/v1/events", json=missing)
    assert reply.status_code == 422 and any(err["loc"][-1] == "reporter" for err in reply.json()["detail"])


async def test_times_far_in_the_future_are_refused(http: httpx.AsyncClient) -> None:
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    reply = await http.post("/api/v1/events", json=event(reported_at=later, occurred_at=later))
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"] == ["body", "reported_at"]


async def test_oversized_bodies_are_refused(http: httpx.AsyncClient) -> None:
    reply = await http.post("/api/v1/events", json=event(description="很" * 40_000))
    assert reply.status_code == 413


async def test_malformed_json_and_wrong_types_are_4xx_not_500(http: httpx.AsyncClient) -> None:
    broken = await http.post("/api/v1/events", content=b"{nope", headers={"content-type": "application/json"})
    assert broken.status_code == 422
    wrong = await http.post("/api/v1/events", json=[1, 2, 3])
    assert wrong.status_code == 422
    bad_id = await http.get("/api/v1/cases/not-a-uuid")
    assert bad_id.status_code == 422
    missing = await http.get("/api/v1/cases/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404


async def test_grids_are_served_as_geojson_marked_synthetic(http: httpx.AsyncClient) -> None:
    reply = await http.get("/api/v1/grids")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/geo+json")
    features = reply.json()["features"]
    assert len(features) > 100
    props = features[0]["properties"]
    assert props["synthetic"] is True and len(props["code"]) == 15 and props["member_name"]
    townships = (await http.get("/api/v1/units", params={"level": "township"})).json()["features"]
    assert len(townships) == 21  # 青川县's 2020 list


async def test_the_command_centre_page_and_its_assets_are_served_locally(http: httpx.AsyncClient) -> None:
    page = await http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assets = [part.split('"')[0] for part in page.text.split('src="')[1:]]
    assert assets, "the page loads no script"
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} is not served by the app"
        assert (await http.get(asset)).status_code == 200
