"""Access tokens for tests, signed with the installation's GRID_JWT_SECRET, for accounts that exist: the server
refuses a token whose account is missing, disabled, or at another session epoch. The demo load creates `admin`,
`gateway` and one account per role; `as_person` and `person_user` create one for any other registry person.
Sign-in itself is tested in tests/integration/access/test_auth.py."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from functools import cache

import asyncpg

from core.vocabulary import Role
from dispatch.access.demo_accounts import DEMO_PASSWORD
from dispatch.access.tokens import TokenIssuer
from dispatch.access.users import HASHER, User

# Long enough for a whole test session; the server checks the account behind it on each request.
SECRET = os.environ["GRID_JWT_SECRET"]
ISSUER = TokenIssuer(SECRET, timedelta(hours=12))
COUNTY = "510822"


@cache
def demo_password_hash() -> str:
    """The demo password's hash, made once (argon2 takes a tenth of a second)."""
    return HASHER.hash(DEMO_PASSWORD)


def bearer(user: User) -> dict[str, str]:
    """The Authorization header of a token for `user` (an existing account, at its session epoch)."""
    return {"Authorization": f"Bearer {ISSUER.issue(user, datetime.now(UTC))}"}


def admin_token() -> str:
    """A token of the demo county's administrator (the demo load's `admin` account)."""
    return ISSUER.issue(User("admin", Role.ADMIN, COUNTY, None, None), datetime.now(UTC))


def admin_headers() -> dict[str, str]:
    """The administrator's Authorization header."""
    return {"Authorization": f"Bearer {admin_token()}"}


def gateway_headers() -> dict[str, str]:
    """A system account's header (the demo load's `gateway`): an intake gateway that posts for any reporter."""
    return bearer(User("gateway", Role.SYSTEM, COUNTY, None, None))


async def person_user(db: asyncpg.Pool, person_id: str) -> User:
    """The account a registry person signs in with, created (password DEMO_PASSWORD, username = person id) if they
    have none."""
    row = await db.fetchrow("SELECT role, unit_code, team_id FROM people WHERE id = $1", person_id)
    assert row is not None, f"no person {person_id}"
    await db.execute(
        "INSERT INTO users (username, person_id, role, unit_code, team_id, password_hash)"
        " SELECT $1, $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM users WHERE person_id = $1)"
        " ON CONFLICT DO NOTHING",
        person_id,
        row["role"],
        row["unit_code"],
        row["team_id"],
        demo_password_hash(),
    )
    account = await db.fetchrow("SELECT username, session_epoch FROM users WHERE person_id = $1", person_id)
    assert account is not None, f"no account for {person_id}"
    return User(
        account["username"], Role(row["role"]), row["unit_code"], person_id, row["team_id"], account["session_epoch"]
    )


async def as_person(db: asyncpg.Pool, person_id: str) -> dict[str, str]:
    """The Authorization header of a registry person (their account, created if missing)."""
    return bearer(await person_user(db, person_id))
