"""A broker and a database of one test's own, to kill (SIGKILL) and start again without hurting other tests.

Kafka runs from the jars infra/stack.sh setup put in .stack/kafka/libs, with infra/kafka/server.properties.in
rendered into a temporary folder and the installation's broker users, added as infra/stack.sh adds them (through a
listener on which admin logs in with SASL/PLAIN, here kept for the broker's life); PostgreSQL is a new cluster
(initdb, as the postgres user when we are root) in another. Both listen on free ports of 127.0.0.1 and are removed
when the context ends.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from streams.acls import ADMIN, USERS
from tests.integration.harness import ROOT, VENV_BIN, free_port, password_of

KAFKA_LIBS = ROOT / ".stack" / "kafka" / "libs"
PGBIN = Path("/usr/lib/postgresql/15/bin")


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _wait(ready: Callable[[], bool], what: str, within: float, log: Path) -> None:
    """Poll `ready` until it is true, failing with the log's tail after `within` seconds."""
    deadline = time.monotonic() + within
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {within:.0f}s waiting for {what}\n{_tail(log)}")
        time.sleep(0.2)


def _dead(pid: int) -> bool:
    """The process has exited (a zombie counts: it holds nothing but its pid)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def _cluster_id() -> str:
    """A KRaft cluster id as StorageTool random-uuid makes one: 16 random bytes, base64url without padding."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


class PrivateKafka:
    """One KRaft node (broker and controller) on free ports, its log and data under `home`."""

    def __init__(self, home: Path) -> None:
        self.home, self.port, self.controller_port, self.users_port = home, free_port(), free_port(), free_port()
        self.config, self.log = home / "server.properties", home / "kafka.log"
        self.proc: subprocess.Popen[bytes] | None = None
        template = (ROOT / "infra" / "kafka" / "server.properties.in").read_text()
        listeners = f"CLIENT://127.0.0.1:{self.port},USERS://127.0.0.1:{self.users_port}"
        self.config.touch(mode=0o600)  # it holds admin's and the controller's passwords
        self.config.write_text(
            template.replace("@PORT@", str(self.port))
            .replace("@CONTROLLER_PORT@", str(self.controller_port))
            .replace("@DATA_DIR@", str(home / "data"))
            .replace("@ADMIN_PASSWORD@", password_of(ADMIN))
            .replace("@CONTROLLER_PASSWORD@", password_of("controller"))
            + f"listeners={listeners},CONTROLLER://127.0.0.1:{self.controller_port}\n"
            f"advertised.listeners={listeners}\n"
            "listener.security.protocol.map=CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT,USERS:SASL_PLAINTEXT\n"
            "listener.name.users.sasl.enabled.mechanisms=PLAIN\n"
            "listener.name.users.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
            f' required user_admin="{password_of(ADMIN)}";\n'
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, *args: str) -> list[str]:
        if not any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"no Kafka jars in {KAFKA_LIBS}: run infra/stack.sh setup")
        return ["java", "-Xms128m", "-Xmx512m", "-cp", f"{KAFKA_LIBS}/*", *args]

    def format(self) -> subprocess.Popen[bytes]:
        """Format the KRaft storage (started, not waited for: the JVM takes seconds)."""
        argv = self._java(
            f"-Dlog4j.configuration=file:{ROOT}/infra/kafka/log4j-tools.properties",
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            _cluster_id(),
            "--config",
            str(self.config),
        )
        with self.log.open("ab") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def start(self) -> None:
        """Start the broker (again); see wait_ready."""
        argv = self._java(
            f"-Dlog4j.configuration=file:{ROOT}/infra/kafka/log4j.properties", "kafka.Kafka", str(self.config)
        )
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def answers(self) -> bool:
        """The broker answers metadata requests (infra/kafka_ready.py, a few seconds at most)."""
        if self.proc is None or self.proc.poll() is not None:
            raise RuntimeError(f"the private broker is not running\n{_tail(self.log)}")
        argv = [str(VENV_BIN / "python"), str(ROOT / "infra" / "kafka_ready.py"), "--bootstrap", self.bootstrap]
        return subprocess.run([*argv, "--timeout", "3"], capture_output=True, cwd=ROOT).returncode == 0

    def wait_ready(self, within: float = 90) -> None:
        _wait(self.answers, "the private broker", within, self.log)

    def add_users(self, within: float = 90) -> None:
        """Give the new broker the installation's users (infra/kafka_users.py, passwords in the environment)."""
        users = f"127.0.0.1:{self.users_port}"
        python = str(VENV_BIN / "python")
        as_admin = {**os.environ, "GRID_KAFKA_USERNAME": ADMIN, "GRID_KAFKA_PASSWORD": password_of(ADMIN)}

        def answers() -> bool:
            argv = [python, str(ROOT / "infra" / "kafka_ready.py"), "--bootstrap", users, "--timeout", "3"]
            env = {**as_admin, "GRID_KAFKA_MECHANISM": "PLAIN"}
            return subprocess.run(argv, capture_output=True, cwd=ROOT, env=env).returncode == 0

        _wait(answers, "the private broker's users listener", within, self.log)
        argv = [python, str(ROOT / "infra" / "kafka_users.py"), "--bootstrap", users, "--mechanism", "PLAIN", *USERS]
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT, env=as_admin)


class PrivatePostgres:
    """A PostgreSQL 15 cluster with PostGIS on a free port: role grid/grid, template database grid_template."""

    def __init__(self, home: Path) -> None:
        self.home, self.port = home, free_port()
        self.data, self.log = home / "pg", home / "postgres.log"

    @property
    def server(self) -> str:
        return f"postgresql://grid:grid@127.0.0.1:{self.port}"

    @property
    def owner_server(self) -> str:
        return f"postgresql://grid_owner:grid_owner@127.0.0.1:{self.port}"

    @staticmethod
    def _as_postgres(*argv: str) -> list[str]:
        """The command as user postgres when we are root (run it from /: postgres may not enter the checkout)."""
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)

    def _owned(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "postgres", "postgres")

    def initdb(self) -> None:
        """A new cluster: trust authentication (it listens on 127.0.0.1 only and lives for one test)."""
        self.home.chmod(0o755)
        self.data.mkdir(mode=0o700)
        self.log.touch()
        for path in (self.data, self.log):
            self._owned(path)
        initdb = [str(PGBIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8"]
        done = subprocess.run(self._as_postgres(*initdb, "--auth=trust"), capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            "max_connections": "100",
            "fsync": "off",  # a SIGKILL of the server loses nothing the OS has; the machine does not crash
            "timezone": "'UTC'",
            "log_timezone": "'UTC'",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        """Start the server (again, after crash recovery) and wait until it accepts connections."""
        argv = [str(PGBIN / "pg_ctl"), "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "90"]
        done = subprocess.run(self._as_postgres(*argv), capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{_tail(self.log)}")

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend (its process group: pg_ctl starts it in a session of its own)."""
        pid_file = self.data / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0])
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        _wait(lambda: _dead(pid), "the killed postmaster to exit", 30, self.log)
        # Its pid file stays behind, as after a crash; a zombie not yet reaped would pass for a live postmaster.
        pid_file.unlink(missing_ok=True)

    def psql(self, sql: str, database: str = "postgres", user: str = "postgres") -> str:
        """Run SQL as a user over TCP; fail loudly."""
        argv = [str(PGBIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port)]
        done = subprocess.run([*argv, "-U", user, "-d", database, "-Atc", sql], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {sql}\n{done.stderr}")
        return done.stdout

    def answers(self) -> bool:
        """The server accepts the application's connections."""
        try:
            return self.psql("SELECT 1", user="grid").strip() == "1"
        except RuntimeError:
            return False

    def bootstrap(self) -> None:
        """Roles grid (the application) and grid_owner (the tables' owner), and a template database with PostGIS, as
        infra/stack.sh makes them."""
        self.psql("CREATE ROLE grid LOGIN PASSWORD 'grid'")
        self.psql("CREATE ROLE grid_owner LOGIN CREATEDB PASSWORD 'grid_owner'")
        self.psql("CREATE DATABASE grid_template OWNER grid_owner")
        self.psql("CREATE EXTENSION postgis", database="grid_template")
        self.psql("ALTER DATABASE grid_template IS_TEMPLATE true")

    def stop(self) -> None:
        """Stop at once (no checkpoint: the cluster is thrown away)."""
        argv = [str(PGBIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30"]
        subprocess.run(self._as_postgres(*argv), capture_output=True, cwd="/")


class PrivateStack:
    """A private broker and database, usable as the backing of scratch_stack/running_stack."""

    def __init__(self, home: Path) -> None:
        self.kafka, self.postgres = PrivateKafka(home / "kafka"), PrivatePostgres(home / "postgres")

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka.bootstrap

    @property
    def database_server(self) -> str:
        return self.postgres.server

    @property
    def database_owner_server(self) -> str:
        return self.postgres.owner_server

    def createdb(self, name: str) -> None:
        self.postgres.psql(f'CREATE DATABASE "{name}" OWNER grid_owner TEMPLATE grid_template')

    def dropdb(self, name: str) -> None:
        self.postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def private_stack() -> Iterator[PrivateStack]:
    """Start a private broker and database (formatting and initdb overlap), yield them, then remove everything."""
    home = Path(tempfile.mkdtemp(prefix="gridfaults-"))
    home.chmod(0o755)  # the postgres user reaches its cluster below
    (home / "kafka").mkdir()
    (home / "postgres").mkdir()
    private = PrivateStack(home)
    try:
        formatting = private.kafka.format()
        private.postgres.initdb()
        if formatting.wait(timeout=120) != 0:
            raise RuntimeError(f"kafka storage format failed\n{_tail(private.kafka.log)}")
        private.kafka.start()
        private.postgres.start()
        private.postgres.bootstrap()
        private.kafka.add_users()
        private.kafka.wait_ready()
        yield private
    finally:
        private.kafka.kill()
        private.postgres.stop()
        shutil.rmtree(home, ignore_errors=True)
