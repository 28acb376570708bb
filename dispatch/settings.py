"""Settings every process shares: where the broker and the database are, and the topic prefix."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


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
