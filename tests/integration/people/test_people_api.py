"""People and posts through the API and the CLI: a new member is routed to at once, an ended post leaves a vacancy
that falls back to the duty post, history keeps who served, and bad input is refused naming the field."""

from __future__ import annotations

import subprocess
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from core.cases import case_id_for_event
from dispatch.clock import local_day
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, wait_for
from tests.integration.helpers import event

TOWN = "510822104"  # a township no other test of the session touches
ACTOR: dict[str, str] = {}


def today() -> str:
    return local_day(datetime.now(UTC)).isoformat()


async def _grids(db: asyncpg.Pool, count: int, village: int = 0) -> list[asyncpg.Record]:
    """The first `count` current grids of the township's `village`-th village that has that many, with points."""
    code = await db.fetchval(
        "SELECT village_code FROM grids WHERE township_code = $1 AND valid_to IS NULL"
        " GROUP BY village_code HAVING count(*) >= $2 ORDER BY village_code OFFSET $3 LIMIT 1",
        TOWN,
        count,
        village,
    )
    rows = await db.fetch(
        "SELECT g.code, g.village_code, ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p WHERE g.village_code = $1 AND g.valid_to IS NULL"
        " ORDER BY g.code LIMIT $2",
        code,
        count,
    )
    assert len(rows) == count
    return rows


async def _routed(http: httpx.AsyncClient, db: asyncpg.Pool, spot: asyncpg.Record) -> asyncpg.Record:
    body = event(lon=spot["lon"], lat=spot["lat"])
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    row: asyncpg.Record = await wait_for(lambda: db.fetchrow("SELECT * FROM cases WHERE id = $1", case_id), "case")
    return row


async def _routed_to(http: httpx.AsyncClient, db: asyncpg.Pool, spot: asyncpg.Record, who: str) -> asyncpg.Record:
    """Post events at the spot until one is routed to `who` (the processors reload on the notice)."""

    async def probe() -> asyncpg.Record | None:
        row = await _routed(http, db, spot)
        return row if row["assignee_id"] == who else None

    row: asyncpg.Record = await wait_for(probe, f"an event in grid {spot['code']} to reach {who}", within=20)
    return row


async def _vacant(http: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    return {g["code"]: g for g in (await http.get("/api/v1/grids/vacant")).json()}


async def _ids(http: httpx.AsyncClient, **params: str) -> set[str]:
    reply = await http.get("/api/v1/people", params=params)
    assert reply.status_code == 200, reply.text
    return {p["id"] for p in reply.json()}


async def test_a_part_time_member_on_two_grids_is_routed_to_and_an_ended_post_falls_back_to_the_duty_post(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    a, b = await _grids(db, 2)
    village = a["village_code"]
    revision = await db.fetchval("SELECT revision FROM registry_revisions WHERE part = 'people'")
    # the demo members leave: one ends their service, the other gives up only this post
    assert (await http.delete(f"/api/v1/people/gm-{a['code']}", headers=ACTOR)).status_code == 204
    assert (await http.delete(f"/api/v1/people/gm-{b['code']}/posts/{b['code']}", headers=ACTOR)).status_code == 204
    assert {a["code"], b["code"]} <= set(await _vacant(http))

    added = await http.post(
        "/api/v1/people",
        json={
            "role": "grid_member",
            "name": "李秀英",
            "phone": "13800000001",
            "unit_code": village,
            "grids": [a["code"], b["code"]],
            "post": "part_time",
        },
        headers=ACTOR,
    )
    assert added.status_code == 201, added.text
    member = added.json()
    pid = member["id"]
    assert pid.startswith("gm-") and member["unit_code"] == village
    assert {p["grid_code"]: p["post"] for p in member["posts"]} == {a["code"]: "part_time", b["code"]: "part_time"}
    assert not {a["code"], b["code"]} & set(await _vacant(http))
    assert await db.fetchval("SELECT revision FROM registry_revisions WHERE part = 'people'") > revision

    case = await _routed_to(http, db, a, pid)
    assert case["assignee_kind"] == "grid_member" and case["grid_code"] == a["code"]
    assert await _ids(http, grid=a["code"]) == {pid}
    in_village = await _ids(http, unit=village)
    assert {pid, f"duty-{village}", f"gm-{b['code']}"} <= in_village and f"gm-{a['code']}" not in in_village

    assert (await http.delete(f"/api/v1/people/{pid}/posts/{a['code']}", headers=ACTOR)).status_code == 204
    vacancy = (await _vacant(http))[a["code"]]
    assert vacancy["fallback"] == "village duty post" and vacancy["fallback_id"] == f"duty-{village}"
    await _routed_to(http, db, a, f"duty-{village}")
    await _routed_to(http, db, b, pid)
    assert await _ids(http, grid=a["code"]) == set()
    assert await _ids(http, grid=a["code"], on="2020-06-01") == {f"gm-{a['code']}"}  # history stays answerable

    assert (await http.delete(f"/api/v1/people/{pid}", headers=ACTOR)).status_code == 204
    assert (await http.delete(f"/api/v1/people/{pid}", headers=ACTOR)).status_code == 404
    assert b["code"] in await _vacant(http)
    record = (await http.get(f"/api/v1/people/{pid}")).json()
    assert record["valid_to"] == today()
    assert {p["grid_code"]: p["valid_to"] for p in record["posts"]} == {a["code"]: today(), b["code"]: today()}
    assert await db.fetchval("SELECT count(*) FROM grid_posts WHERE person_id = $1", pid) == 2  # ended, not deleted


async def _members(http: httpx.AsyncClient) -> dict[str, int]:
    return {t["id"]: t["members"] for t in (await http.get("/api/v1/teams", params={"unit": TOWN})).json()}


async def test_officers_legal_reviewers_and_agency_staff_join_their_townships_teams(
    live_stack: LiveStack, http: httpx.AsyncClient
) -> None:
    heads = await _members(http)
    officer = await http.post(
        "/api/v1/people", json={"role": "officer", "name": "张强", "unit_code": TOWN}, headers=ACTOR
    )
    assert officer.status_code == 201, officer.text
    assert officer.json()["team_id"] == f"enf-{TOWN}" and officer.json()["team_kind"] == "enforcement"
    reviewer = await http.post(
        "/api/v1/people",
        json={"role": "legal_reviewer", "name": "赵静", "team_id": f"enf-{TOWN}", "id": f"legal-{TOWN}-api"},
        headers=ACTOR,
    )
    assert reviewer.status_code == 201, reviewer.text
    assert reviewer.json()["unit_code"] == TOWN and reviewer.json()["id"] == f"legal-{TOWN}-api"
    staff = await http.post(
        "/api/v1/people",
        json={"role": "agency_staff", "name": "王敏", "unit_code": TOWN, "agency_type": "police"},
        headers=ACTOR,
    )
    assert staff.status_code == 201, staff.text
    assert staff.json()["team_id"] == f"police-{TOWN}" and staff.json()["agency_type"] == "police"

    officers = await _ids(http, unit=TOWN, role="officer")
    assert {officer.json()["id"], *(f"off-{TOWN}-{n}" for n in range(1, 5))} <= officers
    assert f"legal-{TOWN}-api" in await _ids(http, unit=TOWN, role="legal_reviewer")
    assert staff.json()["id"] in await _ids(http, unit=TOWN, role="agency_staff")
    grown = await _members(http)
    assert grown[f"enf-{TOWN}"] == heads[f"enf-{TOWN}"] + 2 and grown[f"police-{TOWN}"] == heads[f"police-{TOWN}"] + 1

    assert (await http.delete(f"/api/v1/people/{officer.json()['id']}", headers=ACTOR)).status_code == 204
    assert officer.json()["id"] not in await _ids(http, unit=TOWN, role="officer")
    assert (await http.get(f"/api/v1/people/{officer.json()['id']}")).json()["valid_to"] == today()
    assert (await _members(http))[f"enf-{TOWN}"] == heads[f"enf-{TOWN}"] + 1


async def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    here = (await _grids(db, 1))[0]
    there = await db.fetchrow("SELECT code FROM grids WHERE township_code <> $1 AND valid_to IS NULL", TOWN)
    assert there is not None
    member = {"role": "grid_member", "name": "李芳", "unit_code": here["village_code"], "grids": [here["code"]]}
    before = await db.fetchval("SELECT (SELECT count(*) FROM people) + (SELECT count(*) FROM grid_posts)")

    async def refused(body: dict[str, Any], status: int = 422, headers: dict[str, str] = ACTOR) -> list[Any]:
        reply = await http.post("/api/v1/people", json=body, headers=headers)
        assert reply.status_code == status, reply.text
        detail = reply.json()["detail"]
        return [(d["loc"], d["msg"]) for d in detail] if isinstance(detail, list) else [detail]

    assert (await refused(member, 401, headers={"Authorization": ""}))[0].startswith("sign in first")
    assert (await refused({**member, "rank": "captain"}))[0][0] == ["body", "rank"]
    assert (await refused({**member, "grids": []}))[0][0] == ["body", "grids"]
    assert (await refused({**member, "unit_code": "510822104999"}))[0] == (
        ["body", "unit_code"],
        f"unit 510822104999 does not exist on {today()}",
    )
    wrong = await refused({**member, "grids": [here["code"], "510822104999001", there["code"]]})
    assert [loc for loc, _ in wrong] == [["body", "grids", 1], ["body", "grids", 2]]
    assert "does not exist" in wrong[0][1] and f"is not in unit {here['village_code']}" in wrong[1][1]
    assert (await refused({**member, "valid_from": "2020-01-01"}))[0][0] == ["body", "valid_from"]
    officer = {"role": "officer", "name": "张强"}
    assert (await refused({**officer, "team_id": "enf-510822999"}))[0][0] == ["body", "team_id"]
    assert "is an agency team" in (await refused({**officer, "team_id": f"police-{TOWN}"}))[0][1]
    assert (await refused({**officer, "unit_code": here["village_code"]}))[0] == (
        ["body", "unit_code"],
        f"unit {here['village_code']} is a village, not a township on {today()}",
    )
    staff = {"role": "agency_staff", "name": "王敏", "unit_code": TOWN, "agency_type": "tax"}
    assert (await refused(staff))[0] == (["body", "agency_type"], f"township {TOWN} has no tax agency on {today()}")
    assert await refused({**officer, "unit_code": TOWN, "id": f"off-{TOWN}-1"}, status=409) == [
        f"person off-{TOWN}-1 already exists"
    ]

    post = {"grid_code": here["code"]}
    reply = await http.post(f"/api/v1/people/off-{TOWN}-1/posts", json=post, headers=ACTOR)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["path", "person_id"]
    assert (await http.post("/api/v1/people/nobody/posts", json=post, headers=ACTOR)).status_code == 404
    assert (await http.delete("/api/v1/people/nobody", headers=ACTOR)).status_code == 404
    reply = await http.delete(f"/api/v1/people/gm-{here['code']}/posts/{there['code']}", headers=ACTOR)
    assert reply.status_code == 404 and "holds no post" in reply.json()["detail"]
    reply = await http.delete(f"/api/v1/people/gm-{here['code']}/posts/12345", headers=ACTOR)
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["path", "grid_code"]
    reply = await http.get("/api/v1/people", params={"unit": "5108"})
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["query", "unit"]
    assert await db.fetchval("SELECT (SELECT count(*) FROM people) + (SELECT count(*) FROM grid_posts)") == before


def gridctl(ts: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    """Run gridctl in the session's environment."""
    return subprocess.run([str(VENV_BIN / "gridctl"), *args], env=ts.env, cwd=ROOT, capture_output=True, text=True)


async def test_the_cli_adds_lists_posts_and_ends_people(live_stack: LiveStack, db: asyncpg.Pool) -> None:
    spare = (await _grids(db, 1, village=1))[0]
    spare_member = f"gm-{spare['code']}"
    there = await db.fetchval("SELECT code FROM grids WHERE township_code <> $1 AND valid_to IS NULL", TOWN)
    add = ["people", "add", "--role", "grid_member", "--name", "周红", "--by", "li"]
    refused = gridctl(live_stack, *add)
    assert refused.returncode == 1 and "unit_code: Value error, a grid member needs" in refused.stderr
    refused = gridctl(live_stack, *add, "--unit", TOWN, "--grid", there)
    assert refused.returncode == 1 and f"grids.0: grid {there} is not in unit {TOWN}" in refused.stderr
    added = gridctl(
        live_stack, *add, "--unit", TOWN, "--grid", spare["code"], "--post", "part_time", "--id", "gm-cli-zhou"
    )
    assert added.returncode == 0, added.stderr
    account = gridctl(live_stack, "users", "add", "zhouhong", "--role", "grid_member", "--person", "gm-cli-zhou",
                      "--password", "zhou-hong-2026")  # fmt: skip
    assert account.returncode == 0, account.stderr
    listed = gridctl(live_stack, "people", "list", "--grid", spare["code"])
    assert "gm-cli-zhou" in listed.stdout and spare_member in listed.stdout
    assert gridctl(live_stack, "people", "end", "gm-cli-zhou", "--grid", spare["code"], "--by", "li").returncode == 0
    assert gridctl(live_stack, "people", "post", "gm-cli-zhou", spare["code"], "--by", "li").returncode == 0
    assert gridctl(live_stack, "people", "end", "gm-cli-zhou", "--by", "li").returncode == 0
    again = gridctl(live_stack, "people", "end", "gm-cli-zhou", "--by", "li")
    assert again.returncode == 1 and "person gm-cli-zhou is not in service" in again.stderr
    state = await db.fetchval("SELECT disabled_at IS NOT NULL FROM users WHERE username = 'zhouhong'")
    assert state is True, "ending a person's service disables their account"
    enabled = gridctl(live_stack, "users", "enable", "zhouhong")
    assert enabled.returncode == 1 and "zhouhong belongs to gm-cli-zhou, whose service ended on" in enabled.stderr
    posts = await db.fetch("SELECT post, valid_to FROM grid_posts WHERE person_id = 'gm-cli-zhou' ORDER BY id")
    assert [(p["post"], p["valid_to"] is not None) for p in posts] == [("part_time", True), ("full_time", True)]
    teams = gridctl(live_stack, "people", "teams", "--unit", TOWN)
    assert f"enf-{TOWN}" in teams.stdout and f"justice-{TOWN}" in teams.stdout
