"""A small raster PMTiles base map made in code (no binary fixtures): one solid colour over a bounding box."""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import write

MAGENTA = (255, 0, 255)
"""A colour nothing else on the map has: where the canvas shows it, the base map was drawn."""
QINGCHUAN = (104.9, 32.2, 105.6, 32.9)
"""The demo county (青川县) with a margin: west, south, east, north."""


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def solid_png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A size×size RGB PNG of one colour."""
    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * size))
        + _chunk(b"IEND", b"")
    )


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The Web Mercator tile (x, y) holding a point at zoom z."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(x, n - 1), min(y, n - 1)


def write_pmtiles(
    path: Path,
    rgb: tuple[int, int, int] = MAGENTA,
    bounds: tuple[float, float, float, float] = QINGCHUAN,
    max_zoom: int = 8,
) -> int:
    """Write a PMTiles file of `rgb` PNG tiles covering `bounds` at zooms 0..max_zoom; returns the tile count."""
    west, south, east, north = bounds
    ids = []
    for z in range(max_zoom + 1):
        (x0, y0), (x1, y1) = _tile(west, north, z), _tile(east, south, z)
        ids += [zxy_to_tileid(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    tile = solid_png(rgb)
    with write(str(path)) as writer:
        for tile_id in sorted(ids):
            writer.write_tile(tile_id, tile)
        writer.finalize(
            {
                "tile_type": TileType.PNG,
                "tile_compression": Compression.NONE,
                "min_lon_e7": int(west * 1e7),
                "min_lat_e7": int(south * 1e7),
                "max_lon_e7": int(east * 1e7),
                "max_lat_e7": int(north * 1e7),
            },
            {"attribution": "test base map"},
        )
    return len(ids)
