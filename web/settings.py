"""Settings of the web process (command centre API, intake, websocket hub)."""

from __future__ import annotations

from dispatch.settings import AuthSettings


class WebSettings(AuthSettings):
    """GRID_* variables read once when the web app starts."""

    max_body_bytes: int = 64 * 1024
    max_plan_bytes: int = 4 * 1024 * 1024
    ws_queue_size: int = 1000
    ws_per_account: int = 5
    """Live websockets per account and web process; one more is refused (close code 4429)."""
    snapshot_limit: int = 2000
    db_pool_size: int = 10
    command_waiters: int = 10_000
    """Most command requests a web process holds waiting for their change at once; more answer without waiting."""
