"""What a backup archive holds and how it is checked: the manifest (what was backed up, from which database state)
and the archive's member names, each with its SHA-256."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "database.dump"
ANCHORS = "anchors/anchors.log"
_MEDIA = re.compile(r"media/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, and what to do."""


class Member(BaseModel):
    """One file of the archive: its hash and size."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str
    size: int


class Counts(BaseModel):
    """What the database held, counted in the snapshot the dump was taken from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cases: int
    log_entries: int
    media: int


class Manifest(BaseModel):
    """The archive's table of contents and the state it was taken in (JSON, `manifest.json` in the archive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = FORMAT
    created_at: datetime
    product_version: str
    git_revision: str | None
    postgres_version: str
    alembic_revision: str
    registry_revisions: dict[str, int]
    counts: Counts
    grants: list[str]
    """Every privilege on a table or sequence held by a role other than its owner, as `table role PRIVILEGE`."""
    media_missing: list[str] = []
    """Media recorded in the database whose file was not in the media folder when the backup was made."""
    members: dict[str, Member]


def media_member(sha256: str) -> str:
    """The archive name of a media file (its place under the media folder)."""
    return f"media/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def media_hash(name: str) -> str | None:
    """The hash a media member's name claims; None for a name that is not a media file's."""
    found = _MEDIA.fullmatch(name)
    if found is None or found[3][:2] != found[1] or found[3][2:4] != found[2]:
        return None
    return found[3]


def known_name(name: str) -> bool:
    """Whether a member name is one an archive may hold (nothing else is ever extracted)."""
    return name in (MANIFEST, DATABASE, ANCHORS) or media_hash(name) is not None


def member_problems(manifest: Manifest, found: Mapping[str, Member]) -> list[str]:
    """Where the files found in an archive (manifest aside) differ from what its manifest lists."""
    problems = [f"{name}: listed in the manifest, not in the archive" for name in manifest.members if name not in found]
    for name, member in found.items():
        listed = manifest.members.get(name)
        if listed is None:
            problems.append(f"{name}: in the archive, not listed in the manifest")
        elif listed != member:
            problems.append(f"{name}: SHA-256 {member.sha256} ({member.size} bytes), the manifest says {listed.sha256}")
        claimed = media_hash(name)
        if claimed is not None and claimed != member.sha256:
            problems.append(f"{name}: its content's SHA-256 is {member.sha256}")
    if DATABASE not in manifest.members:
        problems.append(f"the manifest lists no {DATABASE}")
    return sorted(problems)
