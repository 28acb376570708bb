"""Grid workers at a gentle pace: posts realistic events at points inside the demo grids.

`python -m ingest.simulator --url http://127.0.0.1:8000 [--rate 0.3] [--seed 7]`

It signs in as an intake gateway (a system account, which may post for any reporter): GRID_SIMULATOR_USER and
GRID_SIMULATOR_PASSWORD, by default the demo account `gateway`. It also plays the people of the demo dispatcher's
township (ingest/people_sim.py), who then carry the cases to 办结销号, and a few cameras and a noisy sensor
(ingest/device_sim.py); GRID_SIMULATOR_EVENTS=0, GRID_SIMULATOR_PEOPLE=0 and GRID_SIMULATOR_DEVICES=0 switch each
off. While it plays people, it posts only in their township's grids.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import threading
import time
import uuid
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import shapely
from shapely.geometry import shape

from ingest.device_sim import play_devices
from ingest.people_sim import PeopleSettings, play

log = logging.getLogger("simulator")

SCENES: tuple[tuple[str, str, str, str], ...] = (
    ("incident", "0103", "normal", "村道旁垃圾堆放未清运"),
    ("incident", "1405", "normal", "桥头护栏松动，存在安全隐患"),
    ("incident", "0803", "high", "山体边坡有落石迹象"),
    ("incident", "1101", "high", "河道水位上涨，漫过便道"),
    ("incident", "0703", "normal", "邻里宅基地边界纠纷"),
    ("incident", "0703", "high", "土地流转纠纷，双方情绪激动"),
    ("enforcement_lead", "1001", "normal", "农户未批先建，已砌二层墙体"),
    ("enforcement_lead", "0902", "normal", "流动摊贩无证销售散装白酒"),
    ("citizen_report", "1303", "high", "夜间有人聚集酗酒滋事"),
    ("citizen_report", "0109", "low", "养殖场异味扰民"),
    ("incident", "1299", "high", "废旧仓库私拉电线堆放柴草"),
    ("sensor_alert", "1101", "urgent", "水位监测点超警戒水位"),
    ("patrol", "0699", "normal", ""),
)


class SignedIn(httpx.Auth):
    """Bearer auth that signs in on first use and again whenever the access token is refused (expired)."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self._url, self._username, self._password = url, username, password
        self._token: str | None = None

    def _sign_in(self) -> str:
        reply = httpx.post(
            f"{self._url}/api/v1/auth/token", data={"username": self._username, "password": self._password}, timeout=10
        )
        if reply.status_code != 200:
            raise SystemExit(f"simulator: sign-in as {self._username} refused: {reply.text}")
        token: str = reply.json()["access_token"]
        return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with the token; on 401, sign in again and resend once."""
        self._token = self._token or self._sign_in()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            self._token = self._sign_in()
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


def random_point_in(geom: Any, rng: random.Random) -> tuple[float, float]:
    """A uniformly random point inside a polygon, by rejection in its bounding box."""
    minx, miny, maxx, maxy = geom.bounds
    for _ in range(1000):
        point = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if geom.contains(point):
            return point.x, point.y
    centre = geom.representative_point()
    return centre.x, centre.y


def make_event(grid: dict[str, Any], geom: Any, rng: random.Random) -> dict[str, Any]:
    """One plausible event posted by the grid's own member from inside the grid."""
    etype, category, severity, text = rng.choice(SCENES)
    lon, lat = random_point_in(geom, rng)
    now = datetime.now(UTC)
    props = grid["properties"]
    event: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": etype,
        "occurred_at": (now - timedelta(minutes=rng.randint(0, 20))).isoformat(),
        "reported_at": now.isoformat(),
        "source": "sensor" if etype == "sensor_alert" else "simulator",
        "reporter": {"id": f"gm-{props['code']}", "name": props.get("member_name")},
        "location": {"lon": round(lon, 6), "lat": round(lat, 6)},
        "category": category,
        "severity": severity,
        "description": text,
    }
    if etype == "patrol":
        event["found_nothing"] = True
        event["description"] = "例行巡查，未发现异常"
    if etype == "sensor_alert":
        event["device_id"] = f"wl-{props['code'][-6:]}"
        event["reporter"] = {"id": event["device_id"]}
    return event


def run(url: str, rate: float, seed: int | None, count: int | None, township: str | None = None) -> None:
    """Post events until interrupted (or `count` are sent), in `township`'s grids if given."""
    rng = random.Random(seed)
    auth = SignedIn(
        url, os.environ.get("GRID_SIMULATOR_USER", "gateway"), os.environ.get("GRID_SIMULATOR_PASSWORD", "grid-demo")
    )
    with httpx.Client(base_url=url, timeout=10, auth=auth) as client:
        grids = _wait_for_grids(client)
        grids = [g for g in grids if township is None or g["properties"].get("township_code") == township] or grids
        shapes = [shape(g["geometry"]) for g in grids]
        points = [random_point_in(geom, rng) for geom in shapes[:4]]
        threading.Thread(target=play_devices, args=(url, auth, grids, points), daemon=True).start()
        sent = 0
        while count is None or sent < count:
            i = rng.randrange(len(grids))
            event = make_event(grids[i], shapes[i], rng)
            try:
                reply = client.post("/api/v1/events", json=event)
                log.info(
                    "%s %s %s → %s", event["type"], event["category"], grids[i]["properties"]["name"], reply.status_code
                )
            except httpx.HTTPError as exc:
                log.warning("post failed, will go on: %s", exc)
            sent += 1
            time.sleep(rng.expovariate(rate))


def _wait_for_grids(client: httpx.Client) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 120
    while True:
        try:
            features: list[dict[str, Any]] = client.get("/api/v1/grids").json()["features"]
            if features:
                return features
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit("no grids served at /api/v1/grids after 120 s")
        time.sleep(1)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--rate", type=float, default=None, help="events per second on average (0.3; 0.1 with people)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--count", type=int, default=None, help="stop after this many events")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    settings = PeopleSettings()
    township = _township(args.url, settings) if settings.people else None
    rate = args.rate or (settings.event_rate if settings.people else 0.3)
    if settings.events:
        poster = threading.Thread(target=run, args=(args.url, rate, args.seed, args.count, township), daemon=True)
        poster.start()
    if settings.people:
        play(args.url, settings)
    elif settings.events:
        poster.join()
    else:
        log.info("GRID_SIMULATOR_EVENTS=0 and GRID_SIMULATOR_PEOPLE=0: nothing to simulate")
        threading.Event().wait()  # idle, so that supervisord does not restart it


def _township(url: str, settings: PeopleSettings) -> str | None:
    """The township of the dispatcher the simulator plays, once the web server answers."""
    for _ in range(120):
        try:
            reply = httpx.post(
                f"{url}/api/v1/auth/token",
                data={"username": settings.dispatcher, "password": settings.people_password},
                timeout=10,
            )
            if reply.status_code == 200:
                return str(reply.json()["user"]["unit_code"])
            log.warning("sign-in as %s: %s", settings.dispatcher, reply.status_code)
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise SystemExit(f"simulator: cannot sign in as {settings.dispatcher}")


if __name__ == "__main__":
    main()
