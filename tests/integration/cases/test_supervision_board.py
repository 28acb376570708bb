"""The 督办 board on the real stack: a supervised case on its township's row at its level, for that township's staff
and the county's, never for another township's."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from tests.integration.auth import as_person
from tests.integration.harness import wait_for
from tests.integration.helpers import event

BOARD = "/api/v1/supervision/board"


async def _towns(db: asyncpg.Pool) -> list[str]:
    rows = await db.fetch(
        "SELECT code FROM admin_units WHERE level = 'township' AND valid_to IS NULL ORDER BY code LIMIT 2"
    )
    return [r["code"] for r in rows]


async def _case_in(http: httpx.AsyncClient, db: asyncpg.Pool, town: str) -> str:
    spot = await db.fetchrow(
        "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
        " WHERE g.township_code = $1 AND g.valid_to IS NULL ORDER BY g.code OFFSET 7 LIMIT 1",
        town,
    )
    assert spot is not None
    body = event(lon=spot["lon"], lat=spot["lat"], description="河道漂浮物\n第二行")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    await wait_for(lambda: db.fetchval("SELECT true FROM cases WHERE id = $1", case_id), "the case")
    return str(case_id)


def _row(board: dict[str, Any], town: str) -> dict[str, Any]:
    return next(t for t in board["townships"] if t["township_code"] == town)


async def test_a_supervised_case_is_on_its_townships_row_for_that_townships_staff_only(
    http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    a, b = await _towns(db)
    case_id = await _case_in(http, db, a)
    dispatcher_a, dispatcher_b = await as_person(db, f"disp-{a}"), await as_person(db, f"disp-{b}")
    before = _row((await http.get(BOARD, headers=dispatcher_a)).json(), a)
    supervised = await http.post(
        f"/api/v1/cases/{case_id}/commands", json={"kind": "supervise", "reason": "请今日处理"}, headers=dispatcher_a
    )
    assert supervised.status_code == 200, supervised.text

    board = (await http.get(BOARD, headers=dispatcher_a)).json()
    assert [t["township_code"] for t in board["townships"]] == [a]
    row = _row(board, a)
    assert row["level_1"] == before["level_1"] + 1
    shown = next(c for c in row["cases"] if c["id"] == case_id)
    assert (shown["level"], shown["step"], shown["overdue_minutes"]) == (1, "accept", None)
    assert shown["title"] == "河道漂浮物"
    assert shown["assignee"]["kind"] == "grid_member" and shown["step_due_at"]
    levels = [(c["level"], c["overdue_minutes"] or -1) for c in row["cases"]]
    assert levels == sorted(levels, reverse=True)

    other = (await http.get(BOARD, headers=dispatcher_b)).json()
    assert [t["township_code"] for t in other["townships"]] == [b]
    assert case_id not in {c["id"] for t in other["townships"] for c in t["cases"]}
    county = (await http.get(BOARD, headers=await as_person(db, f"sup-{a[:6]}"))).json()
    assert {a, b} <= {t["township_code"] for t in county["townships"]}
    assert case_id in {c["id"] for c in _row(county, a)["cases"]}
    worker = await db.fetchval("SELECT assignee_id FROM cases WHERE id = $1", uuid.UUID(case_id))
    assert (await http.get(BOARD, headers=await as_person(db, worker))).status_code == 403
    assert (await http.get(BOARD, params={"limit": 0})).status_code == 422
