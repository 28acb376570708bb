"""When a failed delivery is tried again: exponential back-off with a cap, and when it is given up. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    """Wait `base` after the first failure, doubling each time up to `cap`; give up after `max_attempts`."""

    base: timedelta
    cap: timedelta
    max_attempts: int

    def delay(self, attempts: int) -> timedelta:
        """How long to wait after the `attempts`-th attempt failed (1 for the first)."""
        if attempts < 1:
            return timedelta(0)
        grown: timedelta = self.base * (2 ** min(attempts - 1, 32))
        return min(self.cap, grown)

    def gives_up(self, attempts: int) -> bool:
        """Whether a delivery that failed `attempts` times is failed for good."""
        return attempts >= self.max_attempts
