"""A developer's stack from before the broker required SASL is upgraded in place by `infra/stack.sh up`: the running
PLAINTEXT broker is restarted with the users added to its existing storage, its topics and records are kept, and
from then on anonymous clients are refused. The stack runs in a scratch checkout (infra, the venv and the Kafka jars
linked from this one) on ports of its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError

from dispatch.settings import sasl_options
from streams.acls import USERS
from tests.integration.harness import ROOT, free_port, password_of
from tests.integration.streams.private_stack import KAFKA_LIBS, _cluster_id

pytestmark = pytest.mark.integration

OLD_CONFIG = """process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs={data}
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
"""
"""The broker config of infra/stack.sh before #13: no authentication at all."""


@pytest.fixture
def checkout() -> Iterator[tuple[Path, dict[str, str]]]:
    """A scratch checkout and the environment that runs its stack on free ports; its stack is removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="gridcmd-upgrade-"))
    root.chmod(0o755)  # PostgreSQL's user must traverse it
    for name in ("infra", ".venv", "pyproject.toml"):
        (root / name).symlink_to(ROOT / name)
    (root / ".stack" / "kafka").mkdir(parents=True)
    (root / ".stack" / "kafka" / "libs").symlink_to(KAFKA_LIBS)
    shutil.copytree(ROOT / ".stack" / "stamps", root / ".stack" / "stamps")
    ports = {"GRID_KAFKA_PORT": free_port(), "GRID_KAFKA_CONTROLLER_PORT": free_port(), "GRID_PG_PORT": free_port()}
    derived = ("GRID_KAFKA_BOOTSTRAP", "GRID_DATABASE_URL")  # infra/lib.sh derives them from the ports
    env = {k: v for k, v in os.environ.items() if k not in derived} | {k: str(v) for k, v in ports.items()}
    try:
        yield root, env
    finally:
        subprocess.run(["bash", str(root / "infra" / "stack.sh"), "clean"], env=env, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


def start_old_broker(root: Path, env: dict[str, str]) -> str:
    """Format and start the broker as the stack did before #13, where infra/stack.sh finds it; its address."""
    kafka = root / ".stack" / "kafka"
    port, controller = env["GRID_KAFKA_PORT"], env["GRID_KAFKA_CONTROLLER_PORT"]
    config = kafka / "server.properties"
    config.write_text(OLD_CONFIG.format(port=port, controller=controller, data=kafka / "data"))
    (kafka / "cluster.id").write_text(_cluster_id() + "\n")
    java = ["java", "-Xmx384m", "-cp", f"{KAFKA_LIBS}/*"]
    tools = f"-Dlog4j.configuration=file:{ROOT}/infra/kafka/log4j-tools.properties"
    cluster = (kafka / "cluster.id").read_text().strip()
    subprocess.run([*java, tools, "kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(config)], check=True)
    (root / ".stack" / "run").mkdir()
    (root / ".stack" / "logs").mkdir()
    with (root / ".stack" / "logs" / "kafka.log").open("ab") as log:
        proc = subprocess.Popen([*java, "kafka.Kafka", str(config)], stdout=log, stderr=log, start_new_session=True)
    (root / ".stack" / "run" / "kafka.pid").write_text(f"{proc.pid}\n")
    return f"127.0.0.1:{port}"


def put_anonymously(bootstrap: str) -> None:
    """A topic and a record on the old, open broker, once it answers."""
    deadline = time.monotonic() + 90
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=2000)
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
    admin.create_topics([NewTopic("upgrade.kept", num_partitions=1, replication_factor=1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    producer.send("upgrade.kept", b"made before the upgrade").get(15)
    producer.close()


def test_an_open_broker_is_upgraded_in_place_keeping_its_data(checkout: tuple[Path, dict[str, str]]) -> None:
    root, env = checkout
    bootstrap = start_old_broker(root, env)
    put_anonymously(bootstrap)

    up = subprocess.run(["bash", str(root / "infra" / "stack.sh"), "up"], env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr[-3000:]
    assert "restarting it" in up.stderr and "adding users" in up.stderr
    assert (root / ".stack" / "kafka" / "users.done").exists()

    with pytest.raises(KafkaError):
        KafkaAdminClient(bootstrap_servers=bootstrap, bootstrap_timeout_ms=3000).list_topics()
    for user in USERS:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap, **sasl_options(user, password_of(user)))
        try:
            topics = consumer.topics()
            if user == "admin":
                tp = TopicPartition("upgrade.kept", 0)
                consumer.assign([tp])
                consumer.seek_to_beginning(tp)
                records = consumer.poll(timeout_ms=10_000).get(tp, [])
                assert "upgrade.kept" in topics and [r.value for r in records] == [b"made before the upgrade"]
            else:
                assert "upgrade.kept" not in topics, f"{user} sees a topic no ACL gives it"
        finally:
            consumer.close()
