"""The category table: its seed file, reading it from PostgreSQL, a copy kept fresh in memory, and edits."""

from __future__ import annotations

import asyncio
import csv
import logging
from functools import cache
from pathlib import Path

import asyncpg

from core.categories import CategoryEntry, CategoryTable, is_major, major_of
from dispatch.db import DATABASE_FAULTS, Conn
from dispatch.errors import Invalid, NotFound
from dispatch.registry.revisions import bump_revision

log = logging.getLogger(__name__)
SEED = Path(__file__).parents[1] / "data" / "categories.csv"
SELECT = "SELECT code, name_zh, name_en, position, active FROM categories"


@cache
def seed_table() -> CategoryTable:
    """The table as the repository ships it (what the migration loads)."""
    with SEED.open(encoding="utf-8", newline="") as f:
        return CategoryTable(
            CategoryEntry(r["code"], r["name_zh"], r["name_en"], i) for i, r in enumerate(csv.DictReader(f))
        )


async def load_table(conn: Conn | asyncpg.Pool) -> CategoryTable:
    """The table as the database holds it now."""
    return CategoryTable(CategoryEntry(**dict(r)) for r in await conn.fetch(SELECT))


async def check_scope(conn: Conn | asyncpg.Pool, code: str | None, loc: tuple[str | int, ...]) -> None:
    """Refuse, naming the field, a rule's or filter's category the table does not hold."""
    if code is not None and not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM categories WHERE code = $1)", code):
        raise Invalid(f"{loc[-1]}: no category {code} in the category table", loc)


class CategoryCache:
    """The table held in memory by a process that reads it per request, reloaded in the background."""

    def __init__(self, table: CategoryTable | None = None) -> None:
        self.table = table or seed_table()
        self._task: asyncio.Task[None] | None = None

    async def reload(self, pool: asyncpg.Pool) -> None:
        """Read the table again; on a database fault keep the copy held."""
        try:
            self.table = await load_table(pool)
        except DATABASE_FAULTS as exc:
            log.warning("category table not reloaded (%s); keeping the copy held", exc)

    async def start(self, pool: asyncpg.Pool, every: float) -> None:
        """Load now and every `every` seconds."""
        await self.reload(pool)

        async def keep_fresh() -> None:
            while True:
                await asyncio.sleep(every)
                await self.reload(pool)

        self._task = asyncio.create_task(keep_fresh(), name="category-table")

    async def stop(self) -> None:
        """Stop reloading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def set_category(pool: asyncpg.Pool, entry: CategoryEntry, by: str) -> None:
    """Add a category or rename, re-order or (de)activate one; a 小类 needs its 大类 first. Bumps the rules revision,
    so the stream processors reload."""
    async with pool.acquire() as conn, conn.transaction():
        if not is_major(entry.code) and not await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM categories WHERE code = $1)", major_of(entry.code)
        ):
            raise NotFound(f"code: no 大类 {major_of(entry.code)} for 小类 {entry.code}")
        await conn.execute(
            "INSERT INTO categories (code, name_zh, name_en, position, active, updated_by) VALUES ($1,$2,$3,$4,$5,$6)"
            " ON CONFLICT (code) DO UPDATE SET name_zh = $2, name_en = $3, position = $4, active = $5,"
            " updated_by = $6, updated_at = now()",
            entry.code,
            entry.name_zh,
            entry.name_en,
            entry.position,
            entry.active,
            by,
        )
        await bump_revision(conn, "rules")
