"""References in case commands, against a colleague of another township: a merge target, an assignee, the officers
of an enforcement stage and evidence files outside the caller's area answer exactly as ones that do not exist (404,
naming the field), and the case and its log stay as they were."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
import pytest_asyncio

from tests.integration.auth import admin_headers
from tests.integration.conftest import running_stack
from tests.integration.harness import LiveStack, client_on, pool_on, wait_for
from tests.integration.helpers import event
from tests.integration.security.townships import (
    Township,
    command,
    report,
    same_answer,
    state_of,
    two_townships,
    upload,
)
from tests.media_samples import PDF

UNKNOWN_TEAM = "enf-000000000"


@pytest_asyncio.fixture(scope="module")
async def towns(db: asyncpg.Pool) -> tuple[Township, Township]:
    """Township A (the demo's `dispatcher`) and township B (`dispatcher-b`)."""
    return await two_townships(db)


async def test_a_case_is_never_merged_into_another_townships_case(
    http: httpx.AsyncClient, db: asyncpg.Pool, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    mine, theirs = await report(http, db, a), await report(http, db, b)
    before = [await state_of(db, mine), await state_of(db, theirs)]
    unknown = str(uuid.uuid4())

    foreign = await command(http, a.dispatcher_headers, mine, 404, kind="merge", into=theirs, reason="重复")
    missing = await command(http, a.dispatcher_headers, mine, 404, kind="merge", into=unknown, reason="重复")

    assert foreign["detail"][0]["loc"] == ["body", "into"]
    assert same_answer(foreign, missing, theirs, unknown), "a foreign case reads as one that does not exist"
    assert [await state_of(db, mine), await state_of(db, theirs)] == before
    duplicate = await report(http, db, a)
    merged = await command(http, a.dispatcher_headers, duplicate, kind="merge", into=mine, reason="同一事件")
    assert merged["status"] == "applied", "a case of the same township still merges"


async def test_an_assignee_serves_the_cases_township_and_is_named_by_the_registry(
    http: httpx.AsyncClient, db: asyncpg.Pool, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    case = await report(http, db, a)
    before = await state_of(db, case)

    def assign(kind: str, party: str, **extra: str) -> dict[str, object]:
        return {"kind": "assign", "assignee": {"kind": kind, "id": party, **extra}, "reason": "转办"}

    foreign = await command(http, a.dispatcher_headers, case, 404, **assign("team", b.team))
    missing = await command(http, a.dispatcher_headers, case, 404, **assign("team", UNKNOWN_TEAM))
    assert foreign["detail"][0]["loc"] == ["body", "assignee", "id"]
    assert same_answer(foreign, missing, b.team, UNKNOWN_TEAM)
    their_member = await command(http, a.dispatcher_headers, case, 404, **assign("grid_member", b.member))
    assert their_member["detail"][0]["loc"] == ["body", "assignee", "id"]
    officer = await command(http, a.dispatcher_headers, case, 404, **assign("grid_member", a.officer))
    assert officer["detail"][0]["loc"] == ["body", "assignee", "id"], "an officer gets cases through the team"
    wrong_kind = await command(http, a.dispatcher_headers, case, 404, **assign("agency", a.team))
    assert wrong_kind["detail"][0]["loc"] == ["body", "assignee", "id"], "the team is no agency"
    named = await command(http, a.dispatcher_headers, case, 422, **assign("team", a.team, name="县长亲自督办"))
    assert named["detail"][0]["loc"][-2:] == ["assignee", "name"], "a client names no party"
    assert await state_of(db, case) == before

    gone = await http.post(
        "/api/v1/people",
        json={
            "role": "grid_member",
            "name": "已离岗网格员",
            "unit_code": a.grid[:12],
            "grids": [a.grid],
            "post": "part_time",
        },
        headers=a.dispatcher_headers,
    )
    assert gone.status_code == 201, gone.text
    assert (await http.delete(f"/api/v1/people/{gone.json()['id']}", headers=a.dispatcher_headers)).status_code == 204
    ended = await command(http, a.dispatcher_headers, case, 404, **assign("grid_member", gone.json()["id"]))
    nobody = await command(http, a.dispatcher_headers, case, 404, **assign("grid_member", "gm-nobody"))
    assert same_answer(ended, nobody, gone.json()["id"], "gm-nobody"), "service ended today: as no one"
    assert await state_of(db, case) == before

    done = await command(http, a.dispatcher_headers, case, **assign("team", a.team))
    assert done["status"] == "applied"
    registry = await db.fetchval("SELECT name FROM teams WHERE id = $1", a.team)
    row = await db.fetchrow("SELECT assignee_id, assignee_name FROM cases WHERE id = $1", uuid.UUID(case))
    assert row is not None and (row["assignee_id"], row["assignee_name"]) == (a.team, registry)


async def _in_progress_enforcement_case(http: httpx.AsyncClient, db: asyncpg.Pool, town: Township) -> str:
    """An enforcement lead of the township, dispatched to its team and taken up by its first officer."""
    case = await report(http, db, town, type="enforcement_lead", category="illegal_construction", severity="high")
    team = await db.fetchval("SELECT assignee_id FROM cases WHERE id = $1", uuid.UUID(case))
    assert team == town.team
    for body in ({"kind": "accept"}, {"kind": "verify", "finding": "现场在建违建属实"}, {"kind": "start"}):
        await command(http, town.officer_headers, case, **body)
    return case


async def test_stage_officers_belong_to_the_handling_team_and_evidence_to_the_caller(
    http: httpx.AsyncClient, db: asyncpg.Pool, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    case = await _in_progress_enforcement_case(http, db, a)
    doc = {"sha256": await upload(http, a.officer_headers, PDF, "application/pdf"), "kind": "document"}
    their_photo = await upload(http, b.officer_headers)
    before = await state_of(db, case)

    def stage(*officers: str, evidence: dict[str, str] = doc) -> dict[str, object]:
        return {"kind": "stage", "stage": "file", "officers": list(officers), "evidence": [evidence]}

    foreign = await command(http, a.officer_headers, case, 404, **stage(a.officer, b.officer))
    missing = await command(http, a.officer_headers, case, 404, **stage(a.officer, "off-nobody"))
    assert foreign["detail"][0]["loc"] == ["body", "officers", 1]
    assert same_answer(foreign, missing, b.officer, "off-nobody")

    unknown = "0" * 64
    cited = await command(
        http,
        a.officer_headers,
        case,
        404,
        **stage(a.officer, a.partner, evidence={"sha256": their_photo, "kind": "photo"}),
    )
    absent = await command(
        http, a.officer_headers, case, 404, **stage(a.officer, a.partner, evidence={"sha256": unknown, "kind": "photo"})
    )
    assert cited["detail"][0]["loc"] == ["body", "evidence", 0, "sha256"]
    assert same_answer(cited, absent, their_photo, unknown), "another township's file reads as no file"
    assert await state_of(db, case) == before

    recorded = await command(http, a.officer_headers, case, **stage(a.officer, a.partner))
    assert recorded["status"] == "applied", "the team's own officers and files are taken"


@pytest.fixture(scope="module")
def attaching_stack() -> Iterator[LiveStack]:
    """A stack of its own where duplicates attach (the session's stack has the radius at 0)."""
    with running_stack(["demo", "load", "--no-notify"], extra_env={"GRID_DUPLICATE_RADIUS_M": "30"}) as ts:
        yield ts


BORDER = """
SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM admin_units a JOIN admin_units b
  ON a.level = 'township' AND b.level = 'township' AND a.code < b.code AND a.valid_to IS NULL AND b.valid_to IS NULL
  AND ST_Intersects(a.geom, b.geom)
CROSS JOIN LATERAL ST_PointOnSurface(ST_Intersection(a.geom, b.geom)) p
WHERE NOT ST_IsEmpty(p) ORDER BY a.code, b.code LIMIT 1
"""
TOWNSHIP_AT = (
    "SELECT township_code FROM grids WHERE valid_to IS NULL AND ST_Covers(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))"
)
METRES_PER_DEGREE = (94_500.0, 111_000.0)
"""About the length of a degree of longitude and of latitude at 32°N."""


Point = tuple[float, float]


async def _across_a_border(db: asyncpg.Pool) -> tuple[Point, Point, Point]:
    """Two points 10 m apart in grids of two different townships, and a third 5 m further into the first."""
    border = await db.fetchrow(BORDER)
    assert border is not None, "no two townships share a border"
    for dx, dy in ((1, 0), (0, 1), (1, 1), (1, -1)):
        step = (5 * dx / METRES_PER_DEGREE[0], 5 * dy / METRES_PER_DEGREE[1])
        one = (border["lon"] + step[0], border["lat"] + step[1])
        other = (border["lon"] - step[0], border["lat"] - step[1])
        further = (one[0] + step[0], one[1] + step[1])
        here, there = await db.fetchval(TOWNSHIP_AT, *one), await db.fetchval(TOWNSHIP_AT, *other)
        if here and there and here != there and await db.fetchval(TOWNSHIP_AT, *further) == here:
            return one, other, further
    raise AssertionError(f"no pair of points straddles the border at {tuple(border.values())}")


async def test_a_duplicate_is_never_attached_across_a_township_border(attaching_stack: LiveStack) -> None:
    async with pool_on(attaching_stack) as db, client_on(attaching_stack, admin_headers()) as http:
        one, other, further = await _across_a_border(db)

        async def case_of(point: Point) -> uuid.UUID:
            body = event(lon=point[0], lat=point[1], category="environment")
            assert (await http.post("/api/v1/events", json=body)).status_code == 202
            query = "SELECT case_id FROM case_events WHERE event_id = $1"
            found: uuid.UUID = await wait_for(lambda: db.fetchval(query, uuid.UUID(body["event_id"])), "its case")
            return found

        first, across = await case_of(one), await case_of(other)
        assert first != across, "10 m apart across a border: two cases"
        towns = await db.fetch("SELECT DISTINCT township_code FROM cases WHERE id = ANY($1::uuid[])", [first, across])
        assert len(towns) == 2
        assert await case_of(further) == first, "as near within one township attaches"
