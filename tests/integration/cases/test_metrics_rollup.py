"""Metrics from the rollup the case writer keeps equal the fold of every log entry in reach (the way they were
computed before), on the real stack, for periods ending before, during and after the cases' lives (closed, reworked,
extended or refused an extension, supervised, cancelled, reopened, merged, moved to another township, sent commands
that were refused), every dimension, as the administrator and as a township's dispatcher; a group none of whose cases
counts in a period (all ended before it) is not listed as a row of zeros; and the migration's backfill of the rollup
from the log equals what the writer kept."""

from __future__ import annotations

import importlib.util
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from kafka import KafkaProducer

from core.cases import case_id_for_event
from core.vocabulary import Role
from dispatch.access.scope import Scope
from dispatch.cases import metrics
from dispatch.cases.machine import LogEntry
from dispatch.cases.rollup import advance, progress_from_row
from dispatch.cases.store import LOG_COLUMNS, entry_from_row
from dispatch.registry.categories_store import load_table
from tests.integration.auth import as_person
from tests.integration.conftest import topic_name
from tests.integration.harness import ROOT, LiveStack, pool_on, wait_for
from tests.integration.helpers import event
from tests.integration.signing import signed_record
from tests.media_samples import png

ADMIN = Scope("admin", Role.ADMIN, "510822")
MIGRATION = ROOT / "dispatch" / "migrations" / "versions" / "0009_metrics_rollup.py"
ROLLUP_OF = "SELECT * FROM metrics_rollup WHERE case_id = ANY($1::uuid[])"
GRID = """
SELECT g.code, g.name AS grid_name, g.village_code, g.township_code, t.name AS township_name,
       ST_X(p) AS lon, ST_Y(p) AS lat, pe.id AS member_id, pe.name AS member_name
FROM grids g CROSS JOIN LATERAL ST_PointOnSurface(g.geom) p JOIN grid_posts gp ON gp.grid_code = g.code
JOIN people pe ON pe.id = gp.person_id JOIN admin_units t ON t.code = g.township_code AND t.valid_to IS NULL
WHERE g.township_code = (SELECT DISTINCT township_code FROM grids ORDER BY 1 DESC OFFSET $1 LIMIT 1)
  AND g.valid_to IS NULL AND gp.valid_to IS NULL
ORDER BY g.code OFFSET $2 LIMIT 1
"""
"""A grid of the township `$1` from the last (by code), its point, its member, and its township's name."""


async def fold_everything(
    pool: asyncpg.Pool, by: str, start: datetime, end: datetime, scope: Scope
) -> list[dict[str, Any]]:
    """The metrics as they were computed before the rollup: every log entry in reach before `end`, folded."""
    logs: dict[uuid.UUID, list[LogEntry]] = defaultdict(list)
    args: list[object] = [end]
    reach = scope.case_sql(args)
    query = (
        f"SELECT {LOG_COLUMNS} FROM case_log WHERE at < $1"
        f" AND case_id IN (SELECT id FROM cases WHERE {reach}) ORDER BY case_id, seq"
    )
    for row in await pool.fetch(query, *args):
        entry = entry_from_row(row)
        logs[entry.case_id].append(entry)
    every = [f for entries in logs.values() if (f := metrics.facts(entries, end)) is not None]
    rows = metrics.report(metrics.tally(every, by, start, end))
    return metrics.named(rows, await load_table(pool)) if by in metrics.BY_CATEGORY else rows


@pytest_asyncio.fixture(scope="module")
async def values_db(live_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the session's database that reads JSON as the product does."""
    async with pool_on(live_stack, json_codecs=True) as pool:
        yield pool


class Township:
    """Cases of one grid of a township, driven through the API by its grid member and dispatcher."""

    def __init__(self, http: httpx.AsyncClient, db: asyncpg.Pool, spot: dict[str, Any]) -> None:
        self.http, self.db, self.spot = http, db, spot
        self.member, self.dispatcher = spot["member_id"], f"disp-{spot['township_code']}"

    async def report(self, category: str) -> str:
        """A new case's id, once it exists."""
        body = event(lon=self.spot["lon"], lat=self.spot["lat"], category=category)
        assert (await self.http.post("/api/v1/events", json=body)).status_code == 202
        case_id = str(case_id_for_event(uuid.UUID(body["event_id"])))

        async def opened() -> bool | None:
            return (await self.http.get(f"/api/v1/cases/{case_id}")).status_code == 200 or None

        await wait_for(opened, f"case {case_id}")
        return case_id

    async def do(self, case_id: str, person: str, expect: int = 200, **body: Any) -> None:
        """A person's command, applied (or refused, writing nothing to the log)."""
        headers = await as_person(self.db, person)
        reply = await self.http.post(f"/api/v1/cases/{case_id}/commands", json=body, headers=headers)
        assert reply.status_code == expect, reply.text

    async def handle(self, case_id: str, photo: dict[str, str], passed: bool = True) -> None:
        """Accept, verify, start and submit as the member; check as the dispatcher."""
        for body in ({"kind": "accept"}, {"kind": "verify", "finding": "属实"}, {"kind": "start"}):
            await self.do(case_id, self.member, **body)
        await self.do(case_id, self.member, kind="submit", summary="已处理", evidence=[photo])
        await self.do(case_id, self.dispatcher, kind="check", passed=passed, note="复核")


async def grid_of(db: asyncpg.Pool, township: int, offset: int) -> dict[str, Any]:
    """A grid of a township (0: the last by code), with its point and member."""
    row = await db.fetchrow(GRID, township, offset)
    assert row is not None, (township, offset)
    return dict(row.items())


async def move(producer: KafkaProducer, stack: LiveStack, db: asyncpg.Pool, case_id: str, to: dict[str, Any]) -> None:
    """Move a case to another grid's member, as redistricting does (a signed transfer by the registry)."""
    transfer = {
        "command_id": str(uuid.uuid4()),
        "case_id": case_id,
        "issued_at": datetime.now(UTC).isoformat(),
        "actor": {"id": "system:registry", "role": "system"},
        "kind": "transfer",
        **{k: to[k] for k in ("grid_name", "village_code", "township_code", "township_name")},
        "grid_code": to["code"],
        "assignee": {"kind": "grid_member", "id": to["member_id"], "name": to["member_name"]},
        "reason": "区划调整",
    }
    topic = topic_name(stack, "case.commands")
    producer.send(topic, signed_record(transfer), key=case_id.encode()).get(10)
    moved = "SELECT grid_code = $2 FROM cases WHERE id = $1"
    await wait_for(lambda: db.fetchval(moved, uuid.UUID(case_id), to["code"]), f"case {case_id} moved")


async def varied_cases(
    http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer, stack: LiveStack
) -> list[str]:
    """Closed, reworked and extended, refused an extension, supervised, cancelled, reopened, merged, moved away and
    still open cases in a township of their own (one cancelled in a grid of its own), with refused commands."""
    spot, other = await grid_of(db, 1, 0), await grid_of(db, 1, 1)
    town, aside = Township(http, db, spot), Township(http, db, other)
    member = await as_person(db, town.member)
    reply = await http.post(
        "/api/v1/media", content=png(note="rollup"), headers={**member, "Content-Type": "image/png"}
    )
    photo = {"sha256": reply.json()["sha256"], "kind": "photo"}
    closed, reworked, cancelled, reopened, still_open, merged, moved = [
        await town.report(c) for c in ("environment", "road", "safety", "environment", "other", "road", "safety")
    ]
    ended = await aside.report("environment")
    await town.handle(closed, photo)
    await town.do(closed, town.dispatcher, kind="close")
    await town.do(reworked, town.member, kind="accept")
    until = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    await town.do(reworked, town.member, kind="request_extension", until=until, reason="等材料")
    await town.do(reworked, town.dispatcher, kind="decide_extension", granted=True)
    await town.do(reworked, town.dispatcher, kind="supervise", reason="群众催办")
    await town.do(cancelled, town.dispatcher, kind="cancel", reason="误报")
    await town.do(cancelled, town.dispatcher, kind="reopen", reason="确有其事")
    await town.do(cancelled, town.dispatcher, 409, kind="close")
    await town.do(reopened, town.dispatcher, 403, kind="accept")
    await town.handle(reopened, photo, passed=False)
    await town.do(reopened, town.member, kind="submit", summary="已返工", evidence=[photo])
    await town.do(reopened, town.dispatcher, kind="check", passed=True)
    await town.do(reopened, town.dispatcher, kind="close")
    await town.do(reopened, town.dispatcher, kind="reopen", reason="群众反映未解决")
    await town.do(still_open, town.member, kind="accept")
    await town.do(still_open, town.member, kind="request_extension", until=until, reason="等材料")
    await town.do(still_open, town.dispatcher, kind="decide_extension", granted=False, note="不予延期")
    await town.do(merged, town.dispatcher, kind="merge", into=still_open, reason="同一处")
    events = "SELECT count(*) = 2 FROM case_events WHERE case_id = $1"
    await wait_for(lambda: db.fetchval(events, uuid.UUID(still_open)), "the merged event attached")
    await move(producer, stack, db, moved, await grid_of(db, 0, 0))
    await aside.do(ended, aside.dispatcher, kind="cancel", reason="误报")
    return [closed, reworked, cancelled, reopened, still_open, merged, moved, ended]


@pytest_asyncio.fixture(scope="module")
async def mine(http: httpx.AsyncClient, db: asyncpg.Pool, producer: KafkaProducer, live_stack: LiveStack) -> list[str]:
    """The ids of the varied cases, made once for the module (the last one cancelled, alone in its grid)."""
    return await varied_cases(http, db, producer, live_stack)


async def test_the_rollup_gives_what_folding_every_entry_gave(
    db: asyncpg.Pool, values_db: asyncpg.Pool, mine: list[str]
) -> None:
    logs = await values_db.fetch(
        f"SELECT {LOG_COLUMNS} FROM case_log WHERE case_id = ANY($1::uuid[]) ORDER BY case_id, seq", mine
    )
    entries = [entry_from_row(r) for r in logs]
    stored = await values_db.fetch(ROLLUP_OF, mine)
    assert {r["case_id"]: progress_from_row(r) for r in stored} == advance({}, entries), "the writer's rollup"

    town = (await db.fetchval("SELECT township_code FROM cases WHERE id = $1", uuid.UUID(mine[0])))[:9]
    dispatcher = Scope(f"disp-{town}", Role.DISPATCHER, town, f"disp-{town}")
    moments = sorted({e.at for e in entries})
    ends = [moments[0], *moments[len(moments) // 3 :: 3], moments[-1] + timedelta(microseconds=1)]
    ends.append(datetime.now(UTC) + timedelta(seconds=1))
    compared = 0
    for end in ends:
        for length in (timedelta(seconds=2), timedelta(minutes=10), timedelta(days=366)):
            for by in metrics.DIMENSIONS:
                for scope in (ADMIN, dispatcher):
                    start = end - length
                    expected = await fold_everything(values_db, by, start, end, scope)
                    assert await metrics.compute(values_db, by, start, end, scope) == expected, (end, length, by)
                    assert all(r["received"] or r["open"] for r in expected), (end, length, by)
                    compared += bool(expected)
    assert compared > 50


async def test_a_grid_whose_cases_all_ended_before_the_period_is_not_listed(
    http: httpx.AsyncClient, db: asyncpg.Pool, mine: list[str]
) -> None:
    ended = (await http.get(f"/api/v1/cases/{mine[-1]}")).json()["case"]
    grid, cancelled_at = ended["grid_code"], datetime.fromisoformat(ended["closed_at"])
    assert ended["state"] == "cancelled"
    opened = {
        "from": (cancelled_at - timedelta(minutes=10)).isoformat(),
        "to": (cancelled_at + timedelta(seconds=1)).isoformat(),
    }
    rows = (await http.get("/api/v1/metrics", params={**opened, "by": "grid"})).json()
    assert {r["key"]: r["received"] for r in rows}[grid] >= 1
    later = {"from": (cancelled_at + timedelta(microseconds=1)).isoformat(), "to": datetime.now(UTC).isoformat()}
    rows = (await http.get("/api/v1/metrics", params={**later, "by": "grid"})).json()
    still = (await http.get("/api/v1/cases", params={"grid": grid, "open_only": "true"})).json()
    listed = {r["key"]: r for r in rows}
    assert (grid in listed) == bool(still), (listed.get(grid), still)
    assert all(r["received"] or r["open"] for r in rows)


async def test_the_migrations_backfill_equals_what_the_writer_keeps(values_db: asyncpg.Pool, mine: list[str]) -> None:
    spec = importlib.util.spec_from_file_location("backfill", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    kept = {r["case_id"]: r for r in await values_db.fetch(ROLLUP_OF, mine)}
    async with values_db.acquire() as conn, conn.transaction():
        # A temporary table of the same name comes first on the search path: the backfill fills it, then it goes.
        await conn.execute("CREATE TEMP TABLE metrics_rollup (LIKE public.metrics_rollup INCLUDING ALL) ON COMMIT DROP")
        await conn.execute(migration.BACKFILL)
        filled = {r["case_id"]: r for r in await conn.fetch(ROLLUP_OF, mine)}
    assert filled.keys() == kept.keys() and len(kept) == len(mine)
    for case_id, row in kept.items():
        again = filled[case_id]
        exact = ("checked", "reworked", "extended", "step_since", "step_since_at", "last_at")
        assert {k: again[k] for k in exact} == {k: row[k] for k in exact}
        assert again["step_minutes"].keys() == row["step_minutes"].keys()
        for step, minutes in row["step_minutes"].items():
            assert again["step_minutes"][step] == pytest.approx(minutes, abs=1e-9)
