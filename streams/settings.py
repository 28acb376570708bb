"""Settings of the stream processor process."""

from __future__ import annotations

from dispatch.settings import AuditSettings, CommandKeySettings


class StreamSettings(AuditSettings, CommandKeySettings):
    """GRID_* variables read once when the worker starts."""

    app_id: str = "gridcmd-streams"
    db_pool_size: int = 4
    max_record_bytes: int = 256 * 1024
    transfer_check_seconds: float = 60.0
    deadline_check_seconds: float = 30.0
    escalate_every_minutes: float = 120.0
    deadline_warning_minutes: float = 30.0
    """How long before a step's deadline its assignee is warned (GRID_DEADLINE_WARNING_MINUTES)."""
    duplicate_radius_m: float = 50.0
    duplicate_window_minutes: float = 120.0
    alert_fold_minutes: float = 60.0
    """An alert storm folds: a device's alert of a category within this time of its last one attaches to its case."""
    clock_file: str | None = None
    data_dir: str = ".stack/faust"
    batch_max: int = 500
    batch_within_s: float = 0.02
    case_cache_size: int = 100_000
    session_timeout_s: float = 15.0
    heartbeat_interval_s: float = 3.0
