"""Self-reported cases on the real stack, over HTTP: a grid member reports in their own grid and the case closes
under each township policy; an assignee hands a case back after accepting; a dispatcher reassigns and transfers an
open case in any state."""

from __future__ import annotations

import json
import subprocess
import uuid
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from tests.integration.auth import as_person
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, wait_for
from tests.integration.helpers import event, grid_point
from tests.media_samples import png


class Field:
    """People acting over HTTP on the session's stack: each request carries the person's own token."""

    def __init__(self, http: httpx.AsyncClient, db: asyncpg.Pool) -> None:
        self.http, self.db = http, db

    async def report_own(self, spot: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """The grid's member reports in their own grid, with a photo; returns the case once it exists."""
        me = await as_person(self.db, spot["member_id"])
        data = png(note=str(uuid.uuid4()))
        stored = await self.http.post("/api/v1/media", content=data, headers={**me, "Content-Type": "image/png"})
        assert stored.status_code == 201, stored.text
        media = [{"sha256": stored.json()["sha256"], "content_type": "image/png", "size": len(data)}]
        reporter = {"id": spot["member_id"], "name": spot["member"]}
        body = event(lon=spot["lon"], lat=spot["lat"], reporter=reporter, media=media, **fields)
        posted = await self.http.post("/api/v1/events", json=body, headers=me)
        assert posted.status_code == 202, posted.text
        return await self.case(case_id_for_event(uuid.UUID(body["event_id"])))

    async def case(self, case_id: uuid.UUID | str) -> dict[str, Any]:
        """The case with its log, once it exists."""

        async def found() -> dict[str, Any] | None:
            r = await self.http.get(f"/api/v1/cases/{case_id}")
            return r.json() if r.status_code == 200 else None

        detail: dict[str, Any] = await wait_for(found, f"case {case_id}")
        return {**detail["case"], "log": detail["log"]}

    async def do(self, case: dict[str, Any], person: str, expect: int = 200, **body: Any) -> dict[str, Any]:
        """A person's command, checked against the expected status; returns the case after it."""
        headers = await as_person(self.db, person)
        r = await self.http.post(f"/api/v1/cases/{case['id']}/commands", json=body, headers=headers)
        assert r.status_code == expect, r.text
        return await self.case(case["id"]) if expect == 200 else r.json()

    async def finish(self, case: dict[str, Any], handler: str, dispatcher: str) -> dict[str, Any]:
        """From verified to closed: the handler starts and submits with a photo, the dispatcher checks and closes."""
        uploader = {**await as_person(self.db, handler), "Content-Type": "image/png"}
        photo = await self.http.post("/api/v1/media", content=png(note=str(uuid.uuid4())), headers=uploader)
        evidence = [{"sha256": photo.json()["sha256"], "kind": "photo"}]
        await self.do(case, handler, kind="start")
        await self.do(case, handler, kind="submit", summary="已清理完毕", evidence=evidence)
        await self.do(case, dispatcher, kind="check", passed=True)
        return await self.do(case, dispatcher, kind="close", note="办结销号")


def gridctl(ts: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run gridctl in the session's environment."""
    return subprocess.run([str(VENV_BIN / "gridctl"), *args], env=ts.env, cwd=ROOT, capture_output=True, text=True)


def kinds(case: dict[str, Any]) -> list[str]:
    """The kinds of the case's log entries."""
    return [e["kind"] for e in case["log"]]


async def test_under_reporter_report_the_members_own_report_is_the_verification_and_the_case_closes(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    people = Field(http, db)
    spot = await grid_point(db, offset=20)
    member, dispatcher = spot["member_id"], f"disp-{spot['township_code']}"
    case = await people.report_own(spot)
    assert (case["state"], case["assignee"]["id"]) == ("dispatched", member)
    assert case["log"][0]["payload"]["self_report"] == "reporter_report"
    photo = case["log"][0]["payload"]["source"]["media"][0]["sha256"]

    case = await people.do(case, member, kind="accept")
    assert case["state"] == "verified"
    verified = case["log"][-1]
    assert (verified["kind"], verified["actor_id"]) == ("verified", "system:self-report")
    assert verified["payload"]["basis"] == "reporter_report" and "快速核查" in verified["payload"]["finding"]
    assert [e["sha256"] for e in verified["payload"]["evidence"]] == [photo]

    case = await people.finish(case, member, dispatcher)
    assert case["state"] == "closed"
    assert kinds(case) == [
        "registered",
        "dispatched",
        "accepted",
        "verified",
        "started",
        "submitted",
        "checked",
        "closed",
    ]
    audit = gridctl(live_stack, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    rebuilt = gridctl(live_stack, "cases", "rebuild", "--check")
    assert rebuilt.returncode == 0, "the system's entry folds into the same case: " + rebuilt.stdout + rebuilt.stderr


async def test_under_duty_post_the_village_duty_post_verifies_and_the_case_closes(
    http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    people = Field(http, db)
    spot = await grid_point(db, offset=40)
    town, member = spot["township_code"], spot["member_id"]
    village = await db.fetchval("SELECT village_code FROM grids WHERE code = $1", spot["code"])
    duty, dispatcher = f"duty-{village}", f"disp-{town}"
    dispatcher_headers = await as_person(db, dispatcher)
    refused = await http.put(
        f"/api/v1/self-report-policies/{town}", json={"policy": "duty_post"}, headers=dispatcher_headers
    )
    assert refused.status_code == 403
    bad = await http.put(f"/api/v1/self-report-policies/{town}", json={"policy": "anyone"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "policy"]
    put = await http.put(f"/api/v1/self-report-policies/{town}", json={"policy": "duty_post", "note": "村值班核查"})
    assert put.status_code == 200 and put.json()["policy"] == "duty_post"
    try:

        async def to_duty_post() -> dict[str, Any] | None:
            case = await people.report_own(spot)
            return case if case["assignee"]["id"] == duty else None

        case = await wait_for(to_duty_post, "a self-report to reach the village duty post", within=20)
        assert "village duty post verifies" in case["assignee"]["fallback"]
        await people.do(case, member, 403, kind="accept")
        await people.do(case, duty, kind="accept")
        case = await people.do(case, duty, kind="verify", finding="值班员现场核实属实")
        assert case["state"] == "verified"
        case = await people.finish(case, duty, dispatcher)
        assert case["state"] == "closed"
    finally:
        assert (await http.delete(f"/api/v1/self-report-policies/{town}")).status_code == 204
    assert (await http.delete(f"/api/v1/self-report-policies/{town}")).status_code == 404
    listed = {p["unit_code"]: p["policy"] for p in (await http.get("/api/v1/self-report-policies")).json()}
    assert town not in listed and listed["510822"] == "reporter_report"
    trail = [c for c in (await http.get("/api/v1/self-report-policies/changes")).json() if c["unit_code"] == town]
    assert [(c["action"], c["changed_by"]) for c in trail[:2]] == [("clear", "admin"), ("set", "admin")]
    assert trail[1]["after"]["policy"] == "duty_post"


async def test_an_accepted_case_is_handed_back_reassigned_and_transferred_keeping_its_state(
    http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    people = Field(http, db)
    spot, neighbour = await grid_point(db, offset=60), await grid_point(db, offset=61)
    assert spot["township_code"] == neighbour["township_code"]
    member, other, dispatcher = spot["member_id"], neighbour["member_id"], f"disp-{spot['township_code']}"
    case = await people.report_own(spot)
    case = await people.do(case, member, kind="accept")
    assert case["state"] == "verified"
    case = await people.do(case, member, kind="return", reason="需执法队处置，非本人能力范围")
    assert (case["state"], case["log"][-1]["payload"]["reason"]) == ("returned", "需执法队处置，非本人能力范围")

    assignee = {"kind": "grid_member", "id": other}
    case = await people.do(case, dispatcher, kind="assign", assignee=assignee, reason="改派邻格网格员")
    await people.do(case, other, kind="accept")
    await people.do(case, other, kind="verify", finding="属实")
    case = await people.do(case, other, kind="start")
    assert case["state"] == "in_progress"

    headers = await as_person(db, dispatcher)
    url = f"/api/v1/cases/{case['id']}/transfer"
    moved = await http.post(url, json={"grid_code": spot["code"], "reason": "转回本网格处置"}, headers=headers)
    assert moved.status_code == 200 and moved.json()["status"] == "applied", moved.text
    case = await people.case(case["id"])
    assert (case["state"], case["grid_code"], case["assignee"]["id"]) == ("in_progress", spot["code"], member)
    assert case["assignee"]["name"] == spot["member"], "the name is the registry's"
    assert case["step_due_at"] == case["due_at"], "a transfer keeps the clock"

    case = await people.do(case, dispatcher, kind="assign", assignee=assignee, reason="改派")
    assert (case["state"], case["assignee"]["id"]) == ("dispatched", other), "reassigned while in progress"

    unknown = await http.post(url, json={"grid_code": f"{spot['township_code']}999999", "reason": "x"}, headers=headers)
    assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == ["body", "grid_code"]
    far = await db.fetchval("SELECT code FROM grids WHERE township_code <> $1 LIMIT 1", spot["township_code"])
    outside = await http.post(url, json={"grid_code": far, "reason": "x"}, headers=headers)
    assert outside.status_code == 404 and outside.json()["detail"][0]["loc"] == ["body", "grid_code"]
    foreign_team = {
        "grid_code": spot["code"],
        "assignee": {"kind": "team", "id": f"enf-{far[:9]}"},
        "reason": "x",
    }
    team = await http.post(url, json=foreign_team, headers=headers)
    assert team.status_code == 404 and team.json()["detail"][0]["loc"] == ["body", "assignee", "id"]
    worker = await http.post(url, json={"grid_code": spot["code"], "reason": "x"}, headers=await as_person(db, other))
    assert worker.status_code == 403


async def test_gridctl_sets_lists_and_clears_a_townships_policy_audited(
    live_stack: LiveStack, db: asyncpg.Pool
) -> None:
    town = (await grid_point(db, offset=80))["township_code"]
    bad = gridctl(live_stack, "self-report", "set", town, "anyone", "--by", "张科长")
    assert bad.returncode == 1 and "policy: Input should be" in bad.stderr
    assert gridctl(live_stack, "self-report", "set", "5108", "duty_post", "--by", "张科长").returncode == 1
    done = gridctl(live_stack, "self-report", "set", town, "duty_post", "--by", "张科长", "--note", "村值班核查")
    assert done.returncode == 0, done.stdout + done.stderr
    listed = gridctl(live_stack, "self-report", "list")
    assert any(line.split()[:2] == [town, "duty_post"] for line in listed.stdout.splitlines()), listed.stdout
    assert gridctl(live_stack, "self-report", "clear", town, "--by", "张科长").returncode == 0
    again = gridctl(live_stack, "self-report", "clear", town, "--by", "张科长")
    assert again.returncode == 1 and "no self-report policy of its own" in again.stderr
    trail = [c for c in json.loads(gridctl(live_stack, "self-report", "changes").stdout) if c["unit_code"] == town]
    assert [(c["action"], c["changed_by"]) for c in trail[:2]] == [("clear", "张科长"), ("set", "张科长")]
    assert trail[1]["after"]["note"] == "村值班核查"
