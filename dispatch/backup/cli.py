"""`gridctl backup` and `gridctl restore`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from dispatch.backup.backup import BackupPlaces, archive_path, make_backup, prune
from dispatch.backup.manifest import BackupError, Manifest
from dispatch.backup.restore import restore_archive
from dispatch.cli_support import console, fail
from dispatch.settings import BackupSettings

backup_app = typer.Typer()


def _places() -> BackupPlaces:
    settings = BackupSettings()
    if not settings.database_owner_url:
        fail("gridctl backup and restore connect as the owner role: set GRID_DATABASE_OWNER_URL")
    assert settings.database_owner_url is not None
    return BackupPlaces(
        owner_url=settings.database_owner_url,
        media_dir=Path(settings.media_dir),
        anchor_dir=Path(settings.audit_anchor_dir),
        pg_bin_dir=settings.pg_bin_dir,
    )


def _summary(manifest: Manifest) -> str:
    counts, media_files = manifest.counts, sum(1 for name in manifest.members if name.startswith("media/"))
    return (
        f"{counts.cases} case(s), {counts.log_entries} log entries, {counts.media} media ({media_files} file(s)),"
        f" schema {manifest.alembic_revision}, registry {manifest.registry_revisions}"
    )


@backup_app.command("backup")
def backup(
    out: Annotated[
        Path | None,
        typer.Option(help="the archive (.tar, .tar.gz, .tgz, .tar.xz), or a folder for a new dated .tar; default here"),
    ] = None,
    keep: Annotated[int, typer.Option(help="with a folder: keep this many newest backups there, remove older")] = 0,
) -> None:
    """One archive: the database (pg_dump, custom format, as the owner role), the media files, the audit anchors and a
    manifest with every member's SHA-256. Secrets are not in it: keep .stack/secrets.env (GRID_AUDIT_KEY) apart."""
    places, target = _places(), archive_path(out, datetime.now(UTC))
    try:
        manifest = asyncio.run(make_backup(places, target))
    except (BackupError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        fail(f"backup failed: {exc}")
        raise
    size = target.stat().st_size
    console.print(f"[green]backup written: {target} ({size / 1e6:.1f} MB): {_summary(manifest)}[/green]")
    if manifest.media_missing:
        console.print(f"[yellow]{len(manifest.media_missing)} recorded media file(s) missing from the media folder:")
        for sha256 in manifest.media_missing[:20]:
            console.print(f"  - {sha256}")
    if out is not None and out.is_dir() and keep > 0:
        for gone in prune(out, keep):
            console.print(f"removed the older backup {gone}")


@backup_app.command("restore")
def restore(
    archive: Annotated[Path, typer.Argument(help="an archive gridctl backup wrote")],
    force: Annotated[bool, typer.Option("--force", help="replace what the database holds")] = False,
    work_dir: Annotated[
        Path | None, typer.Option(help="where to unpack the archive first (default: the system's temporary folder)")
    ] = None,
) -> None:
    """Bring a backup into an empty stack (stopped web servers and stream workers): every member checked against the
    manifest first, the database in one transaction with the backup's rights and counts checked, then the media and
    the anchors. `gridctl audit verify` needs the GRID_AUDIT_KEY the backup's stack used."""
    try:
        done = asyncio.run(restore_archive(_places(), archive, force, work_dir))
    except BackupError as exc:
        fail(f"restore refused: {exc}")
        raise
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        fail(f"restore failed: {exc}")
        raise
    console.print(f"[green]restored {archive}: {_summary(done.manifest)}; {done.media_written} media file(s) written")
    if done.anchors_set_aside:
        console.print(f"the anchor file that was there is kept as {done.anchors_set_aside}")
    if done.migrate_needed:
        console.print("[yellow]the backup's schema is older than this version's: run gridctl migrate[/yellow]")
    console.print("check it with: gridctl audit verify")
