"""Registry revisions: each part's counter, bumped on every change so processors know to reload."""

from __future__ import annotations

from dispatch.db import Conn


async def bump_revision(conn: Conn, part: str) -> int:
    """Record that a registry part changed; returns its new revision."""
    revision: int = await conn.fetchval(
        "INSERT INTO registry_revisions (part, revision) VALUES ($1, 1) "
        "ON CONFLICT (part) DO UPDATE SET revision = registry_revisions.revision + 1, changed_at = now() "
        "RETURNING revision",
        part,
    )
    return revision
