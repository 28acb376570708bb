"""Step SLAs are data edited through the API and gridctl: audited with who, when and why, scoped to the caller's area,
and used by the running stream processors for the next case without a restart."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from streams.acls import ADMIN
from tests.integration.auth import as_person
from tests.integration.harness import VENV_BIN, LiveStack, process_user, wait_for
from tests.integration.helpers import event

PATH = "/api/v1/step-slas"
COUNTY_ACCEPT = 60  # the demo county's default for a normal case of any category


async def _town_point(db: asyncpg.Pool, town_rank: int) -> dict[str, Any]:
    """A grid point in the demo county's `town_rank`-th township (by code)."""
    row = await db.fetchrow(
        "SELECT g.code, g.township_code, ST_X(p) AS lon, ST_Y(p) AS lat, gp.person_id AS member_id FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p JOIN grid_posts gp ON gp.grid_code = g.code"
        " WHERE g.valid_to IS NULL AND gp.valid_to IS NULL AND g.township_code = (SELECT code FROM admin_units"
        " WHERE level = 'township' AND valid_to IS NULL ORDER BY code OFFSET $1 LIMIT 1) ORDER BY g.code LIMIT 1",
        town_rank,
    )
    assert row is not None
    return dict(row.items())


async def _new_case(http: httpx.AsyncClient, db: asyncpg.Pool, spot: dict[str, Any], category: str) -> asyncpg.Record:
    """Report at the spot and wait for the case the router opens."""
    body = event(lon=spot["lon"], lat=spot["lat"], category=category, severity="normal")
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    row: asyncpg.Record = await wait_for(lambda: db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id), "case")
    return row


async def _accept_window(http: httpx.AsyncClient, db: asyncpg.Pool, spot: dict[str, Any], category: str) -> int:
    case = await _new_case(http, db, spot, category)
    return int((case["step_due_at"] - case["opened_at"]) / timedelta(minutes=1))


async def _deadline_becomes(
    http: httpx.AsyncClient, db: asyncpg.Pool, spot: dict[str, Any], category: str, minutes: int
) -> None:
    """Wait until a new case at the spot gets `minutes` to accept (the processors reload on the notice)."""

    async def applied() -> bool:
        return await _accept_window(http, db, spot, category) == minutes

    await wait_for(applied, f"a new case to get {minutes} minutes to accept, without a restart", within=20)


async def test_an_sla_edited_through_the_api_sets_the_next_cases_deadline_and_is_audited(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await _town_point(db, 3)
    town = spot["township_code"]
    assert await _accept_window(http, db, spot, "other") == COUNTY_ACCEPT

    spec = {"unit_code": town, "category": "other", "accept_minutes": 7, "verify_minutes": 45, "reason": "提速试点"}
    created = await http.post(PATH, json=spec)
    assert created.status_code == 201, created.text
    policy = created.json()
    assert (policy["accept_minutes"], policy["updated_by"], policy["valid_to"]) == (7, "admin", None)
    try:
        await _deadline_becomes(http, db, spot, "other", 7)
        again = await http.post(PATH, json=spec)
        assert again.status_code == 409 and "replace" in again.json()["detail"]

        terms = {"accept_minutes": 9, "verify_minutes": 45, "reason": "试点后微调"}
        replaced = await http.put(f"{PATH}/{policy['id']}", json=terms)
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["id"] != policy["id"] and replaced.json()["category"] == "06"  # "other" names its 大类
        await _deadline_becomes(http, db, spot, "other", 9)
        listed = (await http.get(PATH, params={"unit": town})).json()
        assert [(p["id"], p["accept_minutes"]) for p in listed] == [(replaced.json()["id"], 9)]
    finally:
        current = [p for p in (await http.get(PATH, params={"unit": town})).json() if p["category"] == "06"]
        for p in current:
            assert (await http.delete(f"{PATH}/{p['id']}", params={"reason": "试点结束"})).status_code == 204
    gone = await http.delete(f"{PATH}/{replaced.json()['id']}", params={"reason": "再次结束"})
    assert gone.status_code == 404 and gone.json()["detail"][0]["loc"] == ["path", "policy_id"]
    await _deadline_becomes(http, db, spot, "other", COUNTY_ACCEPT)

    trail = (await http.get(f"{PATH}/changes", params={"unit": town})).json()
    mine = [c for c in trail if c["policy_id"] in (policy["id"], replaced.json()["id"])]
    assert [(c["action"], c["reason"], c["changed_by"]) for c in mine] == [
        ("end", "试点结束", "admin"),
        ("replace", "试点后微调", "admin"),
        ("create", "提速试点", "admin"),
    ]
    assert mine[1]["before"]["accept_minutes"] == 7 and mine[1]["after"]["accept_minutes"] == 9
    assert mine[1]["before"]["valid_to"] == mine[1]["after"]["valid_from"]


async def test_bad_edits_are_refused_naming_the_field(http: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    spot = await _town_point(db, 2)
    good = {"unit_code": spot["township_code"], "accept_minutes": 10, "verify_minutes": 60, "reason": "测试"}
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    for change, field, status in [
        ({"accept_minutes": 0}, "accept_minutes", 422),
        ({"verify_minutes": 10**6}, "verify_minutes", 422),
        ({"reason": ""}, "reason", 422),
        ({"valid_from": yesterday}, "valid_from", 422),
        ({"unit_code": "510899"}, "unit_code", 404),
        ({"unit_code": "510822999"}, "unit_code", 404),
    ]:
        reply = await http.post(PATH, json={**good, **change})
        assert reply.status_code == status, (change, reply.text)
        assert field in [str(e["loc"][-1]) for e in reply.json()["detail"]], reply.text
    assert (await http.post(PATH, json=good, headers={"Authorization": ""})).status_code == 401
    dispatcher = await as_person(db, f"disp-{spot['township_code']}")
    assert (await http.post(PATH, json=good, headers=dispatcher)).status_code == 403
    missing = await http.put(f"{PATH}/999999999", json={"accept_minutes": 5, "verify_minutes": 5, "reason": "x"})
    assert missing.status_code == 404 and missing.json()["detail"][0]["loc"] == ["path", "policy_id"]
    no_reason = await http.delete(f"{PATH}/1")
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"][-1] == "reason"


async def test_each_townships_staff_see_their_own_and_the_countys_policies_only(
    http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    a, b = (await _town_point(db, 0))["township_code"], (await _town_point(db, 1))["township_code"]
    ids = {}
    for town in (a, b):
        body = {"unit_code": town, "priority": "low", "accept_minutes": 120, "verify_minutes": 600, "reason": "低优先"}
        reply = await http.post(PATH, json=body)
        assert reply.status_code == 201, reply.text
        ids[town] = reply.json()["id"]
    try:
        for mine, theirs in ((a, b), (b, a)):
            staff = await as_person(db, f"disp-{mine}")
            listed = (await http.get(PATH, headers=staff)).json()
            units = {p["unit_code"] for p in listed}
            assert units == {mine, mine[:6]} and ids[mine] in {p["id"] for p in listed}
            assert (await http.get(PATH, headers=staff, params={"unit": theirs})).json() == []
            trail = (await http.get(f"{PATH}/changes", headers=staff)).json()
            assert {c["unit_code"] for c in trail} <= {mine, mine[:6]} and ids[mine] in {c["policy_id"] for c in trail}
            refused = await http.put(
                f"{PATH}/{ids[theirs]}", headers=staff, json={"accept_minutes": 1, "verify_minutes": 1, "reason": "x"}
            )
            assert refused.status_code == 403
        worker = await as_person(db, (await _town_point(db, 0))["member_id"])
        assert (await http.get(PATH, headers=worker)).status_code == 403
        county = await as_person(db, f"sup-{a[:6]}")
        assert {ids[a], ids[b]} <= {p["id"] for p in (await http.get(PATH, headers=county)).json()}
    finally:
        for policy in ids.values():
            await http.delete(f"{PATH}/{policy}", params={"reason": "测试结束"})


def _gridctl(stack: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**stack.env, **process_user(ADMIN)}
    return subprocess.run([str(VENV_BIN / "gridctl"), "sla", *args], env=env, capture_output=True, text=True)


async def test_gridctl_sets_lists_and_ends_a_policy_that_the_processors_use(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    spot = await _town_point(db, 4)
    town = spot["township_code"]
    refused = _gridctl(live_stack, "set", town, "--accept", "0", "--verify", "30", "--by", "张科长", "--reason", "x")
    assert refused.returncode == 1 and "accept_minutes" in refused.stderr

    args = ("--verify", "30", "--category", "dispute", "--by", "张科长", "--reason", "矛盾纠纷先行化解")
    first = _gridctl(live_stack, "set", town, "--accept", "12", *args)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stderr and "category=07" in first.stdout  # "dispute" names its 大类
    await _deadline_becomes(http, db, spot, "dispute", 12)
    second = _gridctl(live_stack, "set", town, "--accept", "15", *args)
    assert second.returncode == 0 and "replaced" in second.stderr, second.stderr
    await _deadline_becomes(http, db, spot, "dispute", 15)

    listed = _gridctl(live_stack, "list", "--unit", town)
    lines = [line for line in listed.stdout.splitlines() if "category=07" in line]
    assert len(lines) == 1 and "accept 15 min, verify 30 min" in lines[0]
    policy_id = lines[0].split()[0].lstrip("#")
    ended = _gridctl(live_stack, "end", policy_id, "--by", "张科长", "--reason", "恢复县级默认")
    assert ended.returncode == 0, ended.stderr
    assert _gridctl(live_stack, "end", policy_id, "--by", "张科长", "--reason", "again").returncode == 1
    await _deadline_becomes(http, db, spot, "dispute", COUNTY_ACCEPT)

    trail = _gridctl(live_stack, "changes", "--unit", town)
    assert trail.returncode == 0
    assert [(c["action"], c["reason"]) for c in json.loads(trail.stdout)[:3]] == [
        ("end", "恢复县级默认"),
        ("replace", "矛盾纠纷先行化解"),
        ("create", "矛盾纠纷先行化解"),
    ]
