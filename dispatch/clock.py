"""The processors' clock: real time, shifted by an offset read from a file when one is configured (drills, tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path


def now(offset_file: str | None) -> datetime:
    """The current time, plus the offset in seconds written in `offset_file` if it exists."""
    moment = datetime.now(UTC)
    if offset_file:
        path = Path(offset_file)
        if path.exists():
            text = path.read_text().strip()
            if text:
                moment += timedelta(seconds=float(text))
    return moment
