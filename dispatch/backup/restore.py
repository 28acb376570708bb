"""`gridctl restore`: an archive into an empty stack. Every member is checked against the manifest, and the target
database and its server against the backup, before anything is touched; the database is restored in one transaction
that checks the rights and the counts before it commits; then the media files and the anchor file go in place."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from dispatch import db
from dispatch.backup import database, pg_tools
from dispatch.backup.archive import unpack_verified
from dispatch.backup.backup import BackupPlaces
from dispatch.backup.files import place, set_aside
from dispatch.backup.manifest import ANCHORS, DATABASE, BackupError, Manifest, media_hash
from dispatch.cases.anchors import ANCHOR_FILE
from dispatch.media.store import file_hash, path_for


@dataclass(frozen=True)
class Restored:
    """What a restore did."""

    manifest: Manifest
    media_written: int
    anchors_set_aside: Path | None
    migrate_needed: bool


async def restore_archive(places: BackupPlaces, archive: Path, force: bool, work_dir: Path | None) -> Restored:
    """Restore `archive` into the database and folders of `places` (see the module's docstring)."""
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="gridcmd-restore-") as staging:
        manifest, files = await asyncio.to_thread(unpack_verified, archive, Path(staging))
        migrate_needed = _check_revision(manifest.alembic_revision)
        target = await database.target(places.owner_url, database.grantees(manifest))
        refusals = target.refusals(database.grantees(manifest), force)
        if refusals:
            raise BackupError("\n".join(["nothing was restored:", *(f"  - {r}" for r in refusals)]))
        tools = pg_tools.find_tools(target.server_major, places.pg_bin_dir)
        written = await asyncio.to_thread(_place_media, places.media_dir, files)
        conn = pg_tools.Connection.of(places.owner_url)
        await asyncio.to_thread(
            pg_tools.restore, tools, conn, files[DATABASE], database.CLEAR, database.checks(manifest)
        )
        aside = await asyncio.to_thread(_place_anchors, places.anchor_dir, files, manifest)
    return Restored(manifest, written, aside, migrate_needed)


def _check_revision(revision: str) -> bool:
    """Refuse a backup of a schema this code does not know (made by a newer version); whether migrate must follow."""
    scripts = ScriptDirectory.from_config(db.alembic_config())
    try:
        scripts.get_revision(revision)
    except CommandError:
        raise BackupError(
            f"the backup's schema revision {revision} is unknown to this version of the product (a newer one made"
            " it): restore it with that version; nothing was restored"
        ) from None
    return revision != scripts.get_current_head()


def _place_media(media_dir: Path, files: dict[str, Path]) -> int:
    written = 0
    for name, source in files.items():
        sha256 = media_hash(name)
        if sha256 is not None:
            written += place(source, path_for(media_dir, sha256), sha256, 0o444)
    return written


def _place_anchors(anchor_dir: Path, files: dict[str, Path], manifest: Manifest) -> Path | None:
    """The backup's anchor file in place; one already there that differs is set aside, never deleted (it anchors
    the database the restore replaced)."""
    source = files.get(ANCHORS)
    target = anchor_dir / ANCHOR_FILE
    if source is None:
        return set_aside(target)
    sha256 = manifest.members[ANCHORS].sha256
    aside = set_aside(target) if target.exists() and file_hash(target) != sha256 else None
    place(source, target, sha256, 0o640)
    return aside
