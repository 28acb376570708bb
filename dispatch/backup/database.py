"""The database's side of a backup, as its owner role: a snapshot to dump from and what it holds; whether a database
may be restored into; and the checks a restore must pass before it commits."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg

from dispatch.backup.manifest import Counts, Manifest

COUNTS = (
    "SELECT (SELECT count(*) FROM public.cases) AS cases, (SELECT count(*) FROM public.case_log) AS log_entries,"
    " (SELECT count(*) FROM public.media) AS media"
)
_OURS = (
    "c.relnamespace = 'public'::regnamespace AND NOT EXISTS (SELECT FROM pg_depend d"
    " WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')"
)
"""A relation of the schema that no extension (PostGIS's spatial_ref_sys, its views) brought."""
GRANTS = (
    "SELECT format('%s %s %s', c.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,"
    " a.privilege_type) AS g FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a"
    f" WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND a.grantee <> c.relowner AND {_OURS}"
)
"""Every privilege a role other than the owner holds on a table, view or sequence, one row each."""
CLEAR = "DROP OWNED BY CURRENT_USER"
"""Before a restore: the tables, functions and default privileges the owner role has in this database go (PostGIS,
which a superuser installed, stays), so that tables are created with no rights but those the backup grants."""


@dataclass(frozen=True)
class Snapshot:
    """A database state, exported for pg_dump, and what it held."""

    snapshot_id: str
    server_version: str
    server_major: int
    alembic_revision: str
    registry_revisions: dict[str, int]
    counts: Counts
    grants: list[str]
    media: list[str]


@contextlib.asynccontextmanager
async def exported_snapshot(owner_url: str) -> AsyncIterator[Snapshot]:
    """Hold a read-only snapshot open (pg_dump reads it by its id) and describe what it holds."""
    conn: asyncpg.Connection = await asyncpg.connect(owner_url)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot_id = await conn.fetchval("SELECT pg_export_snapshot()")
            if not await conn.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
                raise LookupError("the database has no alembic_version table: it was never migrated")
            counts = await conn.fetchrow(COUNTS)
            assert counts is not None
            yield Snapshot(
                snapshot_id=snapshot_id,
                server_version=await conn.fetchval("SHOW server_version"),
                server_major=int(await conn.fetchval("SHOW server_version_num")) // 10000,
                alembic_revision=await conn.fetchval("SELECT version_num FROM public.alembic_version"),
                registry_revisions={
                    r["part"]: r["revision"] for r in await conn.fetch("SELECT part, revision FROM registry_revisions")
                },
                counts=Counts(**dict(counts.items())),
                grants=sorted(r["g"] for r in await conn.fetch(GRANTS)),
                media=[r["sha256"] for r in await conn.fetch("SELECT sha256 FROM media ORDER BY sha256")],
            )
    finally:
        await conn.close()


@dataclass(frozen=True)
class Target:
    """The database a restore would go into."""

    name: str
    server_major: int
    tables: int
    postgis: str | None
    sessions: list[str]
    roles: set[str] = field(default_factory=set)

    def refusals(self, needed_roles: set[str], force: bool) -> list[str]:
        """Why a restore may not go into it (with --force a database with tables may)."""
        problems = []
        if self.tables and not force:
            problems.append(
                f"database {self.name} is not empty ({self.tables} tables): restore into an empty stack, or give"
                " --force to replace everything in it"
            )
        if self.postgis is None:
            problems.append(f"database {self.name} has no PostGIS: make it from grid_template (infra/stack.sh)")
        if self.sessions:
            problems.append(
                f"{len(self.sessions)} other session(s) use database {self.name} (roles {', '.join(self.sessions)}):"
                " stop the web servers and stream workers first"
            )
        missing = sorted(needed_roles - self.roles)
        if missing:
            problems.append(f"the server lacks the role(s) the backup grants rights to: {', '.join(missing)}")
        return problems


async def target(owner_url: str, roles: set[str]) -> Target:
    """The state of the database at `owner_url`, and which of `roles` exist on its server."""
    conn: asyncpg.Connection = await asyncpg.connect(owner_url)
    try:
        row = await conn.fetchrow(
            "SELECT current_database() AS name, current_setting('server_version_num')::int / 10000 AS major,"
            f" (SELECT count(*) FROM pg_class c WHERE c.relkind IN ('r', 'p') AND {_OURS}) AS tables,"
            " (SELECT extversion FROM pg_extension WHERE extname = 'postgis') AS postgis"
        )
        sessions = await conn.fetch(
            # Another role's session shows its user but not its backend_type; background workers show no user.
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database()"
            " AND usename IS NOT NULL AND pid <> pg_backend_pid() ORDER BY 1"
        )
        found = await conn.fetch("SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])", sorted(roles))
    finally:
        await conn.close()
    assert row is not None
    return Target(
        name=row["name"],
        server_major=row["major"],
        tables=row["tables"],
        postgis=row["postgis"],
        sessions=[str(r["usename"]) for r in sessions],
        roles={r["rolname"] for r in found},
    )


def grantees(manifest: Manifest) -> set[str]:
    """The roles a backup's grants name (PUBLIC is no role)."""
    return {grant.split(" ")[1] for grant in manifest.grants} - {"PUBLIC"}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def checks(manifest: Manifest) -> str:
    """SQL, run last in the restore's transaction, that aborts it unless the grants and the counts are the backup's."""
    counts = manifest.counts
    want_counts = f"{counts.cases} {counts.log_entries} {counts.media}"
    want_grants = "\n".join(sorted(manifest.grants))
    return f"""SET LOCAL search_path TO public;
DO $check$
DECLARE
  grants text;
  counts text;
BEGIN
  SELECT coalesce(string_agg(g, E'\\n' ORDER BY g COLLATE "C"), '') INTO grants FROM ({GRANTS}) AS rights;
  IF grants IS DISTINCT FROM {_literal(want_grants)} THEN
    RAISE EXCEPTION 'the rights restored are not the backup''s: %', grants;
  END IF;
  SELECT format('%s %s %s', cases, log_entries, media) INTO counts FROM ({COUNTS}) AS n;
  IF counts <> {_literal(want_counts)} THEN
    RAISE EXCEPTION 'restored cases, log entries and media: %, the backup holds {want_counts}', counts;
  END IF;
END
$check$;"""
