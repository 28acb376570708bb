"""Evidence media (photos, documents) stored content-addressed: files named by SHA-256, one row per file."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg

from dispatch.db import Conn
from dispatch.media.sniff import DEFAULT_MAX_BYTES, KINDS, MediaKind, check_upload

SHA256_PATTERN = r"^[0-9a-f]{64}$"
_CHUNK = 1024 * 1024
_COLUMNS = "sha256, content_type, size, uploaded_by, uploaded_at"
GRANT_UPLOADER = (
    "INSERT INTO media_grants (media_hash, person_id, kind) VALUES ($1, $2, 'reporter') ON CONFLICT DO NOTHING"
)
Executor = asyncpg.Pool | Conn
"""A pool, or a connection (inside a caller's transaction)."""


@dataclass(frozen=True)
class MediaInfo:
    """One stored file: its hash, what its bytes are, and who uploaded it when."""

    sha256: str
    content_type: str
    kind: MediaKind
    size: int
    uploaded_by: str
    uploaded_at: datetime


def path_for(media_dir: str | Path, sha256: str) -> Path:
    """Where the file with this hash lives: <dir>/ab/cd/<sha256>."""
    if not re.fullmatch(SHA256_PATTERN, sha256):
        raise ValueError(f"not a lower-case SHA-256 hex digest: {sha256!r}")
    return Path(media_dir) / sha256[:2] / sha256[2:4] / sha256


def file_hash(path: Path) -> str | None:
    """The SHA-256 of a file's content, or None when there is no file."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def _write_file(target: Path, data: bytes, sha256: str) -> None:
    """Write through a temporary file in the same folder and rename; keep an intact file that is already there."""
    if file_hash(target) == sha256:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _info(row: asyncpg.Record) -> MediaInfo:
    return MediaInfo(
        sha256=row["sha256"],
        content_type=row["content_type"],
        kind=KINDS.get(row["content_type"], "document"),
        size=row["size"],
        uploaded_by=row["uploaded_by"],
        uploaded_at=row["uploaded_at"],
    )


async def store(
    pool: Executor,
    media_dir: str | Path,
    data: bytes,
    declared_type: str | None,
    uploaded_by: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> MediaInfo:
    """Store an upload (file first, then its row) and let its uploader read it; the same bytes again return the first
    upload's record."""
    content_type = check_upload(data, declared_type, max_bytes)
    sha256 = hashlib.sha256(data).hexdigest()
    await asyncio.to_thread(_write_file, path_for(media_dir, sha256), data, sha256)
    row = await pool.fetchrow(
        f"INSERT INTO media (sha256, content_type, size, uploaded_by) VALUES ($1, $2, $3, $4)"
        f" ON CONFLICT (sha256) DO NOTHING RETURNING {_COLUMNS}",
        sha256,
        content_type,
        len(data),
        uploaded_by,
    )
    if row is None:
        row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM media WHERE sha256 = $1", sha256)
    assert row is not None
    await pool.execute(GRANT_UPLOADER, sha256, uploaded_by)
    return _info(row)


async def describe(pool: Executor, hashes: list[str]) -> dict[str, MediaInfo]:
    """The stored media among these hashes, by hash; unknown hashes are absent."""
    rows = await pool.fetch(f"SELECT {_COLUMNS} FROM media WHERE sha256 = ANY($1::text[])", list(hashes))
    return {row["sha256"]: _info(row) for row in rows}


def _file_problems(media_dir: Path, hashes: list[str]) -> list[str]:
    problems = []
    for sha256 in hashes:
        actual = file_hash(path_for(media_dir, sha256))
        if actual is None:
            problems.append(f"media {sha256}: file missing")
        elif actual != sha256:
            problems.append(f"media {sha256}: content altered (hash {actual})")
    return problems


async def verify_files(pool: Executor, media_dir: str | Path, hashes: Iterable[str] | None = None) -> list[str]:
    """Problems with stored files (missing, altered, unrecorded), for the audit; all recorded media by default."""
    if hashes is None:
        wanted = [r["sha256"] for r in await pool.fetch("SELECT sha256 FROM media ORDER BY sha256")]
        problems: list[str] = []
    else:
        asked = sorted(set(hashes))
        problems = [f"media {h!r}: not a SHA-256 hash" for h in asked if not re.fullmatch(SHA256_PATTERN, h)]
        valid = [h for h in asked if re.fullmatch(SHA256_PATTERN, h)]
        known = await describe(pool, valid)
        problems += [f"media {h}: no record in the media table" for h in valid if h not in known]
        wanted = [h for h in valid if h in known]
    return problems + await asyncio.to_thread(_file_problems, Path(media_dir), wanted)
