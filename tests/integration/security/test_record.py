"""The record against its own operator: the application's database role cannot rewrite the case log, and whatever an
operator with the owner's rights does to it (edit, delete, recompute the chain, cut the tail) `gridctl audit verify`
names, because the entries are sealed with a key and their heads anchored outside the database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from core.cases import Actor, case_id_for_event
from dispatch.cases.anchors import ANCHOR_FILE, AnchorFile
from dispatch.cases.machine import GENESIS, entry_hash
from dispatch.cases.seal import AuditKeys, key_id
from tests.integration.auth import admin_headers, as_person
from tests.integration.conftest import running_stack
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, client_on, pool_on, scratch_stack, wait_for
from tests.integration.helpers import event, grid_point
from tests.media_samples import png

KEY = os.environ["GRID_AUDIT_KEY"]


@pytest.fixture(scope="module")
def record_stack() -> Iterator[LiveStack]:
    """A stack of its own (these tests tamper with its log), anchoring every half second."""
    env = {"GRID_DUPLICATE_RADIUS_M": "0", "GRID_AUDIT_ANCHOR_SECONDS": "0.5"}
    with running_stack(["demo", "load", "--no-notify"], extra_env=env) as ts:
        yield ts


@pytest_asyncio.fixture(scope="module")
async def app_db(record_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """The application's role, as the web server and the stream workers connect."""
    async with pool_on(record_stack, json_codecs=True) as pool:
        yield pool


@pytest_asyncio.fixture(scope="module")
async def owner_db(record_stack: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """The owner role: an operator with the database's owner rights."""
    async with pool_on(record_stack, json_codecs=True, as_owner=True) as pool:
        yield pool


@pytest_asyncio.fixture(scope="module")
async def http(record_stack: LiveStack) -> AsyncIterator[httpx.AsyncClient]:
    async with client_on(record_stack, admin_headers()) as client:
        yield client


@pytest_asyncio.fixture
async def case_id(record_stack: LiveStack, http: httpx.AsyncClient, app_db: asyncpg.Pool) -> uuid.UUID:
    """A case of five entries (opened and dispatched, accepted, verified with a photo, started), its head anchored."""
    spot = await grid_point(app_db)
    body = event(lon=spot["lon"], lat=spot["lat"])
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case = case_id_for_event(uuid.UUID(body["event_id"]))
    await wait_for(lambda: app_db.fetchval("SELECT true FROM cases WHERE id = $1", case), f"case {case}")
    member = await as_person(app_db, spot["member_id"])
    upload = await http.post(
        "/api/v1/media", content=png(note="record"), headers={**member, "Content-Type": "image/png"}
    )
    photo = {"sha256": upload.json()["sha256"], "kind": "photo"}
    for command in ({"kind": "accept"}, {"kind": "verify", "finding": "属实", "evidence": [photo]}, {"kind": "start"}):
        r = await http.post(f"/api/v1/cases/{case}/commands", json=command, headers=member)
        assert r.status_code == 200, r.text
    last = await app_db.fetchval("SELECT max(seq) FROM case_log WHERE case_id = $1", case)
    assert last >= 4
    anchors = AnchorFile(record_stack.env["GRID_AUDIT_ANCHOR_DIR"], AuditKeys.of(KEY))

    async def anchored() -> bool:
        return last in anchors.read().entries.get(case, {})

    await wait_for(anchored, f"the head of case {case} in the anchors")
    return case


def verify(stack: LiveStack, **env: str) -> subprocess.CompletedProcess[str]:
    """`gridctl audit verify` as the operator runs it (with the audit key, or the keys given)."""
    argv = [str(VENV_BIN / "gridctl"), "audit", "verify"]
    return subprocess.run(argv, env={**stack.env, **env}, cwd=ROOT, capture_output=True, text=True)


async def log_rows(db: asyncpg.Pool, case: uuid.UUID) -> list[dict[str, Any]]:
    """Every column of a case's log, in order."""
    return [dict(r.items()) for r in await db.fetch("SELECT * FROM case_log WHERE case_id = $1 ORDER BY seq", case)]


@contextlib.asynccontextmanager
async def owner_session(owner_db: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction of the owner's with the append-only trigger switched off, as an operator would tamper."""
    async with owner_db.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE case_log DISABLE TRIGGER case_log_no_update")
        yield conn
        await conn.execute("ALTER TABLE case_log ENABLE TRIGGER case_log_no_update")


@contextlib.asynccontextmanager
async def tampering(owner_db: asyncpg.Pool, case: uuid.UUID) -> AsyncIterator[None]:
    """Put the case's log back as it was after the test has tampered with it, so the other tests see it intact."""
    before = await log_rows(owner_db, case)
    try:
        yield
    finally:
        async with owner_session(owner_db) as conn:
            await conn.execute("DELETE FROM case_log WHERE case_id = $1", case)
            columns = list(before[0])
            values = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
            insert = f"INSERT INTO case_log ({', '.join(columns)}) OVERRIDING SYSTEM VALUE VALUES ({values})"
            await conn.executemany(insert, [tuple(row.values()) for row in before])


async def test_the_application_role_cannot_update_delete_truncate_or_switch_off_the_trigger(
    case_id: uuid.UUID, app_db: asyncpg.Pool
) -> None:
    before, total = await log_rows(app_db, case_id), await app_db.fetchval("SELECT count(*) FROM case_log")
    attempts = (
        "UPDATE case_log SET payload = '{}'::jsonb WHERE case_id = $1",
        "DELETE FROM case_log WHERE case_id = $1 AND seq > 1",
        "TRUNCATE case_log",
        "ALTER TABLE case_log DISABLE TRIGGER case_log_no_update",
        "DROP TRIGGER case_log_no_update ON case_log",
        "ALTER TABLE case_log OWNER TO grid",
        "CREATE TABLE case_log_copy (LIKE case_log)",
    )
    for sql in attempts:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app_db.execute(sql, *([case_id] if "$1" in sql else []))
    assert await log_rows(app_db, case_id) == before
    assert await app_db.fetchval("SELECT count(*) FROM case_log") == total
    owned = await app_db.fetchval("SELECT count(*) FROM pg_class WHERE relowner = 'grid'::regrole")
    assert owned == 0, "the application role owns nothing"


async def test_an_untouched_log_verifies_and_says_how_much_is_sealed(
    case_id: uuid.UUID, record_stack: LiveStack, app_db: asyncpg.Pool
) -> None:
    done = verify(record_stack)
    assert done.returncode == 0, done.stderr
    entries = await app_db.fetchval("SELECT count(*) FROM case_log")
    assert f"{entries} log entries ({entries} sealed with an audit key, 0 unkeyed)" in done.stderr


async def _caught(stack: LiveStack, *expected: str) -> None:
    done = verify(stack)
    assert done.returncode == 1, done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr


async def test_an_edit_a_deleted_middle_entry_and_a_recomputed_chain_are_each_named(
    case_id: uuid.UUID, record_stack: LiveStack, owner_db: asyncpg.Pool
) -> None:
    kinds = {r["seq"]: r["kind"] for r in await log_rows(owner_db, case_id)}
    last, verified = max(kinds), next(seq for seq, kind in kinds.items() if kind == "verified")
    async with tampering(owner_db, case_id):
        async with owner_session(owner_db) as conn:
            await conn.execute(
                'UPDATE case_log SET payload = payload || \'{"finding": "不属实"}\' WHERE case_id = $1 AND seq = $2',
                case_id,
                verified,
            )
        await _caught(record_stack, f"case {case_id} entry {verified} (verified): content does not match its hash")
    async with tampering(owner_db, case_id):
        async with owner_session(owner_db) as conn:
            await conn.execute("DELETE FROM case_log WHERE case_id = $1 AND seq = 2", case_id)
        await _caught(record_stack, f"case {case_id} entry 3 ({kinds[3]}): expected entry 2, an entry is missing")
    async with tampering(owner_db, case_id):
        await recompute_without_the_key(owner_db, case_id, strip_seals=False)
        await _caught(record_stack, f"case {case_id} entry 2 ({kinds[3]}): its seal (key {key_id(KEY)}) does not match")
    async with tampering(owner_db, case_id):
        await recompute_without_the_key(owner_db, case_id, strip_seals=True)
        await _caught(
            record_stack,
            f"case {case_id}: anchored entry {last} is missing, the log ends at entry {last - 1}",
            f"case {case_id} entry {last - 1} ({kinds[last]}): unsealed, yet the anchors' baseline does not hold it",
        )
    assert verify(record_stack).returncode == 0


async def recompute_without_the_key(owner_db: asyncpg.Pool, case: uuid.UUID, strip_seals: bool) -> None:
    """Drop entry 2, renumber the rest and recompute the unkeyed SHA-256 chain, as anyone with the database can;
    with `strip_seals`, also remove the seals, passing the entries off as written before the chain was keyed."""
    rows = [r for r in await log_rows(owner_db, case) if r["seq"] != 2]
    async with owner_session(owner_db) as conn:
        await conn.execute("DELETE FROM case_log WHERE case_id = $1", case)
        prev = GENESIS
        for seq, row in enumerate(rows, start=1):
            actor = Actor(id=row["actor_id"], role=row["actor_role"])
            digest = entry_hash(prev, case, seq, row["command_id"], row["kind"], actor, row["at"], row["payload"])
            sealed = (None, None) if strip_seals else (row["key_id"], row["mac"])
            await conn.execute(
                "INSERT INTO case_log (case_id, seq, command_id, kind, actor_id, actor_role, at, payload, prev_hash,"
                " hash, key_id, mac) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
                *(case, seq, row["command_id"], row["kind"], row["actor_id"], row["actor_role"], row["at"]),
                *(row["payload"], prev, digest, *sealed),
            )
            prev = digest


@pytest.mark.parametrize("cut", [2, 5])
async def test_a_cut_tail_is_named(
    cut: int, case_id: uuid.UUID, record_stack: LiveStack, owner_db: asyncpg.Pool
) -> None:
    last = await owner_db.fetchval("SELECT max(seq) FROM case_log WHERE case_id = $1", case_id)
    async with tampering(owner_db, case_id):
        async with owner_session(owner_db) as conn:
            await conn.execute("DELETE FROM case_log WHERE case_id = $1 AND seq > $2", case_id, last - cut)
        await _caught(
            record_stack,
            f"case {case_id}: anchored entry {last} is missing, the log ends at entry {last - cut} (its tail was cut)",
        )
    assert verify(record_stack).returncode == 0


async def test_entries_sealed_before_a_rotation_verify_with_the_previous_key_only(
    case_id: uuid.UUID, record_stack: LiveStack
) -> None:
    rotated = verify(record_stack, GRID_AUDIT_KEY="a-new-key-" + "x" * 40, GRID_AUDIT_KEYS_PREVIOUS=KEY)
    assert rotated.returncode == 0, rotated.stderr
    forgotten = verify(record_stack, GRID_AUDIT_KEY="a-new-key-" + "x" * 40, GRID_AUDIT_KEYS_PREVIOUS="")
    assert forgotten.returncode == 1
    assert f"case {case_id} entry 1 (registered): sealed with unknown key {key_id(KEY)}" in forgotten.stderr


async def test_a_removed_or_edited_anchor_line_is_named(
    case_id: uuid.UUID, record_stack: LiveStack, tmp_path: Path
) -> None:
    lines = (Path(record_stack.env["GRID_AUDIT_ANCHOR_DIR"]) / ANCHOR_FILE).read_text().splitlines(keepends=True)
    assert len(lines) >= 3
    (tmp_path / ANCHOR_FILE).write_text("".join([lines[0], *lines[2:]]))
    removed = verify(record_stack, GRID_AUDIT_ANCHOR_DIR=str(tmp_path))
    assert removed.returncode == 1 and "anchor line 2 does not follow line 1 (a line was removed)" in removed.stderr
    edited = lines[1].replace('"baseline":false', '"baseline":true')
    (tmp_path / ANCHOR_FILE).write_text("".join([lines[0], edited, *lines[2:]]))
    forged = verify(record_stack, GRID_AUDIT_ANCHOR_DIR=str(tmp_path))
    assert forged.returncode == 1 and "anchor line 2: its seal" in forged.stderr, forged.stderr


async def test_the_application_role_cannot_run_the_migrations_to_grant_itself_more() -> None:
    with scratch_stack() as ts:
        ts.run(str(VENV_BIN / "gridctl"), "migrate", "0005")
        argv = [str(VENV_BIN / "gridctl"), "migrate"]
        env = {**ts.env, "GRID_DATABASE_OWNER_URL": ""}
        as_app = await asyncio.to_thread(subprocess.run, argv, env=env, cwd=ROOT, capture_output=True, text=True)
        assert as_app.returncode != 0 and "permission denied" in as_app.stderr, as_app.stderr
        async with pool_on(ts, as_owner=True) as owner:
            assert await owner.fetchval("SELECT version_num FROM alembic_version") == "0005"
            assert not await owner.fetchval("SELECT has_table_privilege('grid', 'case_log', 'SELECT')")
