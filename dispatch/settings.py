"""Settings every process shares: where the broker and the database are, and the topic prefix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Read once at start-up from GRID_* environment variables and passed down."""

    model_config = SettingsConfigDict(env_prefix="GRID_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:29092"
    database_url: str = "postgresql://grid:grid@127.0.0.1:25432/grid"
    topic_prefix: str = ""
    media_dir: str = ".stack/media"
    media_max_bytes: int = 10 * 1024 * 1024
    media_bytes_per_day: int = 200 * 1024 * 1024
    """Media bytes one account may upload per local day (every web process counts together)."""

    def topic(self, name: str) -> str:
        """A declared topic's name on the broker."""
        return f"{self.topic_prefix}{name}"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in SQLAlchemy's asyncpg form, for Alembic."""
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)


DEMO_DATABASE_PASSWORD = "grid:grid@"


class AuthSettings(CommonSettings):
    """Sign-in, tokens and rate limits; GRID_JWT_SECRET has no default (make run generates one per installation)."""

    env: Literal["development", "production"] = "development"
    jwt_secret: SecretStr
    access_token_minutes: float = 15.0
    refresh_token_days: float = 30.0
    login_max_failures: int = 5
    lockout_minutes: float = 15.0
    rate_login_per_address: str = "30/minute"
    rate_login_per_user: str = "10/minute"
    rate_intake_per_user: str = "120/minute"
    rate_intake_per_gateway: str = "12000/minute"
    rate_intake_per_address: str = "1200/minute"
    data_dir: str = ".stack"
    """Where this deployment keeps state on the host: the rate-limit counters every web process shares."""

    @property
    def rate_limit_file(self) -> Path:
        """The counters of every rate limit, mapped by each process (dispatch.access.rate_limits)."""
        return Path(self.data_dir) / "rate-limits"

    def production_problems(self, demo_accounts: Sequence[str] = ()) -> list[str]:
        """Why this configuration (with these demo accounts enabled) must not run in production; empty if it may."""
        if self.env != "production":
            return []
        problems = []
        secret = self.jwt_secret.get_secret_value()
        if len(secret) < 32:
            problems.append("GRID_JWT_SECRET is shorter than 32 characters")
        if DEMO_DATABASE_PASSWORD in self.database_url:
            problems.append("GRID_DATABASE_URL uses the demo database password")
        if demo_accounts:
            problems.append(f"demo accounts are enabled: {', '.join(demo_accounts)} (gridctl users passwd/disable)")
        return problems
