"""Media against a colleague of another township: a file is read only through an explicit grant (its uploader, a
case it came with, a case that cites it as evidence), never because its hash appears in a text; an event cannot
carry another's file; documents download in a sandbox; and an account's media bytes per day are capped."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg
import httpx
import pytest_asyncio

from tests.integration.auth import as_person, gateway_headers
from tests.integration.conftest import another_web
from tests.integration.harness import LiveStack
from tests.integration.helpers import event
from tests.integration.security.townships import Township, command, report, same_answer, two_townships, upload
from tests.media_samples import PDF, png

UNKNOWN = "0" * 64


@pytest_asyncio.fixture(scope="module")
async def towns(db: asyncpg.Pool) -> tuple[Township, Township]:
    """Township A (the demo's `dispatcher`) and township B (`dispatcher-b`)."""
    return await two_townships(db)


async def _read(http: httpx.AsyncClient, who: dict[str, str], sha256: str) -> httpx.Response:
    return await http.get(f"/api/v1/media/{sha256}", headers=who)


async def _hidden(http: httpx.AsyncClient, who: dict[str, str], sha256: str) -> None:
    """The file reads, for `who`, exactly as a file that does not exist."""
    refused, missing = await _read(http, who, sha256), await _read(http, who, UNKNOWN)
    assert refused.status_code == missing.status_code == 404
    assert same_answer(refused.json(), missing.json(), sha256, UNKNOWN)


async def test_a_hash_written_into_a_description_grants_nothing(
    http: httpx.AsyncClient, db: asyncpg.Pool, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    theirs = await upload(http, b.member_headers)
    case = await report(http, db, a, description=f"见附件 {theirs}")
    await command(http, a.dispatcher_headers, case, kind="supervise", reason=f"请核对 {theirs}")
    for who in (a.member_headers, a.dispatcher_headers):
        await _hidden(http, who, theirs)
    assert (await _read(http, b.member_headers, theirs)).status_code == 200, "the uploader still reads it"
    grants = await db.fetch("SELECT kind, person_id FROM media_grants WHERE media_hash = $1", theirs)
    assert [(g["kind"], g["person_id"]) for g in grants] == [("reporter", b.member)]


async def test_an_event_cannot_carry_another_townships_file(
    http: httpx.AsyncClient, db: asyncpg.Pool, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    theirs = await upload(http, b.member_headers)

    def carrying(sha256: str) -> dict[str, object]:
        media = [{"sha256": sha256, "content_type": "image/png", "size": 100}]
        return event(lon=a.lon, lat=a.lat, reporter={"id": a.member, "name": "网格员"}, media=media)

    smuggled, absent = carrying(theirs), carrying(UNKNOWN)
    refused = await http.post("/api/v1/events", json=smuggled, headers=a.member_headers)
    missing = await http.post("/api/v1/events", json=absent, headers=a.member_headers)
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["detail"][0]["loc"] == ["body", "media", 0, "sha256"]
    assert same_answer(refused.json(), missing.json(), theirs, UNKNOWN)
    batch = await http.post("/api/v1/events/batch", json=[carrying(theirs)], headers=gateway_headers())
    (item,) = batch.json()["results"]
    assert item["status"] == "invalid" and item["errors"][0]["loc"] == ["body", 0, "media", 0, "sha256"]
    claimed = [uuid.UUID(str(e["event_id"])) for e in (smuggled, absent)]
    assert await db.fetchval("SELECT count(*) FROM ingest_receipts WHERE event_id = ANY($1::uuid[])", claimed) == 0
    assert (
        await db.fetchval("SELECT count(*) FROM media_grants WHERE media_hash = $1 AND case_id IS NOT NULL", theirs)
        == 0
    )


async def test_a_cases_files_reach_whoever_reaches_the_case_and_no_one_else(
    http: httpx.AsyncClient, db: asyncpg.Pool, towns: tuple[Township, Township]
) -> None:
    a, b = towns
    photo = await upload(http, a.member_headers)
    media = [{"sha256": photo, "content_type": "image/png", "size": 100}]
    case = await report(http, db, a, media=media)
    to_team = {"kind": "team", "id": a.team}
    await command(http, a.dispatcher_headers, case, kind="assign", assignee=to_team, reason="转执法队")
    await command(http, a.officer_headers, case, kind="accept")
    proof = await upload(http, a.officer_headers)
    evidence = [{"sha256": proof, "kind": "photo"}]
    await command(http, a.officer_headers, case, kind="verify", finding="现场属实", evidence=evidence)

    for sha256 in (photo, proof):
        for insider in (a.dispatcher_headers, a.officer_headers, a.member_headers):
            assert (await _read(http, insider, sha256)).status_code == 200
        for outsider in (b.dispatcher_headers, b.member_headers, b.officer_headers):
            await _hidden(http, outsider, sha256)
    kinds = await db.fetch(
        "SELECT media_hash, kind FROM media_grants WHERE case_id = $1 ORDER BY kind", uuid.UUID(case)
    )
    assert [(k["media_hash"], k["kind"]) for k in kinds] == [(photo, "case"), (proof, "evidence")]


async def test_documents_download_in_a_sandbox_and_images_show_inline(
    http: httpx.AsyncClient, towns: tuple[Township, Township]
) -> None:
    a, _ = towns
    doc = await _read(http, a.officer_headers, await upload(http, a.officer_headers, PDF, "application/pdf"))
    assert doc.status_code == 200 and doc.headers["content-type"] == "application/pdf"
    assert doc.headers["content-disposition"].startswith("attachment;")
    assert doc.headers["content-security-policy"] == "sandbox"
    assert doc.headers["x-content-type-options"] == "nosniff"
    image = await _read(http, a.officer_headers, await upload(http, a.officer_headers))
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert "content-disposition" not in image.headers and image.headers["content-security-policy"] != "sandbox"
    assert image.headers["x-content-type-options"] == "nosniff"


async def test_media_bytes_per_account_a_day_are_capped_across_web_processes(
    live_stack: LiveStack, db: asyncpg.Pool, towns: tuple[Township, Township]
) -> None:
    _, b = towns
    account = b.partner
    headers = {**await as_person(db, account), "content-type": "image/png"}
    files = [png(note=f"quota-{n}-{uuid.uuid4().hex}") for n in range(3)]
    used = await db.fetchval("SELECT coalesce(sum(bytes), 0) FROM media_quota WHERE account = $1", account)
    cap = used + len(files[0]) + len(files[1]) + len(files[2]) // 2
    env = {"GRID_MEDIA_BYTES_PER_DAY": str(cap)}
    with another_web(live_stack, "media-quota-1", env) as one, another_web(live_stack, "media-quota-2", env) as two:
        async with (
            httpx.AsyncClient(base_url=one.base_url) as first,
            httpx.AsyncClient(base_url=two.base_url) as second,
        ):
            assert (await first.post("/api/v1/media", content=files[0], headers=headers)).status_code == 201
            assert (await second.post("/api/v1/media", content=files[1], headers=headers)).status_code == 201
            refused = await second.post("/api/v1/media", content=files[2], headers=headers)
            again = await first.post("/api/v1/media", content=files[2], headers=headers)
    assert refused.status_code == again.status_code == 429, "the day's count is one across the processes"
    assert "media_bytes_per_day" in refused.json()["detail"] and str(cap) in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    refused_hash = hashlib.sha256(files[2]).hexdigest()
    assert await db.fetchval("SELECT count(*) FROM media WHERE sha256 = $1", refused_hash) == 0, "nothing kept"
