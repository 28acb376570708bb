"""Every Kafka topic the product uses, declared once: name, partitions, key, compaction."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicSpec:
    """One topic: its base name, partition count, what its key is, and extra broker config."""

    name: str
    partitions: int
    key: str
    compacted: bool = False
    retention_ms: int | None = None
    config: dict[str, str] = field(default_factory=dict)

    def full_name(self, prefix: str = "") -> str:
        """The topic's name on the broker, with an optional deployment or test prefix."""
        return f"{prefix}{self.name}"

    def broker_config(self) -> dict[str, str]:
        """Topic-level config to create it with."""
        cfg = {"cleanup.policy": "compact" if self.compacted else "delete", **self.config}
        if self.retention_ms is not None:
            cfg["retention.ms"] = str(self.retention_ms)
        return cfg


WEEK_MS = 7 * 24 * 3600 * 1000

EVENTS = TopicSpec("grid.events", partitions=3, key="event_id", retention_ms=4 * WEEK_MS)
CASE_COMMANDS = TopicSpec("case.commands", partitions=3, key="case_id", retention_ms=4 * WEEK_MS)
CASE_CHANGES = TopicSpec("case.changes", partitions=3, key="case_id", retention_ms=WEEK_MS)
UNROUTED = TopicSpec("grid.unrouted", partitions=1, key="event_id", retention_ms=4 * WEEK_MS)
DEAD_LETTER = TopicSpec("grid.deadletter", partitions=1, key="source topic", retention_ms=4 * WEEK_MS)
QUEUE_CHANGES = TopicSpec("queue.changes", partitions=1, key="queue name", retention_ms=WEEK_MS)
REGISTRY_MAX_BYTES = 8 * 1024 * 1024
"""Largest registry record (a plan with drawn areas can pass the broker's 1 MB default); producers match it."""
REGISTRY = TopicSpec(
    "grid.registry",
    partitions=1,
    key="registry part, or plan:<plan_id>",
    compacted=True,
    config={"max.message.bytes": str(REGISTRY_MAX_BYTES)},
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    EVENTS,
    CASE_COMMANDS,
    CASE_CHANGES,
    UNROUTED,
    DEAD_LETTER,
    QUEUE_CHANGES,
    REGISTRY,
)
