"""What reforms really did, on the real stack. Every county of the real data whose list changed between 2019 and
2020: loaded from its 2019 list with its people, events posted into the townships the plan abolishes or changes,
its plan built, validated and applied with gridctl, after which the registry's townships and villages are the 2020
list, the county tiles, every open case lands once with a transfer naming the plan, history/point answers the old
unit before the date and the new one on it, and nobody serves a unit that ended. And, on a small test county, a
township created from parts of townships that continue and a township divided among three successors, through the API,
with history naming every successor and its share."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
import pytest_asyncio
import shapely
from shapely.geometry import mapping

from dispatch.clock import local_day
from dispatch.geometry.synthetic import read_divisions
from dispatch.registry.demo import DEMO_COUNTY
from tests.conftest import SESSION_ENV
from tests.integration.conftest import running_stack
from tests.integration.harness import ROOT, LiveStack, pool_on
from tests.integration.redistricting.reform_checks import (
    check_cases_landed,
    check_history_at_points,
    check_nobody_serves_ended_units,
    post_events,
    touched_townships,
)
from tests.integration.redistricting.test_redistricting import gridctl

DATA = ROOT / "dispatch" / "data" / "guangyuan"
TODAY = local_day(datetime.now(UTC))
TOMORROW = TODAY + timedelta(days=1)
TEST_COUNTY = "510899"
A, B, C, NEW, THIRD = (f"{TEST_COUNTY}{n}" for n in ("100", "101", "102", "103", "104"))


@pytest.fixture(scope="module")
def stack() -> Iterator[LiveStack]:
    """Every changed county on its 2019 list with its people, teams and rules (the demo county first: its `admin`
    account is the one admin_headers() speaks for), the product running; transfers looked for every second."""
    year_2019 = ["--divisions", str(DATA / "divisions-2019.csv"), "--valid-from", "2000-01-01", "--no-notify"]
    loads = [
        ["demo", "load", "--county", county, *year_2019]
        for county in sorted(changed_counties(), key=lambda c: c != DEMO_COUNTY)
    ]
    with running_stack(*loads, extra_env={**SESSION_ENV, "GRID_TRANSFER_CHECK_SECONDS": "1"}) as ts:
        yield ts


@pytest_asyncio.fixture(scope="module")
async def db(stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    async with pool_on(stack) as pool:
        yield pool


def changed_counties() -> list[str]:
    """Counties whose townships or villages differ between the two lists (all seven of Guangyuan)."""
    before, after = read_divisions(DATA / "divisions-2019.csv"), read_divisions(DATA / "divisions-2020.csv")

    def of(divisions: list[Any], county: str) -> set[tuple[str, str, str]]:
        return {(d.code, d.name, d.parent_code) for d in divisions if d.level != "county" and d.code[:6] == county}

    counties = sorted(d.code for d in before if d.level == "county")
    return [c for c in counties if of(before, c) != of(after, c)]


async def registry_of(db: asyncpg.Pool, county: str, day: date) -> dict[str, tuple[str, str, str]]:
    """The county's townships and villages valid on a day: code → (name, level, parent)."""
    rows = await db.fetch(
        "SELECT code, name, level, parent_code FROM admin_units WHERE left(code, 6) = $1 AND level IN"
        " ('township','village') AND valid_from <= $2 AND (valid_to IS NULL OR $2 < valid_to)",
        county,
        day,
    )
    return {r["code"]: (r["name"], r["level"], r["parent_code"]) for r in rows}


def ok(done: Any, what: str) -> str:
    assert done.returncode == 0, f"{what}:\n{done.stdout}\n{done.stderr}"
    return str(done.stdout) + str(done.stderr)


async def test_every_changed_county_becomes_its_2020_list(
    stack: LiveStack, db: asyncpg.Pool, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    counties = changed_counties()
    assert len(counties) == 7
    wanted_all = {
        d.code: (d.name, d.level, d.parent_code)
        for d in read_divisions(DATA / "divisions-2020.csv")
        if d.level in ("township", "village")
    }
    timings: list[str] = []
    for county in counties:
        started = time.monotonic()
        touched = touched_townships(DATA / "divisions-2019.csv", DATA / "divisions-2020.csv", county)
        posted = await post_events(admin, db, touched, TODAY)
        built = gridctl(
            stack,
            *("plan", "build", "--county", county, "--effective", TODAY.isoformat(), "--plan-id", f"reform-{county}"),
            *("--before", str(DATA / "divisions-2019.csv"), "--after", str(DATA / "divisions-2020.csv")),
            *("--basis", "广府〔2019〕118号"),
        )
        ok(built, f"build {county}")
        plan = orjson.loads(built.stdout)
        assert f"{len(plan['review'])} review items" in built.stderr
        path = tmp_path / f"{county}.json"
        path.write_text(built.stdout)
        assert f"plan reform-{county} is valid" in ok(
            gridctl(stack, "plan", "validate", str(path)), f"validate {county}"
        )
        ok(gridctl(stack, "plan", "apply", str(path), "--by", "测试"), f"apply {county}")
        wanted = {c: v for c, v in wanted_all.items() if c[:6] == county}
        got = await registry_of(db, county, TODAY)
        missing, extra = sorted(wanted.keys() - got.keys()), sorted(got.keys() - wanted.keys())
        assert got == wanted, f"{county}: missing {missing[:5]}, extra {extra[:5]}"
        levels = [v[1] for v in got.values()]
        assert (levels.count("township"), levels.count("village")) == (
            sum(1 for v in wanted.values() if v[1] == "township"),
            sum(1 for v in wanted.values() if v[1] == "village"),
        )
        assert "no gaps, no overlaps" in ok(gridctl(stack, "check", county, "--on", TODAY.isoformat()), county)
        towns = {c for c, v in wanted.items() if v[1] == "township"}
        landed = await check_cases_landed(db, posted, f"reform-{county}", TODAY, towns)
        await check_history_at_points(admin, posted, landed, TODAY)
        abolished = [t for t in touched if t not in towns]
        ended, staff = await check_nobody_serves_ended_units(db, county, TODAY, abolished)
        moved = sum(1 for p in posted if landed[p.case_id]["grid_code"] != p.grid_code)
        timings.append(
            f"{county} {time.monotonic() - started:.0f}s ({len(posted)} cases, {moved} moved;"
            f" {ended} units ended, their {staff} people carried or ended)"
        )
    print("counties:", ", ".join(timings))


TEST_LIST = """code,name,level,parent_code
510800,广元市,city,51
510899,测试县,county,510800
510899100,甲镇,township,510899
510899101,乙镇,township,510899
510899102,丙乡,township,510899
""" + "".join(
    f"510899{t}{v},{n}{v}村民委员会,village,510899{t}\n"
    for t, n in (("100", "甲"), ("101", "乙"), ("102", "丙"))
    for v in ("201", "202", "203")
)


@pytest.fixture(scope="module")
def test_county(stack: LiveStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    """测试县: three townships of three villages each, generated inside a made-up outline."""
    folder = tmp_path_factory.mktemp("county")
    (folder / "list.csv").write_text(TEST_LIST)
    outline = {
        "type": "Feature",
        "properties": {"code": TEST_COUNTY},
        "geometry": mapping(shapely.box(105.0, 32.0, 105.3, 32.2)),
    }
    (folder / "outline.geojson").write_text(orjson.dumps({"type": "FeatureCollection", "features": [outline]}).decode())
    args = (str(folder / "list.csv"), "--county", TEST_COUNTY, "--outlines", str(folder / "outline.geojson"))
    ok(gridctl(stack, "generate", *args, "--no-notify"), "generate the test county")
    return TEST_COUNTY


async def half_of(db: asyncpg.Pool, village: str) -> dict[str, Any]:
    """The western half of a village, as a drawn area."""
    wkb = await db.fetchval("SELECT ST_AsBinary(geom) FROM admin_units WHERE code = $1 AND valid_to IS NULL", village)
    geom = shapely.from_wkb(wkb)
    minx, miny, maxx, maxy = geom.bounds
    return dict(mapping(geom.intersection(shapely.box(minx, miny, (minx + maxx) / 2, maxy))))


def plan_of(plan_id: str, day: date, *items: dict[str, Any]) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "county": TEST_COUNTY,
        "effective_date": day.isoformat(),
        "legal_basis": "测试〔2026〕3号",
        "items": list(items),
    }


async def successors(admin: httpx.AsyncClient, code: str) -> dict[str, dict[str, Any]]:
    answer = await admin.get(f"/api/v1/history/code/{code}")
    assert answer.status_code == 200, answer.text
    return {s["code"]: s for s in answer.json()["successors"] if s["depth"] == 1}


async def test_a_township_created_from_parts_of_townships_that_continue(
    stack: LiveStack, db: asyncpg.Pool, admin: httpx.AsyncClient, test_county: str
) -> None:
    create = {
        "op": "create",
        "code": NEW,
        "name": "新城街道",
        "villages": [
            {"code": f"{A}203", "new_code": f"{NEW}201", "name": "新城村民委员会"},
            {"code": f"{B}203", "new_code": f"{NEW}202"},
        ],
        "areas": [
            {"source": f"{B}202", "area": await half_of(db, f"{B}202"), "into": f"{NEW}203", "name": "新村村民委员会"}
        ],
    }
    answer = await admin.post("/api/v1/plans", json=plan_of("create-test", TODAY, create))
    assert answer.status_code == 201, answer.text
    got = await registry_of(db, test_county, TODAY)
    assert {c: v for c, v in got.items() if v[2] == NEW} == {
        f"{NEW}201": ("新城村民委员会", "village", NEW),
        f"{NEW}202": ("乙203村民委员会", "village", NEW),
        f"{NEW}203": ("新村村民委员会", "village", NEW),
    }
    assert got[NEW] == ("新城街道", "township", TEST_COUNTY) and A in got and B in got
    assert f"{A}203" not in got and f"{B}202" in got  # moved whole, and cut
    from_b = (await successors(admin, B))[NEW]
    assert from_b["kind"] == "part_transferred_to" and from_b["plan_id"] == "create-test"
    assert from_b["share"]["villages"] == [f"{B}203"] and from_b["share"]["drawn_from"] == [f"{B}202"]
    assert 0 < from_b["share"]["area"] < 1
    assert set(await successors(admin, f"{B}202")) == {f"{NEW}203"}
    assert "no gaps, no overlaps" in ok(gridctl(stack, "check", test_county, "--on", TODAY.isoformat()), "check")


async def test_a_township_divided_among_three_successors_names_them_all(
    stack: LiveStack, db: asyncpg.Pool, admin: httpx.AsyncClient, test_county: str
) -> None:
    divide = {
        "op": "divide",
        "code": C,
        "shares": [
            {"into": A, "villages": [{"code": f"{C}201", "new_code": f"{A}210"}]},
            {"into": B, "villages": [{"code": f"{C}202", "new_code": f"{B}210"}]},
            {"into": THIRD, "name": "丙新镇", "villages": [{"code": f"{C}203", "new_code": f"{THIRD}201"}]},
        ],
    }
    answer = await admin.post("/api/v1/plans", json=plan_of("divide-test", TOMORROW, divide))
    assert answer.status_code == 201, answer.text
    got = await registry_of(db, test_county, TOMORROW)
    assert C not in got and got[THIRD] == ("丙新镇", "township", TEST_COUNTY)
    assert sorted(c for c, v in got.items() if v[1] == "township") == [A, B, NEW, THIRD]
    became = await successors(admin, C)
    assert sorted(became) == [A, B, THIRD]
    assert {c: (s["kind"], s["share"]["villages"]) for c, s in became.items()} == {
        A: ("divided_into", [f"{C}201"]),
        B: ("divided_into", [f"{C}202"]),
        THIRD: ("divided_into", [f"{C}203"]),
    }
    assert sum(s["share"]["area"] for s in became.values()) == pytest.approx(1, abs=1e-3)
    later = plan_of("stale-rename", TOMORROW + timedelta(days=1), {"op": "rename", "code": C, "name": "丙乡"})
    refused = await admin.post("/api/v1/plans/validate", json=later)
    assert refused.status_code == 422
    assert f"divided_into {A}, {B}, {THIRD} by plan divide-test" in refused.json()["detail"][0]["msg"]
    history = ok(gridctl(stack, "history", "code", C), "history")
    assert all(re.search(f'"code": "{code}"', history) for code in (A, B, THIRD))
    assert "no gaps, no overlaps" in ok(gridctl(stack, "check", test_county, "--on", TOMORROW.isoformat()), "check")
