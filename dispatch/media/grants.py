"""Who may read which media file: explicit grants to the uploader, to a case its events carry it on, and to a case
whose record cites it as evidence. A hash written anywhere else (a description, a note) grants nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from uuid import UUID

from dispatch.access.scope import EVERYWHERE, Scope
from dispatch.db import Conn
from dispatch.media.store import Executor

CaseGrantKind = Literal["case", "evidence"]
CaseGrant = tuple[str, UUID, CaseGrantKind]
"""A file (by hash) readable by whoever reaches a case, and why."""

GRANT_CASE = "INSERT INTO media_grants (media_hash, case_id, kind) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"


async def grant_cases(conn: Conn, grants: Iterable[CaseGrant]) -> None:
    """Whoever reaches each case may read its files (idempotent: a replayed grant changes nothing)."""
    rows = sorted(set(grants))
    if rows:
        await conn.executemany(GRANT_CASE, rows)


async def visible(pool: Executor, sha256: str, scope: Scope) -> bool:
    """Whether the caller is the granted person, or reaches a case the file is granted to."""
    return sha256 in await readable(pool, [sha256], scope)


async def readable(pool: Executor, hashes: Iterable[str], scope: Scope) -> set[str]:
    """The stored files among `hashes` the caller may read (an administrator: every stored one)."""
    wanted = sorted(set(hashes))
    if not wanted:
        return set()
    if scope.role in EVERYWHERE:
        rows = await pool.fetch("SELECT sha256 FROM media WHERE sha256 = ANY($1::text[])", wanted)
        return {r["sha256"] for r in rows}
    args: list[object] = [wanted, scope.me]
    reach = scope.case_sql(args, alias="c")
    rows = await pool.fetch(
        "SELECT DISTINCT g.media_hash FROM media_grants g JOIN media m ON m.sha256 = g.media_hash"
        " LEFT JOIN cases c ON c.id = g.case_id"
        f" WHERE g.media_hash = ANY($1::text[]) AND (g.person_id = $2 OR (g.case_id IS NOT NULL AND {reach}))",
        *args,
    )
    return {r["media_hash"] for r in rows}
