"""What an upload is, judged by its bytes (magic numbers), not its name or declared type."""

from __future__ import annotations

from typing import Literal

import filetype
from filetype.types import archive, image, video

from dispatch.errors import DomainError, Invalid, TooLarge, Unsupported

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MediaKind = Literal["photo", "video", "document"]
KINDS: dict[str, MediaKind] = {
    "image/jpeg": "photo",
    "image/png": "photo",
    "image/webp": "photo",
    "video/mp4": "video",
    "application/pdf": "document",
}
ALLOWED_TYPES = tuple(KINDS)
# Only these matchers decide what an upload is; the library's full list names refused types in messages.
_MATCHERS = (image.Jpeg(), image.Png(), image.Webp(), video.Mp4(), archive.Pdf())
_SNIFF_BYTES = 8192
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-pdf": "application/pdf"}
_UNDECLARED = {"", "application/octet-stream"}


class MediaError(DomainError):
    """An upload refused, with a reason fit to show the uploader."""


class MediaTooLarge(MediaError, TooLarge):
    """The upload is larger than the limit."""


class EmptyMedia(MediaError, Invalid):
    """The upload has no bytes."""


class UnsupportedMedia(MediaError, Unsupported):
    """The bytes are not an allowed type, or not the type the uploader declared."""


def sniff(data: bytes) -> str | None:
    """The allowed content type the bytes' magic numbers show, or None."""
    match = filetype.match(data[:_SNIFF_BYTES], matchers=_MATCHERS)
    return None if match is None else str(match.mime)


def _seen_as(data: bytes) -> str:
    """What the bytes look like, for a refusal message."""
    match = filetype.guess(data[:_SNIFF_BYTES])
    return "an unrecognised type" if match is None else str(match.mime)


def _normalise(declared_type: str | None) -> str:
    """A Content-Type without parameters, lower case, common aliases resolved."""
    bare = (declared_type or "").split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def check_upload(data: bytes, declared_type: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The content type of an acceptable upload, judged by its bytes; raises a MediaError otherwise."""
    if not data:
        raise EmptyMedia("the upload is empty")
    if len(data) > max_bytes:
        raise MediaTooLarge(f"the upload is larger than {max_bytes} bytes")
    sniffed = sniff(data)
    if sniffed is None:
        raise UnsupportedMedia(f"the bytes are {_seen_as(data)}; allowed: {', '.join(ALLOWED_TYPES)}")
    declared = _normalise(declared_type)
    if declared not in _UNDECLARED and declared != sniffed:
        raise UnsupportedMedia(f"declared as {declared} but the bytes are {sniffed}")
    return sniffed
