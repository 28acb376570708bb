"""case_writer: the one writer per case applies each command once, stores it and publishes the change."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from faust.types import EventT, StreamT, TopicT
from pydantic import ValidationError

from core.cases import COMMAND_ADAPTER, Actor
from core.registry import dump
from core.vocabulary import Role
from dispatch.access import users
from dispatch.cases.store import PgCaseStore
from dispatch.cases.writer import WriteResult, write
from dispatch.clock import local_day
from dispatch.people import actors
from dispatch.routing import screening
from streams.context import StreamContext
from streams.dead_letters import DeadLetters

log = logging.getLogger(__name__)


class CaseWriter:
    """The agent on the case commands topic; it also sends follow-up commands and events split off cases."""

    def __init__(
        self, ctx: StreamContext, dead: DeadLetters, commands: TopicT, changes: TopicT, events: TopicT
    ) -> None:
        self.ctx, self.dead, self.commands, self.changes, self.events = ctx, dead, commands, changes, events
        self._store: PgCaseStore | None = None

    async def run(self, stream: StreamT[Any]) -> None:
        """The one writer per case: apply each command once, store it, publish the change."""
        async for event in stream.events():
            await self._apply(event)

    async def _apply(self, event: EventT[Any]) -> None:
        """Quarantine the command, or apply it and publish what came of it."""
        ctx = self.ctx
        if self._store is None:
            self._store = PgCaseStore(await ctx.pool())
        try:
            command = COMMAND_ADAPTER.validate_json(event.value)
        except ValidationError as exc:
            await self.dead.send(event, f"malformed case command: {exc.errors()[0]['msg']}")
            return
        reason = await self._untrusted(command.actor)
        if reason is not None and not await self._store.applied(command.case_id, command.command_id):
            ctx.counters["quarantined_commands"] += 1
            await self.dead.send(event, reason)
            return
        result = await write(self._store, command, datetime.now(UTC))
        if result.refused is not None:
            ctx.counters["commands_refused"] += 1
            log.info(
                "command %s (%s) on case %s refused: %s",
                command.command_id,
                command.kind,
                command.case_id,
                result.refused,
            )
            return
        await self._publish(result)

    async def _untrusted(self, claimed: Actor) -> str | None:
        """Why the actor is untrusted: by the snapshot, and where it disagrees, by the database it may predate."""
        pool, snap = await self.ctx.pool(), await self.ctx.snapshot()
        person = snap.directory.people.get(claimed.id)
        registered = person.as_actor() if person is not None else None
        if registered is None and claimed.role == Role.ADMIN:
            return screening.actor_reason(claimed, None, await users.account_has_role(pool, claimed.id, Role.ADMIN))
        reason = screening.actor_reason(claimed, registered)
        if reason is None or claimed.role == Role.SYSTEM:
            return reason
        today = local_day(datetime.now(UTC))
        return screening.actor_reason(claimed, await actors.resolve(pool, claimed.id, today))

    async def _publish(self, result: WriteResult) -> None:
        """Send the change, the commands that follow from it, and the events split off the case."""
        assert result.change is not None
        self.ctx.counters["commands_applied" if result.fresh else "commands_replayed"] += 1
        await self.changes.send(key=str(result.change.case_id).encode(), value=dump(result.change))
        for follow in result.follow_ups:
            await self.commands.send(key=str(follow.case_id).encode(), value=dump(follow))
        for raw in result.republish:
            await self.events.send(key=str(raw["event_id"]).encode(), value=orjson.dumps(raw))
