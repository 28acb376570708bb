"""The csv export as it streams: one BOM, the header first, every row once and in order, in bounded chunks."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator

from dispatch.documents.rows import Cell
from dispatch.documents.tables import CHUNK_ROWS, csv_chunks


async def numbered(n: int) -> AsyncIterator[list[Cell]]:
    for i in range(n):
        yield [i, f"第{i}行"]


def test_a_csv_streams_in_chunks_with_one_bom_and_every_row_in_order() -> None:
    async def collect() -> list[bytes]:
        return [chunk async for chunk in csv_chunks(["序号", "内容"], numbered(2 * CHUNK_ROWS + 3))]

    chunks = asyncio.run(collect())
    assert len(chunks) == 3, "a chunk a few hundred rows, never the whole file at once"
    data = b"".join(chunks)
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert records[0] == ["序号", "内容"]
    assert records[1:] == [[str(i), f"第{i}行"] for i in range(2 * CHUNK_ROWS + 3)]


def test_an_empty_export_is_its_header() -> None:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in csv_chunks(["案件编号"], numbered(0))])

    assert asyncio.run(collect()).decode("utf-8-sig") == "案件编号\r\n"
