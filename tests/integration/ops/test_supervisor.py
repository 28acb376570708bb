"""Several workers, supervised: supervisord, configured by infra/supervisor_conf.py as `make run` configures it, keeps
two stream workers (one consumer group sharing the partitions), the web server, the delivery process and the local
delivery sink running, and restarts a killed worker within seconds while the web server goes on answering."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient

from core.topics import EVENTS
from streams.acls import ADMIN
from tests.integration.conftest import _delete_topics, wait_until
from tests.integration.harness import ARTIFACTS, VENV_BIN, LiveStack, Service, free_port, login_as, scratch_stack

pytestmark = pytest.mark.integration

WORKERS = ("stream:stream-1", "stream:stream-2")
VICTIM, OTHER = WORKERS[1], WORKERS[0]
RESTART_WITHIN = 10.0


@dataclass
class Supervisor:
    """A supervisord in the foreground (-n) and the way to talk to it."""

    conf: Path
    logs: Path
    service: Service

    def ctl(self, *args: str) -> str:
        """supervisorctl's output (its exit status says whether every process runs, so it is not checked)."""
        argv = [str(VENV_BIN / "supervisorctl"), "-c", str(self.conf), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout

    def processes(self) -> dict[str, tuple[str, int | None]]:
        """Each process's state and pid, from `supervisorctl status`."""
        found: dict[str, tuple[str, int | None]] = {}
        for line in self.ctl("status").splitlines():
            name, state, detail = [*line.split(maxsplit=2), "", ""][:3]
            found[name] = (state, int(detail.split()[1].rstrip(",")) if detail.startswith("pid ") else None)
        return found

    def running(self, *names: str) -> bool:
        now = self.processes()
        return all(now.get(name, ("", None))[0] == "RUNNING" for name in names)

    def logs_text(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.logs.glob("*.log"))
        )


@contextlib.contextmanager
def supervised(ts: LiveStack) -> Iterator[Supervisor]:
    """supervisord on this session's database and topics, with a config from the generator `make run` uses."""
    folder = Path(ts.env["GRID_DATA_DIR"]) / "supervisor"  # stop_all removes GRID_DATA_DIR
    logs = ARTIFACTS / f"{ts.suffix}-supervisor"
    data = Path(ts.env["GRID_DATA_DIR"]) / "faust"
    generator = ["infra/supervisor_conf.py", "--dir", str(folder), "--logs", str(logs), "--data", str(data)]
    ts.run(str(VENV_BIN / "python"), *generator)
    conf = folder / "supervisord.conf"
    sup = Supervisor(conf, logs, ts.start("supervisord", str(VENV_BIN / "supervisord"), "-n", "-c", str(conf)))
    try:
        yield sup
    finally:
        if sup.service.proc.poll() is None:
            sup.ctl("shutdown")
            sup.service.proc.wait(timeout=90)


def healthy(ts: LiveStack) -> bool:
    try:
        return httpx.get(f"{ts.base_url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def sink_up(ts: LiveStack) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{ts.env['GRID_SINK_PORT']}/api/messages", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _group(ts: LiveStack) -> str:
    return ts.env["GRID_TOPIC_PREFIX"] + "gridcmd-streams"  # the faust app id


def _admin(ts: LiveStack) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"), **login_as(ADMIN))


def sharing(ts: LiveStack) -> dict[str, set[int]]:
    """Per member (by instance id) of a settled consumer group, the grid.events partitions it holds; {} if unsettled."""
    admin = _admin(ts)
    try:
        group = admin.describe_groups([_group(ts)])[_group(ts)]
    finally:
        admin.close()
    if group["group_state"] != "Stable":
        return {}
    topic = ts.env["GRID_TOPIC_PREFIX"] + EVENTS.name
    return {
        str(m["group_instance_id"] or m["member_id"]): {
            p
            for part in m["member_assignment"]["assigned_partitions"]
            if part["topic"] == topic
            for p in part["partitions"]
        }
        for m in group["members"]
    }


def shared_by_two(ts: LiveStack) -> bool:
    held = sharing(ts)
    return len(held) == 2 and all(held.values())


def unconsumed(ts: LiveStack) -> int:
    """Records on grid.events that the stream workers' group has not committed yet."""
    topic = ts.env["GRID_TOPIC_PREFIX"] + EVENTS.name
    consumer = KafkaConsumer(bootstrap_servers=ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092"), **login_as(ADMIN))
    admin = _admin(ts)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = consumer.end_offsets(parts)
        done = admin.list_group_offsets({_group(ts): parts})[_group(ts)]
        return sum(end - max(done[tp].offset if tp in done else 0, 0) for tp, end in ends.items())
    finally:
        consumer.close()
        admin.close()


def test_a_killed_stream_worker_is_restarted_while_the_web_server_answers() -> None:
    settings = {
        "GRID_STREAM_WORKERS": "2",
        "GRID_WEB_WORKERS": "1",
        "SIMULATOR": "0",
        "GRID_SINK_PORT": str(free_port()),
    }
    with scratch_stack(settings) as ts:
        ts.extra_env["GRID_WEB_PORT"] = str(ts.port)
        try:
            ts.run(str(VENV_BIN / "python"), "-m", "streams.topics")
            ts.run(str(VENV_BIN / "gridctl"), "migrate")
            with supervised(ts) as sup:
                try:
                    _kill_and_watch(ts, sup)
                except (AssertionError, RuntimeError) as e:
                    raise AssertionError(f"{e}\n{sup.ctl('status')}\n{sup.logs_text()}") from e
            assert sup.service.proc.returncode == 0, sup.service.log_text()[-3000:]
        finally:
            ts.stop_all()
            _delete_topics(ts)


def _kill_and_watch(ts: LiveStack, sup: Supervisor) -> None:
    def ready() -> bool:
        return sup.running(*WORKERS, "web", "delivery", "sink") and healthy(ts) and shared_by_two(ts) and sink_up(ts)

    wait_until(
        ready, ts, "2 stream workers sharing the partitions, a healthy web server, delivery and sink", timeout=120
    )
    before = sup.processes()
    victim = before[VICTIM][1]
    assert victim is not None
    os.kill(victim, signal.SIGKILL)

    def restarted() -> bool:
        state, pid = sup.processes()[VICTIM]
        return state == "RUNNING" and pid not in (None, victim)

    wait_until(restarted, ts, "supervisord to restart the killed stream worker", timeout=RESTART_WITHIN)
    assert healthy(ts), "the web server stopped answering /healthz"
    after = sup.processes()
    assert after[OTHER] == before[OTHER], "the other worker was restarted too"
    assert after["web"] == before["web"], "the web server was restarted"
    data = Path(ts.env["GRID_DATA_DIR"]) / "faust"
    assert sorted(p.name for p in data.iterdir()) == ["stream-1", "stream-2"], "each worker has a data dir of its own"

    # Each worker is a static member of the group (CONSUMER_GROUP_INSTANCE_ID), so the restarted one takes its
    # partitions back at once instead of the group stalling in a rebalance until the broker gives up on the dead one
    # (the 60 s session timeout). Then every partition is consumed again: one record on each (not a valid event:
    # the router dead-letters it, which commits it just the same).
    wait_until(lambda: shared_by_two(ts), ts, "the restarted worker to take its partitions back", timeout=30)
    bootstrap = ts.env.get("GRID_KAFKA_BOOTSTRAP", "127.0.0.1:29092")
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", **login_as(ADMIN))
    try:
        topic = ts.env["GRID_TOPIC_PREFIX"] + EVENTS.name
        for partition in sorted(producer.partitions_for(topic)):
            producer.send(topic, b"not an event", key=b"ops-test", partition=partition)
        producer.flush(timeout=30)
    finally:
        producer.close()
    wait_until(lambda: unconsumed(ts) == 0, ts, "both workers to consume every grid.events partition", timeout=30)
