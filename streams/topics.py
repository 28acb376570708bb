"""Create every declared topic on the broker with kafka-python's admin client, and grant the broker's users their
ACLs on them (streams/acls.py): `python -m streams.topics`, as admin."""

from __future__ import annotations

import contextlib
import sys

from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import TopicAlreadyExistsError

from core.topics import ALL_TOPICS
from dispatch.settings import CommonSettings
from streams.acls import grant_acls
from streams.settings import StreamSettings


def ensure_topics(settings: CommonSettings) -> list[str]:
    """Create missing topics (existing ones are left as they are); returns the names created."""
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id="gridcmd-topics", **settings.kafka_options()
    )
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=spec.full_name(settings.topic_prefix),
                num_partitions=spec.partitions,
                replication_factor=1,
                topic_configs=spec.broker_config(),
            )
            for spec in ALL_TOPICS
            if spec.full_name(settings.topic_prefix) not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
        _grow_partitions(admin, settings, existing)
        return [t.name for t in wanted]
    finally:
        admin.close()


def _grow_partitions(admin: KafkaAdminClient, settings: CommonSettings, existing: set[str]) -> None:
    """Give existing topics the partitions now declared (never fewer: Kafka cannot shrink a topic).

    Keys move to other partitions when a topic grows, so grow it with the workers stopped and the topic drained.
    """
    names = [s.full_name(settings.topic_prefix) for s in ALL_TOPICS if s.full_name(settings.topic_prefix) in existing]
    if not names:
        return
    have = {d["name"]: len(d["partitions"]) for d in admin.describe_topics(names)}
    grow = {
        spec.full_name(settings.topic_prefix): NewPartitions(spec.partitions)
        for spec in ALL_TOPICS
        if have.get(spec.full_name(settings.topic_prefix), spec.partitions) < spec.partitions
    }
    if grow:
        print(f"topics: growing {', '.join(sorted(grow))}", file=sys.stderr)
        admin.create_partitions(grow)


def main() -> None:
    """Create the topics named in core.topics, grant the users their ACLs on them, and say what was done."""
    settings = StreamSettings()
    created = ensure_topics(settings)
    print(f"topics: {len(created)} created, {len(ALL_TOPICS) - len(created)} already there", file=sys.stderr)
    print(f"topics: {grant_acls(settings)} ACL entries granted for prefix {settings.topic_prefix!r}", file=sys.stderr)


if __name__ == "__main__":
    main()
