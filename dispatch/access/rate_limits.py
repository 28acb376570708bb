"""Rate limits per key (a user, an account, an address), shared by every process of the deployment on this host.

A limit such as `120/minute` is counted in a sliding window: the hits of the current fixed window plus those of
the previous one, weighted by how much of it still lies within the last minute (the sliding-window counter of
Cloudflare and of the `limits` library). The counters live in a table of fixed slots in a memory-mapped file
under GRID_DATA_DIR; every process (each uvicorn worker, a second web server) maps the same file and holds an
`flock` for the few microseconds a count takes. So a limit holds for the whole host however many workers serve
it, a hit costs no network round trip, and sign-in, refresh and intake share one mechanism. The file is the
state of one deployment (the test harness gives each session its own data dir); several hosts behind one
address would each count their own share.

Chosen over the alternatives, measured on the 2-core development VM (README, "Rate limits"): the `limits`
library keeps its counters in process memory (each worker would grant the whole limit) or in Redis (a server
and a round trip more per request); an UNLOGGED counter table updated in the receipt's INSERT holds the
account's counter row locked until the receipt's commit has flushed, so every event of one gateway waits for
the previous one's WAL flush.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from limits import parse

from dispatch.errors import TooLarge, TooMany

SLOT = struct.Struct("<QqqII")
"""One counter: key hash, start of its current window (ms), window length (ms), hits in it, hits in the previous."""
HEADER = struct.Struct("<16sQ")
MAGIC = b"gridcmd-limits-1"
SLOTS = 1 << 16
"""65,536 counters: 2 MiB of file, far more than the keys (users, accounts, addresses) active in two minutes."""
PROBES = 8
"""Slots looked at for a key (open addressing); an expired one is reused, else the soonest to expire."""


class RateLimited(TooMany):
    """Too many requests; `retry_after` is in whole seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what}; retry in {retry_after} s", retry_after)


@lru_cache(maxsize=64)
def _rule(rule: str) -> tuple[int, int]:
    """A rule such as '10/minute' as (hits allowed, window in ms)."""
    item = parse(rule)
    return item.amount, item.get_expiry() * 1000


def _key(*parts: str) -> int:
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") or 1


def wait_ms(limit: int, period: int, start: int, current: int, previous: int, cost: int, now: int) -> int:
    """How long until `cost` more hits fit, if nobody hits meanwhile (cost <= limit)."""
    if current + cost <= limit:  # the previous window's weight fades within this one
        fade = 1 - (limit - current - cost) / previous
        return max(0, math.ceil(start + period * fade - now))
    fade = 1 - (limit - cost) / current  # this window becomes the previous one and fades in the next
    return max(0, math.ceil(start + period + period * fade - now))


class CounterTable:
    """Sliding-window counters in a buffer of fixed slots (a shared memory map, or process memory in tests)."""

    def __init__(self, buffer: mmap.mmap | bytearray, slots: int, offset: int = HEADER.size) -> None:
        self._buf, self._slots, self._offset = buffer, slots, offset

    def _slot(self, key: int, now: int) -> int:
        """The slot holding `key`, else the first free or expired one, else the one expiring soonest."""
        first = key % self._slots
        reusable, soonest, soonest_end = -1, first, math.inf
        for probe in range(PROBES):
            index = (first + probe) % self._slots
            held, start, period, _, _ = SLOT.unpack_from(self._buf, self._offset + index * SLOT.size)
            if held == key:
                return index
            if held == 0:  # slots are never emptied, so the key is not further on
                return index if reusable < 0 else reusable
            ends = start + 2 * period  # a window counts until the next one has passed too
            if ends <= now and reusable < 0:
                reusable = index
            if ends < soonest_end:
                soonest, soonest_end = index, ends
        return reusable if reusable >= 0 else soonest

    def take(self, key: int, limit: int, period: int, cost: int, now: int, count: bool = True) -> int:
        """Count `cost` hits of `key` at `now` (ms) unless they exceed `limit` per `period` (only look, unless
        `count`); 0 when they fit, else the milliseconds until they would. The caller holds the lock."""
        where = self._offset + self._slot(key, now) * SLOT.size
        held, start, _, current, previous = SLOT.unpack_from(self._buf, where)
        window = now - now % period
        if held != key:
            start, current, previous = window, 0, 0
        if start != window:
            previous = current if window - start == period else 0
            start, current = window, 0
        weighted = previous * (period - (now - window)) / period + current
        if weighted + cost > limit:
            SLOT.pack_into(self._buf, where, key, start, period, current, previous)
            return max(1, wait_ms(limit, period, start, current, previous, cost, now))
        SLOT.pack_into(self._buf, where, key, start, period, current + (cost if count else 0), previous)
        return 0


class RateLimiter:
    """Counts hits per (rule, what, key) in the deployment's shared file, or in this process's memory without one."""

    def __init__(self, path: Path | None = None, slots: int = SLOTS) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        size = HEADER.size + slots * SLOT.size
        if path is None:
            self._table = CounterTable(bytearray(size), slots)
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise RuntimeError(
                f"rate-limit counters: cannot open {path} ({exc.strerror}); set GRID_DATA_DIR to a directory"
                " every web process of this host may write"
            ) from exc
        with self._locked():
            magic, held_slots = HEADER.unpack(os.pread(self._fd, HEADER.size, 0).ljust(HEADER.size, b"\0"))
            if magic != MAGIC or held_slots != slots:  # new, or another layout: start from zero
                os.ftruncate(self._fd, 0)
                os.ftruncate(self._fd, size)
                os.pwrite(self._fd, HEADER.pack(MAGIC, slots), 0)
        self._map = mmap.mmap(self._fd, size)
        self._table = CounterTable(self._map, slots)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock:
            if self._fd is None:
                yield
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def hit(self, rule: str, what: str, *keys: str, cost: int = 1) -> None:
        """Count `cost` hits against `rule` (e.g. '10/minute') for `keys`, or raise RateLimited (TooLarge when
        `cost` alone is more than the rule allows)."""
        self._take(rule, what, keys, cost, count=True)

    def check(self, rule: str, what: str, *keys: str) -> None:
        """RateLimited if one more hit for `keys` would exceed `rule`, without counting one (count failures only)."""
        self._take(rule, what, keys, 1, count=False)

    def _take(self, rule: str, what: str, keys: tuple[str, ...], cost: int, count: bool) -> None:
        limit, period = _rule(rule)
        if cost > limit:
            raise TooLarge(f"{cost} {what} at once is more than the limit ({rule})")
        key = _key(rule, what, *keys)
        now = time.time_ns() // 1_000_000
        with self._locked():
            wait = self._table.take(key, limit, period, cost, now, count)
        if wait:
            raise RateLimited(what, max(1, math.ceil(wait / 1000)))

    def close(self) -> None:
        """Unmap and close the shared file."""
        if self._fd is not None:
            self._map.close()
            os.close(self._fd)
            self._fd = None
