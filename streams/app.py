"""The faust application: topics declared, agents and timers registered, built from settings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import faust
from faust.types import TP, TopicT
from faust.types.agents import AgentFun

from core import topics
from streams.case_writer_agent import CaseWriter
from streams.context import StreamContext
from streams.dead_letters import DeadLetters
from streams.dedupe_agent import Deduplicator
from streams.queue_agents import QueueAgents
from streams.registry_agent import RegistryAgent
from streams.routing_agent import Router
from streams.settings import StreamSettings
from streams.timers import Timers


def create_app(settings: StreamSettings) -> faust.App:
    """A faust app with every agent registered, each with concurrency 1."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{settings.topic_prefix}{settings.app_id}",
        broker=f"kafka://{settings.kafka_bootstrap}",
        broker_credentials=_credentials(settings),
        web_enabled=False,
        datadir=f"{settings.data_dir}/{{conf.name}}-data",
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        stream_wait_empty=False,
        broker_commit_every=100,
        # Records sent within a few milliseconds go to the broker in one request, not one request each.
        producer_linger=0.005,
        producer_max_batch_size=1024 * 1024,
        # A worker that dies hands its partitions over once the broker stops hearing from it (a restarted one, a
        # static member of the group, takes them back at once).
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
    )
    ctx = StreamContext(settings)
    # Sends are not awaited per record: faust flushes the producer before it commits consumed offsets,
    # so a record's outputs reach the broker before the record counts as done (at-least-once).

    def topic(spec: topics.TopicSpec) -> TopicT:
        return app.topic(settings.topic(spec.name), key_type=bytes, value_type=bytes, partitions=spec.partitions)

    events, routed, commands = topic(topics.EVENTS), topic(topics.ROUTED), topic(topics.CASE_COMMANDS)
    unrouted, dead_letter = topic(topics.UNROUTED), topic(topics.DEAD_LETTER)
    dead = DeadLetters(ctx, dead_letter)
    queues = QueueAgents(ctx, dead, topic(topics.QUEUE_CHANGES))
    registry = RegistryAgent(app, ctx, dead, commands, settings.topic(topics.REGISTRY.name))
    dedupe = Deduplicator(ctx, dead, settings.topic(topics.ROUTED.name), commands)
    changes, inbox = topic(topics.CASE_CHANGES), topic(topics.INBOX)
    outputs = {"commands": commands, "changes": changes, "events": events, "unrouted": unrouted, "inbox": inbox}
    writer = CaseWriter(ctx, dead, outputs)
    agents: dict[str, tuple[TopicT, AgentFun[Any]]] = {
        "locate_and_route": (events, Router(ctx, dead, routed, unrouted).run),
        "deduplicate": (routed, dedupe.run),
        "case_writer": (commands, writer.run),
        "unrouted_queue": (unrouted, queues.unrouted),
        "dead_letter_queue": (dead_letter, queues.dead_letters),
        "registry_changes": (topic(topics.REGISTRY), registry.run),
    }
    for name, (channel, agent) in agents.items():
        app.agent(channel, name=f"{__name__}.{name}", concurrency=1)(agent)
    _follow_partitions(app, revoked=[dedupe.revoked, writer.moved], assigned=[dedupe.assigned, writer.moved])
    app.task(registry.listen)
    timers = Timers(ctx, commands, inbox)
    app.timer(interval=settings.transfer_check_seconds, on_leader=True)(registry.plans_coming_into_effect)
    app.timer(interval=settings.deadline_check_seconds, on_leader=True)(timers.deadlines)
    app.timer(interval=settings.transfer_check_seconds, on_leader=True)(timers.accounts_follow_service)
    app.timer(interval=settings.audit_anchor_seconds)(writer.anchor)
    app.on_before_shutdown.connect(writer.last_anchor)
    app.timer(interval=60.0)(timers.report_counters)
    return app


def _credentials(settings: StreamSettings) -> faust.SASLCredentials:
    """The worker's login to the broker, the same options as every other client's (CommonSettings.kafka_options)."""
    login = settings.kafka_options()
    return faust.SASLCredentials(
        username=login["sasl_plain_username"], password=login["sasl_plain_password"], mechanism=login["sasl_mechanism"]
    )


def _follow_partitions(
    app: faust.App, revoked: list[Callable[[Iterable[TP]], None]], assigned: list[Callable[[Iterable[TP]], None]]
) -> None:
    """Partition-owned state learns of each rebalance: the partitions revoked at its start and assigned at its end."""

    def follow(handlers: list[Callable[[Iterable[TP]], None]]) -> Callable[..., None]:
        def handle(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            partitions: set[TP] = args[0]
            for handler in handlers:
                handler(partitions)

        return handle

    app.on_partitions_revoked.connect(follow(revoked))
    app.on_partitions_assigned.connect(follow(assigned))
