"""Timers: supervise cases past their step's deadline, move accounts with their people's service on its day, and log
the counters for operators."""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg
from faust.types import TopicT

from dispatch import clock
from dispatch.access.account_follow import Followed, follow_service
from dispatch.cases import deadlines, supervision
from streams.case_writer_agent import announce
from streams.context import StreamContext

log = logging.getLogger(__name__)


class Timers:
    """Periodic work that reads no topic."""

    def __init__(self, ctx: StreamContext, commands: TopicT, inbox: TopicT) -> None:
        self.ctx, self.commands, self.inbox = ctx, commands, inbox

    async def deadlines(self) -> None:
        """跟踪督办: supervise every case past its step's deadline, escalating as the delay grows; warn the assignees
        of steps due soon."""
        settings = self.ctx.settings
        now = clock.now(settings.clock_file)
        every = timedelta(minutes=settings.escalate_every_minutes)
        round_ = await self.ctx.retrying("overdue cases", lambda pool: supervision.supervision_round(pool, now, every))
        for command in round_:
            await self.commands.send(key=str(command.case_id).encode(), value=self.ctx.signer.record(command))
            self.ctx.counters["supervisions"] += 1
        ahead = timedelta(minutes=settings.deadline_warning_minutes)
        warned = await self.ctx.retrying("deadline warnings", lambda pool: deadlines.warn_round(pool, now, ahead))
        await announce(self.inbox, warned)
        self.ctx.counters["deadline_warnings"] += len(warned)

    async def accounts_follow_service(self) -> None:
        """A plan dated ahead moves and ends people on its day: their accounts take today's unit and team, and the
        accounts of people whose service ended are disabled."""
        today = clock.local_day(clock.now(self.ctx.settings.clock_file))

        async def follow(pool: asyncpg.Pool) -> Followed:
            async with pool.acquire() as conn, conn.transaction():
                return await follow_service(conn, today)

        done = await self.ctx.retrying("accounts following their people", follow)
        if done.moved or done.disabled:
            log.info("on %s: accounts moved %s, disabled %s", today, done.moved, done.disabled)
        self.ctx.counters["accounts_moved"] += len(done.moved)
        self.ctx.counters["accounts_disabled"] += len(done.disabled)

    async def report_counters(self) -> None:
        """Log what the agents have done, for operators."""
        log.info("stream counters: %s", dict(self.ctx.counters))
