"""Write the supervisord config that `make run` (and tests/integration/ops) runs the app processes under.

    python infra/supervisor_conf.py [--dir .stack/supervisor] [--logs .stack/logs] [--data .stack/faust]

Settings come from the environment:
  GRID_STREAM_WORKERS  stream workers (default 2): one consumer group, the partitions shared between them
  GRID_WEB_WORKERS     uvicorn worker processes of the web server (default: one per two cores, at least 1)
  GRID_WEB_PORT        the web server's port on 127.0.0.1 (default 8000)
  GRID_TRUSTED_PROXIES addresses whose X-Forwarded-For the web server believes (default: none; uvicorn's own
                       default would believe 127.0.0.1, i.e. any local process)
  SIMULATOR            0: no simulator program (default 1; it is not autostarted: run.sh starts it once healthy)
  GRID_SINK_PORT       the local delivery sink's port (default 8025); GRID_SINK=0 leaves the sink out

The programs inherit supervisord's environment (GRID_KAFKA_BOOTSTRAP, GRID_DATABASE_URL, GRID_TOPIC_PREFIX, ...);
each stream worker also gets a data dir and a consumer group instance id of its own. Each program logs in to the
broker as its own user (stream workers: stream; web: web, its intake: intake; the simulator talks HTTP only), with
the password from GRID_KAFKA_PASSWORD_<USER>: the config is readable by its owner only, and run.sh starts
supervisord without the broker passwords in its environment. Prints the config's path.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import socket
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOCKET_MAX = 100  # a unix socket path must stay under ~107 bytes


def _broker_user(user: str, variable: str = "GRID_KAFKA") -> dict[str, str]:
    """A program's environment that logs it in to the broker as `user` (variable: GRID_KAFKA or GRID_INTAKE_KAFKA)."""
    password = os.environ.get(f"GRID_KAFKA_PASSWORD_{user.upper()}", "")
    if not password:
        raise SystemExit(f"GRID_KAFKA_PASSWORD_{user.upper()} is not set (infra/lib.sh makes it)")
    return {f"{variable}_USERNAME": user, f"{variable}_PASSWORD": password}


def _environment(values: dict[str, str]) -> str:
    """supervisord's environment= value."""
    return ",".join(f'{key}="{_esc(value)}"' for key, value in values.items())


def _int_setting(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number >= 1, not {raw!r}")
    return int(raw)


def _esc(value: str | Path) -> str:
    """A value as supervisord reads it: '%' starts an expansion, so it is doubled."""
    return str(value).replace("%", "%%")


def _command(*argv: str | Path) -> str:
    return _esc(shlex.join(str(a) for a in argv))


def _socket_path(folder: Path) -> Path:
    sock = folder / "supervisord.sock"
    if len(str(sock)) <= SOCKET_MAX:
        return sock
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"gridcmd-supervisor-{digest}.sock"


def _program(name: str, command: str, log: str, **options: str | int) -> str:
    """One [program:x] section: restarted whenever it exits, stopped with its whole process group."""
    settings: dict[str, str | int] = {
        "command": command,
        "directory": _esc(ROOT),
        "autostart": "true",
        "autorestart": "true",
        "startsecs": 3,
        "startretries": 10,
        "stopsignal": "TERM",
        "stopwaitsecs": 20,
        "stopasgroup": "true",
        "killasgroup": "true",
        "redirect_stderr": "true",
        "stdout_logfile": log,
        "stdout_logfile_maxbytes": "50MB",
        "stdout_logfile_backups": 1,
        **options,
    }
    return f"[program:{name}]\n" + "".join(f"{key}={value}\n" for key, value in settings.items())


def _header(folder: Path, logs: Path) -> list[str]:
    sock = _esc(_socket_path(folder))
    return [
        "; Written by infra/supervisor_conf.py from GRID_STREAM_WORKERS, GRID_WEB_WORKERS, GRID_WEB_PORT, SIMULATOR.\n"
        "; Edit the generator, not this file. The programs inherit supervisord's GRID_* environment.\n",
        f"[unix_http_server]\nfile={sock}\nchmod=0700\n",
        f"[supervisorctl]\nserverurl=unix://{sock}\n",
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisord]\nidentifier=gridcmd\nlogfile={_esc(logs / 'supervisord.log')}\nlogfile_maxbytes=50MB\n"
        f"logfile_backups=1\npidfile={_esc(folder / 'supervisord.pid')}\nchildlogdir={_esc(logs)}\n"
        f"directory={_esc(ROOT)}\n",
    ]


def _streams(count: int, logs: Path, data: Path, venv: Path) -> str:
    """N stream workers in one consumer group (the faust app id): Kafka shares the partitions out between them.

    Each has a data dir of its own and is a static member of the group (faust reads CONSUMER_GROUP_INSTANCE_ID):
    a worker that is restarted within the broker's session timeout (60 s) takes its partitions back at once,
    instead of the whole group stopping in a rebalance until the broker gives up on the dead member. The id names
    the host and the checkout, so workers of two machines (or of two checkouts) never fence each other off.
    """
    own_dir = _esc(data) + "/stream-%(process_num)d"
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:6]
    instance = _esc(f"{socket.gethostname()}-{checkout}") + "-stream-%(process_num)d"
    environment = {
        "GRID_DATA_DIR": own_dir,
        "F_DATADIR": own_dir + "/{conf.name}-data",
        "CONSUMER_GROUP_INSTANCE_ID": instance,
    }
    login = _environment(_broker_user("stream"))
    return _program(
        "stream",
        _command(venv / "bin" / "python", "-m", "streams", "worker", "--without-web"),
        _esc(logs) + "/stream-%(process_num)d.log",
        process_name="stream-%(process_num)d",
        numprocs=count,
        numprocs_start=1,
        priority=100,
        stopwaitsecs=30,
        environment=",".join(f'{key}="{value}"' for key, value in environment.items()) + "," + login,
    )


def _delivery(logs: Path, venv: Path) -> list[str]:
    """The delivery process (database and HTTP only, no broker) and, unless GRID_SINK=0, the local sink it sends to
    by default; the sink starts first."""
    no_broker = _environment({"GRID_KAFKA_USERNAME": "", "GRID_KAFKA_PASSWORD": ""})
    programs = [
        _program(
            "delivery",
            _command(venv / "bin" / "python", "-m", "dispatch.delivery"),
            _esc(logs / "delivery.log"),
            priority=250,
            environment=no_broker,
        )
    ]
    if os.environ.get("GRID_SINK", "1") != "0":
        _int_setting("GRID_SINK_PORT", 8025)
        sink = _command(venv / "bin" / "python", "-m", "dispatch.delivery.sink")
        programs.insert(0, _program("sink", sink, _esc(logs / "sink.log"), priority=150, environment=no_broker))
    return programs


def render(folder: Path, logs: Path, data: Path, venv: Path) -> str:
    """The whole config, from the settings in the environment. Stop order: simulator, delivery, web, sink, stream
    workers."""
    port = _int_setting("GRID_WEB_PORT", 8000)
    web_workers = _int_setting("GRID_WEB_WORKERS", max(1, (os.cpu_count() or 2) // 2))
    web = [venv / "bin" / "uvicorn", "web.app:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    web += ["--forwarded-allow-ips", os.environ.get("GRID_TRUSTED_PROXIES", "")]
    if web_workers > 1:
        web += ["--workers", str(web_workers)]
    sections = [
        *_header(folder, logs),
        _streams(_int_setting("GRID_STREAM_WORKERS", 2), logs, data, venv),
        _program(
            "web",
            _command(*web),
            _esc(logs / "web.log"),
            priority=200,
            environment=_environment({**_broker_user("web"), **_broker_user("intake", "GRID_INTAKE_KAFKA")}),
        ),
        *_delivery(logs, venv),
    ]
    if os.environ.get("SIMULATOR", "1") != "0":  # started by run.sh once the web server is healthy
        simulator = _command(venv / "bin" / "python", "-m", "ingest.simulator", "--url", f"http://127.0.0.1:{port}")
        no_broker = _environment({"GRID_KAFKA_USERNAME": "", "GRID_KAFKA_PASSWORD": ""})
        sections.append(
            _program(
                "simulator",
                simulator,
                _esc(logs / "simulator.log"),
                priority=300,
                autostart="false",
                environment=no_broker,
            )
        )
    return "\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, default=ROOT / ".stack" / "supervisor", help="config, socket, pid")
    parser.add_argument("--logs", type=Path, default=ROOT / ".stack" / "logs", help="one log per process")
    parser.add_argument("--data", type=Path, default=ROOT / ".stack" / "faust", help="stream workers' state")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv")
    args = parser.parse_args()
    folder, logs, data = (p.absolute() for p in (args.dir, args.logs, args.data))
    for path in (folder, logs, data):
        if '"' in str(path) or "," in str(path):
            raise SystemExit(f"paths with quotes or commas are not supported: {path}")
        path.mkdir(parents=True, exist_ok=True)
    conf = folder / "supervisord.conf"
    text = render(folder, logs, data, args.venv.absolute())
    conf.unlink(missing_ok=True)
    conf.touch(mode=0o600)  # it holds the programs' broker passwords
    conf.write_text(text)
    print(conf)


if __name__ == "__main__":
    main()
