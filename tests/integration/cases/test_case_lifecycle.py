"""The case lifecycle on the real stack: the six steps through HTTP and the command topic, rework, duplicates,
enforcement with legal review, supervision on a test-controlled clock, metrics, the audit and the rebuild."""

from __future__ import annotations

import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import pytest_asyncio
from kafka import KafkaProducer

from core.cases import case_id_for_event
from dispatch.media.store import path_for
from streams.acls import ADMIN
from tests.integration.auth import admin_headers, as_person
from tests.integration.conftest import running_stack
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, client_on, login_as, pool_on, wait_for
from tests.integration.helpers import event, grid_point, listening
from tests.integration.signing import signed_record
from tests.media_samples import PDF, png

CLOCK = Path(tempfile.gettempdir()) / f"gridtest-clock-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def lc_stack() -> Iterator[LiveStack]:
    """A stack of its own: duplicates on (100 m, 2 h), deadlines checked every second on a clock the test sets."""
    env = {
        "GRID_DUPLICATE_RADIUS_M": "100",
        "GRID_DUPLICATE_WINDOW_MINUTES": "120",
        "GRID_DEADLINE_CHECK_SECONDS": "1",
        "GRID_ESCALATE_EVERY_MINUTES": "60",
        "GRID_CLOCK_FILE": str(CLOCK),
    }
    CLOCK.write_text("0")
    try:
        with running_stack(["demo", "load", "--no-notify"], extra_env=env) as ts:
            yield ts
    finally:
        CLOCK.unlink(missing_ok=True)


@pytest_asyncio.fixture(scope="module")
async def lc_db(lc_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """A pool on this module's database."""
    async with pool_on(lc_stack, json_codecs=True) as pool:
        yield pool


@pytest_asyncio.fixture(scope="module")
async def lc_http(lc_stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on this module's web server."""
    async with client_on(lc_stack, admin_headers()) as client:
        yield client


class Desk:
    """What a test does through the API: post events, upload media, issue commands as people."""

    def __init__(self, http: httpx.AsyncClient, db: asyncpg.Pool) -> None:
        self.http, self.db = http, db

    async def report(self, spot: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Post an event at a grid point and wait for its case."""
        body = event(lon=spot["lon"], lat=spot["lat"], **fields)
        assert (await self.http.post("/api/v1/events", json=body)).status_code == 202
        return await self.case(case_id_for_event(uuid.UUID(body["event_id"])))

    async def case(self, case_id: uuid.UUID | str) -> dict[str, Any]:
        """A case once it exists."""

        async def found() -> dict[str, Any] | None:
            r = await self.http.get(f"/api/v1/cases/{case_id}")
            return r.json()["case"] if r.status_code == 200 else None

        return await wait_for(found, f"case {case_id}")

    async def media(self, data: bytes, content_type: str, person: str) -> dict[str, str]:
        """Upload evidence as the person who will cite it; returns the evidence reference."""
        headers = {**await as_person(self.db, person), "Content-Type": content_type}
        r = await self.http.post("/api/v1/media", content=data, headers=headers)
        assert r.status_code == 201, r.text
        return {"sha256": r.json()["sha256"], "kind": r.json()["kind"]}

    async def do(self, case: dict[str, Any], person: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        """Issue a command as a person and check the answer's status."""
        headers = await as_person(self.db, person)
        r = await self.http.post(f"/api/v1/cases/{case['id']}/commands", json=body, headers=headers)
        assert r.status_code == expect, r.text
        out: dict[str, Any] = r.json()
        return out

    async def log_kinds(self, case: dict[str, Any]) -> list[str]:
        """The kinds of the case's log entries, supervision records left out."""
        r = await self.http.get(f"/api/v1/cases/{case['id']}")
        return [e["kind"] for e in r.json()["log"] if e["kind"] != "supervised"]


@pytest_asyncio.fixture(scope="module")
async def desk(lc_http: httpx.AsyncClient, lc_db: asyncpg.Pool) -> Desk:
    """The test's desk on this module's stack."""
    return Desk(lc_http, lc_db)


async def test_a_case_through_all_six_steps_with_refusals_on_the_way(desk: Desk) -> None:
    spot = await grid_point(desk.db, offset=3)
    member, dispatcher = spot["member_id"], f"disp-{spot['township_code']}"
    case = await desk.report(spot, category="environment")
    assert (case["state"], case["assignee"]["id"], case["step"]) == ("dispatched", member, "accept")
    photo = await desk.media(png(note="before"), "image/png", member)

    other = await grid_point(desk.db, offset=4)
    hidden = await desk.do(case, other["member_id"], 404, kind="accept")
    assert hidden["detail"] == f"case {case['id']} not found", "another grid's member does not even see the case"
    too_early = await desk.do(case, dispatcher, 409, kind="close")
    assert too_early["detail"] == "cannot close a case that is dispatched"
    bad_field = await desk.do(case, member, 422, kind="accept", note="unknown field")
    assert bad_field["detail"][0]["loc"][-1] == "note"

    applied = await desk.do(case, member, kind="accept")
    assert applied["status"] == "applied" and [e["kind"] for e in applied["entries"]] == ["accepted"]
    missing = {"sha256": "0" * 64, "kind": "photo"}
    no_media = await desk.do(case, member, 404, kind="verify", finding="属实", evidence=[missing])
    assert no_media["detail"][0]["loc"] == ["body", "evidence", 0, "sha256"]
    await desk.do(case, member, kind="verify", finding="现场确认垃圾堆放属实", evidence=[photo])
    await desk.do(case, member, kind="start", note="联系保洁员清运")
    await desk.do(case, member, kind="submit", summary="已清运完毕", evidence=[photo])
    await desk.do(case, dispatcher, kind="check", passed=True, note="现场复核通过")
    await desk.do(case, dispatcher, kind="close", note="办结销号")

    final = await desk.case(case["id"])
    assert (final["state"], final["step"], final["closed_at"] is not None) == ("closed", "done", True)
    assert await desk.log_kinds(case) == [
        "registered",
        "dispatched",
        "accepted",
        "verified",
        "started",
        "submitted",
        "checked",
        "closed",
    ]


async def test_a_rework_loop_is_counted(desk: Desk) -> None:
    spot = await grid_point(desk.db, offset=5)
    member, dispatcher = spot["member_id"], f"disp-{spot['township_code']}"
    case = await desk.report(spot, category="road")
    photo = await desk.media(png(note="road"), "image/png", member)
    steps: list[dict[str, Any]] = [
        {"kind": "accept"},
        {"kind": "verify", "finding": "路面坑洼属实"},
        {"kind": "start"},
        {"kind": "submit", "summary": "已填补", "evidence": [photo]},
    ]
    for body in steps:
        await desk.do(case, member, **body)
    await desk.do(case, dispatcher, kind="check", passed=False, note="填补不平整，返工")
    reworked = await desk.case(case["id"])
    assert (reworked["state"], reworked["rework_count"]) == ("in_progress", 1)
    await desk.do(case, member, kind="submit", summary="已重新铺平", evidence=[photo])
    await desk.do(case, dispatcher, kind="check", passed=True)
    await desk.do(case, dispatcher, kind="close")
    assert (await desk.case(case["id"]))["rework_count"] == 1


async def test_commands_sent_to_the_topic_are_applied_like_http_ones_when_signed(
    desk: Desk, lc_stack: LiveStack
) -> None:
    spot = await grid_point(desk.db, offset=6)
    case = await desk.report(spot, category="safety")

    def accept() -> dict[str, Any]:
        return {
            "kind": "accept",
            "command_id": str(uuid.uuid4()),
            "case_id": case["id"],
            "issued_at": datetime.now(UTC).isoformat(),
            "actor": {"id": spot["member_id"], "role": "grid_member"},
        }

    unsigned, signed = accept(), accept()
    bootstrap = lc_stack.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", **login_as(ADMIN))
    try:
        topic = lc_stack.env["GRID_TOPIC_PREFIX"] + "case.commands"
        producer.send(topic, key=case["id"].encode(), value=orjson.dumps(unsigned)).get(15)
        # Another process that holds the installation's command key (as the web app and stream workers do).
        producer.send(topic, key=case["id"].encode(), value=signed_record(signed)).get(15)
    finally:
        producer.close()

    async def accepted() -> dict[str, Any] | None:
        r = await desk.http.get(f"/api/v1/commands/{signed['command_id']}")
        return r.json() if r.json()["status"] == "applied" else None

    await wait_for(accepted, "the signed command to be applied")
    assert (await desk.case(case["id"]))["state"] == "accepted"
    letter = "SELECT reason FROM dead_letters WHERE raw LIKE $1"
    refused = await wait_for(
        lambda: desk.db.fetchval(letter, f"%{unsigned['command_id']}%"), "the unsigned one refused"
    )
    assert refused.startswith("unsigned command")
    assert (await desk.http.get(f"/api/v1/commands/{unsigned['command_id']}")).json()["status"] == "pending"


async def test_a_duplicate_is_attached_and_split_off_again(desk: Desk) -> None:
    spot = await grid_point(desk.db, offset=7)
    dispatcher = f"disp-{spot['township_code']}"
    first = await desk.report(spot, category="flood")
    dup = event(
        lon=spot["lon"] + 0.0003, lat=spot["lat"], category="flood", reporter={"id": "gm-neighbour", "name": "邻居"}
    )
    assert (await desk.http.post("/api/v1/events", json=dup)).status_code == 202

    async def attached() -> dict[str, Any] | None:
        c = await desk.case(first["id"])
        return c if c["event_count"] == 2 else None

    await wait_for(attached, "the duplicate to be attached")
    dup_case = case_id_for_event(uuid.UUID(dup["event_id"]))
    assert (await desk.http.get(f"/api/v1/cases/{dup_case}")).status_code == 404
    mine = (await desk.http.get("/api/v1/reports", params={"reporter": "gm-neighbour"})).json()
    assert [c["id"] for c in mine] == [first["id"]]

    await desk.do(first, dispatcher, kind="split", event_id=dup["event_id"], reason="不是同一处积水")
    split = await desk.case(dup_case)
    assert split["state"] == "dispatched" and split["event_count"] == 1
    assert (await desk.case(first["id"]))["event_count"] == 1
    mine = (await desk.http.get("/api/v1/reports", params={"reporter": "gm-neighbour"})).json()
    assert [c["id"] for c in mine] == [str(dup_case)]


async def test_an_enforcement_decision_waits_for_the_legal_reviewer(desk: Desk) -> None:
    spot = await grid_point(desk.db, offset=8)
    town = spot["township_code"]
    officer, partner, reviewer = f"off-{town}-1", f"off-{town}-2", f"legal-{town}"
    case = await desk.report(spot, kind="enforcement_lead", category="illegal_construction", severity="high")
    assert case["assignee"]["kind"] == "team" and case["assignee"]["id"] == f"enf-{town}"
    photo = await desk.media(png(note="site"), "image/png", officer)
    doc = await desk.media(PDF, "application/pdf", officer)
    opening: list[dict[str, Any]] = [
        {"kind": "accept"},
        {"kind": "verify", "finding": "现场在建违建属实"},
        {"kind": "start"},
    ]
    for body in opening:
        await desk.do(case, officer, **body)
    wrong = await desk.do(
        case, officer, 422, kind="stage", stage="file", officers=[officer, partner], evidence=[{**doc, "kind": "photo"}]
    )
    assert wrong["detail"][0]["loc"] == ["body", "evidence", 0, "kind"]
    one = await desk.do(case, officer, 409, kind="stage", stage="file", officers=[officer], evidence=[doc])
    assert "at least 2 officers" in one["detail"]
    pair = [officer, partner]
    await desk.do(case, officer, kind="stage", stage="file", officers=pair, evidence=[doc])
    await desk.do(case, officer, kind="stage", stage="investigate", officers=pair, evidence=[photo, doc])
    decision = {
        "party_kind": "person",
        "party_name": "王大山",
        "party_id_number": "510822198001011234",
        "violation": "未经批准擅自建设，联系电话13800001111",
        "legal_basis": "《中华人民共和国城乡规划法》第六十五条",
        "measures": ["demolition"],
        "fine_yuan": 0,
    }
    decide: dict[str, Any] = {
        "kind": "stage",
        "stage": "decide",
        "officers": pair,
        "evidence": [doc],
        "decision": decision,
    }
    blocked = await desk.do(case, officer, 409, **decide)
    assert "approved legal review" in blocked["detail"]
    await desk.do(case, officer, kind="request_review", decision=decision)
    handler = await desk.do(case, officer, 403, kind="review", approved=True, opinion="同意")
    assert "cannot review" in handler["detail"]
    await desk.do(case, reviewer, kind="review", approved=True, opinion="事实清楚，证据确凿，程序合法")
    await desk.do(case, officer, **decide)
    await desk.do(case, officer, kind="stage", stage="serve", officers=pair, evidence=[doc])
    await desk.do(case, officer, kind="stage", stage="archive", officers=[officer], evidence=[doc])
    await desk.do(case, officer, kind="submit", summary="已拆除并结案归档", evidence=[photo])
    assert (await desk.case(case["id"]))["stages_done"] == ["file", "investigate", "decide", "serve", "archive"]

    feed = (await desk.http.get("/api/v1/disclosures", params={"unit": town})).json()["items"]
    shown = next(d for d in feed if uuid.UUID(case["id"]).hex[:8] in d["number"])
    assert shown["party"] == "王*山" and shown["party_id_number"] == "510*************34"
    assert "violation" not in shown and "13800001111" not in str(feed)
    assert shown["measures"] == ["demolition"]


async def test_an_overdue_case_is_supervised_and_escalated_on_the_clock(desk: Desk, lc_stack: LiveStack) -> None:
    spot = await grid_point(desk.db, offset=9)
    town = spot["township_code"]
    case = await desk.report(spot, category="dispute")
    due = datetime.fromisoformat(case["step_due_at"])
    assert due - datetime.fromisoformat(case["opened_at"]) == timedelta(minutes=60)

    async def supervised(level: int) -> list[asyncpg.Record] | None:
        rows = await desk.db.fetch(
            "SELECT level, notified, step FROM supervisions WHERE case_id = $1 ORDER BY seq", uuid.UUID(case["id"])
        )
        return rows if rows and rows[-1]["level"] >= level else None

    try:
        async with listening(lc_stack.base_url) as live:
            CLOCK.write_text(str((due - datetime.now(UTC)).total_seconds() + 60))
            first = await wait_for(lambda: supervised(1), "a supervision record at level 1")
            assert (first[0]["level"], first[0]["step"]) == (1, "accept")
            assert spot["member_id"] in first[0]["notified"] and f"lead-{town}" in first[0]["notified"]
            assert f"sup-{town[:6]}" not in first[0]["notified"]

            async def shown() -> dict[str, Any] | None:
                return live.find("case_changed", id=case["id"], supervision_level=1)

            await wait_for(shown, "the supervision on the live channel")
            CLOCK.write_text(str((due - datetime.now(UTC)).total_seconds() + 61 * 60))
            second = await wait_for(lambda: supervised(2), "an escalation to the county")
            assert second[-1]["level"] == 2 and f"sup-{town[:6]}" in second[-1]["notified"]
    finally:
        CLOCK.write_text("0")
    notices = (
        await desk.http.get("/api/v1/supervisions", params={"person": f"lead-{town}", "case": case["id"]})
    ).json()
    assert [n["level"] for n in notices] == [2, 1]
    await desk.do(case, spot["member_id"], kind="accept")
    assert (await desk.case(case["id"]))["supervision_level"] == 0


async def test_the_clock_warns_the_assignee_before_the_deadline_and_each_level_hears_of_its_supervision(
    desk: Desk,
) -> None:
    spot = await grid_point(desk.db, offset=10)
    town, member = spot["township_code"], spot["member_id"]
    case = await desk.report(spot, category="dispute")
    case_id, due = uuid.UUID(case["id"]), datetime.fromisoformat(case["step_due_at"])

    async def told(kind: str, *people: str) -> list[asyncpg.Record] | None:
        rows = await desk.db.fetch(
            "SELECT person_id, source FROM notices WHERE case_id = $1 AND kind = $2 ORDER BY id", case_id, kind
        )
        return rows if {r["person_id"] for r in rows} >= set(people) and rows else None

    try:
        CLOCK.write_text(str((due - datetime.now(UTC)).total_seconds() - 10 * 60))  # 10 minutes before the deadline
        warned = await wait_for(lambda: told("deadline", member), "the assignee's deadline warning")
        assert [r["person_id"] for r in warned] == [member] and warned[0]["source"].startswith("deadline:accept:")
        CLOCK.write_text(str((due - datetime.now(UTC)).total_seconds() + 60))
        await wait_for(lambda: told("supervised", member, f"lead-{town}"), "督办 in the member's and leader's inboxes")
        CLOCK.write_text(str((due - datetime.now(UTC)).total_seconds() + 61 * 60))
        await wait_for(lambda: told("supervised", f"sup-{town[:6]}"), "the county's 督办 in the supervisor's inbox")
    finally:
        CLOCK.write_text("0")
    assert len(await told("deadline") or []) == 1, "the clock's later rounds warned again"
    leader = await as_person(desk.db, f"lead-{town}")
    inbox = (await desk.http.get("/api/v1/inbox", params={"limit": 200}, headers=leader)).json()["items"]
    mine = [n for n in inbox if n["case_id"] == case["id"]]
    assert [n["text_zh"][:7] for n in mine] == ["督办（县级）：", "督办（乡镇级）"], "each level, newest first"
    await desk.do(case, member, kind="accept")


async def test_metrics_match_a_hand_computed_example(desk: Desk) -> None:
    spot = await grid_point(desk.db, offset=11)
    member, dispatcher = spot["member_id"], f"disp-{spot['township_code']}"
    photo = await desk.media(png(note="metrics"), "image/png", member)
    start = datetime.now(UTC) - timedelta(seconds=1)

    async def handle(case: dict[str, Any]) -> None:
        await desk.do(case, member, kind="accept")
        await desk.do(case, member, kind="verify", finding="属实")
        await desk.do(case, member, kind="start")

    async def finish(case: dict[str, Any]) -> None:
        await desk.do(case, member, kind="submit", summary="已处理", evidence=[photo])
        await desk.do(case, dispatcher, kind="check", passed=True)
        await desk.do(case, dispatcher, kind="close")

    on_time = await desk.report(spot, category="environment")
    await handle(on_time)
    await finish(on_time)
    reworked = await desk.report(spot, category="road")
    await handle(reworked)
    later = (datetime.fromisoformat(reworked["due_at"]) + timedelta(days=2)).isoformat()
    await desk.do(reworked, member, kind="request_extension", until=later, reason="等材料")
    await desk.do(reworked, dispatcher, kind="decide_extension", granted=True)
    await desk.do(reworked, member, kind="submit", summary="已处理", evidence=[photo])
    await desk.do(reworked, dispatcher, kind="check", passed=False, note="返工")
    await finish(reworked)
    await desk.report(spot, category="market")  # to the market agency: not this grid member's
    still_open = await desk.report(spot, category="other")
    cancelled = await desk.report(spot, category="safety")
    await desk.do(cancelled, dispatcher, kind="cancel", reason="误报")

    params = {"by": "grid", "from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(seconds=1)).isoformat()}
    rows = (await desk.http.get("/api/v1/metrics", params=params)).json()
    row = next(r for r in rows if r["key"] == spot["code"])
    # 5 received (1 cancelled), 2 closed both on time, 1 of 2 checked reworked, 1 of 4 extended, 2 open.
    assert {k: row[k] for k in ("received", "cancelled", "closed", "open", "overdue")} == {
        "received": 5,
        "cancelled": 1,
        "closed": 2,
        "open": 2,
        "overdue": 0,
    }
    assert (row["closure_rate"], row["on_time_rate"], row["rework_rate"], row["extension_rate"]) == (
        0.5,
        1.0,
        0.5,
        0.25,
    )
    assert set(row["median_minutes"]) >= {"accept", "verify", "handle", "check", "close"}
    people = (await desk.http.get("/api/v1/metrics", params={**params, "by": "person"})).json()
    mine = next(r for r in people if r["key"] == member)
    assert (mine["received"], mine["closed"], mine["open"]) == (4, 2, 1)
    assert still_open["state"] == "dispatched"
    listed = (await desk.http.get("/api/v1/cases", params={"assignee": member, "open_only": "true"})).json()
    assert [c["id"] for c in listed] == [still_open["id"]]
    query = {"grid": spot["code"], "category": "road", "q": "垃圾"}
    found = (await desk.http.get("/api/v1/cases", params=query)).json()
    assert [c["id"] for c in found] == [reworked["id"]]


def _gridctl(ts: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "gridctl"), *args], env=ts.env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


async def _table(db: asyncpg.Pool, query: str) -> list[dict[str, Any]]:
    return [dict(r.items()) for r in await db.fetch(query)]


async def test_rebuilding_the_projections_from_the_log_gives_the_same_tables(desk: Desk, lc_stack: LiveStack) -> None:
    queries = (
        "SELECT * FROM cases ORDER BY id",
        "SELECT * FROM case_events ORDER BY event_id",
        "SELECT * FROM supervisions ORDER BY case_id, seq",
    )
    before = [await _table(desk.db, q) for q in queries]
    assert len(before[0]) >= 10
    check = _gridctl(lc_stack, "cases", "rebuild", "--check")
    assert check.returncode == 0, check.stderr
    done = _gridctl(lc_stack, "cases", "rebuild")
    assert done.returncode == 0 and "0 difference(s)" in done.stderr, done.stderr
    after = [await _table(desk.db, q) for q in queries]
    assert after == before


async def test_the_audit_names_an_edited_log_entry(desk: Desk, lc_stack: LiveStack) -> None:
    clean = _gridctl(lc_stack, "audit", "verify")
    assert clean.returncode == 0 and "audit passed" in clean.stderr, clean.stderr
    row = await desk.db.fetchrow("SELECT id, case_id, seq, payload FROM case_log WHERE kind = 'verified' LIMIT 1")
    assert row is not None
    tampered = {**row["payload"], "finding": "现场无问题"}
    async with pool_on(lc_stack, json_codecs=True, as_owner=True) as owner:
        await _edit(owner, row["id"], tampered)
        try:
            caught = _gridctl(lc_stack, "audit", "verify")
            assert caught.returncode == 1
            assert f"case {row['case_id']} entry {row['seq']} (verified): content does not match" in caught.stderr
        finally:
            await _edit(owner, row["id"], row["payload"])
    assert _gridctl(lc_stack, "audit", "verify").returncode == 0

    sha = await desk.db.fetchval(
        "SELECT payload->'evidence'->0->>'sha256' FROM case_log WHERE kind = 'submitted' ORDER BY id LIMIT 1"
    )
    stored = path_for(lc_stack.env["GRID_MEDIA_DIR"], sha)
    aside = stored.with_suffix(".aside")
    stored.rename(aside)
    try:
        missing = _gridctl(lc_stack, "audit", "verify")
        assert missing.returncode == 1 and f"media {sha}: file missing" in missing.stderr, missing.stderr
    finally:
        aside.rename(stored)


async def _edit(db: asyncpg.Pool, row_id: int, payload: dict[str, Any]) -> None:
    """What someone with the database's owner rights could do: switch the append-only trigger off and edit."""
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE case_log DISABLE TRIGGER case_log_no_update")
        await conn.execute("UPDATE case_log SET payload = $2::jsonb WHERE id = $1", row_id, payload)
        await conn.execute("ALTER TABLE case_log ENABLE TRIGGER case_log_no_update")
