"""The backup drill: a stack with cases and their photos is backed up, its database dropped and made anew from the
template and its media and anchor files deleted; a damaged archive is refused and changes nothing; the backup
restores, `gridctl audit verify` passes with the same counts, the application role has back exactly its rights, and
the restarted stack goes on writing the restored cases."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import pytest_asyncio

from core.cases import case_id_for_event
from dispatch.cases.anchors import AnchorFile
from dispatch.cases.seal import AuditKeys
from tests.integration.auth import admin_headers, as_person
from tests.integration.conftest import healthy, running_stack, wait_until
from tests.integration.harness import ROOT, VENV_BIN, LiveStack, client_on, pool_on, stack, wait_for
from tests.integration.helpers import event, grid_point
from tests.media_samples import png

pytestmark = pytest.mark.integration

CASES = 3
COUNTS = (
    "SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_log) AS log_entries,"
    " (SELECT count(*) FROM media) AS media"
)


@pytest.fixture(scope="module")
def drill_stack() -> Iterator[LiveStack]:
    """A stack of its own (its database is dropped), anchoring every half second."""
    env = {"GRID_DUPLICATE_RADIUS_M": "0", "GRID_AUDIT_ANCHOR_SECONDS": "0.5"}
    with running_stack(["demo", "load", "--no-notify"], extra_env=env) as ts:
        yield ts


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """Where the archives go."""
    path = Path(tempfile.mkdtemp(prefix="gridcmd-backups-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@contextlib.asynccontextmanager
async def app_db(ts: LiveStack) -> AsyncIterator[asyncpg.Pool]:
    """The application role's pool, closed again (a restore refuses while anyone is connected)."""
    async with pool_on(ts, json_codecs=True) as pool:
        yield pool


def gridctl(ts: LiveStack, *args: str) -> subprocess.CompletedProcess[str]:
    """A gridctl command as the operator runs it on this stack."""
    return subprocess.run([str(VENV_BIN / "gridctl"), *args], env=ts.env, cwd=ROOT, capture_output=True, text=True)


@dataclass(frozen=True)
class Opened:
    """A case the drill made: its member and the photo they verified it with."""

    case: uuid.UUID
    member: str
    photo: str


async def open_case_with_photo(ts: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool, offset: int) -> Opened:
    """A case opened, accepted and verified with a photo of its member's, its head anchored."""
    spot = await grid_point(db, offset=offset * 7)
    body = event(lon=spot["lon"], lat=spot["lat"])
    assert (await http.post("/api/v1/events", json=body)).status_code == 202
    case = case_id_for_event(uuid.UUID(body["event_id"]))
    await wait_for(lambda: db.fetchval("SELECT true FROM cases WHERE id = $1", case), f"case {case}")
    member = await as_person(db, spot["member_id"])
    upload = await http.post(
        "/api/v1/media", content=png(note=f"drill {offset}"), headers={**member, "Content-Type": "image/png"}
    )
    assert upload.status_code == 201, upload.text
    photo = {"sha256": upload.json()["sha256"], "kind": "photo"}
    for command in ({"kind": "accept"}, {"kind": "verify", "finding": "属实", "evidence": [photo]}):
        r = await http.post(f"/api/v1/cases/{case}/commands", json=command, headers=member)
        assert r.status_code == 200, r.text
    last = await db.fetchval("SELECT max(seq) FROM case_log WHERE case_id = $1", case)
    anchors = AnchorFile(ts.env["GRID_AUDIT_ANCHOR_DIR"], AuditKeys.of(os.environ["GRID_AUDIT_KEY"]))

    async def anchored() -> bool:
        return last in anchors.read().entries.get(case, {})

    await wait_for(anchored, f"the head of case {case} in the anchors")
    return Opened(case, spot["member_id"], photo["sha256"])


@pytest_asyncio.fixture(scope="module")
async def backed_up(drill_stack: LiveStack, folder: Path) -> tuple[Path, dict[str, int], list[Opened]]:
    """The loaded stack backed up (compressed): the archive, the counts it held and its cases."""
    async with app_db(drill_stack) as db, client_on(drill_stack, admin_headers()) as http:
        cases = [await open_case_with_photo(drill_stack, http, db, n) for n in range(CASES)]
        counts = dict((await db.fetchrow(COUNTS)).items())
    assert counts["cases"] >= CASES and counts["media"] >= CASES
    archive = folder / "drill.tar.gz"
    done = gridctl(drill_stack, "backup", "--out", str(archive))
    assert done.returncode == 0, done.stderr
    assert f"{counts['cases']} case(s), {counts['log_entries']} log entries, {counts['media']} media" in done.stderr
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds people's data: its owner's only"
    return archive, counts, cases


def destroy(ts: LiveStack) -> None:
    """Stop the stack's processes, drop its database and make it anew from the template, delete media and anchors."""
    for service in ts.services:
        service.stop()
    stack("dropdb", ts.database)
    stack("createdb", ts.database)
    shutil.rmtree(ts.env["GRID_MEDIA_DIR"])
    shutil.rmtree(ts.env["GRID_AUDIT_ANCHOR_DIR"])


async def nothing_there(ts: LiveStack) -> None:
    """The database has no tables of ours, and no media or anchor file was written."""
    async with app_db(ts) as db:
        assert await db.fetchval("SELECT to_regclass('public.cases')") is None
    assert not files_there(ts)


def files_there(ts: LiveStack) -> bool:
    """Whether the stack's media or anchor folder exists."""
    return any(Path(ts.env[name]).exists() for name in ("GRID_MEDIA_DIR", "GRID_AUDIT_ANCHOR_DIR"))


def with_a_changed_photo(archive: Path, target: Path) -> str:
    """A plain tar of the archive's members with one photo's bytes changed, the manifest as it was; its name."""
    changed = ""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as out:
        for info in source.getmembers():
            data = source.extractfile(info).read()  # type: ignore[union-attr]
            if info.name.startswith("media/") and not changed:
                changed, data = info.name, data[:-1] + bytes([data[-1] ^ 1])
            out.addfile(info, io.BytesIO(data))
    return changed


async def test_a_damaged_archive_is_refused_and_changes_nothing(
    drill_stack: LiveStack, backed_up: tuple[Path, dict[str, int], list[Opened]], folder: Path
) -> None:
    archive, _, _ = backed_up
    destroy(drill_stack)
    tampered = folder / "tampered.tar"
    photo = with_a_changed_photo(archive, tampered)
    done = gridctl(drill_stack, "restore", str(tampered))
    assert done.returncode == 1, done.stderr
    assert "does not match its manifest; nothing was restored" in done.stderr
    assert photo in done.stderr, "the member at fault is named"

    raw = bytearray(gzip.decompress(archive.read_bytes()))
    raw[len(raw) // 2] ^= 0xFF  # one byte flipped somewhere in the middle of the tar
    flipped = folder / "flipped.tar"
    flipped.write_bytes(bytes(raw))
    done = gridctl(drill_stack, "restore", str(flipped))
    assert done.returncode == 1, done.stderr
    assert "nothing was restored" in done.stderr

    truncated = folder / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    done = gridctl(drill_stack, "restore", str(truncated))
    assert done.returncode == 1 and "is damaged or not a backup archive" in done.stderr, done.stderr
    await nothing_there(drill_stack)


async def test_the_backup_restores_into_the_empty_stack_and_verifies(
    drill_stack: LiveStack, backed_up: tuple[Path, dict[str, int], list[Opened]]
) -> None:
    archive, counts, cases = backed_up
    if files_there(drill_stack):
        destroy(drill_stack)  # when run alone
    done = gridctl(drill_stack, "restore", str(archive))
    assert done.returncode == 0, done.stderr
    verified = gridctl(drill_stack, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert f"{counts['cases']} case(s), {counts['log_entries']} log entries" in verified.stderr
    async with app_db(drill_stack) as db:
        assert dict((await db.fetchrow(COUNTS)).items()) == counts
        for sql in ("UPDATE case_log SET payload = payload", "DELETE FROM case_log", "TRUNCATE case_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await db.execute(sql)
        assert await db.fetchval("SELECT count(*) FROM pg_class WHERE relowner = 'grid'::regrole") == 0
    again = gridctl(drill_stack, "restore", str(archive))
    assert again.returncode == 1 and "is not empty" in again.stderr, again.stderr

    await goes_on(drill_stack, cases[0])
    verified = gridctl(drill_stack, "audit", "verify")
    assert verified.returncode == 0, verified.stderr


async def goes_on(ts: LiveStack, opened: Opened) -> None:
    """The stack started again on the restored database: the case and its photo read back, and its member starts
    work on it (a new entry on the restored chain)."""
    for service in ts.services:
        service.restart()
    worker = ts.service("streams")
    wait_until(lambda: worker.log_text().count("[^Worker]: Ready") >= 2, ts, "the restarted worker", timeout=90)
    wait_until(lambda: healthy(ts.base_url), ts, "the web server's /healthz", timeout=60)
    async with app_db(ts) as db, client_on(ts) as http:
        member = await as_person(db, opened.member)
        assert (await http.get(f"/api/v1/cases/{opened.case}", headers=member)).status_code == 200
        photo = await http.get(f"/api/v1/media/{opened.photo}", headers=member)
        assert photo.status_code == 200 and photo.content.startswith(b"\x89PNG")
        started = await http.post(f"/api/v1/cases/{opened.case}/commands", json={"kind": "start"}, headers=member)
        assert started.status_code == 200, started.text


async def test_force_puts_the_backup_back_over_a_database_that_went_on(
    drill_stack: LiveStack, backed_up: tuple[Path, dict[str, int], list[Opened]]
) -> None:
    archive, counts, cases = backed_up
    async with app_db(drill_stack) as db:
        restored = await db.fetchval("SELECT to_regclass('public.cases')") is not None
    if not restored:  # the damaged-archive test emptied the stack and the restore test did not run: restore first
        assert gridctl(drill_stack, "restore", str(archive)).returncode == 0
        await goes_on(drill_stack, cases[0])
    busy = gridctl(drill_stack, "restore", "--force", str(archive))
    assert busy.returncode == 1 and "other session(s) use database" in busy.stderr, busy.stderr
    for service in drill_stack.services:
        service.stop()
    done = gridctl(drill_stack, "restore", "--force", str(archive))
    assert done.returncode == 0, done.stderr
    assert "the anchor file that was there is kept as" in done.stderr
    async with app_db(drill_stack) as db:
        assert dict((await db.fetchrow(COUNTS)).items()) == counts
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await db.execute("UPDATE case_log SET payload = payload")
    verified = gridctl(drill_stack, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
