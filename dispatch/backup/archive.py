"""The archive file: a tar (gzip, xz or bzip2 by its name) written member by member with each member's SHA-256, and
read back into a staging folder, every member checked against the manifest before anything else is touched."""

from __future__ import annotations

import hashlib
import io
import lzma
import os
import tarfile
import time
import zlib
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from dispatch.backup.manifest import MANIFEST, BackupError, Manifest, Member, known_name, member_problems

_CHUNK = 1024 * 1024
SUFFIXES = {".tar": "w", ".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.xz": "w:xz", ".tar.bz2": "w:bz2"}
"""Archive names and how each is written; a restore reads any of them."""


def write_mode(path: Path) -> str:
    """The tarfile mode for an archive of this name."""
    for suffix, mode in SUFFIXES.items():
        if path.name.endswith(suffix):
            return mode
    raise BackupError(f"{path}: an archive's name ends in one of {', '.join(SUFFIXES)}")


class _Hashing:
    """A file read through, its SHA-256 and size kept."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file, self.digest, self.size = file, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.file.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def member(self) -> Member:
        return Member(sha256=self.digest.hexdigest(), size=self.size)


class ArchiveWriter:
    """A new archive, written to `<path>.partial` (mode 0600: it holds people's data) and renamed when complete."""

    def __init__(self, path: Path) -> None:
        self.path, self.partial = path, path.with_name(path.name + ".partial")
        self.members: dict[str, Member] = {}
        mode = write_mode(path)
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._file, mode=mode)  # type: ignore[call-overload]  # noqa: SIM115

    def add_file(self, name: str, source: Path) -> Member:
        """Add a file's bytes as member `name`, hashing them on the way."""
        with source.open("rb") as f:
            return self._add(name, f, os.fstat(f.fileno()).st_size)

    def add_bytes(self, name: str, data: bytes) -> Member:
        """Add bytes as member `name`."""
        return self._add(name, io.BytesIO(data), len(data))

    def _add(self, name: str, file: IO[bytes], size: int) -> Member:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(time.time()), 0o600
        reader = _Hashing(file)
        self._tar.addfile(info, reader)  # type: ignore[arg-type,unused-ignore]
        member = reader.member()
        if member.size != size:
            raise BackupError(f"{name} changed size while it was archived")
        self.members[name] = member
        return member

    def finish(self, manifest: Manifest) -> None:
        """Add the manifest last, and put the archive in its place."""
        self.add_bytes(MANIFEST, manifest.model_dump_json(indent=2).encode())
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.partial, self.path)

    def abandon(self) -> None:
        """Remove the unfinished archive."""
        self._tar.close()
        self._file.close()
        self.partial.unlink(missing_ok=True)


_BROKEN = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError)


def unpack_verified(archive: Path, staging: Path) -> tuple[Manifest, dict[str, Path]]:
    """Extract an archive's members into `staging` (only names an archive may hold, regular files, no duplicates),
    hashing each; return its manifest and the files, or refuse naming every member that differs from the manifest."""
    found: dict[str, Member] = {}
    problems: list[str] = []
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for info in tar:
                problem = _refused(info, found)
                if problem:
                    problems.append(problem)
                    continue
                source = tar.extractfile(info)
                assert source is not None
                found[info.name] = _extract(source, staging / info.name)
    except FileNotFoundError:
        raise BackupError(f"{archive}: no such file") from None
    except _BROKEN as exc:
        raise BackupError(f"{archive} is damaged or not a backup archive ({exc}); nothing was restored") from None
    if MANIFEST not in found:
        raise BackupError(f"{archive} holds no {MANIFEST}: not a gridctl backup; nothing was restored")
    try:
        manifest = Manifest.model_validate_json((staging / MANIFEST).read_bytes())
    except ValidationError as exc:
        raise BackupError(f"{archive}: its {MANIFEST} is unreadable ({exc.errors()[0]['msg']})") from None
    del found[MANIFEST]
    problems += member_problems(manifest, found)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise BackupError(f"{archive} does not match its manifest; nothing was restored:\n{listed}")
    return manifest, {name: staging / name for name in found}


def _refused(info: tarfile.TarInfo, found: dict[str, Member]) -> str | None:
    if not known_name(info.name):
        return f"{info.name!r}: not a member a backup holds"
    if not info.isfile():
        return f"{info.name}: not a regular file"
    if info.name in found:
        return f"{info.name}: twice in the archive"
    return None


def _extract(source: IO[bytes], target: Path) -> Member:
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = _Hashing(source)
    with target.open("wb") as out:
        while chunk := reader.read(_CHUNK):
            out.write(chunk)
    return reader.member()
