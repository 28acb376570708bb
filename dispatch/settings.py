"""Settings every process shares: where the broker and the database are, and the topic prefix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatch.weak_secrets import weak_database_url, weak_secret


class CommonSettings(BaseSettings):
    """Read once at start-up from GRID_* environment variables and passed down."""

    model_config = SettingsConfigDict(env_prefix="GRID_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:29092"
    database_url: str = "postgresql://grid:grid@127.0.0.1:25432/grid"
    topic_prefix: str = ""
    media_dir: str = ".stack/media"
    media_max_bytes: int = 10 * 1024 * 1024

    def topic(self, name: str) -> str:
        """A declared topic's name on the broker."""
        return f"{self.topic_prefix}{name}"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in SQLAlchemy's asyncpg form, for Alembic."""
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)


class AuthSettings(CommonSettings):
    """Sign-in, tokens and rate limits; GRID_JWT_SECRET has no default (make run generates one per installation)."""

    env: Literal["development", "production"] = "development"
    jwt_secret: SecretStr
    access_token_minutes: float = 15.0
    refresh_token_days: float = 30.0
    session_check_seconds: float = 2.0
    """How stale a process's knowledge of an account may be: a disabled account, a changed password or a sign-out
    is honoured by every process within this many seconds (one database statement per active account each time)."""
    rate_login_per_address: str = "30/minute"
    rate_login_failures: str = "5/minute"
    """Wrong passwords per (username, address) before that pair must wait (429 with Retry-After); others are not."""
    rate_login_per_user: str = "20/minute"
    """Sign-in attempts per username from all addresses before each further attempt is slowed (never refused)."""
    login_slowdown_seconds: float = 2.0
    rate_intake_per_user: str = "120/minute"
    rate_intake_per_gateway: str = "12000/minute"
    rate_intake_per_address: str = "1200/minute"
    data_dir: str = ".stack"
    """Where this deployment keeps state on the host: the rate-limit counters every web process shares."""

    @property
    def rate_limit_file(self) -> Path:
        """The counters of every rate limit, mapped by each process (dispatch.access.rate_limits)."""
        return Path(self.data_dir) / "rate-limits"

    DATABASE_URLS: ClassVar[tuple[str, ...]] = ("database_url",)
    """Settings holding a database URL whose password production mode checks; every SecretStr setting (keys,
    broker passwords) is checked as a secret without being listed."""

    def production_problems(self, demo_accounts: Sequence[str] = ()) -> list[str]:
        """Why this configuration (with these demo accounts enabled) must not run in production; empty if it may."""
        if self.env != "production":
            return []
        found: list[str | None] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            env_name = f"GRID_{name.upper()}"
            if isinstance(value, SecretStr):
                found.append(weak_secret(env_name, value.get_secret_value()))
            elif name in self.DATABASE_URLS and isinstance(value, str):
                found.append(weak_database_url(env_name, value))
        problems = [p for p in found if p is not None]
        if demo_accounts:
            problems.append(f"demo accounts are enabled: {', '.join(demo_accounts)} (gridctl users passwd/disable)")
        return problems
