"""Moving-window rate limits per key (a user or an address), in this process's memory (the `limits` library)."""

from __future__ import annotations

import math
import time

from limits import parse, storage, strategies

from dispatch.errors import TooMany


class RateLimited(TooMany):
    """Too many requests; `retry_after` is in whole seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what}; retry in {retry_after} s", retry_after)


class RateLimiter:
    """Counts hits per (rule, key); one instance per process."""

    def __init__(self) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def hit(self, rule: str, what: str, *keys: str) -> None:
        """Count one hit against `rule` (e.g. '10/minute') for `keys`, or raise RateLimited."""
        item = parse(rule)
        if not self._limiter.hit(item, what, *keys):
            reset = self._limiter.get_window_stats(item, what, *keys).reset_time
            raise RateLimited(what, max(1, math.ceil(reset - time.time())))
