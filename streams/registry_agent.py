"""registry_changes and the plan timer: reload the routing snapshot, and carry cases stranded by redistricting."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer
from faust.types import StreamT, TopicT
from pydantic import ValidationError

from core.cases import TransferCase
from core.queues import RegistryChange
from core.topics import REGISTRY_MAX_BYTES
from dispatch.clock import local_day
from dispatch.db import DATABASE_FAULTS
from dispatch.redistricting import transfers
from dispatch.routing.snapshot import RoutingSnapshot
from streams.context import StreamContext, or_exit
from streams.dead_letters import DeadLetters

log = logging.getLogger(__name__)


class RegistryAgent:
    """The agent on the registry topic, and the timer that notices plans coming into effect."""

    def __init__(
        self, app: faust.App, ctx: StreamContext, dead: DeadLetters, commands: TopicT, topic_name: str
    ) -> None:
        self.app, self.ctx, self.dead, self.commands, self.topic_name = app, ctx, dead, commands, topic_name

    async def run(self, stream: StreamT[Any]) -> None:
        """Carry the cases a plan strands, once per plan notice (one worker of the group hears each notice); an
        unreadable notice becomes a dead letter here, once (the listeners of every worker only log it)."""
        async for event in stream.events():
            change = _notice(event.value, event.message.offset)
            if change is None:
                await self.dead.send(event, "unreadable registry notice")
            elif change.part == "plan":
                with or_exit("carrying cases"):
                    await self.carry_cases_or_wait()

    async def listen(self) -> None:
        """Every worker reloads its routing snapshot on every registry notice: a consumer of its own, no group,
        reading every partition from the end (the snapshot loaded at start covers what came before)."""
        consumer = AIOKafkaConsumer(
            self.topic_name,
            bootstrap_servers=self.ctx.settings.kafka_bootstrap,
            **self.ctx.settings.kafka_options(),
            group_id=None,
            auto_offset_reset="latest",
            enable_auto_commit=False,
            fetch_max_bytes=REGISTRY_MAX_BYTES * 2,
            max_partition_fetch_bytes=REGISTRY_MAX_BYTES,
        )
        await consumer.start()
        try:
            async for record in consumer:
                change = _notice(record.value, record.offset)
                if change is not None:
                    await self.ctx.reload(f"{change.part} revision {change.revision}")
        finally:
            await consumer.stop()

    async def plans_coming_into_effect(self) -> None:
        """Plans applied ahead of their effective date move their cases when the day comes."""
        if self.ctx.loaded_on != local_day(datetime.now(UTC)):
            await self.ctx.reload("a new day")
        await self.carry_cases_or_wait()

    async def carry_cases_or_wait(self) -> None:
        """Carry stranded cases; while the database is down, leave them to the timer's next round (every transfer
        is idempotent) instead of crashing the worker."""
        try:
            await self.carry_cases()
        except DATABASE_FAULTS as exc:
            log.warning("carrying stranded cases: the database is unavailable (%s); done on the next round", exc)

    async def carry_cases(self) -> None:
        """Send every open case stranded in a grid that no longer exists to its successor's people: by the plan that
        ended the grid, or (grids redrawn by an import) to the grid its location lies in."""
        # A case routed just before the reload is carried on the next round; transfer ids are per plan (or old grid)
        # and case.
        pool, now = await self.ctx.pool(), datetime.now(UTC)
        today = local_day(now)
        plans = await transfers.plans_in_effect(pool, today)
        snap = await self.ctx.snapshot()
        for case in await transfers.stranded_cases(pool, today):
            plan_id = transfers.plan_of(case, plans)
            command, snap = await self._transfer(case, snap, today, now, plan_id)
            if command is not None:
                await self.commands.send(key=str(case.id).encode(), value=self.ctx.signer.record(command))
                self.ctx.counters["transfers"] += 1
        await self.app.producer.flush()
        for plan in plans:
            if not plan.done:
                await transfers.mark_done(pool, plan.plan_id)
                log.info("plan %s in effect: stranded cases sent to their successors", plan.plan_id)

    async def _transfer(
        self, case: transfers.OpenCaseRef, snap: RoutingSnapshot, today: date, now: datetime, plan_id: str | None
    ) -> tuple[TransferCase | None, RoutingSnapshot]:
        """The case's transfer (None when it must wait or has nowhere to go), and the snapshot to go on with."""
        try:
            try:
                return transfers.transfer_for(case, snap, today, now, plan_id), snap
            except transfers.StaleSnapshot:
                snap = await self.ctx.reload("a plan newer than the snapshot")
                return transfers.transfer_for(case, snap, today, now, plan_id), snap
        except transfers.StaleSnapshot as exc:
            log.warning("%s; retried on the next round", exc)
        except transfers.NoSuccessor as exc:
            self.ctx.counters["transfers_without_successor"] += 1
            log.error("%s", exc)
        return None, snap


def _notice(value: bytes | None, offset: int) -> RegistryChange | None:
    """The registry notice in a record, or None (logged) when it is unreadable."""
    try:
        return RegistryChange.model_validate_json(value or b"")
    except ValidationError:
        log.error("unreadable registry notice at offset %d (dead-lettered by the registry_changes agent)", offset)
        return None
