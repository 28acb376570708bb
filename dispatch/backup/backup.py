"""`gridctl backup`: one archive of the anchors, the database and the media, in the order that keeps them consistent
while the product runs: the anchors first (every anchored head was committed before, so the dump taken next holds
it), the database from one snapshot, then the media (a file is written before its row, so every row the snapshot
holds has its file by then)."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from dispatch.backup import database, pg_tools
from dispatch.backup.archive import SUFFIXES, ArchiveWriter, write_mode
from dispatch.backup.files import read_anchors
from dispatch.backup.manifest import ANCHORS, DATABASE, BackupError, Manifest, media_member
from dispatch.media.store import path_for

ARCHIVE_PREFIX = "gridcmd-backup-"


@dataclass(frozen=True)
class BackupPlaces:
    """Where a backup reads from: the database as its owner, the media and anchor folders, the client programs."""

    owner_url: str
    media_dir: Path
    anchor_dir: Path
    pg_bin_dir: str = ""


def archive_path(out: Path | None, now: datetime) -> Path:
    """The archive to write: `out`, or a new name in the folder `out` (default: here)."""
    folder = out if out is None or out.is_dir() else None
    if out is not None and folder is None:
        return out
    return (folder or Path.cwd()) / f"{ARCHIVE_PREFIX}{now:%Y%m%dT%H%M%SZ}.tar"


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest archives this command named in `folder`; the removed ones."""
    ours = sorted(
        (p for p in folder.iterdir() if p.name.startswith(ARCHIVE_PREFIX) and p.name.endswith(tuple(SUFFIXES))),
        key=lambda p: p.name,
    )
    gone = ours[:-keep] if keep > 0 else []
    for path in gone:
        path.unlink()
    return gone


async def make_backup(places: BackupPlaces, target: Path) -> Manifest:
    """Write the archive at `target` and return its manifest; nothing is left behind on failure."""
    write_mode(target)
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    anchors = read_anchors(places.anchor_dir)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".gridcmd-backup-") as work:
        dump_file = Path(work) / DATABASE
        try:
            async with database.exported_snapshot(places.owner_url) as snap:
                tools = pg_tools.find_tools(snap.server_major, places.pg_bin_dir)
                conn = pg_tools.Connection.of(places.owner_url)
                await asyncio.to_thread(pg_tools.dump, tools, conn, snap.snapshot_id, dump_file)
        except LookupError as exc:
            raise BackupError(str(exc)) from None
        return await asyncio.to_thread(_write, places, target, snap, dump_file, anchors)


def _write(
    places: BackupPlaces, target: Path, snap: database.Snapshot, dump_file: Path, anchors: bytes | None
) -> Manifest:
    writer = ArchiveWriter(target)
    try:
        writer.add_file(DATABASE, dump_file)
        if anchors is not None:
            writer.add_bytes(ANCHORS, anchors)
        missing = []
        for sha256 in snap.media:
            source = path_for(places.media_dir, sha256)
            if source.is_file():
                writer.add_file(media_member(sha256), source)
            else:
                missing.append(sha256)
        manifest = Manifest(
            created_at=datetime.now(UTC),
            product_version=_product_version(),
            git_revision=_git_revision(),
            postgres_version=snap.server_version,
            alembic_revision=snap.alembic_revision,
            registry_revisions=snap.registry_revisions,
            counts=snap.counts,
            grants=snap.grants,
            media_missing=missing,
            members=dict(writer.members),
        )
        writer.finish(manifest)
    except BaseException:
        writer.abandon()
        raise
    return manifest


def _product_version() -> str:
    try:
        return metadata.version("gridcmd")
    except metadata.PackageNotFoundError:
        return "unknown"


def _git_revision() -> str | None:
    """The commit of the code making the backup, when it runs from a git checkout."""
    checkout = Path(__file__).resolve().parents[2]
    if not (checkout / ".git").exists():
        return None
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() or None if done.returncode == 0 else None
