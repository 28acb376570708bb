"""Each person's inbox on the real stack: a dispatch reaches its assignee (a grid member, or every member of a team),
a return the dispatchers of its township, and nobody of another township; a replayed entry adds nothing; a notice
arrives live on its recipient's websocket only; mark-as-read by ids or all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from dispatch.cases.inbox import record
from dispatch.cases.notices import NoticeDraft
from tests.integration.auth import ISSUER, as_person, person_user
from tests.integration.harness import LiveStack, pool_on, wait_for
from tests.integration.helpers import listening
from tests.integration.inbox.spots import report, spot, townships


async def inbox(http: httpx.AsyncClient, db: asyncpg.Pool, person: str, **params: Any) -> dict[str, Any]:
    """A person's inbox as they read it."""
    r = await http.get("/api/v1/inbox", params=params, headers=await as_person(db, person))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def notice_of(
    http: httpx.AsyncClient, db: asyncpg.Pool, person: str, case_id: uuid.UUID, kind: str
) -> dict[str, Any]:
    """The person's notice of that kind about the case, once it is there."""

    async def found() -> dict[str, Any] | None:
        items = (await inbox(http, db, person, limit=200))["items"]
        return next((n for n in items if n["case_id"] == str(case_id) and n["kind"] == kind), None)

    return await wait_for(found, f"{kind} notice of case {case_id} for {person}")


async def kinds_about(db: asyncpg.Pool, case_id: uuid.UUID) -> list[tuple[str, str]]:
    """Every (person, kind) notice about a case, as stored."""
    rows = await db.fetch("SELECT person_id, kind FROM notices WHERE case_id = $1 ORDER BY 1, 2", case_id)
    return [(r["person_id"], r["kind"]) for r in rows]


async def test_a_dispatch_reaches_the_member_live_and_in_the_inbox_and_nobody_elsewhere(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    town_a, town_b = await townships(db)
    where = await spot(db, town_a)
    member = where["member_id"]
    other = (await spot(db, town_a, offset=1))["member_id"]
    token = ISSUER.issue(await person_user(db, member), datetime.now(UTC))
    async with listening(live_stack.base_url, token) as mine:
        case_id = await report(http, where, "村口垃圾堆放 inbox-live")
        notice = await notice_of(http, db, member, case_id, "dispatched")
        assert notice["text_zh"].startswith("新派遣：") and "inbox-live" in notice["text_zh"]
        assert notice["read_at"] is None

        async def heard() -> dict[str, Any] | None:
            return next((m for m in mine.messages if m["type"] == "notice"), None)

        live = await wait_for(heard, "the notice on the member's websocket")
        assert live["notice"]["id"] == notice["id"] and live["notice"]["person_id"] == member
    assert await kinds_about(db, case_id) == [(member, "dispatched")]
    for outsider in (other, f"disp-{town_b}", f"disp-{town_a}"):
        items = (await inbox(http, db, outsider, limit=200))["items"]
        assert all(n["case_id"] != str(case_id) for n in items), outsider


async def test_a_team_dispatch_reaches_each_officer_and_a_return_the_townships_dispatchers_only(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    town_a, town_b = await townships(db)
    case_id = await report(http, await spot(db, town_a, offset=2), "占道经营 inbox-team")
    dispatcher = await as_person(db, f"disp-{town_a}")
    team = await db.fetchval("SELECT id FROM teams WHERE unit_code = $1 AND kind = 'enforcement'", town_a)
    assigned = await http.post(
        f"/api/v1/cases/{case_id}/commands",
        json={"kind": "assign", "assignee": {"kind": "team", "id": team}, "reason": "执法事项"},
        headers=dispatcher,
    )
    assert assigned.status_code == 200, assigned.text
    for officer in (f"off-{town_a}-1", f"off-{town_a}-2"):
        await notice_of(http, db, officer, case_id, "dispatched")
    handler = await as_person(db, f"off-{town_a}-1")
    returned = await http.post(
        f"/api/v1/cases/{case_id}/commands",
        json={"kind": "return", "reason": "不属于执法事项"},
        headers=handler,
    )
    assert returned.status_code == 200, returned.text
    notice = await notice_of(http, db, f"disp-{town_a}", case_id, "returned")
    assert "不属于执法事项" in notice["text_zh"]
    before = await kinds_about(db, case_id)
    seq = int(await db.fetchval("SELECT max(seq) FROM case_log WHERE case_id = $1 AND kind = 'returned'", case_id))
    replayed = NoticeDraft(case_id, f"log:{seq}", "returned", town_a, (("role", "dispatcher"),), "x", "x")
    async with pool_on(live_stack, json_codecs=True) as pool, pool.acquire() as conn, conn.transaction():
        assert await record(conn, [replayed]) == []
    assert await kinds_about(db, case_id) == before, "a replayed command added notices"
    assert (f"disp-{town_b}", "returned") not in before
    assert not any(p.startswith(f"off-{town_b}") for p, _ in before)


async def test_mark_read_by_ids_and_all_counts_down_and_never_touches_anothers_notices(
    http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    town_a, _ = await townships(db)
    where = await spot(db, town_a, offset=3)
    member = where["member_id"]
    first = await report(http, where, "inbox-read one")
    second = await report(http, where, "inbox-read two")
    one = await notice_of(http, db, member, first, "dispatched")
    await notice_of(http, db, member, second, "dispatched")
    me = await as_person(db, member)
    unread = (await inbox(http, db, member))["unread"]
    assert unread >= 2
    stranger = await as_person(db, f"disp-{town_a}")
    foreign = await http.post("/api/v1/inbox/read", json={"ids": [one["id"]]}, headers=stranger)
    assert foreign.status_code == 200 and foreign.json()["marked"] == 0
    marked = await http.post("/api/v1/inbox/read", json={"ids": [one["id"]]}, headers=me)
    assert marked.json() == {"marked": 1, "unread": unread - 1}
    only_unread = (await inbox(http, db, member, unread="true", limit=200))["items"]
    assert one["id"] not in [n["id"] for n in only_unread]
    empty = await http.post("/api/v1/inbox/read", json={}, headers=me)
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "ids"]
    everything = await http.post("/api/v1/inbox/read", json={"all": True}, headers=me)
    assert everything.json() == {"marked": unread - 1, "unread": 0}
    page = await inbox(http, db, member, limit=1)
    assert len(page["items"]) == 1 and page["items"][0]["case_id"] == str(second) and page["next_before"]
    older = await inbox(http, db, member, limit=1, before=page["next_before"])
    assert older["items"][0]["id"] < page["items"][0]["id"]


async def test_an_account_that_is_no_person_has_an_empty_inbox(http: httpx.AsyncClient) -> None:
    r = await http.get("/api/v1/inbox")
    assert r.status_code == 200 and r.json() == {"items": [], "unread": 0, "next_before": None}
