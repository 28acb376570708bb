"""Evidence media on the real stack: uploads judged by their bytes, stored by hash, and checked by the audit."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest_asyncio

from dispatch.media.store import path_for, verify_files
from tests.integration.auth import as_person
from tests.integration.harness import LiveStack
from tests.media_samples import GIF, PDF, TEXT, png

LIMIT = 10 * 1024 * 1024
MEMBER = "gm-510822100001001"
ACTOR: dict[str, str] = {}
"""The grid member's Authorization header, for their account (filled by `_actor`)."""


@pytest_asyncio.fixture(autouse=True)
async def _actor(db: asyncpg.Pool) -> None:
    ACTOR.update(await as_person(db, MEMBER))


def _unique_png() -> bytes:
    return png(6, 5, note=uuid.uuid4().hex)


async def _upload(http: httpx.AsyncClient, data: bytes, content_type: str = "image/png") -> httpx.Response:
    return await http.post("/api/v1/media", content=data, headers={**ACTOR, "content-type": content_type})


async def test_a_png_is_stored_by_its_hash_once_and_served_back(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    data = _unique_png()
    sha = hashlib.sha256(data).hexdigest()
    first = await _upload(http, data)
    assert first.status_code == 201, first.text
    assert first.json() == {
        "sha256": sha,
        "content_type": "image/png",
        "kind": "photo",
        "size": len(data),
        "url": f"/api/v1/media/{sha}",
    }
    again = await _upload(http, data)
    assert again.status_code == 201 and again.json()["sha256"] == sha
    assert await db.fetchval("SELECT count(*) FROM media WHERE sha256 = $1", sha) == 1
    row = await db.fetchrow("SELECT * FROM media WHERE sha256 = $1", sha)
    assert row is not None and row["uploaded_by"] == MEMBER and row["size"] == len(data)
    stored = path_for(live_stack.env["GRID_MEDIA_DIR"], sha)
    assert stored.read_bytes() == data
    assert [p.name for p in stored.parent.iterdir()] == [sha]  # no temporary files left behind

    got = await http.get(first.json()["url"])
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["etag"] == f'"{sha}"'
    cached = await http.get(first.json()["url"], headers={"If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304 and cached.content == b""


async def test_a_pdf_is_a_document(http: httpx.AsyncClient) -> None:
    data = PDF + f"% {uuid.uuid4()}\n".encode()
    reply = await _upload(http, data, "application/pdf")
    assert reply.status_code == 201 and reply.json()["kind"] == "document"


async def test_unknown_and_malformed_hashes(http: httpx.AsyncClient) -> None:
    assert (await http.get(f"/api/v1/media/{'0' * 64}")).status_code == 404
    assert (await http.get("/api/v1/media/not-a-hash")).status_code == 422
    assert (await http.get(f"/api/v1/media/{'A' * 64}")).status_code == 422


async def test_too_large_is_413_whether_declared_or_streamed(http: httpx.AsyncClient) -> None:
    big = png() + b"\x00" * LIMIT
    declared = await _upload(http, big)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 256 * 1024):
            yield big[start : start + 256 * 1024]

    streamed = await http.post("/api/v1/media", content=chunks(), headers={**ACTOR, "content-type": "image/png"})
    assert streamed.status_code == 413
    # Just under the media limit passes the 64 KiB limit that guards the other endpoints.
    near = _unique_png()
    near += b"\x00" * (LIMIT - len(near))
    assert (await _upload(http, near)).status_code == 201
    assert (await http.post("/api/v1/events", content=b"x" * 100_000)).status_code == 413


async def test_wrong_types_are_415_and_an_anonymous_upload_401(http: httpx.AsyncClient) -> None:
    disguised = await _upload(http, _unique_png(), "image/jpeg")
    assert disguised.status_code == 415
    assert "declared as image/jpeg but the bytes are image/png" in disguised.json()["detail"]
    text = await _upload(http, TEXT, "image/jpeg")
    assert text.status_code == 415 and "unrecognised" in text.json()["detail"]
    gif = await _upload(http, GIF, "image/gif")
    assert gif.status_code == 415 and "image/gif" in gif.json()["detail"]
    anonymous = await http.post(
        "/api/v1/media", content=_unique_png(), headers={"content-type": "image/png", "Authorization": ""}
    )
    assert anonymous.status_code == 401
    assert (await _upload(http, b"")).status_code == 422


async def test_the_audit_finds_a_deleted_and_an_altered_file(
    live_stack: LiveStack, http: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    media_dir = Path(live_stack.env["GRID_MEDIA_DIR"])
    gone, edited = _unique_png(), _unique_png()
    hashes = [hashlib.sha256(d).hexdigest() for d in (gone, edited)]
    for data in (gone, edited):
        assert (await _upload(http, data)).status_code == 201
    assert await verify_files(db, media_dir, hashes) == []
    try:
        path_for(media_dir, hashes[0]).unlink()
        altered_path = path_for(media_dir, hashes[1])
        altered_path.chmod(0o644)
        altered = edited[:-1] + b"\x01"
        altered_path.write_bytes(altered)
        problems = await verify_files(db, media_dir, hashes)
        assert sorted(problems) == sorted(
            [
                f"media {hashes[0]}: file missing",
                f"media {hashes[1]}: content altered (hash {hashlib.sha256(altered).hexdigest()})",
            ]
        )
        assert set(problems) <= set(await verify_files(db, media_dir))
        assert await verify_files(db, media_dir, ["0" * 64]) == [f"media {'0' * 64}: no record in the media table"]
        assert (await http.get(f"/api/v1/media/{hashes[0]}")).status_code == 404
    finally:
        # Uploading the original bytes again repairs the store (and leaves it clean for later tests' audits).
        for data in (gone, edited):
            assert (await _upload(http, data)).status_code == 201
    assert await verify_files(db, media_dir, hashes) == []
