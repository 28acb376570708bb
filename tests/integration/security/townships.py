"""Two townships' staff for the adversarial tests: each side's dispatcher, a grid member, two officers of its
enforcement team, and cases opened through the intake, with what a test compares to show nothing changed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from tests.integration.auth import as_person
from tests.integration.harness import wait_for
from tests.integration.helpers import event
from tests.media_samples import png


@dataclass(frozen=True)
class Township:
    """One township of the demo county and the people a test acts as there."""

    code: str
    grid: str
    lon: float
    lat: float
    member: str
    officer: str
    partner: str
    team: str
    dispatcher_headers: dict[str, str]
    member_headers: dict[str, str]
    officer_headers: dict[str, str]


async def two_townships(db: asyncpg.Pool) -> tuple[Township, Township]:
    """The demo county's first two townships (those of `dispatcher` and `dispatcher-b`)."""
    codes = [
        r["code"]
        for r in await db.fetch(
            "SELECT code FROM admin_units WHERE level = 'township' AND valid_to IS NULL ORDER BY code LIMIT 2"
        )
    ]
    return await _township(db, codes[0]), await _township(db, codes[1])


async def _township(db: asyncpg.Pool, code: str) -> Township:
    spot = await db.fetchrow(
        "SELECT g.code, ST_X(p) AS lon, ST_Y(p) AS lat, gp.person_id AS member FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p JOIN grid_posts gp ON gp.grid_code = g.code"
        " WHERE g.township_code = $1 AND g.valid_to IS NULL AND gp.valid_to IS NULL ORDER BY g.code OFFSET 7 LIMIT 1",
        code,
    )
    assert spot is not None, f"no staffed grid in {code}"
    officer, partner = f"off-{code}-1", f"off-{code}-2"
    return Township(
        code=code,
        grid=spot["code"],
        lon=spot["lon"],
        lat=spot["lat"],
        member=spot["member"],
        officer=officer,
        partner=partner,
        team=f"enf-{code}",
        dispatcher_headers=await as_person(db, f"disp-{code}"),
        member_headers=await as_person(db, spot["member"]),
        officer_headers=await as_person(db, officer),
    )


async def upload(
    http: httpx.AsyncClient, who: dict[str, str], data: bytes | None = None, kind: str = "image/png"
) -> str:
    """Store a file as `who` and return its hash."""
    body = data if data is not None else png(note=uuid.uuid4().hex)
    reply = await http.post("/api/v1/media", content=body, headers={**who, "content-type": kind})
    assert reply.status_code == 201, reply.text
    sha256: str = reply.json()["sha256"]
    return sha256


async def report(http: httpx.AsyncClient, db: asyncpg.Pool, town: Township, **fields: Any) -> str:
    """A case opened from the township's grid member's report at their grid; its id once the writer has it."""
    body = event(lon=town.lon, lat=town.lat, reporter={"id": town.member, "name": "网格员"}, **fields)
    reply = await http.post("/api/v1/events", json=body, headers=town.member_headers)
    assert reply.status_code == 202, reply.text
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))

    async def opened() -> bool | None:
        return await db.fetchval("SELECT true FROM cases WHERE id = $1", case_id)

    await wait_for(opened, f"the case reported in {town.code}")
    return str(case_id)


async def state_of(db: asyncpg.Pool, case_id: str) -> tuple[Any, ...]:
    """What must not change when a command is refused: the case's row and the length and head of its log."""
    row = await db.fetchrow(
        "SELECT c.version, c.state, c.assignee_kind, c.assignee_id, c.assignee_name, c.township_code, c.merged_into,"
        " (SELECT count(*) FROM case_log l WHERE l.case_id = c.id) AS entries,"
        " (SELECT hash FROM case_log l WHERE l.case_id = c.id ORDER BY seq DESC LIMIT 1) AS head"
        " FROM cases c WHERE c.id = $1",
        uuid.UUID(case_id),
    )
    assert row is not None, f"no case {case_id}"
    return tuple(row.values())


async def command(
    http: httpx.AsyncClient, who: dict[str, str], case_id: str, expect: int = 200, **body: Any
) -> dict[str, Any]:
    """Issue a command and check the status of the answer."""
    reply = await http.post(f"/api/v1/cases/{case_id}/commands", json=body, headers=who)
    assert reply.status_code == expect, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def same_answer(refused: dict[str, Any], missing: dict[str, Any], foreign: str, unknown: str) -> bool:
    """Whether two refusals read the same once the reference each named is blanked out."""
    return str(refused).replace(foreign, "<ref>") == str(missing).replace(unknown, "<ref>")
