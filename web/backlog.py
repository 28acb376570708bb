"""A live client's pending messages: bounded, in order, with a burst of one case's changes coalesced.

A case's pending `case_changed` is replaced by a newer one, which moves to the end, so what the client receives of
a case always ends with its newest state and never puts an older state after a newer one. Everything else (a
`case_removed`, queue and position notices) is kept as it came.
"""

from __future__ import annotations

import asyncio
import itertools
from uuid import UUID


class Backlog:
    """Texts waiting to be sent, oldest first, at most `size` of them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._pending: dict[UUID | int, str] = {}  # insertion-ordered: case changes by case id, the rest by serial
        self._serial = itertools.count()
        self.coalesced = 0

    def put(self, text: str, case_id: UUID | None = None) -> bool:
        """Queue a text, replacing the case's pending change when `case_id` is given; False when full."""
        if case_id is not None and self._pending.pop(case_id, None) is not None:
            self.coalesced += 1
            self._pending[case_id] = text
            return True
        if len(self._pending) >= self._size:
            return False
        self._pending[case_id if case_id is not None else next(self._serial)] = text
        return True

    def qsize(self) -> int:
        """How many texts are pending."""
        return len(self._pending)

    def get_nowait(self) -> str:
        """The oldest pending text; raises asyncio.QueueEmpty when there is none."""
        if not self._pending:
            raise asyncio.QueueEmpty
        key = next(iter(self._pending))
        return self._pending.pop(key)

    def drain(self) -> list[str]:
        """Every pending text, oldest first, leaving the backlog empty."""
        texts = list(self._pending.values())
        self._pending.clear()
        return texts
