"""The rows an export reads: the case list's query within the caller's reach, through a cursor, up to a bound."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg

from dispatch.access.scope import Scope
from dispatch.cases.columns import case_from_row
from dispatch.cases.queries import CaseFilter, list_query
from dispatch.documents.rows import CASE_HEADERS, Cell, case_row
from dispatch.registry.categories_store import load_table

PREFETCH = 500


def truncated_note(bound: int) -> list[Cell]:
    """The last row of an export cut at its bound, saying so."""
    return [f"仅导出前 {bound} 条，请缩小筛选范围后再导出", *([""] * (len(CASE_HEADERS) - 1))]


async def case_rows(pool: asyncpg.Pool, f: CaseFilter, scope: Scope, bound: int) -> AsyncIterator[list[Cell]]:
    """The rows of the cases the list would show with these filters, at most `bound` (then a note that says so)."""
    sql, args = list_query(dataclasses.replace(f, limit=bound + 1), scope)
    now = datetime.now(UTC)
    count = 0
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        categories = await load_table(conn)
        async for record in conn.cursor(sql, *args, prefetch=PREFETCH):
            if count == bound:
                yield truncated_note(bound)
                return
            count += 1
            yield case_row(case_from_row(record).view(), now, categories)
