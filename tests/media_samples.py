"""Media samples made in code (no binary fixtures): a real PNG, and the headers of the other types."""

from __future__ import annotations

import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 4, height: int = 3, note: str = "") -> bytes:
    """A valid RGB PNG; a different `note` (a tEXt chunk) gives different bytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixel = [bytes((x * 40 % 256, y * 60 % 256, 128)) for y in range(height) for x in range(width)]
    raw = b"".join(b"\x00" + b"".join(pixel[y * width : (y + 1) * width]) for y in range(height))
    text = _chunk(b"tEXt", b"Comment\x00" + note.encode()) if note else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + text
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 32 + b"\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
TEXT = "村口垃圾堆放未清运 — not a photo at all\n".encode()
MP4 = (
    struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2" + struct.pack(">I", 16) + b"mdat" + bytes(8)
)
"""The head of an MP4 clip (an ISO BMFF `ftyp` box, brand isom, and an empty `mdat`), as a camera's alert carries."""
