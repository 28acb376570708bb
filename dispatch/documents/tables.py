"""Export tables written to disk as they are read (csv in chunks, xlsx through a write-only workbook), then sent."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from dispatch.documents.rows import Cell, csv_line

BOM = "\ufeff"
CHUNK_ROWS = 500
READ_BYTES = 64 * 1024
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def csv_chunks(headers: Sequence[str], rows: AsyncIterable[Sequence[Cell]]) -> AsyncIterator[bytes]:
    """The CSV in UTF-8 with a BOM (so Excel reads Chinese), a few hundred rows a chunk."""
    lines = [BOM + csv_line(headers)]
    async for row in rows:
        lines.append(csv_line(row))
        if len(lines) >= CHUNK_ROWS:
            yield "".join(lines).encode()
            lines = []
    if lines:
        yield "".join(lines).encode()


async def csv_file(headers: Sequence[str], rows: AsyncIterable[Sequence[Cell]]) -> Path:
    """The CSV written chunk by chunk to a temporary file (see detached): the rows' database connection goes back to
    the pool as soon as they are read, however slowly the client then downloads."""
    with tempfile.NamedTemporaryFile(prefix="gridcmd-export-", suffix=".csv", delete=False) as out:
        async for chunk in csv_chunks(headers, rows):
            await asyncio.to_thread(out.write, chunk)
    return Path(out.name)


async def xlsx_file(title: str, headers: Sequence[str], rows: AsyncIterable[Sequence[Cell]]) -> Path:
    """The rows in a write-only workbook (rows go to disk as they come), saved to a temporary file (see detached)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_bold(sheet, h, bold) for h in headers])
    batch: list[Sequence[Cell]] = []
    async for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            await asyncio.to_thread(_append, sheet, batch)  # openpyxl is CPU work: off the event loop
            batch = []
    await asyncio.to_thread(_append, sheet, batch)
    with tempfile.NamedTemporaryFile(prefix="gridcmd-export-", suffix=".xlsx", delete=False) as out:
        path = Path(out.name)
    await asyncio.to_thread(book.save, path)
    return path


def _append(sheet: Any, rows: list[Sequence[Cell]]) -> None:
    for row in rows:
        sheet.append(list(row))


def _bold(sheet: object, text: str, font: Font) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = font
    return cell


def detached(path: Path) -> tuple[BinaryIO, int]:
    """A temporary file opened and its name removed at once, so nothing is left behind however its reader ends; its
    handle and size."""
    handle = path.open("rb")
    path.unlink()
    return handle, os.fstat(handle.fileno()).st_size


async def file_chunks(handle: BinaryIO) -> AsyncIterator[bytes]:
    """A file's bytes a block at a time, read off the event loop; the file is closed at the end."""
    try:
        while block := await asyncio.to_thread(handle.read, READ_BYTES):
            yield block
    finally:
        handle.close()
