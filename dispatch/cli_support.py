"""What every `gridctl` sub-command shares: a database pool for one command, and the console."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import typer
from rich.console import Console

from dispatch import db
from dispatch.settings import CommonSettings

console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")


def with_pool(work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """Run `work` with a small pool on the configured database."""

    async def run() -> T:
        pool = await db.create_pool(CommonSettings().database_url, max_size=2)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


def fail(message: str, problems: list[str] | None = None) -> None:
    """Print what is wrong and exit with status 1."""
    console.print(f"[red]{message}[/red]")
    for problem in problems or []:
        console.print(f"  - {problem}")
    raise typer.Exit(1)
