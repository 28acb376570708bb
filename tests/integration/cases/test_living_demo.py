"""The living demo on the real stack: the simulator posts events and plays the township's people (with its delays
compressed to a second), who carry cases to 办结销号 through the API as themselves; the clock's 督办 catches the
cases left lying, and the metrics show closed, on-time, reworked and extended cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import running_stack
from tests.integration.harness import VENV_BIN, LiveStack, wait_for

OUTCOMES = {"on_time": 0.45, "overdue": 0.2, "rework": 0.2, "extension": 0.15}
FAST = {
    "GRID_SIMULATOR_STEP_SECONDS_MIN": "0.2",
    "GRID_SIMULATOR_STEP_SECONDS_MAX": "1",
    "GRID_SIMULATOR_POLL_SECONDS": "0.5",
    "GRID_SIMULATOR_ACTIONS_PER_SECOND": "8",
    "GRID_SIMULATOR_OVERDUE_GRACE_SECONDS": "36000",
    "GRID_SIMULATOR_OVERDUE_LINGER_SECONDS": "0",
    "GRID_SIMULATOR_OUTCOMES": json.dumps(OUTCOMES),
    "GRID_SIMULATOR_SEED": "11",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveStack, Path]]:
    """The demo county with the simulator running, and the processors' clock file (no offset yet)."""
    clock = tmp_path_factory.mktemp("clock") / "offset"
    env = {
        "GRID_CLOCK_FILE": str(clock),
        "GRID_DEADLINE_CHECK_SECONDS": "1",
        "GRID_DUPLICATE_RADIUS_M": "0",
        "GRID_RATE_LOGIN_PER_ADDRESS": "10000/minute",
    }
    with running_stack(["demo", "load", "--no-notify"], extra_env=env) as ts:
        simulator = [str(VENV_BIN / "python"), "-m", "ingest.simulator", "--url", ts.base_url, "--rate", "3"]
        ts.start("simulator", *simulator, "--seed", "5", env=FAST)
        yield ts, clock


async def test_the_simulated_township_closes_cases_reworks_extends_and_is_supervised(
    demo: tuple[LiveStack, Path],
) -> None:
    ts, clock = demo
    async with httpx.AsyncClient(base_url=ts.base_url, timeout=30) as client:
        signed = await client.post("/api/v1/auth/token", data={"username": "dispatcher", "password": "grid-demo"})
        assert signed.status_code == 200, signed.text
        client.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"

        async def township() -> dict[str, Any] | None:
            rows = (await client.get("/api/v1/metrics", params={"by": "township"})).json()
            return rows[0] if rows else None

        async def worked() -> dict[str, Any] | None:
            row = await township()
            done = row and row["closed"] >= 8 and row["on_time"] >= 5 and row["reworked"] >= 1 and row["extended"] >= 1
            return row if done else None

        row = await wait_for(worked, "closed, on-time, reworked and extended cases in the metrics", within=240)
        assert row["on_time_rate"] > 0.5 and row["open"] >= 1

        clock.write_text("7200")  # the processors' clock runs two hours ahead: cases left lying are overdue

        async def supervised_then_accepted() -> tuple[str, list[dict[str, Any]]] | None:
            cases = (await client.get("/api/v1/cases", params={"limit": 2000})).json()
            for c in [c for c in cases if c["supervision_level"] >= 1 and c["state"] != "dispatched"][:20]:
                log = (await client.get(f"/api/v1/cases/{c['id']}")).json()["log"]
                kinds = [e["kind"] for e in log]
                if "accepted" in kinds and kinds.index("supervised") < kinds.index("accepted"):
                    return str(c["id"]), list(log)
            return None

        case_id, log = await wait_for(supervised_then_accepted, "a case accepted after its 督办", within=120)
        records = (await client.get("/api/v1/supervisions", params={"case": case_id})).json()
        assert records and records[0]["level"] >= 1
        people = {e["actor_id"] for e in log if e["kind"] in ("accepted", "checked", "closed")}
        assert people and not any(a.startswith("system") for a in people), people
