"""Each broker user's grants: least privilege on the topics of one prefix."""

from __future__ import annotations

import pytest
from kafka.admin import ACLOperation, ResourceType

from core import topics
from dispatch.settings import sasl_options
from streams.acls import ADMIN, INTAKE, STREAM, WEB, Grant, grants

PREFIX, APP = "test.abc.", "gridcmd-streams"


def reach(user: str, operation: ACLOperation) -> set[str]:
    """The topics (without the prefix) on which `user` may perform `operation`."""
    mine = [g for g in grants(PREFIX, APP) if g.user == user and g.resource is ResourceType.TOPIC]
    return {g.name.removeprefix(PREFIX) for g in mine if operation in g.operations and g.name != f"{PREFIX}{APP}-"}


def test_the_intake_writes_events_and_reads_nothing() -> None:
    assert reach(INTAKE, ACLOperation.WRITE) == {topics.EVENTS.name}
    assert reach(INTAKE, ACLOperation.READ) == set()


def test_the_web_server_reads_changes_and_never_writes_them() -> None:
    live = {topics.CASE_CHANGES.name, topics.QUEUE_CHANGES.name, topics.INBOX.name, topics.REGISTRY.name}
    assert reach(WEB, ACLOperation.READ) == live
    assert topics.INBOX.name not in reach(WEB, ACLOperation.WRITE)
    assert topics.CASE_COMMANDS.name in reach(WEB, ACLOperation.WRITE)
    assert topics.CASE_CHANGES.name not in reach(WEB, ACLOperation.WRITE)


def test_the_workers_read_their_inputs_and_never_announce_registry_changes() -> None:
    assert topics.REGISTRY.name in reach(STREAM, ACLOperation.READ)
    assert topics.REGISTRY.name not in reach(STREAM, ACLOperation.WRITE)
    assert topics.CASE_CHANGES.name in reach(STREAM, ACLOperation.WRITE)
    assert topics.CASE_CHANGES.name not in reach(STREAM, ACLOperation.READ)


def test_only_the_workers_have_a_group_and_every_name_carries_the_prefix() -> None:
    every: list[Grant] = grants(PREFIX, APP)
    assert [(g.user, g.name) for g in every if g.resource is ResourceType.GROUP] == [(STREAM, f"{PREFIX}{APP}")]
    assert all(g.name.startswith(PREFIX) for g in every)
    assert not any(g.user == ADMIN or g.resource is ResourceType.CLUSTER for g in every)
    assert not any(ACLOperation.ALL in g.operations or ACLOperation.DELETE in g.operations for g in every)


@pytest.mark.parametrize(("user", "password"), [("", "secret"), ("web", "")])
def test_a_client_without_a_user_or_password_is_stopped_before_it_connects(user: str, password: str) -> None:
    with pytest.raises(ValueError, match="GRID_KAFKA_USERNAME"):
        sasl_options(user, password)
