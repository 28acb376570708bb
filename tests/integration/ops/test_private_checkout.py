"""A checkout inside a private folder (mode 700, as root's home is) runs its stack: PostgreSQL, which runs as user
postgres when we are root, keeps its files where that user reaches them, one folder per checkout recorded by the
symlink .stack/pg; `infra/stack.sh down` and `up` find the cluster again through it, and `clean` removes both. The
stack runs in a scratch checkout (infra, the venv and the Kafka jars linked from this one) on ports of its own."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.harness import ROOT, free_port
from tests.integration.streams.private_stack import KAFKA_LIBS, PGBIN

pytestmark = pytest.mark.integration


@pytest.fixture
def private_checkout() -> Iterator[tuple[Path, dict[str, str]]]:
    """A scratch checkout in a folder only its owner may enter, and the environment that runs its stack on free
    ports; its stack is removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="gridcmd-private-"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    root = folder / "checkout"
    root.mkdir()
    for name in ("infra", ".venv", "pyproject.toml"):
        (root / name).symlink_to(ROOT / name)
    (root / ".stack" / "kafka").mkdir(parents=True)
    (root / ".stack" / "kafka" / "libs").symlink_to(KAFKA_LIBS)
    shutil.copytree(ROOT / ".stack" / "stamps", root / ".stack" / "stamps")
    ports = {"GRID_KAFKA_PORT": free_port(), "GRID_KAFKA_CONTROLLER_PORT": free_port(), "GRID_PG_PORT": free_port()}
    derived = ("GRID_KAFKA_BOOTSTRAP", "GRID_DATABASE_URL", "GRID_DATABASE_OWNER_URL", "GRID_DATABASE_OWNER_PASSWORD")
    env = {k: v for k, v in os.environ.items() if k not in derived} | {k: str(v) for k, v in ports.items()}
    try:
        yield root, env
    finally:
        subprocess.run(["bash", str(root / "infra" / "stack.sh"), "clean"], env=env, capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def stack(root: Path, env: dict[str, str], *args: str) -> str:
    """The checkout's infra/stack.sh; its output, or a failure with what it said."""
    done = subprocess.run(
        ["bash", str(root / "infra" / "stack.sh"), *args], env=env, cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, f"stack.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
    return done.stdout + done.stderr


def databases(env: dict[str, str]) -> set[str]:
    """The databases of the checkout's server, as the application role sees them."""
    psql = [str(PGBIN / "psql"), "-X", "-At", "-h", "127.0.0.1", "-p", env["GRID_PG_PORT"], "-U", "grid", "-d", "grid"]
    done = subprocess.run(
        [*psql, "-c", "SELECT datname FROM pg_database"],
        env={**env, "PGPASSWORD": "grid"},
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


def test_a_checkout_in_a_private_folder_runs_and_cleans_its_database(
    private_checkout: tuple[Path, dict[str, str]],
) -> None:
    root, env = private_checkout
    assert "postgres    up" in stack(root, env, "up")
    link = root / ".stack" / "pg"
    cluster = link.resolve()
    if os.geteuid() == 0:
        assert link.is_symlink() and not cluster.is_relative_to(root.parent), "the cluster lies outside the folder"
        assert cluster.owner() == "root" and (cluster / "data").owner() == "postgres"
        assert (root / ".stack" / "logs" / "postgres.log").resolve() == cluster / "postgres.log"
    assert (cluster / "data" / "PG_VERSION").read_text().strip() == "15"

    stack(root, env, "createdb", "kept_across_restart")
    stack(root, env, "down")
    assert "postgres    up" in stack(root, env, "up")
    assert databases(env) >= {"grid", "kept_across_restart"}, "the restarted server has the cluster it had"

    stack(root, env, "clean")
    assert not cluster.exists() and not link.is_symlink() and not link.exists()
