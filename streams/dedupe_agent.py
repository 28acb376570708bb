"""deduplicate: routed events keyed by township; each partition owns its townships' memory of recent open cases and
attaches an event to a near, recent case of its category instead of opening another."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from faust.types import EventT, StreamT, TopicT
from faust.types.tuples import TP
from pydantic import ValidationError

from core.cases import AttachEvent
from core.routed import RoutedEvent
from dispatch.routing.duplicates import DuplicatePolicy, Opened
from dispatch.routing.township_memory import TownshipMemory, deduplicate, recent_opens, split_off
from streams.context import StreamContext, batches, or_exit
from streams.dead_letters import DeadLetters


class Deduplicator:
    """The agent on the routed topic; its memory follows the partitions assigned to this worker."""

    def __init__(self, ctx: StreamContext, dead: DeadLetters, topic_name: str, commands: TopicT) -> None:
        self.ctx, self.dead, self.topic_name, self.commands = ctx, dead, topic_name, commands
        window = timedelta(minutes=ctx.settings.duplicate_window_minutes)
        storms = timedelta(minutes=ctx.settings.alert_fold_minutes)
        self.memory = TownshipMemory(DuplicatePolicy(ctx.settings.duplicate_radius_m, window, storms))

    def revoked(self, partitions: Iterable[TP]) -> None:
        """A rebalance begins: the memory waits to see which partitions stay (TownshipMemory.revoke)."""
        self.memory.revoke(tp.partition for tp in partitions if tp.topic == self.topic_name)

    def assigned(self, partitions: Iterable[TP]) -> None:
        """Forget the memory of partitions gone to another worker; kept ones keep theirs; new ones are built on use."""
        self.memory.assign(tp.partition for tp in partitions if tp.topic == self.topic_name)

    async def run(self, stream: StreamT[Any]) -> None:
        """Decide a batch at a time; the batch is acknowledged once its commands are sent."""
        async for batch in batches(stream, self.ctx.settings):
            with or_exit("deduplicate"):
                await self.decide(batch)

    async def decide(self, batch: Sequence[EventT[Any]]) -> None:
        """Ask which events were split off, rebuild the memory of townships new to this worker, then decide."""
        items = [(event.message.partition, found) for event in batch if (found := await self._parse(event))]
        if not items:
            return
        split: set[Any] = set()
        if self.memory.policy.radius_m > 0 or any(item.command.source.device_id for _, item in items):
            ids = [item.command.source.event_id for _, item in items]
            split = await self.ctx.retrying("events split off", lambda pool: split_off(pool, ids))
        await self._rebuild(items)
        # Nothing is awaited from the rebuild's last check to the decisions, so no rebalance drops memory in between.
        for decision in deduplicate(items, self.memory, split):
            if isinstance(decision, AttachEvent):
                self.ctx.counters["duplicates_attached"] += 1
            await self.commands.send(key=str(decision.case_id).encode(), value=self.ctx.signer.record(decision))

    async def _rebuild(self, items: Sequence[tuple[int, RoutedEvent]]) -> None:
        """Load the open cases of townships whose memory this worker lacks, in one query; again if a rebalance
        (faust does not wait for agents) dropped memory while the query ran."""
        pairs = {(partition, item.township) for partition, item in items}
        while missing := self.memory.missing(pairs):
            found = await self._recent_opens(missing)
            for partition, township in pairs:
                if township in missing:
                    self.memory.rebuild(partition, township, found.get(township, ()))
            self.ctx.counters["township_memories_rebuilt"] += len(missing)

    async def _recent_opens(self, townships: set[str]) -> dict[str, list[Opened]]:
        """The townships' open cases within the window, and devices' cases within the storm window."""
        now, policy = datetime.now(UTC), self.memory.policy
        since = now - policy.window if policy.radius_m > 0 else now
        storms = now - policy.storm_window
        return await self.ctx.retrying("recent open cases", lambda pool: recent_opens(pool, townships, since, storms))

    async def _parse(self, event: EventT[Any]) -> RoutedEvent | None:
        """The routed event in the record, or None once it is dead-lettered (malformed, or not the router's)."""
        try:
            routed = RoutedEvent.model_validate_json(event.value)
        except ValidationError as exc:
            await self.dead.send(event, f"malformed routed event: {exc.errors()[0]['msg']}")
            return None
        refused = self.ctx.signer.refusal(routed.command)
        if refused is not None:
            self.ctx.counters["forged_commands"] += 1
            await self.dead.send(event, f"routed event: {refused}")
            return None
        return routed
