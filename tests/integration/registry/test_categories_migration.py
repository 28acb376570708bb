"""Migration 0016 loads the category table from its seed file and rewrites the ten legacy categories as codes: a
case's or unrouted event's as its 大类's general 小类, a routing rule's or step SLA's as the whole 大类."""

from __future__ import annotations

import uuid

from tests.integration.harness import VENV_BIN, pool_on, scratch_stack

POINT = "ST_SetSRID(ST_MakePoint(105.0, 32.0), 4326)"


async def test_the_migration_gives_legacy_cases_rules_and_slas_their_codes() -> None:
    market, road, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with scratch_stack() as ts:
        ts.run(str(VENV_BIN / "gridctl"), "migrate", "0010")
        async with pool_on(ts, as_owner=True) as db:
            await db.executemany(
                "INSERT INTO cases (id, version, state, category, priority, event_type, description, location,"
                " opened_at, updated_at, event_count)"
                f" VALUES ($1, 1, 'dispatched', $2, 'normal', 'incident', '', {POINT}, now(), now(), 1)",
                [(market, "market"), (road, "road"), (other, "other")],
            )
            await db.execute(
                "INSERT INTO unrouted_events (event_id, type, category, description, location, reason, received_at,"
                f" event) VALUES ($1, 'incident', 'flood', '', {POINT}, 'outside every grid', now(), '{{}}'::jsonb)",
                uuid.uuid4(),
            )
            await db.executemany(
                "INSERT INTO routing_rules (unit_code, position, category, target, agency_type, sla_hours, updated_by,"
                " valid_from) VALUES ('510822', $1, $2, $3, $4, 48, 'test', '2020-01-01')",
                [(30, "market", "agency", "market"), (50, "fire", "team", None), (1000, None, "grid_member", None)],
            )
            await db.executemany(
                "INSERT INTO step_slas (unit_code, category, accept_minutes, verify_minutes, updated_by, valid_from)"
                " VALUES ('510822', $1, 10, 30, 'test', '2020-01-01')",
                [("fire",), ("safety",), (None,)],
            )
        ts.run(str(VENV_BIN / "gridctl"), "migrate")
        async with pool_on(ts) as db:
            cases = dict(await db.fetch("SELECT id, category FROM cases"))
            unrouted = await db.fetchval("SELECT category FROM unrouted_events")
            rules = [tuple(r) for r in await db.fetch("SELECT position, category FROM routing_rules ORDER BY position")]
            slas = {r["category"] for r in await db.fetch("SELECT category FROM step_slas")}
            names = dict(await db.fetch("SELECT code, name_zh FROM categories WHERE code IN ('09', '0999', '14')"))
            total = await db.fetchval("SELECT count(*) FROM categories")
    assert cases == {market: "0999", road: "1499", other: "0699"}
    assert unrouted == "1199"
    assert rules == [(30, "09"), (50, "12"), (1000, None)]
    assert slas == {"12", "08", None}
    assert names == {"09": "市场监管", "0999": "其他市场监管问题", "14": "市政设施"}
    assert total >= 80
