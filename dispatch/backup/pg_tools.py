"""PostgreSQL's client programs for a backup: pg_dump of the server's version, and a restore through pg_restore and
psql in one transaction. Passwords go in the environment, never on a command line other users can read."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from dispatch.backup.manifest import BackupError


class ToolError(BackupError):
    """A client program is missing, of the wrong version, or failed."""


@dataclass(frozen=True)
class Connection:
    """A libpq connection: the URL without its password, and the password for PGPASSWORD."""

    url: str
    password: str

    @classmethod
    def of(cls, url: str) -> Connection:
        """Split a postgresql:// URL (asyncpg's and libpq's form) into the two."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)
        if len(netloc) == 1:
            return cls(url, "")
        user, _, password = netloc[0].partition(":")
        return cls(urlunsplit(parts._replace(netloc=f"{user}@{netloc[1]}")), unquote(password))

    def env(self) -> dict[str, str]:
        """The environment of a client program on this connection."""
        extra = {"PGPASSWORD": self.password} if self.password else {}
        return {**os.environ, "PGCONNECT_TIMEOUT": "10", **extra}


@dataclass(frozen=True)
class Tools:
    """The folder of pg_dump, pg_restore and psql."""

    bin_dir: Path

    def path(self, program: str) -> str:
        return str(self.bin_dir / program)

    def major(self, program: str = "pg_dump") -> int:
        """The major version of one of the programs."""
        done = subprocess.run([self.path(program), "--version"], capture_output=True, text=True, check=False)
        found = re.search(r"\s(\d+)(?:\.\d+)?", done.stdout)
        if done.returncode != 0 or found is None:
            raise ToolError(f"{self.path(program)} --version failed: {done.stderr.strip() or done.stdout.strip()}")
        return int(found[1])


def find_tools(server_major: int, configured: str = "") -> Tools:
    """The client programs for a server of this major version: GRID_PG_BIN_DIR if set, else Debian's folder of that
    version, else those on PATH; refused when older than the server (pg_dump cannot dump a newer server)."""
    if configured:
        candidates = [Path(configured)]
    else:
        on_path = shutil.which("pg_dump")
        candidates = [Path(f"/usr/lib/postgresql/{server_major}/bin")] + ([Path(on_path).parent] if on_path else [])
    for folder in candidates:
        if (folder / "pg_dump").is_file() and (folder / "pg_restore").is_file() and (folder / "psql").is_file():
            tools = Tools(folder)
            if tools.major() < server_major:
                raise ToolError(
                    f"{folder}/pg_dump is version {tools.major()}, the server {server_major}: set GRID_PG_BIN_DIR"
                    f" to PostgreSQL {server_major}'s programs"
                )
            return tools
    where = ", ".join(str(c) for c in candidates) or "PATH"
    raise ToolError(f"no pg_dump, pg_restore and psql in {where}: set GRID_PG_BIN_DIR (PostgreSQL {server_major})")


def dump(tools: Tools, conn: Connection, snapshot: str, target: Path) -> None:
    """pg_dump in the custom format of the database as it was in an exported snapshot."""
    argv = [tools.path("pg_dump"), "-w", "--format=custom", f"--snapshot={snapshot}", f"--file={target}", conn.url]
    done = subprocess.run(argv, env=conn.env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ToolError(f"pg_dump failed: {done.stderr.strip()}")


def restorable(toc: str) -> str:
    """The archive's table of contents (`pg_restore -l`) without what a database owner cannot restore and a stack
    already has: extensions (PostGIS comes with the database) and their comments, and the rows of tables that an
    extension owns (spatial_ref_sys), which have no TABLE entry of their own in the archive."""
    entries = [line for line in toc.splitlines() if line.strip() and not line.startswith(";")]
    described = [(line, _description(line)) for line in entries]
    tables = {_object(what, "TABLE ") for _, what in described if not what.startswith("TABLE DATA ")}
    kept = []
    for line, what in described:
        if what.startswith(("EXTENSION ", "COMMENT - EXTENSION ")):
            continue
        if what.startswith("TABLE DATA ") and _object(what, "TABLE DATA ") not in tables:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


_ENTRY = re.compile(r"^\d+; \d+ \d+ (?P<what>.*)$")


def _description(line: str) -> str:
    """An entry's description: its kind (one or more words), schema, name and owner."""
    found = _ENTRY.match(line)
    return found["what"] if found else ""


def _object(what: str, kind: str) -> str | None:
    """`schema.name` of an entry of this kind; None for another kind."""
    if not what.startswith(kind):
        return None
    words = what[len(kind) :].split(" ")
    return f"{words[0]}.{words[1]}" if len(words) > 1 else None


def restore(tools: Tools, conn: Connection, dump_file: Path, before: str, after: str) -> None:
    """Run `before`, the archive's restorable entries (owned by the connecting role, with the archive's grants) and
    `after` in one transaction through psql: any error, in the SQL or the checks in `after`, leaves nothing behind."""
    listed = subprocess.run([tools.path("pg_restore"), "-l", str(dump_file)], capture_output=True, text=True)
    if listed.returncode != 0:
        raise ToolError(f"pg_restore -l failed: {listed.stderr.strip()}")
    toc = dump_file.with_suffix(".toc")
    toc.write_text(restorable(listed.stdout))
    script = [tools.path("pg_restore"), "--no-owner", f"--use-list={toc}", "--file=-", str(dump_file)]
    psql = [tools.path("psql"), "-X", "-q", "-w", "--single-transaction", "-v", "ON_ERROR_STOP=1"]
    psql += ["-c", before, "-f", "-", "-c", after, conn.url]
    with subprocess.Popen(script, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as producer:
        assert producer.stdout is not None
        consumer = subprocess.run(psql, stdin=producer.stdout, env=conn.env(), capture_output=True, text=True)
        producer.stdout.close()
        producer_errors = producer.stderr.read().decode(errors="replace") if producer.stderr else ""
    if producer.returncode not in (0, None) or consumer.returncode != 0:
        reason = consumer.stderr.strip() or producer_errors.strip() or f"psql exited with {consumer.returncode}"
        raise ToolError(f"the restore was rolled back: {reason}")
