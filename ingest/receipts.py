"""Idempotency of the intake: one receipt per event id, holding the hash of the body first claimed.

One statement claims every id of a request (one for the single door, up to a thousand for the batch door) and
says for each what was on record: a new receipt, or the earlier one, whose body hash decides between a duplicate
and a conflict. Nothing is written after the broker's acknowledgement: a receipt stays `pending`, and a retry of
a pending event is published again. That is harmless downstream: the case id is derived from the event id
(core.cases.case_id_for_event) and the case writer applies a command id once, so a second copy replays the case
instead of opening another. Receipts marked `accepted` by earlier builds are not published again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

import asyncpg

CLAIM = (
    "INSERT INTO ingest_receipts AS r (event_id, body_sha256, status)"
    " SELECT event_id, body_sha256, 'pending' FROM unnest($1::uuid[], $2::text[]) AS t (event_id, body_sha256)"
    " ON CONFLICT (event_id) DO UPDATE SET status = r.status"
    " RETURNING r.event_id, r.body_sha256, r.status, r.xmax = 0 AS fresh"
)
"""Claim every id, or lock and return the receipt on record.

DO UPDATE (a no-op) rather than DO NOTHING: it waits for a concurrent claim of the same id to commit and returns
that row, where DO NOTHING would return nothing and a second look in the same statement would not see it either
(its snapshot is older). `xmax = 0` tells a row this statement inserted from one it locked. Ids come sorted, so
two requests claiming overlapping ids lock them in the same order and cannot deadlock."""


class Receipt(StrEnum):
    """What the receipt table says about an event id and a body."""

    NEW = "new"
    PENDING = "pending"
    ACCEPTED = "accepted"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class OnRecord:
    """The receipt of an event id after the claim."""

    digest: str
    status: str
    fresh: bool

    def receipt(self, digest: str) -> Receipt:
        """What this receipt means for the claim of a body with `digest` (the first claim of the id in a request)."""
        if self.fresh:
            return Receipt.NEW
        if self.digest != digest:
            return Receipt.CONFLICT
        return Receipt.ACCEPTED if self.status == Receipt.ACCEPTED else Receipt.PENDING


def body_hash(payload: bytes) -> str:
    """SHA-256 of an event's canonical JSON (`model_dump_json`), so key order and defaults do not matter."""
    return hashlib.sha256(payload).hexdigest()


async def claim(pool: asyncpg.Pool, claims: Sequence[tuple[UUID, str]]) -> dict[UUID, OnRecord]:
    """Claim each (event id, body hash) in one statement; the receipt on record per id. Ids must be distinct."""
    ordered = sorted(claims)
    ids = [event_id for event_id, _ in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("an event id is claimed once per statement")
    rows = await pool.fetch(CLAIM, ids, [digest for _, digest in ordered])
    return {row["event_id"]: OnRecord(row["body_sha256"], row["status"], row["fresh"]) for row in rows}
