"""Settings every process shares: where the broker and the database are, and the topic prefix."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatch.weak_secrets import weak_database_url, weak_secret

KafkaMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


class CommonSettings(BaseSettings):
    """Read once at start-up from GRID_* environment variables and passed down."""

    model_config = SettingsConfigDict(env_prefix="GRID_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:29092"
    kafka_username: str = ""
    """This process's user on the broker (make run gives each program its own; see README, "The broker")."""
    kafka_password: SecretStr = SecretStr("")
    kafka_mechanism: KafkaMechanism = "SCRAM-SHA-512"
    database_url: str = "postgresql://grid:grid@127.0.0.1:25432/grid"
    database_owner_url: str | None = None
    """The owner role's connection, for migrations only; the application role (database_url) owns nothing."""
    topic_prefix: str = ""
    media_dir: str = ".stack/media"
    media_max_bytes: int = 10 * 1024 * 1024
    media_bytes_per_day: int = 200 * 1024 * 1024
    """Media bytes one account may upload per local day (every web process counts together)."""

    def topic(self, name: str) -> str:
        """A declared topic's name on the broker."""
        return f"{self.topic_prefix}{name}"

    def kafka_options(self) -> dict[str, str]:
        """This process's login to the broker, as aiokafka's and kafka-python's client options."""
        return sasl_options(self.kafka_username, self.kafka_password.get_secret_value(), self.kafka_mechanism)

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in SQLAlchemy's asyncpg form, for Alembic."""
        return self.database_url.replace("postgresql://", "postgresql+asyncpg://", 1)

    @property
    def migration_url(self) -> str:
        """The owner role's URL in SQLAlchemy's asyncpg form: migrations create and alter what the application uses."""
        url = self.database_owner_url or self.database_url
        return url.replace("postgresql://", "postgresql+asyncpg://", 1)


class AnchorDirSettings(CommonSettings):
    """Where the case log's heads are anchored, outside the database."""

    audit_anchor_dir: str = ".stack/audit"


class AuditSettings(AnchorDirSettings):
    """The audit keys and anchors, for the processes that seal the record (stream workers) or check it (gridctl).

    GRID_AUDIT_KEY has no default (infra/lib.sh makes one per installation); GRID_AUDIT_KEYS_PREVIOUS lists the keys
    it replaced, comma-separated, so the entries they sealed still verify."""

    audit_key: SecretStr
    audit_keys_previous: SecretStr = SecretStr("")
    audit_anchor_seconds: float = 5.0

    @property
    def previous_audit_keys(self) -> list[str]:
        """The keys the current one replaced."""
        return [k.strip() for k in self.audit_keys_previous.get_secret_value().split(",") if k.strip()]


class BackupSettings(AnchorDirSettings):
    """`gridctl backup` and `restore`: the database as its owner role, the media and anchor folders, and the folder of
    PostgreSQL's client programs (pg_dump, pg_restore, psql); empty: those of the server's major version."""

    pg_bin_dir: str = ""


class CommandKeySettings(BaseSettings):
    """The key that signs case commands, held by the web app and the stream workers only (no default)."""

    model_config = SettingsConfigDict(env_prefix="GRID_", extra="ignore")

    command_key: SecretStr
    command_keys_previous: SecretStr = SecretStr("")
    """Keys still accepted for verification during a rotation, comma-separated."""

    @property
    def previous_command_keys(self) -> list[str]:
        """The previous keys, in order."""
        return [k.strip() for k in self.command_keys_previous.get_secret_value().split(",") if k.strip()]


def sasl_options(username: str, password: str, mechanism: KafkaMechanism = "SCRAM-SHA-512") -> dict[str, str]:
    """Client options (aiokafka and kafka-python name them alike) that log in as `username`; the broker refuses
    anonymous clients, so a missing user or password is an error here rather than a refusal later."""
    if not username or not password:
        raise ValueError(
            "GRID_KAFKA_USERNAME and GRID_KAFKA_PASSWORD must be set: the broker refuses anonymous clients"
        )
    return {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


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

    DATABASE_URLS: ClassVar[tuple[str, ...]] = ("database_url", "database_owner_url")
    SECRET_LISTS: ClassVar[tuple[str, ...]] = ("command_keys_previous",)
    """Secret settings that hold comma-separated keys (those still accepted during a rotation): each is checked."""
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
                secret = value.get_secret_value()
                if not secret and not type(self).model_fields[name].is_required():
                    continue
                keys = secret.split(",") if name in self.SECRET_LISTS else [secret]
                found += [weak_secret(env_name, key.strip()) for key in keys]
            elif name in self.DATABASE_URLS and isinstance(value, str):
                found.append(weak_database_url(env_name, value))
        problems = [p for p in found if p is not None]
        if demo_accounts:
            problems.append(f"demo accounts are enabled: {', '.join(demo_accounts)} (gridctl users passwd/disable)")
        return problems
