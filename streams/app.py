"""The faust application: topics and agents wired to the domain, built from settings."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import faust
import orjson
from faust.types import EventT, StreamT
from pydantic import ValidationError

from core import topics
from core.cases import COMMAND_ADAPTER, AttachEvent, CaseCommand, OpenCase
from core.events import EventEnvelope
from core.queues import DeadLetter, QueueChange, RegistryChange, UnroutedEvent
from core.registry import MalformedRecord, UnknownEventType, dump, parse_event
from core.vocabulary import Role
from dispatch import clock
from dispatch.access import users as users_store
from dispatch.cases import supervision
from dispatch.cases.store import PgCaseStore
from dispatch.cases.writer import write
from dispatch.clock import local_day
from dispatch.people import actors
from dispatch.queues import store as queue_store
from dispatch.redistricting import transfers
from dispatch.routing import quarantine
from dispatch.routing.decision import PatrolEntry, decide
from dispatch.routing.duplicates import DuplicatePolicy, Opened, RecentOpens, attach_instead, open_case_near, was_split
from dispatch.routing.sightings import sightings
from dispatch.routing.snapshot import RoutingSnapshot
from streams.context import StreamContext
from streams.settings import StreamSettings

log = logging.getLogger(__name__)
RAW_CAP = 64 * 1024


def create_app(settings: StreamSettings) -> faust.App:
    """A faust app with every agent registered, each with concurrency 1."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    app = faust.App(
        f"{settings.topic_prefix}{settings.app_id}",
        broker=f"kafka://{settings.kafka_bootstrap}",
        web_enabled=False,
        datadir=f"{settings.data_dir}/{{conf.name}}-data",
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        stream_wait_empty=False,
        broker_commit_every=100,
    )
    ctx = StreamContext(settings)
    # Sends are not awaited per record: faust flushes the producer before it commits consumed offsets,
    # so a record's outputs reach the broker before the record counts as done (at-least-once).

    def topic(spec: topics.TopicSpec) -> Any:
        return app.topic(settings.topic(spec.name), key_type=bytes, value_type=bytes, partitions=spec.partitions)

    events_t, commands_t, changes_t = topic(topics.EVENTS), topic(topics.CASE_COMMANDS), topic(topics.CASE_CHANGES)
    unrouted_t, dead_t, queue_t = topic(topics.UNROUTED), topic(topics.DEAD_LETTER), topic(topics.QUEUE_CHANGES)
    registry_t = topic(topics.REGISTRY)
    duplicates = DuplicatePolicy(settings.duplicate_radius_m, timedelta(minutes=settings.duplicate_window_minutes))
    recent = RecentOpens(duplicates)
    placed = quarantine.RecentSightings()

    async def dead_letter(event: EventT[Any], reason: str) -> None:
        msg = event.message
        ctx.counters["dead_letters"] += 1
        log.warning("dead letter from %s[%d]@%d: %s", msg.topic, msg.partition, msg.offset, reason)
        letter = DeadLetter(
            source_topic=msg.topic,
            partition=msg.partition,
            offset=msg.offset,
            key=msg.key.decode(errors="replace") if isinstance(msg.key, bytes) else None,
            reason=reason[:1000],
            raw=_lenient_text(msg.value),
            received_at=datetime.now(UTC),
        )
        await dead_t.send(key=msg.topic.encode(), value=dump(letter))

    @app.agent(events_t, concurrency=1)
    async def locate_and_route(stream: StreamT[Any]) -> None:
        """Locate each event in its grid, route it, and emit a case command (or queue it for a person)."""
        async for event in stream.events():
            raw = event.value
            if not isinstance(raw, bytes) or len(raw) > settings.max_record_bytes:
                await dead_letter(event, "record too large or empty")
                continue
            try:
                field_event = parse_event(raw)
            except UnknownEventType as exc:
                ctx.counters["unknown_types"] += 1
                await dead_letter(event, quarantine.unknown_type(str(exc)))
                continue
            except MalformedRecord as exc:
                await dead_letter(event, str(exc))
                continue
            snap, now = await ctx.snapshot(), datetime.now(UTC)
            reason = await _suspicious(field_event, snap, local_day(now))
            if reason is not None:
                ctx.counters["quarantined_events"] += 1
                await dead_letter(event, reason)
                continue
            decision = decide(field_event, snap, now)
            if isinstance(decision, OpenCase):
                command = await _unless_duplicate(decision, field_event.model_dump(mode="json"))
                await commands_t.send(key=str(command.case_id).encode(), value=dump(command))
            elif isinstance(decision, UnroutedEvent):
                await unrouted_t.send(key=str(decision.event_id).encode(), value=dump(decision))
            elif isinstance(decision, PatrolEntry):
                await queue_store.add_patrol(await ctx.pool(), decision)
            ctx.counters["events"] += 1

    async def _suspicious(field_event: EventEnvelope, snap: RoutingSnapshot, today: date) -> str | None:
        """Why an event placed in a township is quarantined: its reporter serves another township, or its id is
        that of an event in another township (one query: the record under that id)."""
        where = quarantine.event_places(snap.index, field_event, today)
        if not where:
            return None
        reason = quarantine.foreign_reporter(field_event, snap.directory.people, where)
        if reason is None:
            seen = await sightings(await ctx.pool(), field_event.event_id)
            moments_ago = placed.get(field_event.event_id)
            seen += [moments_ago] if moments_ago is not None else []
            reason = quarantine.forged_id(field_event, where, seen, snap.index, today)
        if reason is None:
            placed.remember(field_event)
        return reason

    async def _unless_duplicate(command: OpenCase, raw: dict[str, Any]) -> OpenCase | AttachEvent:
        """Attach the event to a near, recent open case of its category instead of opening another."""
        if duplicates.radius_m <= 0:
            return command
        src, now = command.source, command.issued_at
        lon, lat = src.location.lon, src.location.lat
        found = recent.near(src.category, lon, lat, now)
        if found is None:
            found = await open_case_near(await ctx.pool(), duplicates, src.category, lon, lat, now)
        if found is not None and found != command.case_id and not await was_split(await ctx.pool(), src.event_id):
            ctx.counters["duplicates_attached"] += 1
            return attach_instead(command, found, raw)
        recent.remember(Opened(command.case_id, src.category, lon, lat, now))
        return command

    @app.agent(commands_t, concurrency=1)
    async def case_writer(stream: StreamT[Any]) -> None:
        """The one writer per case: apply each command once, store it, publish the change."""
        store: PgCaseStore | None = None
        async for event in stream.events():
            if store is None:
                store = PgCaseStore(await ctx.pool())
            try:
                command = COMMAND_ADAPTER.validate_json(event.value)
            except ValidationError as exc:
                await dead_letter(event, f"malformed case command: {exc.errors()[0]['msg']}")
                continue
            reason = await _untrusted_actor(command)
            if reason is not None and not await store.applied(command.case_id, command.command_id):
                ctx.counters["quarantined_commands"] += 1
                await dead_letter(event, reason)
                continue
            result = await write(store, command, datetime.now(UTC))
            if result.refused is not None:
                ctx.counters["commands_refused"] += 1
                log.info(
                    "command %s (%s) on case %s refused: %s",
                    command.command_id,
                    command.kind,
                    command.case_id,
                    result.refused,
                )
                continue
            assert result.change is not None
            ctx.counters["commands_applied" if result.fresh else "commands_replayed"] += 1
            await changes_t.send(key=str(result.change.case_id).encode(), value=dump(result.change))
            for follow in result.follow_ups:
                await commands_t.send(key=str(follow.case_id).encode(), value=dump(follow))
            for raw in result.republish:
                await events_t.send(key=str(raw["event_id"]).encode(), value=orjson.dumps(raw))

    async def _untrusted_actor(command: CaseCommand) -> str | None:
        """Why a command's actor does not match the registry: checked in memory, and for a person the snapshot
        disagrees with, once more in the database, since the snapshot may predate a change to the registry."""
        actor = command.actor
        person = (await ctx.snapshot()).directory.people.get(actor.id)
        reason = quarantine.impostor(actor, person.as_actor() if person is not None else None)
        if reason is None and person is None and actor.role == Role.ADMIN:
            if await users_store.account_has_role(await ctx.pool(), actor.id, Role.ADMIN):
                return None
            return f"actor {actor.id} claims the admin role, but no enabled administrator account has that name"
        if reason is None or actor.role == Role.SYSTEM:
            return reason
        today = local_day(datetime.now(UTC))
        return quarantine.impostor(actor, await actors.resolve(await ctx.pool(), actor.id, today))

    @app.agent(unrouted_t, concurrency=1)
    async def unrouted_queue(stream: StreamT[Any]) -> None:
        """Keep the unrouted queue in PostGIS and tell the command centre."""
        async for event in stream.events():
            try:
                item = UnroutedEvent.model_validate_json(event.value)
            except ValidationError as exc:
                await dead_letter(event, f"malformed unrouted record: {exc.errors()[0]['msg']}")
                continue
            await queue_store.add_unrouted(await ctx.pool(), item)
            notice = QueueChange(queue="unrouted", item_id=str(item.event_id), at=datetime.now(UTC))
            await queue_t.send(key=b"unrouted", value=dump(notice))

    @app.agent(dead_t, concurrency=1)
    async def dead_letter_queue(stream: StreamT[Any]) -> None:
        """Keep the dead-letter queue in PostGIS and tell the command centre."""
        async for event in stream.events():
            try:
                item = DeadLetter.model_validate_json(event.value)
            except ValidationError:
                log.error("unreadable dead letter at offset %d skipped", event.message.offset)
                continue
            await queue_store.add_dead_letter(await ctx.pool(), item)
            notice = QueueChange(
                queue="deadletter",
                item_id=f"{item.source_topic}:{item.partition}:{item.offset}",
                at=datetime.now(UTC),
            )
            await queue_t.send(key=b"deadletter", value=dump(notice))

    @app.agent(registry_t, concurrency=1)
    async def registry_changes(stream: StreamT[Any]) -> None:
        """Reload the in-memory grid index and rules when the registry changes, without a restart."""
        async for event in stream.events():
            try:
                change = RegistryChange.model_validate_json(event.value)
            except ValidationError:
                log.error("unreadable registry notice at offset %d skipped", event.message.offset)
                continue
            await ctx.reload(f"{change.part} revision {change.revision}")
            if change.part == "plan":
                await carry_cases()

    async def carry_cases() -> None:
        """Send every open case stranded in a grid that no longer exists to its successor's people.

        Runs on each plan notice and on a timer, so a case opened from an event routed just before the
        reload is carried on the next round; transfer ids are per plan and case, so repeats are harmless.
        """
        pool, now = await ctx.pool(), datetime.now(UTC)
        today = local_day(now)
        plans = await transfers.plans_in_effect(pool, today)
        if not plans:
            return
        snap = await ctx.snapshot()
        latest = plans[-1][0]
        for case in await transfers.stranded_cases(pool, today):
            try:
                try:
                    command = transfers.transfer_for(case, snap, today, now, latest)
                except transfers.StaleSnapshot:
                    snap = await ctx.reload("a plan newer than the snapshot")
                    command = transfers.transfer_for(case, snap, today, now, latest)
            except transfers.StaleSnapshot as exc:
                log.warning("%s; retried on the next round", exc)
                continue
            except transfers.NoSuccessor as exc:
                ctx.counters["transfers_without_successor"] += 1
                log.error("%s", exc)
                continue
            await commands_t.send(key=str(case.id).encode(), value=dump(command))
            ctx.counters["transfers"] += 1
        await app.producer.flush()
        for plan_id, done in plans:
            if not done:
                await transfers.mark_done(pool, plan_id)
                log.info("plan %s in effect: stranded cases sent to their successors", plan_id)

    @app.timer(interval=settings.transfer_check_seconds, on_leader=True)  # type: ignore[untyped-decorator]
    async def plans_coming_into_effect() -> None:
        """Plans applied ahead of their effective date move their cases when the day comes."""
        if ctx.loaded_on != local_day(datetime.now(UTC)):
            await ctx.reload("a new day")
        await carry_cases()

    @app.timer(interval=settings.deadline_check_seconds, on_leader=True)  # type: ignore[untyped-decorator]
    async def deadlines() -> None:
        """跟踪督办: supervise every case past its step's deadline, escalating as the delay grows."""
        now = clock.now(settings.clock_file)
        every = timedelta(minutes=settings.escalate_every_minutes)
        for command in await supervision.supervision_round(await ctx.pool(), now, every):
            await commands_t.send(key=str(command.case_id).encode(), value=dump(command))
            ctx.counters["supervisions"] += 1

    @app.timer(interval=60.0)  # type: ignore[untyped-decorator]
    async def report_counters() -> None:
        """Log what the agents have done, for operators."""
        log.info("stream counters: %s", dict(ctx.counters))

    app.conf.gridcmd_context = ctx
    return app


def _lenient_text(value: object) -> str:
    if isinstance(value, bytes):
        return value[:RAW_CAP].decode("utf-8", errors="replace")
    return repr(value)[:RAW_CAP]
