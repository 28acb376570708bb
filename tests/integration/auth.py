"""Access tokens for tests, signed with the installation's GRID_JWT_SECRET; sign-in itself is tested in test_auth."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import asyncpg

from core.vocabulary import Role
from dispatch.access.tokens import TokenIssuer
from dispatch.access.users import User

# Long enough for a whole test session; the server checks only signature, audience and expiry.
SECRET = os.environ["GRID_JWT_SECRET"]
ISSUER = TokenIssuer(SECRET, timedelta(hours=12))
COUNTY = "510822"


def bearer(user: User) -> dict[str, str]:
    """The Authorization header of a token for `user`."""
    return {"Authorization": f"Bearer {ISSUER.issue(user, datetime.now(UTC))}"}


def admin_token() -> str:
    """A token of the demo county's administrator."""
    return ISSUER.issue(User("admin", Role.ADMIN, COUNTY, None, None), datetime.now(UTC))


def admin_headers() -> dict[str, str]:
    """The administrator's Authorization header."""
    return {"Authorization": f"Bearer {admin_token()}"}


def gateway_headers() -> dict[str, str]:
    """A system account's header: an intake gateway that posts for any reporter."""
    return bearer(User("gateway", Role.SYSTEM, COUNTY, None, None))


async def person_user(db: asyncpg.Pool, person_id: str) -> User:
    """The account a registry person would sign in with."""
    row = await db.fetchrow("SELECT role, unit_code, team_id FROM people WHERE id = $1", person_id)
    assert row is not None, f"no person {person_id}"
    return User(person_id, Role(row["role"]), row["unit_code"], person_id, row["team_id"])


async def as_person(db: asyncpg.Pool, person_id: str) -> dict[str, str]:
    """The Authorization header of a registry person."""
    return bearer(await person_user(db, person_id))
