"""People and rules follow a plan, on the real stack: nobody is left serving an abolished township, an officer's team
history keeps both memberships, a moved person's demo account signs in and sees the new township's cases, a new
township routes by its predecessor's override, a grid member follows a recoded grid, and a plan dated tomorrow moves
and ends accounts on its day by the processors' clock, not when it is applied."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from core.cases import case_id_for_event
from core.vocabulary import Role
from dispatch.access import users as users_store
from dispatch.access.demo_accounts import DEMO_PASSWORD
from dispatch.clock import LOCAL_TZ, local_day
from tests.conftest import SESSION_ENV
from tests.integration.conftest import running_stack
from tests.integration.harness import LiveStack, pool_on, wait_for
from tests.integration.helpers import event
from tests.integration.redistricting.test_redistricting import gridctl

COUNTY = "510822"
TODAY = local_day(datetime.now(UTC))
TOMORROW = TODAY + timedelta(days=1)
SERVING = "p.valid_from <= $2 AND (p.valid_to IS NULL OR $2 < p.valid_to)"


@pytest.fixture(scope="module")
def clock(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The processors' clock file (no offset until a test writes one)."""
    return tmp_path_factory.mktemp("clock") / "offset"


@pytest.fixture(scope="module")
def stack(clock: Path) -> Iterator[LiveStack]:
    """The demo county with its demo accounts, the product running; transfers and accounts looked at every second."""
    env = {**SESSION_ENV, "GRID_TRANSFER_CHECK_SECONDS": "1", "GRID_CLOCK_FILE": str(clock)}
    with running_stack(["demo", "load", "--no-notify"], extra_env=env) as ts:
        yield ts


@pytest_asyncio.fixture(scope="module")
async def db(stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    async with pool_on(stack) as pool:
        yield pool


async def townships(db: asyncpg.Pool) -> list[str]:
    rows = await db.fetch(
        "SELECT code FROM admin_units WHERE level = 'township' AND parent_code = $1 AND valid_to IS NULL ORDER BY code",
        COUNTY,
    )
    return [r["code"] for r in rows]


def plan(
    plan_id: str, *items: dict[str, Any], staff: list[dict[str, Any]] | None = None, on: date = TODAY
) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "county": COUNTY,
        "effective_date": on.isoformat(),
        "legal_basis": "青府〔2026〕12号",
        "items": list(items),
        "staff": staff or [],
    }


async def moved_into(db: asyncpg.Pool, old: str, new: str) -> list[dict[str, Any]]:
    """The township's villages recoded under `new` (codes from 300 up), as a plan's items do before a merge."""
    rows = await db.fetch(
        "SELECT code FROM admin_units WHERE parent_code = $1 AND level = 'village' AND valid_to IS NULL ORDER BY code",
        old,
    )
    return [{"op": "recode", "code": r["code"], "new_code": f"{new}{300 + n:03d}"} for n, r in enumerate(rows)]


async def spot_in(db: asyncpg.Pool, township: str) -> dict[str, float]:
    row = await db.fetchrow(
        "SELECT ST_X(p) AS lon, ST_Y(p) AS lat FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p"
        " WHERE g.township_code = $1 AND g.valid_to IS NULL ORDER BY g.code LIMIT 1",
        township,
    )
    assert row is not None
    return {"lon": row["lon"], "lat": row["lat"]}


async def case_at(http: httpx.AsyncClient, db: asyncpg.Pool, spot: dict[str, float], **fields: Any) -> asyncpg.Record:
    """Post an event at the spot; its case once routed (township and assignee)."""
    body = event(**spot, **fields)
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case_id = case_id_for_event(uuid.UUID(body["event_id"]))
    found: asyncpg.Record = await wait_for(
        lambda: db.fetchrow(
            "SELECT id, township_code, assignee_kind, assignee_id FROM cases WHERE id = $1 AND assignee_id IS NOT NULL",
            case_id,
        ),
        "a routed case",
        within=30,
    )
    return found


async def sign_in(stack: LiveStack, username: str) -> str:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as c:
        answer = await c.post("/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def test_a_merge_leaves_nobody_serving_the_abolished_township_and_accounts_follow(
    stack: LiveStack, admin: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    kept, gone = (await townships(db))[:2]  # dispatcher-b is the dispatcher of the second
    serving = f"SELECT role FROM people p WHERE starts_with(p.unit_code, $1) AND {SERVING}"
    roles = [r["role"] for r in await db.fetch(serving, gone, TODAY)]
    assert "officer" in roles and "dispatcher" in roles and "agency_staff" in roles
    old_token = await sign_in(stack, "dispatcher-b")
    case = await case_at(admin, db, await spot_in(db, kept))

    merge = {"op": "merge", "sources": [gone], "into": kept}
    applied = await admin.post("/api/v1/plans", json=plan("staff-merge", *await moved_into(db, gone, kept), merge))
    assert applied.status_code == 201, applied.text
    summary = applied.json()
    duty = roles.count("duty")
    assert (summary["people_carried"], summary["people_ended"]) == (len(roles) - duty, duty)
    assert summary["people_review"] == 0 and summary["staff_review"] == []

    left = await db.fetchval(
        f"SELECT count(*) FROM people p JOIN team_memberships m ON m.person_id = p.id AND m.valid_from <= $2"
        f" AND (m.valid_to IS NULL OR $2 < m.valid_to) WHERE {SERVING}"
        " AND (starts_with(m.unit_code, $1) OR starts_with(p.unit_code, $1) OR m.team_id LIKE '%-' || $1)",
        gone,
        TODAY,
    )
    assert left == 0, "nobody serves the abolished township or one of its ended teams"

    officer = (await admin.get(f"/api/v1/people/off-{gone}-1")).json()
    assert [(m["unit_code"], m["team_id"], m["valid_to"]) for m in officer["memberships"]] == [
        (gone, f"enf-{gone}", TODAY.isoformat()),
        (kept, f"enf-{kept}", None),
    ]
    history = gridctl(stack, "people", "history", f"off-{gone}-1")
    assert history.returncode == 0, history.stderr
    assert f"enf-{gone}" in history.stdout and f"enf-{kept}  (plan staff-merge)" in history.stdout
    team = (await admin.get("/api/v1/teams", params={"unit": kept})).json()
    assert any(t["id"] == f"enf-{kept}" and t["members"] >= 8 for t in team)

    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as c:
        stale = await c.get("/api/v1/cases", headers={"Authorization": f"Bearer {old_token}"})
        assert stale.status_code == 401, "a token with the old township's scope ends with the move"
    token = await sign_in(stack, "dispatcher-b")
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as c:
        seen = await c.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"}, params={"limit": 500})
    assert seen.status_code == 200, seen.text
    assert str(case["id"]) in {c["id"] for c in seen.json()}, "the moved dispatcher sees the new township's case"


async def test_a_new_township_routes_by_its_predecessors_override(admin: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    old = (await townships(db))[2]
    new = COUNTY + "190"
    rule = {"unit_code": old, "position": 0, "event_type": "citizen_report", "target": "agency",
            "agency_type": "market", "sla_hours": 12, "note": "市场监管优先"}  # fmt: skip
    assert (await admin.post("/api/v1/rules", json=rule)).status_code == 201
    sla = {"unit_code": old, "accept_minutes": 7, "verify_minutes": 50, "reason": "山区路远"}
    assert (await admin.post("/api/v1/step-slas", json=sla)).status_code == 201
    policy = await admin.put(f"/api/v1/self-report-policies/{old}", json={"policy": "duty_post"})
    assert policy.status_code == 200, policy.text
    overrides = await db.fetchval("SELECT count(*) FROM routing_rules WHERE unit_code = $1 AND valid_to IS NULL", old)
    merge = {"op": "merge", "sources": [old], "into": new, "name": "新城镇"}
    applied = await admin.post("/api/v1/plans", json=plan("staff-new-town", *await moved_into(db, old, new), merge))
    assert applied.status_code == 201, applied.text
    assert applied.json()["rules_inherited"] == overrides
    assert (applied.json()["step_slas_inherited"], applied.json()["self_report_inherited"]) == (1, 1)
    copied = await db.fetchrow(
        "SELECT s.accept_minutes, s.valid_from, p.policy FROM step_slas s JOIN self_report_policies p"
        " ON p.unit_code = s.unit_code WHERE s.unit_code = $1 AND s.valid_to IS NULL",
        new,
    )
    assert copied is not None and tuple(copied.values()) == (7, TODAY, "duty_post")
    assert (
        await db.fetchval(
            "SELECT count(*) FROM step_sla_changes WHERE unit_code = $1 AND action = 'create' AND reason LIKE $2",
            new,
            f"plan staff-new-town: inherited from {old}",
        )
        == 1
    )
    audit = await db.fetchrow(
        "SELECT c.after ->> 'inherited_from' AS source, c.after ->> 'valid_from' AS day"
        " FROM routing_rule_changes c JOIN routing_rules r ON r.id = c.rule_id"
        " WHERE r.unit_code = $1 AND r.note = '市场监管优先' AND c.action = 'create'",
        new,
    )
    assert audit is not None and (audit["source"], audit["day"]) == (old, TODAY.isoformat())

    spot = await spot_in(db, new)

    async def routed_by_the_override() -> bool:
        case = await case_at(admin, db, spot, kind="citizen_report")
        return (case["township_code"], case["assignee_kind"], case["assignee_id"]) == (new, "agency", f"market-{new}")

    await wait_for(routed_by_the_override, "a report in the new township to go to its market agency", within=30)


async def test_a_grid_member_follows_a_recoded_grid_with_their_account(
    stack: LiveStack, admin: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    town = (await townships(db))[0]
    member = await db.fetchrow(
        "SELECT gp.person_id, gp.grid_code, g.village_code FROM grid_posts gp JOIN grids g ON g.code = gp.grid_code"
        " JOIN users u ON u.person_id = gp.person_id"
        " WHERE g.township_code = $1 AND gp.valid_to IS NULL AND g.valid_to IS NULL ORDER BY g.code DESC LIMIT 1",
        town,
    )
    assert member is not None, "the simulator's township has grid members with demo accounts"
    village, person = member["village_code"], member["person_id"]
    new_village = town + "399"
    recode = {"op": "recode", "code": village, "new_code": new_village}
    applied = await admin.post("/api/v1/plans", json=plan("staff-recode", recode))
    assert applied.status_code == 201, applied.text
    assert applied.json()["people_carried"] >= 1

    new_grid = new_village + member["grid_code"][12:]
    found = (await admin.get(f"/api/v1/people/{person}")).json()
    assert found["unit_code"] == new_grid
    assert [(p["grid_code"], p["valid_to"]) for p in found["posts"]] == [
        (member["grid_code"], TODAY.isoformat()),
        (new_grid, None),
    ]
    assert [(m["unit_code"], m["valid_to"]) for m in found["memberships"]] == [
        (member["grid_code"], TODAY.isoformat()),
        (new_grid, None),
    ]
    account = await db.fetchrow("SELECT username, unit_code FROM users WHERE person_id = $1", person)
    assert account is not None and account["unit_code"] == new_grid
    token = await sign_in(stack, account["username"])
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as c:
        me = await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.text


async def test_a_staff_item_naming_someone_of_another_county_is_refused_at_its_place(
    admin: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    town = (await townships(db))[3]
    refused = await admin.post(
        "/api/v1/plans/validate",
        json=plan(
            "staff-bad",
            {"op": "rename", "code": town, "name": "改名镇"},
            staff=[{"person": f"off-{town}-1", "end": True}, {"person": "off-510812100-1", "to": town}],
        ),
    )
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["detail"]
    assert problem["loc"] == ["body", "staff", 1] and "does not serve in county 510822" in problem["msg"]
    ok = await admin.post(
        "/api/v1/plans/validate",
        json=plan(
            "staff-ok",
            {"op": "rename", "code": town, "name": "改名镇"},
            staff=[{"person": f"off-{town}-1", "end": True}],
        ),
    )
    assert ok.status_code == 200 and ok.json()["people_ended"] == 1, ok.text


async def shows_today(admin: httpx.AsyncClient, gone: str, recoded: list[str]) -> None:
    """The command centre's map and board show today's registry while a plan waits for its date."""
    grids = (await admin.get("/api/v1/grids")).json()["features"]
    villages = {g["properties"]["village_code"] for g in grids}
    assert any(g["properties"]["township_code"] == gone for g in grids), "the township's grids are on today's map"
    assert not villages & set(recoded), "tomorrow's villages are not"
    units = (await admin.get("/api/v1/units", params={"level": "township"})).json()["features"]
    assert gone in {u["id"] for u in units}
    board = (await admin.get("/api/v1/supervision/board")).json()
    assert gone in {t["township_code"] for t in board["townships"]}


def set_clock(clock: Path, moment: datetime) -> None:
    """Set the processors' clock to `moment` (the offset from now, in seconds)."""
    clock.write_text(str((moment - datetime.now(UTC)).total_seconds()))


async def me(stack: LiveStack, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as c:
        return await c.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_a_plan_dated_tomorrow_moves_and_ends_accounts_on_its_day_not_when_applied(
    stack: LiveStack, admin: httpx.AsyncClient, db: asyncpg.Pool, clock: Path
) -> None:
    kept, gone = [t for t in await townships(db) if t != COUNTY + "190"][-2:]  # untouched by the tests above
    dispatcher, duty, officer = f"disp-{gone}", f"duty-{gone}", f"off-{gone}-1"
    for person, role in ((dispatcher, Role.DISPATCHER), (duty, Role.DUTY)):
        await users_store.add_user(db, person, DEMO_PASSWORD, role, person_id=person, demo=True)
    tokens = {person: await sign_in(stack, person) for person in (dispatcher, duty)}

    merge = {"op": "merge", "sources": [gone], "into": kept}
    items = await moved_into(db, gone, kept)
    applied = await admin.post("/api/v1/plans", json=plan("staff-tomorrow", *items, merge, on=TOMORROW))
    assert applied.status_code == 201, applied.text
    summary = applied.json()
    assert (summary["accounts_moved"], summary["accounts_disabled"], summary["accounts_on_date"]) == (0, 0, 2)

    await shows_today(admin, gone, [i["new_code"] for i in items])
    for person in (dispatcher, duty):
        today = await me(stack, tokens[person])
        assert today.status_code == 200, f"{person} still serves {gone} until tomorrow"
        assert today.json()["unit_code"] == gone
    await users_store.add_user(db, officer, DEMO_PASSWORD, Role.OFFICER, person_id=officer, demo=True)
    made = await db.fetchrow("SELECT unit_code, team_id FROM users WHERE username = $1", officer)
    assert made is not None and tuple(made.values()) == (gone, f"enf-{gone}"), "an account made today has today's team"

    set_clock(clock, datetime.combine(TOMORROW, time(0, 0, 30), LOCAL_TZ))

    async def followed() -> bool:
        rows = await db.fetch(
            "SELECT username, unit_code, team_id, disabled_at IS NOT NULL AS off FROM users WHERE username = ANY($1)",
            [dispatcher, duty, officer],
        )
        now = {r["username"]: (r["unit_code"], r["team_id"], r["off"]) for r in rows}
        return now == {
            dispatcher: (kept, None, False),
            officer: (kept, f"enf-{kept}", False),
            duty: (gone, None, True),
        }

    await wait_for(followed, "the accounts to follow their people on the plan's day", within=30)
    for person in (dispatcher, duty):

        async def refused(token: str = tokens[person]) -> bool:
            return (await me(stack, token)).status_code == 401

        await wait_for(refused, f"{person}'s token of yesterday's scope to end (within the session check)", within=30)
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=15) as c:
        refused = await c.post("/api/v1/auth/token", data={"username": duty, "password": DEMO_PASSWORD})
    assert refused.status_code == 401, "the ended duty post's account no longer signs in"
    moved = await me(stack, await sign_in(stack, dispatcher))
    assert moved.status_code == 200 and moved.json()["unit_code"] == kept, moved.text
