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

# Topics that fan out over stream workers have as many partitions as the most workers a county runs (6: three
# machines of two cores); queue changes are read whole by every web process, so one partition keeps them in order.
EVENTS = TopicSpec("grid.events", partitions=6, key="event_id", retention_ms=4 * WEEK_MS)
ROUTED = TopicSpec("grid.routed", partitions=6, key="township code", retention_ms=4 * WEEK_MS)
CASE_COMMANDS = TopicSpec("case.commands", partitions=6, key="case_id", retention_ms=4 * WEEK_MS)
CASE_CHANGES = TopicSpec("case.changes", partitions=6, key="case_id", retention_ms=WEEK_MS)
UNROUTED = TopicSpec("grid.unrouted", partitions=3, key="event_id", retention_ms=4 * WEEK_MS)
DEAD_LETTER = TopicSpec("grid.deadletter", partitions=3, key="source topic", retention_ms=4 * WEEK_MS)
QUEUE_CHANGES = TopicSpec("queue.changes", partitions=1, key="queue name", retention_ms=WEEK_MS)
INBOX = TopicSpec("inbox.notices", partitions=6, key="person id", retention_ms=WEEK_MS)
"""New notices, announced live to their recipient by every web process (the inbox itself is in PostGIS)."""
REGISTRY_MAX_BYTES = 8 * 1024 * 1024
"""Largest registry record (a plan with drawn areas can pass the broker's 1 MB default); producers match it."""
# Every stream worker reads every partition of the registry (no consumer group), so each reloads its snapshot.
REGISTRY = TopicSpec(
    "grid.registry",
    partitions=3,
    key="registry part, or plan:<plan_id>",
    compacted=True,
    config={"max.message.bytes": str(REGISTRY_MAX_BYTES)},
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    EVENTS,
    ROUTED,
    CASE_COMMANDS,
    CASE_CHANGES,
    UNROUTED,
    DEAD_LETTER,
    QUEUE_CHANGES,
    INBOX,
    REGISTRY,
)
LIVE: tuple[TopicSpec, ...] = (CASE_CHANGES, QUEUE_CHANGES, INBOX, REGISTRY)
"""What the web server's live hub reads from the end (no group): what pages show live, and registry notices (maps)."""
