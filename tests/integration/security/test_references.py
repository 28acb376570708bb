"""References in case commands, against a colleague of another township: a merge target, an assignee, the officers
of an enforcement stage and evidence files outside the caller's area answer exactly as ones that do not exist (404,
naming the field), and the case and its log stay as they were."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest_asyncio

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
    wrong_kind = await command(http, a.dispatcher_headers, case, 404, **assign("agency", a.team))
    assert wrong_kind["detail"][0]["loc"] == ["body", "assignee", "id"], "the team is no agency"
    named = await command(http, a.dispatcher_headers, case, 422, **assign("team", a.team, name="县长亲自督办"))
    assert named["detail"][0]["loc"][-2:] == ["assignee", "name"], "a client names no party"
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
