"""case_writer: the one writer of each case applies a batch of commands per partition in one transaction, then
publishes the changes, the commands that follow from them, and the events split off or not attached."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from faust.types import EventT, StreamT, TopicT
from faust.types.tuples import TP
from pydantic import ValidationError

from core.cases import COMMAND_ADAPTER, Actor, CaseCommand
from core.notices import Notice
from core.registry import dump
from core.vocabulary import Role
from dispatch.access import users
from dispatch.cases.anchors import AnchorFile, PendingHeads
from dispatch.cases.seal import audit_keys
from dispatch.cases.store import PgCaseStore, log_heads
from dispatch.cases.writer import CaseCache, WriteResult, write_batch
from dispatch.clock import local_day
from dispatch.people import actors
from dispatch.routing import screening
from streams.context import StreamContext, batches, or_exit
from streams.dead_letters import DeadLetters

log = logging.getLogger(__name__)


async def announce(inbox: TopicT, notices: Sequence[Notice]) -> None:
    """Announce new notices to the web processes, keyed by recipient (after their commit: a replay has none)."""
    for notice in notices:
        await inbox.send(key=notice.person_id.encode(), value=dump(notice))


class CaseWriter:
    """The agent on the case commands topic (keyed by case id); its case cache follows the partitions it owns."""

    def __init__(self, ctx: StreamContext, dead: DeadLetters, topics: dict[str, TopicT]) -> None:
        self.ctx, self.dead, self.topics = ctx, dead, topics
        self.cache = CaseCache(ctx.settings.case_cache_size)
        self.keys = audit_keys(ctx.settings)
        self.heads = PendingHeads()
        self.anchors = AnchorFile(ctx.settings.audit_anchor_dir, self.keys)

    def moved(self, partitions: Iterable[TP]) -> None:
        """Forget the cases of partitions revoked or assigned: another writer may have changed them meanwhile."""
        name = self.topics["commands"].get_topic_name()
        self.cache.drop(tp.partition for tp in partitions if tp.topic == name)

    async def run(self, stream: StreamT[Any]) -> None:
        """Apply the commands a batch at a time; the batch is acknowledged after its transaction commits."""
        async for batch in batches(stream, self.ctx.settings):
            with or_exit("case writer"):
                await self.apply(batch)

    async def apply(self, batch: Sequence[EventT[Any]]) -> None:
        """Screen the batch's commands, write each partition's in one transaction, and publish what came of it."""
        by_partition: dict[int, list[CaseCommand]] = {}
        for event in batch:
            command = await self._screened(event)
            if command is not None:
                by_partition.setdefault(event.message.partition, []).append(command)
        for partition, commands in by_partition.items():
            results, notices = await self._write(partition, commands)
            for command, result in zip(commands, results, strict=True):
                await self._publish(command, result)
            await announce(self.topics["inbox"], notices)
            self.ctx.counters["notices"] += len(notices)

    async def _write(self, partition: int, commands: list[CaseCommand]) -> tuple[list[WriteResult], list[Notice]]:
        """One partition's commands in one transaction, waiting out a database restart; with the notices it made."""

        async def work(pool: asyncpg.Pool) -> tuple[list[WriteResult], list[Notice]]:
            store = PgCaseStore(pool, self.keys, self.heads)
            results = await write_batch(store, self.cache, partition, commands, datetime.now(UTC))
            return results, store.announced

        return await self.ctx.retrying("case writer", work)

    async def anchor(self) -> None:
        """Append the heads written since the last anchor (on a new anchor file, the head of every case first)."""
        baseline = not self.anchors.started()
        heads = self.heads.take()
        if baseline:
            pending, heads = heads, await self.ctx.retrying("the heads of the case logs", log_heads)
            heads.update({c: head for c, head in pending.items() if head[0] > heads.get(c, (0, ""))[0]})
        if not heads and not baseline:
            return
        try:
            await asyncio.to_thread(self.anchors.append, heads, baseline)
        except OSError:
            self.heads.merge(heads)
            self.ctx.counters["anchor_failures"] += 1
            log.exception("cannot append to the anchor file %s; the heads wait for the next try", self.anchors.path)
            return
        self.ctx.counters["heads_anchored"] += len(heads)

    async def last_anchor(self, sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        """On a clean shutdown, anchor what the last interval wrote (a new file's baseline waits for a live worker)."""
        if self.anchors.started():
            before = self.ctx.counters["heads_anchored"]
            await self.anchor()
            log.info("anchored %d head(s) on shutdown", self.ctx.counters["heads_anchored"] - before)

    async def _screened(self, event: EventT[Any]) -> CaseCommand | None:
        """The command in the record, or None once it is dead-lettered (malformed, unsigned or forged, or an
        untrusted actor)."""
        try:
            command: CaseCommand = COMMAND_ADAPTER.validate_json(event.value)
        except ValidationError as exc:
            await self.dead.send(event, f"malformed case command: {exc.errors()[0]['msg']}")
            return None
        forged = self.ctx.signer.refusal(command)
        if forged is not None:
            self.ctx.counters["forged_commands"] += 1
            await self.dead.send(event, f"{forged} (claiming actor {command.actor.id}, {command.actor.role})")
            return None
        reason = await self._untrusted(command.actor)
        if reason is not None and not await self._applied(command):
            self.ctx.counters["quarantined_commands"] += 1
            await self.dead.send(event, reason)
            return None
        return command

    async def _applied(self, command: CaseCommand) -> bool:
        """Whether the command was applied before (its actor trusted then): a replay, not a quarantine."""
        return await self.ctx.retrying(
            "applied", lambda pool: PgCaseStore(pool).applied(command.case_id, command.command_id)
        )

    async def _untrusted(self, claimed: Actor) -> str | None:
        """Why the actor is untrusted: by the snapshot, and where it disagrees, by the database it may predate."""
        snap = await self.ctx.snapshot()
        person = snap.directory.people.get(claimed.id)
        registered = person.as_actor() if person is not None else None
        if registered is None and claimed.role == Role.ADMIN:
            admin = await self.ctx.retrying(
                "accounts", lambda pool: users.account_has_role(pool, claimed.id, Role.ADMIN)
            )
            return screening.actor_reason(claimed, None, admin)
        reason = screening.actor_reason(claimed, registered)
        if reason is None or claimed.role == Role.SYSTEM:
            return reason
        today = local_day(datetime.now(UTC))
        return screening.actor_reason(
            claimed, await self.ctx.retrying("people", lambda pool: actors.resolve(pool, claimed.id, today))
        )

    async def _publish(self, command: CaseCommand, result: WriteResult) -> None:
        """Send the change, the commands that follow from it, the events split off, and an event not attached."""
        counters, topics = self.ctx.counters, self.topics
        if result.change is not None:
            await topics["changes"].send(key=str(result.change.case_id).encode(), value=dump(result.change))
        if result.refused is None:
            counters["commands_applied" if result.fresh else "commands_replayed"] += 1
        else:
            counters["commands_refused"] += 1
            log.info(
                "command %s (%s) on case %s refused: %s",
                command.command_id,
                command.kind,
                command.case_id,
                result.refused,
            )
        for follow in result.follow_ups:
            await topics["commands"].send(key=str(follow.case_id).encode(), value=self.ctx.signer.record(follow))
        for raw in result.republish:
            await topics["events"].send(key=str(raw["event_id"]).encode(), value=orjson.dumps(raw))
        if result.unrouted is not None:
            counters["attaches_queued"] += 1
            await topics["unrouted"].send(key=str(result.unrouted.event_id).encode(), value=dump(result.unrouted))
