"""Every endpoint is scoped to the caller's units: one check per endpoint, on two townships' cases.

`test_every_endpoint_has_a_scoping_check` fails when an endpoint is added without a check here.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from core.cases import case_id_for_event
from tests.integration.auth import admin_token, as_person, gateway_headers
from tests.integration.harness import LiveStack, wait_for
from tests.integration.helpers import event, listening
from tests.media_samples import png

Check = Callable[["World"], Awaitable[None]]
CHECKS: dict[tuple[str, str], Check] = {}
# Covered in test_auth.py (sign-in, refresh, sign-out, me; the intake's reporter rule and limits).
ELSEWHERE = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/auth/me"),
}


def check(method: str, path: str) -> Callable[[Check], Check]:
    """Register the scoping check of one endpoint."""

    def register(fn: Check) -> Check:
        CHECKS[(method, path)] = fn
        return fn

    return register


@dataclass
class Side:
    """One township: a case there with a photo, its grid member, and its people's tokens."""

    town: str
    grid: str
    case_id: str
    event_id: str
    photo: str
    member: str
    dispatcher: dict[str, str]
    worker: dict[str, str]
    officer: dict[str, str]


@dataclass
class World:
    """Two townships' sides, an HTTP client and the database."""

    a: Side
    b: Side
    http: httpx.AsyncClient
    db: asyncpg.Pool
    stack: LiveStack

    async def get(self, who: dict[str, str], path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, headers=who, params=params)

    async def status(self, who: dict[str, str], method: str, path: str, **kw: Any) -> int:
        return (await self.http.request(method, path, headers=who, **kw)).status_code


async def _side(http: httpx.AsyncClient, db: asyncpg.Pool, town: str, offset: int) -> Side:
    spot = await db.fetchrow(
        "SELECT g.code, ST_X(p) AS lon, ST_Y(p) AS lat, gp.person_id AS member FROM grids g"
        " CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p JOIN grid_posts gp ON gp.grid_code = g.code"
        " WHERE g.township_code = $1 AND g.valid_to IS NULL AND gp.valid_to IS NULL ORDER BY g.code OFFSET $2 LIMIT 1",
        town,
        offset,
    )
    assert spot is not None
    worker = await as_person(db, spot["member"])
    upload = await http.post(
        "/api/v1/media", content=png(note=uuid.uuid4().hex), headers={**worker, "content-type": "image/png"}
    )
    assert upload.status_code == 201, upload.text
    photo = upload.json()["sha256"]
    media = [{"sha256": photo, "content_type": "image/png", "size": upload.json()["size"]}]
    body = event(lon=spot["lon"], lat=spot["lat"], reporter={"id": spot["member"], "name": "王芳"}, media=media)
    assert (await http.post("/api/v1/events", json=body, headers=worker)).status_code == 202
    case_id = str(case_id_for_event(uuid.UUID(body["event_id"])))

    async def opened() -> bool | None:
        return await db.fetchval("SELECT true FROM cases WHERE id = $1", uuid.UUID(case_id))

    await wait_for(opened, f"the case in {town}")
    return Side(
        town=town,
        grid=spot["code"],
        case_id=case_id,
        event_id=body["event_id"],
        photo=photo,
        member=spot["member"],
        dispatcher=await as_person(db, f"disp-{town}"),
        worker=worker,
        officer=await as_person(db, f"off-{town}-1"),
    )


async def _account(w: World, person_id: str) -> str:
    """The username of a person's account (the demo's `dispatcher` for the first township's dispatcher)."""
    username: str = await w.db.fetchval("SELECT username FROM users WHERE person_id = $1", person_id)
    return username


@pytest_asyncio.fixture(scope="module")
async def world(live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool) -> World:
    """A case with a photo in each of two townships."""
    towns = [
        r["code"]
        for r in await db.fetch(
            "SELECT code FROM admin_units WHERE level = 'township' AND valid_to IS NULL ORDER BY code LIMIT 2"
        )
    ]
    return World(await _side(http, db, towns[0], 5), await _side(http, db, towns[1], 5), http, db, live_stack)


def _ids(reply: httpx.Response) -> set[str]:
    assert reply.status_code == 200, reply.text
    return {c["id"] for c in reply.json()}


@check("GET", "/healthz")
async def _health(w: World) -> None:
    reply = await w.get({"Authorization": ""}, "/healthz")
    assert reply.status_code == 200 and set(reply.json()) == {"status", "live_clients", "live_messages"}


# --- cases -------------------------------------------------------------------------------------------------------


@check("GET", "/api/v1/cases")
async def _cases(w: World) -> None:
    seen_a, seen_b = (
        _ids(await w.get(w.a.dispatcher, "/api/v1/cases")),
        _ids(await w.get(w.b.dispatcher, "/api/v1/cases")),
    )
    assert w.a.case_id in seen_a and w.b.case_id not in seen_a
    assert w.b.case_id in seen_b and w.a.case_id not in seen_b
    assert w.b.case_id not in _ids(await w.get(w.a.dispatcher, "/api/v1/cases", township=w.b.town))
    worker = _ids(await w.get(w.a.worker, "/api/v1/cases"))
    assert w.a.case_id in worker and w.b.case_id not in worker
    assert w.a.case_id not in _ids(await w.get(w.a.officer, "/api/v1/cases")), "not dispatched to the team"
    assert (await w.get({"Authorization": ""}, "/api/v1/cases")).status_code == 401


@check("GET", "/api/v1/cases/{case_id}")
async def _case(w: World) -> None:
    hidden = await w.get(w.a.dispatcher, f"/api/v1/cases/{w.b.case_id}")
    missing = await w.get(w.a.dispatcher, f"/api/v1/cases/{uuid.uuid4()}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == f"case {w.b.case_id} not found", "the same answer as for no case at all"
    before = await w.db.fetchval("SELECT count(*) FROM access_log WHERE subject = $1", w.a.case_id)
    assert (await w.get(w.a.dispatcher, f"/api/v1/cases/{w.a.case_id}")).status_code == 200
    logged = await w.db.fetchrow(
        "SELECT username, role, what, fields FROM access_log WHERE subject = $1 ORDER BY id DESC LIMIT 1", w.a.case_id
    )
    assert await w.db.fetchval("SELECT count(*) FROM access_log WHERE subject = $1", w.a.case_id) == before + 1
    assert logged is not None and (logged["username"], logged["role"], logged["what"]) == (
        await _account(w, f"disp-{w.a.town}"),
        "dispatcher",
        "case",
    )
    assert "media" in logged["fields"]


@check("POST", "/api/v1/cases/{case_id}/commands")
async def _commands(w: World) -> None:
    path = f"/api/v1/cases/{w.a.case_id}/commands"
    other = await w.http.post(path, json={"kind": "accept"}, headers=w.b.dispatcher)
    assert other.status_code == 404 and other.json()["detail"] == f"case {w.a.case_id} not found"
    gateway = await w.http.post(path, json={"kind": "accept"}, headers=gateway_headers())
    assert gateway.status_code == 404, "a gateway reads and changes no case"
    accepted = await w.http.post(path, json={"kind": "accept"}, headers=w.a.worker)
    assert accepted.status_code == 200, accepted.text
    command_id = accepted.json()["command_id"]
    assert (await w.get(w.a.worker, f"/api/v1/commands/{command_id}")).json()["status"] == "applied"
    foreign = await w.get(w.b.dispatcher, f"/api/v1/commands/{command_id}")
    assert foreign.status_code == 200 and foreign.json() == {"command_id": command_id, "status": "pending"}


@check("POST", "/api/v1/cases/{case_id}/transfer")
async def _transfer(w: World) -> None:
    path = f"/api/v1/cases/{w.a.case_id}/transfer"
    to_a, to_b = {"grid_code": w.a.grid, "reason": "x"}, {"grid_code": w.b.grid, "reason": "x"}
    other = await w.http.post(path, json=to_a, headers=w.b.dispatcher)
    assert other.status_code == 404 and other.json()["detail"] == f"case {w.a.case_id} not found"
    assert await w.status(w.a.worker, "POST", path, json=to_a) == 403
    away = await w.http.post(path, json=to_b, headers=w.a.dispatcher)
    assert away.status_code == 404 and away.json()["detail"][0]["loc"] == ["body", "grid_code"], "as if no grid"


@check("GET", "/api/v1/commands/{command_id}")
async def _command(w: World) -> None:
    # Exercised with a real command in the check of POST /cases/{case_id}/commands; unknown ids are pending.
    reply = await w.get(w.b.dispatcher, f"/api/v1/commands/{uuid.uuid4()}")
    assert reply.status_code == 200 and reply.json()["status"] == "pending"


# --- map ---------------------------------------------------------------------------------------------------------


@check("GET", "/api/v1/grids")
async def _grids(w: World) -> None:
    reply = await w.get(w.a.dispatcher, "/api/v1/grids")
    codes = {f["properties"]["code"] for f in reply.json()["features"]}
    assert w.a.grid in codes and w.b.grid not in codes and all(c.startswith(w.a.town) for c in codes)
    asked = await w.get(w.a.dispatcher, "/api/v1/grids", township=w.b.town)
    assert asked.json()["features"] == []


@check("GET", "/api/v1/units")
async def _units(w: World) -> None:
    towns = (await w.get(w.a.dispatcher, "/api/v1/units", level="township")).json()["features"]
    assert [f["properties"]["code"] for f in towns] == [w.a.town]
    county = (await w.get(w.a.dispatcher, "/api/v1/units", level="county")).json()["features"]
    assert [f["properties"]["code"] for f in county] == [w.a.town[:6]], "the enclosing county outlines the map"
    everything = (await w.get({"Authorization": f"Bearer {admin_token()}"}, "/api/v1/units", level="township")).json()
    assert len(everything["features"]) > 2


@check("GET", "/api/v1/grids/vacant")
async def _vacant(w: World) -> None:
    reply = await w.get(w.a.dispatcher, "/api/v1/grids/vacant")
    assert reply.status_code == 200 and all(g["code"].startswith(w.a.town) for g in reply.json())
    assert (await w.get(w.a.worker, "/api/v1/grids/vacant")).status_code == 403


@check("GET", "/api/v1/positions")
async def _positions(w: World) -> None:
    shared = await w.http.put("/api/v1/positions/me", json={"lon": 105.2, "lat": 32.6}, headers=w.a.worker)
    assert shared.status_code == 204
    mine = {p["person_id"] for p in (await w.get(w.a.dispatcher, "/api/v1/positions")).json()}
    theirs = {p["person_id"] for p in (await w.get(w.b.dispatcher, "/api/v1/positions")).json()}
    assert w.a.member in mine and w.a.member not in theirs
    assert (await w.get(w.a.worker, "/api/v1/positions")).status_code == 403


@check("PUT", "/api/v1/positions/me")
async def _share(w: World) -> None:
    assert await w.status(w.a.dispatcher, "PUT", "/api/v1/positions/me", json={"lon": 105.2, "lat": 32.6}) == 403
    bad = await w.http.put("/api/v1/positions/me", json={"lon": 200, "lat": 32.6}, headers=w.a.officer)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "lon"]


@check("DELETE", "/api/v1/positions/me")
async def _unshare(w: World) -> None:
    assert await w.status(w.a.officer, "PUT", "/api/v1/positions/me", json={"lon": 105.21, "lat": 32.61}) == 204
    assert await w.status(w.a.officer, "DELETE", "/api/v1/positions/me") == 204
    left = {p["person_id"] for p in (await w.get(w.a.dispatcher, "/api/v1/positions")).json()}
    assert f"off-{w.a.town}-1" not in left


# --- queues ------------------------------------------------------------------------------------------------------


async def _unrouted_far_away(w: World) -> str:
    """An event outside every township (so only the administrator's queue holds it)."""
    body = event(lon=120.0, lat=30.0)
    assert (await w.http.post("/api/v1/events", json=body, headers=gateway_headers())).status_code == 202

    async def queued() -> bool | None:
        return await w.db.fetchval("SELECT true FROM unrouted_events WHERE event_id = $1", uuid.UUID(body["event_id"]))

    await wait_for(queued, "the far event in the unrouted queue")
    return str(body["event_id"])


@check("GET", "/api/v1/queues/unrouted")
async def _unrouted(w: World) -> None:
    far = await _unrouted_far_away(w)
    assert far not in {i["event_id"] for i in (await w.get(w.a.dispatcher, "/api/v1/queues/unrouted")).json()}
    assert far in {str(i["event_id"]) for i in (await w.http.get("/api/v1/queues/unrouted")).json()}
    assert (await w.get(w.a.worker, "/api/v1/queues/unrouted")).status_code == 403


@check("POST", "/api/v1/queues/unrouted/{event_id}/resolution")
async def _resolve_unrouted(w: World) -> None:
    far = await _unrouted_far_away(w)
    path = f"/api/v1/queues/unrouted/{far}/resolution"
    assert (await w.http.post(path, json={"action": "dismiss"})).json()["detail"][0]["msg"].startswith("Value error")
    hidden = await w.http.post(path, json={"action": "dismiss", "note": "越界"}, headers=w.a.dispatcher)
    assert hidden.status_code == 404
    done = await w.http.post(path, json={"action": "dismiss", "note": "不在本县"})
    assert done.status_code == 200 and done.json()["resolution"] == "dismissed"
    assert (await w.http.post(path, json={"action": "dismiss", "note": "again"})).status_code == 404


@check("GET", "/api/v1/queues/unrouted/resolved")
async def _unrouted_resolved(w: World) -> None:
    far = await _unrouted_far_away(w)
    path = f"/api/v1/queues/unrouted/{far}/resolution"
    assert (await w.http.post(path, json={"action": "dismiss", "note": "县外"})).status_code == 200
    resolved = (await w.http.get("/api/v1/queues/unrouted/resolved")).json()
    assert resolved and resolved[0]["resolved_by"] == "admin" and resolved[0]["note"]
    mine = (await w.get(w.a.dispatcher, "/api/v1/queues/unrouted/resolved")).json()
    assert {str(i["event_id"]) for i in mine}.isdisjoint({str(i["event_id"]) for i in resolved})


@check("GET", "/api/v1/queues/deadletter")
async def _dead(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/queues/deadletter")).status_code == 403
    assert (await w.http.get("/api/v1/queues/deadletter")).status_code == 200


@check("GET", "/api/v1/queues/deadletter/resolved")
async def _dead_resolved(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/queues/deadletter/resolved")).status_code == 403
    assert (await w.http.get("/api/v1/queues/deadletter/resolved")).status_code == 200


@check("POST", "/api/v1/queues/deadletter/{letter_id}/resolution")
async def _resolve_dead(w: World) -> None:
    path = "/api/v1/queues/deadletter/1/resolution"
    assert await w.status(w.a.dispatcher, "POST", path, json={"action": "dismiss", "note": "x"}) == 403


# --- registry ----------------------------------------------------------------------------------------------------


@check("GET", "/api/v1/rules")
async def _rules(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/rules")).status_code == 200
    assert (await w.get(w.a.worker, "/api/v1/rules")).status_code == 403


RULE = {"unit_code": "510822", "position": 5, "category": "road", "target": "team", "sla_hours": 12}


@check("POST", "/api/v1/rules")
async def _add_rule(w: World) -> None:
    assert await w.status(w.a.dispatcher, "POST", "/api/v1/rules", json=RULE) == 403


@check("PUT", "/api/v1/rules/{rule_id}")
async def _change_rule(w: World) -> None:
    assert await w.status(w.a.dispatcher, "PUT", "/api/v1/rules/1", json=RULE) == 403


@check("DELETE", "/api/v1/rules/{rule_id}")
async def _retire_rule(w: World) -> None:
    assert await w.status(w.a.dispatcher, "DELETE", "/api/v1/rules/1") == 403


# --- inbox --------------------------------------------------------------------------------------------------------


async def _notices_of_a(w: World) -> list[asyncpg.Record]:
    """The notices about side a's case, once the writer has made them."""

    async def made() -> list[asyncpg.Record] | None:
        rows = await w.db.fetch("SELECT id, person_id FROM notices WHERE case_id = $1", uuid.UUID(w.a.case_id))
        return rows or None

    return await wait_for(made, "the notices of side a's case")


@check("GET", "/api/v1/inbox")
async def _inbox(w: World) -> None:
    recipients = [r["person_id"] for r in await _notices_of_a(w)]
    units = [r["unit_code"] for r in await w.db.fetch("SELECT unit_code FROM people WHERE id = ANY($1)", recipients)]
    assert units and all(u.startswith(w.a.town) for u in units), units
    for who in (w.b.dispatcher, w.b.worker, w.b.officer):
        reply = await w.get(who, "/api/v1/inbox", limit=200)
        assert reply.status_code == 200 and all(n["case_id"] != w.a.case_id for n in reply.json()["items"])
    assert (await w.get({"Authorization": ""}, "/api/v1/inbox")).status_code == 401


@check("POST", "/api/v1/inbox/read")
async def _inbox_read(w: World) -> None:
    notice = (await _notices_of_a(w))[0]["id"]
    reply = await w.http.post("/api/v1/inbox/read", json={"ids": [notice]}, headers=w.b.worker)
    assert reply.status_code == 200 and reply.json()["marked"] == 0
    assert await w.db.fetchval("SELECT read_at IS NULL FROM notices WHERE id = $1", notice)


@check("GET", "/api/v1/categories")
async def _categories(w: World) -> None:
    """The category table is the same for everyone signed in (the pickers and labels need it)."""
    for who in (w.a.worker, w.b.dispatcher):
        assert (await w.get(who, "/api/v1/categories")).status_code == 200


@check("PUT", "/api/v1/categories/{code}")
async def _set_category(w: World) -> None:
    edit = {"name_zh": "路名牌损坏", "name_en": "Damaged street sign"}
    assert await w.status(w.a.dispatcher, "PUT", "/api/v1/categories/1406", json=edit) == 403


@check("GET", "/api/v1/self-report-policies")
async def _self_report_policies(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/self-report-policies")).status_code == 200
    assert (await w.get(w.a.worker, "/api/v1/self-report-policies")).status_code == 403


@check("PUT", "/api/v1/self-report-policies/{unit_code}")
async def _set_self_report_policy(w: World) -> None:
    body = {"policy": "duty_post"}
    assert await w.status(w.a.dispatcher, "PUT", f"/api/v1/self-report-policies/{w.a.town}", json=body) == 403


@check("DELETE", "/api/v1/self-report-policies/{unit_code}")
async def _clear_self_report_policy(w: World) -> None:
    assert await w.status(w.a.dispatcher, "DELETE", f"/api/v1/self-report-policies/{w.a.town}") == 403


@check("GET", "/api/v1/self-report-policies/changes")
async def _self_report_policy_changes(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/self-report-policies/changes")).status_code == 200
    assert (await w.get(w.a.officer, "/api/v1/self-report-policies/changes")).status_code == 403


@check("GET", "/api/v1/step-slas")
async def _step_slas(w: World) -> None:
    units = {p["unit_code"] for p in (await w.get(w.a.dispatcher, "/api/v1/step-slas")).json()}
    assert units and all(w.a.town.startswith(u) for u in units)
    assert (await w.get(w.a.dispatcher, "/api/v1/step-slas", unit=w.b.town)).json() == []
    assert (await w.get(w.a.worker, "/api/v1/step-slas")).status_code == 403


STEP_SLA = {"accept_minutes": 5, "verify_minutes": 30, "reason": "scoping"}


@check("POST", "/api/v1/step-slas")
async def _create_step_sla(w: World) -> None:
    body = {**STEP_SLA, "unit_code": w.a.town}
    assert await w.status(w.a.dispatcher, "POST", "/api/v1/step-slas", json=body) == 403
    # An administrator reaches every unit; one the registry does not know answers as out of reach, naming the field.
    unknown = await w.http.post("/api/v1/step-slas", json={**body, "unit_code": "510822998"})
    assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == ["body", "unit_code"]


@check("PUT", "/api/v1/step-slas/{policy_id}")
async def _replace_step_sla(w: World) -> None:
    assert await w.status(w.a.dispatcher, "PUT", "/api/v1/step-slas/1", json=STEP_SLA) == 403


@check("DELETE", "/api/v1/step-slas/{policy_id}")
async def _end_step_sla(w: World) -> None:
    assert await w.status(w.a.dispatcher, "DELETE", "/api/v1/step-slas/1", params={"reason": "x"}) == 403


@check("GET", "/api/v1/step-slas/changes")
async def _step_sla_changes(w: World) -> None:
    trail = await w.get(w.a.dispatcher, "/api/v1/step-slas/changes")
    assert trail.status_code == 200 and all(w.a.town.startswith(c["unit_code"]) for c in trail.json())
    assert (await w.get(w.a.officer, "/api/v1/step-slas/changes")).status_code == 403


@check("GET", "/api/v1/rules/changes")
async def _rule_changes(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/rules/changes")).status_code == 200
    assert (await w.get(w.a.officer, "/api/v1/rules/changes")).status_code == 403


@check("GET", "/api/v1/people")
async def _people(w: World) -> None:
    listed = (await w.get(w.a.dispatcher, "/api/v1/people")).json()
    assert listed and all(p["unit_code"].startswith(w.a.town) for p in listed)
    other = await w.get(w.a.dispatcher, "/api/v1/people", unit=w.b.town)
    assert other.status_code == 403 and "outside your area" in other.json()["detail"]
    assert (await w.get(w.a.worker, "/api/v1/people")).status_code == 403
    logged = await w.db.fetchval(
        "SELECT count(*) FROM access_log WHERE username = $1 AND what = 'people'", await _account(w, f"disp-{w.a.town}")
    )
    assert logged >= 1


@check("GET", "/api/v1/people/{person_id}")
async def _person(w: World) -> None:
    assert (await w.get(w.a.dispatcher, f"/api/v1/people/{w.b.member}")).status_code == 404
    assert (await w.get(w.a.dispatcher, f"/api/v1/people/{w.a.member}")).status_code == 200
    assert (await w.get(w.a.worker, f"/api/v1/people/{w.a.member}")).status_code == 200, "oneself"
    assert (await w.get(w.a.worker, f"/api/v1/people/disp-{w.a.town}")).status_code == 404


@check("GET", "/api/v1/teams")
async def _teams(w: World) -> None:
    teams = (await w.get(w.a.dispatcher, "/api/v1/teams")).json()
    assert teams and all(t["unit_code"] == w.a.town for t in teams)
    assert (await w.get(w.a.dispatcher, "/api/v1/teams", unit=w.b.town)).status_code == 403


@check("POST", "/api/v1/people")
async def _add_person(w: World) -> None:
    body = {"role": "officer", "name": "越界", "unit_code": w.b.town}
    reply = await w.http.post("/api/v1/people", json=body, headers=w.a.dispatcher)
    assert reply.status_code == 403 and reply.json()["detail"].startswith("unit_code:")
    assert await w.status(w.a.worker, "POST", "/api/v1/people", json=body) == 403


@check("POST", "/api/v1/people/{person_id}/posts")
async def _add_post(w: World) -> None:
    reply = await w.http.post(
        f"/api/v1/people/{w.a.member}/posts", json={"grid_code": w.b.grid}, headers=w.a.dispatcher
    )
    assert reply.status_code == 403


@check("DELETE", "/api/v1/people/{person_id}/posts/{grid_code}")
async def _end_post(w: World) -> None:
    assert await w.status(w.a.dispatcher, "DELETE", f"/api/v1/people/{w.b.member}/posts/{w.b.grid}") == 403


@check("DELETE", "/api/v1/people/{person_id}")
async def _end_person(w: World) -> None:
    assert await w.status(w.a.dispatcher, "DELETE", f"/api/v1/people/{w.b.member}") == 404
    assert await w.status(w.a.worker, "DELETE", f"/api/v1/people/{w.a.member}") == 403


@check("POST", "/api/v1/plans/validate")
async def _validate_plan(w: World) -> None:
    assert await w.status(w.a.dispatcher, "POST", "/api/v1/plans/validate", json={}) == 403


@check("POST", "/api/v1/plans")
async def _apply_plan(w: World) -> None:
    assert await w.status(w.a.dispatcher, "POST", "/api/v1/plans", json={}) == 403


@check("GET", "/api/v1/plans")
async def _plans(w: World) -> None:
    assert await w.status(w.a.dispatcher, "GET", "/api/v1/plans") == 403
    assert (await w.http.get("/api/v1/plans")).status_code == 200


@check("GET", "/api/v1/plans/{plan_id}")
async def _plan(w: World) -> None:
    assert await w.status(w.a.dispatcher, "GET", "/api/v1/plans/x") == 403


@check("POST", "/api/v1/grids/import")
async def _import_grids(w: World) -> None:
    upload = {"file": ("grids.geojson", b'{"type": "FeatureCollection", "features": []}', "application/geo+json")}
    form = {"effective_date": "2030-01-01", "dry_run": "true"}
    assert await w.status(w.a.dispatcher, "POST", "/api/v1/grids/import", files=upload, data=form) == 403
    assert await w.status(w.a.worker, "POST", "/api/v1/grids/import", files=upload, data=form) == 403
    # Another township's administrator: tests/integration/registry/test_grid_import.py.


@check("GET", "/api/v1/history/point")
async def _history_point(w: World) -> None:
    params = {"lon": 105.2, "lat": 32.6, "on": "2026-01-01"}
    assert (await w.get(w.a.worker, "/api/v1/history/point", **params)).status_code == 403
    assert (await w.get(w.a.dispatcher, "/api/v1/history/point", **params)).status_code in (200, 404)


@check("GET", "/api/v1/history/code/{code}")
async def _history_code(w: World) -> None:
    assert (await w.get(w.a.worker, f"/api/v1/history/code/{w.a.town}")).status_code == 403
    assert (await w.get(w.a.dispatcher, f"/api/v1/history/code/{w.a.town}")).status_code == 200


# --- media, intake -----------------------------------------------------------------------------------------------


@check("POST", "/api/v1/media")
async def _upload(w: World) -> None:
    anonymous = await w.http.post(
        "/api/v1/media", content=png(), headers={"content-type": "image/png", "Authorization": ""}
    )
    assert anonymous.status_code == 401


@check("GET", "/api/v1/media/{sha256}")
async def _media(w: World) -> None:
    path = f"/api/v1/media/{w.a.photo}"
    assert (await w.get(w.b.dispatcher, path)).status_code == 404
    assert (await w.get(w.b.worker, path)).status_code == 404
    assert (await w.get(w.a.dispatcher, path)).status_code == 200
    assert (await w.get(w.a.worker, path)).status_code == 200, "the uploader"
    logged = await w.db.fetchval(
        "SELECT count(*) FROM access_log WHERE what = 'media' AND subject = $1 AND username = $2",
        w.a.photo,
        await _account(w, f"disp-{w.a.town}"),
    )
    assert logged >= 1


@check("POST", "/api/v1/events")
async def _events(w: World) -> None:
    body = event(reporter={"id": w.b.member})
    reply = await w.http.post("/api/v1/events", json=body, headers=w.a.worker)
    assert reply.status_code == 403 and reply.json()["detail"].startswith("reporter.id:")


@check("POST", "/api/v1/events/batch")
async def _events_batch(w: World) -> None:
    body = event(reporter={"id": w.b.member})
    reply = await w.http.post("/api/v1/events/batch", json=[body], headers=w.a.worker)
    assert reply.status_code == 200
    (item,) = reply.json()["results"]
    assert item["status"] == "invalid" and item["errors"][0]["loc"] == ["body", 0, "reporter", "id"]
    assert item["errors"][0]["type"] == "forbidden"


# --- lifecycle reads ---------------------------------------------------------------------------------------------


@check("GET", "/api/v1/metrics")
async def _metrics(w: World) -> None:
    rows = (await w.get(w.a.dispatcher, "/api/v1/metrics", by="township")).json()
    assert [r["key"] for r in rows] == [w.a.town]
    grids = {r["key"] for r in (await w.get(w.a.dispatcher, "/api/v1/metrics", by="grid")).json()}
    assert w.b.grid not in grids and w.a.grid in grids
    assert (await w.get(w.a.worker, "/api/v1/metrics")).status_code == 403


@check("GET", "/api/v1/supervisions")
async def _supervisions(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/supervisions", case=w.b.case_id)).json() == []
    assert (await w.get(w.a.dispatcher, "/api/v1/supervisions")).status_code == 200


@check("GET", "/api/v1/supervision/board")
async def _supervision_board(w: World) -> None:
    board = (await w.get(w.a.dispatcher, "/api/v1/supervision/board")).json()
    assert [t["township_code"] for t in board["townships"]] == [w.a.town]
    assert (await w.get(w.a.worker, "/api/v1/supervision/board")).status_code == 403


@check("GET", "/api/v1/disclosures")
async def _disclosures(w: World) -> None:
    # 行政执法公示 is public: no token, every area (tests/integration/security/test_headers_and_public.py)
    assert (await w.get(w.a.dispatcher, "/api/v1/disclosures", unit=w.b.town)).status_code == 200


@check("GET", "/api/v1/reports")
async def _reports(w: World) -> None:
    mine = _ids(await w.get(w.a.worker, "/api/v1/reports"))
    assert mine == _ids(await w.get(w.a.worker, "/api/v1/reports", reporter=w.a.member)) and w.a.case_id in mine
    assert (await w.get(w.a.worker, "/api/v1/reports", reporter=w.b.member)).status_code == 403
    assert _ids(await w.get(w.a.dispatcher, "/api/v1/reports", reporter=w.b.member)) == set()
    assert w.b.case_id in _ids(await w.get(w.b.dispatcher, "/api/v1/reports", reporter=w.b.member))


@check("GET", "/api/v1/access-log")
async def _access_log(w: World) -> None:
    assert (await w.get(w.a.dispatcher, "/api/v1/access-log")).status_code == 403
    assert (await w.get(w.a.dispatcher, f"/api/v1/media/{w.a.photo}")).status_code == 200
    entries = (await w.http.get("/api/v1/access-log", params={"subject": w.a.photo})).json()
    assert entries and {e["what"] for e in entries} == {"media"}


# --- exports and papers (tests/integration/documents/test_exports.py checks their content) ------------------------


@check("GET", "/api/v1/cases/export")
async def _export_cases(w: World) -> None:
    reply = await w.get(w.a.dispatcher, "/api/v1/cases/export", format="csv")
    assert reply.status_code == 200
    assert w.a.case_id in reply.text and w.b.case_id not in reply.text


@check("GET", "/api/v1/metrics/export")
async def _export_metrics(w: World) -> None:
    reply = await w.get(w.a.dispatcher, "/api/v1/metrics/export", format="csv", by="township")
    assert reply.status_code == 200 and w.a.town in reply.text and w.b.town not in reply.text
    assert (await w.get(w.a.worker, "/api/v1/metrics/export")).status_code == 403


@check("GET", "/api/v1/cases/{case_id}/documents/handling-sheet.pdf")
async def _handling_sheet(w: World) -> None:
    path = "/api/v1/cases/{}/documents/handling-sheet.pdf"
    assert (await w.get(w.a.dispatcher, path.format(w.b.case_id))).status_code == 404
    assert (await w.get(w.a.dispatcher, path.format(w.a.case_id))).status_code == 200


@check("GET", "/api/v1/cases/{case_id}/documents/supervision.pdf")
async def _supervision_sheet(w: World) -> None:
    assert (await w.get(w.a.dispatcher, f"/api/v1/cases/{w.b.case_id}/documents/supervision.pdf")).status_code == 404


@check("GET", "/api/v1/cases/{case_id}/documents/decision.pdf")
async def _decision_document(w: World) -> None:
    assert (await w.get(w.a.dispatcher, f"/api/v1/cases/{w.b.case_id}/documents/decision.pdf")).status_code == 404


ANON = {"Authorization": ""}
"""No token at all (the client's default header is the administrator's)."""


# --- cameras and sensors ---------------------------------------------------------------------------------------


def _device(town: str, lon: float, lat: float) -> dict[str, Any]:
    return {"kind": "camera", "name": "路口监控", "location": {"lon": lon, "lat": lat}, "unit_code": town}


async def _device_of_a(w: World) -> str:
    """A camera registered in side a's township (by the administrator), its id."""
    spot = await w.db.fetchrow(
        "SELECT ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat"
        " FROM grids WHERE code = $1 AND valid_to IS NULL",
        w.a.grid,
    )
    assert spot is not None
    device = f"cam-scope-{w.a.town}"
    body = _device(w.a.town, spot["lon"], spot["lat"])
    assert await w.status({}, "PUT", f"/api/v1/devices/{device}", json=body) == 200  # the administrator
    return device


@check("GET", "/api/v1/devices")
async def _devices(w: World) -> None:
    device = await _device_of_a(w)
    assert device in [d["id"] for d in (await w.get(w.a.dispatcher, "/api/v1/devices")).json()]
    assert device not in [d["id"] for d in (await w.get(w.b.dispatcher, "/api/v1/devices")).json()]
    assert (await w.get(w.a.worker, "/api/v1/devices")).status_code == 403


@check("PUT", "/api/v1/devices/{device_id}")
async def _put_device(w: World) -> None:
    body = _device(w.b.town, 105.2, 32.6)
    assert await w.status(w.b.dispatcher, "PUT", "/api/v1/devices/cam-x", json=body) == 403
    foreign = await w.http.put(
        "/api/v1/devices/cam-x", json={**body, "unit_code": "510802001"}, headers=gateway_headers()
    )
    assert foreign.status_code == 404 and foreign.json()["detail"][0]["loc"] == ["body", "unit_code"]


@check("DELETE", "/api/v1/devices/{device_id}")
async def _end_device(w: World) -> None:
    device = await _device_of_a(w)
    assert await w.status(w.a.dispatcher, "DELETE", f"/api/v1/devices/{device}") == 403
    assert await w.status(w.a.worker, "DELETE", f"/api/v1/devices/{device}") == 403


# --- base maps: one for the whole deployment, for anyone signed in ------------------------------------------------


@check("GET", "/api/v1/basemaps")
async def _basemaps(w: World) -> None:
    mine, theirs = await w.get(w.a.worker, "/api/v1/basemaps"), await w.get(w.b.dispatcher, "/api/v1/basemaps")
    assert mine.status_code == theirs.status_code == 200 and mine.json() == theirs.json()
    assert (await w.get(ANON, "/api/v1/basemaps")).status_code == 401


@check("GET", "/api/v1/basemaps/local.pmtiles")
async def _local_basemap(w: World) -> None:
    assert (await w.get(ANON, "/api/v1/basemaps/local.pmtiles")).status_code == 401
    assert (await w.get(w.a.worker, "/api/v1/basemaps/local.pmtiles")).status_code == 404  # none configured here


# --- Open311: public reads of citizens' requests only; posts need a client's key ----------------------------------


@check("GET", "/open311/discovery.{fmt}")
async def _open311_discovery(w: World) -> None:
    assert (await w.get(ANON, "/open311/discovery.json")).status_code == 200


@check("GET", "/open311/v2/discovery.{fmt}")
async def _open311_discovery_v2(w: World) -> None:
    assert (await w.get(ANON, "/open311/v2/discovery.xml")).status_code == 200


@check("GET", "/open311/v2/services.{fmt}")
async def _open311_services(w: World) -> None:
    assert (await w.get(ANON, "/open311/v2/services.json", jurisdiction_id=w.a.town)).status_code == 200


@check("GET", "/open311/v2/services/{service_code}.{fmt}")
async def _open311_definition(w: World) -> None:
    assert (await w.get(ANON, "/open311/v2/services/0102.json")).status_code == 200


@check("GET", "/open311/v2/requests.{fmt}")
async def _open311_requests(w: World) -> None:
    internal = await w.get(ANON, "/open311/v2/requests.json", service_request_id=w.a.case_id)
    assert internal.status_code == 200 and internal.json() == []  # a grid member's incident is not public


@check("GET", "/open311/v2/requests/{service_request_id}.{fmt}")
async def _open311_request(w: World) -> None:
    assert (await w.get(ANON, f"/open311/v2/requests/{w.a.case_id}.json")).status_code == 404


@check("GET", "/open311/v2/tokens/{token}.{fmt}")
async def _open311_token(w: World) -> None:
    assert (await w.get(ANON, f"/open311/v2/tokens/{w.a.event_id}.json")).status_code == 404  # no Open311 request


@check("POST", "/open311/v2/requests.{fmt}")
async def _open311_post(w: World) -> None:
    form = {"service_code": "0102", "lat": "32.6", "long": "105.2"}
    assert await w.status(w.a.dispatcher, "POST", "/open311/v2/requests.json", data=form) == 403  # a token is no key


@pytest.mark.parametrize("endpoint", sorted(CHECKS), ids=lambda e: f"{e[0]} {e[1]}")
async def test_scoped(endpoint: tuple[str, str], world: World) -> None:
    await CHECKS[endpoint](world)


async def test_every_endpoint_has_a_scoping_check(http: httpx.AsyncClient) -> None:
    schema = (await http.get("/openapi.json")).json()
    endpoints = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    assert endpoints - set(CHECKS) - ELSEWHERE == set(), "add a check for each new endpoint"
    assert set(CHECKS) - endpoints == set(), "a check for an endpoint that no longer exists"


async def test_the_live_channel_carries_only_the_callers_cases(world: World) -> None:
    a_token = (await as_person(world.db, f"disp-{world.a.town}"))["Authorization"].removeprefix("Bearer ")
    b_token = (await as_person(world.db, f"disp-{world.b.town}"))["Authorization"].removeprefix("Bearer ")
    async with listening(world.stack.base_url, a_token) as a_live, listening(world.stack.base_url, b_token) as b_live:
        assert a_live.snapshot is not None and b_live.snapshot is not None
        assert world.b.case_id not in {c["id"] for c in a_live.snapshot}
        assert world.a.case_id not in {c["id"] for c in b_live.snapshot}
        path = f"/api/v1/cases/{world.b.case_id}/commands"
        supervised = await world.http.post(path, json={"kind": "supervise", "reason": "跨镇测试"})
        assert supervised.status_code == 200, supervised.text
        await wait_for(lambda: _found(b_live, world.b.case_id), "the change on township B's channel")
        assert a_live.find("case_changed", id=world.b.case_id) is None
        assert all(m.get("case", {}).get("township_code") in (None, world.a.town) for m in a_live.messages)


async def _found(live: Any, case_id: str) -> dict[str, Any] | None:
    return live.find("case_changed", id=case_id)
