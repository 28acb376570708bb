"""What each broker user may do, granted per topic prefix by admin: `python -m streams.topics` grants it with the
topics (make run for the deployment's prefix, the test harness for its own).

Users (infra/lib.sh KAFKA_USERS make them, with passwords in .stack/secrets.env): `admin` is the super user of the
infra scripts, topic creation and gridctl, and needs no grant; the others get only these, on literal topic names.
"""

from __future__ import annotations

from dataclasses import dataclass

from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)

from core import topics
from core.registry import REGISTRY
from streams.settings import StreamSettings

ADMIN, WEB, INTAKE, STREAM = "admin", "web", "intake", "stream"
USERS = (ADMIN, WEB, INTAKE, STREAM)
"""Every user of the broker; infra/lib.sh KAFKA_USERS lists the same."""
CONSUME = (ACLOperation.READ, ACLOperation.DESCRIBE)
PRODUCE = (ACLOperation.WRITE, ACLOperation.DESCRIBE)
OWN = (ACLOperation.CREATE, ACLOperation.READ, ACLOperation.WRITE, ACLOperation.DESCRIBE, ACLOperation.DESCRIBE_CONFIGS)
AGENTS_READ = (topics.EVENTS, topics.ROUTED, topics.CASE_COMMANDS, topics.UNROUTED, topics.DEAD_LETTER, topics.REGISTRY)
"""The topics the stream workers consume: a record on them may need replaying by an administrator (web)."""


@dataclass(frozen=True)
class Grant:
    """Operations a user may perform on one topic or group (a literal name, or every name with a prefix)."""

    user: str
    resource: ResourceType
    name: str
    operations: tuple[ACLOperation, ...]
    pattern: ACLResourcePatternType = ACLResourcePatternType.LITERAL

    def acls(self) -> list[ACL]:
        """The broker's ACL entries for this grant, from any host."""
        where = ResourcePattern(self.resource, self.name, self.pattern)
        return [ACL(f"User:{self.user}", "*", op, ACLPermissionType.ALLOW, where) for op in self.operations]


def grants(prefix: str, app_id: str) -> list[Grant]:
    """Least privilege for the topics of one prefix: the intake writes events; the web server publishes commands,
    registry notices, queue notices and an administrator's replays, reads case and queue changes, new notices and
    registry notices (no group), and
    dead-letters what it cannot read; the stream workers read their inputs in their group and write their outputs."""

    def topic(user: str, name: str, operations: tuple[ACLOperation, ...]) -> Grant:
        return Grant(user, ResourceType.TOPIC, f"{prefix}{name}", operations)

    inputs = [spec.name for spec in AGENTS_READ]
    events = sorted({kind.topic.name for kind in REGISTRY.values()})
    web_writes = sorted({*inputs, topics.QUEUE_CHANGES.name, topics.DEAD_LETTER.name})
    stream_writes = sorted(spec.name for spec in topics.ALL_TOPICS if spec is not topics.REGISTRY)
    return [
        *(topic(INTAKE, name, PRODUCE) for name in events),
        *(topic(WEB, name, PRODUCE) for name in web_writes),
        *(topic(WEB, spec.name, CONSUME) for spec in topics.LIVE),
        *(topic(STREAM, name, CONSUME) for name in inputs),
        *(topic(STREAM, name, PRODUCE) for name in stream_writes),
        Grant(STREAM, ResourceType.GROUP, f"{prefix}{app_id}", (ACLOperation.READ,)),
        # faust's own topics (the leader assignor's), which the workers create.
        Grant(STREAM, ResourceType.TOPIC, f"{prefix}{app_id}-", OWN, ACLResourcePatternType.PREFIXED),
    ]


def _admin(settings: StreamSettings) -> KafkaAdminClient:
    return KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id="gridcmd-acls", **settings.kafka_options()
    )


def grant_acls(settings: StreamSettings) -> int:
    """Grant every user its ACLs on the topics of the settings' prefix (as admin; granting twice changes nothing).
    Returns how many ACL entries the prefix has."""
    wanted = [acl for grant in grants(settings.topic_prefix, settings.app_id) for acl in grant.acls()]
    admin = _admin(settings)
    try:
        failed = admin.create_acls(wanted)["failed"]
    finally:
        admin.close()
    if failed:
        raise RuntimeError(f"the broker refused {len(failed)} ACLs, the first: {failed[0]}")
    return len(wanted)


def revoke_acls(settings: StreamSettings) -> None:
    """Remove the ACLs of the settings' prefix (a test session's, once its topics are deleted)."""
    patterns = {(g.resource, g.name, g.pattern) for g in grants(settings.topic_prefix, settings.app_id)}
    filters = [
        ACLFilter(None, None, ACLOperation.ANY, ACLPermissionType.ANY, ResourcePatternFilter(*pattern))
        for pattern in sorted(patterns, key=str)
    ]
    admin = _admin(settings)
    try:
        admin.delete_acls(filters)
    finally:
        admin.close()
