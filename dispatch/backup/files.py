"""The files beside the database: the anchor file, read whole between the stream workers' appends, and files put in
place atomically (a temporary file in the same folder, renamed), an identical file already there kept."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from dispatch.cases.anchors import ANCHOR_FILE
from dispatch.media.store import file_hash

_CHUNK = 1024 * 1024


def read_anchors(folder: str | Path) -> bytes | None:
    """The anchor file's bytes, read under the lock the stream workers append under (no half line); None if absent."""
    try:
        fd = os.open(Path(folder) / ANCHOR_FILE, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH)
        chunks = []
        while chunk := os.read(fd, _CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def place(source: Path, target: Path, sha256: str, mode: int) -> bool:
    """Put a copy of `source` (whose hash is `sha256`) at `target`; False when an identical file was there."""
    if file_hash(target) == sha256:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".restore-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as f:
            shutil.copyfileobj(f, out, _CHUNK)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return True


def set_aside(path: Path) -> Path | None:
    """Rename a file out of the way (`<name>.before-restore-<UTC time>`), never deleting it; its new path."""
    if not path.exists():
        return None
    aside = path.with_name(f"{path.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
    os.replace(path, aside)
    return aside
