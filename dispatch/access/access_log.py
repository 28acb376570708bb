"""The log of who looked at personal data (reporters' names and phones, people's contacts, photos), and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from dispatch.access.scope import Scope


async def record(
    pool: asyncpg.Pool, scope: Scope, address: str | None, what: str, subject: str, fields: Sequence[str] = ()
) -> None:
    """Note that `scope`'s user read `what` (case, media, person, people) about `subject`."""
    await pool.execute(
        "INSERT INTO access_log (username, role, address, what, subject, fields) VALUES ($1,$2,$3,$4,$5,$6)",
        scope.username,
        scope.role.value,
        address,
        what,
        subject,
        list(fields),
    )


async def entries(
    pool: asyncpg.Pool,
    since: datetime | None = None,
    username: str | None = None,
    subject: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Access records, newest first."""
    rows = await pool.fetch(
        "SELECT at, username, role, address, what, subject, fields FROM access_log"
        " WHERE ($1::timestamptz IS NULL OR at >= $1) AND ($2::text IS NULL OR username = $2)"
        " AND ($3::text IS NULL OR subject = $3) ORDER BY at DESC, id DESC LIMIT $4",
        since,
        username,
        subject,
        limit,
    )
    return [dict(r) for r in rows]


def personal_fields(log: Sequence[dict[str, Any]]) -> list[str]:
    """Which personal fields a case's log shows: reporter names and phones, photos."""
    found: set[str] = set()
    for entry in log:
        _walk(entry.get("payload"), found)
    return sorted(found)


def _walk(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        reporter = value.get("reporter")
        if isinstance(reporter, dict):
            found.update(f"reporter.{k}" for k in ("name", "phone") if reporter.get(k))
        if value.get("media") or value.get("evidence"):
            found.add("media")
        for inner in value.values():
            _walk(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _walk(inner, found)
