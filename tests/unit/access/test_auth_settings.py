"""Production mode refuses weak secrets and demo accounts; development mode runs with them."""

from __future__ import annotations

from pydantic import SecretStr

from dispatch.settings import AuthSettings

STRONG = SecretStr("a-long-random-secret-of-more-than-32-characters")


def test_development_runs_with_demo_secrets() -> None:
    assert AuthSettings(env="development", jwt_secret=SecretStr("short")).production_problems(["admin"]) == []


def test_production_names_every_demo_secret_and_account() -> None:
    problems = AuthSettings(env="production", jwt_secret=SecretStr("short")).production_problems(["admin", "worker"])
    assert problems == [
        "GRID_JWT_SECRET is shorter than 32 characters",
        "GRID_DATABASE_URL uses the demo database password",
        "demo accounts are enabled: admin, worker (gridctl users passwd/disable)",
    ]


def test_production_with_own_secrets_and_no_demo_accounts_may_run() -> None:
    settings = AuthSettings(env="production", jwt_secret=STRONG, database_url="postgresql://app:s3cret@db/grid")
    assert settings.production_problems([]) == []
    short = AuthSettings(env="production", jwt_secret=SecretStr("short"), database_url="postgresql://a:b@db/g")
    assert short.production_problems([]) == ["GRID_JWT_SECRET is shorter than 32 characters"]
