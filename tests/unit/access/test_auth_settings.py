"""Production mode refuses weak secrets, default database passwords (however spelt) and demo accounts;
development mode runs with them."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from dispatch.settings import AuthSettings
from dispatch.weak_secrets import database_password, weak_database_url, weak_secret
from web.settings import WebSettings

STRONG = SecretStr("Xq7-vR2mK9pL4sT8wZ1yB6nC3dF5gH0jA")
GOOD_URL = "postgresql://app:Tr0ub4dor-and-3@db/grid"


def production(**values: object) -> AuthSettings:
    """Production settings with a strong secret and database password unless given."""
    return AuthSettings(**{"env": "production", "jwt_secret": STRONG, "database_url": GOOD_URL, **values})


def test_development_runs_with_demo_secrets() -> None:
    settings = AuthSettings(env="development", jwt_secret=SecretStr("short"), database_url="postgresql://grid:grid@h/g")
    assert settings.production_problems(["admin"]) == []


def test_production_names_every_demo_secret_and_account() -> None:
    settings = production(jwt_secret=SecretStr("short"), database_url="postgresql://grid:grid@127.0.0.1:25432/grid")
    assert settings.production_problems(["admin", "worker"]) == [
        "GRID_DATABASE_URL uses a well-known default database password",
        "GRID_JWT_SECRET is shorter than 32 characters",
        "demo accounts are enabled: admin, worker (gridctl users passwd/disable)",
    ]


def test_production_with_own_secrets_and_no_demo_accounts_may_run() -> None:
    assert production().production_problems([]) == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://grid:grid@db/grid",
        "postgresql://GRID:GRID@db/grid",
        "postgresql://grid:%67%72%69%64@db/grid",
        "postgresql://app:Postgres@db/grid",
        "postgresql://app:password@db/grid",
        "postgresql://app:123456@db/grid",
        "postgresql://app@db/grid?password=grid",
        "postgresql://app:Tr0ub4dor-and-3@db/grid?password=postgres",
        "postgresql://app:@db/grid",
        "postgresql://app@db/grid",
        "postgresql://db/grid?user=app&password=",
        "postgresql://Operator:operator@db/grid",
        "postgresql://app:aaaaaaaaaaaaaaaa@db/grid",
        "postgresql://app:CHANGE-ME@db/grid",
    ],
)
def test_production_refuses_default_database_passwords_however_spelt(url: str) -> None:
    problems = production(database_url=url).production_problems([])
    assert len(problems) == 1 and problems[0].startswith("GRID_DATABASE_URL "), problems


def test_the_password_is_read_as_libpq_reads_it() -> None:
    assert database_password("postgresql://a%40b:p%2Fw@h/d") == ("a@b", "p/w")
    assert database_password("postgresql://u:first@h/d?password=second%21") == ("u", "second!")
    assert database_password("postgresql://h/d?user=u") == ("u", None)
    assert weak_database_url("GRID_X", "postgresql://u:V3ry-l0ng%2Fpass@h/d") is None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("short", "is shorter than 32 characters"),
        ("ab" * 20, "has fewer than 10 different characters"),
        ("0123456789" * 3 + "0", "is shorter than 32 characters"),
        ("CHANGE-ME", "is a well-known default"),
        ("Password", "is a well-known default"),
    ],
)
def test_weak_secrets_are_named(value: str, reason: str) -> None:
    assert weak_secret("GRID_JWT_SECRET", value) == f"GRID_JWT_SECRET {reason}"
    assert production(jwt_secret=SecretStr(value)).production_problems([]) == [f"GRID_JWT_SECRET {reason}"]


def test_every_secret_setting_is_checked_without_being_listed() -> None:
    class WithKey(AuthSettings):
        probe_only_key: SecretStr = SecretStr("tiny")

    settings = WithKey(env="production", jwt_secret=STRONG, database_url=GOOD_URL)
    assert settings.production_problems([]) == ["GRID_PROBE_ONLY_KEY is shorter than 32 characters"]


def test_keys_kept_for_a_rotation_are_checked_one_by_one_and_none_is_fine() -> None:
    unrotated = WebSettings(env="production", jwt_secret=STRONG, database_url=GOOD_URL, command_key=STRONG)
    assert unrotated.production_problems([]) == []
    rotating = SecretStr(f"{STRONG.get_secret_value()},tiny")
    settings = unrotated.model_copy(update={"command_keys_previous": rotating})
    assert settings.production_problems([]) == ["GRID_COMMAND_KEYS_PREVIOUS is shorter than 32 characters"]
