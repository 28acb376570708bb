"""An event's media must be files its sender may read: the case the event opens or joins is granted them, so a
foreign or unknown hash is refused, with the same answer for both."""

from __future__ import annotations

import asyncpg

from core.events import EventEnvelope
from dispatch.access.scope import Scope
from dispatch.errors import Loc
from dispatch.media import grants as media_grants


async def unreadable(pool: asyncpg.Pool, events: list[EventEnvelope], caller: Scope) -> set[str]:
    """The media hashes of these events that the caller may not read (or that are not stored), in one query."""
    hashes = {m.sha256 for e in events for m in e.media}
    if not hashes:
        return set()
    return hashes - await media_grants.readable(pool, hashes, caller)


def fault(event: EventEnvelope, refused: set[str]) -> tuple[Loc, str] | None:
    """The first media reference of the event among the refused hashes: where it is (under the event) and what."""
    for n, ref in enumerate(event.media):
        if ref.sha256 in refused:
            return ("media", n, "sha256"), f"stored media {ref.sha256}"
    return None
