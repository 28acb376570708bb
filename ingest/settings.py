"""Settings of the intake."""

from __future__ import annotations

from dispatch.settings import AuthSettings


class IngestSettings(AuthSettings):
    """GRID_* variables read once when the intake starts."""

    produce_timeout_ms: int = 10_000
