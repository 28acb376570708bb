"""Create every declared topic on the broker with kafka-python's admin client: `python -m streams.topics`."""

from __future__ import annotations

import contextlib
import sys

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from core.topics import ALL_TOPICS
from dispatch.settings import CommonSettings


def ensure_topics(settings: CommonSettings) -> list[str]:
    """Create missing topics (existing ones are left as they are); returns the names created."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="gridcmd-topics")
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
        return [t.name for t in wanted]
    finally:
        admin.close()


def main() -> None:
    """Create the topics named in core.topics and say what was done."""
    created = ensure_topics(CommonSettings())
    print(f"topics: {len(created)} created, {len(ALL_TOPICS) - len(created)} already there", file=sys.stderr)


if __name__ == "__main__":
    main()
